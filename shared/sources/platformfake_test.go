package sources_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/sources"
)

// The fakes of the Zendesk Chat, Chatwoot and Rocket.Chat APIs share this
// part: injected faults (a status, with a Retry-After, for the next calls to
// a path), a log of the calls, and a clock that records waits instead of
// spending them.

// apiClock moves only when slept on.
type apiClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newAPIClock() *apiClock {
	return &apiClock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
}

func (c *apiClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *apiClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// waits are the sleeps of a millisecond or more (the limiter's spacing at
// a huge rps is left out).
func (c *apiClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, d := range c.sleeps {
		if d >= time.Millisecond {
			out = append(out, d)
		}
	}
	return out
}

// testClient is the client options of a unit test: no real waits, retries
// quick, the fake's clock.
func testClient(c *apiClock) sources.ClientOptions {
	return sources.ClientOptions{RPS: 1e6, Now: c.Now, Sleep: c.Sleep, BackoffBase: time.Millisecond, BackoffCap: 5 * time.Millisecond}
}

type fault struct {
	prefix     string // path prefix the fault applies to
	status     int
	retryAfter string
}

// fakeBase is embedded by each platform fake.
type fakeBase struct {
	mu     sync.Mutex
	faults []fault
	calls  []string
}

// fail makes the next n calls under prefix answer status.
func (f *fakeBase) fail(prefix string, n, status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.faults = append(f.faults, fault{prefix: prefix, status: status, retryAfter: retryAfter})
	}
}

// intercept logs the call and answers an injected fault when one matches.
func (f *fakeBase) intercept(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.URL.Path)
	for i, ft := range f.faults {
		if strings.HasPrefix(r.URL.Path, ft.prefix) {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
			if ft.retryAfter != "" {
				w.Header().Set("Retry-After", ft.retryAfter)
			}
			http.Error(w, `{"error":"injected"}`, ft.status)
			return true
		}
	}
	return false
}

func (f *fakeBase) callCount(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// fixture reads a platform fixture of the formats package as a generic
// JSON object.
func loadFixture(t testing.TB, rel string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "formats", "testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func fixtureBytes(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "formats", "testdata", rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clone deep-copies a generic JSON value.
func clone[T any](t testing.TB, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// secret strings the fakes' credentials are made of; no error may show one.
const (
	apiTokenA = "tok-A-never-shown-0001"
	apiTokenB = "tok-B-never-shown-0002"
	apiBadTok = "tok-wrong-never-shown-0003"
)

func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{apiTokenA, apiTokenB, apiBadTok} {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("error shows a credential: %v", err)
		}
	}
}
