package demo_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/demo"
	"github.com/chatcards/chatcards/shared/reports"
)

func TestDemoPlaysTheWholeStory(t *testing.T) {
	out := t.TempDir()
	var progress bytes.Buffer
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	s, err := demo.Run(context.Background(), demo.Options{Store: memstore.New(), Out: out, Sessions: 60, Seed: 3, Day: day, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if s.Sessions != 60 || s.Closed != 60 || s.Active != 0 {
		t.Errorf("sessions %d closed %d active %d: after the second sync every card should be closed", s.Sessions, s.Closed, s.Active)
	}
	if s.FirstSync.Failed != 0 || s.FirstSync.Updated == 0 || s.SecondSync.Closed != s.FirstSync.Updated {
		t.Errorf("syncs: first %+v, second %+v", s.FirstSync, s.SecondSync)
	}
	if s.Abandoned == 0 || s.WithFirstReply == 0 || s.AvgWaitBeforeFirstReplyMs <= 0 || s.BusiestAgent == "" {
		t.Errorf("summary lacks variety: %+v", s)
	}
	for _, step := range []string{"chatbot", "sync #1", "sync #2", "export"} {
		if !strings.Contains(progress.String(), step) {
			t.Errorf("progress does not mention %q:\n%s", step, progress.String())
		}
	}
	// The sessions report has one row per session, and the manifest lists
	// every file the summary names.
	dir := filepath.Join(out, "reports", "folder=helpdesk", "date=2026-11-20")
	f, err := os.Open(filepath.Join(dir, "sessions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != 61 {
		t.Fatalf("sessions.csv: %d rows, %v", len(rows), err)
	}
	var m reports.Manifest
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("manifest: %v", err)
	}
	if len(m.Files)+1 != len(s.Files) {
		t.Errorf("manifest lists %d files, summary %d", len(m.Files), len(s.Files))
	}
	var sum bytes.Buffer
	s.Print(&sum, out)
	if !strings.Contains(sum.String(), "sessions.{csv,xlsx,parquet}") {
		t.Errorf("summary:\n%s", sum.String())
	}

	// The demo ends with the pages to open: one chat's dialog view, saved
	// as the API shows it, and the day's summary.html once the export
	// writes one (printed exactly when the file exists).
	if s.DialogPage == "" || filepath.Dir(s.DialogPage) != out || !strings.HasPrefix(filepath.Base(s.DialogPage), "dialog-") {
		t.Fatalf("dialog page %q, want out/dialog-<id>.html", s.DialogPage)
	}
	page, err := os.ReadFile(s.DialogPage)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!doctype html>", `class="msg r-customer"`, `class="msg r-agent"`, "times in UTC"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("dialog page lacks %q", want)
		}
	}
	if !strings.Contains(sum.String(), "one chat's dialog   "+s.DialogPage+"\n") {
		t.Errorf("summary does not end with the dialog page:\n%s", sum.String())
	}
	summaryHTML := filepath.Join(dir, "summary.html")
	_, statErr := os.Stat(summaryHTML)
	switch {
	case statErr == nil && s.SummaryPage != summaryHTML:
		t.Errorf("summary.html exists but SummaryPage is %q", s.SummaryPage)
	case statErr != nil && s.SummaryPage != "":
		t.Errorf("SummaryPage %q printed but no file", s.SummaryPage)
	case statErr == nil && !strings.Contains(sum.String(), "the day's summary   "+summaryHTML+"\n"):
		t.Errorf("summary does not print summary.html:\n%s", sum.String())
	}
}
