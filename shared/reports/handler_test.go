package reports_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
)

var helsinki = func() *time.Location { l, _ := time.LoadLocation("Europe/Helsinki"); return l }()

func TestParseEvent(t *testing.T) {
	// 2026-11-21 00:30 in Helsinki is still the 20th in UTC.
	now := time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC)
	formats := []string{"csv"}
	for _, tc := range []struct {
		name      string
		event     string
		loc       *time.Location
		want      reports.Selection
		scheduled bool
		errField  string
	}{
		{name: "scheduler payload", event: `{"scheduled": true}`, loc: helsinki, scheduled: true,
			want: reports.Selection{From: "2026-11-20", Status: "all", WithTimes: true, Formats: formats}},
		{name: "scheduler payload utc", event: `{"scheduled": true}`, scheduled: true,
			want: reports.Selection{From: "2026-11-19", Status: "all", WithTimes: true, Formats: formats}},
		{name: "eventbridge envelope", event: mustRead(t, "testdata/scheduled-event.json"), loc: helsinki, scheduled: true,
			want: reports.Selection{From: "2026-11-20", Status: "all", WithTimes: true, Formats: formats}},
		{name: "on demand minimal", event: `{"from":"2026-11-20"}`, want: reports.Selection{From: "2026-11-20", WithTimes: true}},
		{name: "on demand full", event: `{"folder":"acme","from":"2026-11-01","to":"2026-12-01","reports":["sessions"],"formats":["parquet"],"status":"closed","withTimes":false}`,
			want: reports.Selection{Folder: "acme", From: "2026-11-01", To: "2026-12-01", Reports: []string{"sessions"}, Formats: []string{"parquet"}, Status: "closed"}},
		{name: "not json", event: `nope`, errField: "event"},
		{name: "array", event: `[]`, errField: "event"},
		{name: "missing from", event: `{"folder":"acme"}`, errField: "from"},
		{name: "bad from", event: `{"from":"20.11.2026"}`, errField: "from"},
		{name: "bad to", event: `{"from":"2026-11-20","to":"2026-11-20"}`, errField: "to"},
		{name: "empty to", event: `{"from":"2026-11-20","to":""}`, errField: "to"},
		{name: "bad report", event: `{"from":"2026-11-20","reports":["sessions","nope"]}`, errField: "reports[1]"},
		{name: "empty reports", event: `{"from":"2026-11-20","reports":[]}`, errField: "reports"},
		{name: "bad format", event: `{"from":"2026-11-20","formats":["pdf"]}`, errField: "formats[0]"},
		{name: "bad status", event: `{"from":"2026-11-20","status":"open"}`, errField: "status"},
		{name: "wrong type", event: `{"from":"2026-11-20","withTimes":"yes"}`, errField: "withTimes"},
		{name: "unknown field", event: `{"from":"2026-11-20","colour":"red"}`, errField: "colour"},
		{name: "folder with slash", event: `{"from":"2026-11-20","folder":"a/b"}`, errField: "folder"},
		{name: "scheduled false", event: `{"scheduled": false}`, errField: "scheduled"},
		{name: "other envelope", event: `{"detail-type":"Object Created","source":"aws.s3"}`, errField: "detail-type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sel, scheduled, err := reports.ParseEvent([]byte(tc.event), tc.loc, now, formats)
			if tc.errField != "" {
				if err == nil || card.ErrorCode(err) != card.EINVALID || !strings.Contains(err.Error(), tc.errField+":") {
					t.Fatalf("error %v, want EINVALID naming %s", err, tc.errField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if scheduled != tc.scheduled {
				t.Fatalf("scheduled %v", scheduled)
			}
			if d := cmp.Diff(tc.want, sel); d != "" {
				t.Fatalf("(-want +got):\n%s", d)
			}
		})
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"scheduled": true}`))
	f.Add([]byte(`{"folder":"acme","from":"2026-11-01","to":"2026-12-01","reports":["sessions"],"formats":["parquet"],"status":"closed","withTimes":false}`))
	f.Add([]byte(`{"detail-type":"Scheduled Event"}`))
	f.Add([]byte(`{"from":"2026-02-30"}`))
	now := time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		sel, _, err := reports.ParseEvent(b, helsinki, now, nil)
		if err != nil {
			if card.ErrorCode(err) != card.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		if _, err := time.Parse(time.DateOnly, sel.From); err != nil {
			t.Fatalf("accepted from %q", sel.From)
		}
	})
}

func TestNormalizePhrase(t *testing.T) {
	for in, want := range map[string]string{
		"  Refund, please!! ": "refund, please",
		"REFUND\t\tplease.":   "refund please",
		"¿Dónde está?":        "dónde está",
		"Straße":              "strasse",
		"ﬁle":                 "file", // NFKC ligature
		"Ｈｅｌｌｏ":               "hello",
		"...":                 "",
		"«שלום»":              "שלום",
		"hello 👋":             "hello 👋",
		"ΣΊΣΥΦΟΣ":             "σίσυφοσ",
		"line\nbreak":         "line break",
		"\u00a0nbsp\u00a0":    "nbsp",
		"\"quoted\" text":     "quoted\" text",
		"a":                   "a",
	} {
		if got := reports.NormalizePhrase(in); got != want {
			t.Errorf("NormalizePhrase(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizePhrase(f *testing.F) {
	for _, s := range []string{"  Refund, please!! ", "Straße", "ﬁ", "ΣΊΣΥΦΟΣ", "«שלום»", "\u0345", "ǅ", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := reports.NormalizePhrase(s)
		if n2 := reports.NormalizePhrase(n); n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, n2)
		}
		if strings.Contains(n, "  ") || strings.TrimSpace(n) != n {
			t.Fatalf("white space left in %q", n)
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("invalid UTF-8 out of valid %q", s)
		}
	})
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := reports.ConfigFromEnv(env(map[string]string{
		"REPORTS_BUCKET": "r", "REPORT_TIMEZONE": "Europe/Helsinki", "REPORT_FORMATS": "csv, parquet",
		"PHRASES_TOP": "50", "PRICES": `{"web":0.01}`, "XLSX_ROW_LIMIT": "1000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Options.Location.String() != "Europe/Helsinki" || strings.Join(c.Formats, ",") != "csv,parquet" ||
		c.Options.PhrasesTop != 50 || c.Options.Prices["web"] != 0.01 || c.Options.XLSXRowLimit != 1000 {
		t.Fatalf("config %+v", c)
	}
	d, err := reports.ConfigFromEnv(env(nil))
	if err != nil || d.Options.Location != time.UTC || len(d.Formats) != 3 {
		t.Fatalf("defaults %+v %v", d, err)
	}
	for k, v := range map[string]string{
		"REPORT_TIMEZONE": "Mars/Olympus", "REPORT_FORMATS": "csv,pdf", "PHRASES_TOP": "0",
		"PRICES": `{"web":-1}`, "XLSX_ROW_LIMIT": "2000000",
	} {
		if _, err := reports.ConfigFromEnv(env(map[string]string{k: v})); err == nil || !strings.HasPrefix(err.Error(), k+":") {
			t.Errorf("%s=%s: error %v, want one naming %s", k, v, err, k)
		}
	}
}

func TestHandlerScheduledRun(t *testing.T) {
	dir := t.TempDir()
	h := &reports.Handler{
		Store:  &sliceStore{cards: fixtureCards()},
		Sink:   &reports.DirSink{Root: dir},
		Config: reports.Config{Formats: []string{"csv"}},
		Now:    func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := h.Handle(ctx, json.RawMessage(mustRead(t, "testdata/scheduled-event.json")))
	if err != nil {
		t.Fatal(err)
	}
	want := reports.Result{Scheduled: true, Exports: []reports.ExportResult{
		{Folder: "acme", Date: "2026-11-20", Manifest: "reports/folder=acme/date=2026-11-20/manifest.json", Files: 15},
		{Folder: "beta", Date: "2026-11-20", Manifest: "reports/folder=beta/date=2026-11-20/manifest.json", Files: 15},
	}}
	if d := cmp.Diff(want, res); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	links, err := (&reports.DirCatalog{Root: dir}).Links(ctx, "acme", "2026-11-20")
	if err != nil || len(links) != 15 || !strings.HasPrefix(links[0].URL, "file://") {
		t.Fatalf("catalog: %d links, %v", len(links), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "reports/folder=acme/date=2026-11-20/sessions.csv")); err != nil {
		t.Fatal(err)
	}
	if links, err := (&reports.DirCatalog{Root: dir}).Links(ctx, "acme", "2026-11-19"); err != nil || len(links) != 0 {
		t.Fatalf("no export that day: %v %v", links, err)
	}
	if _, err := h.Handle(ctx, json.RawMessage(`{"from":"x"}`)); card.ErrorCode(err) != card.EINVALID {
		t.Fatalf("bad event: %v", err)
	}
}

// The scheduled export takes yesterday's date, also when yesterday's
// midnight did not exist (America/Santiago skips 2026-09-06T00:00): time.Date
// of that midnight is the evening before, which exported 2026-09-05 twice and
// 2026-09-06 never.
func TestScheduledYesterdayWhoseMidnightWasSkipped(t *testing.T) {
	scl, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 9, 7, 6, 0, 0, 0, time.UTC) // 03:00 -03 on Monday
	sel, _, err := reports.ParseEvent([]byte(`{"scheduled": true}`), scl, now, []string{"csv"})
	if err != nil || sel.From != "2026-09-06" {
		t.Fatalf("from %q (%v), want 2026-09-06", sel.From, err)
	}
}
