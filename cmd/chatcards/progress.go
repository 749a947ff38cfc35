package main

import (
	"context"
	"flag"
	"io"
	"sync/atomic"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/progress"
)

// progressFlag adds -progress. Unset, progress lines are shown when stderr
// is a terminal; -progress shows them anyway (into a log file, a pipe),
// -progress=false never.
func progressFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("progress", false, "print a progress line every few seconds on stderr (default: only when stderr is a terminal)")
}

// progressOut is where progress lines go, nil for none.
func progressOut(fs *flag.FlagSet, on bool, stderr io.Writer) io.Writer {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "progress" })
	if set && on || !set && progress.IsTerminal(stderr) {
		return stderr
	}
	return nil
}

// countingStore counts the cards a run lists, for progress lines: the
// syncer's and the export's listings are their only view of the total.
type countingStore struct {
	cardstore.Store
	active, byStart func(cards int, last bool) // nil: not counted
}

func (s *countingStore) ListActive(ctx context.Context, folder string, opt cardstore.ListOptions) (cardstore.Page, error) {
	p, err := s.Store.ListActive(ctx, folder, opt)
	if err == nil && s.active != nil {
		s.active(len(p.Cards), p.Next == "")
	}
	return p, err
}

func (s *countingStore) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	p, err := s.Store.ListByStart(ctx, folder, from, to, opt)
	if err == nil && s.byStart != nil {
		s.byStart(len(p.Cards), p.Next == "")
	}
	return p, err
}

// listingsDone calls done once n listings have returned their last page.
func listingsDone(n int, done func()) func(last bool) {
	var finished atomic.Int64
	return func(last bool) {
		if last && finished.Add(1) == int64(n) {
			done()
		}
	}
}
