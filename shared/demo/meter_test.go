package demo_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/demo"
	"github.com/chatcards/chatcards/shared/progress"
)

type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// The meter closes every long step with its count of the run's total, so a
// run of 100,000 sessions reports where it is. Ticks never fire here: only
// the closing lines are printed, which makes the output exact.
func TestDemoMeter(t *testing.T) {
	var meter lockedBuilder
	clock := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	s, err := demo.Run(context.Background(), demo.Options{Store: memstore.New(), Out: t.TempDir(), Sessions: 40, Seed: 5,
		Day: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Meter: &meter,
		MeterOptions: progress.Options{Now: func() time.Time { return clock }, Ticks: make(chan time.Time)}})
	if err != nil {
		t.Fatal(err)
	}
	still := s.FirstSync.Seen - s.FirstSync.Closed - s.FirstSync.Stale
	want := []string{
		"chatbot: createChatSession: 40/40 sessions, 0/s, done in 0s",
		"sync #1: 40/40 sessions, 0/s, done in 0s",
		fmt.Sprintf("sync #2: %d/%d sessions, 0/s, done in 0s", still, still),
		"export: 40/40 cards read, 0/s, done in 0s",
	}
	if got := strings.TrimSpace(meter.b.String()); got != strings.Join(want, "\n") {
		t.Errorf("meter:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if still == 0 {
		t.Error("no session left for the second sync: the test does not cover its total")
	}
}
