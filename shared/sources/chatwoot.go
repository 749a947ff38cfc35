package sources

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// KindChatwoot is the Chatwoot Application API source (docs/sources/chatwoot.md).
const KindChatwoot = "chatwoot"

func init() {
	Register(KindChatwoot, func() Settings { return &ChatwootSettings{} })
}

// ChatwootSettings are the "chatwoot" kind's keys: url is the installation
// (https://app.chatwoot.com or your own host), accountId the account whose
// conversations this folder reads, token a user's or agent bot's
// api_access_token.
type ChatwootSettings struct {
	APISettings
	AccountID *int64 `json:"accountId"`
}

// Check validates the keys.
func (c *ChatwootSettings) Check() error {
	if err := c.check(); err != nil {
		return err
	}
	if c.AccountID == nil {
		return errors.New("accountId: is required (the number in /app/accounts/<id>/ of the Chatwoot dashboard)")
	}
	if *c.AccountID <= 0 {
		return fmt.Errorf("accountId: %d must be a positive account number", *c.AccountID)
	}
	return nil
}

// Open reads the token and builds the source.
func (c *ChatwootSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	tok, opt, err := c.open(ctx, env, KindChatwoot, ChatwootDefaultRPS)
	if err != nil {
		return nil, err
	}
	return NewChatwoot(ChatwootOptions{BaseURL: c.URL, Token: tok, AccountID: *c.AccountID, Client: opt})
}

// ChatwootDefaultRPS is a fifth of Chatwoot's default per-IP throttle
// (RACK_ATTACK_LIMIT, 3000 requests a minute), which every integration
// behind the same address shares.
const ChatwootDefaultRPS = 10

// ChatwootOptions configure the chatwoot source.
type ChatwootOptions struct {
	BaseURL   string // e.g. https://app.chatwoot.com (a path prefix is kept)
	Token     string // api_access_token
	AccountID int64
	Client    ClientOptions
}

// Chatwoot reads conversations with all their messages from the Chatwoot
// Application API.
type Chatwoot struct {
	api     *apiSource
	account string
}

var (
	_ Source     = (*Chatwoot)(nil)
	_ Sweeper    = (*Chatwoot)(nil)
	_ Discoverer = (*Chatwoot)(nil)
)

// NewChatwoot checks the options and returns the source.
func NewChatwoot(opt ChatwootOptions) (*Chatwoot, error) {
	if opt.Token == "" {
		return nil, errors.New("sources: chatwoot: Token is required")
	}
	if opt.AccountID <= 0 {
		return nil, errors.New("sources: chatwoot: AccountID must be positive")
	}
	// Chatwoot reads the token from this exact header name (underscores
	// included), so it is set as written, not canonicalised.
	a, err := newAPISource(KindChatwoot, opt.BaseURL, http.Header{"api_access_token": {opt.Token}}, opt.Client)
	if err != nil {
		return nil, err
	}
	return &Chatwoot{api: a, account: strconv.FormatInt(opt.AccountID, 10)}, nil
}

// chatwootID checks a sessionId is a conversation's display id.
func chatwootID(id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
		return fmt.Errorf("%q is not a Chatwoot conversation id (a positive decimal number)", id)
	}
	return nil
}

func (c *Chatwoot) conversationPath(id string) string {
	return "/api/v1/accounts/" + c.account + "/conversations/" + id
}

// Fetch gets the conversation and every page of its messages and decodes
// them as the chatwoot format's file: the conversation with "messages"
// holding all of them, oldest first.
func (c *Chatwoot) Fetch(ctx context.Context, r Request) (Result, error) {
	if err := chatwootID(r.SessionID); err != nil {
		return Result{}, badTranscript(r.SessionID, err)
	}
	body, err := c.api.get(ctx, r.Folder, "conversation "+r.SessionID, c.api.endpoint(c.conversationPath(r.SessionID), nil))
	if err != nil {
		return Result{}, tooLargeIsBad(r.SessionID, err)
	}
	var conv map[string]jsontext.Value
	if err := strictjson.Unmarshal(body, &conv); err != nil || conv == nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("chatwoot: the conversation is not a JSON object: %v", err))
	}
	return c.assemble(ctx, r.Folder, r.SessionID, conv)
}

// assemble reads every message of conversation id, puts them in conv and
// decodes the result.
func (c *Chatwoot) assemble(ctx context.Context, folder, id string, conv map[string]jsontext.Value) (Result, error) {
	msgs, err := c.messages(ctx, folder, id)
	if err != nil {
		return Result{}, err
	}
	conv["messages"], err = json.Marshal(msgs)
	if err != nil {
		return Result{}, badTranscript(id, err)
	}
	// Sorted keys: the same conversation always gives the same bytes,
	// so the hash changes only when the conversation does.
	doc, err := json.Marshal(conv, json.Deterministic(true))
	if err != nil {
		return Result{}, badTranscript(id, err)
	}
	return decodeAs(KindChatwoot, id, doc)
}

// ChatwootMessagesPage is one page of GET …/conversations/{id}/messages.
type ChatwootMessagesPage struct {
	Payload []jsontext.Value `json:"payload"`
}

// ParseChatwootMessagesPage reads a messages page strictly and returns the
// messages with their ids.
func ParseChatwootMessagesPage(b []byte) ([]jsontext.Value, []int64, error) {
	var p ChatwootMessagesPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, nil, err
	}
	if p.Payload == nil {
		return nil, nil, errors.New("payload: is required")
	}
	ids := make([]int64, len(p.Payload))
	for i, m := range p.Payload {
		var head struct {
			ID *int64 `json:"id"`
		}
		if m.Kind() != '{' {
			return nil, nil, fmt.Errorf("payload[%d]: must be an object", i)
		}
		if err := strictjson.Unmarshal(m, &head); err != nil {
			return nil, nil, fmt.Errorf("payload[%d]: %w", i, err)
		}
		if head.ID == nil || *head.ID <= 0 {
			return nil, nil, fmt.Errorf("payload[%d].id: is required (a positive number)", i)
		}
		ids[i] = *head.ID
	}
	return p.Payload, ids, nil
}

// messages pages forward with ?after=<last id> (Chatwoot answers 100 at a
// time, oldest first) until a page is empty, so a conversation of any
// length comes back whole. Private notes and activity lines are included
// (filter_internal_messages is not set).
func (c *Chatwoot) messages(ctx context.Context, folder, id string) ([]jsontext.Value, error) {
	var all []jsontext.Value
	seen := map[int64]bool{}
	after := int64(0)
	for page := 1; ; page++ {
		if page > maxMessagePages {
			return nil, badTranscript(id, fmt.Errorf("chatwoot: more than %d pages of messages", maxMessagePages))
		}
		what := fmt.Sprintf("conversation %s messages page %d", id, page)
		u := c.api.endpoint(c.conversationPath(id)+"/messages", url.Values{"after": {strconv.FormatInt(after, 10)}})
		body, err := c.api.get(ctx, folder, what, u)
		if err != nil {
			// A 404 here (the conversation deleted while read) stays
			// ErrNotYet: nothing to keep either way.
			return nil, tooLargeIsBad(id, err)
		}
		msgs, ids, err := ParseChatwootMessagesPage(body)
		if err != nil {
			return nil, badTranscript(id, fmt.Errorf("chatwoot: %s: %w", what, err))
		}
		if len(msgs) == 0 {
			return all, nil
		}
		next := after
		for i, m := range msgs {
			if !seen[ids[i]] {
				seen[ids[i]] = true
				all = append(all, m)
			}
			next = max(next, ids[i])
		}
		if next <= after {
			return nil, badTranscript(id, fmt.Errorf("chatwoot: %s: the after cursor did not move", what))
		}
		after = next
	}
}

// ChatwootListPage is one page of GET /api/v1/accounts/{id}/conversations.
type ChatwootListPage struct {
	Data *struct {
		Payload []jsontext.Value `json:"payload"`
	} `json:"data"`
}

// ChatwootListed is what a sweep reads of a listed conversation.
type ChatwootListed struct {
	ID             int64
	CreatedAt      time.Time
	LastActivityAt time.Time
	Raw            map[string]jsontext.Value
}

// ParseChatwootListPage reads a conversations page strictly.
func ParseChatwootListPage(b []byte) ([]ChatwootListed, error) {
	var p ChatwootListPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if p.Data == nil || p.Data.Payload == nil {
		return nil, errors.New("data.payload: is required")
	}
	out := make([]ChatwootListed, len(p.Data.Payload))
	for i, raw := range p.Data.Payload {
		var head struct {
			ID             *int64   `json:"id"`
			CreatedAt      *float64 `json:"created_at"`
			LastActivityAt *float64 `json:"last_activity_at"`
		}
		if raw.Kind() != '{' {
			return nil, fmt.Errorf("data.payload[%d]: must be an object", i)
		}
		if err := strictjson.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("data.payload[%d]: %w", i, err)
		}
		if head.ID == nil || *head.ID <= 0 {
			return nil, fmt.Errorf("data.payload[%d].id: is required (a positive number)", i)
		}
		if head.LastActivityAt == nil {
			return nil, fmt.Errorf("data.payload[%d].last_activity_at: is required", i)
		}
		la, err := unixSeconds(*head.LastActivityAt)
		if err != nil {
			return nil, fmt.Errorf("data.payload[%d].last_activity_at: %w", i, err)
		}
		l := ChatwootListed{ID: *head.ID, LastActivityAt: la}
		if head.CreatedAt != nil {
			if l.CreatedAt, err = unixSeconds(*head.CreatedAt); err != nil {
				return nil, fmt.Errorf("data.payload[%d].created_at: %w", i, err)
			}
		}
		if err := strictjson.Unmarshal(raw, &l.Raw); err != nil {
			return nil, fmt.Errorf("data.payload[%d]: %w", i, err)
		}
		out[i] = l
	}
	return out, nil
}

func unixSeconds(s float64) (time.Time, error) {
	if math.IsNaN(s) || s < 0 || s > 253402300799 {
		return time.Time{}, fmt.Errorf("%v is not a Unix time in seconds", s)
	}
	sec, frac := math.Modf(s)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)).UTC(), nil
}

// list walks the account's conversations of every status, most recent
// activity first (Chatwoot's order), until one older than since or an
// empty page. A conversation that moves up while the walk runs may be
// missed this time; its newer activity brings it into the next walk.
func (c *Chatwoot) list(ctx context.Context, folder string, since time.Time, fn func(ChatwootListed) error) error {
	seen := map[int64]bool{}
	for page := 1; ; page++ {
		if page > maxListPages {
			return fmt.Errorf("sources: chatwoot: conversations: more than %d pages", maxListPages)
		}
		what := fmt.Sprintf("conversations page %d", page)
		u := c.api.endpoint("/api/v1/accounts/"+c.account+"/conversations", url.Values{
			"status": {"all"}, "assignee_type": {"all"}, "page": {strconv.Itoa(page)}})
		body, err := c.api.get(ctx, folder, what, u)
		if err != nil {
			return err
		}
		convs, err := ParseChatwootListPage(body)
		if err != nil {
			return fmt.Errorf("sources: chatwoot: %s: %w", what, err)
		}
		if len(convs) == 0 {
			return nil
		}
		fresh := 0
		for _, cv := range convs {
			if cv.LastActivityAt.Before(since.Truncate(time.Second)) {
				return nil
			}
			if seen[cv.ID] {
				continue
			}
			seen[cv.ID] = true
			fresh++
			if err := fn(cv); err != nil {
				return err
			}
		}
		if fresh == 0 {
			return fmt.Errorf("sources: chatwoot: %s: nothing new on this page (the page parameter is ignored?)", what)
		}
	}
}

// Discover lists the conversations with activity since the time.
func (c *Chatwoot) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	return c.list(ctx, folder, since, func(cv ChatwootListed) error {
		return fn(Discovered{SessionID: strconv.FormatInt(cv.ID, 10), StartedAt: cv.CreatedAt})
	})
}

// SweepFolder reads every conversation with activity since the time, with
// all its messages (the listed conversation is the same object GET
// conversation answers). One that does not decode does not stop the sweep;
// its BadTranscriptError is part of the returned error at the end.
func (c *Chatwoot) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	var bad []error
	err := c.list(ctx, folder, since, func(cv ChatwootListed) error {
		id := strconv.FormatInt(cv.ID, 10)
		res, err := c.assemble(ctx, folder, id, cv.Raw)
		switch {
		case err == nil:
			return fn(res)
		case IsBadTranscript(err):
			bad = append(bad, err)
			return nil
		case errors.Is(err, ErrNotYet):
			return nil // deleted since it was listed
		}
		return err
	})
	if err != nil {
		return err
	}
	return errors.Join(bad...)
}
