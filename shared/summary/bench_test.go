package summary

import (
	"strconv"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/card"
)

// BenchmarkDay folds a busy day of 10,000 sessions (three waits each).
func BenchmarkDay(b *testing.B) {
	cards := make([]*card.Card, 10_000)
	for i := range cards {
		start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 8 * time.Second)
		cards[i] = mk("s-"+strconv.Itoa(i), start.Format("2006-01-02T15:04:05.000Z"),
			agent("p"+strconv.Itoa(i%40), "Agent"), level("met"), first(int64(i%120_000)), waits(int64(i), 2*int64(i), 3), rated(1+i%5))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d, _ := NewDay("f", "2026-11-20", time.UTC, time.Minute)
		for _, c := range cards {
			if err := d.Add(c); err != nil {
				b.Fatal(err)
			}
		}
		_ = d.Result()
	}
	b.ReportMetric(float64(len(cards))*float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}
