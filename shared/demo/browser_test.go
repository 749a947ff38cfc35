package demo_test

import (
	"context"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/browsertest"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/demo"
)

// The two pages the demo tells a new user to open must open cleanly from
// disk, as the user opens them: no request of any kind, no console error, no
// CSP violation, nothing wider than a phone.
func TestDemoPagesOpenCleanly(t *testing.T) {
	browsertest.Chromium(t) // skip (or fail in CI) before the demo runs
	out := t.TempDir()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	s, err := demo.Run(context.Background(), demo.Options{Store: memstore.New(), Out: out, Sessions: 60, Seed: 3, Day: day})
	if err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{"summary": s.SummaryPage, "dialog": s.DialogPage} {
		if path == "" {
			t.Errorf("the demo printed no %s page", name)
			continue
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		p := browsertest.Open(t, (&url.URL{Scheme: "file", Path: abs}).String())
		p.Check(name)
		if reqs := p.Requests(); len(reqs) != 1 {
			t.Errorf("%s: requests %v, want the page alone", name, reqs)
		}
	}
}

// The demo's summary page is opened from disk, where the API path of a
// session leads nowhere: its longest waits link to dialog pages the demo
// saved beside the reports, and every such file exists.
func TestDemoSummaryLinksOpenSavedDialogs(t *testing.T) {
	out := t.TempDir()
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	s, err := demo.Run(context.Background(), demo.Options{Store: memstore.New(), Out: out, Sessions: 60, Seed: 3, Day: day})
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(s.SummaryPage)
	if err != nil {
		t.Fatal(err)
	}
	hrefs := regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(string(page), -1)
	n := 0
	for _, h := range hrefs {
		href := html.UnescapeString(h[1])
		if href == "data:," {
			continue
		}
		n++
		if strings.HasPrefix(href, "/") || strings.Contains(href, "://") {
			t.Errorf("link %q does not open from disk", href)
			continue
		}
		p, err := url.PathUnescape(href)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(s.SummaryPage), filepath.FromSlash(p))); err != nil {
			t.Errorf("link %q: %v", href, err)
		}
	}
	if n == 0 {
		t.Fatal("the summary page links no session")
	}
}
