package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/share"
	"github.com/chatcards/chatcards/shared/stats"
)

var shareKey = []byte("test-share-key-of-at-least-32-bytes!")

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

func TestWantsHTML(t *testing.T) {
	for _, tc := range []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"text/html", true},
		{browserAccept, true}, // Chrome, Firefox
		{"text/html;q=0.5, application/json", false},   // JSON preferred
		{"application/json;q=0.5, text/html", true},    // HTML preferred
		{"text/html, application/json", false},         // tie: JSON stays the default
		{"text/*;q=0.9, application/*;q=0.8", true},    // wildcards of each type
		{"text/html;q=0, */*", false},                  // HTML refused outright
		{"*/*;q=0.1, text/html;q=0.2", true},           // the more specific range decides
		{"text/html;q=0.2, text/*;q=1, */*;q=0", true}, // text/html's own q, 0.2 > 0
		{"TEXT/HTML", true},                            // case-insensitive
		{"text/html;level=1;q=0.7, application/json;q=0.6", true},
		{"text/html;q=2, application/json;q=0.1", false}, // malformed q: that range is ignored
		{"text/html;q=0.1234", false},
		{"text/html;q=abc", false},
		{"text/html;q=-0.5", false},
		{"application/problem+json, text/html", true}, // problem+json is not application/json
		{"garbage", false},
		{",,,;;;", false},
	} {
		if got := api.WantsHTML(tc.accept); got != tc.want {
			t.Errorf("WantsHTML(%q) = %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func FuzzWantsHTML(f *testing.F) {
	for _, s := range []string{"", "*/*", browserAccept, "text/html;q=0.5, application/json", "a/b;q=1.000;q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		got := api.WantsHTML(accept)
		// Adding JSON at q=1 can only take HTML away, and HTML at q=1 with
		// JSON refused always gives HTML.
		if api.WantsHTML(accept+",application/json") && !got {
			t.Fatalf("adding application/json made %q prefer HTML", accept)
		}
		if !api.WantsHTML("application/json;q=0,text/html," + accept) {
			t.Fatalf("a leading text/html with JSON refused lost in %q", accept)
		}
	})
}

// shareEnv is a test API with sharing on, a clock the test moves, and
// FOLDERS giving acme the Helsinki zone.
type shareEnv struct {
	*env
	now *time.Time
}

func newShareEnv(t *testing.T, mod ...func(*api.Config)) *shareEnv {
	t.Helper()
	now := fixedNow
	fc, err := folders.Parse([]byte(`{"acme": {"timeZone": "Europe/Helsinki"}}`), folders.Defaults{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, append([]func(*api.Config){func(c *api.Config) {
		c.ShareKey = shareKey
		c.Folders = fc
		c.Now = func() time.Time { return now }
	}}, mod...)...)
	return &shareEnv{env: e, now: &now}
}

// put stores a synced card whose chat says who it belongs to.
func (e *shareEnv) put(t *testing.T, folder, id, text string) {
	t.Helper()
	c := card.New(folder, id, "2026-11-20T09:00:00.000Z")
	c.ChatLog = []stats.LogEntry{{At: "2026-11-20T09:00:01.000Z", Participant: "c1", Role: "customer", Name: "Jane", Text: text}}
	c.MessageCount = 1
	if _, _, err := e.store.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

type shareAnswer struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expiresAt"`
}

func (e *shareEnv) share(t *testing.T, folder, id, token, ctype, body string) (*httptest.ResponseRecorder, shareAnswer) {
	t.Helper()
	rr := e.call("POST", "/v1/chat-sessions/"+id+"/share?folder="+folder, token, ctype, body)
	var a shareAnswer
	if rr.Code == http.StatusOK {
		dec := json.NewDecoder(rr.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return rr, a
}

// open follows a share link with no token, as a browser does.
func (e *shareEnv) open(t *testing.T, link string) *httptest.ResponseRecorder {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", u.RequestURI(), nil)
	req.Header.Set("Accept", browserAccept)
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	return rr
}

// page checks an HTML answer's status and security headers.
func page(t *testing.T, rr *httptest.ResponseRecorder, status int) string {
	t.Helper()
	if rr.Code != status {
		t.Fatalf("status %d, want %d: %s", rr.Code, status, rr.Body)
	}
	h := rr.Header()
	if h.Get("Content-Type") != "text/html; charset=utf-8" || !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'") ||
		h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
		!strings.Contains(h.Get("Cache-Control"), "no-store") || !strings.Contains(h.Get("Cache-Control"), "private") {
		t.Fatalf("headers of an HTML page: %v", h)
	}
	return rr.Body.String()
}

func TestShareLinkOpensTheDialog(t *testing.T) {
	e := newShareEnv(t)
	e.put(t, folderA, "w:1", "my VPN drops")
	rr, a := e.share(t, folderA, "w:1", tokenA, "", "")
	if rr.Code != 200 || rr.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %v %s", rr.Code, rr.Header(), rr.Body)
	}
	if want := "http://example.com/v1/chat-sessions/w:1?folder=acme&share="; !strings.HasPrefix(a.URL, want) {
		t.Errorf("url %q, want prefix %q", a.URL, want)
	}
	if a.ExpiresAt != "2026-11-27T09:30:00Z" { // fixedNow + 7 days, whole seconds
		t.Errorf("expiresAt %q", a.ExpiresAt)
	}
	body := page(t, e.open(t, a.URL), 200)
	for _, want := range []string{"my VPN drops", "Read-only shared view", "Fri 27 Nov 2026, 11:30:00 EET", "times in Europe/Helsinki"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Accept does not matter for a link: it is a page for people.
	req := httptest.NewRequest("GET", a.URL, nil)
	rr = httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	page(t, rr, 200)
	// A link is read-only: the token is not a bearer token, and does not
	// open the tickets call.
	tok := strings.SplitN(a.URL, "share=", 2)[1]
	problemOf(t, e.call("POST", "/v1/chat-sessions/w:1/tickets?folder=acme&share="+tok, "", "application/json", `{"ticket":"X"}`), 401)
	problemOf(t, e.call("GET", "/v1/chat-sessions/w:1?folder=acme", tok, "", ""), 401)
	// Neither the link nor the token reach the log.
	if strings.Contains(e.logs.String(), tok[len(tok)-20:]) || strings.Contains(e.logs.String(), "VPN") {
		t.Errorf("log holds the token or chat text:\n%s", e.logs)
	}
}

func TestShareBaseURL(t *testing.T) {
	e := newShareEnv(t, func(c *api.Config) { c.ShareBaseURL = "https://api.example.com/prod/" })
	e.put(t, folderA, "s1", "x")
	_, a := e.share(t, folderA, "s1", tokenA, "", "")
	if !strings.HasPrefix(a.URL, "https://api.example.com/prod/v1/chat-sessions/s1?folder=acme&share=") {
		t.Errorf("url %q", a.URL)
	}
	// Without it, API Gateway's X-Forwarded-Proto makes the link https.
	e = newShareEnv(t)
	e.put(t, folderA, "s1", "x")
	req := httptest.NewRequest("POST", "/v1/chat-sessions/s1/share?folder=acme", nil)
	req.Host = "abc.execute-api.eu-west-1.amazonaws.com"
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("X-Forwarded-Proto", "https")
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	if !strings.Contains(rr.Body.String(), `"url":"https://abc.execute-api.eu-west-1.amazonaws.com/v1/chat-sessions/s1?folder=acme\u0026share=`) {
		t.Errorf("%d %s", rr.Code, rr.Body)
	}
	req.Host = "evil.example/x?"
	rr = httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	if p := problemOf(t, rr, 400); p.Errors[0].Field != "Host" {
		t.Errorf("%+v", p)
	}
}

func TestShareBody(t *testing.T) {
	e := newShareEnv(t)
	e.put(t, folderA, "s1", "x")
	for _, tc := range []struct {
		ctype, body, expires string
	}{
		{"", "", "2026-11-27T09:30:00Z"},
		{"application/json", `{}`, "2026-11-27T09:30:00Z"},
		{"application/json", `{"expiresIn":"72h"}`, "2026-11-23T09:30:00Z"},
		{"application/json; charset=utf-8", `{"expiresIn":"720h"}`, "2026-12-20T09:30:00Z"},
		{"application/json", `{"expiresIn":"1m"}`, "2026-11-20T09:31:00Z"},
		{"application/json", `{"expiresIn":"90m30.5s"}`, "2026-11-20T11:00:30Z"}, // whole seconds, down
	} {
		rr, a := e.share(t, folderA, "s1", tokenA, tc.ctype, tc.body)
		if rr.Code != 200 || a.ExpiresAt != tc.expires {
			t.Errorf("%s: %d %q, want %s", tc.body, rr.Code, a.ExpiresAt, tc.expires)
		}
	}
	for _, tc := range []struct {
		ctype, body, field string
		status             int
	}{
		{"application/json", `{"expiresIn":"721h"}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":"59s"}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":"0s"}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":"-72h"}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":"7d"}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":72}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":null}`, "expiresIn", 400},
		{"application/json", `{"ExpiresIn":"72h"}`, "ExpiresIn", 400},
		{"application/json", `{"expiresIn":"1h","expiresIn":"2h"}`, "expiresIn", 400},
		{"application/json", `{"expiresIn":"1h","folder":"beta"}`, "folder", 400},
		{"application/json", `[]`, "body", 400},
		{"application/json", ``, "body", 400},
		{"text/plain", `{"expiresIn":"1h"}`, "", 415},
		{"", `{"expiresIn":"1h"}`, "", 415},
	} {
		rr, _ := e.share(t, folderA, "s1", tokenA, tc.ctype, tc.body)
		p := problemOf(t, rr, tc.status)
		if tc.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != tc.field) {
			t.Errorf("%s: %+v, want field %s", tc.body, p, tc.field)
		}
	}
	rr, _ := e.share(t, folderA, "s1", tokenA, "application/json", `{"expiresIn":"`+strings.Repeat("1", 70<<10)+`"}`)
	problemOf(t, rr, 413)
	rr, _ = e.share(t, folderA, "missing", tokenA, "", "")
	problemOf(t, rr, 404) // no link to a card that does not exist
	rr, _ = e.share(t, folderA, "s1", "", "", "")
	problemOf(t, rr, 401)
	rr, _ = e.share(t, folderA, "s1", "wrong-token", "", "")
	problemOf(t, rr, 401)
}

// A link for folder A opens A's card and nothing else; B's token cannot
// make a link for A.
func TestShareFolderIsolation(t *testing.T) {
	e := newShareEnv(t)
	e.put(t, folderA, "same", "secret of acme")
	e.put(t, folderB, "same", "secret of beta")
	e.put(t, folderA, "other", "another acme chat")
	_, a := e.share(t, folderA, "same", tokenA, "", "")
	tokA := strings.SplitN(a.URL, "share=", 2)[1]
	body := page(t, e.open(t, a.URL), 200)
	if !strings.Contains(body, "secret of acme") || strings.Contains(body, "secret of beta") {
		t.Fatal("the link for acme does not show acme's card")
	}
	for name, target := range map[string]string{
		"folder edited":    "/v1/chat-sessions/same?folder=beta&share=" + tokA,
		"id edited":        "/v1/chat-sessions/other?folder=acme&share=" + tokA,
		"folder given 2x":  "/v1/chat-sessions/same?folder=acme&folder=beta&share=" + tokA,
		"no folder":        "/v1/chat-sessions/same?share=" + tokA,
		"token given 2x":   "/v1/chat-sessions/same?folder=acme&share=" + tokA + "&share=" + tokA,
		"empty token":      "/v1/chat-sessions/same?folder=acme&share=",
		"token truncated":  "/v1/chat-sessions/same?folder=acme&share=" + tokA[:len(tokA)-1],
		"bad query":        "/v1/chat-sessions/same?folder=acme&share=" + tokA + "&%zz",
		"another key's":    "/v1/chat-sessions/same?folder=acme&share=" + mustSign(t, []byte("another-key-of-at-least-32-bytes!!"), folderA, "same"),
		"B's message, A's": "/v1/chat-sessions/same?folder=beta&share=" + strings.Split(mustSign(t, shareKey, folderB, "same"), ".")[0] + "." + strings.Split(tokA, ".")[1],
	} {
		body := page(t, e.open(t, "http://example.com"+target), 403)
		if !strings.Contains(body, "This link is not valid") || strings.Contains(body, "secret of") || strings.Contains(body, "another acme") {
			t.Errorf("%s: page\n%s", name, body)
		}
	}
	// B's token cannot mint a link for A's card, nor learn it exists.
	rr, _ := e.share(t, folderA, "same", tokenB, "", "")
	pa := problemOf(t, rr, 403)
	rr, _ = e.share(t, folderA, "nonexistent", tokenB, "", "")
	if pb := problemOf(t, rr, 403); pa.Detail != pb.Detail || pa.Type != pb.Type {
		t.Errorf("answers differ for an existing and a missing card: %+v %+v", pa, pb)
	}
	// A link made by B's token for B opens B's card only.
	_, b := e.share(t, folderB, "same", tokenB, "", "")
	if body := page(t, e.open(t, b.URL), 200); !strings.Contains(body, "secret of beta") || strings.Contains(body, "secret of acme") {
		t.Error("B's link does not show B's card")
	}
}

func mustSign(t *testing.T, key []byte, folder, id string) string {
	tok, err := share.Sign(key, folder, id, fixedNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The link opens up to the second before expiresAt; from expiresAt on it
// says it has expired, which reads differently from an altered link.
func TestShareLinkExpires(t *testing.T) {
	e := newShareEnv(t)
	e.put(t, folderA, "s1", "hello")
	_, a := e.share(t, folderA, "s1", tokenA, "application/json", `{"expiresIn":"1h"}`)
	exp, err := time.Parse(time.RFC3339, a.ExpiresAt)
	if err != nil {
		t.Fatal(err)
	}
	*e.now = exp.Add(-time.Nanosecond)
	page(t, e.open(t, a.URL), 200)
	*e.now = exp
	expired := page(t, e.open(t, a.URL), 403)
	if !strings.Contains(expired, "This link has expired") || strings.Contains(expired, "hello") {
		t.Errorf("expired page:\n%s", expired)
	}
	// An altered link, at the same time, says something else.
	altered := page(t, e.open(t, strings.Replace(a.URL, "share=", "share=A", 1)), 403)
	if !strings.Contains(altered, "This link is not valid") || strings.Contains(altered, "expired") {
		t.Errorf("altered page:\n%s", altered)
	}
}

// Without a share key the call and links answer 501, after the token.
func TestSharingOff(t *testing.T) {
	e := newEnv(t)
	cardOf(t, e.create(folderA, tokenA, `{"sessionId":"s1"}`), 201)
	rr := e.call("POST", "/v1/chat-sessions/s1/share?folder=acme", tokenA, "", "")
	if p := problemOf(t, rr, 501); !strings.Contains(p.Detail, "SHARE_KEY") {
		t.Errorf("%+v", p)
	}
	problemOf(t, e.call("POST", "/v1/chat-sessions/s1/share?folder=acme", "", "", ""), 401)
	problemOf(t, e.call("POST", "/v1/chat-sessions/s1/share?folder=acme", tokenB, "", ""), 403)
	link := "/v1/chat-sessions/s1?folder=acme&share=" + mustSign(t, shareKey, folderA, "s1")
	body := page(t, e.call("GET", link, "", "", ""), 501)
	if !strings.Contains(body, "Sharing is switched off") {
		t.Errorf("page:\n%s", body)
	}
}

// The card call answers HTML to a browser and JSON to everyone else, with
// the same statuses for errors.
func TestDialogContentNegotiation(t *testing.T) {
	e := newShareEnv(t)
	e.put(t, folderA, "s1", "hello there")
	get := func(target, token, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", target, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rr := httptest.NewRecorder()
		e.h.ServeHTTP(rr, req)
		if !strings.Contains(rr.Header().Get("Vary"), "Accept") {
			t.Errorf("%s %q: no Vary: Accept", target, accept)
		}
		return rr
	}
	for _, tc := range []struct {
		accept string
		html   bool
	}{
		{"", false}, {"*/*", false}, {"application/json", false}, {browserAccept, true},
		{"text/html", true}, {"text/html;q=0.4, application/json;q=0.5", false},
	} {
		rr := get("/v1/chat-sessions/s1?folder=acme", tokenA, tc.accept)
		if tc.html {
			if body := page(t, rr, 200); !strings.Contains(body, "hello there") || strings.Contains(body, "Read-only shared view") {
				t.Errorf("%q: page\n%s", tc.accept, body)
			}
		} else {
			cardOf(t, rr, 200)
		}
		for _, errCase := range []struct {
			target, token string
			status        int
		}{
			{"/v1/chat-sessions/missing?folder=acme", tokenA, 404},
			{"/v1/chat-sessions/s1?folder=acme", "", 401},
			{"/v1/chat-sessions/s1?folder=acme", tokenB, 403},
			{"/v1/chat-sessions/s1?folder=a%20b", tokenA, 400},
		} {
			rr := get(errCase.target, errCase.token, tc.accept)
			if tc.html {
				page(t, rr, errCase.status)
			} else {
				problemOf(t, rr, errCase.status)
			}
			if errCase.status == 401 && rr.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%q: 401 without WWW-Authenticate", tc.accept)
			}
		}
	}
}

// Store failures on a browser request keep their status (one mapping).
func TestDialogStoreErrorsAsPages(t *testing.T) {
	e := newShareEnv(t)
	e.store.get = func(context.Context, string, string) (*card.Card, error) {
		return nil, card.Errorf(card.EUNAVAILABLE, "test", "throttled")
	}
	req := httptest.NewRequest("GET", "/v1/chat-sessions/s1?folder=acme", nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Header.Set("Accept", browserAccept)
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	if page(t, rr, 503); rr.Header().Get("Retry-After") == "" {
		t.Error("503 page without Retry-After")
	}
	e.store.get = func(context.Context, string, string) (*card.Card, error) { panic("bug") }
	rr = e.open(t, "http://x/v1/chat-sessions/s1?folder=acme&share="+mustSign(t, shareKey, folderA, "s1"))
	if rr.Code != 500 || strings.Contains(rr.Body.String(), "bug") {
		t.Errorf("%d %s", rr.Code, rr.Body)
	}
}

// Payloads from the chatbot's create call come out escaped on the page.
func TestDialogEscapesCreateFields(t *testing.T) {
	e := newShareEnv(t)
	payload := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	b, _ := json.Marshal(map[string]any{
		"sessionId": "x1", "customer": map[string]string{"person": payload, "name": payload},
		"channel": payload, "metadata": map[string]string{"k": payload}, "pages": []string{payload},
	})
	cardOf(t, e.create(folderA, tokenA, string(b)), 201)
	cardOf(t, e.call("POST", "/v1/chat-sessions/x1/tickets?folder=acme", tokenA, "application/json", `{"ticket":"`+strings.ReplaceAll(payload, `"`, `\"`)+`"}`), 200)
	_, a := e.share(t, folderA, "x1", tokenA, "", "")
	body := page(t, e.open(t, a.URL), 200)
	if strings.Contains(body, "<script") || strings.Contains(body, "<img") {
		t.Errorf("payload not escaped:\n%s", body)
	}
	if n := strings.Count(body, "&lt;script&gt;alert(1)&lt;/script&gt;"); n < 5 {
		t.Errorf("payload shown escaped %d times, want ≥ 5 (name, channel, metadata, page, ticket)", n)
	}
}

// Through API Gateway: the share call builds an https link on the API's own
// host, and the link answers the page as text with its headers.
func TestLambdaShareLink(t *testing.T) {
	e := newShareEnv(t)
	e.put(t, folderA, "w-2026-11-20-0001", "hello from lambda")
	lh := api.NewLambdaHandler(e.h)
	ev := loadEvent(t, "apigw-v2-get.json")
	ev.RequestContext.HTTP.Method = "POST"
	ev.RawPath = "/v1/chat-sessions/w-2026-11-20-0001/share"
	res, err := lh(context.Background(), ev)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("share: %v %d %s", err, res.StatusCode, res.Body)
	}
	var a shareAnswer
	if err := json.Unmarshal([]byte(res.Body), &a); err != nil {
		t.Fatal(err)
	}
	prefix := "https://abc123defg.execute-api.eu-north-1.amazonaws.com/v1/chat-sessions/w-2026-11-20-0001?"
	if !strings.HasPrefix(a.URL, prefix) {
		t.Fatalf("url %q", a.URL)
	}
	ev = loadEvent(t, "apigw-v2-get.json")
	ev.RawQueryString = strings.TrimPrefix(a.URL, prefix)
	delete(ev.Headers, "authorization")
	ev.Headers["accept"] = browserAccept
	res, err = lh(context.Background(), ev)
	if err != nil || res.StatusCode != 200 || res.IsBase64Encoded || !strings.Contains(res.Body, "hello from lambda") {
		t.Fatalf("link: %v %d %v", err, res.StatusCode, res.IsBase64Encoded)
	}
	for _, k := range []string{"Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options", "Cache-Control"} {
		if res.Headers[k] == "" {
			t.Errorf("Lambda answer lacks %s: %v", k, res.Headers)
		}
	}
}
