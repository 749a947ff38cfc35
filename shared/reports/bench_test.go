package reports_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// genStore makes n synthetic cards page by page as they are listed, so the
// store itself holds nothing and the memory figure is the export's alone.
type genStore struct {
	cardstore.Store
	n, pageSize int
	base        time.Time
	// lines is the chat lines per card, when the chat log is asked for.
	// Customers type one of 5,000 phrases: popular-phrases keeps a count
	// per distinct phrase, so its memory follows the vocabulary, not the
	// sessions (docs/export.md).
	lines int
	// liveEvery > 0 forces a GC every liveEvery pages and keeps the highest
	// heap left after it: the memory the export really holds.
	liveEvery int
	pages     int
	live      uint64
}

func (g *genStore) measure() {
	g.pages++
	if g.liveEvery <= 0 || g.pages%g.liveEvery != 0 {
		return
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	g.live = max(g.live, ms.HeapAlloc)
}

func (g *genStore) ListFolders(context.Context) ([]string, error) { return []string{"load"}, nil }

func (g *genStore) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	g.measure()
	start := 0
	if opt.Cursor != "" {
		start, _ = strconv.Atoi(opt.Cursor)
	}
	end := min(start+g.pageSize, g.n)
	page := cardstore.Page{Cards: make([]*card.Card, 0, end-start)}
	step := 86_400_000 / int64(g.n) // spread over the day, in ms
	for i := start; i < end; i++ {
		at := g.base.Add(time.Duration(int64(i)*step) * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		c := card.New(folder, "sess-"+strconv.Itoa(i), at)
		c.Channel = []string{"web", "whatsapp", "telegram"}[i%3]
		c.Language = "en"
		c.Active, c.Status = false, "closed"
		c.EndTime = at
		c.Customer = "cust-" + strconv.Itoa(i)
		c.SupportPerson = "agent-" + strconv.Itoa(i%50)
		c.Members = []string{c.Customer, c.SupportPerson}
		c.MessageCount = 12
		c.WaitBeforeFirstReplyMs = i64(int64(i % 60000))
		c.RelatedTickets = []string{"INC-" + strconv.Itoa(i)}
		c.Markers = []string{"m" + strconv.Itoa(i%7)}
		c.Statistics = stats.Statistics{
			"csg_SessionEndedBy": stats.Str("CLIENT"), "csg_SessionEndedReason": stats.Str("QUIT"),
			"csg_SessionEndedAgent": stats.Str("PRESENT"), "cse_SessionHandleTotalTime": stats.Num(int64(i % 900)),
		}
		c.ResponseTimes.AgentReply = &stats.Group{Count: 3, TotalMs: 9000, MaxMs: 5000, AvgMs: 3000}
		if opt.WithChatLog && g.lines > 0 {
			c.ChatLog = make([]stats.LogEntry, g.lines)
			for j := range c.ChatLog {
				role, name, text := "customer", "", "hello, I need help with order "+strconv.Itoa((i*7+j)%5000)
				if j%2 == 1 {
					role, name, text = "agent", "Agent "+strconv.Itoa(i%50), "Thanks for waiting, let me check that for you."
				}
				c.ChatLog[j] = stats.LogEntry{At: at, Participant: role + "-" + strconv.Itoa(i), Role: role, Name: name, Text: text}
			}
		}
		page.Cards = append(page.Cards, c)
	}
	if end < g.n {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

// peakHeap samples the heap while f runs (runtime/metrics, which does not
// stop the world) and returns the highest heap-objects figure: live plus
// not yet collected garbage, like HeapAlloc, so it depends on GC pacing.
func peakHeap(f func()) uint64 {
	runtime.GC()
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			peak = max(peak, samples[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return peak
}

func runSessions(tb testing.TB, n int, format string) (time.Duration, uint64, uint64) {
	store := &genStore{n: n, pageSize: 1000, base: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), liveEvery: 25}
	var took time.Duration
	peak := peakHeap(func() {
		start := time.Now()
		ms, err := reports.Export(context.Background(), store, reports.DiscardSink{},
			reports.Selection{Folder: "load", From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{format}}, reports.Options{})
		took = time.Since(start)
		if err != nil {
			tb.Fatal(err)
		}
		if ms[0].Files[0].Rows != int64(n) {
			tb.Fatalf("rows %d, want %d", ms[0].Files[0].Rows, n)
		}
	})
	return took, peak, store.live
}

func BenchmarkExportSessions(b *testing.B) {
	for _, format := range []string{"csv", "parquet"} {
		for _, n := range []int{100_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/sessions=%d", format, n), func(b *testing.B) {
				b.ReportAllocs()
				var took time.Duration
				var peak, live uint64
				for range b.N {
					d, p, l := runSessions(b, n, format)
					took += d
					peak, live = max(peak, p), max(live, l)
				}
				b.ReportMetric(float64(n)*float64(b.N)/took.Seconds(), "rows/s")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(live)/(1<<20), "peak-live-MiB")
			})
		}
	}
}

// TestMemoryStaysFlat exports 100,000 and 1,000,000 sessions in every
// format and holds the peak live heap (measured after forced GCs every 25
// pages) of the larger run within 1.5× of the smaller. It takes a while,
// so it runs only with CHATCARDS_REPORTS_MEMTEST=1. TestTaskMemoryIsFlat
// (memtest_test.go) measures every report group, RSS and /tmp too.
func TestMemoryStaysFlat(t *testing.T) {
	if os.Getenv("CHATCARDS_REPORTS_MEMTEST") != "1" {
		t.Skip("SKIPPING: set CHATCARDS_REPORTS_MEMTEST=1 to measure memory at 1,000,000 sessions")
	}
	for _, format := range reports.Formats() {
		d1, small, liveSmall := runSessions(t, 100_000, format)
		d2, large, liveLarge := runSessions(t, 1_000_000, format)
		mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
		t.Logf("%s: 100k in %v, peak heap %.1f MiB, peak live %.1f MiB; 1M in %v, peak heap %.1f MiB, peak live %.1f MiB (%.0f rows/s)",
			format, d1, mib(small), mib(liveSmall), d2, mib(large), mib(liveLarge), 1e6/d2.Seconds())
		if float64(liveLarge) > 1.5*float64(liveSmall) {
			t.Errorf("%s: live heap grew from %d to %d bytes", format, liveSmall, liveLarge)
		}
	}
}
