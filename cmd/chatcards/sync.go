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

	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/sources"
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
	storeCfg, err := config.StoreFromEnv(env)
	if err == nil && storeCfg.Table == "" {
		err = fmt.Errorf("TABLE_NAME is required: the sync needs a table that outlives this process (point AWS_ENDPOINT_URL_DYNAMODB at an emulator for local runs)")
	}
	var syncCfg config.Sync
	if err == nil {
		syncCfg, err = config.SyncFromEnv(env)
	}
	var srcCfg sources.Config
	if err == nil {
		srcCfg, err = sources.ConfigFromEnv(env)
	}
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 2
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 1
	}
	store, err := config.OpenStore(awsCfg, storeCfg)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 1
	}
	src, err := config.OpenSource(ctx, awsCfg, srcCfg, nil)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync: source:", err)
		return 1
	}
	var list []string
	if *folders != "" {
		list = strings.Split(*folders, ",")
	}
	h := &syncer.Handler{
		Syncer: syncer.New(store, src, syncer.Options{
			Settings: syncCfg.Stats, Concurrency: syncCfg.Concurrency, NoPartial: !syncCfg.Partial,
			StaleAfter: syncCfg.StaleAfter, Logger: slog.New(slog.NewJSONHandler(stderr, nil)),
		}),
		Metrics: stderr,
	}
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
