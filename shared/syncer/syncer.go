// Package syncer is the history download: for every active card it fetches
// the transcript, computes the figures and writes them through the store's
// optimistic update, closing the card once the chat has ended.
package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/stats"
)

// Options of a Syncer. Zero values take the documented defaults.
type Options struct {
	Settings stats.Settings
	// Folders are the FOLDERS settings (zone, business hours, target); nil:
	// every folder takes the defaults.
	Folders     *folders.Config
	Concurrency int           // SYNC_CONCURRENCY, default 16
	NoPartial   bool          // SYNC_PARTIAL=false: leave still-running sessions untouched
	StaleAfter  time.Duration // STALE_AFTER, default 7 days
	// StaleRecheck is how long a card closed as stale is still looked for
	// by the scheduled runs: every run lists the folder's cards that started
	// in [now - StaleAfter - StaleRecheck, now - StaleAfter] (one ranged
	// query, never a scan) and fetches the stale-closed ones again, so a
	// transcript that arrives late still fills its card. Default: StaleAfter;
	// negative: never (then only an S3 event refills such a card).
	StaleRecheck time.Duration
	// Margin is how long before the context's deadline the run stops taking
	// new sessions, so in-flight ones finish and the summary is logged.
	// Default: 10% of the time left at the start, at least 2 s, at most 30 s.
	Margin time.Duration
	// Retries of an update that lost the optimistic check (default 3).
	Retries int
	Now     func() time.Time
	Logger  *slog.Logger
	// State keeps the sweep and discovery watermarks and the fan-out's run
	// totals (default: a MemState of this process).
	State State
	// SweepOverlap is how far before its watermark a sweep or a discovery
	// starts again, so a transcript the platform stamped a little before the
	// last walk ended (clock skew, slow writes) is not missed. Default 15 min.
	SweepOverlap time.Duration
	// ItemSize is how many cards one fan-out work item names (default 20).
	ItemSize int
	// OnDone, when set, hears the outcome of each session Run finishes,
	// from the worker goroutines: the CLI's progress lines count with it.
	OnDone func(Outcome)
}

// Syncer runs sync passes. It is safe for concurrent use.
type Syncer struct {
	store cardstore.Store
	src   sources.Source
	opt   Options
}

// New returns a Syncer over a store and a source.
func New(store cardstore.Store, src sources.Source, opt Options) *Syncer {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.StaleAfter <= 0 {
		opt.StaleAfter = 7 * 24 * time.Hour
	}
	if opt.StaleRecheck == 0 {
		opt.StaleRecheck = opt.StaleAfter
	}
	if opt.Retries <= 0 {
		opt.Retries = 3
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.State == nil {
		opt.State = NewMemState()
	}
	if opt.SweepOverlap <= 0 {
		opt.SweepOverlap = 15 * time.Minute
	}
	if opt.ItemSize <= 0 || opt.ItemSize > MaxItemSessions {
		opt.ItemSize = 20
	}
	if opt.Settings == (stats.Settings{}) {
		opt.Settings = stats.DefaultSettings()
	}
	return &Syncer{store: store, src: src, opt: opt}
}

// WithOnDone returns a copy of s whose Run calls f after each session (see
// Options.OnDone); for a caller that got s ready-made, such as the CLI.
func (s *Syncer) WithOnDone(f func(Outcome)) *Syncer {
	c := *s
	c.opt.OnDone = f
	return &c
}

// Outcome of one session.
type Outcome string

const (
	Updated   Outcome = "updated"   // new figures written, still active
	Closed    Outcome = "closed"    // the chat ended: figures written, card inactive
	Unchanged Outcome = "unchanged" // same transcript as last time: nothing written
	NotYet    Outcome = "not_yet"   // the platform does not have it yet
	Stale     Outcome = "stale"     // no transcript after StaleAfter: closed with a reason
	Failed    Outcome = "failed"    // platform error or bad transcript; retried next run
	Skipped   Outcome = "skipped"   // still running and partial figures are off
)

// Summary counts one run.
type Summary struct {
	Seen          int `json:"seen"`
	Updated       int `json:"updated"`
	Closed        int `json:"closed"`
	Unchanged     int `json:"unchanged"`
	NotYet        int `json:"notYet"`
	Stale         int `json:"stale"`
	Failed        int `json:"failed"`
	BadTranscript int `json:"badTranscript"` // the part of Failed that was the transcript's fault
	Skipped       int `json:"skipped"`
	// Rechecked counts the cards closed as stale that the run looked for
	// again (see Options.StaleRecheck); one whose transcript has come is
	// also counted in Updated or Closed, one still missing nowhere else.
	Rechecked int `json:"rechecked"`
	// Swept counts the cards answered by their folder's sweep (one paged
	// "updated since" walk) instead of a request each; their outcomes are
	// counted above too.
	Swept int `json:"swept"`
	// Discovered counts the cards created by discovery (see sources.Discoverer).
	Discovered int `json:"discovered"`
	// Stopped is true when the run ended early at the deadline; the next run
	// carries on with the cards still active.
	Stopped  bool          `json:"stopped"`
	Duration time.Duration `json:"-"`
}

// MarshalJSON adds the duration in milliseconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	return json.Marshal(struct {
		plain
		DurationMs int64 `json:"durationMs"`
	}{plain(s), s.Duration.Milliseconds()})
}

func (s *Summary) add(o Outcome, bad, recheck bool) {
	if recheck {
		s.Rechecked++
		if o == NotYet {
			return
		}
	}
	s.Seen++
	switch o {
	case Updated:
		s.Updated++
	case Closed:
		s.Closed++
	case Unchanged:
		s.Unchanged++
	case NotYet:
		s.NotYet++
	case Stale:
		s.Stale++
	case Skipped:
		s.Skipped++
	case Failed:
		s.Failed++
		if bad {
			s.BadTranscript++
		}
	}
}

// Run syncs every active card of the given folders (all folders when none
// are given). Discovery and the sweep come first where the folder's source
// offers them (see prepare); the cards they did not answer are then fetched
// one by one. One failing session never stops the run. It returns an error
// only when the cards cannot be listed at all.
func (s *Syncer) Run(ctx context.Context, folders []string) (Summary, error) {
	began := s.opt.Now()
	var (
		sum Summary
		mu  sync.Mutex
	)
	past := s.pastStop(ctx, &sum, &mu)
	folders, answered, err := s.prepare(ctx, folders, began, past, &sum, &mu)
	if err != nil {
		sum.Duration = s.opt.Now().Sub(began)
		return sum, err
	}
	var (
		wg   sync.WaitGroup
		jobs = make(chan job)
	)
	for range s.opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := j.card
				o, err := s.syncCard(ctx, c, j.recheck)
				if err != nil {
					s.opt.Logger.Warn("sync session failed", "folder", c.Folder, "sessionId", c.SessionID, "outcome", string(o), "error", err.Error())
				}
				mu.Lock()
				sum.add(o, sources.IsBadTranscript(err), j.recheck)
				mu.Unlock()
				if s.opt.OnDone != nil {
					s.opt.OnDone(o)
				}
			}
		}()
	}

	// send hands one card to the workers; false when the run must stop.
	send := func(j job) bool {
		if past() {
			return false
		}
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			mu.Lock()
			sum.Stopped = true
			mu.Unlock()
			return false
		}
	}
	listErr := s.feed(ctx, folders, began, answered, send)
	close(jobs)
	wg.Wait()
	sum.Duration = s.opt.Now().Sub(began)
	return sum, listErr
}

// pastStop returns a check of the run's stop time (see Options.Margin)
// that marks the summary Stopped once it has come.
func (s *Syncer) pastStop(ctx context.Context, sum *Summary, mu *sync.Mutex) func() bool {
	stopAt, hasDeadline := s.stopTime(ctx)
	return func() bool {
		if ctx.Err() == nil && (!hasDeadline || s.opt.Now().Before(stopAt)) {
			return false
		}
		mu.Lock()
		sum.Stopped = true
		mu.Unlock()
		return true
	}
}

// job is one card for the workers; recheck marks a stale-closed card looked
// for again.
type job struct {
	card    *card.Card
	recheck bool
}

// feed lists the active cards of folders (every folder when none), then the
// stale-closed cards still within the recheck window, and sends each, but
// for those the sweep answered (skip, per folder). A card this run itself
// closed as stale (synced since began) is not sent again.
func (s *Syncer) feed(ctx context.Context, folders []string, began time.Time, skip map[string]map[string]bool, send func(job) bool) error {
	active := folders
	if len(active) == 0 {
		active = []string{""} // ListActive with "" lists every folder
	}
	for _, f := range active {
		cursor := ""
		for {
			page, err := s.store.ListActive(ctx, f, cardstore.ListOptions{Cursor: cursor, Limit: 500})
			if err != nil {
				return fmt.Errorf("sync: list active cards of %q: %w", f, err)
			}
			for _, c := range page.Cards {
				if skip[c.Folder][c.SessionID] {
					continue
				}
				if !send(job{card: c}) {
					return nil
				}
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	if s.opt.StaleRecheck < 0 {
		return nil
	}
	if len(folders) == 0 {
		var err error
		if folders, err = s.store.ListFolders(ctx); err != nil {
			return fmt.Errorf("sync: list folders: %w", err)
		}
	}
	// A card is closed as stale once it is StaleAfter old, so every
	// stale-closed card within the window started in this range.
	to := s.opt.Now().Add(-s.opt.StaleAfter).Add(time.Millisecond)
	from := to.Add(-s.opt.StaleRecheck - time.Millisecond)
	for _, f := range folders {
		cursor := ""
		for {
			page, err := s.store.ListByStart(ctx, f, from, to, cardstore.ListOptions{Cursor: cursor, Limit: 500})
			if err != nil {
				return fmt.Errorf("sync: list cards of %q to recheck: %w", f, err)
			}
			for _, c := range page.Cards {
				if !staleClosed(c) {
					continue
				}
				if at, err := time.Parse(time.RFC3339Nano, c.SyncedAt); err == nil && !at.Before(began) {
					continue // closed as stale by this very run
				}
				if !send(job{card: c, recheck: true}) {
					return nil
				}
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
	}
	return nil
}

// staleReason starts the ClosedReason of a card closed for want of a
// transcript; such a card is filled if its transcript comes later.
const staleReason = "stale:"

func staleClosed(c *card.Card) bool {
	return !c.Active && strings.HasPrefix(c.ClosedReason, staleReason)
}

// stopTime is when the run stops taking new sessions.
func (s *Syncer) stopTime(ctx context.Context) (time.Time, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return time.Time{}, false
	}
	margin := s.opt.Margin
	if margin <= 0 {
		margin = min(max(time.Until(dl)/10, 2*time.Second), 30*time.Second)
	}
	// ctx deadlines are wall-clock; translate into the injected clock.
	return s.opt.Now().Add(time.Until(dl) - margin), true
}

// SyncOne applies res to the card of sessionID in folder (the S3
// object-created path: the folder is the one the object's source is bound
// to, never searched for). ok is false when the folder has no such card. A
// card closed as stale is filled; a card closed by its transcript is only
// updated when the transcript changed.
func (s *Syncer) SyncOne(ctx context.Context, folder, sessionID string, res *sources.Result) (o Outcome, ok bool, err error) {
	c, err := s.store.Get(ctx, folder, sessionID)
	if card.ErrorCode(err) == card.ENOTFOUND {
		return NotYet, false, nil
	}
	if err != nil {
		return Failed, false, err
	}
	o, err = s.apply(ctx, c, res)
	return o, true, err
}

// syncCard fetches and applies one card's transcript. recheck marks a
// stale-closed card looked for again: it is never closed twice.
func (s *Syncer) syncCard(ctx context.Context, c *card.Card, recheck bool) (Outcome, error) {
	started, _ := time.Parse(time.RFC3339Nano, c.StartedAt)
	res, err := s.src.Fetch(ctx, sources.Request{Folder: c.Folder, SessionID: c.SessionID, StartedAt: started})
	switch {
	case errors.Is(err, sources.ErrNotYet):
		if !recheck && !started.IsZero() && s.opt.Now().Sub(started) >= s.opt.StaleAfter {
			return s.closeStale(ctx, c)
		}
		return NotYet, nil
	case err != nil:
		return Failed, err
	}
	return s.apply(ctx, c, &res)
}

// apply writes the figures of res onto c. A transcript of another session
// or another folder (its tenant set and not the card's folder) is refused
// as a bad transcript and the card is left untouched: folders are tenants.
func (s *Syncer) apply(ctx context.Context, c *card.Card, res *sources.Result) (Outcome, error) {
	if res.Transcript.SessionID != c.SessionID {
		return Failed, &sources.BadTranscriptError{SessionID: c.SessionID, Err: fmt.Errorf("transcript is for session %q", res.Transcript.SessionID)}
	}
	if t := res.Transcript.Tenant; t != "" && t != c.Folder {
		// ERROR: either a misconfigured source or a card made to reach
		// another folder's chat; both need a person to look.
		s.opt.Logger.Error("transcript of another folder refused", "folder", c.Folder, "transcriptTenant", t, "sessionId", c.SessionID)
		return Failed, &sources.BadTranscriptError{SessionID: c.SessionID, Err: fmt.Errorf("transcript belongs to folder %q, not the card's folder %q", t, c.Folder)}
	}
	set := s.opt.Settings
	if s.opt.Folders != nil {
		set.Folder = s.opt.Folders.For(c.Folder)
	}
	hash := s.sourceHash(res.Hash, set)
	return s.write(ctx, c, "update card", func(c *card.Card) (*card.Card, Outcome) {
		if !c.Active && !staleClosed(c) && c.SourceHash == "" {
			// Closed without figures by something other than staleness:
			// not the sync's to reopen.
			return nil, Unchanged
		}
		if c.SourceHash == hash {
			return nil, Unchanged
		}
		figures := stats.Compute(res.Transcript, set, c.AttachedTickets)
		if figures.Active && s.opt.NoPartial {
			return nil, Skipped
		}
		next := merge(c, figures, res)
		next.SourceHash = hash
		if figures.Active {
			return next, Updated
		}
		return next, Closed
	})
}

// write stores what next makes of c through the optimistic update. When a
// concurrent writer (a ticket through the API) got there first, it re-reads
// the card and asks next again, so nothing that writer stored is lost. next
// returns nil when there is nothing to write.
func (s *Syncer) write(ctx context.Context, c *card.Card, what string, next func(*card.Card) (*card.Card, Outcome)) (Outcome, error) {
	for attempt := 0; ; attempt++ {
		n, o := next(c)
		if n == nil {
			return o, nil
		}
		n.SyncedAt = s.opt.Now().UTC().Format(time.RFC3339Nano)
		err := s.store.Update(ctx, n)
		if err == nil {
			return o, nil
		}
		if card.ErrorCode(err) != card.ECONFLICT || attempt >= s.opt.Retries {
			return Failed, fmt.Errorf("sync: %s: %w", what, err)
		}
		if c, err = s.store.Get(ctx, c.Folder, c.SessionID); err != nil {
			return Failed, fmt.Errorf("sync: re-read card after a conflict: %w", err)
		}
	}
}

// engineVersion names the card figures the engine computes; bump it when a
// release adds or changes a figure, so the next sync recomputes every card
// whose transcript did not change (otherwise old cards never gain it).
const engineVersion = 2

// sourceHash ties the transcript to the settings it was computed with (the
// engine version, statistics settings and the folder's FOLDERS entry), so a
// change of any of them recomputes the card and nothing else does.
func (s *Syncer) sourceHash(transcriptHash string, set stats.Settings) string {
	folder := ""
	if set.Folder != nil {
		folder = set.Folder.Fingerprint()
	}
	h := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%s|%d|%d|%t|%s", transcriptHash, engineVersion, set.Mode,
		set.IdleThreshold.Milliseconds(), set.AsyncIdleThreshold.Milliseconds(), s.opt.NoPartial, folder))
	return hex.EncodeToString(h[:])
}

// merge returns a copy of stored with the new figures. What the chatbot
// told us at create survives where the transcript is silent: the customer,
// channel and language, and pages it reported (after the transcript's own).
func merge(stored *card.Card, f *stats.Card, res *sources.Result) *card.Card {
	next := *stored
	next.Card = *f
	if next.Customer == "" {
		next.Customer = stored.Customer
	}
	if next.StartTime == "" {
		next.StartTime = stored.StartTime
	}
	next.Pages = appendDistinct(f.Pages, stored.Pages)
	next.ClosedReason = "" // the transcript came: no longer stale
	t := res.Transcript
	if next.Channel == "" {
		next.Channel = t.Channel
	}
	if next.Language == "" {
		next.Language = t.Language
	}
	next.Async = next.Async || t.Async
	next.PlatformFigures = res.Figures
	return &next
}

func appendDistinct(a, b []string) []string {
	out := append(make([]string, 0, len(a)+len(b)), a...)
	for _, s := range b {
		seen := false
		for _, v := range out {
			if v == s {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, s)
		}
	}
	return out
}

// closeStale closes a card whose transcript never came.
func (s *Syncer) closeStale(ctx context.Context, c *card.Card) (Outcome, error) {
	return s.write(ctx, c, "close stale card", func(c *card.Card) (*card.Card, Outcome) {
		if !c.Active {
			return nil, Unchanged // closed meanwhile
		}
		next := *c
		next.Active = false
		next.Status = "closed"
		next.ClosedReason = fmt.Sprintf(staleReason+" no transcript %s after the session started", s.opt.StaleAfter)
		return &next, Stale
	})
}
