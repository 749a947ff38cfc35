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
	"strings"
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
  REPORTS_BUCKET      S3 bucket of exported reports (for listing them)
  FOLDERS, REPORT_TIMEZONE   each folder's time zone for the dialog view
  SHARE_KEY / SHARE_KEY_SECRET, SHARE_BASE_URL   share links of dialog
                      views (docs/api.md); unset: sharing off (501)
  STORE_TIMEOUT       bound of every store call (default 5s)
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

// serveHandler builds the API from the environment exactly as the api
// function does (app.API: FOLDERS, SHARE_KEY / SHARE_KEY_SECRET,
// SHARE_BASE_URL, STORE_TIMEOUT, REPORTS_BUCKET, API_TOKENS /
// API_TOKENS_SECRET), so the dialog view's zones and share links can be
// tried locally; two local defaults only: the embedded store when TABLE_NAME
// is unset, and a fresh development token, returned so the caller can print
// it, when neither API_TOKENS nor API_TOKENS_SECRET is set.
func serveHandler(ctx context.Context, env config.Getenv, logger *slog.Logger) (http.Handler, string, error) {
	storeCfg, err := config.StoreFromEnv(env)
	if err != nil {
		return nil, "", err
	}
	d := app.Deps{Logger: logger}
	if storeCfg.Table == "" {
		d.Store = memstore.New()
	}
	var devToken string
	if strings.TrimSpace(env("API_TOKENS")) == "" && strings.TrimSpace(env("API_TOKENS_SECRET")) == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, "", fmt.Errorf("generate a development token: %w", err)
		}
		devToken = "dev-" + hex.EncodeToString(b[:])
		m, _ := json.Marshal(map[string][]string{api.HashToken(devToken): {devFolder, api.AllFolders}})
		if d.Tokens, err = api.ParseTokens(m); err != nil {
			return nil, "", err
		}
	}
	h, err := app.API(ctx, env, d)
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
