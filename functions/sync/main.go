// Command sync is the scheduled history download Lambda: it wires the card
// store, the transcript source and the syncer, then hands events to them.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

func main() {
	slog.SetDefault(lambdacontext.NewLogger())
	h, err := setup(context.Background(), config.Getenv(os.Getenv))
	if err != nil {
		slog.Error("sync: bad configuration", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(h.Handle)
}

func setup(ctx context.Context, env config.Getenv) (*syncer.Handler, error) {
	storeCfg, err := config.StoreFromEnv(env)
	if err != nil {
		return nil, err
	}
	syncCfg, err := config.SyncFromEnv(env)
	if err != nil {
		return nil, err
	}
	srcCfg, err := sources.ConfigFromEnv(env)
	if err != nil {
		return nil, err
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		return nil, err
	}
	store, err := config.OpenStore(awsCfg, storeCfg)
	if err != nil {
		return nil, err
	}
	src, err := config.OpenSource(ctx, awsCfg, srcCfg, nil)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	h := &syncer.Handler{
		Syncer: syncer.New(store, src, syncer.Options{
			Settings: syncCfg.Stats, Concurrency: syncCfg.Concurrency, NoPartial: !syncCfg.Partial,
			StaleAfter: syncCfg.StaleAfter,
		}),
		Metrics: os.Stdout,
	}
	if kf, ok := src.(syncer.KeyFetcher); ok {
		h.Keys = kf
	}
	return h, nil
}
