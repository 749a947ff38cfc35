package reports_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// TestSessionsAnalyticsColumns: one row per variant of each analytics.md
// column of the sessions report, in CSV and Parquet alike.
func TestSessionsAnalyticsColumns(t *testing.T) {
	mk := func(id string, set func(c *card.Card)) *card.Card {
		c := newCard("acme", id, "2026-11-20T09:00:00.000Z")
		set(c)
		return c
	}
	cards := []*card.Card{
		mk("a-rated-no-comment", func(c *card.Card) { c.Rating = &stats.Rating{Score: 2} }),
		mk("b-comment", func(c *card.Card) { c.Rating = &stats.Rating{Score: 5, Comment: "=great, thanks"} }),
		mk("c-contained", func(c *card.Card) { c.BotContained = true }),
		mk("d-missed", func(c *card.Card) { c.ServiceLevel = stats.ServiceLevelMissed }),
		mk("e-hours-no-wait", func(c *card.Card) { c.BusinessHours = &stats.BusinessHours{} }),
		mk("f-hours-zero", func(c *card.Card) { c.BusinessHours = &stats.BusinessHours{WaitBeforeFirstReplyMs: i64(0)} }),
		mk("g-intercom", func(c *card.Card) {
			c.PlatformFigures = []byte(`{"platform":"intercom","statistics":{"time_to_admin_reply":95}}`)
		}),
		mk("h-livechat", func(c *card.Card) {
			c.PlatformFigures = []byte(`{"platform":"livechat","threads":[{"id":"T1"}]}`)
		}),
	}
	dir, _ := export(t, cards, reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"csv", "parquet"}}, reports.Options{})
	csvT := readCSV(t, readFile(t, dir, key("acme", "2026-11-20", "sessions", "csv")))
	pq := readParquet(t, readFile(t, dir, key("acme", "2026-11-20", "sessions", "parquet")))
	const first = 26 // rating is the first analytics column
	var got [][]string
	for _, r := range csvT {
		got = append(got, append([]string{r[0]}, r[first:]...))
	}
	want := [][]string{
		{"sessionId", "rating", "ratingComment", "botContained", "serviceLevel", "waitBeforeFirstReplyBusinessMs", "platformFigures", "platformFirstReplyMs"},
		{"a-rated-no-comment", "2", "", "false", "", "", "", ""},
		{"b-comment", "5", "'=great, thanks", "false", "", "", "", ""}, // CSV guards formula-like text
		{"c-contained", "", "", "true", "", "", "", ""},
		{"d-missed", "", "", "false", "missed", "", "", ""},
		{"e-hours-no-wait", "", "", "false", "", "", "", ""},
		{"f-hours-zero", "", "", "false", "", "0", "", ""},
		{"g-intercom", "", "", "false", "", "", `{"platform":"intercom","statistics":{"time_to_admin_reply":95}}`, "95000"},
		{"h-livechat", "", "", "false", "", "", `{"platform":"livechat","threads":[{"id":"T1"}]}`, ""},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("csv (-want +got):\n%s", d)
	}
	want[2][2] = "=great, thanks" // Parquet keeps the text as typed
	got = nil
	for _, r := range pq {
		got = append(got, append([]string{r[0]}, r[first:]...))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("parquet (-want +got):\n%s", d)
	}
}
