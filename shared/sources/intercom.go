package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/strictjson"
)

// Intercom reads conversations from the Intercom REST API: GET
// /conversations/{id} is the very file formats.DecodeIntercom reads;
// Discover (and the sweep) walk POST /conversations/search on updated_at,
// paged by starting_after. Calls and vendor pages: docs/sources/intercom.md.

// KindIntercom is the SOURCES kind of the Intercom source.
const KindIntercom = "intercom"

func init() {
	Register(KindIntercom, func() Settings { return &IntercomSettings{} })
}

// IntercomDefaultURL is the US region's API host (EU: https://api.eu.intercom.io,
// AU: https://api.au.intercom.io).
const IntercomDefaultURL = "https://api.intercom.io"

// IntercomVersion is the API version the decoder was written against.
const IntercomVersion = "2.11"

// intercomPageSize is the search's maximum page size.
const intercomPageSize = 150

// IntercomSettings are the "intercom" kind's SOURCES keys.
type IntercomSettings struct {
	URL          string `json:"url"`         // API host, default https://api.intercom.io
	Token        string `json:"token"`       // access token (Bearer)
	TokenSecret  string `json:"tokenSecret"` // Secrets Manager name of the token
	RateSettings `json:",inline"`
}

// Check validates the keys.
func (s *IntercomSettings) Check() error {
	if s.URL != "" {
		if _, err := checkBaseURL("url", s.URL); err != nil {
			return err
		}
	}
	if err := checkSecretPair("token", s.Token, "tokenSecret", s.TokenSecret); err != nil {
		return err
	}
	return s.RateSettings.check()
}

// Open reads the token secret when one is named and builds the source.
func (s *IntercomSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	tok, err := resolveSecret(ctx, env, "tokenSecret", s.Token, s.TokenSecret)
	if err != nil {
		return nil, err
	}
	// Intercom allows 10,000 calls a minute per app, spread over 10-second
	// windows; 10 a second leaves room for the app's other users.
	return NewIntercom(IntercomOptions{URL: s.URL, Token: tok, Client: s.RateSettings.clientOptions(KindIntercom, 10, env)})
}

// IntercomOptions configure NewIntercom.
type IntercomOptions struct {
	URL    string // default IntercomDefaultURL
	Token  string // never logged nor put in an error
	Client ClientOptions
}

// IntercomSource is the Intercom source.
type IntercomSource struct {
	base  string
	token string
	c     *Client
}

var (
	_ Source     = (*IntercomSource)(nil)
	_ Discoverer = (*IntercomSource)(nil)
	_ Sweeper    = (*IntercomSource)(nil)
)

// NewIntercom checks the options and returns the source.
func NewIntercom(o IntercomOptions) (*IntercomSource, error) {
	if o.URL == "" {
		o.URL = IntercomDefaultURL
	}
	base, err := checkBaseURL("url", o.URL)
	if err != nil {
		return nil, fmt.Errorf("sources.NewIntercom: %w", err)
	}
	if o.Token == "" {
		return nil, errors.New("sources.NewIntercom: token is required")
	}
	if o.Client.Name == "" {
		o.Client.Name = KindIntercom
	}
	if o.Client.RateLimitReset == nil {
		o.Client.RateLimitReset = intercomReset
	}
	c, err := NewClient(o.Client)
	if err != nil {
		return nil, fmt.Errorf("sources.NewIntercom: %w", err)
	}
	return &IntercomSource{base: base, token: o.Token, c: c}, nil
}

// intercomReset reads X-RateLimit-Reset, the Unix second the rate window
// resets, which Intercom sends with its 429 instead of Retry-After.
func intercomReset(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("X-RateLimit-Reset")
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	d := time.Unix(n, 0).Sub(now)
	if d < 0 {
		return 0, true
	}
	return min(d, 24*time.Hour), true
}

func (s *IntercomSource) call(ctx context.Context, folder, method, u string, body []byte, what string) ([]byte, int, error) {
	h := http.Header{"Authorization": {"Bearer " + s.token}, "Intercom-Version": {IntercomVersion}}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	resp, err := s.c.Do(ctx, Call{Method: method, URL: u, Body: body, What: inFolder(folder, what), Header: h})
	if err != nil {
		return nil, 0, err
	}
	if resp.Status == http.StatusOK && resp.TooLarge {
		return nil, 0, fmt.Errorf("sources: intercom: folder %s: %s: larger than %d bytes", folderName(folder), what, MaxBodyBytes)
	}
	return resp.Body, resp.Status, nil
}

// Fetch gets one conversation (HTML bodies: no display_as=plaintext).
func (s *IntercomSource) Fetch(ctx context.Context, r Request) (Result, error) {
	if !validID(r.SessionID) {
		return Result{}, fmt.Errorf("sources: intercom: session id %q is not a valid session id", r.SessionID)
	}
	what := "conversation " + r.SessionID
	body, status, err := s.call(ctx, r.Folder, http.MethodGet, s.base+"/conversations/"+url.PathEscape(r.SessionID), nil, what)
	switch {
	case err != nil:
		return Result{}, err
	case status == http.StatusNotFound:
		return Result{}, fmt.Errorf("%s: %w", what, ErrNotYet)
	case status != http.StatusOK:
		return Result{}, vendorStatusError(KindIntercom, r.Folder, what, status)
	}
	return vendorResult(r.SessionID, body, formats.DecodeIntercom)
}

// icSearchPage is one answer of POST /conversations/search.
type icSearchPage struct {
	Type          string `json:"type"`
	Conversations []struct {
		ID        string `json:"id"`
		CreatedAt *int64 `json:"created_at"`
		UpdatedAt *int64 `json:"updated_at"`
	} `json:"conversations"`
	Pages *struct {
		Next *struct {
			StartingAfter *string `json:"starting_after"`
		} `json:"next"`
	} `json:"pages"`
}

// ParseIntercomSearchPage reads a search answer strictly: the conversations
// it lists and the cursor of the next page ("" on the last).
func ParseIntercomSearchPage(b []byte) (items []Discovered, next string, err error) {
	var p icSearchPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, "", fmt.Errorf("search answer: %w", err)
	}
	if p.Type != "conversation.list" {
		return nil, "", fmt.Errorf("search answer: type: %q is not conversation.list", p.Type)
	}
	for i, c := range p.Conversations {
		if !validID(c.ID) {
			return nil, "", fmt.Errorf("search answer: conversations[%d].id: %q is not a valid session id", i, c.ID)
		}
		d := Discovered{SessionID: c.ID}
		if c.CreatedAt != nil {
			if *c.CreatedAt < 0 || *c.CreatedAt > 1<<40 {
				return nil, "", fmt.Errorf("search answer: conversations[%d].created_at: %d is not a Unix time", i, *c.CreatedAt)
			}
			d.StartedAt = time.Unix(*c.CreatedAt, 0).UTC()
		}
		items = append(items, d)
	}
	if p.Pages != nil && p.Pages.Next != nil && p.Pages.Next.StartingAfter != nil {
		next = *p.Pages.Next.StartingAfter
	}
	return items, next, nil
}

// Discover lists the conversations updated since (search on updated_at
// ">", which Intercom documents as "greater or equal"), paged by
// starting_after. The search promises no order, so each id is given once
// per walk whatever page repeats it.
func (s *IntercomSource) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	seen := map[string]bool{}
	cursor := ""
	for n := 1; ; n++ {
		if n > maxVendorPages {
			return fmt.Errorf("sources: intercom: discover: more than %d search pages", maxVendorPages)
		}
		pag := map[string]any{"per_page": intercomPageSize}
		if cursor != "" {
			pag["starting_after"] = cursor
		}
		body, err := json.Marshal(map[string]any{
			"query":      map[string]any{"field": "updated_at", "operator": ">", "value": since.Unix()},
			"pagination": pag,
		})
		if err != nil {
			return err
		}
		what := fmt.Sprintf("search page %d", n)
		b, status, err := s.call(ctx, folder, http.MethodPost, s.base+"/conversations/search", body, what)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return vendorStatusError(KindIntercom, folder, what, status)
		}
		items, next, err := ParseIntercomSearchPage(b)
		if err != nil {
			return fmt.Errorf("sources: intercom: folder %s: %s: %w", folderName(folder), what, err)
		}
		for _, d := range items {
			if seen[d.SessionID] {
				continue
			}
			seen[d.SessionID] = true
			if err := fn(d); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		if next == cursor {
			return fmt.Errorf("sources: intercom: discover: %s: the cursor did not move", what)
		}
		cursor = next
	}
}

// SweepFolder fetches every conversation Discover lists.
func (s *IntercomSource) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	return sweepByDiscovery(ctx, folder, since, s, s, fn)
}
