package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
)

const fullCreate = `{
  "sessionId": "w-2026-11-20-0001",
  "customer": {"person": "person/1042", "name": "Jane Doe"},
  "channel": "web",
  "language": "en",
  "async": true,
  "startedAt": "2026-11-20T10:00:00+01:00",
  "pages": ["https://example.com/vpn-help", "https://example.com/vpn-help", "https://example.com/b"],
  "metadata": {"botFlow": "it-support"}
}`

func TestCreateFullCard(t *testing.T) {
	e := newEnv(t)
	rr := e.create(folderA, tokenA, fullCreate)
	c := cardOf(t, rr, http.StatusCreated)
	if got, want := rr.Header().Get("Location"), "/v1/chat-sessions/w-2026-11-20-0001?folder=acme"; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if c.Folder != folderA || c.SessionID != "w-2026-11-20-0001" || !c.Active || c.Status != "active" {
		t.Errorf("identity: %+v", c)
	}
	if c.Customer != "person/1042" || c.CustomerName != "Jane Doe" || c.Channel != "web" || c.Language != "en" || !c.Async {
		t.Errorf("create fields: %+v", c)
	}
	if c.StartedAt != "2026-11-20T09:00:00.000Z" {
		t.Errorf("startedAt %q, want UTC with ms", c.StartedAt)
	}
	if strings.Join(c.Pages, " ") != "https://example.com/vpn-help https://example.com/b" {
		t.Errorf("pages %q: want distinct, in order", c.Pages)
	}
	if c.Metadata["botFlow"] != "it-support" || c.Version < 1 {
		t.Errorf("metadata %v version %d", c.Metadata, c.Version)
	}
	// The Location is the card's shareable URL: following it gives the card.
	got := cardOf(t, e.call("GET", rr.Header().Get("Location"), tokenA, "", ""), http.StatusOK)
	if got.SessionID != c.SessionID || got.Version != c.Version {
		t.Errorf("GET Location: %+v", got)
	}
	// Empty collections are present in the JSON, as the card spec wants.
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(rr.Body.Bytes(), &raw)
	for _, k := range []string{"chatLog", "members", "relatedTickets", "markers", "agents"} {
		if string(raw[k]) != "[]" {
			t.Errorf("%s = %s, want []", k, raw[k])
		}
	}
}

func TestCreateDefaultsStartedAtToNow(t *testing.T) {
	e := newEnv(t)
	c := cardOf(t, e.create(folderA, tokenA, `{"sessionId":"s1"}`), http.StatusCreated)
	if c.StartedAt != "2026-11-20T09:30:00.123Z" {
		t.Errorf("startedAt %q, want the clock's time in UTC ms", c.StartedAt)
	}
}

func TestCreateRetryReturnsExistingCard(t *testing.T) {
	e := newEnv(t)
	first := cardOf(t, e.create(folderA, tokenA, `{"sessionId":"s1","channel":"web"}`), http.StatusCreated)
	rr := e.create(folderA, tokenA, `{"sessionId":"s1","channel":"sms"}`)
	again := cardOf(t, rr, http.StatusOK)
	if again.Channel != "web" || again.Version != first.Version {
		t.Errorf("retry overwrote the card: %+v", again)
	}
	if rr.Header().Get("Location") != "" {
		t.Errorf("200 answer has a Location")
	}
	// Same sessionId in another folder is another card.
	cardOf(t, e.create(folderB, tokenB, `{"sessionId":"s1"}`), http.StatusCreated)
}

func TestConcurrentCreatesMakeOneCard(t *testing.T) {
	e := newEnv(t)
	const n = 100
	var wg sync.WaitGroup
	codes := make([]int, n)
	bodies := make([]*card.Card, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rr := e.create(folderA, tokenA, fmt.Sprintf(`{"sessionId":"same","metadata":{"n":"%d"}}`, i))
			codes[i] = rr.Code
			var c card.Card
			if err := json.Unmarshal(rr.Body.Bytes(), &c); err == nil {
				bodies[i] = &c
			}
		}(i)
	}
	wg.Wait()
	created := 0
	for i, code := range codes {
		switch code {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Fatalf("request %d: status %d", i, code)
		}
		if bodies[i] == nil {
			t.Fatalf("request %d: no card", i)
		}
		if bodies[i].Metadata["n"] != bodies[0].Metadata["n"] || bodies[i].Version != bodies[0].Version {
			t.Fatalf("request %d got another card: %v vs %v", i, bodies[i].Metadata, bodies[0].Metadata)
		}
	}
	if created != 1 {
		t.Fatalf("%d creates answered 201, want exactly 1", created)
	}
}

func TestGetAndAttachTicket(t *testing.T) {
	e := newEnv(t)
	cardOf(t, e.create(folderA, tokenA, `{"sessionId":"s1"}`), http.StatusCreated)
	url := "/v1/chat-sessions/s1/tickets?folder=acme"
	c1 := cardOf(t, e.call("POST", url, tokenA, "application/json", `{"ticket":"INC-20431"}`), http.StatusOK)
	c2 := cardOf(t, e.call("POST", url, tokenA, "application/json; charset=utf-8", `{"ticket":"INC-20431"}`), http.StatusOK)
	if strings.Join(c2.RelatedTickets, ",") != "INC-20431" || strings.Join(c2.AttachedTickets, ",") != "INC-20431" {
		t.Errorf("tickets after two attaches: related %v attached %v", c2.RelatedTickets, c2.AttachedTickets)
	}
	if c2.Version != c1.Version {
		t.Errorf("repeated attach changed the version %d → %d", c1.Version, c2.Version)
	}
	c3 := cardOf(t, e.call("POST", url, tokenA, "application/json", `{"ticket":"INC-2"}`), http.StatusOK)
	if strings.Join(c3.RelatedTickets, ",") != "INC-20431,INC-2" {
		t.Errorf("tickets %v", c3.RelatedTickets)
	}
	got := cardOf(t, e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", ""), http.StatusOK)
	if got.Version != c3.Version {
		t.Errorf("GET version %d, want %d", got.Version, c3.Version)
	}
}

func TestHealthNeedsNoAuth(t *testing.T) {
	e := newEnv(t)
	rr := e.call("GET", "/v1/health", "", "", "")
	if rr.Code != 200 || strings.TrimSpace(rr.Body.String()) != `{"status":"ok"}` {
		t.Fatalf("health: %d %s", rr.Code, rr.Body)
	}
}

func TestReports(t *testing.T) {
	t.Run("no catalog lists nothing", func(t *testing.T) {
		e := newEnv(t)
		rr := e.call("GET", "/v1/reports?folder=acme&date=2026-11-20", tokenA, "", "")
		if rr.Code != 200 || strings.TrimSpace(rr.Body.String()) != `{"reports":[]}` {
			t.Fatalf("%d %s", rr.Code, rr.Body)
		}
	})
	t.Run("catalog answers", func(t *testing.T) {
		var gotFolder, gotDate string
		e := newEnv(t, func(c *api.Config) {
			c.Reports = catalogFunc(func(_ context.Context, folder, date string) ([]reports.Link, error) {
				gotFolder, gotDate = folder, date
				return []reports.Link{{Report: "sessions", Format: "csv", Key: "k", URL: "https://x/y"}}, nil
			})
		})
		rr := e.call("GET", "/v1/reports?folder=acme&date=2026-11-20", tokenA, "", "")
		var body struct{ Reports []reports.Link }
		if rr.Code != 200 || json.Unmarshal(rr.Body.Bytes(), &body) != nil || len(body.Reports) != 1 || body.Reports[0].Report != "sessions" {
			t.Fatalf("%d %s", rr.Code, rr.Body)
		}
		if gotFolder != folderA || gotDate != "2026-11-20" {
			t.Errorf("catalog asked for %s %s", gotFolder, gotDate)
		}
	})
	t.Run("catalog unavailable", func(t *testing.T) {
		e := newEnv(t, func(c *api.Config) {
			c.Reports = catalogFunc(func(context.Context, string, string) ([]reports.Link, error) {
				return nil, card.Errorf(card.EUNAVAILABLE, "test", "throttled")
			})
		})
		rr := e.call("GET", "/v1/reports?folder=acme&date=2026-11-20", tokenA, "", "")
		problemOf(t, rr, 503)
		if rr.Header().Get("Retry-After") == "" {
			t.Errorf("no Retry-After")
		}
	})
}

// TestErrorTable walks every row of the API's error table.
func TestErrorTable(t *testing.T) {
	big := `{"sessionId":"s1","metadata":{"k":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}}`
	meta33 := make([]string, 33)
	for i := range meta33 {
		meta33[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	type row struct {
		name          string
		method, url   string
		token, ctype  string
		body          string
		status        int
		field         string // expected errors[].field for 400
		header, value string // expected response header (value "" = present)
	}
	post := "/v1/chat-sessions?folder=acme"
	rows := []row{
		{name: "not JSON", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `sessionId=s1`, status: 400, field: "body"},
		{name: "truncated JSON", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1"`, status: 400, field: "body"},
		{name: "empty body", method: "POST", url: post, token: tokenA, ctype: "application/json", body: ``, status: 400, field: "body"},
		{name: "array body", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `[]`, status: 400, field: "body"},
		{name: "trailing data", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1"}{}`, status: 400, field: "body"},
		{name: "trailing garbage", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1"} x`, status: 400, field: "body"},
		{name: "missing sessionId", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"channel":"web"}`, status: 400, field: "sessionId"},
		{name: "null body", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `null`, status: 400, field: "body"},
		{name: "sessionId too long", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"` + strings.Repeat("a", 129) + `"}`, status: 400, field: "sessionId"},
		{name: "sessionId bad characters", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"a/b"}`, status: 400, field: "sessionId"},
		{name: "sessionId dot-dot", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":".."}`, status: 400, field: "sessionId"},
		{name: "sessionId wrong type", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":42}`, status: 400, field: "sessionId"},
		{name: "async wrong type", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","async":"yes"}`, status: 400, field: "async"},
		{name: "customer wrong type", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","customer":"jane"}`, status: 400, field: "customer"},
		{name: "pages wrong type", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","pages":[1]}`, status: 400, field: "pages[0]"},
		{name: "unknown field", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","colour":"red"}`, status: 400, field: "colour"},
		{name: "unknown nested field", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","customer":{"age":3}}`, status: 400, field: "customer.age"},
		{name: "channel too long", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","channel":"` + strings.Repeat("é", 65) + `"}`, status: 400, field: "channel"},
		{name: "language not BCP 47", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","language":"english please"}`, status: 400, field: "language"},
		{name: "startedAt not RFC 3339", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","startedAt":"20.11.2026 09:00"}`, status: 400, field: "startedAt"},
		{name: "startedAt out of range", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","startedAt":"0000-01-01T00:00:00+01:00"}`, status: 400, field: "startedAt"},
		{name: "metadata nested", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","metadata":{"a":{"b":"c"}}}`, status: 400, field: "metadata.a"},
		{name: "metadata number", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","metadata":{"a":1}}`, status: 400, field: "metadata.a"},
		{name: "metadata 33 pairs", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","metadata":{` + strings.Join(meta33, ",") + `}}`, status: 400, field: "metadata"},
		{name: "metadata key too long", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","metadata":{"` + strings.Repeat("k", 65) + `":"v"}}`, status: 400, field: "metadata"},
		{name: "metadata value too long", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","metadata":{"k":"` + strings.Repeat("v", 513) + `"}}`, status: 400, field: "metadata.k"},
		{name: "empty page", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"s1","pages":[""]}`, status: 400, field: "pages[0]"},
		// Hostile shapes (issue 9 §3): the body is read exactly as written,
		// never folded, merged or repaired into something storable.
		{name: "upper-case name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"SESSIONID":"x"}`, status: 400, field: "SESSIONID"},
		{name: "long-s name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"ſessionId":"x"}`, status: 400, field: "ſessionId"},
		{name: "kelvin-sign name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","\u212aey":"v"}`, status: 400, field: "\u212aey"},
		{name: "case variant next to the real name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"a","SESSIONID":"b"}`, status: 400, field: "SESSIONID"},
		{name: "case variant nested", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","customer":{"Name":"Jane"}}`, status: 400, field: "customer.Name"},
		{name: "duplicate name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"a","sessionId":"b"}`, status: 400, field: "sessionId"},
		{name: "duplicate name escaped", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"a","\u0073essionId":"b"}`, status: 400, field: "sessionId"},
		{name: "duplicate nested name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","customer":{"name":"a","name":"b"}}`, status: 400, field: "customer.name"},
		{name: "duplicate metadata key", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","metadata":{"k":"a","k":"b"}}`, status: 400, field: "metadata.k"},
		{name: "invalid UTF-8 in sessionId", method: "POST", url: post, token: tokenA, ctype: "application/json", body: "{\"sessionId\":\"x\xff\"}", status: 400, field: "sessionId"},
		{name: "invalid UTF-8 in name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: "{\"customer\":{\"name\":\"Jane \xc3\x28\"},\"sessionId\":\"x\"}", status: 400, field: "customer.name"},
		{name: "invalid UTF-8 in metadata value", method: "POST", url: post, token: tokenA, ctype: "application/json", body: "{\"sessionId\":\"x\",\"metadata\":{\"k\":\"\xed\xa0\x80\"}}", status: 400, field: "metadata.k"},
		{name: "invalid UTF-8 in a key", method: "POST", url: post, token: tokenA, ctype: "application/json", body: "{\"sessionId\":\"x\",\"metadata\":{\"\xff\":\"v\"}}", status: 400, field: "metadata"},
		{name: "lone surrogate escape", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","channel":"\ud800"}`, status: 400, field: "channel"},
		{name: "null sessionId", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":null}`, status: 400, field: "sessionId"},
		{name: "null channel", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","channel":null}`, status: 400, field: "channel"},
		{name: "null customer name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","customer":{"name":null}}`, status: 400, field: "customer.name"},
		{name: "null metadata value", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","metadata":{"k":null}}`, status: 400, field: "metadata.k"},
		{name: "null page", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","pages":["a",null]}`, status: 400, field: "pages[1]"},
		{name: "null async", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","async":null}`, status: 400, field: "async"},
		{name: "null metadata", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","metadata":null}`, status: 400, field: "metadata"},
		{name: "nested too deeply", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","pages":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, status: 400, field: "body"},
		{name: "empty field name", method: "POST", url: post, token: tokenA, ctype: "application/json", body: `{"sessionId":"x","":"v"}`, status: 400, field: "body"},
		{name: "ticket upper-case name", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"TICKET":"INC-1"}`, status: 400, field: "TICKET"},
		{name: "ticket duplicate", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":"INC-1","ticket":"INC-2"}`, status: 400, field: "ticket"},
		{name: "ticket invalid UTF-8", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: "{\"ticket\":\"INC-\xff\"}", status: 400, field: "ticket"},
		{name: "ticket null", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":null}`, status: 400, field: "ticket"},
		{name: "folder missing", method: "POST", url: "/v1/chat-sessions", token: tokenAll, ctype: "application/json", body: `{"sessionId":"s1"}`, status: 400, field: "folder"},
		{name: "folder invalid", method: "GET", url: "/v1/chat-sessions/s1?folder=a%2Fb", token: tokenAll, status: 400, field: "folder"},
		{name: "folder too long", method: "GET", url: "/v1/chat-sessions/s1?folder=" + strings.Repeat("f", 65), token: tokenAll, status: 400, field: "folder"},
		{name: "folder twice", method: "GET", url: "/v1/chat-sessions/s1?folder=acme&folder=beta", token: tokenAll, status: 400, field: "folder"},
		{name: "query malformed", method: "GET", url: "/v1/chat-sessions/s1?folder=%zz", token: tokenAll, status: 400, field: "query"},
		{name: "id invalid", method: "GET", url: "/v1/chat-sessions/a%20b?folder=acme", token: tokenA, status: 400, field: "id"},
		{name: "ticket missing", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{}`, status: 400, field: "ticket"},
		{name: "ticket empty", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":""}`, status: 400, field: "ticket"},
		{name: "ticket too long", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":"` + strings.Repeat("t", api.MaxTicket+1) + `"}`, status: 400, field: "ticket"},
		{name: "ticket padded", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":" INC-1"}`, status: 400, field: "ticket"},
		{name: "ticket wrong type", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":7}`, status: 400, field: "ticket"},
		{name: "report date missing", method: "GET", url: "/v1/reports?folder=acme", token: tokenA, status: 400, field: "date"},
		{name: "report date invalid", method: "GET", url: "/v1/reports?folder=acme&date=2026-02-30", token: tokenA, status: 400, field: "date"},
		{name: "report date shape", method: "GET", url: "/v1/reports?folder=acme&date=2026-1-2", token: tokenA, status: 400, field: "date"},

		{name: "no token", method: "POST", url: post, ctype: "application/json", body: `{"sessionId":"s1"}`, status: 401, header: "WWW-Authenticate", value: `Bearer realm="chatcards"`},
		{name: "unknown token", method: "GET", url: "/v1/chat-sessions/s1?folder=acme", token: "nope", status: 401, header: "WWW-Authenticate"},
		{name: "no token before bad folder", method: "GET", url: "/v1/chat-sessions/s1?folder=%2F", status: 401, header: "WWW-Authenticate"},
		{name: "token of other folder", method: "GET", url: "/v1/chat-sessions/s1?folder=beta", token: tokenA, status: 403},
		{name: "token of other folder create", method: "POST", url: "/v1/chat-sessions?folder=beta", token: tokenA, ctype: "application/json", body: `{"sessionId":"s1"}`, status: 403},
		{name: "token of other folder reports", method: "GET", url: "/v1/reports?folder=beta&date=2026-11-20", token: tokenA, status: 403},
		{name: "no card", method: "GET", url: "/v1/chat-sessions/missing?folder=acme", token: tokenA, status: 404},
		{name: "ticket on no card", method: "POST", url: "/v1/chat-sessions/missing/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":"INC-1"}`, status: 404},
		{name: "unknown path", method: "GET", url: "/v2/anything", status: 404},
		{name: "root", method: "GET", url: "/", status: 404},
		{name: "wrong method on card", method: "DELETE", url: "/v1/chat-sessions/s1?folder=acme", token: tokenA, status: 405, header: "Allow", value: "GET, HEAD"},
		{name: "wrong method on collection", method: "GET", url: "/v1/chat-sessions?folder=acme", token: tokenA, status: 405, header: "Allow", value: "POST"},
		{name: "wrong method on health", method: "POST", url: "/v1/health", status: 405, header: "Allow", value: "GET, HEAD"},
		{name: "body over 64 KiB", method: "POST", url: post, token: tokenA, ctype: "application/json", body: big, status: 413},
		{name: "ticket body over 64 KiB", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/json", body: `{"ticket":"` + strings.Repeat("t", api.MaxBodyBytes) + `"}`, status: 413},
		{name: "no content type", method: "POST", url: post, token: tokenA, body: `{"sessionId":"s1"}`, status: 415},
		{name: "text content type", method: "POST", url: post, token: tokenA, ctype: "text/plain", body: `{"sessionId":"s1"}`, status: 415},
		{name: "form content type", method: "POST", url: "/v1/chat-sessions/s1/tickets?folder=acme", token: tokenA, ctype: "application/x-www-form-urlencoded", body: `ticket=1`, status: 415},
		{name: "broken content type", method: "POST", url: post, token: tokenA, ctype: "application/json; =", body: `{"sessionId":"s1"}`, status: 415},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			e := newEnv(t)
			cardOf(t, e.create(folderA, tokenA, `{"sessionId":"s1"}`), http.StatusCreated)
			writes := 0
			e.store.create = func(ctx context.Context, c *card.Card) (*card.Card, bool, error) {
				writes++
				return e.store.Store.Create(ctx, c)
			}
			e.store.attach = func(ctx context.Context, folder, id, ticket string) (*card.Card, error) {
				writes++
				return e.store.Store.AttachTicket(ctx, folder, id, ticket)
			}
			rr := e.call(r.method, r.url, r.token, r.ctype, r.body)
			p := problemOf(t, rr, r.status)
			if r.status != http.StatusNotFound && writes != 0 {
				t.Errorf("a refused request reached the store %d times", writes)
			}
			// Nothing was stored: no card under the ids the hostile bodies
			// name, and s1 still without tickets.
			for _, id := range []string{"x", "a", "b"} {
				problemOf(t, e.call("GET", "/v1/chat-sessions/"+id+"?folder=acme", tokenA, "", ""), 404)
			}
			if c := cardOf(t, e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", ""), 200); len(c.RelatedTickets) != 0 {
				t.Errorf("tickets %v after a refused request", c.RelatedTickets)
			}
			if r.field != "" {
				found := false
				for _, fe := range p.Errors {
					found = found || fe.Field == r.field && fe.Message != ""
				}
				if !found {
					t.Errorf("errors %+v: want one for field %q", p.Errors, r.field)
				}
			}
			if r.header != "" {
				got := rr.Header().Get(r.header)
				if got == "" || r.value != "" && got != r.value {
					t.Errorf("%s: %q, want %q", r.header, got, r.value)
				}
			}
		})
	}
}

func TestBodyOverLimitWithoutContentLength(t *testing.T) {
	e := newEnv(t)
	body := `{"sessionId":"s1","channel":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`
	req := httptest.NewRequest("POST", "/v1/chat-sessions?folder=acme", strings.NewReader(body))
	req.ContentLength = -1 // chunked: only the MaxBytesReader can catch it
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("Content-Type", "application/json")
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	problemOf(t, rr, 413)
}

func TestStoreErrors(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
	}{
		{"unavailable", card.Wrap(card.EUNAVAILABLE, "dynamostore.Create", errors.New("ProvisionedThroughputExceeded")), 503},
		{"conflict", card.Errorf(card.ECONFLICT, "dynamostore.Create", "version"), 503},
		{"deadline", fmt.Errorf("create: %w", context.DeadlineExceeded), 503},
		{"too large", card.Errorf(card.ETOOLARGE, "dynamostore.Create", "item"), 413},
		{"invalid", card.Errorf(card.EINVALID, "dynamostore.Create", "bad key"), 400},
		{"internal", errors.New("secret cause with " + tokenA), 500},
		{"coded internal", card.Wrap(card.EINTERNAL, "dynamostore.Create", errors.New("marshal")), 500},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.store.create = func(context.Context, *card.Card) (*card.Card, bool, error) { return nil, false, c.err }
			rr := e.create(folderA, tokenA, `{"sessionId":"s1","customer":{"name":"Jane Doe"}}`)
			p := problemOf(t, rr, c.status)
			if c.status == 503 && rr.Header().Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After")
			}
			if c.status == 500 {
				if p.Detail != "internal error" || p.RequestID != "req-1" || len(p.Errors) != 0 {
					t.Errorf("500 body says more than it may: %+v", p)
				}
				if !strings.Contains(e.logs.String(), "marshal") && !strings.Contains(e.logs.String(), "secret cause") {
					t.Errorf("cause not logged: %s", e.logs)
				}
			}
			if strings.Contains(rr.Body.String(), "dynamostore") || strings.Contains(rr.Body.String(), "Throughput") {
				t.Errorf("cause leaked into the body: %s", rr.Body)
			}
			// Nothing half-written: the failed create left no card.
			e.store.create = nil
			problemOf(t, e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", ""), 404)
		})
	}
}

func TestLogsHoldNoTokenNorText(t *testing.T) {
	e := newEnv(t)
	e.create(folderA, tokenA, `{"sessionId":"s1","customer":{"name":"Jane Doe"}}`)
	e.call("GET", "/v1/chat-sessions/s1?folder=acme", "bad-"+tokenB, "", "")
	e.store.get = func(context.Context, string, string) (*card.Card, error) { return nil, errors.New("boom") }
	e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", "")
	logs := e.logs.String()
	for _, secret := range []string{tokenA, tokenB, "Jane Doe"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"status":500`) || !strings.Contains(logs, "boom") {
		t.Errorf("log misses the failure:\n%s", logs)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
}

// TestFolderIsolation: a token for A gets the same answer for B's existing
// and missing cards, so it cannot learn whether B has a card.
func TestFolderIsolation(t *testing.T) {
	e := newEnv(t)
	cardOf(t, e.create(folderB, tokenB, `{"sessionId":"exists"}`), http.StatusCreated)
	pairs := []struct{ method, exists, missing, ctype, body string }{
		{"GET", "/v1/chat-sessions/exists?folder=beta", "/v1/chat-sessions/missing?folder=beta", "", ""},
		{"POST", "/v1/chat-sessions/exists/tickets?folder=beta", "/v1/chat-sessions/missing/tickets?folder=beta", "application/json", `{"ticket":"X-1"}`},
		{"POST", "/v1/chat-sessions?folder=beta", "/v1/chat-sessions?folder=beta", "application/json", `{"sessionId":"exists"}`},
	}
	for _, p := range pairs {
		a := e.call(p.method, p.exists, tokenA, p.ctype, p.body)
		b := e.call(p.method, p.missing, tokenA, p.ctype, strings.Replace(p.body, "exists", "missing", 1))
		if a.Code != b.Code || a.Body.String() != b.Body.String() || fmt.Sprint(a.Header()) != fmt.Sprint(b.Header()) {
			t.Errorf("%s %s: answers differ:\n%d %v %s\n%d %v %s", p.method, p.exists, a.Code, a.Header(), a.Body, b.Code, b.Header(), b.Body)
		}
		problemOf(t, a, 403)
	}
	// Nothing was written to B by A's attempts.
	c := cardOf(t, e.call("GET", "/v1/chat-sessions/exists?folder=beta", tokenB, "", ""), 200)
	if len(c.RelatedTickets) != 0 {
		t.Errorf("A attached a ticket in B: %v", c.RelatedTickets)
	}
	problemOf(t, e.call("GET", "/v1/chat-sessions/missing?folder=beta", tokenB, "", ""), 404)
	// The same id in A is A's own: 404 there, not B's card.
	problemOf(t, e.call("GET", "/v1/chat-sessions/exists?folder=acme", tokenA, "", ""), 404)
	// The every-folder token reaches both.
	cardOf(t, e.call("GET", "/v1/chat-sessions/exists?folder=beta", tokenAll, "", ""), 200)
}

func TestPanicInStoreIs500(t *testing.T) {
	e := newEnv(t)
	e.store.get = func(context.Context, string, string) (*card.Card, error) { panic("bug") }
	p := problemOf(t, e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", ""), 500)
	if p.Detail != "internal error" || p.RequestID != "req-1" {
		t.Errorf("%+v", p)
	}
}

func TestRequestIDHeader(t *testing.T) {
	e := newEnv(t)
	rr := e.call("GET", "/v1/health", "", "", "")
	if rr.Header().Get("X-Request-Id") != "req-1" {
		t.Errorf("X-Request-Id %q", rr.Header().Get("X-Request-Id"))
	}
}
