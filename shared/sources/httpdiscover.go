package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/chatcards/chatcards/shared/strictjson"
	"github.com/chatcards/chatcards/shared/transcript"
)

var _ Discoverer = (*HTTP)(nil)

// ErrDiscoverUnsupported means the platform has no sessions listing (404).
var ErrDiscoverUnsupported = errors.New("sources: http: the platform offers no sessions listing")

// ErrBadListingItem marks one listed item Discover could not read; the
// walk went on past it (errors.Is on the joined error).
var ErrBadListingItem = errors.New("sources: bad listing item")

// discoverPage is one page of GET /v1/sessions (docs/platform-openapi.yaml).
type discoverPage struct {
	Sessions []discoverItem `json:"sessions"`
	Next     string         `json:"next"`
}

type discoverItem struct {
	SessionID string `json:"sessionId"`
	StartedAt string `json:"startedAt"`
	UpdatedAt string `json:"updatedAt"`
}

// Discover walks GET /v1/sessions?updatedSince=…&folder=…&cursor=… and calls
// fn with every conversation of folder the platform lists. The page is read
// strictly (it is outside input); an item with an invalid sessionId or times
// does not stop the walk: it is skipped and reported in the returned error
// (errors.Join) once the walk is complete, so one bad row cannot hide the
// rest. A page that fails after retries, or an error from fn, stops at once.
// A 404 on the listing gives ErrDiscoverUnsupported. folder is required:
// discovery creates cards in a folder, so it never lists another tenant's.
func (h *HTTP) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	if folder == "" {
		return errors.New("sources: http: discover: a folder is required")
	}
	var bad []error
	cursor := ""
	for page := 0; ; page++ {
		if page >= maxSweepPages {
			return fmt.Errorf("sources: http: discover: more than %d pages, the cursor never ends", maxSweepPages)
		}
		u := *h.base
		u.Path = h.base.Path + "/v1/sessions"
		q := url.Values{"updatedSince": {since.UTC().Format(time.RFC3339Nano)}, "folder": {folder}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		u.RawQuery = q.Encode()
		body, status, err := h.get(ctx, u.String(), fmt.Sprintf("sessions page %d", page+1))
		if err != nil {
			return err
		}
		switch {
		case status == http.StatusNotFound:
			return ErrDiscoverUnsupported
		case status != http.StatusOK:
			return fmt.Errorf("sources: http: discover page %d: status %d %s", page+1, status, http.StatusText(status))
		case body == nil:
			return fmt.Errorf("sources: http: discover page %d: larger than %d bytes", page+1, MaxBodyBytes)
		}
		items, next, pageBad, err := parseDiscoverPage(body, page)
		if err != nil {
			return err
		}
		bad = append(bad, pageBad...)
		for _, d := range items {
			if err := fn(d); err != nil {
				return err
			}
		}
		if next == "" {
			return errors.Join(bad...)
		}
		if next == cursor {
			return fmt.Errorf("sources: http: discover page %d: the cursor did not move", page+1)
		}
		cursor = next
	}
}

// parseDiscoverPage reads one listing page (page is 0-based, for errors):
// the items that are good, the next cursor, the items that are not (each an
// ErrBadListingItem), or an error when the page itself is unreadable.
func parseDiscoverPage(body []byte, page int) (items []Discovered, next string, bad []error, err error) {
	var p discoverPage
	if err := strictjson.Unmarshal(body, &p); err != nil {
		return nil, "", nil, fmt.Errorf("sources: http: discover page %d: %w", page+1, err)
	}
	for i, it := range p.Sessions {
		d, err := it.discovered()
		if err != nil {
			bad = append(bad, fmt.Errorf("%w: http: discover page %d item %d: %w", ErrBadListingItem, page+1, i, err))
			continue
		}
		items = append(items, d)
	}
	return items, p.Next, bad, nil
}

// discovered checks one listed item. A missing startedAt falls back to
// updatedAt: the card needs a start, and the update is the earliest sign of
// the conversation chatcards has.
func (it discoverItem) discovered() (Discovered, error) {
	if !transcript.ValidSessionID(it.SessionID) {
		return Discovered{}, errors.New("sessionId: not a valid session id")
	}
	at := it.StartedAt
	field := "startedAt"
	if at == "" {
		at, field = it.UpdatedAt, "updatedAt"
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		return Discovered{}, fmt.Errorf("%s: not an RFC 3339 time (session %s)", field, it.SessionID)
	}
	return Discovered{SessionID: it.SessionID, StartedAt: t.UTC()}, nil
}
