package sources_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/transcript"
)

// One case per platform API kind: its fake with the formats fixture in
// account A, and how to open the source on it.
type platformCase struct {
	kind      string
	fixture   string // formats testdata file
	id        string // the fixture's session in account A
	unknownID string
	figures   string // the card's platformFigures for the fixture
	fetchPath string // path prefix of a fetch's first call
	setup     func(t *testing.T) (url string, base *fakeBase)
	open      func(url, token string, c sources.ClientOptions) (sources.Source, error)
}

const (
	zdFixtureID = "2611.10042.QpL3xYzR"
	cwFixtureID = 4711
	rcFixtureID = "Kc7dPqR2sTuVwXyZa"
)

func platformCases() []platformCase {
	return []platformCase{
		{kind: "zendesk", fixture: "zendesk/chat_full.json", id: zdFixtureID, unknownID: "2611.1.nothere",
			figures:   `{"platform":"zendesk","response_time":{"first":56,"avg":38,"max":56}}`,
			fetchPath: "/api/v2/chat/chats/",
			setup: func(t *testing.T) (string, *fakeBase) {
				f := newZDFake(t)
				f.put(apiTokenA, zdChat(t, zdFixtureID), 1795165500)
				return f.srv.URL, &f.fakeBase
			},
			open: func(u, tok string, c sources.ClientOptions) (sources.Source, error) {
				return sources.NewZendesk(sources.ZendeskOptions{BaseURL: u, Token: tok, Client: c})
			}},
		{kind: "chatwoot", fixture: "chatwoot/conversation_full.json", id: "4711", unknownID: "4712",
			figures:   `{"created_at":1795165200,"first_reply_created_at":1795165265,"platform":"chatwoot"}`,
			fetchPath: "/api/v1/accounts/3/conversations/4711",
			setup: func(t *testing.T) (string, *fakeBase) {
				f := newCWFake(t)
				f.put(apiTokenA, cwConversation(t, cwFixtureID))
				return f.srv.URL, &f.fakeBase
			},
			open: func(u, tok string, c sources.ClientOptions) (sources.Source, error) {
				acc := int64(3)
				if tok == apiTokenB {
					acc = 4
				}
				return sources.NewChatwoot(sources.ChatwootOptions{BaseURL: u, Token: tok, AccountID: acc, Client: c})
			}},
		{kind: "rocketchat", fixture: "rocketchat/room_full.json", id: rcFixtureID, unknownID: "NoSuchRoom0000000",
			figures:   `{"metrics":{"reaction":{"fd":"2026-11-20T09:01:05.250Z","ft":25.25,"tt":45.25},"response":{"avg":55.625,"fd":"2026-11-20T09:01:05.250Z","ft":56.25,"total":2,"tt":111.25}},"platform":"rocketchat"}`,
			fetchPath: "/api/v1/rooms.info",
			setup: func(t *testing.T) (string, *fakeBase) {
				f := newRCFake(t)
				f.put(rcUserA, rcRoomFixture(t, rcFixtureID))
				return f.srv.URL, &f.fakeBase
			},
			open: func(u, tok string, c sources.ClientOptions) (sources.Source, error) {
				user := rcUserA
				if tok == apiTokenB {
					user = rcUserB
				}
				return sources.NewRocketChat(sources.RocketChatOptions{BaseURL: u, Token: tok, UserID: user, Client: c})
			}},
	}
}

func openCase(t *testing.T, pc platformCase, u, tok string, clock *apiClock) sources.Source {
	t.Helper()
	src, err := pc.open(u, tok, testClient(clock))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("figures %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("figures %s, want %s", got, want)
	}
}

// The fetcher assembles from the API exactly the file the decoder reads:
// the fetched transcript is the fixture's, with the platform's figures.
func TestPlatformFetchMatchesFixture(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, _ := pc.setup(t)
			src := openCase(t, pc, u, apiTokenA, newAPIClock())
			res, err := src.Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id})
			if err != nil {
				t.Fatal(err)
			}
			want, _, err := formats.Decode(pc.kind, fixtureBytes(t, pc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if pc.kind == "chatwoot" {
				want.Transcript.SessionID = pc.id
			}
			if diff := cmp.Diff(want.Transcript, res.Transcript); diff != "" {
				t.Fatalf("transcript differs from the fixture's (-fixture +fetched):\n%s", diff)
			}
			jsonEqual(t, res.Figures, pc.figures)
			if len(res.Hash) != 64 {
				t.Fatalf("hash %q", res.Hash)
			}
			again, err := src.Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id})
			if err != nil || again.Hash != res.Hash {
				t.Fatalf("second fetch: hash %s vs %s, %v", again.Hash, res.Hash, err)
			}
		})
	}
}

func TestPlatformUnknownIsNotYet(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, _ := pc.setup(t)
			// Account B does not have A's chat either: to B it does not exist.
			for _, c := range []struct{ tok, id string }{{apiTokenA, pc.unknownID}, {apiTokenB, pc.id}} {
				_, err := openCase(t, pc, u, c.tok, newAPIClock()).Fetch(context.Background(), sources.Request{Folder: "A", SessionID: c.id})
				if !errors.Is(err, sources.ErrNotYet) {
					t.Fatalf("%s: %v, want ErrNotYet", c.id, err)
				}
			}
		})
	}
}

func TestPlatformWrongTokenNamesFolderAndKind(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, base := pc.setup(t)
			_, err := openCase(t, pc, u, apiBadTok, newAPIClock()).Fetch(context.Background(), sources.Request{Folder: "helpdesk", SessionID: pc.id})
			if err == nil || errors.Is(err, sources.ErrNotYet) || sources.IsBadTranscript(err) {
				t.Fatalf("wrong token: %v", err)
			}
			for _, want := range []string{"folder helpdesk", pc.kind, "401", "token"} {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not say %q", err, want)
				}
			}
			noSecret(t, err)
			if n := base.callCount(""); n != 1 {
				t.Fatalf("a refused token was tried %d times, want once", n)
			}
		})
	}
}

func TestPlatformHonoursRetryAfter(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, base := pc.setup(t)
			base.fail(pc.fetchPath, 1, http.StatusTooManyRequests, "7")
			clock := newAPIClock()
			if _, err := openCase(t, pc, u, apiTokenA, clock).Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id}); err != nil {
				t.Fatal(err)
			}
			if w := clock.waits(); len(w) != 1 || w[0] != 7*time.Second {
				t.Fatalf("waits %v, want the 7 s Retry-After", w)
			}
		})
	}
}

func TestPlatformRetries5xx(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, base := pc.setup(t)
			base.fail(pc.fetchPath, 2, http.StatusServiceUnavailable, "")
			if _, err := openCase(t, pc, u, apiTokenA, newAPIClock()).Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id}); err != nil {
				t.Fatal(err)
			}
			if n := base.callCount(pc.fetchPath); n < 3 {
				t.Fatalf("%d calls to %s, want 2 failures and a success", n, pc.fetchPath)
			}
			// Retries spent: the error says so, and names no secret.
			base.fail(pc.fetchPath, 10, http.StatusBadGateway, "")
			_, err := openCase(t, pc, u, apiTokenA, newAPIClock()).Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id})
			if err == nil || !strings.Contains(err.Error(), "giving up") {
				t.Fatalf("after retries: %v", err)
			}
			noSecret(t, err)
		})
	}
}

func TestPlatformOther4xxFailsOnce(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, base := pc.setup(t)
			base.fail(pc.fetchPath, 1, http.StatusConflict, "")
			_, err := openCase(t, pc, u, apiTokenA, newAPIClock()).Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id})
			if err == nil || errors.Is(err, sources.ErrNotYet) || !strings.Contains(err.Error(), "409") {
				t.Fatalf("409: %v", err)
			}
			if n := base.callCount(pc.fetchPath); n != 1 {
				t.Fatalf("%d calls, want 1", n)
			}
		})
	}
}

// A session id that would walk the URL path never reaches the platform.
func TestPlatformRefusesPathIDs(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, base := pc.setup(t)
			src := openCase(t, pc, u, apiTokenA, newAPIClock())
			for _, id := range []string{"..", ".", "a/b", "", "x y"} {
				if _, err := src.Fetch(context.Background(), sources.Request{Folder: "A", SessionID: id}); err == nil || errors.Is(err, sources.ErrNotYet) {
					t.Fatalf("%q: %v", id, err)
				}
			}
			if n := base.callCount(""); n != 0 {
				t.Fatalf("%d calls for invalid ids", n)
			}
		})
	}
}

// A platform that answers with something else than its API's JSON gives a
// bad transcript for that session, not a panic and not a retry loop.
func TestPlatformGarbageIsBadTranscript(t *testing.T) {
	z := newZDFake(t)
	bad := zdChat(t, "zd.1")
	bad["history"] = "not a list"
	z.put(apiTokenA, bad, 1)
	src, _ := sources.NewZendesk(sources.ZendeskOptions{BaseURL: z.srv.URL, Token: apiTokenA, Client: testClient(newAPIClock())})
	if _, err := src.Fetch(context.Background(), sources.Request{SessionID: "zd.1"}); !sources.IsBadTranscript(err) {
		t.Fatalf("zendesk: %v", err)
	}
	// Another chat than the one asked for is refused.
	other := zdChat(t, "zd.3")
	z.put(apiTokenA, other, 1)
	z.accounts[apiTokenA]["zd.2"] = z.accounts[apiTokenA]["zd.3"]
	if _, err := src.Fetch(context.Background(), sources.Request{SessionID: "zd.2"}); !sources.IsBadTranscript(err) {
		t.Fatalf("misrouted chat: %v", err)
	}

	c := newCWFake(t)
	conv := cwConversation(t, 5)
	conv.msgs[2]["message_type"] = 9
	c.put(apiTokenA, conv)
	cw, _ := sources.NewChatwoot(sources.ChatwootOptions{BaseURL: c.srv.URL, Token: apiTokenA, AccountID: 3, Client: testClient(newAPIClock())})
	if _, err := cw.Fetch(context.Background(), sources.Request{SessionID: "5"}); !sources.IsBadTranscript(err) || !strings.Contains(err.Error(), "message_type") {
		t.Fatalf("chatwoot: %v", err)
	}
	if _, err := cw.Fetch(context.Background(), sources.Request{SessionID: "abc"}); !sources.IsBadTranscript(err) {
		t.Fatalf("chatwoot non-numeric id: %v", err)
	}

	r := newRCFake(t)
	room := rcRoomFixture(t, "RoomWithoutToken0")
	delete(room.room, "v")
	r.put(rcUserA, room)
	rc, _ := sources.NewRocketChat(sources.RocketChatOptions{BaseURL: r.srv.URL, Token: apiTokenA, UserID: rcUserA, Client: testClient(newAPIClock())})
	if _, err := rc.Fetch(context.Background(), sources.Request{SessionID: "RoomWithoutToken0"}); !sources.IsBadTranscript(err) || !strings.Contains(err.Error(), "v.token") {
		t.Fatalf("rocketchat: %v", err)
	}
}

// The transcripts and hashes do not depend on how the platform pages.
func TestChatwootPagesMessages(t *testing.T) {
	f := newCWFake(t)
	f.msgPage = 4
	f.put(apiTokenA, cwConversation(t, cwFixtureID))
	src, _ := sources.NewChatwoot(sources.ChatwootOptions{BaseURL: f.srv.URL, Token: apiTokenA, AccountID: 3, Client: testClient(newAPIClock())})
	small, err := src.Fetch(context.Background(), sources.Request{SessionID: "4711"})
	if err != nil {
		t.Fatal(err)
	}
	if !f.sawHeader {
		t.Fatal("the token did not come in the api_access_token header")
	}
	// 14 messages, 4 a page: 4 pages and the empty one that ends the walk.
	if n := f.callCount("/api/v1/accounts/3/conversations/4711/messages"); n != 5 {
		t.Fatalf("%d message pages read, want 5", n)
	}
	f.msgPage = 100
	big, err := src.Fetch(context.Background(), sources.Request{SessionID: "4711"})
	if err != nil {
		t.Fatal(err)
	}
	if small.Hash != big.Hash || !cmp.Equal(small.Transcript, big.Transcript) {
		t.Fatal("paging changed the transcript")
	}
}

func TestRocketChatPagesHistory(t *testing.T) {
	f := newRCFake(t)
	room := rcRoomFixture(t, "LongRoom000000001")
	at := time.Date(2026, 11, 20, 9, 0, 30, 0, time.UTC)
	var extra []map[string]any
	for i := range 250 {
		extra = append(extra, map[string]any{"_id": "m" + strings.Repeat("0", 4) + string(rune('a'+i%26)) + time.Duration(i).String(),
			"rid": "LongRoom000000001", "msg": "line", "ts": at.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
			"u": map[string]any{"_id": "vJ3kL9mN2pQ4rS6tU", "username": "guest-1042"}, "token": "tok-jane-1042"})
	}
	// The extra lines go between the fixture's first message and the rest.
	room.msgs = append(append(room.msgs[:1:1], extra...), room.msgs[1:]...)
	f.put(rcUserA, room)
	src, _ := sources.NewRocketChat(sources.RocketChatOptions{BaseURL: f.srv.URL, Token: apiTokenA, UserID: rcUserA, Client: testClient(newAPIClock())})
	res, err := src.Fetch(context.Background(), sources.Request{SessionID: "LongRoom000000001"})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.callCount("/api/v1/livechat/messages.history/"); n != 3 {
		t.Fatalf("%d history pages, want 3 (100+100+65)", n)
	}
	lines := 0
	for _, e := range res.Transcript.Events {
		if e.Type == transcript.EventMessage && e.Text == "line" {
			lines++
		}
	}
	if lines != 250 {
		t.Fatalf("%d of the 250 extra lines came back", lines)
	}
}

func TestZendeskSweepAndDiscover(t *testing.T) {
	f := newZDFake(t)
	for i, id := range []string{"zd.1", "zd.2", "zd.3", "zd.4", "zd.5"} {
		f.put(apiTokenA, zdChat(t, id), int64(1000*(i+1)))
	}
	offline := zdChat(t, "zd.off")
	offline["type"] = "offline_msg"
	f.put(apiTokenA, offline, 4500)
	f.put(apiTokenB, zdChat(t, "zd.B"), 5000)
	clock := newAPIClock()
	src, _ := sources.NewZendesk(sources.ZendeskOptions{BaseURL: f.srv.URL, Token: apiTokenA, Client: testClient(clock), PageSize: 2})
	since := time.Unix(2000, 0)
	var got []string
	if err := src.SweepFolder(context.Background(), "A", since, func(r sources.Result) error {
		got = append(got, r.Transcript.SessionID)
		if r.Figures == nil {
			t.Errorf("%s: no figures", r.Transcript.SessionID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(got, []string{"zd.2", "zd.3", "zd.4", "zd.5"}) {
		t.Fatalf("swept %v", got)
	}
	var disc []string
	if err := src.Discover(context.Background(), "A", since, func(d sources.Discovered) error {
		disc = append(disc, d.SessionID)
		if !d.StartedAt.Equal(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("%s started %v", d.SessionID, d.StartedAt)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(disc, got) {
		t.Fatalf("discovered %v", disc)
	}
	// A next_page on another host is not followed: the token stays home.
	f.nextHost = "evil.example:80"
	err := src.SweepFolder(context.Background(), "A", since, func(sources.Result) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "next_page") {
		t.Fatalf("foreign next_page: %v", err)
	}
}

func TestChatwootSweepAndDiscover(t *testing.T) {
	f := newCWFake(t)
	f.listPage = 2
	for i, id := range []int{11, 12, 13, 14} {
		s := cwConversation(t, id)
		s.conv["last_activity_at"] = 1795165000 + 100*i
		f.put(apiTokenA, s)
	}
	f.put(apiTokenB, cwConversation(t, 99))
	src, _ := sources.NewChatwoot(sources.ChatwootOptions{BaseURL: f.srv.URL, Token: apiTokenA, AccountID: 3, Client: testClient(newAPIClock())})
	since := time.Unix(1795165150, 0)
	var got []string
	if err := src.SweepFolder(context.Background(), "A", since, func(r sources.Result) error {
		got = append(got, r.Transcript.SessionID)
		jsonEqual(t, r.Figures, `{"created_at":1795165200,"first_reply_created_at":1795165265,"platform":"chatwoot"}`)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(got, []string{"14", "13"}) {
		t.Fatalf("swept %v", got)
	}
	var disc []string
	if err := src.Discover(context.Background(), "A", since, func(d sources.Discovered) error {
		disc = append(disc, d.SessionID)
		if !d.StartedAt.Equal(time.Unix(1795165200, 0)) {
			t.Errorf("%s started %v", d.SessionID, d.StartedAt)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(disc, got) {
		t.Fatalf("discovered %v", disc)
	}
}

func TestRocketChatSweepAndDiscover(t *testing.T) {
	f := newRCFake(t)
	closedRecent := rcRoomFixture(t, "ClosedRecent00001")
	closedOld := rcRoomFixture(t, "ClosedOld00000001")
	closedOld.room["ts"] = "2026-11-01T09:00:00.000Z"
	closedOld.room["closedAt"] = "2026-11-01T10:00:00.000Z"
	open := rcRoomFixture(t, "OpenRoom000000001")
	open.room["ts"] = "2026-11-01T08:00:00.000Z"
	for _, k := range []string{"closedAt", "closer", "closedBy"} {
		delete(open.room, k)
	}
	var kept []map[string]any
	for _, m := range open.msgs {
		if m["t"] != "livechat-close" {
			kept = append(kept, m)
		}
	}
	open.msgs = kept
	for _, r := range []*rcRoom{closedRecent, closedOld, open} {
		f.put(rcUserA, r)
	}
	f.put(rcUserB, rcRoomFixture(t, "RoomOfB0000000001"))
	src, _ := sources.NewRocketChat(sources.RocketChatOptions{BaseURL: f.srv.URL, Token: apiTokenA, UserID: rcUserA, Client: testClient(newAPIClock())})
	since := time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC)
	var got []string
	if err := src.SweepFolder(context.Background(), "A", since, func(r sources.Result) error {
		got = append(got, r.Transcript.SessionID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(got, []string{"ClosedRecent00001", "OpenRoom000000001"}) {
		t.Fatalf("swept %v", got)
	}
	var disc []string
	if err := src.Discover(context.Background(), "A", since, func(d sources.Discovered) error {
		disc = append(disc, d.SessionID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(disc, []string{"ClosedRecent00001"}) {
		t.Fatalf("discovered %v", disc)
	}
}

// The kinds' SOURCES keys: checked strictly, errors naming the key.
func TestPlatformSettings(t *testing.T) {
	ok := []string{
		`{"A": {"kind": "zendesk", "url": "https://acme.zendesk.com", "token": "t"}}`,
		`{"A": {"kind": "chatwoot", "url": "https://app.chatwoot.com", "accountId": 3, "tokenSecret": "cw/A", "rps": 5, "timeout": "5s"}}`,
		`{"A": {"kind": "rocketchat", "url": "https://chat.example.com", "userId": "u1", "token": "t", "rps": 0.5}}`,
	}
	for _, s := range ok {
		if _, err := sources.ParseSources([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := map[string]string{
		`{"A": {"kind": "zendesk", "token": "t"}}`:                                                        `SOURCES["A"].url: is required`,
		`{"A": {"kind": "zendesk", "url": "ftp://x", "token": "t"}}`:                                      `SOURCES["A"].url:`,
		`{"A": {"kind": "zendesk", "url": "https://x"}}`:                                                  `SOURCES["A"].token:`,
		`{"A": {"kind": "chatwoot", "url": "https://x", "token": "t"}}`:                                   `SOURCES["A"].accountId: is required`,
		`{"A": {"kind": "chatwoot", "url": "https://x", "token": "t", "accountId": 0}}`:                   `SOURCES["A"].accountId:`,
		`{"A": {"kind": "chatwoot", "url": "https://x", "token": "t", "accountId": "3"}}`:                 `SOURCES["A"].accountId:`,
		`{"A": {"kind": "rocketchat", "url": "https://x", "token": "t"}}`:                                 `SOURCES["A"].userId: is required`,
		`{"A": {"kind": "rocketchat", "url": "https://x", "token": "t", "userId": "u", "rps": -1}}`:       `SOURCES["A"].rps:`,
		`{"A": {"kind": "rocketchat", "url": "https://x", "token": "t", "userId": "u", "accountid": 1}}`:  `SOURCES["A"].accountid: is not a setting`,
		`{"A": {"kind": "zendesk", "url": "https://x", "token": "t", "tokenSecret": "s"}}`:                `SOURCES["A"].tokenSecret:`,
		`{"A": {"kind": "zendesk", "url": "https://user:pw@x", "token": "t"}}`:                            `SOURCES["A"].url:`,
		`{"A": {"kind": "chatwoot", "url": "https://x", "token": "t", "accountId": 1, "timeout": "-1s"}}`: `SOURCES["A"].timeout:`,
	}
	for s, want := range bad {
		_, err := sources.ParseSources([]byte(s))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", s, err, want)
		}
	}
	// tokenSecret is read through OpenEnv.Secret, and the token it holds
	// is what goes to the platform.
	f := newZDFake(t)
	f.put(apiTokenA, zdChat(t, zdFixtureID), 1)
	specs, err := sources.ParseSources([]byte(`{"A": {"kind": "zendesk", "url": "` + f.srv.URL + `", "tokenSecret": "zd/A", "rps": 1000}}`))
	if err != nil {
		t.Fatal(err)
	}
	router, err := sources.Open(context.Background(), specs, sources.OpenEnv{Secret: func(_ context.Context, name string) (string, error) {
		if name != "zd/A" {
			return "", errors.New("no such secret")
		}
		return apiTokenA, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := router.Fetch(context.Background(), sources.Request{Folder: "A", SessionID: zdFixtureID}); err != nil {
		t.Fatal(err)
	}
	if _, err := sources.Open(context.Background(), specs, sources.OpenEnv{}); err == nil || !strings.Contains(err.Error(), "tokenSecret") {
		t.Fatalf("no secrets client: %v", err)
	}
}

// --- fuzzing the listing and page parsers (outside input) ---

func fuzzSeeds(f *testing.F, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte("{\"x\":\"\xff\"}"))
}

func FuzzParseZendeskPage(f *testing.F) {
	fuzzSeeds(f, `{"chats":[{"id":"1","type":"chat"}],"count":1,"end_id":"1","end_time":5,"next_page":"https://x/y"}`,
		`{"chats":[1],"count":-1}`, `{"Chats":[]}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := sources.ParseZendeskPage(b)
		if err == nil {
			for _, c := range p.Chats {
				if c.Kind() != '{' {
					t.Fatalf("accepted a non-object chat %s", c)
				}
			}
		}
	})
}

func FuzzParseChatwootListPage(f *testing.F) {
	fuzzSeeds(f, `{"data":{"meta":{},"payload":[{"id":4711,"created_at":1795165200,"last_activity_at":1795165400.5}]}}`,
		`{"data":{"payload":[{"id":-1,"last_activity_at":1}]}}`, `{"data":{"payload":[{"id":1,"last_activity_at":1e300}]}}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		convs, err := sources.ParseChatwootListPage(b)
		if err == nil {
			for _, c := range convs {
				if c.ID <= 0 || c.Raw == nil {
					t.Fatalf("accepted %+v", c)
				}
			}
		}
	})
}

func FuzzParseChatwootMessagesPage(f *testing.F) {
	fuzzSeeds(f, `{"meta":{},"payload":[{"id":1,"content":"hi"},{"id":2}]}`, `{"payload":[{"id":0}]}`, `{"payload":[[]]}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, ids, err := sources.ParseChatwootMessagesPage(b)
		if err == nil && len(msgs) != len(ids) {
			t.Fatal("ids do not match messages")
		}
	})
}

func FuzzParseRocketChatHistoryPage(f *testing.F) {
	fuzzSeeds(f, `{"messages":[{"_id":"a","msg":"x","ts":"2026-11-20T09:00:00Z"}],"success":true}`, `{"messages":[{"_id":""}]}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, ids, err := sources.ParseRocketChatHistoryPage(b)
		if err == nil {
			for i := range msgs {
				if ids[i] == "" {
					t.Fatal("accepted a message without _id")
				}
			}
		}
	})
}

func FuzzParseRocketChatRoomsPage(f *testing.F) {
	fuzzSeeds(f, `{"rooms":[{"_id":"r1","ts":"2026-11-20T09:00:00Z"},{"_id":"r2","ts":{"$date":1795165200000}}],"count":2,"offset":0,"total":2,"success":true}`,
		`{"rooms":[],"total":-3}`, `{"rooms":[{"_id":"r","ts":{"$date":99999999999999999}}],"total":1}`)
	f.Fuzz(func(t *testing.T, b []byte) {
		rooms, total, err := sources.ParseRocketChatRoomsPage(b)
		if err == nil && (total < 0 || bytes.Contains(b, []byte(`"rooms":null`)) && rooms != nil) {
			t.Fatalf("accepted total %d", total)
		}
	})
}

// The hash follows the conversation: a new message changes it, so the sync
// rewrites the card; nothing else does.
func TestPlatformHashFollowsChanges(t *testing.T) {
	f := newCWFake(t)
	conv := cwConversation(t, cwFixtureID)
	f.put(apiTokenA, conv)
	src, _ := sources.NewChatwoot(sources.ChatwootOptions{BaseURL: f.srv.URL, Token: apiTokenA, AccountID: 3, Client: testClient(newAPIClock())})
	before, err := src.Fetch(context.Background(), sources.Request{SessionID: "4711"})
	if err != nil {
		t.Fatal(err)
	}
	f.dataMu.Lock()
	extra := clone(t, conv.msgs[len(conv.msgs)-1])
	extra["id"] = 999999
	extra["content"] = "one more thing"
	conv.msgs = append(conv.msgs, extra)
	f.dataMu.Unlock()
	after, err := src.Fetch(context.Background(), sources.Request{SessionID: "4711"})
	if err != nil {
		t.Fatal(err)
	}
	if after.Hash == before.Hash || len(after.Transcript.Events) <= len(before.Transcript.Events) {
		t.Fatalf("a new message did not change the fetch: hash %s → %s", before.Hash, after.Hash)
	}
}

// A sweep and a fetch of the same chat give the same transcript and hash,
// so a sync may mix them and still write a card only when the chat changed.
func TestPlatformSweepAndFetchAgree(t *testing.T) {
	for _, pc := range platformCases() {
		t.Run(pc.kind, func(t *testing.T) {
			u, _ := pc.setup(t)
			src := openCase(t, pc, u, apiTokenA, newAPIClock())
			fetched, err := src.Fetch(context.Background(), sources.Request{Folder: "A", SessionID: pc.id})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			err = src.(sources.Sweeper).SweepFolder(context.Background(), "A", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), func(r sources.Result) error {
				n++
				if r.Transcript.SessionID != pc.id || r.Hash != fetched.Hash || !cmp.Equal(r.Transcript, fetched.Transcript) || !bytes.Equal(r.Figures, fetched.Figures) {
					t.Errorf("swept %s (hash %s) differs from fetched (hash %s)", r.Transcript.SessionID, r.Hash, fetched.Hash)
				}
				return nil
			})
			if err != nil || n != 1 {
				t.Fatalf("sweep: %d results, %v", n, err)
			}
			if _, ok := src.(sources.Discoverer); !ok {
				t.Fatal("not a Discoverer")
			}
		})
	}
}

// A conversation without a single message still assembles and decodes (the
// system stands in as its participant).
func TestPlatformEmptyConversations(t *testing.T) {
	c := newCWFake(t)
	conv := cwConversation(t, 6)
	conv.msgs = nil
	c.put(apiTokenA, conv)
	cw, _ := sources.NewChatwoot(sources.ChatwootOptions{BaseURL: c.srv.URL, Token: apiTokenA, AccountID: 3, Client: testClient(newAPIClock())})
	if res, err := cw.Fetch(context.Background(), sources.Request{SessionID: "6"}); err != nil || res.Transcript.SessionID != "6" {
		t.Fatalf("chatwoot: %+v %v", res, err)
	}
	r := newRCFake(t)
	room := rcRoomFixture(t, "EmptyRoom00000001")
	room.msgs = nil
	r.put(rcUserA, room)
	rc, _ := sources.NewRocketChat(sources.RocketChatOptions{BaseURL: r.srv.URL, Token: apiTokenA, UserID: rcUserA, Client: testClient(newAPIClock())})
	if res, err := rc.Fetch(context.Background(), sources.Request{SessionID: "EmptyRoom00000001"}); err != nil || res.Transcript.SessionID != "EmptyRoom00000001" {
		t.Fatalf("rocketchat: %+v %v", res, err)
	}
}
