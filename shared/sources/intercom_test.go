package sources_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/sources"
)

// icFake is the Intercom REST API as the fetcher uses it: GET
// /conversations/{id} and POST /conversations/search on updated_at, paged
// by starting_after cursors.
type icFake struct {
	mu       sync.Mutex
	convs    map[string][]byte // id → the conversation as the API answers it
	pageSize int
	answerAs map[string]string
}

func newICFake(pageSize int) *icFake {
	return &icFake{convs: map[string][]byte{}, pageSize: pageSize, answerAs: map[string]string{}}
}

func (f *icFake) put(t testing.TB, id string, conv []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.convs[id] = conv
}

func icAuth(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+token && r.Header.Get("Intercom-Version") == "2.11"
}

func (f *icFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	notFound := func() {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"type": "error.list", "errors": [{"code": "not_found", "message": "Resource Not Found"}]}`))
	}
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/conversations/"):
		id := strings.TrimPrefix(r.URL.Path, "/conversations/")
		if r.URL.Query().Get("display_as") != "" {
			http.Error(w, "the fetcher must read HTML bodies", http.StatusBadRequest)
			return
		}
		if as, ok := f.answerAs[id]; ok {
			id = as
		}
		b, ok := f.convs[id]
		if !ok {
			notFound()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	case r.Method == http.MethodPost && r.URL.Path == "/conversations/search":
		var q struct {
			Query struct {
				Field    string `json:"field"`
				Operator string `json:"operator"`
				Value    int64  `json:"value"`
			} `json:"query"`
			Pagination struct {
				PerPage       int    `json:"per_page"`
				StartingAfter string `json:"starting_after"`
			} `json:"pagination"`
		}
		if err := json.NewDecoder(r.Body).Decode(&q); err != nil || q.Query.Field != "updated_at" || q.Query.Operator != ">" || q.Pagination.PerPage < 1 || q.Pagination.PerPage > 150 {
			http.Error(w, `{"type": "error.list"}`, http.StatusBadRequest)
			return
		}
		type item struct {
			ID        string `json:"id"`
			CreatedAt int64  `json:"created_at"`
			UpdatedAt int64  `json:"updated_at"`
		}
		var all []item
		for _, b := range f.convs {
			var it item
			_ = json.Unmarshal(b, &it)
			if it.UpdatedAt >= q.Query.Value {
				all = append(all, it)
			}
		}
		sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
		off := 0
		if q.Pagination.StartingAfter != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(q.Pagination.StartingAfter, "cursor-"))
			if err != nil {
				http.Error(w, `{"type": "error.list"}`, http.StatusBadRequest)
				return
			}
			off = n
		}
		end := min(off+f.pageSize, len(all))
		pages := map[string]any{"type": "pages", "page": off/f.pageSize + 1, "per_page": f.pageSize, "total_pages": (len(all) + f.pageSize - 1) / f.pageSize}
		if end < len(all) {
			pages["next"] = map[string]any{"page": off/f.pageSize + 2, "starting_after": "cursor-" + strconv.Itoa(end)}
		}
		vWriteJSON(w, map[string]any{"type": "conversation.list", "conversations": all[off:end], "total_count": len(all), "pages": pages})
	default:
		notFound()
	}
}

func newIntercomHarness(t *testing.T) (vHarness, *icFake) {
	plat := newICFake(1)
	file := readFixture(t, "intercom/bot_handoff_transfer.json")
	plat.put(t, "371", file)
	other := jsonAny(t, file).(map[string]any)
	other["id"] = "999"
	other["updated_at"] = json.Number("1719500000")
	plat.put(t, "999", mustJSON(t, other))
	fake := newVFake(t, icAuth, plat)
	return vHarness{
		kind: "intercom", fake: fake, id: "371", want: file, decode: formats.DecodeIntercom, minRequests: 1,
		open: func(t *testing.T, tok string, clock *fakeClock) sources.Source {
			s, err := sources.NewIntercom(sources.IntercomOptions{URL: fake.URL(), Token: tok, Client: clientOpts(clock)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		misroute: func() func() {
			plat.mu.Lock()
			plat.answerAs["371"] = "999"
			plat.mu.Unlock()
			return func() { plat.mu.Lock(); delete(plat.answerAs, "371"); plat.mu.Unlock() }
		},
	}, plat
}

func TestIntercomFetcher(t *testing.T) {
	h, _ := newIntercomHarness(t)
	vendorSuite(t, h)
}

// Intercom answers a 429 with X-RateLimit-Reset (the Unix second the
// window resets), not Retry-After: the wait runs to the reset.
func TestIntercomRateLimitReset(t *testing.T) {
	h, _ := newIntercomHarness(t)
	clock := newFakeClock()
	src := h.open(t, token, clock)
	reset := strconv.FormatInt(clock.Now().Add(9*time.Second).Unix(), 10)
	h.fake.mu.Lock()
	inner := h.fake.inner
	n := 0
	h.fake.inner = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.Header().Set("X-RateLimit-Reset", reset)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		inner.ServeHTTP(w, r)
	})
	h.fake.mu.Unlock()
	if _, err := src.Fetch(context.Background(), vReq(h.id)); err != nil {
		t.Fatal(err)
	}
	if w := clock.waits(); len(w) != 1 || w[0] != 9*time.Second {
		t.Fatalf("waits %v, want 9s to the reset", w)
	}
}

func TestIntercomDiscoverAndSweep(t *testing.T) {
	h, _ := newIntercomHarness(t)
	s := h.open(t, token, newFakeClock()).(*sources.IntercomSource)
	var got []sources.Discovered
	before := h.fake.count()
	if err := s.Discover(context.Background(), "helpdesk", time.Unix(1719493000, 0), func(d sources.Discovered) error { got = append(got, d); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SessionID != "371" || got[1].SessionID != "999" || h.fake.count()-before != 2 {
		t.Fatalf("discovered %+v in %d requests", got, h.fake.count()-before)
	}
	if !got[0].StartedAt.Equal(time.Unix(1719492832, 0)) {
		t.Fatalf("started %v", got[0].StartedAt)
	}
	got = nil
	_ = s.Discover(context.Background(), "helpdesk", time.Unix(1719493048, 0), func(d sources.Discovered) error { got = append(got, d); return nil })
	if len(got) != 1 || got[0].SessionID != "999" {
		t.Fatalf("discovered after 371's update: %+v", got)
	}
	var swept []string
	if err := s.SweepFolder(context.Background(), "helpdesk", time.Unix(0, 0), func(r sources.Result) error {
		swept = append(swept, r.Transcript.SessionID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(swept, ",") != "371,999" {
		t.Fatalf("swept %v", swept)
	}
}

func TestIntercomSettings(t *testing.T) {
	for _, c := range []struct{ entry, err string }{
		{`{"kind": "intercom", "token": "t", "url": "https://api.eu.intercom.io"}`, ""},
		{`{"kind": "intercom", "tokenSecret": "s", "rps": 2}`, ""},
		{`{"kind": "intercom"}`, "token: token or tokenSecret is required"},
		{`{"kind": "intercom", "token": "t", "url": "https://user:pw@api.intercom.io"}`, "url: must not carry credentials"},
		{`{"kind": "intercom", "token": "t", "timeout": -1}`, "timeout:"},
		{`{"kind": "intercom", "token": "t", "Token": "t"}`, "Token: is not a setting"},
	} {
		_, err := sources.ParseSources([]byte(`{"A": ` + c.entry + `}`))
		if c.err == "" && err != nil || c.err != "" && (err == nil || !containsAll(err.Error(), c.err, `SOURCES["A"]`)) {
			t.Errorf("%s: err = %v, want %q", c.entry, err, c.err)
		}
	}
}

func FuzzIntercomSearchPage(f *testing.F) {
	f.Add([]byte(`{"type": "conversation.list", "conversations": [{"id": "371", "created_at": 1719492832, "updated_at": 1719493047}], "total_count": 1, "pages": {"type": "pages", "next": {"page": 2, "starting_after": "WzE3MTk0OTMwNDcwMDAsMzcxXQ=="}}}`))
	f.Add([]byte(`{"type": "conversation.list", "conversations": [], "pages": {"next": null}}`))
	f.Add([]byte(`{"type": "conversation.list", "conversations": [{"id": "a/b"}]}`))
	f.Add([]byte(`{"type": "list", "Type": "conversation.list"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, _, err := sources.ParseIntercomSearchPage(b)
		if err != nil {
			return
		}
		for _, d := range items {
			if d.SessionID == "" || strings.ContainsAny(d.SessionID, "/?#%") {
				t.Fatalf("id %q accepted", d.SessionID)
			}
		}
	})
}
