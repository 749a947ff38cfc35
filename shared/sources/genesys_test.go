package sources_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/sources"
)

// gcFake is Genesys Cloud as the fetcher uses it: the OAuth client
// credentials grant, the messaging conversation, the bulk message bodies
// and the analytics conversation details query.
type gcFake struct {
	mu       sync.Mutex
	convs    map[string]map[string]any // id → conversation
	messages map[string]any            // message id → MessageData
	starts   map[string]time.Time
	tokens   map[string]bool // issued and valid
	issued   int
	answerAs map[string]string
	bulkCall int
	pageSize int
}

const (
	gcClient = "3f2c0b8e-client"
	gcSecret = token // the client secret is the credential the suite varies
)

func newGCFake() *gcFake {
	return &gcFake{convs: map[string]map[string]any{}, messages: map[string]any{}, starts: map[string]time.Time{},
		tokens: map[string]bool{}, answerAs: map[string]string{}, pageSize: 1}
}

// put adds a platform file {"conversation", "messages"}: the conversation
// lists every message id on its customer participant (as the API does on
// the participants that sent or received them), in the division given.
func (f *gcFake) put(t testing.TB, file []byte, division string) string {
	var d struct {
		Conversation map[string]any   `json:"conversation"`
		Messages     []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal(file, &d); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c := d.Conversation
	id := c["id"].(string)
	parts := c["participants"].([]any)
	cust := parts[0].(map[string]any)
	listed := map[string]bool{}
	for _, p := range parts {
		for _, m := range asSlice(p.(map[string]any)["messages"]) {
			listed[m.(map[string]any)["messageId"].(string)] = true
		}
	}
	msgs := asSlice(cust["messages"])
	for _, m := range d.Messages {
		mid := m["id"].(string)
		if _, dup := f.messages[mid]; !dup {
			f.messages[mid] = m
		}
		if !listed[mid] {
			listed[mid] = true
			msgs = append(msgs, map[string]any{"messageId": mid, "messageStatus": "delivered"})
		}
	}
	cust["messages"] = msgs
	c["divisions"] = []any{map[string]any{"division": map[string]any{"id": division}, "entities": []any{}}}
	f.convs[id] = c
	start, _ := time.Parse(time.RFC3339Nano, cust["startTime"].(string))
	f.starts[id] = start
	return id
}

func (f *gcFake) auth(r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/oauth/token" {
		return r.Header.Get("Authorization") == "Basic "+base64.StdEncoding.EncodeToString([]byte(gcClient+":"+gcSecret))
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && f.tokens[tok]
}

func (f *gcFake) revokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func (f *gcFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	notFound := func() {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message": "The requested conversation was not found.", "code": "not.found", "status": 404}`))
	}
	const convPrefix = "/api/v2/conversations/messages/"
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/oauth/token":
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error": "invalid_request"}`, http.StatusBadRequest)
			return
		}
		f.issued++
		tok := fmt.Sprintf("gc-access-%d", f.issued)
		f.tokens[tok] = true
		vWriteJSON(w, map[string]any{"access_token": tok, "token_type": "bearer", "expires_in": 86399})
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, convPrefix):
		id := strings.TrimPrefix(r.URL.Path, convPrefix)
		if as, ok := f.answerAs[id]; ok {
			id = as
		}
		c, ok := f.convs[id]
		if !ok {
			notFound()
			return
		}
		vWriteJSON(w, c)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, convPrefix) && strings.HasSuffix(r.URL.Path, "/messages/bulk"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, convPrefix), "/messages/bulk")
		if _, ok := f.convs[id]; !ok {
			notFound()
			return
		}
		var ids []string
		if err := json.NewDecoder(r.Body).Decode(&ids); err != nil || len(ids) == 0 || len(ids) > 1000 || r.URL.Query().Get("useNormalizedMessage") != "true" {
			http.Error(w, `{"status": 400}`, http.StatusBadRequest)
			return
		}
		f.bulkCall++
		ents := []any{}
		for _, mid := range ids {
			if m, ok := f.messages[mid]; ok {
				ents = append(ents, m)
			}
		}
		vWriteJSON(w, map[string]any{"entities": ents})
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/analytics/conversations/details/query":
		var q struct {
			Interval string `json:"interval"`
			Order    string `json:"order"`
			Paging   struct {
				PageSize   int `json:"pageSize"`
				PageNumber int `json:"pageNumber"`
			} `json:"paging"`
			ConversationFilters []struct {
				Predicates []struct {
					Dimension string `json:"dimension"`
					Value     string `json:"value"`
				} `json:"predicates"`
			} `json:"conversationFilters"`
		}
		from, to, ok := func() (time.Time, time.Time, bool) {
			if json.NewDecoder(r.Body).Decode(&q) != nil {
				return time.Time{}, time.Time{}, false
			}
			a, b, ok := strings.Cut(q.Interval, "/")
			ta, e1 := time.Parse(time.RFC3339Nano, a)
			tb, e2 := time.Parse(time.RFC3339Nano, b)
			return ta, tb, ok && e1 == nil && e2 == nil && tb.Sub(ta) <= 7*24*time.Hour && q.Paging.PageNumber >= 1 && q.Paging.PageSize <= 100
		}()
		if !ok {
			http.Error(w, `{"status": 400}`, http.StatusBadRequest)
			return
		}
		var divs []string
		for _, cf := range q.ConversationFilters {
			for _, p := range cf.Predicates {
				if p.Dimension == "divisionId" {
					divs = append(divs, p.Value)
				}
			}
		}
		var ids []string
		for id, st := range f.starts {
			div := f.convs[id]["divisions"].([]any)[0].(map[string]any)["division"].(map[string]any)["id"].(string)
			if !st.Before(from) && st.Before(to) && (len(divs) == 0 || contains(divs, div)) {
				ids = append(ids, id)
			}
		}
		sort.Slice(ids, func(i, j int) bool {
			a, b := f.starts[ids[i]], f.starts[ids[j]]
			return a.Before(b) || a.Equal(b) && ids[i] < ids[j]
		})
		size := min(f.pageSize, q.Paging.PageSize)
		off := (q.Paging.PageNumber - 1) * size
		var out []any
		for _, id := range ids[min(off, len(ids)):min(off+size, len(ids))] {
			div := f.convs[id]["divisions"].([]any)[0].(map[string]any)["division"].(map[string]any)["id"].(string)
			out = append(out, map[string]any{"conversationId": id, "conversationStart": f.starts[id].Format("2006-01-02T15:04:05.000Z"), "divisionIds": []string{div}})
		}
		resp := map[string]any{"totalHits": len(ids)}
		if len(out) > 0 {
			resp["conversations"] = out
		}
		vWriteJSON(w, resp)
	default:
		notFound()
	}
}

func contains(s []string, x string) bool {
	for _, e := range s {
		if e == x {
			return true
		}
	}
	return false
}

const gcConvID = "8f1c3b2a-5d4e-4f60-9a7b-1c2d3e4f5a6b"

func newGenesysHarness(t *testing.T) (vHarness, *gcFake) {
	plat := newGCFake()
	file := readFixture(t, "genesys/vpn_transfer.json")
	plat.put(t, file, "div-a")
	other := jsonAny(t, file).(map[string]any)
	other["conversation"].(map[string]any)["id"] = "0000aaaa-5d4e-4f60-9a7b-1c2d3e4f5a6b"
	plat.put(t, mustJSON(t, other), "div-b")
	fake := newVFake(t, plat.auth, plat)
	// The assembled file: the conversation as served, the bodies in the
	// order the conversation lists them (m-0011 once).
	c := plat.convs[gcConvID]
	var msgs []string
	for _, m := range asSlice(c["participants"].([]any)[0].(map[string]any)["messages"]) {
		msgs = append(msgs, string(mustJSON(t, plat.messages[m.(map[string]any)["messageId"].(string)])))
	}
	for _, p := range c["participants"].([]any)[1:] {
		for _, m := range asSlice(p.(map[string]any)["messages"]) {
			msgs = append(msgs, string(mustJSON(t, plat.messages[m.(map[string]any)["messageId"].(string)])))
		}
	}
	want := []byte(`{"conversation":` + string(mustJSON(t, c)) + `,"messages":[` + strings.Join(msgs, ",") + `]}`)
	return vHarness{
		kind: "genesys", fake: fake, id: gcConvID, want: want, decode: decoder(t, "genesys"), minRequests: 5,
		open: func(t *testing.T, secret string, clock *fakeClock) sources.Source {
			return openGenesys(t, fake.URL(), secret, clock)
		},
		misroute: func() func() {
			plat.mu.Lock()
			plat.answerAs[gcConvID] = "0000aaaa-5d4e-4f60-9a7b-1c2d3e4f5a6b"
			plat.mu.Unlock()
			return func() { plat.mu.Lock(); delete(plat.answerAs, gcConvID); plat.mu.Unlock() }
		},
	}, plat
}

func openGenesys(t *testing.T, u, secret string, clock *fakeClock, divisions ...string) *sources.GenesysSource {
	t.Helper()
	s, err := sources.NewGenesys(sources.GenesysOptions{APIURL: u, LoginURL: u, ClientID: gcClient, ClientSecret: secret,
		BulkSize: 5, DivisionIDs: divisions, Client: clientOpts(clock)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGenesysFetcher(t *testing.T) {
	h, _ := newGenesysHarness(t)
	vendorSuite(t, h)
}

// The token is fetched once and reused until it nears its expiry; a 401
// (revoked token) renews it once and retries.
func TestGenesysTokenCache(t *testing.T) {
	h, plat := newGenesysHarness(t)
	clock := newFakeClock()
	s := openGenesys(t, h.fake.URL(), gcSecret, clock)
	ctx := context.Background()
	for range 3 {
		if _, err := s.Fetch(ctx, vReq(gcConvID)); err != nil {
			t.Fatal(err)
		}
	}
	if plat.issued != 1 {
		t.Fatalf("%d tokens for three fetches, want 1", plat.issued)
	}
	// The bulk calls: 11 distinct ids by 5 = 3 a fetch.
	if plat.bulkCall != 9 {
		t.Fatalf("%d bulk calls, want 9", plat.bulkCall)
	}
	plat.revokeAll()
	if _, err := s.Fetch(ctx, vReq(gcConvID)); err != nil {
		t.Fatalf("after a revoked token: %v", err)
	}
	if plat.issued != 2 {
		t.Fatalf("%d tokens after the revocation, want 2", plat.issued)
	}
	// A day later the cached token has expired: a new one without a 401.
	clock.mu.Lock()
	clock.now = clock.now.Add(24 * time.Hour)
	clock.mu.Unlock()
	before := h.fake.count()
	if _, err := s.Fetch(ctx, vReq(gcConvID)); err != nil {
		t.Fatal(err)
	}
	if plat.issued != 3 || h.fake.count()-before != 5 {
		t.Fatalf("after expiry: %d tokens, %d requests (want 3 tokens, token + 4 calls)", plat.issued, h.fake.count()-before)
	}
}

func TestGenesysDivisionsAndDiscover(t *testing.T) {
	h, _ := newGenesysHarness(t)
	clock := newFakeClock() // 2026-11-21T10:00Z; the conversations started 2026-11-20
	ctx := context.Background()
	if _, err := openGenesys(t, h.fake.URL(), gcSecret, clock, "div-b").Fetch(ctx, vReq(gcConvID)); !sources.IsBadTranscript(err) {
		t.Fatalf("conversation of another division: %v, want refused", err)
	}
	if _, err := openGenesys(t, h.fake.URL(), gcSecret, clock, "div-a", "div-c").Fetch(ctx, vReq(gcConvID)); err != nil {
		t.Fatalf("conversation of the folder's division: %v", err)
	}
	var got []sources.Discovered
	collect := func(d sources.Discovered) error { got = append(got, d); return nil }
	s := openGenesys(t, h.fake.URL(), gcSecret, clock)
	// Since three weeks back: windows of a week, one hit a page.
	if err := s.Discover(ctx, "helpdesk", clock.Now().Add(-21*24*time.Hour), collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].SessionID != "0000aaaa-5d4e-4f60-9a7b-1c2d3e4f5a6b" || got[1].SessionID != gcConvID {
		t.Fatalf("discovered %+v", got)
	}
	if want := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC); !got[0].StartedAt.Equal(want) {
		t.Fatalf("started %v, want %v", got[0].StartedAt, want)
	}
	got = nil
	if err := openGenesys(t, h.fake.URL(), gcSecret, clock, "div-a").Discover(ctx, "helpdesk", clock.Now().Add(-48*time.Hour), collect); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].SessionID != gcConvID {
		t.Fatalf("discovered in div-a %+v", got)
	}
	var swept []string
	if err := s.SweepFolder(ctx, "helpdesk", clock.Now().Add(-48*time.Hour), func(r sources.Result) error {
		swept = append(swept, r.Transcript.SessionID)
		return nil
	}); err != nil || len(swept) != 2 {
		t.Fatalf("swept %v, %v", swept, err)
	}
}

func TestGenesysSettings(t *testing.T) {
	for _, c := range []struct{ entry, err string }{
		{`{"kind": "genesys", "region": "mypurecloud.ie", "clientId": "c", "clientSecret": "s"}`, ""},
		{`{"kind": "genesys", "apiUrl": "https://a.example", "loginUrl": "https://l.example", "clientId": "c", "clientSecretSecret": "n", "divisionIds": ["d1"]}`, ""},
		{`{"kind": "genesys", "clientId": "c", "clientSecret": "s"}`, "region: is required"},
		{`{"kind": "genesys", "region": "https://api.mypurecloud.com", "clientId": "c", "clientSecret": "s"}`, "region:"},
		{`{"kind": "genesys", "region": "mypurecloud.com", "clientSecret": "s"}`, "clientId: is required"},
		{`{"kind": "genesys", "region": "mypurecloud.com", "clientId": "c"}`, "clientSecret: clientSecret or clientSecretSecret is required"},
		{`{"kind": "genesys", "region": "mypurecloud.com", "clientId": "c", "clientSecret": "s", "divisionIds": ["a/b"]}`, "divisionIds:"},
		{`{"kind": "genesys", "region": "mypurecloud.com", "clientId": "c", "clientSecret": "s", "token": "t"}`, "token: is not a setting"},
	} {
		_, err := sources.ParseSources([]byte(`{"A": ` + c.entry + `}`))
		if c.err == "" && err != nil || c.err != "" && (err == nil || !containsAll(err.Error(), c.err, `SOURCES["A"]`)) {
			t.Errorf("%s: err = %v, want %q", c.entry, err, c.err)
		}
	}
}

func FuzzGenesysToken(f *testing.F) {
	f.Add([]byte(`{"access_token": "abc", "token_type": "bearer", "expires_in": 86399}`))
	f.Add([]byte(`{"access_token": "", "token_type": "bearer", "expires_in": 1}`))
	f.Add([]byte(`{"access_token": "a b", "token_type": "Bearer", "expires_in": -5}`))
	f.Add([]byte(`{"Access_token": "abc"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := sources.ParseGenesysToken(b)
		if err == nil && (tok.AccessToken == "" || tok.ExpiresIn <= 0 || strings.ContainsAny(tok.AccessToken, " \n")) {
			t.Fatalf("accepted %+v", tok)
		}
	})
}

func FuzzGenesysQueryPage(f *testing.F) {
	f.Add([]byte(`{"conversations": [{"conversationId": "8f1c3b2a-5d4e-4f60-9a7b-1c2d3e4f5a6b", "conversationStart": "2026-11-20T09:00:00.000Z", "divisionIds": ["d"]}], "totalHits": 1}`))
	f.Add([]byte(`{"totalHits": 0}`))
	f.Add([]byte(`{"conversations": [{"conversationId": "x y"}], "totalHits": -1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, divs, total, err := sources.ParseGenesysQueryPage(b)
		if err != nil {
			return
		}
		if total < 0 || len(items) != len(divs) {
			t.Fatalf("total %d, %d items, %d division lists", total, len(items), len(divs))
		}
		for _, d := range items {
			if d.SessionID == "" || strings.ContainsAny(d.SessionID, " /") {
				t.Fatalf("id %q accepted", d.SessionID)
			}
		}
	})
}
