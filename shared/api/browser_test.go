package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/browsertest"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/stats"
)

func i64(v int64) *int64 { return &v }

// richCard is a closed live chat with every kind of line, a long unbroken
// word, an attachment, a coach's line, a rating and tickets: what a
// reader's page must lay out at desktop and phone width.
func richCard(folder, id string) *card.Card {
	c := card.New(folder, id, "2026-11-20T09:00:00.000Z")
	c.Active, c.Status = false, "closed"
	c.EndTime = "2026-11-20T09:14:05.250Z"
	c.Customer, c.CustomerName, c.Channel, c.Language = "person/1042", "Jane Doe", "web", "en"
	at := func(s string) string { return "2026-11-20T09:" + s + ".000Z" }
	c.ChatLog = []stats.LogEntry{
		{At: at("00:01"), Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "Hello, my VPN drops every hour <script>alert(1)</script>"},
		{At: at("00:02"), Participant: "b1", Role: "bot", Name: "Helpbot", Text: "I can help with VPN problems. Did you try reconnecting?"},
		{At: at("00:20"), Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "Yes, twice. I need a person."},
		{At: at("00:21"), Participant: "sys", Role: "system", Text: "Handed off to the IT queue"},
		{At: at("02:10"), Participant: "a1", Role: "agent", Name: "Sam Agent", Text: "Hi Jane, I'm Sam from IT. Which client version do you run?"},
		{At: at("02:30"), Participant: "k1", Role: "supervisor", Name: "Kim Coach", Text: "Ask for the log file first."},
		{At: at("03:05"), Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "Version 5.2.1 — the log says\nERR_TUNNEL_RESET_BY_PEER_AFTER_IDLE_TIMEOUT_EXPIRED_WHILE_RENEWING_LEASE_0x80070005\nevery 60 minutes."},
		{At: at("03:40"), Participant: "c1", Role: "customer", Name: "Jane Doe", File: &stats.File{Name: "vpn-client-2026-11-20.log", ContentType: "text/plain", Size: 48213}},
		{At: at("05:00"), Participant: "a1", Role: "agent", Name: "Sam Agent", Text: "Thanks. That is the known lease bug; I'll push the 5.2.3 update to your laptop and open a ticket."},
		{At: at("13:50"), Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "Updated, works now. Thank you! 👍"},
	}
	c.MessageCount = len(c.ChatLog)
	c.WaitBeforeFirstReplyMs = i64(0)
	c.AgentGreetingMs = i64(8000)
	c.Agents = []stats.Agent{{Participant: "a1", Person: "person/7", Name: "Sam Agent", Messages: 2, ReplyCount: 2, ReplyTotalMs: 184000, ReplyMaxMs: 115000, ReplyAvgMs: i64(92000), PresenceMs: 712000}}
	c.Members = []string{"person/1042", "person/7"}
	c.SupportPerson = "person/7"
	c.RelatedTickets = []string{"INC-20431", "CHG-88"}
	c.Rating = &stats.Rating{Score: 5, Comment: "Quick and friendly, problem solved."}
	c.ServiceLevel = "met"
	c.Statistics = stats.Statistics{
		"cse_SessionHandleTotalTime": stats.Num(715), "cse_SessionHandleTotalCount": stats.Num(1),
		"csg_SessionEndedBy": stats.Str("CLIENT"), "csg_SessionEndedReason": stats.Str("QUIT"),
	}
	c.Metadata = map[string]string{"botFlow": "it-support", "entryPage": "https://example.com/vpn-help?utm_source=intranet&utm_campaign=a-very-long-campaign-name"}
	c.Pages = []string{"https://example.com/vpn-help"}
	return c
}

// hitLog records every path the browser asks the API server for.
type hitLog struct {
	mu   sync.Mutex
	hits []string
}

func (l *hitLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.hits = append(l.hits, r.URL.RequestURI())
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *hitLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.hits
	l.hits = nil
	return h
}

// TestDialogInBrowser opens the dialog page through a share link, served by
// the real API handler, in headless Chromium: no console error, no CSP
// violation, no request but the page itself, nothing wider than a phone;
// then the expired and altered link pages the same way.
func TestDialogInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	e := newShareEnv(t)
	if _, _, err := e.store.Create(context.Background(), richCard(folderA, "w-2026-11-20-0001")); err != nil {
		t.Fatal(err)
	}
	// The longest values the API accepts, without a space to break at.
	long := richCard(folderA, strings.Repeat("w", 128))
	long.CustomerName, long.Customer = strings.Repeat("N", 256), strings.Repeat("p", 256)
	long.ChatLog[0].Name, long.ChatLog[0].Participant = strings.Repeat("N", 256), strings.Repeat("c", 128)
	long.ChatLog[7].File.Name = strings.Repeat("f", 255) + ".log"
	long.RelatedTickets = []string{strings.Repeat("T", 128)}
	long.Metadata = map[string]string{strings.Repeat("k", 64): strings.Repeat("v", 512)}
	long.Agents[0].Name = strings.Repeat("A", 256)
	long.ChatLog[4].Name = strings.Repeat("A", 256)
	if _, _, err := e.store.Create(context.Background(), long); err != nil {
		t.Fatal(err)
	}
	hits := &hitLog{}
	srv := httptest.NewServer(hits.wrap(e.h))
	defer srv.Close()
	e.h = hits.wrap(e.h) // the share call below goes through the same handler
	req := httptest.NewRequest("POST", "/v1/chat-sessions/w-2026-11-20-0001/share?folder=acme", nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Host = strings.TrimPrefix(srv.URL, "http://")
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	if rr.Code != 200 {
		t.Fatalf("share: %d %s", rr.Code, rr.Body)
	}
	link := strings.Split(strings.Split(rr.Body.String(), `"url":"`)[1], `"`)[0]
	link = strings.ReplaceAll(link, `\u0026`, "&")
	req = httptest.NewRequest("POST", "/v1/chat-sessions/"+long.SessionID+"/share?folder=acme", nil)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	req.Host = strings.TrimPrefix(srv.URL, "http://")
	rr = httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	longLink := strings.ReplaceAll(strings.Split(strings.Split(rr.Body.String(), `"url":"`)[1], `"`)[0], `\u0026`, "&")
	hits.take()

	for _, tc := range []struct {
		name, url, want string
		at              time.Time
	}{
		{"dialog", link, "Read-only shared view", fixedNow},
		{"long", longLink, "Read-only shared view", fixedNow},
		{"expired", link, "This link has expired", fixedNow.Add(8 * 24 * time.Hour)},
		{"altered", strings.Replace(link, "folder=acme", "folder=beta", 1), "This link is not valid", fixedNow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*e.now = tc.at
			p := browsertest.Open(t, tc.url)
			if text := browsertest.Eval[string](p, `document.body.innerText`); !strings.Contains(text, tc.want) {
				t.Errorf("page text lacks %q:\n%s", tc.want, text)
			}
			if tc.name == "dialog" {
				// The chat payload is shown as text, never run.
				if n := browsertest.Eval[int](p, `document.scripts.length`); n != 0 {
					t.Errorf("%d script elements in the page", n)
				}
				if !strings.Contains(browsertest.Eval[string](p, `document.body.innerText`), "<script>alert(1)</script>") {
					t.Error("the chat's markup is not shown as text")
				}
				if n := browsertest.Eval[int](p, `document.querySelectorAll('.r-internal').length`); n != 1 {
					t.Errorf("%d internal lines, want 1", n)
				}
			}
			if tc.name == "dialog" || tc.name == "long" {
				p.Check(tc.name)
				phoneFits(t, p)
			} else {
				checkErrorPage(t, p, tc.name, tc.url)
				phoneFits(t, p)
			}
			if got := hits.take(); len(got) != 1 || got[0] != strings.TrimPrefix(tc.url, srv.URL) {
				t.Errorf("the browser asked the server for %q, want only the page", got)
			}
		})
	}
}

// checkErrorPage is browsertest's Check for a page answered with an error
// status: Chromium reports the page's own 403 on the console ("Failed to
// load resource: … status of 403"), which is the point of the page and the
// one message allowed; everything else fails as in Check.
func checkErrorPage(t *testing.T, p *browsertest.Page, name, pageURL string) {
	t.Helper()
	p.Screenshot(name+"-desktop", browsertest.DesktopWidth)
	p.Screenshot(name+"-phone", browsertest.PhoneWidth)
	if over := p.HorizontalOverflow(); over > 0 {
		t.Errorf("at %d px the page is %d px too wide", browsertest.PhoneWidth, over)
	}
	own := 0
	for _, pr := range p.Problems() {
		if strings.Contains(pr, "status of 403") && strings.Contains(pr, "("+pageURL+")") {
			own++
			continue
		}
		t.Errorf("browsertest: %s", pr)
	}
	if own != 1 {
		t.Errorf("the page's own 403 was reported %d times, want 1", own)
	}
	for _, r := range p.ForeignRequests() {
		t.Errorf("browsertest: request other than the page itself: %s", r)
	}
}

// phoneFits fails when the page, left at phone width by the screenshots, is
// wider than the phone. browsertest's HorizontalOverflow compares with
// window.innerWidth, which a mobile-emulating Chromium widens to fit a page
// that sticks out (it zooms out), so it cannot see this; the document's
// own width can.
func phoneFits(t *testing.T, p *browsertest.Page) {
	t.Helper()
	if w := browsertest.Eval[int](p, `document.documentElement.scrollWidth`); w > browsertest.PhoneWidth {
		t.Errorf("at %d px the page is %d px wide: something does not wrap", browsertest.PhoneWidth, w)
	}
}
