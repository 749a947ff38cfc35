package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/transcript"
)

// DefaultRPS is the http source's request-rate ceiling when none is set.
const DefaultRPS = 20

// MaxBodyBytes caps a transcript response: a 5,000-message transcript is
// about 1 MiB, so anything past this is a platform fault, not a chat.
const MaxBodyBytes = 64 << 20

// HTTPOptions configure the http source. Zero values take the defaults named.
type HTTPOptions struct {
	BaseURL string // e.g. https://chat.example.com (a path prefix is kept)
	Token   string // bearer token; never logged nor put in an error
	// RPS is the request-rate ceiling shared by every goroutine using the
	// source, retries included (default 20).
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
	// Rand returns a number in [0,1) for jitter (default math/rand/v2).
	Rand func() float64
	// Now and Sleep are the clock; tests swap them to run without waiting.
	// Sleep must return ctx.Err() early when ctx ends.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// HTTP is the chat platform history API source.
type HTTP struct {
	base   *url.URL
	opt    HTTPOptions
	client *Client
}

var _ Source = (*HTTP)(nil)

// NewHTTP checks the options and returns the source.
func NewHTTP(opt HTTPOptions) (*HTTP, error) {
	if opt.BaseURL == "" {
		return nil, errors.New("sources.NewHTTP: BaseURL is required")
	}
	u, err := url.Parse(opt.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("sources.NewHTTP: BaseURL %q is not an absolute http(s) URL", opt.BaseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if opt.Token == "" {
		return nil, errors.New("sources.NewHTTP: Token is required")
	}
	c, err := NewClient(ClientOptions{Name: "http", RPS: opt.RPS, Timeout: opt.Timeout, Client: opt.Client,
		MaxRetries: opt.MaxRetries, BackoffBase: opt.BackoffBase, BackoffCap: opt.BackoffCap,
		MaxRetryAfter: opt.MaxRetryAfter, Rand: opt.Rand, Now: opt.Now, Sleep: opt.Sleep})
	if err != nil {
		return nil, fmt.Errorf("sources.NewHTTP: %w", err)
	}
	return &HTTP{base: u, opt: opt, client: c}, nil
}

// Fetch gets one session's transcript. 404 gives ErrNotYet; 429, 5xx and
// transport errors are retried; any other status fails this session only.
func (h *HTTP) Fetch(ctx context.Context, r Request) (Result, error) {
	if !transcript.ValidSessionID(r.SessionID) {
		return Result{}, fmt.Errorf("sources: http: session id %q is not a valid session id", r.SessionID)
	}
	u := *h.base
	u.Path = h.base.Path + "/v1/sessions/" + r.SessionID + "/transcript"
	if r.Folder != "" {
		// The platform answers only that folder's transcript (404 for
		// another tenant's session of the same id); the sync checks the
		// transcript's tenant as well, for platforms that ignore it.
		u.RawQuery = url.Values{"folder": {r.Folder}}.Encode()
	}
	body, status, err := h.get(ctx, u.String(), "session "+r.SessionID)
	if err != nil {
		return Result{}, err
	}
	switch {
	case status == http.StatusNotFound:
		return Result{}, fmt.Errorf("session %s: %w", r.SessionID, ErrNotYet)
	case status != http.StatusOK:
		return Result{}, fmt.Errorf("sources: http: GET transcript of session %s: status %d %s", r.SessionID, status, http.StatusText(status))
	}
	if body == nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("response is larger than %d bytes", MaxBodyBytes))
	}
	t, err := transcript.DecodeV1(body)
	if err != nil {
		return Result{}, badTranscript(r.SessionID, err)
	}
	if err := checkSession(r.SessionID, t); err != nil {
		return Result{}, err
	}
	return Result{Transcript: t, Hash: HashDocs(body)}, nil
}

// get does one GET with the rate ceiling and the retries. It returns the
// final status with its body (nil body when over MaxBodyBytes); err is set
// only when no final status was reached (retries spent, ctx ended).
func (h *HTTP) get(ctx context.Context, u, what string) ([]byte, int, error) {
	resp, err := h.client.Do(ctx, Call{URL: u, What: what, Header: http.Header{"Authorization": {"Bearer " + h.opt.Token}}})
	if err != nil {
		return nil, 0, err
	}
	if resp.Status != http.StatusOK {
		return nil, resp.Status, nil
	}
	return resp.Body, resp.Status, nil
}

// ErrSweepUnsupported means the platform has no transcripts listing (404).
var ErrSweepUnsupported = errors.New("sources: http: the platform offers no transcript sweep")

// sweepPage is one page of GET /v1/transcripts.
type sweepPage struct {
	Transcripts []json.RawMessage `json:"transcripts"`
	Next        string            `json:"next"`
}

// maxSweepPages stops a platform whose cursor never ends from looping a
// sync run until its deadline.
const maxSweepPages = 100000

// Sweep walks GET /v1/transcripts?updatedSince=…&cursor=… and calls fn with
// every transcript updated since the given time, one page at a time. A
// transcript that does not decode does not stop the sweep: fn is not called
// for it and a BadTranscriptError for it is part of the returned error
// (errors.Join) once the sweep is complete. A page that fails after retries,
// or an error from fn, stops the sweep at once. A 404 on the listing gives
// ErrSweepUnsupported.
func (h *HTTP) Sweep(ctx context.Context, since time.Time, fn func(Result) error) error {
	return h.SweepFolder(ctx, "", since, fn)
}

// SweepFolder is Sweep for one folder's transcripts: it sends ?folder= as
// the transcript request does, and refuses (as a bad transcript, without
// calling fn) an item whose tenant is set and is not folder. An empty folder
// sweeps everything the token may see.
func (h *HTTP) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	var bad []error
	cursor := ""
	for page := 0; ; page++ {
		if page >= maxSweepPages {
			return fmt.Errorf("sources: http: sweep: more than %d pages, the cursor never ends", maxSweepPages)
		}
		u := *h.base
		u.Path = h.base.Path + "/v1/transcripts"
		q := url.Values{"updatedSince": {since.UTC().Format(time.RFC3339Nano)}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if folder != "" {
			q.Set("folder", folder)
		}
		u.RawQuery = q.Encode()
		body, status, err := h.get(ctx, u.String(), fmt.Sprintf("sweep page %d", page+1))
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusNotFound:
			return ErrSweepUnsupported
		case status != http.StatusOK:
			return fmt.Errorf("sources: http: sweep page %d: status %d %s", page+1, status, http.StatusText(status))
		case body == nil:
			return fmt.Errorf("sources: http: sweep page %d: larger than %d bytes", page+1, MaxBodyBytes)
		}
		var p sweepPage
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("sources: http: sweep page %d: %w", page+1, err)
		}
		for i, raw := range p.Transcripts {
			t, err := transcript.DecodeV1(raw)
			if err != nil {
				bad = append(bad, badTranscript(sweepItemID(raw, page, i), err))
				continue
			}
			if folder != "" && t.Tenant != "" && t.Tenant != folder {
				bad = append(bad, badTranscript(t.SessionID, fmt.Errorf("transcript belongs to folder %q, not %q", t.Tenant, folder)))
				continue
			}
			if err := fn(Result{Transcript: t, Hash: HashDocs(raw)}); err != nil {
				return err
			}
		}
		if p.Next == "" {
			return errors.Join(bad...)
		}
		if p.Next == cursor {
			return fmt.Errorf("sources: http: sweep page %d: the cursor did not move", page+1)
		}
		cursor = p.Next
	}
}

// sweepItemID names an undecodable sweep item by its sessionId when it has a
// readable one, else by its place in the sweep.
func sweepItemID(raw []byte, page, i int) string {
	var probe struct {
		SessionID string `json:"sessionId"`
	}
	if json.Unmarshal(raw, &probe) == nil && transcript.ValidSessionID(probe.SessionID) {
		return probe.SessionID
	}
	return fmt.Sprintf("(sweep page %d item %d)", page+1, i)
}
