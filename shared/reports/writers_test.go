package reports_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// textCards puts each text in a customer line of its own session.
func textCards(texts []string) []*card.Card {
	var cards []*card.Card
	for i, tx := range texts {
		c := newCard("acme", "t-"+string(rune('a'+i)), "2026-11-20T10:00:00.000Z")
		c.CustomerName = tx
		c.Customer = tx
		c.ChatLog = []stats.LogEntry{{At: "2026-11-20T10:00:01.000Z", Participant: "c", Role: "customer", Name: tx, Text: tx}}
		cards = append(cards, c)
	}
	return cards
}

var nasty = []string{
	"comma, here",
	`"quoted" and ""double""`,
	"line one\nline two\r\nline three",
	"tab\tinside",
	"emoji 👩‍💻🎉 and flags 🇫🇮",
	"مرحبا بالعالم — שלום עולם",
	"nul-free \u200b zero width",
	strings.Repeat("ab😀", 10_000), // 40,000 characters, 50,000 UTF-16 units
}

func TestNastyTextSurvives(t *testing.T) {
	dir, _ := export(t, textCards(nasty), reports.Selection{Folder: "acme", From: "2026-11-20", WithTimes: true, Reports: []string{"client-phrases"}}, reports.Options{})
	k := func(ext string) []byte { return readFile(t, dir, key("acme", "2026-11-20", "client-phrases", ext)) }
	raw := k("csv")
	// The writer keeps every byte: CR, LF and CRLF inside text as typed.
	if !bytes.Contains(raw, []byte("\"line one\nline two\r\nline three\"")) {
		t.Error("csv does not hold the multi-line text byte for byte")
	}
	csvRows := readCSV(t, raw)
	pq := readParquet(t, k("parquet"))
	sheets := readXLSX(t, k("xlsx"))
	xl := sheets["client-phrases"]
	if len(csvRows) != len(nasty)+1 || len(pq) != len(nasty)+1 || len(xl) != len(nasty)+1 {
		t.Fatalf("rows: csv %d parquet %d xlsx %d, want %d", len(csvRows), len(pq), len(xl), len(nasty)+1)
	}
	for i, want := range nasty {
		// encoding/csv reads a quoted CRLF back as LF, as RFC 4180 readers do.
		wantCSV := strings.ReplaceAll(want, "\r\n", "\n")
		if got := csvRows[i+1][2]; got != wantCSV {
			t.Errorf("csv row %d: got %.60q want %.60q", i, got, wantCSV)
		}
		if got := pq[i+1][2]; got != want {
			t.Errorf("parquet row %d: got %.60q want %.60q", i, got, want)
		}
		got := xl[i+1][2]
		if len(want) > 32767 {
			if !strings.HasSuffix(got, "…[truncated]") || !strings.HasPrefix(want, strings.TrimSuffix(got, "…[truncated]")) {
				t.Errorf("xlsx long text not cut with a marker: ends %q", got[len(got)-20:])
			}
			if n := len([]rune(got)); n > 32767 {
				t.Errorf("xlsx long text %d characters", n)
			}
			continue
		}
		if got != want {
			t.Errorf("xlsx row %d: got %.60q want %.60q", i, got, want)
		}
	}
}

func TestFormulaInjection(t *testing.T) {
	texts := []string{"=1+1", "+1", "-1", "@SUM(A1)", "  =cmd|'/c calc'!A1", "\t=1", "\r=1", "\tplain", "a=b", "plain"}
	guarded := []bool{true, true, true, true, true, true, true, true, false, false}
	dir, _ := export(t, textCards(texts), reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"client-phrases"}}, reports.Options{})
	csvRows := readCSV(t, readFile(t, dir, key("acme", "2026-11-20", "client-phrases", "csv")))
	for i, tx := range texts {
		want := tx
		if guarded[i] {
			want = "'" + tx
		}
		if got := csvRows[i+1][1]; got != strings.ReplaceAll(want, "\r", "\n") && got != want {
			t.Errorf("csv %q: got %q want %q", tx, got, want)
		}
	}
	b := readFile(t, dir, key("acme", "2026-11-20", "client-phrases", "xlsx"))
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, tx := range texts {
		cell, _ := excelize.CoordinatesToCellName(2, i+2)
		formula, err := f.GetCellFormula("client-phrases", cell)
		if err != nil || formula != "" {
			t.Errorf("xlsx %q: formula %q (%v)", tx, formula, err)
		}
		typ, _ := f.GetCellType("client-phrases", cell)
		if typ != excelize.CellTypeInlineString {
			t.Errorf("xlsx %q: cell type %v, want an inline string", tx, typ)
		}
		v, _ := f.GetCellValue("client-phrases", cell)
		if v != tx {
			t.Errorf("xlsx %q read back as %q", tx, v)
		}
	}
	// The raw sheet XML has no formula element at all.
	if bytes.Contains(unzip(t, b, "xl/worksheets/sheet1.xml"), []byte("<f>")) {
		t.Error("xlsx sheet has a formula element")
	}
}

func unzip(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, ok := f.Pkg.Load(name)
	if !ok {
		t.Fatalf("no %s in the workbook", name)
	}
	return v.([]byte)
}

func TestXLSXSheetRollover(t *testing.T) {
	var cards []*card.Card
	for i := range 7 {
		cards = append(cards, newCard("acme", "r-"+string(rune('0'+i)), "2026-11-20T10:00:0"+string(rune('0'+i))+".000Z"))
	}
	dir, _ := export(t, cards, reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"xlsx"}},
		reports.Options{XLSXRowLimit: 3}) // a header and two rows per sheet
	b := readFile(t, dir, key("acme", "2026-11-20", "sessions", "xlsx"))
	// excelize writes its sheets in map order; the output must not follow it.
	for range 5 {
		again, _ := export(t, cards, reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"xlsx"}},
			reports.Options{XLSXRowLimit: 3})
		if !bytes.Equal(b, readFile(t, again, key("acme", "2026-11-20", "sessions", "xlsx"))) {
			t.Fatal("a workbook of several sheets differs between two runs")
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wantSheets := []string{"sessions", "sessions 2", "sessions 3", "sessions 4"}
	got := f.GetSheetList()
	if strings.Join(got, ",") != strings.Join(wantSheets, ",") {
		t.Fatalf("sheets %v, want %v", got, wantSheets)
	}
	var ids []string
	for _, s := range got {
		rows, _ := f.GetRows(s)
		if rows[0][0] != "sessionId" {
			t.Errorf("sheet %s has no header: %v", s, rows[0])
		}
		panes, err := f.GetPanes(s)
		if err != nil || !panes.Freeze || panes.YSplit != 1 {
			t.Errorf("sheet %s header not frozen: %+v %v", s, panes, err)
		}
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
	}
	if strings.Join(ids, ",") != "r-0,r-1,r-2,r-3,r-4,r-5,r-6" {
		t.Fatalf("rows across sheets: %v", ids)
	}
	// Times are date cells with a date-time format, durations plain numbers.
	style, _ := f.GetCellStyle("sessions", "F2")
	st, err := f.GetStyle(style)
	if err != nil || st.CustomNumFmt == nil || *st.CustomNumFmt != `yyyy-mm-dd"T"hh:mm:ss.000"+00:00"` {
		t.Fatalf("startTime style %+v %v", st, err)
	}
	if typ, _ := f.GetCellType("sessions", "L2"); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
		t.Fatalf("messageCount cell type %v, want a number", typ)
	}
}

func TestRerunIsByteIdentical(t *testing.T) {
	sel := reports.Selection{From: "2026-11-20", WithTimes: true}
	dirA, _ := export(t, fixtureCards(), sel, fixtureOpts)
	dirB, _ := export(t, fixtureCards(), sel, fixtureOpts)
	n := 0
	err := filepath.WalkDir(dirA, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dirA, p)
		a, _ := os.ReadFile(p)
		b, err := os.ReadFile(filepath.Join(dirB, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two runs", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 41+1+2*3+2+1 { // acme: 41 files + manifest; beta: 39 + 2 tables + manifest
		t.Logf("compared %d files", n)
	}
	if n < 80 {
		t.Fatalf("compared only %d files", n)
	}
}
