package sources

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/strictjson"
)

// LiveChat reads chats from the LiveChat (Text) Agent Chat Web API v3.5:
// get_chat for the chat and its users, list_threads (oldest first, paged)
// for every thread with its events, assembled into the file
// formats.DecodeLiveChat reads. Discover walks list_archives. The calls and
// their vendor pages are in docs/sources/livechat.md.

// KindLiveChat is the SOURCES kind of the LiveChat source.
const KindLiveChat = "livechat"

func init() {
	Register(KindLiveChat, func() Settings { return &LiveChatSettings{} })
}

// LiveChatDefaultURL is the Agent Chat API host.
const LiveChatDefaultURL = "https://api.livechatinc.com"

// LiveChat pages: the API's maximum page size for list_threads and
// list_archives.
const liveChatPageSize = 100

// LiveChatSettings are the "livechat" kind's SOURCES keys.
type LiveChatSettings struct {
	URL string `json:"url"` // API host, default https://api.livechatinc.com
	// AccountID with a Personal Access Token gives Basic auth
	// (account_id:PAT); without it the token is an OAuth Bearer token.
	AccountID   string `json:"accountId"`
	Token       string `json:"token"`
	TokenSecret string `json:"tokenSecret"` // Secrets Manager name of the token
	// GroupIDs, when set, are the LiveChat groups this folder owns: a chat
	// whose access.group_ids shares none of them is refused, and discovery
	// lists only their archives (filters.group_ids).
	GroupIDs     []int64 `json:"groupIds"`
	RateSettings `json:",inline"`
}

// Check validates the keys.
func (s *LiveChatSettings) Check() error {
	if s.URL != "" {
		if _, err := checkBaseURL("url", s.URL); err != nil {
			return err
		}
	}
	if err := checkSecretPair("token", s.Token, "tokenSecret", s.TokenSecret); err != nil {
		return err
	}
	if len(s.GroupIDs) > 200 {
		return errors.New("groupIds: at most 200 (the list_archives filter's limit)")
	}
	for _, g := range s.GroupIDs {
		if g < 0 {
			return fmt.Errorf("groupIds: %d is not a LiveChat group id", g)
		}
	}
	return s.RateSettings.check()
}

// Open reads the token secret when one is named and builds the source.
func (s *LiveChatSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	tok, err := resolveSecret(ctx, env, "tokenSecret", s.Token, s.TokenSecret)
	if err != nil {
		return nil, err
	}
	return NewLiveChat(LiveChatOptions{URL: s.URL, AccountID: s.AccountID, Token: tok, GroupIDs: s.GroupIDs,
		Client: s.RateSettings.clientOptions(KindLiveChat, 5, env)})
}

// LiveChatOptions configure NewLiveChat.
type LiveChatOptions struct {
	URL       string // default LiveChatDefaultURL
	AccountID string
	Token     string // never logged nor put in an error
	GroupIDs  []int64
	Client    ClientOptions
}

// LiveChatSource is the LiveChat source.
type LiveChatSource struct {
	base   string
	auth   string
	groups []int64
	c      *Client
}

var (
	_ Source     = (*LiveChatSource)(nil)
	_ Discoverer = (*LiveChatSource)(nil)
	_ Sweeper    = (*LiveChatSource)(nil)
)

// SweepFolder fetches every chat Discover lists.
func (l *LiveChatSource) SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error {
	return sweepByDiscovery(ctx, folder, since, l, l, fn)
}

// NewLiveChat checks the options and returns the source.
func NewLiveChat(o LiveChatOptions) (*LiveChatSource, error) {
	if o.URL == "" {
		o.URL = LiveChatDefaultURL
	}
	base, err := checkBaseURL("url", o.URL)
	if err != nil {
		return nil, fmt.Errorf("sources.NewLiveChat: %w", err)
	}
	if o.Token == "" {
		return nil, errors.New("sources.NewLiveChat: token is required")
	}
	auth := "Bearer " + o.Token
	if o.AccountID != "" {
		auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(o.AccountID+":"+o.Token))
	}
	if o.Client.Name == "" {
		o.Client.Name = KindLiveChat
	}
	c, err := NewClient(o.Client)
	if err != nil {
		return nil, fmt.Errorf("sources.NewLiveChat: %w", err)
	}
	return &LiveChatSource{base: base, auth: auth, groups: slices.Clone(o.GroupIDs), c: c}, nil
}

// action POSTs one Agent Chat API method. 404 (not_found) gives ErrNotYet;
// any other status but 200 is an error naming the folder and the method.
func (l *LiveChatSource) action(ctx context.Context, folder, method string, body any, what string) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp, err := l.c.Do(ctx, Call{Method: http.MethodPost, URL: l.base + "/v3.5/agent/action/" + method, Body: b, What: inFolder(folder, what),
		Header: http.Header{"Authorization": {l.auth}, "Content-Type": {"application/json"}}})
	if err != nil {
		return nil, err
	}
	switch {
	case resp.Status == http.StatusNotFound:
		return nil, fmt.Errorf("%s: %w", what, ErrNotYet)
	case resp.Status != http.StatusOK:
		return nil, vendorStatusError(KindLiveChat, folder, what, resp.Status)
	case resp.TooLarge:
		return nil, fmt.Errorf("sources: livechat: folder %s: %s: larger than %d bytes", folderName(folder), what, MaxBodyBytes)
	}
	return resp.Body, nil
}

// lcThreadsPage is one answer of list_threads.
type lcThreadsPage struct {
	Threads    []jsontext.Value `json:"threads"`
	NextPageID string           `json:"next_page_id"`
}

// lcAccess is the part of a chat the group scope reads.
type lcAccess struct {
	ID     string    `json:"id"`
	Access *lcGroups `json:"access"`
}

type lcGroups struct {
	GroupIDs []int64 `json:"group_ids"`
}

// ParseLiveChatThreadsPage reads a list_threads answer strictly.
func ParseLiveChatThreadsPage(b []byte) (threads []jsontext.Value, next string, err error) {
	var p lcThreadsPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, "", fmt.Errorf("list_threads answer: %w", err)
	}
	for i, t := range p.Threads {
		if t.Kind() != '{' {
			return nil, "", fmt.Errorf("list_threads answer: threads[%d]: not an object", i)
		}
	}
	return p.Threads, p.NextPageID, nil
}

// maxVendorPages stops a platform whose page ids never end.
const maxVendorPages = 10000

// Fetch gets one chat: get_chat, then every thread oldest first.
func (l *LiveChatSource) Fetch(ctx context.Context, r Request) (Result, error) {
	if !validID(r.SessionID) {
		return Result{}, fmt.Errorf("sources: livechat: session id %q is not a valid session id", r.SessionID)
	}
	chat, err := l.action(ctx, r.Folder, "get_chat", map[string]string{"chat_id": r.SessionID}, "get_chat of chat "+r.SessionID)
	if err != nil {
		return Result{}, err
	}
	var probe lcAccess
	if err := strictjson.Unmarshal(chat, &probe); err != nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("livechat: get_chat answer: %w", err))
	}
	if probe.ID != r.SessionID {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("livechat: get_chat answered chat %q, not the requested %q", probe.ID, r.SessionID))
	}
	if err := l.inScope(probe); err != nil {
		return Result{}, badTranscript(r.SessionID, err)
	}
	if chat, err = stableChat(chat); err != nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("livechat: get_chat answer: %w", err))
	}
	var threads [][]byte
	page := ""
	for n := 1; ; n++ {
		if n > maxVendorPages {
			return Result{}, fmt.Errorf("sources: livechat: chat %s: more than %d list_threads pages", r.SessionID, maxVendorPages)
		}
		body := map[string]any{"chat_id": r.SessionID}
		if page == "" {
			// filters, limit and sort_order only on the first page: the
			// page id carries them on.
			body["sort_order"], body["limit"] = "asc", liveChatPageSize
		} else {
			body["page_id"] = page
		}
		b, err := l.action(ctx, r.Folder, "list_threads", body, fmt.Sprintf("list_threads page %d of chat %s", n, r.SessionID))
		if err != nil {
			return Result{}, err
		}
		ts, next, err := ParseLiveChatThreadsPage(b)
		if err != nil {
			return Result{}, badTranscript(r.SessionID, fmt.Errorf("livechat: page %d: %w", n, err))
		}
		for _, t := range ts {
			threads = append(threads, t)
		}
		if next == "" {
			break
		}
		if next == page {
			return Result{}, fmt.Errorf("sources: livechat: chat %s: list_threads page %d: the page id did not move", r.SessionID, n)
		}
		page = next
	}
	if len(threads) == 0 {
		// A chat without a thread has nothing to decode yet.
		return Result{}, fmt.Errorf("chat %s has no thread: %w", r.SessionID, ErrNotYet)
	}
	return vendorResult(r.SessionID, joinJSON("chat", chat, "threads", threads), formats.DecodeLiveChat)
}

// stableChat drops what get_chat adds that is no part of the chat's record:
// "thread" (the latest thread again, which list_threads gives) and
// "is_followed" (the token owner's own state), so the file, and the hash
// the sync compares, change only when the chat does. Keys come out sorted,
// values byte for byte as LiveChat sent them.
func stableChat(chat []byte) ([]byte, error) {
	var m map[string]jsontext.Value
	if err := strictjson.Unmarshal(chat, &m); err != nil {
		return nil, err
	}
	delete(m, "thread")
	delete(m, "is_followed")
	pairs := make([]any, 0, 2*len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		pairs = append(pairs, k, []byte(m[k]))
	}
	return joinJSON(pairs...), nil
}

// inScope refuses a chat of none of the folder's groups.
func (l *LiveChatSource) inScope(c lcAccess) error {
	if len(l.groups) == 0 {
		return nil
	}
	if c.Access != nil {
		for _, g := range c.Access.GroupIDs {
			if slices.Contains(l.groups, g) {
				return nil
			}
		}
	}
	return fmt.Errorf("livechat: chat %s is in none of this folder's groups %v", c.ID, l.groups)
}

// lcArchivesPage is one answer of list_archives.
type lcArchivesPage struct {
	Chats []struct {
		ID     string `json:"id"`
		Thread *struct {
			CreatedAt string `json:"created_at"`
		} `json:"thread"`
		Access *lcGroups `json:"access"`
	} `json:"chats"`
	NextPageID string `json:"next_page_id"`
}

// ParseLiveChatArchivesPage reads a list_archives answer strictly into the
// chats it lists (one per thread: a chat may come more than once).
func ParseLiveChatArchivesPage(b []byte) (items []Discovered, groups [][]int64, next string, err error) {
	var p lcArchivesPage
	if err := strictjson.Unmarshal(b, &p); err != nil {
		return nil, nil, "", fmt.Errorf("list_archives answer: %w", err)
	}
	for i, c := range p.Chats {
		if !validID(c.ID) {
			return nil, nil, "", fmt.Errorf("list_archives answer: chats[%d].id: %q is not a valid session id", i, c.ID)
		}
		d := Discovered{SessionID: c.ID}
		if c.Thread != nil && c.Thread.CreatedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, c.Thread.CreatedAt)
			if err != nil {
				return nil, nil, "", fmt.Errorf("list_archives answer: chats[%d].thread.created_at: %q is not an RFC 3339 time", i, c.Thread.CreatedAt)
			}
			d.StartedAt = t.UTC()
		}
		var g []int64
		if c.Access != nil {
			g = c.Access.GroupIDs
		}
		items = append(items, d)
		groups = append(groups, g)
	}
	return items, groups, p.NextPageID, nil
}

// Discover lists the chats whose archived threads were created since
// (list_archives, oldest first, paged), each chat once, within the folder's
// groups when it has some. A chat's StartedAt is its first listed thread's
// creation (list_archives has no updated-since filter: a chat archived
// again later shows up again under its new thread).
func (l *LiveChatSource) Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error {
	seen := map[string]bool{}
	page := ""
	for n := 1; ; n++ {
		if n > maxVendorPages {
			return fmt.Errorf("sources: livechat: discover: more than %d list_archives pages", maxVendorPages)
		}
		var body map[string]any
		if page == "" {
			filters := map[string]any{"from": since.UTC().Format("2006-01-02T15:04:05.000000Z07:00")}
			if len(l.groups) > 0 {
				filters["group_ids"] = l.groups
			}
			body = map[string]any{"filters": filters, "sort_order": "asc", "limit": liveChatPageSize}
		} else {
			body = map[string]any{"page_id": page}
		}
		b, err := l.action(ctx, folder, "list_archives", body, fmt.Sprintf("list_archives page %d", n))
		if errors.Is(err, ErrNotYet) {
			return fmt.Errorf("sources: livechat: folder %s: list_archives: status 404 Not Found", folderName(folder))
		}
		if err != nil {
			return err
		}
		items, groups, next, err := ParseLiveChatArchivesPage(b)
		if err != nil {
			return fmt.Errorf("sources: livechat: folder %s: page %d: %w", folderName(folder), n, err)
		}
		for i, d := range items {
			if seen[d.SessionID] || l.inScope(lcAccess{ID: d.SessionID, Access: &lcGroups{GroupIDs: groups[i]}}) != nil {
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
		if next == page {
			return fmt.Errorf("sources: livechat: discover: list_archives page %d: the page id did not move", n)
		}
		page = next
	}
}
