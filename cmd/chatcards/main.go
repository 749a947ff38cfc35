// Command chatcards runs chatcards locally: compute a card from a transcript,
// serve the API, run the reference platform, sync, export, play the demo, and
// invoke a Lambda handler on an event file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand. run gets the arguments after the command name
// and returns the process exit code: 0 ok, 1 failure, 2 bad usage.
type command struct {
	summary string
	// args is the synopsis after the flags, e.g. "FILE|-".
	args string
	// help says what the command does and which environment variables it
	// reads; printed by `chatcards help NAME` and `chatcards NAME -h`.
	help string
	run  func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands is filled by each subcommand's file in its init, so subcommands
// live in their own files and never edit this one.
var commands = map[string]command{}

func register(name string, c command) { commands[name] = c }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "help":
		switch len(args) {
		case 1:
			usage(stdout)
			return 0
		case 2:
			if _, ok := commands[args[1]]; !ok {
				fmt.Fprintf(stderr, "chatcards help: unknown command %q\n", args[1])
				usage(stderr)
				return 2
			}
			// Every command answers -h with its help and exit 0.
			return commands[args[1]].run(ctx, []string{"-h"}, stdout, stderr)
		}
		fmt.Fprintln(stderr, "usage: chatcards help [COMMAND]")
		return 2
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "chatcards: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: chatcards <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-11s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\n`chatcards help COMMAND` or `chatcards COMMAND -h` says what a command does,\nits flags and the environment variables it reads.")
}

// newFlags returns the flag set of command name. Its errors go to stderr;
// its -h is handled by parseFlags.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parseFlags prints help or a usage line itself
	return fs
}

// parseFlags parses args. ok is false when the command must return code:
// 0 after -h printed the help to stdout, 2 after a bad flag (the flag
// package has said which on stderr; a usage line follows).
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		printHelp(stdout, fs)
		return 0, false
	}
	usageLine(stderr, fs)
	return 2, false
}

// usageLine prints the one-line synopsis and where help is.
func usageLine(w io.Writer, fs *flag.FlagSet) {
	c := commands[fs.Name()]
	fmt.Fprintf(w, "usage: %s (chatcards help %s says more)\n", synopsis(fs.Name(), c), fs.Name())
}

// badUsage reports a usage error on one line plus the synopsis; exit 2.
func badUsage(stderr io.Writer, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(stderr, "chatcards %s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	usageLine(stderr, fs)
	return 2
}

// printHelp prints a command's whole help: synopsis, what it does, the
// environment it reads, its flags.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	c := commands[fs.Name()]
	fmt.Fprintf(w, "usage: %s\n\n%s.\n", synopsis(fs.Name(), c), upperFirst(c.summary))
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	var n int
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nflags:")
		out := fs.Output()
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(out)
	}
}

func synopsis(name string, c command) string {
	return strings.TrimSpace("chatcards " + name + " [flags] " + c.args)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
