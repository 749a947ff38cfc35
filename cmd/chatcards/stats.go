package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/stats"
)

func init() {
	register("stats", command{
		summary: "print the card of a conversation file in any supported format (- reads stdin)",
		args:    "FILE|-",
		help: `Reads one conversation (transcript v1, Amazon Connect or a chat platform's own
export), normalises it to transcript v1 and prints the card chatcards would
keep for it, as JSON on stdout. Warnings of reading (events after the end)
go to stderr. Exit 1 with one line on stderr when the file cannot be read.

` + formatsHelp() + `

With -settings FILE, FILE holds one folder's settings (the JSON of one
FOLDERS entry: timeZone, businessHours, holidays, firstReplyTarget, prices),
so serviceLevel and the businessHours figures can be checked by hand; the
zone defaults to UTC when the entry names none.

Environment: none (the thresholds are flags here; the sync reads STATS_MODE,
IDLE_THRESHOLD, ASYNC_IDLE_THRESHOLD and FOLDERS).`,
		run: runStats,
	})
}

func runStats(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("stats", stderr)
	format := formatFlag(fs)
	verbose := fs.Bool("v", false, "say on stderr which format was read")
	mode := fs.String("mode", "fired", "which statistics to attach: none, fired or all")
	idle := fs.Duration("idle", stats.DefaultSettings().IdleThreshold, "idle threshold inside live chats")
	asyncIdle := fs.Duration("async-idle", stats.DefaultSettings().AsyncIdleThreshold, "idle threshold inside dormant periods of async sessions")
	settingsFile := fs.String("settings", "", "a `FILE` holding one folder's settings (one FOLDERS entry)")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return badUsage(stderr, fs, "want one FILE (or - for stdin), got %d arguments", fs.NArg())
	}
	if !checkFormat(*format) {
		return badUsage(stderr, fs, "-format %q: want auto or one of %s", *format, formatsList())
	}
	m, err := stats.ParseMode(*mode)
	if err != nil {
		return badUsage(stderr, fs, "%v", err)
	}
	if *idle < 0 || *asyncIdle < 0 {
		return badUsage(stderr, fs, "thresholds must not be negative")
	}
	set := stats.Settings{Mode: m, IdleThreshold: *idle, AsyncIdleThreshold: *asyncIdle}
	if *settingsFile != "" {
		raw, err := os.ReadFile(*settingsFile)
		if err == nil {
			set.Folder, err = folders.ParseEntry(raw, folders.Defaults{Location: time.UTC})
		}
		if err != nil {
			fmt.Fprintln(stderr, "chatcards stats: -settings:", oneLine(err.Error()))
			return 1
		}
	}
	d, err := decodeInput("stats", fs.Arg(0), *format, *verbose, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards stats:", oneLine(err.Error()))
		return 1
	}
	card := stats.Compute(d.Transcript, set, nil)
	card.PlatformFigures = d.Figures
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(card); err != nil {
		fmt.Fprintln(stderr, "chatcards stats:", err)
		return 1
	}
	return 0
}
