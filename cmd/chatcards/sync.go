package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/syncer"
)

func init() {
	register("sync", command{
		summary: "run the history sync once, configured like the sync function (TABLE_NAME, SOURCE, ...)",
		run:     runSync,
	})
}

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	folders := fs.String("folders", "", "comma-separated folders to sync (default: every folder)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: chatcards sync [-folders a,b]\n\nReads the sync function's settings from the environment: TABLE_NAME (required),\nCARDS_BUCKET, SOURCE (http|connect|files) and its settings, STATS_MODE, IDLE_THRESHOLD,\nASYNC_IDLE_THRESHOLD, SYNC_CONCURRENCY, SYNC_PARTIAL, STALE_AFTER.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		if err == nil {
			fs.Usage()
		}
		return 2
	}
	env := config.Getenv(os.Getenv)
	if env("TABLE_NAME") == "" {
		fmt.Fprintln(stderr, "chatcards sync: TABLE_NAME is required: the sync needs a table that outlives this process (point AWS_ENDPOINT_URL_DYNAMODB at an emulator for local runs)")
		return 2
	}
	var list []string
	if *folders != "" {
		list = strings.Split(*folders, ",")
	}
	h, err := app.Sync(ctx, env, app.Deps{Logger: slog.New(slog.NewJSONHandler(stderr, nil))})
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 2
	}
	h.Metrics = stderr
	resp, err := h.Handle(ctx, syncer.Event{Folders: list})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(resp)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 1
	}
	return 0
}
