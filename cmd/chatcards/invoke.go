package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

func init() {
	register("invoke", command{
		summary: "run a function's real handler on an event file and print the response (api, sync, syncworker, export, exportworker)",
		args:    "api|sync|syncworker|export|exportworker EVENT.json",
		help: `Runs the function's real handler on EVENT.json (samples in events/) as Lambda
would, and prints its response as JSON.

Environment: the function's own settings, as in Lambda (docs and template.yaml):
  api     TABLE_NAME, API_TOKENS / API_TOKENS_SECRET, REPORTS_BUCKET,
          STORE_TIMEOUT, FOLDERS, SHARE_KEY / SHARE_KEY_SECRET, SHARE_BASE_URL
  sync, syncworker
          TABLE_NAME, SOURCES (one source per folder, any kind: docs/sources.md)
          or SOURCE and its settings (PLATFORM_URL,
          PLATFORM_TOKEN, PLATFORM_TOKEN_SECRET, PLATFORM_RPS, PLATFORM_TIMEOUT,
          CONNECT_BUCKET, CONNECT_PREFIX, FILES_DIR), STATS_MODE, IDLE_THRESHOLD,
          ASYNC_IDLE_THRESHOLD, SYNC_CONCURRENCY, SYNC_PARTIAL, STALE_AFTER,
          FOLDERS, SYNC_MODE, SYNC_QUEUE_URL, SYNC_WORKERS (docs/sync.md)
  export, exportworker
          TABLE_NAME, REPORTS_BUCKET, REPORT_TIMEZONE, REPORT_FORMATS,
          PHRASES_TOP, PRICES, XLSX_ROW_LIMIT, FOLDERS, EXPORT_MODE,
          EXPORT_QUEUE_URL, SHARE_KEY / SHARE_KEY_SECRET, SHARE_BASE_URL
  all     CARDS_BUCKET, RETENTION_DAYS, and the AWS SDK's own (AWS_REGION,
          AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, ...)
Local stand-ins: without TABLE_NAME a fresh embedded store; without
API_TOKENS the sample events' token is trusted; without REPORTS_BUCKET
reports go to -out; without SOURCE the sync reads FILES_DIR (default: an
empty folder).`,
		run: runInvoke,
	})
}

// exampleToken is the bearer token in events/api-*.json. A local invoke with
// no API_TOKENS trusts it for every folder, so the sample events just work.
const exampleToken = "example-token"

func runInvoke(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("invoke", stderr)
	out := fs.String("out", "invoke-out", "export: folder the reports go to when REPORTS_BUCKET is unset")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 2 {
		return badUsage(stderr, fs, "want a function and an event file, got %d arguments", fs.NArg())
	}
	raw, err := os.ReadFile(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(stderr, "chatcards invoke:", err)
		return 1
	}
	resp, err := invoke(ctx, fs.Arg(0), raw, config.Getenv(os.Getenv), localDeps(os.Getenv, *out, stderr))
	if resp != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		_ = enc.Encode(resp)
	}
	if err != nil {
		fmt.Fprintln(stderr, "chatcards invoke:", err)
		if _, usage := err.(usageError); usage {
			return 2
		}
		return 1
	}
	return 0
}

type usageError string

func (e usageError) Error() string { return string(e) }

// localDeps swaps in embedded parts for what the environment leaves unset.
func localDeps(getenv func(string) string, out string, stderr io.Writer) app.Deps {
	d := app.Deps{Logger: slog.New(slog.NewJSONHandler(stderr, nil))}
	if getenv("TABLE_NAME") == "" {
		d.Store = memstore.New()
	}
	if getenv("API_TOKENS") == "" && getenv("API_TOKENS_SECRET") == "" {
		t, _ := api.ParseTokens(fmt.Appendf(nil, `{%q: [%q]}`, api.HashToken(exampleToken), api.AllFolders))
		d.Tokens = t
	}
	if getenv("REPORTS_BUCKET") == "" {
		d.Sink = &reports.DirSink{Root: out}
		d.Catalog = &reports.DirCatalog{Root: out}
		d.Coord = &reports.DirCoordinator{Root: out}
	}
	if getenv("SOURCE") == "" {
		dir := getenv("FILES_DIR")
		if dir == "" {
			dir, _ = os.MkdirTemp("", "chatcards-files-")
		}
		if src, err := sources.NewFiles(dir); err == nil {
			d.Source = src
		}
	}
	return d
}

// invoke runs one function's handler on raw, as Lambda would.
func invoke(ctx context.Context, function string, raw []byte, env config.Getenv, d app.Deps) (any, error) {
	switch function {
	case "api":
		h, err := app.API(ctx, env, d)
		if err != nil {
			return nil, err
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event is not an API Gateway payload 2.0 request: %w", err)
		}
		return api.NewLambdaHandler(h)(ctx, ev)
	case "sync":
		h, err := app.Sync(ctx, env, d)
		if err != nil {
			return nil, err
		}
		var ev syncer.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("event is not a sync event: %w", err)
		}
		return h.Handle(ctx, ev)
	case "syncworker":
		h, err := app.SyncWorker(ctx, env, d)
		if err != nil {
			return nil, err
		}
		return app.SQSOnly(h.HandleSQS)(ctx, raw)
	case "export":
		h, err := app.Export(ctx, env, d)
		if err != nil {
			return nil, err
		}
		return h.Handle(ctx, raw)
	case "exportworker":
		h, err := app.ExportWorker(ctx, env, d)
		if err != nil {
			return nil, err
		}
		return app.SQSOnly(h.Handle)(ctx, raw)
	}
	return nil, usageError(fmt.Sprintf("unknown function %q: want api, sync, syncworker, export or exportworker", function))
}
