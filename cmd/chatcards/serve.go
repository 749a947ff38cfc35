package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/config"
)

func init() {
	register("serve", command{
		summary: "serve the chat-session API locally (embedded store unless TABLE_NAME is set)",
		help: `Serves the chatcards HTTP API (docs/api.md) on -addr until interrupted.

Environment:
  TABLE_NAME          DynamoDB table of the cards; unset: an embedded store
                      that lives as long as the process
  CARDS_BUCKET, RETENTION_DAYS   card store settings, as in the functions
  API_TOKENS          JSON map of token hash to folders; unset: a fresh
                      development token for every folder is printed
  API_TOKENS_SECRET   Secrets Manager secret holding the same JSON (instead)
  REPORTS_BUCKET      S3 bucket of exported reports (for listing them)
  STORE_TIMEOUT       deadline of each DynamoDB/S3 call (default 5s); a store
                      that does not answer in time gets the client a 503
  FOLDERS, REPORT_TIMEZONE   each folder's time zone for the dialog view
  SHARE_KEY, SHARE_KEY_SECRET, SHARE_BASE_URL   share links of dialog pages
                      (POST /v1/chat-sessions/{id}/share); no key: 501
  AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID, ... and
  AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 (emulators): the AWS SDK's own.`,
		run: runServe,
	})
}

// devFolder is the folder the generated development token is meant for; the
// token also gets every other folder so any demo data is reachable.
const devFolder = "demo"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return badUsage(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	h, devToken, err := serveHandler(ctx, os.Getenv, logger)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "chatcards API on http://%s\n", ln.Addr())
	if devToken != "" {
		// The one place a token is ever printed: a generated, local,
		// throw-away one, so a developer can call the API at all.
		fmt.Fprintf(stdout, "development token (folder %q and every folder): %s\n", devFolder, devToken)
	}
	return serveUntilDone(ctx, ln, h, stderr)
}

// serveHandler builds the API from the environment exactly as the API
// function does (app.API: STORE_TIMEOUT, FOLDERS, SHARE_KEY, REPORTS_BUCKET,
// API_TOKENS_SECRET, ...), with two local conveniences: without TABLE_NAME
// the store is an embedded one, and without API_TOKENS and
// API_TOKENS_SECRET a fresh development token is made and returned so the
// caller can print it.
func serveHandler(ctx context.Context, env config.Getenv, logger *slog.Logger) (http.Handler, string, error) {
	storeCfg, err := config.StoreFromEnv(env)
	if err != nil {
		return nil, "", err
	}
	deps := app.Deps{Logger: logger}
	if storeCfg.Table == "" {
		deps.Store = memstore.New()
	}
	var devToken string
	if env("API_TOKENS") == "" && env("API_TOKENS_SECRET") == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, "", fmt.Errorf("generate a development token: %w", err)
		}
		devToken = "dev-" + hex.EncodeToString(b[:])
		m, _ := json.Marshal(map[string][]string{api.HashToken(devToken): {devFolder, api.AllFolders}})
		if deps.Tokens, err = api.ParseTokens(m); err != nil {
			return nil, "", err
		}
	}
	h, err := app.API(ctx, env, deps)
	if err != nil {
		return nil, "", err
	}
	return h, devToken, nil
}

// serveUntilDone serves on ln until ctx ends, then lets requests in flight
// finish for a few seconds.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, stderr io.Writer) int {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "serve: shutdown: %v\n", err)
		return 1
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return 1
	}
	return 0
}
