package sources_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/sources"
)

// lcFake is the LiveChat Agent Chat Web API v3.5 as the fetcher uses it:
// get_chat, list_threads and list_archives, paged by opaque page ids.
type lcFake struct {
	mu       sync.Mutex
	chats    map[string]*lcFakeChat
	order    []string
	pageSize int
	answerAs map[string]string // chat id → the chat answered instead
}

type lcFakeChat struct {
	chat    map[string]any
	threads []map[string]any // oldest first
}

func newLCFake(pageSize int) *lcFake {
	return &lcFake{chats: map[string]*lcFakeChat{}, pageSize: pageSize, answerAs: map[string]string{}}
}

// put adds the platform file {"chat", "threads"} (threads oldest first).
func (f *lcFake) put(t testing.TB, file []byte) {
	var d struct {
		Chat    map[string]any   `json:"chat"`
		Threads []map[string]any `json:"threads"`
	}
	if err := json.Unmarshal(file, &d); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := d.Chat["id"].(string)
	f.chats[id] = &lcFakeChat{chat: d.Chat, threads: d.Threads}
	f.order = append(f.order, id)
}

func pageID(n int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(n)))
}

func pageOffset(id string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(id)
	if err != nil || len(b) < 7 {
		return 0, false
	}
	n, err := strconv.Atoi(string(b[7:]))
	return n, err == nil
}

func (f *lcFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, `{"error": {"type": "validation"}}`, http.StatusBadRequest)
		return
	}
	var body struct {
		ChatID    string         `json:"chat_id"`
		PageID    string         `json:"page_id"`
		SortOrder string         `json:"sort_order"`
		Limit     int            `json:"limit"`
		Filters   map[string]any `json:"filters"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, `{"error": {"type": "validation"}}`, http.StatusBadRequest)
		return
	}
	// "The filters, limit, and sort_order parameters can't be provided
	// along with page_id."
	if body.PageID != "" && (body.Filters != nil || body.Limit != 0 || body.SortOrder != "") {
		http.Error(w, `{"error": {"type": "validation"}}`, http.StatusBadRequest)
		return
	}
	if body.Limit > 100 {
		http.Error(w, `{"error": {"type": "validation"}}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := body.ChatID
	if as, ok := f.answerAs[id]; ok {
		id = as
	}
	c := f.chats[id]
	notFound := func() {
		http.Error(w, `{"error": {"type": "not_found", "message": "Chat not found"}}`, http.StatusNotFound)
	}
	off := 0
	if body.PageID != "" {
		n, ok := pageOffset(body.PageID)
		if !ok {
			http.Error(w, `{"error": {"type": "validation"}}`, http.StatusBadRequest)
			return
		}
		off = n
	}
	switch r.URL.Path {
	case "/v3.5/agent/action/get_chat":
		if c == nil {
			notFound()
			return
		}
		out := map[string]any{}
		for k, v := range c.chat {
			out[k] = v
		}
		out["thread"] = c.threads[len(c.threads)-1]
		vWriteJSON(w, out)
	case "/v3.5/agent/action/list_threads":
		if c == nil {
			notFound()
			return
		}
		if body.PageID == "" && body.SortOrder != "asc" {
			http.Error(w, "the fake serves oldest first only", http.StatusBadRequest)
			return
		}
		end := min(off+f.pageSize, len(c.threads))
		out := map[string]any{"threads": c.threads[off:end], "found_threads": len(c.threads)}
		if end < len(c.threads) {
			out["next_page_id"] = pageID(end)
		}
		vWriteJSON(w, out)
	case "/v3.5/agent/action/list_archives":
		// One item per thread, oldest first, threads created since from.
		var from time.Time
		var groups []float64
		if body.PageID == "" {
			s, _ := body.Filters["from"].(string)
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				http.Error(w, `{"error": {"type": "validation"}}`, http.StatusBadRequest)
				return
			}
			from = t
			for _, g := range asSlice(body.Filters["group_ids"]) {
				groups = append(groups, g.(float64))
			}
		}
		var items []map[string]any
		for _, cid := range f.order {
			ch := f.chats[cid]
			for _, th := range ch.threads {
				at, _ := time.Parse(time.RFC3339Nano, th["created_at"].(string))
				if at.Before(from) || !inGroups(ch.chat, groups) {
					continue
				}
				item := map[string]any{"id": cid, "users": ch.chat["users"], "thread": th, "access": ch.chat["access"]}
				items = append(items, item)
			}
		}
		end := min(off+f.pageSize, len(items))
		out := map[string]any{"chats": items[off:end], "found_chats": len(items)}
		if end < len(items) {
			out["next_page_id"] = pageID(end)
		}
		vWriteJSON(w, out)
	default:
		http.NotFound(w, r)
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func inGroups(chat map[string]any, groups []float64) bool {
	if len(groups) == 0 {
		return true
	}
	acc, _ := chat["access"].(map[string]any)
	for _, g := range asSlice(acc["group_ids"]) {
		if slices.Contains(groups, g.(float64)) {
			return true
		}
	}
	return false
}

const lcAccount = "c1a2b3d4-account"

func lcAuth(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(lcAccount+":"+token))
}

// lcTwoThreads is the fixture chat with a second thread an hour later, so
// list_threads pages.
func lcTwoThreads(t testing.TB) []byte {
	var d map[string]any
	if err := json.Unmarshal(readFixture(t, "livechat/bot_handoff_transfer.json"), &d); err != nil {
		t.Fatal(err)
	}
	threads := d["threads"].([]any)
	second := shiftTimes(t, threads[0], time.Hour).(map[string]any)
	second["id"] = "QA37PVJ75C"
	d["threads"] = append(threads, second)
	return mustJSON(t, d)
}

// shiftTimes moves every "created_at" in v by d (a deep copy).
func shiftTimes(t testing.TB, v any, d time.Duration) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if s, ok := e.(string); ok && k == "created_at" {
				at, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t.Fatal(err)
				}
				out[k] = at.Add(d).UTC().Format("2006-01-02T15:04:05.000000Z")
				continue
			}
			out[k] = shiftTimes(t, e, d)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = shiftTimes(t, e, d)
		}
		return out
	}
	return v
}

func newLiveChatHarness(t *testing.T) (vHarness, *lcFake) {
	plat := newLCFake(1)
	file := lcTwoThreads(t)
	plat.put(t, file)
	// Another tenant's chat the misrouted answer serves.
	other := jsonAny(t, readFixture(t, "livechat/bot_handoff_transfer.json")).(map[string]any)
	other["chat"].(map[string]any)["id"] = "OTHERCHAT1"
	plat.put(t, mustJSON(t, other))
	fake := newVFake(t, lcAuth, plat)
	// The fetcher writes the chat as get_chat answers it but for "thread"
	// and "is_followed", then every thread, bytes as the API sent them.
	c := plat.chats["PJ0MRSHTDG"]
	chat := map[string]any{}
	for k, v := range c.chat {
		if k != "is_followed" {
			chat[k] = v
		}
	}
	want := []byte(`{"chat":` + string(mustJSON(t, chat)) + `,"threads":[` + string(mustJSON(t, c.threads[0])) + "," + string(mustJSON(t, c.threads[1])) + `]}`)
	return vHarness{
		kind: "livechat", fake: fake, id: "PJ0MRSHTDG", want: want, decode: formats.DecodeLiveChat, minRequests: 3,
		open: func(t *testing.T, tok string, clock *fakeClock) sources.Source {
			s, err := sources.NewLiveChat(sources.LiveChatOptions{URL: fake.URL(), AccountID: lcAccount, Token: tok, Client: clientOpts(clock)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		misroute: func() func() {
			plat.mu.Lock()
			plat.answerAs["PJ0MRSHTDG"] = "OTHERCHAT1"
			plat.mu.Unlock()
			return func() { plat.mu.Lock(); delete(plat.answerAs, "PJ0MRSHTDG"); plat.mu.Unlock() }
		},
	}, plat
}

func TestLiveChatFetcher(t *testing.T) {
	h, _ := newLiveChatHarness(t)
	vendorSuite(t, h)
}

func TestLiveChatGroupScope(t *testing.T) {
	h, _ := newLiveChatHarness(t)
	clock := newFakeClock()
	mk := func(groups ...int64) *sources.LiveChatSource {
		s, err := sources.NewLiveChat(sources.LiveChatOptions{URL: h.fake.URL(), AccountID: lcAccount, Token: token, GroupIDs: groups, Client: clientOpts(clock)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// The fixture chat is in group 0.
	if _, err := mk(0, 5).Fetch(context.Background(), vReq(h.id)); err != nil {
		t.Fatalf("chat of the folder's group: %v", err)
	}
	if _, err := mk(7).Fetch(context.Background(), vReq(h.id)); !sources.IsBadTranscript(err) {
		t.Fatalf("chat of another group: %v, want refused", err)
	}
	var got []string
	if err := mk(7).Discover(context.Background(), "helpdesk", time.Time{}, func(d sources.Discovered) error { got = append(got, d.SessionID); return nil }); err != nil || len(got) != 0 {
		t.Fatalf("discover in group 7: %v %v, want none", got, err)
	}
}

func TestLiveChatDiscover(t *testing.T) {
	h, _ := newLiveChatHarness(t)
	s := h.open(t, token, newFakeClock()).(*sources.LiveChatSource)
	var got []sources.Discovered
	before := h.fake.count()
	err := s.Discover(context.Background(), "helpdesk", time.Date(2020, 5, 1, 0, 0, 0, 0, time.UTC), func(d sources.Discovered) error {
		got = append(got, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Three threads in two chats, one per page: each chat once, at its
	// first thread.
	if len(got) != 2 || got[0].SessionID != "PJ0MRSHTDG" || got[1].SessionID != "OTHERCHAT1" || h.fake.count()-before != 3 {
		t.Fatalf("discovered %+v in %d requests", got, h.fake.count()-before)
	}
	if want := time.Date(2020, 5, 12, 11, 42, 47, 383000000, time.UTC); !got[0].StartedAt.Equal(want) {
		t.Fatalf("started %v, want %v", got[0].StartedAt, want)
	}
	// Since after the first thread: only the second thread's chat.
	got = nil
	_ = s.Discover(context.Background(), "helpdesk", time.Date(2020, 5, 12, 12, 0, 0, 0, time.UTC), func(d sources.Discovered) error {
		got = append(got, d)
		return nil
	})
	if len(got) != 1 || got[0].SessionID != "PJ0MRSHTDG" {
		t.Fatalf("discovered since noon: %+v", got)
	}
}

func TestLiveChatSettings(t *testing.T) {
	for _, c := range []struct{ entry, err string }{
		{`{"kind": "livechat", "accountId": "a", "token": "t"}`, ""},
		{`{"kind": "livechat", "tokenSecret": "s", "groupIds": [1, 2], "rps": 2, "timeout": "5s"}`, ""},
		{`{"kind": "livechat"}`, "token: token or tokenSecret is required"},
		{`{"kind": "livechat", "token": "t", "tokenSecret": "s"}`, "tokenSecret: token and tokenSecret are both set"},
		{`{"kind": "livechat", "token": "t", "url": "ftp://x"}`, "url:"},
		{`{"kind": "livechat", "token": "t", "rps": 0}`, "rps:"},
		{`{"kind": "livechat", "token": "t", "groupIds": [-1]}`, "groupIds:"},
		{`{"kind": "livechat", "token": "t", "license": 1}`, "license: is not a setting"},
	} {
		_, err := sources.ParseSources([]byte(`{"A": ` + c.entry + `}`))
		if c.err == "" && err != nil || c.err != "" && (err == nil || !containsAll(err.Error(), c.err, `SOURCES["A"]`)) {
			t.Errorf("%s: err = %v, want %q", c.entry, err, c.err)
		}
	}
}

func FuzzLiveChatPages(f *testing.F) {
	f.Add([]byte(`{"threads": [{"id": "A"}], "found_threads": 1, "next_page_id": "MTU="}`))
	f.Add([]byte(`{"chats": [{"id": "PJ0MRSHTDG", "thread": {"created_at": "2020-05-12T11:42:47.383000Z"}, "access": {"group_ids": [0]}}], "next_page_id": ""}`))
	f.Add([]byte(`{"threads": [1]}`))
	f.Add([]byte(`{"chats": [{"id": "../x"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ts, _, err := sources.ParseLiveChatThreadsPage(b); err == nil {
			for _, th := range ts {
				if th.Kind() != '{' {
					t.Fatalf("thread %s accepted", th)
				}
			}
		}
		if items, groups, _, err := sources.ParseLiveChatArchivesPage(b); err == nil {
			if len(items) != len(groups) {
				t.Fatal("items and groups differ in length")
			}
			for _, d := range items {
				if d.SessionID == "" || len(d.SessionID) > 128 {
					t.Fatalf("id %q accepted", d.SessionID)
				}
			}
		}
	})
}
