package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/reports"
)

func TestExportUsage(t *testing.T) {
	t.Setenv("TABLE_NAME", "")
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: []string{"-formats", "pdf"}, want: "-formats"},
		{args: []string{"-reports", "nope"}, want: "-reports"},
		{args: []string{"-from", "2026-11-20"}, want: "TABLE_NAME is required"},
		{args: []string{"-from", "2026-11-20"}, env: map[string]string{"TABLE_NAME": "t"}, want: "-out DIR or set REPORTS_BUCKET"},
		{args: nil, env: map[string]string{"REPORT_TIMEZONE": "Nowhere/Place"}, want: "REPORT_TIMEZONE"},
		{args: []string{"extra"}, want: "unexpected argument"},
		// The share settings are read as the export function reads them.
		{args: []string{"-from", "2026-11-20"}, env: map[string]string{"SHARE_KEY": "short", "SHARE_BASE_URL": "https://api.example.com"}, want: "SHARE_KEY"},
		{args: []string{"-from", "2026-11-20"}, env: map[string]string{"SHARE_KEY": strings.Repeat("k", 40), "SHARE_BASE_URL": "ftp://x"}, want: "SHARE_BASE_URL"},
	} {
		for k, v := range tc.env {
			t.Setenv(k, v)
		}
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"export"}, tc.args...), &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", tc.args, code, stderr.String())
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: stderr %q does not mention %q", tc.args, stderr.String(), tc.want)
		}
		for k := range tc.env {
			t.Setenv(k, "")
		}
	}
}

func TestPrintExportToDir(t *testing.T) {
	store := memstore.New()
	c := card.New("acme", "s-1", "2026-11-20T09:00:00.000Z")
	if _, _, err := store.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := printExport(context.Background(), store, &reports.DirSink{Root: dir},
		reports.Selection{From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"csv"}, WithTimes: true}, reports.Options{}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "reports/folder=acme/date=2026-11-20/sessions.csv"))
	if err != nil || !strings.Contains(string(b), "s-1,acme") {
		t.Fatalf("sessions.csv %q %v", b, err)
	}
	if !strings.Contains(stdout.String(), "reports/folder=acme/date=2026-11-20/manifest.json") {
		t.Fatalf("stdout %q", stdout.String())
	}
}
