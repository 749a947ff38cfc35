package pages_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/browsertest"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/pages"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/summary"
)

// summaryCards generates a realistic day of one folder: n sessions from the
// reference platform's generator, computed by the statistics engine in the
// folder's zone, with a deterministic share of them rated.
func summaryCards(t testing.TB, folder string, n int, loc *time.Location, start time.Time) []*card.Card {
	t.Helper()
	set := stats.DefaultSettings()
	set.Folder = &folders.Settings{Location: loc, FirstReplyTarget: time.Minute}
	var out []*card.Card
	for i, tr := range platform.Generate(platform.GenerateOptions{N: n, Seed: 7, Start: start, Spacing: 4 * time.Minute, Folder: folder}) {
		if err := tr.Normalize(); err != nil {
			t.Fatal(err)
		}
		c := &card.Card{Folder: folder, Card: *stats.Compute(tr, set, nil), Channel: tr.Channel}
		c.StartedAt = c.StartTime
		// About two in five rate the chat, mostly well.
		if i%5 < 2 && !c.Active {
			c.Rating = &stats.Rating{Score: []int{5, 4, 5, 3, 1, 4, 5, 2}[i%8]}
		}
		out = append(out, c)
	}
	return out
}

func summaryDayOf(t testing.TB, folder, date string, loc *time.Location, cards []*card.Card) summary.Day {
	t.Helper()
	b, err := summary.NewDay(folder, date, loc, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if d, _ := summary.LocalDate(c, loc); d != date {
			continue
		}
		if err := b.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	return b.Result()
}

func berlin(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func summaryRender(t testing.TB, d summary.Day, opt pages.SummaryOptions) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := pages.Summary(&buf, d, opt); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestSummaryPageContent(t *testing.T) {
	loc := berlin(t)
	cards := summaryCards(t, "helpdesk", 160, loc, time.Date(2026, 11, 20, 6, 0, 0, 0, loc))
	d := summaryDayOf(t, "helpdesk", "2026-11-20", loc, cards)
	if d.Sessions < 100 || d.Handoffs == 0 || d.Rated == 0 || len(d.Longest) != summary.LongestWaits {
		t.Fatalf("generated day too thin for the test: %d sessions, %d handoffs, %d rated, %d longest", d.Sessions, d.Handoffs, d.Rated, len(d.Longest))
	}
	page := string(summaryRender(t, d, pages.SummaryOptions{}))

	for _, want := range []string{
		`<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"Friday 20 November 2026", "Europe/Berlin",
		"Sessions and handoffs per hour", "Local hour (Europe/Berlin)", "target 1 min<",
		"Service level per agent", "How sessions ended", "Customer satisfaction", "Ten longest waits",
		`href="/v1/chat-sessions/` + d.Longest[0].SessionID + `?folder=helpdesk"`,
		"@media print", "@media (max-width:600px)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: no script, no external reference of any kind.
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("page has a script element")
	}
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(page); m != "" {
		t.Errorf("page references another origin: %s", m)
	}
	if strings.Contains(page, "@import") || strings.Contains(page, "url(") {
		t.Error("CSS loads something")
	}
	// Chat text never appears on this page.
	for _, c := range cards {
		for _, l := range c.ChatLog {
			if len(l.Text) >= 12 && strings.Contains(page, l.Text) {
				t.Fatalf("chat text %q of %s is on the page", l.Text, c.SessionID)
			}
		}
	}
	// Every hour with sessions has a bar with a tooltip (two when it also
	// has handoffs).
	busy := 0
	for _, h := range d.Hours {
		if h.Sessions > 0 {
			busy++
		}
	}
	if n := strings.Count(page, ":00 — "); n < busy {
		t.Errorf("%d hour tooltips for %d busy hours", n, busy)
	}
}

func TestSummaryPageEscapes(t *testing.T) {
	evil := `<script>alert(1)</script>"'&`
	b, err := summary.NewDay(evil, "2026-11-20", time.UTC, 90*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := card.New(evil, evil, "2026-11-20T10:00:00.000Z")
	c.Active, c.Status = false, "closed"
	c.SupportPerson = evil
	c.Agents = []stats.Agent{{Participant: "a", Person: evil, Name: evil}}
	c.ServiceLevel = "missed"
	w := int64(120000)
	c.WaitBeforeFirstReplyMs = &w
	c.Statistics = stats.Statistics{"csg_SessionEndedBy": stats.Str(evil), "csg_SessionEndedReason": stats.Str(evil)}
	if err := b.Add(c); err != nil {
		t.Fatal(err)
	}
	page := string(summaryRender(t, b.Result(), pages.SummaryOptions{
		Link: func(id string) string { return "javascript:alert(1)//" + id },
	}))
	if strings.Contains(page, "<script") || strings.Contains(page, `"'&`) {
		t.Error("a data string reached the page unescaped")
	}
	if strings.Contains(page, "javascript:") {
		t.Error("a javascript: link survived")
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the escaped folder name is missing")
	}
}

func TestSummaryPageEmptyDay(t *testing.T) {
	b, err := summary.NewDay("quiet", "2026-03-29", berlin(t), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	page := string(summaryRender(t, b.Result(), pages.SummaryOptions{}))
	for _, want := range []string{"No sessions started on this day.", "No session of this day has ended yet.", "No customer waited"} {
		if !strings.Contains(page, want) {
			t.Errorf("empty page lacks %q", want)
		}
	}
}

func TestSummaryPageIsDeterministic(t *testing.T) {
	loc := berlin(t)
	cards := summaryCards(t, "helpdesk", 40, loc, time.Date(2026, 11, 20, 9, 0, 0, 0, loc))
	a := summaryRender(t, summaryDayOf(t, "helpdesk", "2026-11-20", loc, cards), pages.SummaryOptions{})
	b := summaryRender(t, summaryDayOf(t, "helpdesk", "2026-11-20", loc, cards), pages.SummaryOptions{})
	if !bytes.Equal(a, b) {
		t.Error("two renders of the same day differ")
	}
}

// TestSummaryPageInBrowser opens summary.html in headless Chromium: no
// console error, no CSP violation, no request but the page itself, no
// sideways scrolling at 390 px; screenshots at 1280 and 390 px.
func TestSummaryPageInBrowser(t *testing.T) {
	loc := berlin(t)
	days := []struct {
		name, date string
		start      time.Time
		n          int
	}{
		{"busy", "2026-11-20", time.Date(2026, 11, 20, 5, 30, 0, 0, loc), 180},
		{"fall-back", "2026-10-25", time.Date(2026, 10, 25, 0, 10, 0, 0, loc), 60},
		{"empty", "2026-11-21", time.Date(2026, 11, 22, 5, 0, 0, 0, loc), 0},
	}
	for _, day := range days {
		t.Run(day.name, func(t *testing.T) {
			cards := summaryCards(t, "helpdesk", day.n, loc, day.start)
			d := summaryDayOf(t, "helpdesk", day.date, loc, cards)
			body := summaryRender(t, d, pages.SummaryOptions{})
			if dir := os.Getenv("CHATCARDS_ARTIFACTS"); dir != "" {
				_ = os.WriteFile(dir+"/summary-"+day.name+".html", body, 0o644)
			}
			p := browsertest.OpenServed(t, "/reports/folder=helpdesk/date="+day.date+"/summary.html", pages.SummaryContentType, body)
			desktop, phone := p.Check("summary-" + day.name)
			print := p.PrintScreenshot("summary-" + day.name + "-print")
			t.Logf("screenshots: %s %s %s", desktop, phone, print)
			// The page must not rely on anything the harness could miss.
			if n := browsertest.Eval[int](p, `document.querySelectorAll("script,iframe,object,embed,link[rel=stylesheet]").length`); n != 0 {
				t.Errorf("%d script/frame/stylesheet elements", n)
			}
		})
	}
}

// The page's note says how the per-agent service level is credited, and it
// must say what the table does: the sender of the first reply (firstReplyBy,
// docs/summary.md), not the support person, who can be another agent, and
// "no agent" for sessions with no first reply, which may have had agents.
func TestSummaryPageNoteCreditsTheFirstReply(t *testing.T) {
	loc := berlin(t)
	d := summaryDayOf(t, "helpdesk", "2026-11-20", loc, summaryCards(t, "helpdesk", 40, loc, time.Date(2026, 11, 20, 6, 0, 0, 0, loc)))
	page := string(summaryRender(t, d, pages.SummaryOptions{}))
	_, note, ok := strings.Cut(page, "Service level per agent is credited to ")
	if !ok {
		t.Fatal("no note on the per-agent service level")
	}
	note, _, _ = strings.Cut(note, "</li>")
	if strings.Contains(note, "support person") || strings.Contains(note, "joined last") || !strings.Contains(note, "first reply") {
		t.Errorf("note: %q", note)
	}
}

// On the night the clocks go back the repeated hour's bars say which of the
// two it is in a readable tooltip: "03:00 (UTC+03:00)", not "03 +03:00:00".
func TestSummaryPageRepeatedHourTooltip(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	// 00:30 and 01:30 UTC are both 03:30 local on 25 October 2026.
	var cards []*card.Card
	for _, at := range []string{"2026-10-25T00:30:00.000Z", "2026-10-25T01:30:00.000Z"} {
		c := card.New("hel", "s-"+at[11:13], at)
		c.StartTime = at
		cards = append(cards, c)
	}
	page := string(summaryRender(t, summaryDayOf(t, "hel", "2026-10-25", loc, cards), pages.SummaryOptions{}))
	for _, want := range []string{"<title>03:00 (UTC&#43;03:00) — 1 sessions", "<title>03:00 (UTC&#43;02:00) — 1 sessions"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, ":00:00 — ") {
		t.Error("a tooltip reads like \"03 +03:00:00\"")
	}
}
