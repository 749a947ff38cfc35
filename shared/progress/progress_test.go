package progress_test

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/progress"
)

// fakeClock is advanced by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// syncBuffer is a bytes.Buffer safe for the reporter's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSpace(s.b.String()), "\n")
}

func TestLinesWithKnownTotal(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)}
	var out syncBuffer
	r := progress.Start(&out, "sync", "sessions", 100000, progress.Options{Now: clock.now, Ticks: make(chan time.Time)})
	clock.add(10 * time.Second)
	r.Add(12000)
	r.Print()
	clock.add(10 * time.Second)
	r.Add(13000)
	r.Print()
	clock.add(60 * time.Second)
	r.Add(75000)
	r.Stop()
	r.Stop() // a second Stop prints nothing more
	r.Print()
	want := []string{
		"sync: 12,000/100,000 sessions (12%), 1,200/s, 10s, about 1m13s left",
		"sync: 25,000/100,000 sessions (25%), 1,250/s, 20s, about 1m0s left",
		"sync: 100,000/100,000 sessions, 1,250/s, done in 1m20s",
	}
	if got := out.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestGrowingAndUnknownTotal(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var out syncBuffer
	r := progress.Start(&out, "export", "cards", 0, progress.Options{Now: clock.now, Ticks: make(chan time.Time)})
	clock.add(500 * time.Millisecond)
	r.Print()
	r.AddTotal(500)
	r.Add(100)
	clock.add(1500 * time.Millisecond)
	r.Print()
	r.AddTotal(200)
	r.Final()
	r.Add(600)
	clock.add(2 * time.Second)
	r.Print()
	r.Stop()
	want := []string{
		"export: 0 cards, 0/s, 500ms",
		"export: 100/500+ cards, 50/s, 2s",
		"export: 700/700 cards (100%), 175/s, 4s",
		"export: 700/700 cards, 175/s, done in 4s",
	}
	if got := out.lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Ticks drive the lines: one per tick, none after Stop.
func TestTicksPrint(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	var out syncBuffer
	ticks := make(chan time.Time)
	r := progress.Start(&out, "demo", "sessions", 10, progress.Options{Now: clock.now, Ticks: ticks})
	for i := range 3 {
		clock.add(time.Second)
		r.Add(int64(i + 1))
		ticks <- clock.now() // unbuffered: the reporter has taken it
		waitLines(t, &out, i+1)
	}
	r.Stop()
	got := out.lines()
	if len(got) != 4 {
		t.Fatalf("%d lines, want 3 ticks and the closing line:\n%s", len(got), strings.Join(got, "\n"))
	}
	if !strings.HasPrefix(got[3], "demo: 6/10 sessions") || !strings.Contains(got[3], "done in 3s") {
		t.Errorf("closing line %q", got[3])
	}
}

// waitLines waits for the reporter's goroutine to have printed n lines.
func waitLines(t *testing.T, out *syncBuffer, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.mu.Lock()
		got := strings.Count(out.b.String(), "\n")
		out.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lines after 10s, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// The real ticker prints without being driven (a run that stalls is not
// silent); checked with a short interval, waiting for at least one line.
func TestRealTicker(t *testing.T) {
	var out syncBuffer
	r := progress.Start(&out, "x", "items", 0, progress.Options{Every: 5 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for len(out.lines()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	r.Stop()
	if n := len(out.lines()); n < 3 {
		t.Errorf("%d lines, want at least two ticks and the closing line", n)
	}
}

func TestNilReporter(t *testing.T) {
	r := progress.Start(nil, "x", "items", 1, progress.Options{})
	if r != nil {
		t.Fatal("Start(nil writer) is not nil")
	}
	// Every method is a no-op on nil.
	r.Add(1)
	r.AddTotal(1)
	r.SetTotal(1)
	r.Final()
	r.Print()
	r.Stop()
}

func TestIsTerminal(t *testing.T) {
	if progress.IsTerminal(&bytes.Buffer{}) {
		t.Error("a buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if progress.IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
