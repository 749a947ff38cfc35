package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func init() {
	register("transcript", command{
		summary: "print a conversation file as the normalised transcript v1 (check a platform mapping)",
		args:    "FILE|-",
		help: `Reads one conversation in any supported format and prints what chatcards makes
of it: the normalised transcript v1 (docs/transcript.md), events in time
order, times in UTC to the millisecond. This is how to check a platform's
mapping: who became which participant, which lines became which events. The
platform's own per-chat figures, when the format has them, go to stderr with
-v. Exit 1 with one line on stderr when the file cannot be read.

` + formatsHelp() + `

Environment: none.`,
		run: runTranscript,
	})
}

func runTranscript(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("transcript", stderr)
	format := formatFlag(fs)
	verbose := fs.Bool("v", false, "say on stderr which format was read, and the platform's own figures")
	compact := fs.Bool("compact", false, "one line of JSON instead of indented")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return badUsage(stderr, fs, "want one FILE (or - for stdin), got %d arguments", fs.NArg())
	}
	if !checkFormat(*format) {
		return badUsage(stderr, fs, "-format %q: want auto or one of %s", *format, formatsList())
	}
	d, err := decodeInput("transcript", fs.Arg(0), *format, *verbose, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards transcript:", oneLine(err.Error()))
		return 1
	}
	out, err := transcript.Encode(d.Transcript)
	if err != nil {
		fmt.Fprintln(stderr, "chatcards transcript:", oneLine(err.Error()))
		return 1
	}
	if !*compact {
		var buf bytes.Buffer
		if err := json.Indent(&buf, out, "", "  "); err != nil {
			fmt.Fprintln(stderr, "chatcards transcript:", err)
			return 1
		}
		out = buf.Bytes()
	}
	if _, err := stdout.Write(append(out, '\n')); err != nil {
		fmt.Fprintln(stderr, "chatcards transcript:", err)
		return 1
	}
	if *verbose && d.Figures != nil {
		fmt.Fprintf(stderr, "chatcards transcript: platform figures: %s\n", oneLine(string(d.Figures)))
	}
	return 0
}

// formatsList is "auto, v1, connect, ..." for error messages.
func formatsList() string { return strings.Join(formats.Names(), ", ") }
