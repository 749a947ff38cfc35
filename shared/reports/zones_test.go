package reports_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/xuri/excelize/v2"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/reports"
)

func mustFolders(t *testing.T, raw string, d folders.Defaults) *folders.Config {
	t.Helper()
	c, err := folders.Parse([]byte(raw), d)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// zoneCards are sessions of folders hel (Europe/Helsinki) and nyc
// (America/New_York) around the edges of local days.
func zoneCards() []*cardT {
	mk := func(folder, id, at, end string) *cardT {
		c := newCard(folder, id, at)
		if end != "" {
			c.Active, c.Status, c.EndTime = false, "closed", end
		}
		return c
	}
	return []*cardT{
		// Helsinki, 2026-10-25 (clocks back at 04:00 EEST → 03:00 EET): 25 hours,
		// 2026-10-24T21:00Z to 2026-10-25T22:00Z.
		mk("hel", "h-before", "2026-10-24T20:59:59.999Z", ""),
		mk("hel", "h-first", "2026-10-24T21:00:00.000Z", "2026-10-25T00:30:00.000Z"),
		mk("hel", "h-repeat", "2026-10-25T01:30:00.000Z", ""), // 03:30 EET, the second 03:30 of the night
		mk("hel", "h-last", "2026-10-25T21:59:59.999Z", ""),
		mk("hel", "h-after", "2026-10-25T22:00:00.000Z", ""),
		// New York, 2026-11-01 (clocks back at 02:00 EDT → 01:00 EST): 25 hours,
		// 2026-11-01T04:00Z to 2026-11-02T05:00Z; 2026-10-25 is
		// 2026-10-25T04:00Z to 2026-10-26T04:00Z.
		mk("nyc", "n-oct-in", "2026-10-25T04:00:00.000Z", ""),
		mk("nyc", "n-oct-out", "2026-10-25T03:59:59.999Z", ""),
		mk("nyc", "n-first", "2026-11-01T04:00:00.000Z", "2026-11-01T06:30:00.000Z"),
		mk("nyc", "n-last", "2026-11-02T04:59:59.999Z", ""),
		mk("nyc", "n-after", "2026-11-02T05:00:00.000Z", ""),
	}
}

var zoneFolders = `{"hel": {"timeZone": "Europe/Helsinki"}, "nyc": {"timeZone": "America/New_York"}}`

func column(tab table, name string) []string {
	i := -1
	for j, h := range tab[0] {
		if h == name {
			i = j
		}
	}
	var out []string
	for _, r := range tab[1:] {
		out = append(out, r[i])
	}
	return out
}

// TestFolderZones: each folder's day is its own local day, and CSV and
// XLSX show its local time with the offset of each instant, while Parquet
// keeps the UTC instants.
func TestFolderZones(t *testing.T) {
	// REPORT_TIMEZONE (Location) is UTC: every folder here names its own zone.
	opt := reports.Options{Folders: mustFolders(t, zoneFolders, folders.Defaults{Location: time.UTC})}
	sel := reports.Selection{From: "2026-10-25", Reports: []string{"sessions", "message-statistics"}}
	dir, ms := export(t, zoneCards(), sel, opt)
	if len(ms) != 2 || ms[0].Selection.TimeZone != "Europe/Helsinki" || ms[1].Selection.TimeZone != "America/New_York" {
		t.Fatalf("manifests %+v", ms)
	}
	hel := readCSV(t, readFile(t, dir, key("hel", "2026-10-25", "sessions", "csv")))
	if d := cmp.Diff([]string{"h-first", "h-repeat", "h-last"}, column(hel, "sessionId")); d != "" {
		t.Errorf("Helsinki 25-hour day (-want +got):\n%s", d)
	}
	// Summer time before the change, winter time after; the repeated hour
	// shows +02:00.
	if d := cmp.Diff([]string{"2026-10-25T00:00:00.000+03:00", "2026-10-25T03:30:00.000+02:00", "2026-10-25T23:59:59.999+02:00"}, column(hel, "startTime")); d != "" {
		t.Errorf("Helsinki startTime (-want +got):\n%s", d)
	}
	if got := column(hel, "endTime")[0]; got != "2026-10-25T03:30:00.000+03:00" {
		t.Errorf("Helsinki endTime %q: the first 03:30 of the night is summer time", got)
	}
	nyc := readCSV(t, readFile(t, dir, key("nyc", "2026-10-25", "sessions", "csv")))
	if d := cmp.Diff([]string{"n-oct-in"}, column(nyc, "sessionId")); d != "" {
		t.Errorf("New York day (-want +got):\n%s", d)
	}
	if got := column(nyc, "startTime")[0]; got != "2026-10-25T00:00:00.000-04:00" {
		t.Errorf("New York startTime %q", got)
	}
	msHel := readCSV(t, readFile(t, dir, key("hel", "2026-10-25", "message-statistics", "csv")))
	if d := cmp.Diff([]string{"2026-10-25"}, column(msHel, "day")); d != "" {
		t.Errorf("Helsinki local day (-want +got):\n%s", d)
	}

	// Parquet: UTC instants, whatever the zone.
	pq := readParquet(t, readFile(t, dir, key("hel", "2026-10-25", "sessions", "parquet")))
	if d := cmp.Diff([]string{"2026-10-24T21:00:00.000+00:00", "2026-10-25T01:30:00.000+00:00", "2026-10-25T21:59:59.999+00:00"}, column(pq, "startTime")); d != "" {
		t.Errorf("Parquet startTime (-want +got):\n%s", d)
	}

	// XLSX: local wall time, the offset in each cell's number format.
	f, err := excelize.OpenReader(bytes.NewReader(readFile(t, dir, key("hel", "2026-10-25", "sessions", "xlsx"))))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct{ cell, value, format string }{
		{"F2", "2026-10-25T00:00:00.000+03:00", `yyyy-mm-dd"T"hh:mm:ss.000"+03:00"`},
		{"F3", "2026-10-25T03:30:00.000+02:00", `yyyy-mm-dd"T"hh:mm:ss.000"+02:00"`},
		{"G2", "2026-10-25T03:30:00.000+03:00", `yyyy-mm-dd"T"hh:mm:ss.000"+03:00"`},
	} {
		style, _ := f.GetCellStyle("sessions", tc.cell)
		st, err := f.GetStyle(style)
		if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != tc.format {
			t.Errorf("%s number format %v (%v), want %s", tc.cell, st, err, tc.format)
		}
		raw, _ := f.GetCellValue("sessions", tc.cell, excelize.Options{RawCellValue: true})
		if got := fromSerial(t, raw) + tc.value[23:]; got != tc.value {
			t.Errorf("%s = %s, want %s", tc.cell, got, tc.value)
		}
	}

	// New York's own DST day, 25 hours.
	dir, _ = export(t, zoneCards(), reports.Selection{Folder: "nyc", From: "2026-11-01", Reports: []string{"sessions"}, Formats: []string{"csv"}}, opt)
	nyc = readCSV(t, readFile(t, dir, key("nyc", "2026-11-01", "sessions", "csv")))
	if d := cmp.Diff([]string{"n-first", "n-last"}, column(nyc, "sessionId")); d != "" {
		t.Errorf("New York 25-hour day (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"2026-11-01T00:00:00.000-04:00", "2026-11-01T23:59:59.999-05:00"}, column(nyc, "startTime")); d != "" {
		t.Errorf("New York startTime (-want +got):\n%s", d)
	}
	if got := column(nyc, "endTime")[0]; got != "2026-11-01T01:30:00.000-05:00" {
		t.Errorf("New York endTime %q: 06:30Z is the second 01:30, EST", got)
	}
}

// TestFolderZoneDefault: a folder FOLDERS does not name takes "*", else
// REPORT_TIMEZONE (the Defaults), else UTC.
func TestFolderZoneDefault(t *testing.T) {
	helsinki, _ := time.LoadLocation("Europe/Helsinki")
	cards := []*cardT{newCard("other", "o-1", "2026-10-24T21:30:00.000Z")}
	sel := reports.Selection{Folder: "other", From: "2026-10-25", Reports: []string{"sessions"}, Formats: []string{"csv"}}
	for _, tc := range []struct {
		name, raw string
		def       *time.Location
		want      []string
	}{
		{"REPORT_TIMEZONE", zoneFolders, helsinki, []string{"2026-10-25T00:30:00.000+03:00"}},
		{"star", `{"*": {"timeZone": "Europe/Helsinki"}}`, time.UTC, []string{"2026-10-25T00:30:00.000+03:00"}},
		{"UTC", zoneFolders, time.UTC, nil}, // 21:30Z is 2026-10-24 in UTC
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, _ := export(t, cards, sel, reports.Options{Folders: mustFolders(t, tc.raw, folders.Defaults{Location: tc.def})})
			if d := cmp.Diff(tc.want, column(readCSV(t, readFile(t, dir, key("other", "2026-10-25", "sessions", "csv"))), "startTime")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func fromSerial(t *testing.T, raw string) string {
	t.Helper()
	var f float64
	if _, err := fmt.Sscan(raw, &f); err != nil {
		t.Fatalf("time cell %q is not a date number", raw)
	}
	tm := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).Add(time.Duration(f*86400e3+0.5) * time.Millisecond)
	return tm.Format("2006-01-02T15:04:05.000")
}

// TestOffsetsOffTheHour: half-hour and negative offsets in CSV text and in
// the XLSX number format.
func TestOffsetsOffTheHour(t *testing.T) {
	opt := reports.Options{Folders: mustFolders(t, `{"ind": {"timeZone": "Asia/Kolkata"}, "nfl": {"timeZone": "America/St_Johns"}}`, folders.Defaults{Location: time.UTC})}
	cards := []*cardT{newCard("ind", "i-1", "2026-11-20T10:00:00.000Z"), newCard("nfl", "n-1", "2026-11-20T10:00:00.000Z")}
	dir, _ := export(t, cards, reports.Selection{From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"csv", "xlsx"}}, opt)
	for _, tc := range []struct{ folder, csv, format string }{
		{"ind", "2026-11-20T15:30:00.000+05:30", `yyyy-mm-dd"T"hh:mm:ss.000"+05:30"`},
		{"nfl", "2026-11-20T06:30:00.000-03:30", `yyyy-mm-dd"T"hh:mm:ss.000"-03:30"`},
	} {
		if got := column(readCSV(t, readFile(t, dir, key(tc.folder, "2026-11-20", "sessions", "csv"))), "startTime"); len(got) != 1 || got[0] != tc.csv {
			t.Errorf("%s CSV startTime %v, want %s", tc.folder, got, tc.csv)
		}
		f, err := excelize.OpenReader(bytes.NewReader(readFile(t, dir, key(tc.folder, "2026-11-20", "sessions", "xlsx"))))
		if err != nil {
			t.Fatal(err)
		}
		style, _ := f.GetCellStyle("sessions", "F2")
		st, err := f.GetStyle(style)
		if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != tc.format {
			t.Errorf("%s XLSX number format %v (%v), want %s", tc.folder, st, err, tc.format)
		}
		raw, _ := f.GetCellValue("sessions", "F2", excelize.Options{RawCellValue: true})
		if got := fromSerial(t, raw); got != tc.csv[:23] {
			t.Errorf("%s XLSX wall time %s, want %s", tc.folder, got, tc.csv[:23])
		}
		f.Close()
	}
}

// In America/Santiago the clocks go forward at midnight: 2026-09-06 has no
// 00:00 and begins at 01:00 -03 (04:00Z). time.Date gives 23:00 -04 of the
// day before for that midnight, which put Saturday's last hour into
// Sunday's export, labelled the summary "2026-09-05" and failed the export.
func TestDayThatBeginsAtOneOClock(t *testing.T) {
	cards := []*cardT{
		newCard("scl", "s-sat", "2026-09-06T03:59:59.999Z"), // Sat 23:59:59.999 -04
		newCard("scl", "s-sun", "2026-09-06T04:00:00.000Z"), // Sun 01:00 -03
		newCard("scl", "s-sun-last", "2026-09-07T02:59:59.999Z"),
		newCard("scl", "s-mon", "2026-09-07T03:00:00.000Z"),
	}
	opt := reports.Options{Folders: mustFolders(t, `{"scl": {"timeZone": "America/Santiago"}}`, folders.Defaults{Location: time.UTC})}
	sel := reports.Selection{Folder: "scl", From: "2026-09-06", Reports: []string{"sessions", "daily-summary"}, Formats: []string{"csv"}}
	dir, _ := export(t, cards, sel, opt)
	got := readCSV(t, readFile(t, dir, key("scl", "2026-09-06", "sessions", "csv")))
	if d := cmp.Diff([]string{"s-sun", "s-sun-last"}, column(got, "sessionId")); d != "" {
		t.Errorf("Santiago 23-hour day (-want +got):\n%s", d)
	}
	ds := readCSV(t, readFile(t, dir, key("scl", "2026-09-06", "daily-summary", "csv")))
	if d := cmp.Diff([]string{"2026-09-06"}, column(ds, "day")); d != "" {
		t.Errorf("daily-summary day (-want +got):\n%s", d)
	}
	// Saturday's own export ends where Sunday begins.
	dir, _ = export(t, cards, reports.Selection{Folder: "scl", From: "2026-09-05", Reports: []string{"sessions"}, Formats: []string{"csv"}}, opt)
	got = readCSV(t, readFile(t, dir, key("scl", "2026-09-05", "sessions", "csv")))
	if d := cmp.Diff([]string{"s-sat"}, column(got, "sessionId")); d != "" {
		t.Errorf("Santiago Saturday (-want +got):\n%s", d)
	}
}
