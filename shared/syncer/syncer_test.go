package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/transcript"
)

// t0 is derived from the real clock: several tests run the syncer on
// time.Now, and a fixed date would turn their cards stale once it is a week
// old. Tests that need a precise "now" inject one relative to t0.
var t0 = time.Now().UTC().Truncate(time.Hour).Add(-24 * time.Hour)

// fakeSource serves transcripts from a map; errs override per session.
type fakeSource struct {
	mu    sync.Mutex
	ts    map[string]*transcript.Transcript
	errs  map[string]error
	delay time.Duration
	calls atomic.Int64
}

func (f *fakeSource) Fetch(ctx context.Context, r sources.Request) (sources.Result, error) {
	f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return sources.Result{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs[r.SessionID]; err != nil {
		return sources.Result{}, err
	}
	t, ok := f.ts[r.SessionID]
	if !ok {
		return sources.Result{}, sources.ErrNotYet
	}
	b, err := transcript.Encode(t)
	if err != nil {
		return sources.Result{}, err
	}
	cp, err := transcript.DecodeV1(b)
	if err != nil {
		return sources.Result{}, err
	}
	return sources.Result{Transcript: cp, Hash: sources.HashDocs(b)}, nil
}

func (f *fakeSource) put(t *transcript.Transcript) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ts == nil {
		f.ts = map[string]*transcript.Transcript{}
	}
	f.ts[t.SessionID] = t
}

// chat builds a transcript: n customer/agent lines, ended when closed.
func chat(id string, n int, closed bool) *transcript.Transcript {
	t := &transcript.Transcript{Version: 1, SessionID: id, Channel: "web", Participants: []transcript.Participant{
		{ID: "c1", Role: transcript.RoleCustomer, Person: "person/1"},
		{ID: "a1", Role: transcript.RoleAgent, Name: "Ann", Person: "person/7"},
	}}
	ms := t0.UnixMilli()
	t.Events = append(t.Events, transcript.Event{At: ms, Type: transcript.EventStarted},
		transcript.Event{At: ms + 1000, Type: transcript.EventJoined, Participant: "a1"})
	for i := 0; i < n; i++ {
		who := "c1"
		if i%2 == 1 {
			who = "a1"
		}
		t.Events = append(t.Events, transcript.Event{At: ms + int64(2000+i*500), Type: transcript.EventMessage, Participant: who, Text: fmt.Sprintf("line %d ✓", i)})
	}
	if closed {
		t.Events = append(t.Events, transcript.Event{At: ms + int64(3000+n*500), Type: transcript.EventEnded, Participant: "a1"})
	}
	if err := t.Normalize(); err != nil {
		panic(err)
	}
	return t
}

func newCard(t *testing.T, s cardstore.Store, folder, id string, started time.Time) {
	t.Helper()
	c := card.New(folder, id, transcript.FormatMillis(started.UnixMilli()))
	if _, _, err := s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s cardstore.Store, folder, id string) *card.Card {
	t.Helper()
	c, err := s.Get(context.Background(), folder, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func TestRunCountsAndIdempotence(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	src := &fakeSource{errs: map[string]error{
		"broken": errors.New("platform said 500"),
		"bad":    &sources.BadTranscriptError{SessionID: "bad", Err: errors.New("events[2].at: bad time")},
	}}
	now := t0.Add(2 * time.Hour)
	for _, id := range []string{"done", "running", "unknown", "broken", "bad"} {
		newCard(t, store, "helpdesk", id, t0)
	}
	newCard(t, store, "other", "elsewhere", t0)
	src.put(chat("done", 6, true))
	src.put(chat("running", 4, false))
	src.put(chat("elsewhere", 2, true))
	sy := syncer.New(store, src, syncer.Options{Now: func() time.Time { return now }, Logger: quiet()})

	sum, err := sy.Run(ctx, []string{"helpdesk"})
	if err != nil {
		t.Fatal(err)
	}
	want := syncer.Summary{Seen: 5, Updated: 1, Closed: 1, NotYet: 1, Failed: 2, BadTranscript: 1}
	sum.Duration = 0
	if sum != want {
		t.Fatalf("first run %+v, want %+v", sum, want)
	}
	done := get(t, store, "helpdesk", "done")
	if done.Active || done.Status != "closed" || done.MessageCount != 6 || done.SupportPerson != "person/7" {
		t.Errorf("closed card: active %v status %s messages %d support %q", done.Active, done.Status, done.MessageCount, done.SupportPerson)
	}
	if running := get(t, store, "helpdesk", "running"); !running.Active || running.MessageCount != 4 {
		t.Errorf("running card: active %v messages %d", running.Active, running.MessageCount)
	}
	if other := get(t, store, "other", "elsewhere"); !other.Active || other.MessageCount != 0 {
		t.Errorf("a run for one folder touched another: %+v", other.Card)
	}

	// Unchanged transcripts: nothing is written the second time.
	before := get(t, store, "helpdesk", "running").Version
	sum, _ = sy.Run(ctx, []string{"helpdesk"})
	sum.Duration = 0
	if want := (syncer.Summary{Seen: 4, Unchanged: 1, NotYet: 1, Failed: 2, BadTranscript: 1}); sum != want {
		t.Fatalf("second run %+v, want %+v", sum, want)
	}
	if v := get(t, store, "helpdesk", "running").Version; v != before {
		t.Errorf("unchanged transcript bumped the version %d -> %d", before, v)
	}

	// The transcript changed between two runs; all folders this time.
	src.put(chat("running", 10, true))
	sum, _ = sy.Run(ctx, nil)
	if sum.Closed != 2 || sum.Seen != 5 {
		t.Fatalf("third run %+v", sum)
	}
	if c := get(t, store, "helpdesk", "running"); c.Active || c.MessageCount != 10 {
		t.Errorf("changed transcript not applied: active %v messages %d", c.Active, c.MessageCount)
	}
}

func TestStaleClosing(t *testing.T) {
	store := memstore.New()
	newCard(t, store, "f", "old", t0)
	newCard(t, store, "f", "young", t0.Add(6*24*time.Hour))
	now := t0.Add(7*24*time.Hour + time.Minute)
	sy := syncer.New(store, &fakeSource{}, syncer.Options{Now: func() time.Time { return now }, Logger: quiet()})
	sum, err := sy.Run(context.Background(), nil)
	if err != nil || sum.Stale != 1 || sum.NotYet != 1 {
		t.Fatalf("summary %+v, err %v", sum, err)
	}
	old := get(t, store, "f", "old")
	if old.Active || old.Status != "closed" || old.ClosedReason == "" {
		t.Errorf("stale card: active %v status %q reason %q", old.Active, old.Status, old.ClosedReason)
	}
	if !get(t, store, "f", "young").Active {
		t.Error("a card younger than STALE_AFTER was closed")
	}
}

func TestNoPartial(t *testing.T) {
	store := memstore.New()
	newCard(t, store, "f", "running", t0)
	src := &fakeSource{}
	src.put(chat("running", 3, false))
	sy := syncer.New(store, src, syncer.Options{NoPartial: true, Logger: quiet()})
	sum, _ := sy.Run(context.Background(), nil)
	if sum.Skipped != 1 || get(t, store, "f", "running").MessageCount != 0 {
		t.Fatalf("partial figures written with partial off: %+v", sum)
	}
}

// ticketDuringSync attaches a ticket through the store right before the
// sync's first update, as the API would while the sync is writing.
type ticketDuringSync struct {
	cardstore.Store
	once sync.Once
}

func (s *ticketDuringSync) Update(ctx context.Context, c *card.Card) error {
	s.once.Do(func() {
		if _, err := s.Store.AttachTicket(ctx, c.Folder, c.SessionID, "INC-API"); err != nil {
			panic(err)
		}
	})
	return s.Store.Update(ctx, c)
}

func TestTicketAttachedDuringSyncSurvives(t *testing.T) {
	mem := memstore.New()
	newCard(t, mem, "f", "s1", t0)
	src := &fakeSource{}
	tr := chat("s1", 4, true)
	tr.Events = append(tr.Events, transcript.Event{At: t0.UnixMilli() + 2100, Type: transcript.EventTicket, Ticket: "INC-CHAT"})
	if err := tr.Normalize(); err != nil {
		t.Fatal(err)
	}
	src.put(tr)
	sum, err := syncer.New(&ticketDuringSync{Store: mem}, src, syncer.Options{Logger: quiet()}).Run(context.Background(), nil)
	if err != nil || sum.Closed != 1 {
		t.Fatalf("summary %+v err %v", sum, err)
	}
	c := get(t, mem, "f", "s1")
	if fmt.Sprint(c.RelatedTickets) != "[INC-CHAT INC-API]" {
		t.Errorf("relatedTickets = %v, want the chat's ticket then the API's", c.RelatedTickets)
	}
}

// TestDeadlineStopsAndNextRunResumes stops a run at its deadline without
// depending on the machine's speed: the syncer's clock advances a minute per
// fetch, and the deadline (an hour away on the wall clock, so no fetch is
// ever cut short) minus the margin leaves ten minutes of that clock.
func TestDeadlineStopsAndNextRunResumes(t *testing.T) {
	store := memstore.New()
	src := &fakeSource{}
	for i := range 40 {
		id := fmt.Sprintf("s%02d", i)
		newCard(t, store, "f", id, t0)
		src.put(chat(id, 2, true))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	clock := func() time.Time { return t0.Add(time.Duration(src.calls.Load()) * time.Minute) }
	sy := syncer.New(store, src, syncer.Options{Concurrency: 2, Margin: 50 * time.Minute, Now: clock, Logger: quiet()})
	sum, err := sy.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Stopped || sum.Closed < 5 || sum.Closed > 15 || sum.Failed != 0 {
		t.Fatalf("first run %+v: want a clean early stop after about ten sessions", sum)
	}
	// Nothing half-written: every card is either untouched or fully closed.
	page, _ := store.ListActive(context.Background(), "f", cardstore.ListOptions{Limit: 100})
	for _, c := range page.Cards {
		if c.MessageCount != 0 || c.SourceHash != "" {
			t.Fatalf("active card %s carries figures", c.SessionID)
		}
	}
	first := sum.Closed
	sum, _ = sy.Run(context.Background(), nil)
	if sum.Closed != 40-first || sum.Stopped {
		t.Fatalf("second run closed %d, want %d", sum.Closed, 40-first)
	}
}

func TestLargeSession(t *testing.T) {
	store := memstore.New()
	newCard(t, store, "f", "big", t0)
	src := &fakeSource{}
	src.put(chat("big", 5000, true))
	sum, _ := syncer.New(store, src, syncer.Options{Logger: quiet()}).Run(context.Background(), nil)
	if sum.Closed != 1 {
		t.Fatalf("%+v", sum)
	}
	c := get(t, store, "f", "big")
	if c.MessageCount != 5000 || len(c.ChatLog) != 5000 || c.ChatLog[4999].Text != "line 4999 ✓" {
		t.Errorf("5,000-message chat log did not round-trip: %d lines", len(c.ChatLog))
	}
}

func TestSyncOne(t *testing.T) {
	store := memstore.New()
	newCard(t, store, "a", "x", t0)
	newCard(t, store, "b", "y", t0)
	sy := syncer.New(store, &fakeSource{}, syncer.Options{Logger: quiet()})
	tr := chat("y", 2, true)
	// The folder is given (the one the object's source is bound to); the
	// card of another folder is not looked for.
	if _, ok, err := sy.SyncOne(context.Background(), "a", "y", &sources.Result{Transcript: tr, Hash: "h"}); ok || err != nil {
		t.Fatalf("SyncOne found y in folder a: %v %v", ok, err)
	}
	o, ok, err := sy.SyncOne(context.Background(), "b", "y", &sources.Result{Transcript: tr, Hash: "h"})
	if err != nil || !ok || o != syncer.Closed {
		t.Fatalf("SyncOne = %v %v %v", o, ok, err)
	}
	if get(t, store, "b", "y").Active {
		t.Error("card not closed")
	}
	if _, ok, _ := sy.SyncOne(context.Background(), "b", "nope", &sources.Result{Transcript: chat("nope", 1, true)}); ok {
		t.Error("found a card that does not exist")
	}
}
