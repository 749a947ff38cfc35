package sources_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// cwFake is the Chatwoot Application API as the chatwoot source uses it:
// the conversation, its messages paged with ?after=, and the account's
// conversations list paged with ?page=, most recent activity first. Each
// api_access_token belongs to one account; another account's path is 401,
// as Chatwoot answers for an account the user is not in.
type cwFake struct {
	fakeBase
	srv       *httptest.Server
	dataMu    sync.Mutex
	accounts  map[string]*cwAccount // by token
	msgPage   int                   // messages per ?after= page (Chatwoot: 100)
	listPage  int                   // conversations per page (Chatwoot: 25)
	sawHeader bool                  // the token came in api_access_token exactly
}

type cwAccount struct {
	id    int
	convs map[int]*cwStored
}

type cwStored struct {
	conv map[string]any   // without messages
	msgs []map[string]any // oldest first, each with its id
}

func newCWFake(t *testing.T) *cwFake {
	f := &cwFake{accounts: map[string]*cwAccount{
		apiTokenA: {id: 3, convs: map[int]*cwStored{}},
		apiTokenB: {id: 4, convs: map[int]*cwStored{}},
	}, msgPage: 100, listPage: 25}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// cwConversation splits the formats fixture into the conversation and its
// messages, under display id id.
func cwConversation(t testing.TB, id int) *cwStored {
	c := loadFixture(t, "chatwoot/conversation_full.json")
	var msgs []map[string]any
	for _, m := range c["messages"].([]any) {
		msgs = append(msgs, m.(map[string]any))
	}
	delete(c, "messages")
	c["id"] = id
	return &cwStored{conv: c, msgs: msgs}
}

func (f *cwFake) put(token string, s *cwStored) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	f.accounts[token].convs[int(num(s.conv["id"]))] = s
}

func (f *cwFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.intercept(w, r) {
		return
	}
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	tok := r.Header.Values("api_access_token") // Go reads it as Api_access_token
	if len(tok) == 1 {
		f.sawHeader = true
	}
	var acc *cwAccount
	if len(tok) == 1 {
		acc = f.accounts[tok[0]]
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/accounts/"), "/")
	if acc == nil || !strings.HasPrefix(r.URL.Path, "/api/v1/accounts/") || parts[0] != strconv.Itoa(acc.id) {
		http.Error(w, `{"error":"You need to sign in or sign up before continuing."}`, http.StatusUnauthorized)
		return
	}
	if len(parts) < 2 || parts[1] != "conversations" {
		http.NotFound(w, r)
		return
	}
	if len(parts) == 2 { // the list
		page, err := strconv.Atoi(r.URL.Query().Get("page"))
		if err != nil || page < 1 || r.URL.Query().Get("status") != "all" {
			http.Error(w, `{"error":"bad"}`, http.StatusBadRequest)
			return
		}
		var all []*cwStored
		for _, s := range acc.convs {
			all = append(all, s)
		}
		slices.SortFunc(all, func(a, b *cwStored) int {
			if d := num(b.conv["last_activity_at"]) - num(a.conv["last_activity_at"]); d != 0 {
				return int(d)
			}
			return int(num(b.conv["id"]) - num(a.conv["id"]))
		})
		from := min((page-1)*f.listPage, len(all))
		payload := []any{}
		for _, s := range all[from:min(from+f.listPage, len(all))] {
			payload = append(payload, s.withLast())
		}
		writeJSON(w, map[string]any{"data": map[string]any{"meta": map[string]any{"all_count": len(all)}, "payload": payload}})
		return
	}
	id, err := strconv.Atoi(parts[2])
	s, ok := acc.convs[id]
	if err != nil || !ok {
		http.Error(w, `{"error":"Resource could not be found"}`, http.StatusNotFound)
		return
	}
	switch {
	case len(parts) == 3:
		writeJSON(w, s.withLast())
	case len(parts) == 4 && parts[3] == "messages":
		after, err := strconv.Atoi(r.URL.Query().Get("after"))
		if err != nil {
			http.Error(w, `{"error":"the source always pages with after"}`, http.StatusBadRequest)
			return
		}
		payload := []any{}
		for _, m := range s.msgs {
			if int(num(m["id"])) > after && len(payload) < f.msgPage {
				payload = append(payload, m)
			}
		}
		writeJSON(w, map[string]any{"meta": map[string]any{"contact": map[string]any{}}, "payload": payload})
	default:
		http.NotFound(w, r)
	}
}

// withLast is the conversation as the API renders it: "messages" holds
// only the last message.
func (s *cwStored) withLast() map[string]any {
	out := map[string]any{}
	for k, v := range s.conv {
		out[k] = v
	}
	out["messages"] = []any{}
	if len(s.msgs) > 0 {
		out["messages"] = []any{s.msgs[len(s.msgs)-1]}
	}
	return out
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return 0
}
