package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/chatcards/chatcards/shared/formats"
)

// formatFlag adds -format, listing the formats of the registry, so a
// platform format registered in shared/formats appears here by itself.
func formatFlag(fs *flag.FlagSet) *string {
	return fs.String("format", "auto", "input format: auto (told apart by its fields), "+strings.Join(formats.Names(), ", "))
}

// checkFormat reports whether name is auto or a registered format.
func checkFormat(name string) bool {
	return name == "auto" || slices.Contains(formats.Names(), name)
}

// readInput reads the file name, or stdin for "-".
func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// decodeInput reads FILE in the given format. With verbose, the format
// auto-detection chose is said on stderr (stdout stays the result alone).
func decodeInput(cmd, name, format string, verbose bool, stderr io.Writer) (*formats.Decoded, error) {
	data, err := readInput(name)
	if err != nil {
		return nil, err
	}
	d, chosen, err := formats.Decode(format, data)
	if err != nil {
		return nil, err
	}
	if verbose {
		how := "as given"
		if format == "auto" || format == "" {
			how = "detected"
		}
		fmt.Fprintf(stderr, "chatcards %s: format %s (%s)\n", cmd, chosen, how)
	}
	for _, w := range d.Transcript.Warnings {
		fmt.Fprintf(stderr, "chatcards %s: warning: %s\n", cmd, w)
	}
	return d, nil
}

// oneLine keeps an error to the one line the CLI promises.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// formatsHelp is the part of a help text on input formats.
func formatsHelp() string {
	return "Formats: " + strings.Join(formats.Names(), ", ") + ". With -format auto (the default) the\n" +
		"format is told apart by its fields; -v says on stderr which one was chosen.\n" +
		"A document that fits none, or more than one, is refused: give -format."
}
