package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func init() {
	register("stats", command{
		summary: "print the card of a transcript file (v1 or Amazon Connect; - reads stdin)",
		run:     runStats,
	})
}

func runStats(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stats", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mode := fs.String("mode", "fired", "which statistics to attach: none, fired or all")
	idle := fs.Duration("idle", stats.DefaultSettings().IdleThreshold, "idle threshold inside live chats")
	asyncIdle := fs.Duration("async-idle", stats.DefaultSettings().AsyncIdleThreshold, "idle threshold inside dormant periods of async sessions")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: chatcards stats [-mode none|fired|all] [-idle 120s] [-async-idle 1h] FILE|-")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	m, err := stats.ParseMode(*mode)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards stats:", err)
		return 2
	}
	if *idle < 0 || *asyncIdle < 0 {
		fmt.Fprintln(stderr, "chatcards stats: thresholds must not be negative")
		return 2
	}
	var data []byte
	if name := fs.Arg(0); name == "-" {
		data, err = io.ReadAll(os.Stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintln(stderr, "chatcards stats:", err)
		return 1
	}
	t, err := transcript.Decode(data)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards stats:", oneLine(err.Error()))
		return 1
	}
	for _, w := range t.Warnings {
		fmt.Fprintln(stderr, "chatcards stats: warning:", w)
	}
	card := stats.Compute(t, stats.Settings{Mode: m, IdleThreshold: *idle, AsyncIdleThreshold: *asyncIdle}, nil)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(card); err != nil {
		fmt.Fprintln(stderr, "chatcards stats:", err)
		return 1
	}
	return 0
}

// oneLine keeps an error to the one line the CLI promises.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }
