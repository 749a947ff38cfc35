package sources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/transcript"
)

// The vendor fakes: each platform's API as an httptest server, with the
// faults every fetcher must survive injected in front of it (a refused
// credential, 429 with Retry-After, 5xx), and a suite every vendor source
// runs through.

// vFault is one injected answer, served instead of the real one.
type vFault struct {
	status     int
	retryAfter string
}

// vFake wraps a platform handler with auth, injected faults and a request log.
type vFake struct {
	mu       sync.Mutex
	auth     func(r *http.Request) bool
	faults   []vFault
	requests []string // "METHOD path"
	inner    http.Handler
	srv      *httptest.Server
	// refused is the status of refused credentials (default 401).
	refused int
}

func newVFake(t testing.TB, auth func(*http.Request) bool, inner http.Handler) *vFake {
	f := &vFake{auth: auth, inner: inner}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *vFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	var fault *vFault
	if len(f.faults) > 0 {
		fault = &f.faults[0]
		f.faults = f.faults[1:]
	}
	f.mu.Unlock()
	if fault != nil {
		if fault.retryAfter != "" {
			w.Header().Set("Retry-After", fault.retryAfter)
		}
		http.Error(w, `{"error": "injected"}`, fault.status)
		return
	}
	if f.auth != nil && !f.auth(r) {
		status := f.refused
		if status == 0 {
			status = http.StatusUnauthorized
		}
		http.Error(w, `{"error": "unauthorized"}`, status)
		return
	}
	f.inner.ServeHTTP(w, r)
}

func (f *vFake) inject(fs ...vFault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, fs...)
}

func (f *vFake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *vFake) URL() string { return f.srv.URL }

// writeJSON answers v as JSON.

func readFixture(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile("../formats/testdata/" + path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonMap decodes b into a generic value (tests only: the fakes reshape
// fixtures).
func jsonAny(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vHarness is what the shared suite needs of one vendor.
type vHarness struct {
	kind string
	fake *vFake
	// open builds the source on the fake with the given token and clock.
	open func(t *testing.T, token string, clock *fakeClock) sources.Source
	// id is a conversation the fake serves; want is the platform file the
	// fetcher must assemble for it, decoded by decode.
	id     string
	want   []byte
	decode func([]byte) (*formats.Decoded, error)
	// misroute makes the fake answer another conversation (of another
	// tenant) when id is asked for; it returns the undo.
	misroute func() func()
	// minRequests is the least number of requests one fetch takes (paging).
	minRequests int
	// refused is the status the platform gives refused credentials.
	refused string
}

func vReq(id string) sources.Request {
	return sources.Request{Folder: "helpdesk", SessionID: id, StartedAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}
}

// vendorSuite drives a vendor source through its fake.
func vendorSuite(t *testing.T, h vHarness) {
	ctx := context.Background()
	wantDec, err := h.decode(h.want)
	if err != nil {
		t.Fatalf("the expected file does not decode: %v", err)
	}
	wantT, _ := transcript.Encode(wantDec.Transcript)

	t.Run("fetch", func(t *testing.T) {
		src := h.open(t, token, newFakeClock())
		before := h.fake.count()
		res, err := src.Fetch(ctx, vReq(h.id))
		if err != nil {
			t.Fatal(err)
		}
		if n := h.fake.count() - before; n < h.minRequests {
			t.Fatalf("%d requests, want at least %d (every page)", n, h.minRequests)
		}
		got, _ := transcript.Encode(res.Transcript)
		if diff := cmp.Diff(string(wantT), string(got)); diff != "" {
			t.Fatalf("transcript differs from the decoded platform file (-want +got):\n%s", diff)
		}
		if res.Hash != sources.HashDocs(h.want) {
			t.Fatalf("hash %s is not the hash of the assembled file", res.Hash)
		}
		if !bytes.Equal(res.Figures, wantDec.Figures) {
			t.Fatalf("figures %s, want %s", res.Figures, wantDec.Figures)
		}
		again, err := src.Fetch(ctx, vReq(h.id))
		if err != nil || again.Hash != res.Hash {
			t.Fatalf("second fetch: hash %s vs %s, %v", again.Hash, res.Hash, err)
		}
	})
	t.Run("refused credentials", func(t *testing.T) {
		src := h.open(t, "wrong-"+token, newFakeClock())
		_, err := src.Fetch(ctx, vReq(h.id))
		if err == nil || errors.Is(err, sources.ErrNotYet) || sources.IsBadTranscript(err) {
			t.Fatalf("err = %v, want a platform failure", err)
		}
		refused := h.refused
		if refused == "" {
			refused = "401"
		}
		for _, w := range []string{h.kind, "helpdesk", refused} {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("error %q does not name %q", err, w)
			}
		}
		if strings.Contains(err.Error(), "wrong-"+token) || strings.Contains(err.Error(), token) {
			t.Fatalf("error shows the token: %v", err)
		}
	})
	t.Run("429 Retry-After honoured", func(t *testing.T) {
		clock := newFakeClock()
		src := h.open(t, token, clock)
		h.fake.inject(vFault{status: 429, retryAfter: "7"}, vFault{status: 429, retryAfter: "3"})
		if _, err := src.Fetch(ctx, vReq(h.id)); err != nil {
			t.Fatal(err)
		}
		w := clock.waits()
		if len(w) < 2 || w[0] != 7*time.Second || w[1] != 3*time.Second {
			t.Fatalf("waits %v, want 7s then 3s as Retry-After asked", w)
		}
	})
	t.Run("5xx retried", func(t *testing.T) {
		src := h.open(t, token, newFakeClock())
		h.fake.inject(vFault{status: 500}, vFault{status: 503}, vFault{status: 502})
		before := h.fake.count()
		if _, err := src.Fetch(ctx, vReq(h.id)); err != nil {
			t.Fatal(err)
		}
		if n := h.fake.count() - before; n < h.minRequests+3 {
			t.Fatalf("%d requests: the 5xx were not retried", n)
		}
	})
	t.Run("5xx forever gives up", func(t *testing.T) {
		src := h.open(t, token, newFakeClock())
		for range 10 {
			h.fake.inject(vFault{status: 500})
		}
		_, err := src.Fetch(ctx, vReq(h.id))
		h.fake.mu.Lock()
		h.fake.faults = nil
		h.fake.mu.Unlock()
		if err == nil || !strings.Contains(err.Error(), "giving up") || sources.IsBadTranscript(err) {
			t.Fatalf("err = %v, want giving up", err)
		}
	})
	t.Run("404 is not yet", func(t *testing.T) {
		src := h.open(t, token, newFakeClock())
		_, err := src.Fetch(ctx, vReq("no-such-conversation-1"))
		if !errors.Is(err, sources.ErrNotYet) {
			t.Fatalf("err = %v, want ErrNotYet", err)
		}
	})
	t.Run("another tenant's conversation refused", func(t *testing.T) {
		src := h.open(t, token, newFakeClock())
		undo := h.misroute()
		defer undo()
		_, err := src.Fetch(ctx, vReq(h.id))
		if !sources.IsBadTranscript(err) {
			t.Fatalf("err = %v, want a bad transcript", err)
		}
	})
	t.Run("bad session id", func(t *testing.T) {
		src := h.open(t, token, newFakeClock())
		before := h.fake.count()
		if _, err := src.Fetch(ctx, vReq("../../admin")); err == nil {
			t.Fatal("a session id with slashes was sent")
		}
		if h.fake.count() != before {
			t.Fatal("a request went out for an invalid session id")
		}
	})
}

// clientOpts are fast, deterministic client options on clock.
func clientOpts(clock *fakeClock) sources.ClientOptions {
	return sources.ClientOptions{RPS: 1e6, Now: clock.Now, Sleep: clock.Sleep, Rand: func() float64 { return 0.5 }, MaxRetries: 4}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func decoder(t testing.TB, name string) func([]byte) (*formats.Decoded, error) {
	f, ok := formats.Lookup(name)
	if !ok {
		t.Fatalf("format %s is not registered", name)
	}
	return f.Decode
}

// vWriteJSON answers v as the vendor APIs do: compact, no trailing newline
// (the fetchers embed answers byte for byte, so the hash depends on it).
func vWriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
