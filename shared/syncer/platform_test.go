package syncer_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/testenv"
	"github.com/chatcards/chatcards/shared/transcript"
)

// world is a reference platform with generated sessions, and a store with
// one card per session plus cards the platform does not know yet.
type world struct {
	store   cardstore.Store
	plat    *platform.Server
	src     sources.Source
	ts      []*transcript.Transcript
	ended   int
	running int
	unknown int
}

func newWorld(t *testing.T, store cardstore.Store, n int) *world { return newWorldB(t, store, n) }

func newWorldB(t testing.TB, store cardstore.Store, n int) *world {
	t.Helper()
	plat, err := platform.NewServer(platform.ServerOptions{Token: "sync-test", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(plat)
	t.Cleanup(srv.Close)
	src, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: "sync-test", RPS: 1e6,
		BackoffBase: time.Millisecond, BackoffCap: 10 * time.Millisecond, MaxRetries: 6})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: store, plat: plat, src: src, unknown: 3}
	w.ts = platform.Generate(platform.GenerateOptions{N: n, Seed: 11, Start: t0})
	ctx := context.Background()
	for _, tr := range w.ts {
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
		started := transcript.FormatMillis(tr.Events[0].At)
		if _, _, err := store.Create(ctx, card.New("helpdesk", tr.SessionID, started)); err != nil {
			t.Fatal(err)
		}
		if hasEnded(tr) {
			w.ended++
		} else {
			w.running++
		}
	}
	for i := range w.unknown {
		id := "w-unknown-" + string(rune('a'+i))
		if _, _, err := store.Create(ctx, card.New("helpdesk", id, transcript.FormatMillis(t0.UnixMilli()))); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func hasEnded(t *transcript.Transcript) bool {
	for _, e := range t.Events {
		if e.Type == transcript.EventEnded {
			return true
		}
	}
	return false
}

func (w *world) syncer() *syncer.Syncer {
	return syncer.New(w.store, w.src, syncer.Options{Now: func() time.Time { return t0.Add(time.Hour) }, Logger: quiet()})
}

// fetchOnly hides the http source's sweep, so a run fetches card by card.
type fetchOnly struct{ src sources.Source }

func (f fetchOnly) Fetch(ctx context.Context, r sources.Request) (sources.Result, error) {
	return f.src.Fetch(ctx, r)
}

func runSync(t *testing.T, s *syncer.Syncer) syncer.Summary {
	t.Helper()
	sum, err := s.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum.Duration = 0
	return sum
}

// platformScenarios run twice: with the platform's sweep (the http source
// is a sources.Sweeper) and card by card (fetchOnly); the outcomes must be
// the same, only Swept tells the paths apart.
func platformScenarios(t *testing.T, newStore func(t *testing.T) cardstore.Store) {
	for _, sweep := range []bool{true, false} {
		t.Run(map[bool]string{true: "sweep", false: "fetch"}[sweep], func(t *testing.T) {
			platformScenariosOf(t, newStore, sweep)
		})
	}
}

func platformScenariosOf(t *testing.T, newStore0 func(t *testing.T) cardstore.Store, sweep bool) {
	const n = 40
	mkWorld := func(t *testing.T, store cardstore.Store, n int) *world {
		w := newWorld(t, store, n)
		if !sweep {
			w.src = fetchOnly{w.src}
		}
		return w
	}
	swept := func(k int) int {
		if sweep {
			return k
		}
		return 0
	}
	newStore := newStore0
	t.Run("clean", func(t *testing.T) {
		w := mkWorld(t, newStore(t), n)
		sum := runSync(t, w.syncer())
		want := syncer.Summary{Seen: n + w.unknown, Closed: w.ended, Updated: w.running, NotYet: w.unknown, Swept: swept(n)}
		if sum != want {
			t.Fatalf("summary %+v, want %+v", sum, want)
		}
		// Idempotent: the second run writes nothing (a fresh syncer: its
		// sweep starts from scratch and meets the closed cards again).
		sum = runSync(t, w.syncer())
		if want := (syncer.Summary{Seen: w.running + w.unknown, Unchanged: w.running, NotYet: w.unknown, Swept: swept(w.running)}); sum != want {
			t.Fatalf("second run %+v, want %+v", sum, want)
		}
		// A running session ends on the platform: the next run closes it.
		for _, tr := range w.ts {
			if !hasEnded(tr) {
				if err := w.plat.Advance(tr.SessionID, platform.CloseEvents(tr)...); err != nil {
					t.Fatal(err)
				}
			}
		}
		sum = runSync(t, w.syncer())
		if sum.Closed != w.running || sum.Failed != 0 {
			t.Fatalf("after the platform closed the running sessions: %+v", sum)
		}
	})
	faults := []struct {
		name   string
		faults platform.Faults
		check  func(t *testing.T, w *world, sum syncer.Summary)
	}{
		{"errors 30%", platform.Faults{ErrorRate: 0.3}, func(t *testing.T, w *world, sum syncer.Summary) {
			// Retried: at most a rare session runs out of retries.
			if sum.Failed > 2 || sum.Closed+sum.Updated+sum.Failed != n {
				t.Fatalf("%+v", sum)
			}
		}},
		{"latency", platform.Faults{Latency: 20 * time.Millisecond}, func(t *testing.T, w *world, sum syncer.Summary) {
			if sum.Closed != w.ended || sum.Failed != 0 {
				t.Fatalf("%+v", sum)
			}
		}},
		{"429 burst", platform.Faults{Burst429: 5, RetryAfter: time.Second}, func(t *testing.T, w *world, sum syncer.Summary) {
			if sum.Closed != w.ended || sum.Failed != 0 {
				t.Fatalf("%+v", sum)
			}
		}},
		{"truncated bodies", platform.Faults{TruncateRate: 1}, func(t *testing.T, w *world, sum syncer.Summary) {
			if sweep { // the reference server spoils transcript responses, not sweep pages
				if sum.Closed != w.ended || sum.Failed != 0 || sum.Swept != n {
					t.Fatalf("%+v", sum)
				}
				return
			}
			if sum.Failed != n || sum.BadTranscript != n || sum.NotYet != w.unknown {
				t.Fatalf("%+v", sum)
			}
		}},
		{"garbled bodies", platform.Faults{GarbleRate: 1}, func(t *testing.T, w *world, sum syncer.Summary) {
			if sweep {
				if sum.Closed != w.ended || sum.Failed != 0 || sum.Swept != n {
					t.Fatalf("%+v", sum)
				}
				return
			}
			if sum.Failed+sum.Closed+sum.Updated != n || sum.BadTranscript == 0 {
				t.Fatalf("%+v", sum)
			}
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			w := mkWorld(t, newStore(t), n)
			w.plat.SetFaults(f.faults)
			sum := runSync(t, w.syncer())
			if sum.Seen != n+w.unknown {
				t.Fatalf("seen %d, want %d", sum.Seen, n+w.unknown)
			}
			f.check(t, w, sum)
			// Failed sessions stay active and are retried: with the platform
			// healthy again, the next run finishes every one of them.
			w.plat.SetFaults(platform.Faults{})
			runSync(t, w.syncer())
			page, err := w.store.ListActive(context.Background(), "helpdesk", cardstore.ListOptions{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cards) != w.running+w.unknown {
				t.Fatalf("%d active cards after recovery, want %d", len(page.Cards), w.running+w.unknown)
			}
		})
	}
}

func TestSyncWithPlatformEmbedded(t *testing.T) {
	platformScenarios(t, func(t *testing.T) cardstore.Store { return memstore.New() })
}

func TestSyncWithPlatformMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	platformScenarios(t, func(t *testing.T) cardstore.Store { return testenv.DynamoStore(t, endpoint) })
}
