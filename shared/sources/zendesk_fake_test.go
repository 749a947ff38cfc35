package sources_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// zdFake is the Zendesk Chat API as the zendesk source uses it: GET
// /api/v2/chat/chats/{id} and the incremental chat export, each OAuth token
// seeing only its own account's chats.
type zdFake struct {
	fakeBase
	srv      *httptest.Server
	dataMu   sync.Mutex
	accounts map[string]map[string]zdStored // by bearer token, then chat id
	// nextHost, when set, is the host next_page links point to (a hostile
	// or misconfigured platform).
	nextHost string
}

type zdStored struct {
	chat    map[string]any
	updated int64 // Unix seconds, as the export's start_time compares
}

func newZDFake(t *testing.T) *zdFake {
	f := &zdFake{accounts: map[string]map[string]zdStored{apiTokenA: {}, apiTokenB: {}}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *zdFake) put(token string, chat map[string]any, updated int64) {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	f.accounts[token][chat["id"].(string)] = zdStored{chat: chat, updated: updated}
}

// zdChat is the formats fixture chat under id.
func zdChat(t testing.TB, id string) map[string]any {
	c := loadFixture(t, "zendesk/chat_full.json")
	c["id"] = id
	return c
}

func (f *zdFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.intercept(w, r) {
		return
	}
	auth := r.Header.Get("Authorization")
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	chats, ok := f.accounts[strings.TrimPrefix(auth, "Bearer ")]
	if !strings.HasPrefix(auth, "Bearer ") || !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="zendesk"`)
		http.Error(w, `{"error":"invalid_token"}`, http.StatusUnauthorized)
		return
	}
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, "/api/v2/chat/chats/"):
		c, ok := chats[strings.TrimPrefix(p, "/api/v2/chat/chats/")]
		if !ok {
			http.Error(w, `{"error":"not_found"}`, http.StatusNotFound)
			return
		}
		writeJSON(w, c.chat)
	case p == "/api/v2/chat/incremental/chats":
		q := r.URL.Query()
		start, err1 := strconv.ParseInt(q.Get("start_time"), 10, 64)
		limit, err2 := strconv.Atoi(q.Get("limit"))
		if err1 != nil || err2 != nil || limit < 1 || limit > 1000 || q.Get("fields") != "chats(*)" {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		// The fake's start_id is an offset into the ordered export.
		off, _ := strconv.Atoi(q.Get("start_id"))
		var ids []string
		for id, c := range chats {
			if c.updated >= start {
				ids = append(ids, id)
			}
		}
		slices.SortFunc(ids, func(a, b string) int {
			if d := chats[a].updated - chats[b].updated; d != 0 {
				return int(d)
			}
			return strings.Compare(a, b)
		})
		ids = ids[min(off, len(ids)):]
		ids = ids[:min(limit, len(ids))]
		page := []any{}
		end := start
		for _, id := range ids {
			page = append(page, chats[id].chat)
			end = chats[id].updated
		}
		host := r.Host
		if f.nextHost != "" {
			host = f.nextHost
		}
		q.Set("start_id", strconv.Itoa(off+len(ids)))
		next := (&url.URL{Scheme: "http", Host: host, Path: p, RawQuery: q.Encode()}).String()
		endID := ""
		if len(ids) > 0 {
			endID = ids[len(ids)-1]
		}
		writeJSON(w, map[string]any{"chats": page, "count": len(page), "end_time": end, "end_id": endID, "next_page": next})
	default:
		http.NotFound(w, r)
	}
}
