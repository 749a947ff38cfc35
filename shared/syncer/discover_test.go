package syncer_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

// Discovery end to end on the reference platform: a folder whose SOURCES
// entry says "discover": true gets a card for every conversation the
// platform lists, filled in the same run; a second run creates none twice;
// a folder without "discover" gets none.
func TestDiscoveryCreatesCardsOnce(t *testing.T) {
	now := t0.Add(time.Hour)
	plat, err := platform.NewServer(platform.ServerOptions{Token: "tok", PageSize: 9, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	ts := platform.Generate(platform.GenerateOptions{N: n, Seed: 5, Start: t0.Add(-2 * time.Hour), Folder: "helpdesk"})
	for _, tr := range ts {
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	others := platform.Generate(platform.GenerateOptions{N: 5, Seed: 6, Start: t0.Add(-2 * time.Hour), Folder: "quiet"})
	for _, tr := range others {
		tr.SessionID = "q-" + tr.SessionID
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(plat)
	defer srv.Close()
	specs, err := sources.ParseSources([]byte(`{"helpdesk": {"kind": "http", "url": "` + srv.URL + `", "token": "tok", "rps": 1000, "discover": true},
		"quiet": {"kind": "http", "url": "` + srv.URL + `", "token": "tok", "rps": 1000}}`))
	if err != nil {
		t.Fatal(err)
	}
	router, err := sources.Open(context.Background(), specs, sources.OpenEnv{})
	if err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	state := syncer.NewMemState()
	s := syncer.New(store, router, syncer.Options{Logger: quiet(), State: state, Now: func() time.Time { return now }})
	sum, err := s.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Discovered != n || sum.Seen != n || sum.Swept != n || sum.Closed+sum.Updated != n {
		t.Fatalf("first run %+v, want %d discovered and synced", sum, n)
	}
	count := func(folder string) int {
		page, err := store.ListByStart(context.Background(), folder, t0.Add(-48*time.Hour), t0.Add(48*time.Hour), cardstore.ListOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Cards)
	}
	if got := count("helpdesk"); got != n {
		t.Fatalf("%d cards, want %d", got, n)
	}
	if got := count("quiet"); got != 0 {
		t.Fatalf("a folder without discover got %d cards", got)
	}
	// Twice: from scratch (a fresh state forgets the watermark, so the
	// whole listing comes again), nothing is created twice.
	s2 := syncer.New(store, router, syncer.Options{Logger: quiet(), State: syncer.NewMemState(), Now: func() time.Time { return now }})
	sum, err = s2.Run(context.Background(), nil)
	if err != nil || sum.Discovered != 0 || count("helpdesk") != n {
		t.Fatalf("second run %+v %v, %d cards", sum, err, count("helpdesk"))
	}
	// The fan-out planner discovers too (nothing new here) and the watermark
	// moved to the first run's start.
	if m, _ := state.Watermark(context.Background(), "helpdesk", syncer.MarkDiscover); !m.Equal(now) {
		t.Fatalf("discovery mark %v, want %v", m, now)
	}
	q := &syncer.MemQueue{}
	plan, err := s.Plan(context.Background(), nil, q)
	if err != nil || plan.Prepass.Discovered != 0 {
		t.Fatalf("plan %+v %v", plan, err)
	}
}
