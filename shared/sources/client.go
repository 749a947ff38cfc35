package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ClientOptions configure a Client, the HTTP machinery every platform API
// source shares: a request-rate ceiling, a per-request timeout, retries with
// full-jitter backoff that honour Retry-After, and bounded bodies. Zero
// values take the defaults named.
type ClientOptions struct {
	// Name starts every error ("sources: <name>: ..."), e.g. the kind.
	Name string
	// RPS is the request-rate ceiling shared by every goroutine using the
	// client, retries included (default 20).
	RPS float64
	// Timeout bounds one request, body included (default 10 s).
	Timeout time.Duration
	Client  *http.Client // default: a client without its own timeout
	// MaxRetries is how many times a 429, 5xx or transport error is retried
	// (default 4; negative means none).
	MaxRetries int
	// BackoffBase and BackoffCap shape the full-jitter exponential backoff:
	// attempt n waits a random time in [0, min(cap, base*2^n)) (defaults
	// 200 ms and 10 s).
	BackoffBase, BackoffCap time.Duration
	// MaxRetryAfter caps the wait a Retry-After header asks for, so a
	// platform cannot stall a sync run (default 30 s).
	MaxRetryAfter time.Duration
	// RateLimitReset, when set, reads a platform's own "wait until" header
	// on a 429 or 5xx without Retry-After (Intercom's X-RateLimit-Reset,
	// say); ok false means none. The wait is capped like Retry-After.
	RateLimitReset func(h http.Header, now time.Time) (d time.Duration, ok bool)
	// Rand returns a number in [0,1) for jitter (default math/rand/v2).
	Rand func() float64
	// Now and Sleep are the clock; tests swap them to run without waiting.
	// Sleep must return ctx.Err() early when ctx ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client sends requests to one platform API under ClientOptions. It is safe
// for concurrent use; the rate ceiling holds across all its callers.
type Client struct {
	opt     ClientOptions
	limiter *limiter
}

// NewClient checks the options, fills the defaults and returns the client.
func NewClient(opt ClientOptions) (*Client, error) {
	if opt.Name == "" {
		opt.Name = "http"
	}
	if opt.RPS < 0 || math.IsNaN(opt.RPS) || math.IsInf(opt.RPS, 0) {
		return nil, fmt.Errorf("RPS %v must be a positive number", opt.RPS)
	}
	if opt.RPS == 0 {
		opt.RPS = 20
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Client == nil {
		opt.Client = &http.Client{}
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = 4
	} else if opt.MaxRetries < 0 {
		opt.MaxRetries = 0
	}
	if opt.BackoffBase <= 0 {
		opt.BackoffBase = 200 * time.Millisecond
	}
	if opt.BackoffCap <= 0 {
		opt.BackoffCap = 10 * time.Second
	}
	if opt.MaxRetryAfter <= 0 {
		opt.MaxRetryAfter = 30 * time.Second
	}
	if opt.Rand == nil {
		opt.Rand = rand.Float64
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Sleep == nil {
		opt.Sleep = sleepCtx
	}
	return &Client{opt: opt, limiter: newLimiter(opt.RPS, opt.Now, opt.Sleep)}, nil
}

// Now is the client's clock.
func (c *Client) Now() time.Time { return c.opt.Now() }

// Call is one request. Header carries the credentials; neither it nor the
// URL's query ever reaches an error.
type Call struct {
	Method string // default GET
	URL    string
	Header http.Header
	Body   []byte // sent again on every attempt
	// What names the request in errors ("session 42", "sweep page 3").
	What string
	// MaxBytes caps the body read (default MaxBodyBytes).
	MaxBytes int64
}

// Response is the final answer to a Call. Body is read only for a 2xx
// status; it is nil when TooLarge.
type Response struct {
	Status   int
	Header   http.Header
	Body     []byte
	TooLarge bool
}

// Do sends the call with the rate ceiling and the retries (429, 5xx and
// transport errors; a Retry-After is honoured up to MaxRetryAfter). err is
// set only when no final status was reached (retries spent, ctx ended); any
// final status, 4xx included, is the caller's to judge.
func (c *Client) Do(ctx context.Context, call Call) (Response, error) {
	var last error
	for attempt := 0; ; attempt++ {
		if err := c.limiter.wait(ctx); err != nil {
			return Response{}, fmt.Errorf("sources: %s: %s: %w", c.opt.Name, call.What, err)
		}
		resp, retryAfter, err := c.once(ctx, call)
		if err == nil && resp.Status != http.StatusTooManyRequests && resp.Status < 500 {
			return resp, nil
		}
		if ctx.Err() != nil {
			return Response{}, fmt.Errorf("sources: %s: %s: %w", c.opt.Name, call.What, ctx.Err())
		}
		if err != nil {
			last = err
		} else {
			last = fmt.Errorf("status %d %s", resp.Status, http.StatusText(resp.Status))
		}
		if attempt >= c.opt.MaxRetries {
			return Response{}, fmt.Errorf("sources: %s: %s: giving up after %d attempt(s): %w", c.opt.Name, call.What, attempt+1, last)
		}
		wait := c.backoff(attempt)
		if retryAfter > 0 {
			wait = min(retryAfter, c.opt.MaxRetryAfter)
		}
		if err := c.opt.Sleep(ctx, wait); err != nil {
			return Response{}, fmt.Errorf("sources: %s: %s: %w (last try: %v)", c.opt.Name, call.What, err, last)
		}
	}
}

// backoff is full jitter: a random wait below the capped exponential, so a
// fleet of retrying goroutines spreads out instead of hammering in step.
func (c *Client) backoff(attempt int) time.Duration {
	ceil := c.opt.BackoffCap
	if attempt < 30 {
		if d := c.opt.BackoffBase << attempt; d > 0 && d < ceil {
			ceil = d
		}
	}
	return time.Duration(c.opt.Rand() * float64(ceil))
}

// once is a single request under the per-request timeout. A body cut short
// in transit is a transport error (retried); a complete body that does not
// decode is the caller's business.
func (c *Client) once(ctx context.Context, call Call) (resp Response, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.opt.Timeout)
	defer cancel()
	method := call.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if call.Body != nil {
		body = bytes.NewReader(call.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, call.URL, body)
	if err != nil {
		return Response{}, 0, scrubURLError(err)
	}
	for k, vs := range call.Header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	hr, err := c.opt.Client.Do(req)
	if err != nil {
		return Response{}, 0, scrubURLError(err)
	}
	defer hr.Body.Close()
	if ra := hr.Header.Get("Retry-After"); ra != "" {
		if d, ok := ParseRetryAfter(ra, c.opt.Now()); ok {
			retryAfter = d
		}
	} else if c.opt.RateLimitReset != nil && (hr.StatusCode == http.StatusTooManyRequests || hr.StatusCode >= 500) {
		if d, ok := c.opt.RateLimitReset(hr.Header, c.opt.Now()); ok {
			retryAfter = d
		}
	}
	resp = Response{Status: hr.StatusCode, Header: hr.Header}
	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		// Drain a little so the connection can be reused; the body of an
		// error is not shown (it could echo anything).
		_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 64<<10))
		return resp, retryAfter, nil
	}
	limit := call.MaxBytes
	if limit <= 0 {
		limit = MaxBodyBytes
	}
	var buf bytes.Buffer
	if hr.ContentLength > 0 && hr.ContentLength <= limit {
		buf.Grow(int(hr.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(hr.Body, limit+1))
	if err != nil {
		return Response{}, 0, fmt.Errorf("reading body: %w", scrubURLError(err))
	}
	if n > limit {
		resp.TooLarge = true
		return resp, 0, nil
	}
	resp.Body = buf.Bytes()
	if resp.Body == nil {
		resp.Body = []byte{}
	}
	return resp, 0, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// scrubURLError drops the URL from a *url.Error: the message keeps the
// cause while the URL (which could carry a query string) stays out of logs.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// ParseRetryAfter reads a Retry-After value: delay-seconds or an HTTP-date
// (relative to now). ok is false for anything else. A date in the past is a
// zero wait; absurd values are clamped to one day (callers cap further).
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	const maxWait = 24 * time.Hour
	if v[0] >= '0' && v[0] <= '9' {
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return 0, false
			}
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n > uint64(maxWait/time.Second) {
			return maxWait, true // all digits but huge: still "wait long"
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d = t.Sub(now)
	if d < 0 {
		return 0, true
	}
	return min(d, maxWait), true
}

// limiter is a token bucket with a burst of one: requests are spaced at
// least 1/rps apart across all goroutines, so the ceiling holds in every
// window, not just on average.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

func newLimiter(rps float64, now func() time.Time, sleep func(context.Context, time.Duration) error) *limiter {
	return &limiter{interval: time.Duration(float64(time.Second) / rps), now: now, sleep: sleep}
}

// wait reserves the next slot and sleeps until it. A caller whose ctx ends
// while waiting gives up its slot only if no later slot was handed out.
func (l *limiter) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.now()
	slot := l.next
	if slot.Before(now) {
		slot = now
	}
	l.next = slot.Add(l.interval)
	l.mu.Unlock()
	if d := slot.Sub(now); d > 0 {
		if err := l.sleep(ctx, d); err != nil {
			l.mu.Lock()
			if l.next.Equal(slot.Add(l.interval)) {
				l.next = slot
			}
			l.mu.Unlock()
			return err
		}
	}
	return nil
}
