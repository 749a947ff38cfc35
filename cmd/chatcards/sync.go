package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/progress"
	"github.com/chatcards/chatcards/shared/syncer"
)

func init() {
	register("sync", command{
		summary: "run the history sync once, configured like the sync function (TABLE_NAME, SOURCE, ...)",
		help: `Runs one sync pass over the active cards (of -folders, else every folder): fetch
each session's transcript from the source, compute its card, write it back.
Prints the run's summary as JSON on stdout; logs (JSON) and metrics go to
stderr, and a progress line every few seconds when stderr is a terminal or
-progress is given. Exit 1 when the cards cannot be listed.

Environment (as the sync function reads it):
  TABLE_NAME (required), CARDS_BUCKET, RETENTION_DAYS: the card store
  SOURCE: http, connect or files, and its settings:
    http     PLATFORM_URL, PLATFORM_TOKEN or PLATFORM_TOKEN_SECRET,
             PLATFORM_RPS (default 20), PLATFORM_TIMEOUT (default 10s)
    connect  CONNECT_BUCKET, CONNECT_PREFIX
    files    FILES_DIR
  STATS_MODE, IDLE_THRESHOLD, ASYNC_IDLE_THRESHOLD: the statistics
  SYNC_CONCURRENCY (default 16), SYNC_PARTIAL (default true), STALE_AFTER (default 7 days)
  AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, ...: the AWS SDK's own.`,
		run: runSync,
	})
}

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sync", stderr)
	folders := fs.String("folders", "", "comma-separated folders to sync (default: every folder)")
	showProgress := progressFlag(fs)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 0 {
		return badUsage(stderr, fs, "unexpected argument %q", fs.Arg(0))
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
	deps := app.Deps{Logger: slog.New(slog.NewJSONHandler(stderr, nil))}
	meter := progressOut(fs, *showProgress, stderr)
	var rep *progress.Reporter
	if meter != nil {
		// The store is built here rather than in app.Sync so its listing
		// can be counted: that is the run's total.
		storeCfg, err := config.StoreFromEnv(env)
		if err != nil {
			fmt.Fprintln(stderr, "chatcards sync:", err)
			return 2
		}
		awsCfg, err := config.AWS(ctx)
		if err == nil {
			deps.Store, err = config.OpenStore(awsCfg, storeCfg)
		}
		if err != nil {
			fmt.Fprintln(stderr, "chatcards sync:", err)
			return 2
		}
		rep = progress.Start(meter, "sync", "sessions", 0, progress.Options{})
		final := listingsDone(max(len(list), 1), rep.Final)
		deps.Store = &countingStore{Store: deps.Store, active: func(n int, last bool) {
			rep.AddTotal(int64(n))
			final(last)
		}}
	}
	h, err := app.Sync(ctx, env, deps)
	if err != nil {
		rep.Stop()
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 2
	}
	if rep != nil {
		h.Syncer = h.Syncer.WithOnDone(func(syncer.Outcome) { rep.Add(1) })
	}
	h.Metrics = stderr
	resp, err := h.Handle(ctx, syncer.Event{Folders: list})
	rep.Stop()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(resp)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 1
	}
	return 0
}
