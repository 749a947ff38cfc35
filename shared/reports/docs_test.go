package reports_test

import (
	"os"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/reports"
)

// TestDocsNameEveryColumn keeps docs/reports.md in step with the code.
func TestDocsNameEveryColumn(t *testing.T) {
	b, err := os.ReadFile("../../docs/reports.md")
	if err != nil {
		t.Skipf("SKIPPING: docs/reports.md not found: %v", err)
	}
	doc := string(b)
	for _, r := range reports.ReportNames() {
		if !strings.Contains(doc, "### "+r+" ") {
			t.Errorf("docs/reports.md has no section for %s", r)
		}
		cols, err := reports.Columns(r, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			name := c.Name
			if !strings.Contains(doc, "`"+name+"`") && !strings.Contains(doc, "| "+name+" |") {
				t.Errorf("docs/reports.md does not describe %s.%s", r, name)
			}
		}
	}
	if _, err := reports.Columns("nope", true); err == nil {
		t.Fatal("unknown report accepted")
	}
}
