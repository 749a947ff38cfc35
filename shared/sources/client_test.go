package sources_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/sources"
)

// The shared client: a POST body goes again on every retry, a platform's
// own reset header is honoured when Retry-After is absent, the body cap
// holds, and a final 4xx comes back to the caller untried.
func TestClientRetriesPOSTWithBody(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if string(b) != `{"chat_id":"X"}` || r.Header.Get("X-Test") != "1" {
			http.Error(w, "body or header lost", http.StatusBadRequest)
			return
		}
		if n.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	clock := newFakeClock()
	c, err := sources.NewClient(clientOpts(clock))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(context.Background(), sources.Call{Method: http.MethodPost, URL: srv.URL, Body: []byte(`{"chat_id":"X"}`),
		Header: http.Header{"X-Test": {"1"}}, What: "test call"})
	if err != nil || resp.Status != 200 || string(resp.Body) != "ok" || n.Load() != 3 {
		t.Fatalf("%+v %v after %d tries", resp, err, n.Load())
	}
	// Full jitter at 0.5: 100 ms then 200 ms.
	if w := clock.waits(); len(w) != 2 || w[0] != 100*time.Millisecond || w[1] != 200*time.Millisecond {
		t.Fatalf("waits %v", w)
	}
}

func TestClientRateLimitResetAndCaps(t *testing.T) {
	clock := newFakeClock()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("X-Reset", strconv.FormatInt(clock.Now().Add(time.Hour).Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusForbidden)
		default:
			_, _ = w.Write([]byte(strings.Repeat("x", 100)))
		}
	}))
	defer srv.Close()
	opt := clientOpts(clock)
	opt.RateLimitReset = func(h http.Header, now time.Time) (time.Duration, bool) {
		s, err := strconv.ParseInt(h.Get("X-Reset"), 10, 64)
		return time.Unix(s, 0).Sub(now), err == nil
	}
	c, _ := sources.NewClient(opt)
	resp, err := c.Do(context.Background(), sources.Call{URL: srv.URL, What: "x"})
	if err != nil || resp.Status != http.StatusForbidden || resp.Body != nil {
		t.Fatalf("%+v %v, want the 403 back after one wait", resp, err)
	}
	if w := clock.waits(); len(w) != 1 || w[0] != 30*time.Second {
		t.Fatalf("waits %v, want the hour capped at 30 s", w)
	}
	resp, err = c.Do(context.Background(), sources.Call{URL: srv.URL, What: "x", MaxBytes: 99})
	if err != nil || !resp.TooLarge || resp.Body != nil {
		t.Fatalf("%+v %v, want too large", resp, err)
	}
	resp, err = c.Do(context.Background(), sources.Call{URL: srv.URL, What: "x", MaxBytes: 100})
	if err != nil || resp.TooLarge || len(resp.Body) != 100 {
		t.Fatalf("%+v %v, want 100 bytes", resp, err)
	}
	if _, err := sources.NewClient(sources.ClientOptions{RPS: -1}); err == nil {
		t.Fatal("a negative RPS was accepted")
	}
}
