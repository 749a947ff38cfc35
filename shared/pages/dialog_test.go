package pages_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/pages"
	"github.com/chatcards/chatcards/shared/stats"

	xhtml "golang.org/x/net/html"
)

func ptr[T any](v T) *T { return &v }

// dialogCard is a closed session with every kind of line: customer, bot,
// system, visible agent, coach (an agent not in agents[]), an attachment,
// a rating, tickets and metadata.
func dialogCard() *card.Card {
	c := card.New("acme", "w-2026-11-20-0001", "2026-11-20T09:00:00.000Z")
	c.Active, c.Status = false, "closed"
	c.EndTime = "2026-11-20T09:12:30.500Z"
	c.Customer, c.CustomerName = "person/1042", "Jane Doe"
	c.Channel, c.Language = "web", "en"
	c.ChatLog = []stats.LogEntry{
		{At: "2026-11-20T09:00:01.000Z", Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "My VPN drops\nevery hour"},
		{At: "2026-11-20T09:00:02.000Z", Participant: "b1", Role: "bot", Name: "Helpbot", Text: "Let me find an agent."},
		{At: "2026-11-20T09:00:03.000Z", Participant: "sys", Role: "system", Text: "Transferred to the queue"},
		{At: "2026-11-20T09:01:00.000Z", Participant: "a1", Role: "agent", Name: "Sam Agent", Text: "Hi Jane, I'm Sam."},
		{At: "2026-11-20T09:01:30.000Z", Participant: "k1", Role: "supervisor", Name: "Kim Coach", Text: "Ask for the client version"},
		{At: "2026-11-20T09:02:00.000Z", Participant: "c1", Role: "customer", Name: "Jane Doe", File: &stats.File{Name: "log.txt", ContentType: "text/plain", Size: 2048}},
	}
	c.MessageCount = len(c.ChatLog)
	c.WaitBeforeFirstReplyMs = ptr(int64(0))
	c.Agents = []stats.Agent{{Participant: "a1", Person: "person/7", Name: "Sam Agent", Messages: 1, ReplyCount: 1, ReplyTotalMs: 58000, ReplyMaxMs: 58000, ReplyAvgMs: ptr(int64(58000))}}
	c.RelatedTickets = []string{"INC-20431"}
	c.Rating = &stats.Rating{Score: 4, Comment: "quick and kind"}
	c.ServiceLevel = "met"
	c.Statistics = stats.Statistics{
		"cse_SessionHandleTotalTime": stats.Num(690), "cse_SessionHandleTotalCount": stats.Num(1),
		"csg_SessionEndedBy": stats.Str("CLIENT"), "csg_SessionEndedReason": stats.Str("QUIT"),
	}
	c.Metadata = map[string]string{"botFlow": "it-support"}
	return c
}

func render(t *testing.T, c *card.Card, opt pages.DialogOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := pages.Dialog(&b, c, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestDialogShowsTheCard(t *testing.T) {
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(render(t, dialogCard(), pages.DialogOptions{Location: helsinki}))
	for _, want := range []string{
		"Chat w-2026-11-20-0001", "times in Europe/Helsinki",
		"Fri 20 Nov 2026, 11:00:00 EET (UTC+02:00)", // start in the folder's zone
		"Fri 20 Nov 2026, 11:12:30 EET (UTC+02:00)", // end
		"lasted 12 min 30 s", "11 min 30 s",         // handle time 690 s
		"Jane Doe (person/1042)", ">met<", "<dt>Agents</dt><dd>Sam Agent</dd>", "not contained", ">client<", "reason: quit",
		`class="msg r-customer"`, `class="msg r-bot"`, `class="msg r-system"`, `class="msg r-agent"`,
		`class="msg r-internal"`, `<span class="tag">internal</span><span class="who">Kim Coach</span>`,
		"<time title=\"Fri 20 Nov 2026, 11:01:00 EET (UTC+02:00)\">11:01:00</time>",
		"log.txt", "text/plain", "2.0 KB", "INC-20431", "<strong>4</strong> of 5", "quick and kind",
		"★★★★☆", "botFlow", "it-support", "Sam Agent", "1 replies, avg 58 s",
		"My VPN drops\nevery hour",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "Read-only shared view") {
		t.Error("token-opened page says it is shared")
	}
	shared := html.UnescapeString(render(t, dialogCard(), pages.DialogOptions{Location: helsinki, SharedUntil: time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)}))
	if !strings.Contains(shared, "Read-only shared view. This link works until Fri 27 Nov 2026, 11:30:00 EET (UTC+02:00)") {
		t.Error("shared page does not say until when")
	}
}

// An empty, just-created card renders without figures it does not have.
func TestDialogEmptyCard(t *testing.T) {
	page := render(t, card.New("acme", "s1", "2026-11-20T09:00:00.000Z"), pages.DialogOptions{})
	for _, want := range []string{"still active", "No messages yet", "no live chat", "Fri 20 Nov 2026, 09:00:00 UTC"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// Everything that came from outside (chat text, names, files, tickets,
// metadata, pages, markers, ids, the rating comment) is escaped: no payload
// survives as markup.
func TestDialogEscapesEverything(t *testing.T) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`</style><script>alert(1)</script>`,
		`javascript:alert(1)`,
		`' onmouseover='alert(1)`,
		`<a href="https://evil.example">x</a>`,
		"<!--", "]]>", `<svg/onload=alert(1)>`, `&lt;script&gt;`,
	}
	for _, p := range payloads {
		c := dialogCard()
		c.CustomerName, c.Customer, c.Channel, c.Language = p, p, p, p
		c.ClosedReason = p
		for i := range c.ChatLog {
			c.ChatLog[i].Name, c.ChatLog[i].Participant = p, p
			if c.ChatLog[i].File != nil {
				c.ChatLog[i].File.Name, c.ChatLog[i].File.ContentType = p, p
			} else {
				c.ChatLog[i].Text = p
			}
		}
		c.Agents[0].Participant, c.Agents[0].Name, c.Agents[0].Person = p, p, p
		c.RelatedTickets = []string{p}
		c.Rating.Comment = p
		c.Metadata = map[string]string{p: p}
		c.Pages, c.Markers = []string{p}, []string{p}
		c.Status = p
		c.Statistics["csg_SessionEndedBy"] = stats.Str(p)
		page := render(t, c, pages.DialogOptions{})
		checkMarkup(t, p, page)
		// The payload's text is still shown, escaped.
		if p == payloads[0] && !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("payload %q not shown escaped", p)
		}
		if strings.Contains(page, `class="badge st-`+p) {
			t.Errorf("status %q became a class name", p)
		}
	}
}

// checkMarkup tokenizes page as a browser would and fails on any element
// or attribute the templates do not write: a payload that became markup.
func checkMarkup(t *testing.T, payload, page string) {
	t.Helper()
	allowed := map[string]bool{"html": true, "head": true, "meta": true, "link": true, "title": true, "style": true,
		"body": true, "main": true, "p": true, "header": true, "div": true, "h1": true, "h2": true, "span": true,
		"dl": true, "dt": true, "dd": true, "section": true, "strong": true, "ul": true, "ol": true, "li": true,
		"time": true, "table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true, "footer": true}
	attrs := map[string]bool{"lang": true, "charset": true, "name": true, "content": true, "rel": true, "href": true,
		"class": true, "id": true, "title": true, "aria-hidden": true, "data-label": true}
	z := xhtml.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return
		}
		if tt == xhtml.CommentToken {
			t.Errorf("payload %q: a comment in the page", payload)
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if !allowed[tok.Data] {
			t.Errorf("payload %q: element <%s> in the page", payload, tok.Data)
		}
		for _, a := range tok.Attr {
			if !attrs[a.Key] {
				t.Errorf("payload %q: attribute %s on <%s>", payload, a.Key, tok.Data)
			}
			if a.Key == "href" && a.Val != "data:," {
				t.Errorf("payload %q: href %q", payload, a.Val)
			}
			if a.Key == "class" && strings.ContainsAny(a.Val, "<>\"'=()") {
				t.Errorf("payload %q: class %q", payload, a.Val)
			}
		}
	}
}

// The inline style is exactly what the CSP's hash allows, and the page has
// no script, no external URL, no inline style attribute.
func TestDialogCSPMatchesTheStyle(t *testing.T) {
	for name, page := range map[string]string{
		"dialog": render(t, dialogCard(), pages.DialogOptions{}),
		"error":  errorPage(t),
	} {
		m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllStringSubmatch(page, -1)
		if len(m) != 1 {
			t.Fatalf("%s: %d style elements", name, len(m))
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(pages.DialogCSP, want) {
			t.Errorf("%s: CSP %q lacks %s", name, pages.DialogCSP, want)
		}
		for _, bad := range []string{"<script", " style=", "http://", "https://", "src="} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: page contains %q", name, bad)
			}
		}
	}
	for _, want := range []string{"default-src 'none'", "img-src data:", "frame-ancestors 'none'"} {
		if !strings.Contains(pages.DialogCSP, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	if strings.Contains(pages.DialogCSP, "script-src") || strings.Contains(pages.DialogCSP, "unsafe") {
		t.Errorf("CSP allows more than it should: %s", pages.DialogCSP)
	}
	h := http.Header{}
	pages.DialogHeaders(h)
	for k, v := range map[string]string{
		"Content-Security-Policy": pages.DialogCSP, "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "Cache-Control": "private, no-store",
		"Content-Type": "text/html; charset=utf-8",
	} {
		if h.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, h.Get(k), v)
		}
	}
}

func errorPage(t *testing.T) string {
	var b bytes.Buffer
	if err := pages.DialogError(&b, pages.DialogProblem{Status: 403, Title: "This link has expired", Message: "<b>ask</b>"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "&lt;b&gt;ask&lt;/b&gt;") || !strings.Contains(b.String(), "403 Forbidden") {
		t.Errorf("error page:\n%s", b.String())
	}
	return b.String()
}

// A folder with business hours decides the service level on the business
// time: a 1 h 15 min wait can be met. The page shows the figure it was
// decided on, so "met" beside "1 h 15 min" is not a riddle.
func TestDialogShowsTheBusinessHoursWait(t *testing.T) {
	c := dialogCard()
	wait, biz := int64(4_500_000), int64(900_000)
	c.WaitBeforeFirstReplyMs = &wait
	c.ServiceLevel = stats.ServiceLevelMet
	c.BusinessHours = &stats.BusinessHours{WaitBeforeFirstReplyMs: &biz}
	page := html.UnescapeString(render(t, c, pages.DialogOptions{}))
	for _, want := range []string{"1 h 15 min", "15 min 00 s in business hours", "within target, in business hours"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	c.BusinessHours = nil
	if page := render(t, c, pages.DialogOptions{}); strings.Contains(page, "business hours") {
		t.Error("a folder without business hours mentions them")
	}
}
