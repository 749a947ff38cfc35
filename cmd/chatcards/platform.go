package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/chatcards/chatcards/shared/platform"
)

func init() {
	register("platform", command{
		summary: "serve the reference chat platform (generated or given transcripts, with faults)",
		help: `Serves the platform history API the http source reads (docs/platform-openapi.yaml)
on -addr until interrupted: -generate N made-up sessions, or the transcript
files of -dir. Faults (errors, 429 bursts, latency, cut or garbled bodies)
let a sync be tried against a misbehaving platform. It prints the
PLATFORM_URL and PLATFORM_TOKEN a sync needs.

Environment: none.`,
		run: runPlatform,
	})
}

// runPlatform serves the reference platform until ctx ends. It is a dev
// server, so it prints its token: a random one unless -token is given.
func runPlatform(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("platform", stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address")
	dir := fs.String("dir", "", "serve <dir>/*.json (transcript v1 or Amazon Connect)")
	n := fs.Int("generate", 0, "serve N generated sessions")
	seed := fs.Int64("seed", 1, "generator and fault seed")
	start := fs.String("start", "", "first generated session's start, RFC 3339 (default: today 08:00 UTC)")
	folder := fs.String("folder", "helpdesk", "tenant of generated sessions")
	messages := fs.Int("messages", 0, "messages per generated session (0: varied, typically 10-60)")
	token := fs.String("token", "", "bearer token clients must send (default: random, printed)")
	errRate := fs.Float64("error-rate", 0, "share of requests answered 500 (0-1)")
	latency := fs.Duration("latency", 0, "delay before each answer")
	burst := fs.Int("burst429", 0, "answer the first N requests 429 with Retry-After")
	retryAfter := fs.Duration("retry-after", time.Second, "Retry-After sent with 429s")
	truncRate := fs.Float64("truncate-rate", 0, "share of transcripts sent cut short (0-1)")
	garbleRate := fs.Float64("garble-rate", 0, "share of transcripts sent with garbled bytes (0-1)")
	quiet := fs.Bool("quiet", false, "no request log")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	usageErr := func(format string, a ...any) int { return badUsage(stderr, fs, format, a...) }
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	if *dir != "" && *n > 0 {
		return usageErr("-dir and -generate are exclusive")
	}
	if *n < 0 || *messages < 0 || *burst < 0 {
		return usageErr("-generate, -messages and -burst429 must not be negative")
	}
	for name, r := range map[string]float64{"-error-rate": *errRate, "-truncate-rate": *truncRate, "-garble-rate": *garbleRate} {
		if r < 0 || r > 1 {
			return usageErr("%s %v must be between 0 and 1", name, r)
		}
	}
	startAt := time.Now().UTC().Truncate(24 * time.Hour).Add(8 * time.Hour)
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return usageErr("-start %q is not RFC 3339", *start)
		}
		startAt = t
	}
	if *token == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		*token = hex.EncodeToString(b)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	if *quiet {
		logger = slog.New(slog.DiscardHandler)
	}
	srv, err := platform.NewServer(platform.ServerOptions{
		Token:  *token,
		Seed:   *seed,
		Logger: logger,
		Faults: platform.Faults{
			ErrorRate: *errRate, Latency: *latency, Burst429: *burst, RetryAfter: *retryAfter,
			TruncateRate: *truncRate, GarbleRate: *garbleRate,
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "chatcards platform: %v\n", err)
		return 1
	}
	switch {
	case *dir != "":
		if _, err := srv.LoadDir(*dir); err != nil {
			fmt.Fprintf(stderr, "chatcards platform: %v\n", err)
			return 1
		}
	case *n > 0:
		for _, t := range platform.Generate(platform.GenerateOptions{N: *n, Seed: *seed, Start: startAt, Folder: *folder, MessagesPerSession: *messages}) {
			if err := srv.Put(t); err != nil {
				fmt.Fprintf(stderr, "chatcards platform: %v\n", err)
				return 1
			}
		}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "chatcards platform: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "chat platform listening on http://%s (%d sessions)\nPLATFORM_URL=http://%s\nPLATFORM_TOKEN=%s\n", ln.Addr(), srv.Len(), ln.Addr(), *token)
	return serveUntilDone(ctx, ln, srv, stderr)
}
