package app_test

import (
	"encoding/json"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/share"
	"github.com/chatcards/chatcards/shared/stats"
)

// With the API's share key and address, the export's summary page links its
// longest waits to share links that open exactly that card, for 30 days.
func TestSummaryPageLinksAreShareLinks(t *testing.T) {
	key := "0123456789abcdef0123456789abcdef-summary"
	now := time.Date(2026, 11, 21, 3, 30, 0, 0, time.UTC)
	store := memstore.New()
	c := card.New("acme", "w-slow", "2026-11-20T09:00:00.000Z")
	c.Active, c.Status = false, "closed"
	wait := int64(95000)
	c.WaitBeforeFirstReplyMs = &wait
	c.ServiceLevel = stats.ServiceLevelMissed
	if _, _, err := store.Create(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	env := map[string]string{"SHARE_KEY": key, "SHARE_BASE_URL": "https://api.example.com/prod"}
	h, err := app.Export(t.Context(), func(k string) string { return env[k] },
		app.Deps{Store: store, Sink: &reports.DirSink{Root: dir}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(t.Context(), json.RawMessage(`{"folder": "acme", "from": "2026-11-20", "reports": ["daily-summary"], "formats": ["csv"]}`)); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "reports", "folder=acme", "date=2026-11-20", "summary.html"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`href="(https://api\.example\.com/prod/v1/chat-sessions/w-slow\?[^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no share link to w-slow on the page")
	}
	u, err := url.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		t.Fatal(err)
	}
	link, err := share.Verify([]byte(key), u.Query().Get(share.Param), now)
	if err != nil {
		t.Fatalf("the page's link does not verify: %v", err)
	}
	if link.Folder != "acme" || link.SessionID != "w-slow" || !link.Expires.Equal(now.Add(share.Max)) {
		t.Errorf("link %+v, want acme/w-slow until %s", link, now.Add(share.Max))
	}

	// Without the address the page keeps the API path (no share token).
	delete(env, "SHARE_BASE_URL")
	h, err = app.Export(t.Context(), func(k string) string { return env[k] },
		app.Deps{Store: store, Sink: &reports.DirSink{Root: dir}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Handle(t.Context(), json.RawMessage(`{"folder": "acme", "from": "2026-11-20", "reports": ["daily-summary"], "formats": ["csv"]}`)); err != nil {
		t.Fatal(err)
	}
	page, _ = os.ReadFile(filepath.Join(dir, "reports", "folder=acme", "date=2026-11-20", "summary.html"))
	if regexp.MustCompile(`share=`).Match(page) {
		t.Error("a page without SHARE_BASE_URL carries share tokens")
	}
}
