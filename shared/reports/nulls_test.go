package reports_test

import (
	"archive/zip"
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// sparseCards are cards with as little as a card can have: never synced,
// an agent who never replied and has no name, lines without a name or text,
// a channel without a price.
func sparseCards() []*card.Card {
	bare := card.New("acme", "s-bare", "2026-11-20T15:00:00.000Z")
	quiet := newCard("acme", "s-quiet", "2026-11-20T16:00:00.000Z")
	quiet.Channel = "sms" // no price
	quiet.Active, quiet.Status, quiet.EndTime = false, "closed", "2026-11-20T16:05:00.000Z"
	quiet.Agents = []stats.Agent{{Participant: "a9", Person: "agent-zed", PresenceMs: 1000}}
	quiet.ChatLog = []stats.LogEntry{
		{At: "2026-11-20T16:00:01.000Z", Participant: "sys", Role: "system"},
		{At: "2026-11-20T16:00:02.000Z", Participant: "c", Role: "customer", File: &stats.File{ContentType: "image/png"}},
	}
	quiet.ServiceLevel = stats.ServiceLevelMissed
	return append(fixtureCards(), bare, quiet)
}

// TestAbsentIsNullNeverEmptyOrZero audits every column of every report in
// every format: an absent value is NULL in Parquet (its column OPTIONAL) and
// an empty cell in CSV and XLSX, never "" or a stand-in 0.
func TestAbsentIsNullNeverEmptyOrZero(t *testing.T) {
	opt := reports.Options{Prices: map[string]float64{"web": 0.01, "whatsapp": 0.05}}
	dir, ms := export(t, sparseCards(), reports.Selection{Folder: "acme", From: "2026-11-20", WithTimes: true}, opt)
	if len(ms[0].Files) != len(reports.ReportNames())*3+len(reports.AthenaTables)+1 { // + summary.html
		t.Fatalf("files %d", len(ms[0].Files))
	}
	emptyXML := regexp.MustCompile(`<t[^>]*></t>|<t/>|<v></v>|<v/>`)
	for _, name := range reports.ReportNames() {
		t.Run(name, func(t *testing.T) {
			cols, err := reports.Columns(name, true)
			if err != nil {
				t.Fatal(err)
			}
			pb := readFile(t, dir, key("acme", "2026-11-20", name, "parquet"))
			pq := readParquet(t, pb)
			csvT := readCSV(t, readFile(t, dir, key("acme", "2026-11-20", name, "csv")))
			// CSV and Parquet agree cell by cell (times in UTC here), so an
			// empty CSV cell is a NULL, and no Parquet text is "".
			if len(pq) != len(csvT) {
				t.Fatalf("parquet %d rows, csv %d", len(pq), len(csvT))
			}
			for i := range pq {
				for j := range pq[i] {
					if pq[i][j] == emptyString {
						t.Errorf("row %d %s: Parquet holds \"\" instead of NULL", i, pq[0][j])
					} else if pq[i][j] != csvT[i][j] && !(cols[j].Kind == reports.KindString && csvT[i][j] == "'"+pq[i][j]) {
						t.Errorf("row %d %s: parquet %q, csv %q", i, pq[0][j], pq[i][j], csvT[i][j])
					}
				}
			}
			// OPTIONAL exactly where the report declares an absent value possible.
			f, err := parquet.OpenFile(bytes.NewReader(pb), int64(len(pb)))
			if err != nil {
				t.Fatal(err)
			}
			for j, field := range f.Schema().Fields() {
				if field.Optional() != cols[j].Nullable {
					t.Errorf("%s: parquet optional=%v, column nullable=%v", field.Name(), field.Optional(), cols[j].Nullable)
				}
			}
			// XLSX: no empty text or value element: an absent value is no cell.
			xb := readFile(t, dir, key("acme", "2026-11-20", name, "xlsx"))
			zr, err := zip.NewReader(bytes.NewReader(xb), int64(len(xb)))
			if err != nil {
				t.Fatal(err)
			}
			for _, zf := range zr.File {
				if !strings.HasPrefix(zf.Name, "xl/worksheets/sheet") {
					continue
				}
				rc, _ := zf.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				if m := emptyXML.Find(b); m != nil {
					t.Errorf("%s: empty cell written as %s", zf.Name, m)
				}
			}
		})
	}

	// The stand-in 0s and ""s a card without the figure could have given.
	row := func(report, col, id string) string {
		tab := readCSV(t, readFile(t, dir, key("acme", "2026-11-20", report, "csv")))
		for _, r := range tab[1:] {
			if r[0] == id {
				for j, h := range tab[0] {
					if h == col {
						return r[j]
					}
				}
			}
		}
		t.Fatalf("%s has no row %s with a column %s", report, id, col)
		return ""
	}
	for _, tc := range []struct{ report, id, col, want string }{
		{"sessions", "s-bare", "channel", ""},
		{"sessions", "s-bare", "members", ""},
		{"sessions", "s-bare", "rating", ""},
		{"sessions", "s-bare", "serviceLevel", ""},
		{"sessions", "s-bare", "waitBeforeFirstReplyBusinessMs", ""},
		{"sessions", "s-bare", "platformFigures", ""},
		{"sessions", "s-bare", "platformFirstReplyMs", ""},
		{"sessions", "s-bare", "messageCount", "0"}, // a real count
		{"sessions", "s-bare", "botContained", "false"},
		{"sessions", "s-quiet", "serviceLevel", "missed"},
		{"operators", "s-quiet", "name", ""},
		{"operators", "s-quiet", "replyAvgMs", ""},
		{"operators", "s-quiet", "replyMaxMs", ""},
		{"operators", "s-quiet", "replyCount", "0"},
		{"productivity", "agent-zed", "replyMaxMs", ""},
		{"productivity", "agent-zed", "serviceLevelMissed", "0"}, // missed without a reply: no sender
		{"productivity", "agent-zed", "serviceLevelAttainment", ""},
		{"productivity", "agent-zed", "customerWaitMedianMs", ""},
		{"productivity", "agent-zed", "customerWaitP90Ms", ""},
		{"productivity", "agent-zed", "ratedSessions", "0"},
		{"productivity", "agent-zed", "csat", ""},
		{"billing", "sms", "unitPrice", ""},
		{"billing", "sms", "cost", "0"},
		{"sources", "", "sessions", "1"}, // s-bare has no channel: an empty key
	} {
		if got := row(tc.report, tc.col, tc.id); got != tc.want {
			t.Errorf("%s %s %s = %q, want %q", tc.report, tc.id, tc.col, got, tc.want)
		}
	}
}
