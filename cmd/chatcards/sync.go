package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

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

Fan-out (docs/sync.md): -mode fanout (or SYNC_MODE=fanout) plans instead: it
sends the cards as work items to SYNC_QUEUE_URL and prints the plan (run id,
messages, sessions). -worker is one worker: it polls SYNC_QUEUE_URL as the
Lambda event source mapping would, syncs each batch with the worker function's
code, deletes what it finished, and stops after -idle without a message (or
on Ctrl-C); it prints its counts. Run several -worker processes for a local
fan-out; each takes 1/SYNC_WORKERS of the platform's rate ceiling.

Environment (as the sync function reads it):
  TABLE_NAME (required), CARDS_BUCKET, RETENTION_DAYS: the card store
  SOURCES: one source per folder, JSON {"<folder>|*": {"kind": ..., ...}}; kinds
    http, connect, files, zendesk, chatwoot, rocketchat, livechat, intercom,
    genesys, botframework (docs/sources.md); FOLDERS: per-folder settings
  SOURCE: http, connect or files (the "*" source when SOURCES is unset), and its settings:
    http     PLATFORM_URL, PLATFORM_TOKEN or PLATFORM_TOKEN_SECRET,
             PLATFORM_RPS (default 20), PLATFORM_TIMEOUT (default 10s)
    connect  CONNECT_BUCKET, CONNECT_PREFIX
    files    FILES_DIR
  SOURCES: one source per folder instead of SOURCE (docs/sources.md)
  STATS_MODE, IDLE_THRESHOLD, ASYNC_IDLE_THRESHOLD: the statistics
  FOLDERS, REPORT_TIMEZONE, PRICES: each folder's zone, business hours and
           first-reply target, which the cards' figures follow (docs/analytics.md)
  SYNC_CONCURRENCY (default 16), SYNC_PARTIAL (default true), STALE_AFTER (default 7 days)
  SYNC_MODE (single|fanout), SYNC_QUEUE_URL, SYNC_ITEM_SIZE (20), SYNC_WORKERS (10),
  SYNC_MAX_RECEIVE (5), SYNC_SWEEP_OVERLAP (15m): the fan-out (docs/sync.md)
  AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SQS, ...: the AWS SDK's own.`,
		run: runSync,
	})
}

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sync", stderr)
	folders := fs.String("folders", "", "comma-separated folders to sync (default: every folder)")
	mode := fs.String("mode", "", "single or fanout (default: SYNC_MODE, else single)")
	worker := fs.Bool("worker", false, "be one fan-out worker: poll SYNC_QUEUE_URL until -idle passes without a message")
	idle := fs.Duration("idle", 30*time.Second, "with -worker: stop after this long without a message")
	showProgress := progressFlag(fs)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 0 {
		return badUsage(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	if *mode != "" {
		if _, err := syncer.ParseMode(*mode); err != nil {
			return badUsage(stderr, fs, "-mode: want single or fanout, got %q", *mode)
		}
	}
	if *worker && (*folders != "" || *mode != "") {
		return badUsage(stderr, fs, "-worker takes its cards from the queue: no -folders or -mode")
	}
	env := config.Getenv(func(k string) string {
		if k == "SYNC_MODE" && *mode != "" {
			return *mode
		}
		return os.Getenv(k)
	})
	if env("TABLE_NAME") == "" {
		fmt.Fprintln(stderr, "chatcards sync: TABLE_NAME is required: the sync needs a table that outlives this process (point AWS_ENDPOINT_URL_DYNAMODB at an emulator for local runs)")
		return 2
	}
	if *worker {
		return runSyncWorker(ctx, env, *idle, stdout, stderr)
	}
	var list []string
	if *folders != "" {
		list = strings.Split(*folders, ",")
	}
	deps := app.Deps{Logger: slog.New(slog.NewJSONHandler(stderr, nil))}
	meter := progressOut(fs, *showProgress, stderr)
	if m, _ := syncer.ParseMode(env("SYNC_MODE")); m == syncer.ModeFanout {
		meter = nil // a plan has no per-session progress
	}
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

// runSyncWorker is `chatcards sync -worker`: the syncworker function's code
// fed by a local poller (syncer.Poll) instead of the event source mapping.
func runSyncWorker(ctx context.Context, env config.Getenv, idle time.Duration, stdout, stderr io.Writer) int {
	url := env("SYNC_QUEUE_URL")
	if url == "" {
		fmt.Fprintln(stderr, "chatcards sync: -worker needs SYNC_QUEUE_URL (point AWS_ENDPOINT_URL_SQS at an emulator for local runs)")
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	h, err := app.SyncWorker(ctx, env, app.Deps{Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 2
	}
	var sessions atomic.Int64
	h.Syncer = h.Syncer.WithOnDone(func(syncer.Outcome) { sessions.Add(1) })
	h.Metrics = stderr
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 2
	}
	began := time.Now()
	st, err := syncer.Poll(ctx, h.HandleSQS, syncer.PollOptions{Client: config.SQS(awsCfg), URL: url, IdleExit: idle, Logger: log})
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]any{"batches": st.Batches, "messages": st.Messages, "failedMessages": st.Failed,
		"sessions": sessions.Load(), "durationMs": time.Since(began).Milliseconds()})
	if err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "chatcards sync:", err)
		return 1
	}
	return 0
}
