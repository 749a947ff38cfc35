// Command api is the chat-session API Lambda behind API Gateway (HTTP API,
// payload 2.0): it wires the card store, the tokens and the report catalog.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/reports"
)

// settings is everything the function reads from its environment, once.
type settings struct {
	store config.Store
	// tokensJSON (API_TOKENS) or tokensSecret (API_TOKENS_SECRET): exactly
	// one, so there is never doubt about which tokens are live.
	tokensJSON    string
	tokensSecret  string
	reportsBucket string // REPORTS_BUCKET; empty lists no reports
}

func settingsFromEnv(env config.Getenv) (settings, error) {
	store, err := config.StoreFromEnv(env)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		store:         store,
		tokensJSON:    strings.TrimSpace(env("API_TOKENS")),
		tokensSecret:  strings.TrimSpace(env("API_TOKENS_SECRET")),
		reportsBucket: strings.TrimSpace(env("REPORTS_BUCKET")),
	}
	switch {
	case s.store.Table == "":
		return s, errors.New("TABLE_NAME is required")
	case s.tokensJSON == "" && s.tokensSecret == "":
		return s, errors.New("API_TOKENS or API_TOKENS_SECRET is required")
	case s.tokensJSON != "" && s.tokensSecret != "":
		return s, errors.New("set API_TOKENS or API_TOKENS_SECRET, not both")
	}
	return s, nil
}

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h, err := setup(context.Background(), os.Getenv)
	if err != nil {
		slog.Error("api: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(api.NewLambdaHandler(h))
}

func setup(ctx context.Context, env config.Getenv) (http.Handler, error) {
	s, err := settingsFromEnv(env)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return nil, err
	}
	store, err := config.OpenStore(awsCfg, s.store)
	if err != nil {
		return nil, err
	}
	var tokens *api.Tokens
	if s.tokensJSON != "" {
		if tokens, err = api.ParseTokens([]byte(s.tokensJSON)); err != nil {
			return nil, fmt.Errorf("API_TOKENS: %w", err)
		}
	} else if tokens, err = api.LoadTokensSecret(ctx, secretsmanager.NewFromConfig(awsCfg), s.tokensSecret); err != nil {
		return nil, fmt.Errorf("API_TOKENS_SECRET: %w", err)
	}
	cfg := api.Config{Store: store, Tokens: tokens, Logger: slog.Default()}
	if s.reportsBucket != "" {
		client := config.S3(awsCfg)
		cfg.Reports = reports.NewS3Catalog(client, s3.NewPresignClient(client), s.reportsBucket)
	}
	return api.New(cfg), nil
}
