package sources

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// KindZendesk is the Zendesk Chat API source (docs/sources/zendesk.md).
const KindZendesk = "zendesk"

func init() {
	Register(KindZendesk, func() Settings { return &ZendeskSettings{} })
}

// ZendeskSettings are the "zendesk" kind's keys: url is the account's
// https://{subdomain}.zendesk.com, token an OAuth access token with the
// Chat API's read scope.
type ZendeskSettings struct {
	APISettings
}

// Check validates the keys.
func (z *ZendeskSettings) Check() error { return z.check() }

// Open reads the token and builds the source.
func (z *ZendeskSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	tok, opt, err := z.open(ctx, env, KindZendesk, ZendeskDefaultRPS)
	if err != nil {
		return nil, err
	}
	return NewZendesk(ZendeskOptions{BaseURL: z.URL, Token: tok, Client: opt})
}

// ZendeskDefaultRPS keeps a folder's source well under Zendesk's smallest
// account-wide API limit (200 requests a minute on the Team plan), leaving
// room for the account's other integrations.
const ZendeskDefaultRPS = 2

// ZendeskOptions configure the zendesk source.
type ZendeskOptions struct {
	BaseURL string // https://{subdomain}.zendesk.com (a path prefix is kept)
	Token   string // OAuth bearer token
	Client  ClientOptions
	// PageSize is the incremental export's limit (default and maximum 1000).
	PageSize int
}

// Zendesk reads chats from the Zendesk Chat API: GET /api/v2/chat/chats/{id}
// for one chat, the incremental chat export for discovery and sweeps.
type Zendesk struct {
	api      *apiSource
	pageSize int
}

var (
	_ Source     = (*Zendesk)(nil)
	_ Sweeper    = (*Zendesk)(nil)
	_ Discoverer = (*Zendesk)(nil)
)

// NewZendesk checks the options and returns the source.
func NewZendesk(opt ZendeskOptions) (*Zendesk, error) {
	if opt.Token == "" {
		return nil, fmt.Errorf("sources: zendesk: Token is required")
	}
	if opt.PageSize <= 0 || opt.PageSize > 1000 {
		opt.PageSize = 1000
	}
	a, err := newAPISource(KindZendesk, opt.BaseURL, http.Header{"Authorization": {"Bearer " + opt.Token}}, opt.Client)
	if err != nil {
		return nil, err
	}
	return &Zendesk{api: a, pageSize: opt.PageSize}, nil
}

// Fetch gets one chat; the chat object is the file the zendesk format reads.
func (z *Zendesk) Fetch(ctx context.Context, r Request) (Result, error) {
	if err := pathID(KindZendesk, r.SessionID); err != nil {
		return Result{}, err
	}
	body, err := z.api.get(ctx, r.Folder, "chat "+r.SessionID, z.api.endpoint("/api/v2/chat/chats/"+url.PathEscape(r.SessionID), nil))
	if err != nil {
		return Result{}, tooLargeIsBad(r.SessionID, err)
	}
	doc, err := compact(body)
	if err != nil {
		return Result{}, badTranscript(r.SessionID, err)
	}
	return decodeAs(KindZendesk, r.SessionID, doc)
}

// ZendeskPage is one page of GET /api/v2/chat/incremental/chats.
type ZendeskPage struct {
	Chats    []jsontext.Value `json:"chats"`
	Count    *int             `json:"count"`
	EndID    string           `json:"end_id"`
	EndTime  *int64           `json:"end_time"`
	NextPage *string          `json:"next_page"`
}

// ParseZendeskPage reads an incremental export page strictly.
func ParseZendeskPage(b []byte) (*ZendeskPage, error) {
	var p ZendeskPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if p.Chats == nil {
		return nil, fmt.Errorf("chats: is required")
	}
	for i, c := range p.Chats {
		if c.Kind() != '{' {
			return nil, fmt.Errorf("chats[%d]: must be an object", i)
		}
	}
	if p.Count != nil && *p.Count < 0 {
		return nil, fmt.Errorf("count: must not be negative")
	}
	return &p, nil
}

// zendeskChatHead is what discovery reads of a listed chat.
type zendeskChatHead struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	Timestamp *string `json:"timestamp"`
}

// walk pages the incremental chat export from since and calls fn with every
// chat, raw. Zendesk's start_time is whole seconds, so the first page may
// repeat chats of the since second (callers are idempotent). The export
// ends when a page is shorter than the limit or has no next_page.
func (z *Zendesk) walk(ctx context.Context, folder string, since time.Time, fn func(raw jsontext.Value) error) error {
	// Zendesk refuses a start_time in the future; the export reaches "now"
	// anyway.
	if now := z.api.client.Now(); since.After(now) {
		since = now
	}
	if since.Unix() < 0 {
		since = time.Unix(0, 0)
	}
	q := url.Values{"start_time": {strconv.FormatInt(since.Unix(), 10)}, "limit": {strconv.Itoa(z.pageSize)}, "fields": {"chats(*)"}}
	next := z.api.endpoint("/api/v2/chat/incremental/chats", q)
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > maxListPages {
			return fmt.Errorf("sources: zendesk: incremental export: more than %d pages, the cursor never ends", maxListPages)
		}
		what := fmt.Sprintf("incremental export page %d", page)
		body, err := z.api.get(ctx, folder, what, next)
		if err != nil {
			return err
		}
		p, err := ParseZendeskPage(body)
		if err != nil {
			return fmt.Errorf("sources: zendesk: %s: %w", what, err)
		}
		for _, raw := range p.Chats {
			if err := fn(raw); err != nil {
				return err
			}
		}
		if len(p.Chats) < z.pageSize || p.NextPage == nil || *p.NextPage == "" {
			return nil
		}
		u, err := url.Parse(*p.NextPage)
		if err != nil || !z.api.sameOrigin(u) {
			return fmt.Errorf("sources: zendesk: %s: next_page is not a URL of %s", what, z.api.base.Host)
		}
		if seen[u.String()] {
			return fmt.Errorf("sources: zendesk: %s: next_page did not move", what)
		}
		seen[u.String()] = true
		next = u
	}
}

// Discover lists the chats created or updated since, as the incremental
// export gives them; offline messages (no conversation) are left out.
func (z *Zendesk) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	return z.walk(ctx, folder, since, func(raw jsontext.Value) error {
		var h zendeskChatHead
		if err := strictjson.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("sources: zendesk: incremental export: a chat: %w", err)
		}
		if h.Type != "chat" || pathID(KindZendesk, h.ID) != nil {
			return nil
		}
		d := Discovered{SessionID: h.ID}
		if h.Timestamp != nil {
			if t, err := time.Parse(time.RFC3339Nano, *h.Timestamp); err == nil {
				d.StartedAt = t.UTC()
			}
		}
		return fn(d)
	})
}

// SweepFolder decodes every chat the incremental export lists since the
// time (the export's chats are the same objects GET chat answers). A chat
// that does not decode does not stop the sweep; its BadTranscriptError is
// part of the returned error once the sweep is complete.
func (z *Zendesk) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	var bad []error
	err := z.walk(ctx, folder, since, func(raw jsontext.Value) error {
		var h zendeskChatHead
		if strictjson.Unmarshal(raw, &h) == nil && h.Type != "" && h.Type != "chat" {
			return nil // offline messages have no conversation
		}
		doc, err := compact(raw)
		if err == nil {
			var res Result
			if res, err = decodeAs(KindZendesk, "", doc); err == nil {
				return fn(res)
			}
		}
		bad = append(bad, badTranscript(orUnknown(h.ID), err))
		return nil
	})
	if err != nil {
		return err
	}
	return errors.Join(bad...)
}

// tooLargeIsBad turns an over-cap answer for one session into a bad
// transcript (retrying will not shrink it); other errors pass.
func tooLargeIsBad(id string, err error) error {
	if errors.Is(err, errTooLarge) {
		return badTranscript(id, err)
	}
	return err
}

func orUnknown(id string) string {
	if id == "" {
		return "(unknown)"
	}
	return id
}
