package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/demo"
)

func init() {
	register("demo", command{
		summary: "play the whole story locally: chatbot → API → platform → sync → reports in ./demo-out",
		help: `Plays chatcards end to end on this machine: a chatbot creates a card for each
generated widget session through the HTTP API, the conversations happen on
the reference chat platform, two syncs fill and close the cards, and the
day's reports are exported to -out. One line per step and a closing summary
on stdout; inside long steps a progress line every few seconds on stderr when
it is a terminal or -progress is given.

Environment: none, unless -aws: then TABLE_NAME (required), CARDS_BUCKET,
RETENTION_DAYS and the AWS SDK's own (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB
for an emulator, ...).`,
		run: runDemo,
	})
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo", stderr)
	out := fs.String("out", "demo-out", "folder for the report files")
	n := fs.Int("sessions", 200, "widget sessions to play")
	seed := fs.Int64("seed", 1, "seed of the generated conversations")
	date := fs.String("date", "", "day the chats happen, YYYY-MM-DD (default: yesterday, UTC)")
	useAWS := fs.Bool("aws", false, "keep cards in DynamoDB at TABLE_NAME (real AWS, or an emulator via AWS_ENDPOINT_URL_DYNAMODB) instead of the embedded store")
	showProgress := progressFlag(fs)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 0 {
		return badUsage(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	if *n <= 0 || *n > 100000 {
		return badUsage(stderr, fs, "-sessions %d: want 1 to 100000", *n)
	}
	opt := demo.Options{Out: *out, Sessions: *n, Seed: *seed, Progress: stdout, Meter: progressOut(fs, *showProgress, stderr)}
	if *date != "" {
		d, err := time.Parse("2006-01-02", *date)
		if err != nil {
			fmt.Fprintf(stderr, "chatcards demo: -date %q: want YYYY-MM-DD\n", *date)
			return 2
		}
		opt.Day = d
	}
	var store cardstore.Store = memstore.New()
	if *useAWS {
		env := config.Getenv(os.Getenv)
		s, err := config.StoreFromEnv(env)
		if err != nil {
			fmt.Fprintln(stderr, "chatcards demo:", err)
			return 2
		}
		awsCfg, err := config.AWS(ctx)
		if err == nil {
			store, err = config.OpenStore(awsCfg, s)
		}
		if err != nil {
			fmt.Fprintln(stderr, "chatcards demo:", err)
			return 2
		}
		fmt.Fprintf(stdout, "▸ cards in DynamoDB table %s\n", s.Table)
	}
	began := time.Now()
	opt.Store = store
	sum, err := demo.Run(ctx, opt)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards demo:", err)
		return 1
	}
	sum.Print(stdout, *out)
	fmt.Fprintf(stdout, "\ndone in %s\n", time.Since(began).Round(time.Millisecond))
	return 0
}
