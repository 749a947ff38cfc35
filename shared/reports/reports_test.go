package reports_test

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/reports"
)

// factRow builds an expected chat-session-fact row from the cells that are set.
func factRow(set map[string]string) []string {
	names := strings.Split("CHAT_SESSION_ID,START_DATE_TIME_KEY,END_DATE_TIME_KEY,SESSION_DURATION,UNTIL_FIRST_AGENT_DURATION,UNTIL_FIRST_REPLY_DURATION,MSG_FROM_AGENTS_COUNT,MSG_FROM_AGENTS_SIZE,MSG_FROM_CUSTOMERS_COUNT,MSG_FROM_CUSTOMERS_SIZE,AGENTS_COUNT,HANDLE_COUNT,HANDLE_DURATION,ACTIVE_IDLE_COUNT,ACTIVE_IDLE_DURATION,AGENT_REPLY_COUNT,AGENT_REPLY_DURATION,AGENT_REPLY_MAX_DURATION,AGENT_WAIT_COUNT,AGENT_WAIT_DURATION,AGENT_WAIT_MAX_DURATION,CUSTOMER_REPLY_COUNT,CUSTOMER_REPLY_DURATION,CUSTOMER_REPLY_MAX_DURATION,CUSTOMER_WAIT_COUNT,CUSTOMER_WAIT_DURATION,CUSTOMER_WAIT_MAX_DURATION,ASYNC_DORMANT_COUNT,ASYNC_DORMANT_DURATION,ASYNC_IDLE_COUNT,ASYNC_IDLE_DURATION,ENDED_BY,ENDED_REASON,ASYNC_MODE,LANGUAGE_NAME,MEDIA_ORIGIN,TENANT_KEY", ",")
	if set == nil {
		return names
	}
	row := make([]string, len(names))
	for i, n := range names {
		row[i] = set[n]
	}
	return row
}

func split(rows ...string) table {
	t := make(table, len(rows))
	for i, r := range rows {
		t[i] = strings.Split(r, "|")
	}
	return t
}

// expected holds every report of the fixture (folder acme, 2026-11-20 UTC),
// as CSV renders it; "|" separates cells.
func expected() map[string]table {
	at := func(hms string) string { return "2026-11-20T" + hms + ".000+00:00" }
	return map[string]table{
		"sessions": split(
			"sessionId|folder|channel|language|status|startTime|endTime|durationMs|customer|supportPerson|members|messageCount|waitBeforeFirstReplyMs|agentGreetingMs|relatedTickets|noOperatorResponse|abandoned|endedBy|endedReason|endedAgent|handleTimeMs|agentReplyAvgMs|agentReplyMaxMs|customerWaitAvgMs|customerWaitMaxMs|markers"+
				"|rating|ratingComment|botContained|serviceLevel|waitBeforeFirstReplyBusinessMs|platformFigures|platformFirstReplyMs",
			"s-1|acme|web|en|closed|"+at("09:00:00")+"|2026-11-20T09:10:00.500+00:00|600500|cust-1|agent-ann|cust-1;agent-ann;agent-bob|5|4000|1500|INC-1;INC-2|false|false|CLIENT|QUIT|PRESENT|420000|4501|5001|4501|5001|vip;refund"+
				`|4|quick, thanks|false|met|1000|{"platform":"zendesk","response_time":{"first":3}}|3000`,
			"s-2|acme|whatsapp||active|"+at("12:00:00")+"|||cust-2||cust-2|2||||false|false|||||||||"+"|||false||||",
			"s-3|acme|web||closed|"+at("23:30:00")+"|"+at("23:35:00")+"|300000||||0||||true|true|CLIENT|QUIT|ABSENT||||||"+"|||false|missed|||",
		),
		"markers": split("sessionId|marker|startTime", "s-1|vip|"+at("09:00:00"), "s-1|refund|"+at("09:00:00")),
		"operators": split("sessionId|agentPerson|name|messages|replyCount|replyAvgMs|replyMaxMs|presenceMs",
			"s-1|agent-ann|Ann|1|1|4000|4000|300000", "s-1|agent-bob|Bob|1|1|5001|5001|120000"),
		"productivity": split("agentPerson|name|sessions|operatorMessages|clientMessages|replyCount|replyAvgMs|replyMaxMs|handleTimeMs"+
			"|serviceLevelMet|serviceLevelMissed|serviceLevelAttainment|customerWaitMedianMs|customerWaitP90Ms|ratedSessions|csat",
			"agent-ann|Ann|1|1|2|1|4000|4000|300000|1|0|1|4000|4000|1|1", "agent-bob|Bob|1|1|2|1|5001|5001|120000|0|0||5001|5001|0|"),
		"sources": split("channel|sessions|botMessages|operatorMessages|clientMessages|handoffs|noOperatorResponse|abandoned",
			"web|2|1|2|2|2|1|1", "whatsapp|1|1|0|1|0|0|0"),
		"pages":           split("url|sessions", "https://shop.example/|2", "https://shop.example/cart|1"),
		"popular-phrases": split("phrase|count|sessions", "refund please|2|2", "refund, please|1|1"),
		"client-phrases": split("sessionId|at|text",
			"s-1|"+at("09:00:02")+"|  Refund, please!! ", "s-1|"+at("09:00:08")+"|refund   PLEASE", "s-2|"+at("12:00:01")+"|REFUND please."),
		"transcripts": split("sessionId|at|role|name|text",
			"s-1|"+at("09:00:01")+"|bot|Botty|Hello",
			"s-1|"+at("09:00:02")+"|customer|Cy|  Refund, please!! ",
			"s-1|"+at("09:00:06")+"|agent|Ann|Sure thing, one sec",
			"s-1|"+at("09:00:07")+"|customer|Cy|receipt.pdf",
			"s-1|"+at("09:00:08")+"|customer|Cy|refund   PLEASE",
			"s-2|"+at("12:00:01")+"|customer||REFUND please.",
			"s-2|"+at("12:00:02")+"|bot||Hi!"),
		"chat-session-fact": {
			factRow(nil),
			factRow(map[string]string{"CHAT_SESSION_ID": "s-1", "START_DATE_TIME_KEY": at("09:00:00"), "END_DATE_TIME_KEY": "2026-11-20T09:10:00.500+00:00",
				"SESSION_DURATION": "600", "MSG_FROM_AGENTS_COUNT": "2", "MSG_FROM_AGENTS_SIZE": "20", "MSG_FROM_CUSTOMERS_COUNT": "2",
				"MSG_FROM_CUSTOMERS_SIZE": "11", "AGENTS_COUNT": "2", "HANDLE_COUNT": "1", "HANDLE_DURATION": "420",
				"AGENT_REPLY_COUNT": "2", "AGENT_REPLY_DURATION": "9", "AGENT_REPLY_MAX_DURATION": "5",
				"ENDED_BY": "CLIENT", "ENDED_REASON": "QUIT", "ASYNC_MODE": "0", "LANGUAGE_NAME": "en", "MEDIA_ORIGIN": "web", "TENANT_KEY": "acme"}),
			factRow(map[string]string{"CHAT_SESSION_ID": "s-2", "START_DATE_TIME_KEY": at("12:00:00"), "MSG_FROM_CUSTOMERS_COUNT": "1",
				"MSG_FROM_CUSTOMERS_SIZE": "6", "ASYNC_MODE": "1", "TENANT_KEY": "acme"}),
			factRow(map[string]string{"ENDED_BY": "CLIENT", "ENDED_REASON": "QUIT", "TENANT_KEY": "acme"}),
		},
		"terminations": split("day|endedBy|endedReason|endedAgent|sessions",
			"2026-11-20|CLIENT|QUIT|ABSENT|1", "2026-11-20|CLIENT|QUIT|PRESENT|1"),
		"message-statistics": split("day|channel|sessions|agentMessages|agentChars|customerMessages|customerChars|botMessages|botChars",
			"2026-11-20|web|2|2|20|2|11|1|5", "2026-11-20|whatsapp|1|0|0|1|6|1|3"),
		"billing": split("channel|sessions|paidMessages|unitPrice|cost", "web|2|3|0.01|0.03", "whatsapp|1|1|0.05|0.05"),
		// s-1 handed off (agents), first reply 4000; s-3 abandoned; no service
		// level, pair or rating on these cards: those cells are empty.
		"daily-summary": split("folder|day|timeZone|sessions|closed|handoffs|botContained|botContainedShare|abandoned|serviceLevelMet|serviceLevelMissed|serviceLevelAttainment|firstReplySessions|firstReplyMedianMs|firstReplyP90Ms|firstReplyMaxMs|customerWaitPairs|customerWaitMedianMs|customerWaitP90Ms|ratedSessions|averageScore|csat",
			"acme|2026-11-20|UTC|3|2|2|0|0|1|1|1|0.5|1|4000|4000|4000|2|4000|5001|1|4|1"),
	}
}

var fixtureOpts = reports.Options{Prices: map[string]float64{"web": 0.01, "whatsapp": 0.05}}

func TestEveryReportEveryFormat(t *testing.T) {
	dir, ms := export(t, fixtureCards(), reports.Selection{Folder: "acme", From: "2026-11-20", WithTimes: true}, fixtureOpts)
	// 14 reports × 3 formats, 2 Athena copies, summary.html.
	if len(ms) != 1 || len(ms[0].Files) != 14*3+2+1 {
		t.Fatalf("manifests %d, files %d; want 1 and 45", len(ms), len(ms[0].Files))
	}
	want := expected()
	if len(want) != len(reports.ReportNames()) {
		t.Fatalf("the test covers %d reports of %d", len(want), len(reports.ReportNames()))
	}
	for _, name := range reports.ReportNames() {
		t.Run(name, func(t *testing.T) {
			w := want[name]
			got := readCSV(t, readFile(t, dir, key("acme", "2026-11-20", name, "csv")))
			if d := cmp.Diff(w, got); d != "" {
				t.Fatalf("csv (-want +got):\n%s", d)
			}
			if d := cmp.Diff(w, readParquet(t, readFile(t, dir, key("acme", "2026-11-20", name, "parquet")))); d != "" {
				t.Fatalf("parquet (-want +got):\n%s", d)
			}
			sheets := readXLSX(t, readFile(t, dir, key("acme", "2026-11-20", name, "xlsx")))
			if len(sheets) != 1 {
				t.Fatalf("xlsx sheets %v", sheets)
			}
			if d := cmp.Diff(w, fromXLSX(t, w, sheets[name])); d != "" {
				t.Fatalf("xlsx (-want +got):\n%s", d)
			}
			for _, f := range ms[0].Files {
				if f.Report == name && f.Rows != int64(len(w)-1) {
					t.Errorf("manifest %s rows %d, want %d", f.Key, f.Rows, len(w)-1)
				}
			}
		})
	}
}

// fromXLSX renders raw XLSX values the way CSV does, using the CSV table to
// know which cells are times and booleans; it fails when a time is not a
// real date number.
func fromXLSX(t *testing.T, want, got table) table {
	t.Helper()
	out := make(table, len(got))
	for i, row := range got {
		out[i] = make([]string, len(want[0]))
		for j := range out[i] {
			if j < len(row) {
				out[i][j] = row[j]
			}
		}
		if i == 0 || i >= len(want) {
			continue
		}
		for j, w := range want[i] {
			v := out[i][j]
			if _, err := time.Parse(time.RFC3339, w); err == nil && len(w) == len(reports.TimeLayout) {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("xlsx row %d col %d: time %q is not a date number", i, j, v)
				}
				// Serial days since 1899-12-30 (excelize's reader rounds to seconds).
				// The cell is the local wall time; its offset is in the number
				// format (checked by the zone tests), so take it from want.
				tm := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(math.Round(f*86400e3)) * time.Millisecond)
				out[i][j] = tm.Format("2006-01-02T15:04:05.000") + w[len(w)-6:]
			} else if w == "true" || w == "false" {
				out[i][j] = map[string]string{"1": "true", "0": "false", "TRUE": "true", "FALSE": "false"}[v]
			}
		}
	}
	return out
}

func TestManifest(t *testing.T) {
	dir, ms := export(t, fixtureCards(), reports.Selection{From: "2026-11-20", Reports: []string{"sessions", "billing"}, Formats: []string{"csv"}}, fixtureOpts)
	if len(ms) != 2 || ms[0].Folder != "acme" || ms[1].Folder != "beta" {
		t.Fatalf("manifests %+v, want acme and beta", ms)
	}
	var m reports.Manifest
	if err := json.Unmarshal(readFile(t, dir, "reports/folder=beta/date=2026-11-20/manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	want := reports.Manifest{Folder: "beta", Date: "2026-11-20", Selection: reports.ManifestSelection{
		Folder: "beta", From: "2026-11-20", To: "2026-11-21", TimeZone: "UTC", Status: "all",
		Reports: []string{"sessions", "billing"}, Formats: []string{"csv"}}}
	if d := cmp.Diff(want, m, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Files" }, cmp.Ignore())); d != "" {
		t.Fatalf("manifest (-want +got):\n%s", d)
	}
	if len(m.Files) != 2 || m.Files[0].Key != key("beta", "2026-11-20", "sessions", "csv") || m.Files[0].Rows != 1 || len(m.Files[0].SHA256) != 64 {
		t.Fatalf("files %+v", m.Files)
	}
	if b := readFile(t, dir, m.Files[0].Key); int64(len(b)) != m.Files[0].Bytes {
		t.Fatalf("bytes %d, manifest says %d", len(b), m.Files[0].Bytes)
	}
}

func TestAthenaTableCopies(t *testing.T) {
	dir, ms := export(t, fixtureCards(), reports.Selection{Folder: "acme", From: "2026-11-20", Formats: []string{"parquet"}}, reports.Options{})
	for _, r := range reports.AthenaTables {
		k := reports.TableKey(r, "acme", "2026-11-20")
		if string(readFile(t, dir, k)) != string(readFile(t, dir, key("acme", "2026-11-20", r, "parquet"))) {
			t.Errorf("%s differs from the report", k)
		}
	}
	if len(ms[0].Files) != 14+2+1 {
		t.Fatalf("files %d, want 17", len(ms[0].Files))
	}
	// A filtered or multi-day export must not replace the tables' data.
	for _, sel := range []reports.Selection{
		{Folder: "acme", From: "2026-11-20", Status: "closed", Formats: []string{"parquet"}},
		{Folder: "acme", From: "2026-11-20", To: "2026-11-22", Formats: []string{"parquet"}},
	} {
		_, ms := export(t, fixtureCards(), sel, reports.Options{})
		for _, f := range ms[0].Files {
			if strings.HasPrefix(f.Key, "tables/") {
				t.Errorf("%+v wrote %s", sel, f.Key)
			}
		}
	}
}

func TestSelection(t *testing.T) {
	cards := fixtureCards()
	ids := func(t *testing.T, sel reports.Selection, opt reports.Options) []string {
		dir, ms := export(t, cards, sel, opt)
		var out []string
		for _, r := range readCSV(t, readFile(t, dir, key("acme", ms[0].Date, "sessions", "csv")))[1:] {
			out = append(out, r[0])
		}
		return out
	}
	helsinki, err := time.LoadLocation("Europe/Helsinki")
	if err != nil {
		t.Fatal(err)
	}
	base := reports.Selection{Folder: "acme", Reports: []string{"sessions"}, Formats: []string{"csv"}}
	for _, tc := range []struct {
		name   string
		from   string
		to     string
		status string
		loc    *time.Location
		want   []string
	}{
		{"utc day", "2026-11-20", "", "", nil, []string{"s-1", "s-2", "s-3"}},
		// 23:30 UTC is 01:30 the next day in Helsinki (UTC+2 in November).
		{"helsinki day before", "2026-11-20", "", "", helsinki, []string{"s-1", "s-2"}},
		{"helsinki next day", "2026-11-21", "", "", helsinki, []string{"s-3"}},
		{"two days", "2026-11-19", "2026-11-21", "", nil, []string{"s-1", "s-2", "s-3"}},
		{"active", "2026-11-20", "", "active", nil, []string{"s-2"}},
		{"closed", "2026-11-20", "", "closed", nil, []string{"s-1", "s-3"}},
		{"no operator response", "2026-11-20", "", "no-operator-response", nil, []string{"s-3"}},
		{"empty day", "2026-11-22", "", "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel := base
			sel.From, sel.To, sel.Status = tc.from, tc.to, tc.status
			if d := cmp.Diff(tc.want, ids(t, sel, reports.Options{Location: tc.loc})); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestDateLabel(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"2026-11-20", "", "2026-11-20"},
		{"2026-11-20", "2026-11-21", "2026-11-20"},
		{"2026-11-01", "2026-12-01", "2026-11-01-to-2026-11-30"},
	} {
		_, ms := export(t, nil, reports.Selection{Folder: "acme", From: tc.from, To: tc.to, Reports: []string{"pages"}, Formats: []string{"csv"}}, reports.Options{})
		if ms[0].Date != tc.want {
			t.Errorf("%s..%s: label %q, want %q", tc.from, tc.to, ms[0].Date, tc.want)
		}
	}
}

func TestDSTDay(t *testing.T) {
	// 2026-10-25 in Helsinki has 25 hours: 00:00 EEST (21:00Z on the 24th)
	// to 00:00 EET (22:00Z on the 25th).
	helsinki, _ := time.LoadLocation("Europe/Helsinki")
	mk := func(id, at string) *cardT { c := newCard("acme", id, at); return c }
	cards := []*cardT{
		mk("before", "2026-10-24T20:59:59.999Z"),
		mk("first", "2026-10-24T21:00:00.000Z"),
		mk("repeated-hour", "2026-10-25T00:30:00.000Z"), // 03:30 local, the hour that happens twice
		mk("last", "2026-10-25T21:59:59.999Z"),
		mk("after", "2026-10-25T22:00:00.000Z"),
	}
	dir, _ := export(t, cards, reports.Selection{Folder: "acme", From: "2026-10-25", Reports: []string{"sessions", "message-statistics"}, Formats: []string{"csv"}},
		reports.Options{Location: helsinki})
	rows := readCSV(t, readFile(t, dir, key("acme", "2026-10-25", "sessions", "csv")))
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0])
	}
	if d := cmp.Diff([]string{"first", "repeated-hour", "last"}, got); d != "" {
		t.Fatalf("25-hour day (-want +got):\n%s", d)
	}
	ms := readCSV(t, readFile(t, dir, key("acme", "2026-10-25", "message-statistics", "csv")))
	if len(ms) != 2 || ms[1][0] != "2026-10-25" || ms[1][2] != "3" {
		t.Fatalf("message-statistics %v: want one local day with 3 sessions", ms)
	}
	// Spring forward: 2026-03-29 has 23 hours (22:00Z on the 28th to 21:00Z on the 29th).
	cards = []*cardT{mk("in", "2026-03-29T20:59:59.000Z"), mk("out", "2026-03-29T21:00:00.000Z")}
	dir, _ = export(t, cards, reports.Selection{Folder: "acme", From: "2026-03-29", Reports: []string{"sessions"}, Formats: []string{"csv"}},
		reports.Options{Location: helsinki})
	if rows := readCSV(t, readFile(t, dir, key("acme", "2026-03-29", "sessions", "csv"))); len(rows) != 2 || rows[1][0] != "in" {
		t.Fatalf("23-hour day: %v", rows)
	}
}

func TestWithoutTimes(t *testing.T) {
	dir, _ := export(t, fixtureCards(), reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"transcripts", "client-phrases"}, Formats: []string{"csv", "parquet"}}, reports.Options{})
	for _, name := range []string{"transcripts", "client-phrases"} {
		for _, tab := range []table{readCSV(t, readFile(t, dir, key("acme", "2026-11-20", name, "csv"))), readParquet(t, readFile(t, dir, key("acme", "2026-11-20", name, "parquet")))} {
			for _, h := range tab[0] {
				if h == "at" {
					t.Fatalf("%s has an at column without withTimes: %v", name, tab[0])
				}
			}
		}
	}
}

func TestLineLevelFetchesChatLogOnlyWhenNeeded(t *testing.T) {
	for _, tc := range []struct {
		reports []string
		want    bool
	}{{[]string{"sessions", "billing"}, false}, {[]string{"sessions", "popular-phrases"}, true}} {
		s := &sliceStore{cards: fixtureCards()}
		if _, err := reports.Export(t.Context(), s, reports.DiscardSink{}, reports.Selection{Folder: "acme", From: "2026-11-20", Reports: tc.reports}, reports.Options{}); err != nil {
			t.Fatal(err)
		}
		if (s.withLogCalls > 0) != tc.want {
			t.Errorf("%v: chat log fetched %d times, want fetched=%v", tc.reports, s.withLogCalls, tc.want)
		}
	}
}

func TestBillingCostHasNoFloatNoise(t *testing.T) {
	if got := math.Round(3*0.01*1e6) / 1e6; strconv.FormatFloat(got, 'f', -1, 64) != "0.03" {
		t.Fatalf("rounding gives %v", got)
	}
}
