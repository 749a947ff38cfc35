package syncer_test

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// benchN is the number of sessions (CHATCARDS_SYNC_BENCH_N, default 10,000).
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("CHATCARDS_SYNC_BENCH_N")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// benchSync syncs n generated sessions from the reference platform over
// loopback into store, then writes the same final cards again with the same
// concurrency: the storage floor. It reports both rates and their ratio.
func benchSync(b *testing.B, newStore func(b *testing.B) cardstore.Store) {
	benchSyncOf(b, newStore, true)
}

// benchSyncOf is benchSync with the platform's sweep (the http source is a
// sources.Sweeper: one request a page of 100 transcripts) or card by card.
func benchSyncOf(b *testing.B, newStore func(b *testing.B) cardstore.Store, sweep bool) {
	n := benchN()
	for range b.N {
		b.StopTimer()
		store := newStore(b)
		w := newWorldB(b, store, n)
		if !sweep {
			w.src = fetchOnly{w.src}
		}
		reqs := w.plat.Requests()
		sy := w.syncer()
		b.StartTimer()
		began := time.Now()
		sum, err := sy.Run(context.Background(), nil)
		syncTime := time.Since(began)
		b.StopTimer()
		if err != nil || sum.Failed != 0 || sum.Closed+sum.Updated != n {
			b.Fatalf("sync: %+v %v", sum, err)
		}
		// The floor: the same cards, the same store, the same concurrency.
		var cards []*card.Card
		cursor := ""
		for {
			page, err := store.ListByStart(context.Background(), "helpdesk", t0.Add(-time.Hour), t0.Add(1000*time.Hour), cardstore.ListOptions{Cursor: cursor, Limit: 1000, WithChatLog: true})
			if err != nil {
				b.Fatal(err)
			}
			cards = append(cards, page.Cards...)
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		began = time.Now()
		jobs := make(chan *card.Card)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for c := range jobs {
					if err := store.Update(context.Background(), c); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, c := range cards {
			jobs <- c
		}
		close(jobs)
		wg.Wait()
		floor := time.Since(began)
		b.StartTimer()
		b.ReportMetric(float64(n)/syncTime.Seconds(), "sessions/s")
		b.ReportMetric(float64(w.plat.Requests()-reqs)/float64(n), "platform-requests/session")
		b.ReportMetric(float64(len(cards))/floor.Seconds(), "bare-writes/s")
		b.ReportMetric(syncTime.Seconds()/floor.Seconds()*float64(len(cards))/float64(n), "ratio")
	}
}

func BenchmarkSyncEmbedded(b *testing.B) {
	benchSync(b, func(b *testing.B) cardstore.Store { return memstore.New() })
}

func BenchmarkSyncMoto(b *testing.B) {
	endpoint := testenv.Moto(b)
	benchSync(b, func(b *testing.B) cardstore.Store { return testenv.DynamoStore(b, endpoint) })
}

// BenchmarkSyncEmbeddedFetch is BenchmarkSyncEmbedded card by card.
func BenchmarkSyncEmbeddedFetch(b *testing.B) {
	benchSyncOf(b, func(b *testing.B) cardstore.Store { return memstore.New() }, false)
}

// BenchmarkSyncMotoFetch is BenchmarkSyncMoto card by card.
func BenchmarkSyncMotoFetch(b *testing.B) {
	endpoint := testenv.Moto(b)
	benchSyncOf(b, func(b *testing.B) cardstore.Store { return testenv.DynamoStore(b, endpoint) }, false)
}
