package sources_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/transcript"
)

const token = "s3cret-token-never-shown"

// fakeClock moves only when slept on, so backoff and Retry-After waits are
// recorded instead of spent.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	frozen bool // sleeps are recorded but time stands still
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if !c.frozen {
		c.now = c.now.Add(d)
	}
	return nil
}

// waits are the sleeps of a millisecond or more: the limiter's sub-ms
// spacing at a huge RPS is left out.
func (c *fakeClock) waits() []time.Duration {
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

type fixture struct {
	plat  *platform.Server
	srv   *httptest.Server
	ts    []*transcript.Transcript
	clock *fakeClock
}

func newFixture(t *testing.T, n int, f platform.Faults) *fixture {
	t.Helper()
	plat, err := platform.NewServer(platform.ServerOptions{Token: token, Faults: f, Seed: 7, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts := platform.Generate(platform.GenerateOptions{N: n, Seed: 42})
	for _, tr := range ts {
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(plat)
	t.Cleanup(srv.Close)
	return &fixture{plat: plat, srv: srv, ts: ts, clock: newFakeClock()}
}

// source is an http source on the fake clock with a ceiling high enough to
// stay out of the way, unless opt says otherwise.
func (fx *fixture) source(t *testing.T, opt sources.HTTPOptions) *sources.HTTP {
	t.Helper()
	opt.BaseURL = fx.srv.URL
	if opt.Token == "" {
		opt.Token = token
	}
	if opt.RPS == 0 {
		opt.RPS = 1e6
	}
	if opt.Now == nil {
		opt.Now, opt.Sleep = fx.clock.Now, fx.clock.Sleep
	}
	if opt.Client == nil {
		opt.Client = fx.srv.Client()
	}
	h, err := sources.NewHTTP(opt)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func req(id string) sources.Request {
	return sources.Request{Folder: "helpdesk", SessionID: id, StartedAt: time.Now()}
}

func noToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), token) {
		t.Fatalf("error shows the token: %v", err)
	}
}

func TestHTTPFetch(t *testing.T) {
	fx := newFixture(t, 3, platform.Faults{})
	h := fx.source(t, sources.HTTPOptions{})
	want := fx.ts[1]
	res, err := h.Fetch(context.Background(), req(want.SessionID))
	if err != nil {
		t.Fatal(err)
	}
	if res.Transcript.SessionID != want.SessionID || len(res.Transcript.Events) != len(want.Events) {
		t.Fatalf("got %s with %d events, want %s with %d", res.Transcript.SessionID, len(res.Transcript.Events), want.SessionID, len(want.Events))
	}
	body, _ := transcript.Encode(want)
	sum := sha256.Sum256(body)
	if res.Hash != hex.EncodeToString(sum[:]) {
		t.Fatalf("hash %s is not the sha256 of the served body", res.Hash)
	}
	// The same transcript hashes the same; an advanced one does not.
	again, err := h.Fetch(context.Background(), req(want.SessionID))
	if err != nil || again.Hash != res.Hash {
		t.Fatalf("second fetch: %v, hash %s vs %s", err, again.Hash, res.Hash)
	}
}

func TestHTTPAdvanceChangesHash(t *testing.T) {
	fx := newFixture(t, 0, platform.Faults{})
	running := platform.Generate(platform.GenerateOptions{N: 1, Seed: 3, Kinds: []platform.Kind{platform.KindRunning}})[0]
	if err := fx.plat.Put(running); err != nil {
		t.Fatal(err)
	}
	h := fx.source(t, sources.HTTPOptions{})
	first, err := h.Fetch(context.Background(), req(running.SessionID))
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.plat.Advance(running.SessionID, platform.CloseEvents(running)...); err != nil {
		t.Fatal(err)
	}
	second, err := h.Fetch(context.Background(), req(running.SessionID))
	if err != nil {
		t.Fatal(err)
	}
	if second.Hash == first.Hash {
		t.Fatal("hash unchanged after the session advanced")
	}
	if platform.KindOf(first.Transcript) != platform.KindRunning || platform.KindOf(second.Transcript) == platform.KindRunning {
		t.Fatalf("kinds %v then %v: want running then ended", platform.KindOf(first.Transcript), platform.KindOf(second.Transcript))
	}
}

func TestHTTPNotFound(t *testing.T) {
	fx := newFixture(t, 1, platform.Faults{})
	_, err := fx.source(t, sources.HTTPOptions{}).Fetch(context.Background(), req("w-unknown"))
	if !errors.Is(err, sources.ErrNotYet) {
		t.Fatalf("err = %v, want ErrNotYet", err)
	}
	if got := fx.plat.Requests(); got != 1 {
		t.Fatalf("%d requests, want 1 (a 404 is not retried)", got)
	}
}

func TestHTTPRetriesUnderErrorRate(t *testing.T) {
	fx := newFixture(t, 30, platform.Faults{ErrorRate: 0.4})
	// A fixed jitter keeps every backoff above the 1 ms the count filters on.
	h := fx.source(t, sources.HTTPOptions{MaxRetries: 12, Rand: func() float64 { return 0.5 }})
	for _, tr := range fx.ts {
		if _, err := h.Fetch(context.Background(), req(tr.SessionID)); err != nil {
			t.Fatalf("%s: %v", tr.SessionID, err)
		}
	}
	if got := fx.plat.Requests(); got <= 30 {
		t.Fatalf("%d requests for 30 sessions at a 40%% error rate: no retries happened", got)
	}
	if len(fx.clock.waits()) != int(fx.plat.Requests())-30 {
		t.Fatalf("%d backoff waits for %d retries", len(fx.clock.waits()), fx.plat.Requests()-30)
	}
}

func TestHTTPBackoffIsCappedAndJittered(t *testing.T) {
	fx := newFixture(t, 1, platform.Faults{ErrorRate: 1})
	h := fx.source(t, sources.HTTPOptions{MaxRetries: 4, BackoffBase: 100 * time.Millisecond, BackoffCap: 300 * time.Millisecond, Rand: func() float64 { return 0.5 }})
	_, err := h.Fetch(context.Background(), req(fx.ts[0].SessionID))
	if err == nil || !strings.Contains(err.Error(), "giving up after 5 attempt(s)") || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want giving up after 5 attempts with the 500", err)
	}
	if sources.IsBadTranscript(err) || errors.Is(err, sources.ErrNotYet) {
		t.Fatalf("a platform failure classified as bad transcript / not yet: %v", err)
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond}
	if got := fx.clock.waits(); !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	if fx.plat.Requests() != 5 {
		t.Fatalf("%d requests, want 5", fx.plat.Requests())
	}
}

func TestHTTPHonoursRetryAfter(t *testing.T) {
	fx := newFixture(t, 1, platform.Faults{Burst429: 3, RetryAfter: 7 * time.Second})
	h := fx.source(t, sources.HTTPOptions{})
	if _, err := h.Fetch(context.Background(), req(fx.ts[0].SessionID)); err != nil {
		t.Fatal(err)
	}
	if got, want := fx.clock.waits(), []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second}; !slices.Equal(got, want) {
		t.Fatalf("waits %v, want %v", got, want)
	}
	if fx.plat.Requests() != 4 {
		t.Fatalf("%d requests, want 4", fx.plat.Requests())
	}
}

func TestHTTPRetryAfterIsCapped(t *testing.T) {
	fx := newFixture(t, 1, platform.Faults{Burst429: 1, RetryAfter: 2 * time.Hour})
	h := fx.source(t, sources.HTTPOptions{MaxRetryAfter: 5 * time.Second})
	if _, err := h.Fetch(context.Background(), req(fx.ts[0].SessionID)); err != nil {
		t.Fatal(err)
	}
	if got := fx.clock.waits(); !slices.Equal(got, []time.Duration{5 * time.Second}) {
		t.Fatalf("waits %v, want [5s]", got)
	}
}

func TestHTTPOtherStatusFailsWithoutRetry(t *testing.T) {
	for _, status := range []int{http.StatusForbidden, http.StatusBadRequest, http.StatusGone} {
		var n int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++
			http.Error(w, "nope "+r.Header.Get("Authorization"), status)
		}))
		h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: token, Client: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = h.Fetch(context.Background(), req("w-1"))
		srv.Close()
		if err == nil || errors.Is(err, sources.ErrNotYet) || sources.IsBadTranscript(err) {
			t.Fatalf("status %d: err = %v, want a platform failure", status, err)
		}
		if !strings.Contains(err.Error(), "w-1") || !strings.Contains(err.Error(), http.StatusText(status)) {
			t.Fatalf("status %d: error %q names neither session nor status", status, err)
		}
		noToken(t, err)
		if n != 1 {
			t.Fatalf("status %d: %d requests, want 1", status, n)
		}
	}
}

func TestHTTPWrongToken(t *testing.T) {
	fx := newFixture(t, 1, platform.Faults{})
	_, err := fx.source(t, sources.HTTPOptions{Token: "wrong"}).Fetch(context.Background(), req(fx.ts[0].SessionID))
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want a 401 failure", err)
	}
	if fx.plat.Requests() != 1 {
		t.Fatalf("%d requests, want 1", fx.plat.Requests())
	}
}

func TestHTTPDamagedBodiesAreBadTranscripts(t *testing.T) {
	for name, f := range map[string]platform.Faults{"truncated": {TruncateRate: 1}, "garbled": {GarbleRate: 1}} {
		t.Run(name, func(t *testing.T) {
			fx := newFixture(t, 5, f)
			h := fx.source(t, sources.HTTPOptions{})
			for _, tr := range fx.ts {
				_, err := h.Fetch(context.Background(), req(tr.SessionID))
				if !sources.IsBadTranscript(err) {
					t.Fatalf("%s: err = %v, want a bad transcript", tr.SessionID, err)
				}
			}
			if fx.plat.Requests() != 5 {
				t.Fatalf("%d requests, want 5 (a bad body is not retried)", fx.plat.Requests())
			}
		})
	}
}

func TestHTTPSessionMismatchIsBadTranscript(t *testing.T) {
	fx := newFixture(t, 2, platform.Faults{})
	body, _ := transcript.Encode(fx.ts[1])
	fx.plat.PutRaw(fx.ts[0].SessionID, body)
	_, err := fx.source(t, sources.HTTPOptions{}).Fetch(context.Background(), req(fx.ts[0].SessionID))
	if !sources.IsBadTranscript(err) || !strings.Contains(err.Error(), fx.ts[1].SessionID) {
		t.Fatalf("err = %v, want a bad transcript naming the other session", err)
	}
}

func TestHTTPPerRequestTimeout(t *testing.T) {
	fx := newFixture(t, 1, platform.Faults{Latency: 3 * time.Second})
	h := fx.source(t, sources.HTTPOptions{Timeout: 50 * time.Millisecond, MaxRetries: 1})
	start := time.Now()
	_, err := h.Fetch(context.Background(), req(fx.ts[0].SessionID))
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v: the per-request timeout did not cut the wait", el)
	}
	if fx.plat.Requests() != 2 {
		t.Fatalf("%d requests, want 2 (a timeout is retried once)", fx.plat.Requests())
	}
}

func TestHTTPContextCancel(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		fx := newFixture(t, 1, platform.Faults{Latency: 5 * time.Second})
		h := fx.source(t, sources.HTTPOptions{})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := h.Fetch(ctx, req(fx.ts[0].SessionID))
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Fatalf("err = %v after %v, want the ctx's error quickly", err, time.Since(start))
		}
	})
	t.Run("while backing off", func(t *testing.T) {
		fx := newFixture(t, 1, platform.Faults{Burst429: 5, RetryAfter: 30 * time.Second})
		h := fx.source(t, sources.HTTPOptions{Now: time.Now}) // real sleep
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		_, err := h.Fetch(ctx, req(fx.ts[0].SessionID))
		if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
			t.Fatalf("err = %v after %v, want context.Canceled quickly", err, time.Since(start))
		}
		if !strings.Contains(err.Error(), "429") {
			t.Fatalf("error %q does not say what was being retried", err)
		}
	})
}

func TestHTTPRateCeilingFakeClock(t *testing.T) {
	fx := newFixture(t, 5, platform.Faults{})
	h := fx.source(t, sources.HTTPOptions{RPS: 2})
	for _, tr := range fx.ts {
		if _, err := h.Fetch(context.Background(), req(tr.SessionID)); err != nil {
			t.Fatal(err)
		}
	}
	// Five requests at 2/s: the first goes at once, then four half-second gaps.
	var total time.Duration
	for _, d := range fx.clock.sleeps {
		total += d
	}
	if total != 2*time.Second {
		t.Fatalf("slept %v in all, want 2s (sleeps %v)", total, fx.clock.sleeps)
	}
}

// TestHTTPRateCeilingReservations checks the shared bucket exactly: with
// time frozen, 40 requests from 4 goroutines must reserve 40 distinct
// slots one interval apart, whatever the interleaving.
func TestHTTPRateCeilingReservations(t *testing.T) {
	fx := newFixture(t, 40, platform.Faults{})
	fx.clock.frozen = true
	h := fx.source(t, sources.HTTPOptions{RPS: 10})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(fx.ts); i += 4 {
				if _, err := h.Fetch(context.Background(), req(fx.ts[i].SessionID)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got := slices.Clone(fx.clock.sleeps)
	slices.Sort(got)
	if len(got) != 39 {
		t.Fatalf("%d limiter waits, want 39", len(got))
	}
	for i, d := range got {
		if want := time.Duration(i+1) * 100 * time.Millisecond; d != want {
			t.Fatalf("wait %d is %v, want %v (all: %v)", i, d, want, got)
		}
	}
}

// TestHTTPRateCeilingConcurrent checks the ceiling on the real clock across
// goroutines.
func TestHTTPRateCeilingConcurrent(t *testing.T) {
	fx := newFixture(t, 40, platform.Faults{})
	var mu sync.Mutex
	var starts []time.Time
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		starts = append(starts, time.Now())
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
	const rps = 50
	h := fx.source(t, sources.HTTPOptions{RPS: rps, Client: client, Now: time.Now})
	begin := time.Now()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(fx.ts); i += 4 {
				if _, err := h.Fetch(context.Background(), req(fx.ts[i].SessionID)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if el, min := time.Since(begin), 39*time.Second/rps; el < min-5*time.Millisecond {
		t.Fatalf("40 requests in %v, faster than %v allowed at %d/s", el, min, rps)
	}
	// Observed start times jitter with scheduling on a busy machine, so
	// only the sound bound is checked here (the reservations test above
	// checks the spacing exactly): 40 slots at 50/s span at least 780 ms,
	// and every request went through the transport.
	if len(starts) != 40 {
		t.Fatalf("%d requests, want 40", len(starts))
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestHTTPSweep(t *testing.T) {
	fx := newFixture(t, 250, platform.Faults{})
	fx.plat.PutRaw("w-broken", []byte(`{"version":1,"sessionId":"w-broken","participants":[],"events":[]}`))
	fx.plat.PutRaw("w-notjson", []byte(`<html>oops`))
	h := fx.source(t, sources.HTTPOptions{})
	seen := map[string]int{}
	err := h.Sweep(context.Background(), time.Time{}, func(r sources.Result) error {
		seen[r.Transcript.SessionID]++
		if r.Hash == "" {
			t.Error("sweep result without a hash")
		}
		return nil
	})
	if !sources.IsBadTranscript(err) || !strings.Contains(err.Error(), "w-broken") {
		t.Fatalf("err = %v, want the bad transcripts joined", err)
	}
	if len(seen) != 250 {
		t.Fatalf("swept %d sessions, want 250", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s swept %d times", id, n)
		}
	}
	if fx.plat.Requests() != 3 {
		t.Fatalf("%d requests, want 3 pages", fx.plat.Requests())
	}

	// Only what changed since a point in time comes back.
	mark := time.Now()
	time.Sleep(5 * time.Millisecond)
	running := platform.Generate(platform.GenerateOptions{N: 1, Seed: 9, Kinds: []platform.Kind{platform.KindRunning}})[0]
	running.SessionID = "w-late"
	if err := fx.plat.Put(running); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := h.Sweep(context.Background(), mark, func(r sources.Result) error {
		got = append(got, r.Transcript.SessionID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"w-late"}) {
		t.Fatalf("swept %v since the mark, want [w-late]", got)
	}
}

func TestHTTPSweepUnsupported(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	err = h.Sweep(context.Background(), time.Time{}, func(sources.Result) error { return nil })
	if !errors.Is(err, sources.ErrSweepUnsupported) {
		t.Fatalf("err = %v, want ErrSweepUnsupported", err)
	}
}

func TestNewHTTPRejectsBadOptions(t *testing.T) {
	for name, opt := range map[string]sources.HTTPOptions{
		"no url":       {Token: "t"},
		"relative url": {BaseURL: "platform.local", Token: "t"},
		"ftp":          {BaseURL: "ftp://x", Token: "t"},
		"no token":     {BaseURL: "http://x"},
		"negative rps": {BaseURL: "http://x", Token: "t", RPS: -1},
	} {
		if _, err := sources.NewHTTP(opt); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: "http://x", Token: "t"}); err != nil {
		t.Fatal(err)
	}
	h, _ := sources.NewHTTP(sources.HTTPOptions{BaseURL: "http://x", Token: "t"})
	if _, err := h.Fetch(context.Background(), req("../etc/passwd")); err == nil {
		t.Fatal("a session id with slashes was requested")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"99999999999999999999999", 24 * time.Hour, true},
		{"Sat, 21 Nov 2026 10:00:30 GMT", 30 * time.Second, true},
		{"Sat, 21 Nov 2026 09:00:00 GMT", 0, true},
		{"Saturday, 21-Nov-26 10:01:00 GMT", time.Minute, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := sources.ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "7", "120", "Sat, 21 Nov 2026 10:00:30 GMT", "Sun Nov  6 08:49:37 1994", "-1", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := sources.ParseRetryAfter(s, now)
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v, outside [0, 24h]", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v with ok=false", s, d)
		}
	})
}
