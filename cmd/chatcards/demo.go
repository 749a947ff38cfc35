package main

import (
	"context"
	"flag"
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
		run:     runDemo,
	})
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "demo-out", "folder for the report files")
	n := fs.Int("sessions", 200, "widget sessions to play")
	seed := fs.Int64("seed", 1, "seed of the generated conversations")
	date := fs.String("date", "", "day the chats happen, YYYY-MM-DD (default: yesterday, UTC)")
	useAWS := fs.Bool("aws", false, "keep cards in DynamoDB at TABLE_NAME (real AWS, or an emulator via AWS_ENDPOINT_URL_DYNAMODB) instead of the embedded store")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 0 || *n <= 0 || *n > 100000 {
		fmt.Fprintln(stderr, "usage: chatcards demo [-out demo-out] [-sessions 200] [-seed 1] [-date YYYY-MM-DD] [-aws]")
		return 2
	}
	opt := demo.Options{Out: *out, Sessions: *n, Seed: *seed, Progress: stdout}
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
	sum, err := demo.Run(ctx, demo.Options{Store: store, Out: opt.Out, Sessions: opt.Sessions, Seed: opt.Seed, Day: opt.Day, Progress: stdout})
	if err != nil {
		fmt.Fprintln(stderr, "chatcards demo:", err)
		return 1
	}
	sum.Print(stdout, *out)
	fmt.Fprintf(stdout, "\ndone in %s\n", time.Since(began).Round(time.Millisecond))
	return 0
}
