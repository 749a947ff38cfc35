package sources_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
)

// "discover" is common to every kind; Open refuses it where the source
// cannot list conversations, and the router reports who discovers.
func TestDiscoverKey(t *testing.T) {
	specs, err := sources.ParseSources([]byte(`{"acme": {"kind": "http", "url": "https://chat.example", "token": "t", "discover": true}, "*": {"kind": "http", "url": "https://chat.example", "token": "t"}}`))
	if err != nil {
		t.Fatal(err)
	}
	r, err := sources.Open(context.Background(), specs, sources.OpenEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Discovering("acme"); !ok {
		t.Fatal("acme's entry says discover")
	}
	if _, ok := r.Discovering("other"); ok {
		t.Fatal("the \"*\" entry does not say discover")
	}
	if got := r.Folders(); len(got) != 1 || got[0] != "acme" {
		t.Fatalf("folders %v", got)
	}
	for raw, want := range map[string]string{
		`{"a": {"kind": "http", "url": "https://x.example", "token": "t", "discover": "yes"}}`: `SOURCES["a"].discover: must be true or false`,
		`{"a": {"kind": "http", "url": "https://x.example", "token": "t", "Discover": true}}`:  `SOURCES["a"].Discover: is not a setting`,
	} {
		if _, err := sources.ParseSources([]byte(raw)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
	specs, err = sources.ParseSources([]byte(`{"a": {"kind": "files", "dir": "` + t.TempDir() + `", "discover": true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sources.Open(context.Background(), specs, sources.OpenEnv{}); err == nil || !strings.Contains(err.Error(), `SOURCES["a"].discover: kind "files" cannot list`) {
		t.Fatalf("files with discover: %v", err)
	}
	// discover: false is accepted for any kind.
	if _, err := sources.ParseSources([]byte(`{"a": {"kind": "files", "dir": "/x", "discover": false}}`)); err != nil {
		t.Fatal(err)
	}
}

// The http source walks the reference platform's listing, one folder only.
func TestHTTPDiscover(t *testing.T) {
	start := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	plat, err := platform.NewServer(platform.ServerOptions{Token: "tok", PageSize: 7, Now: func() time.Time { return start.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range platform.Generate(platform.GenerateOptions{N: 20, Seed: 1, Start: start, Folder: "acme"}) {
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range platform.Generate(platform.GenerateOptions{N: 5, Seed: 2, Start: start, Folder: "other"}) {
		tr.SessionID = "o-" + tr.SessionID
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(plat)
	defer srv.Close()
	h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: "tok", RPS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var got []sources.Discovered
	err = h.Discover(context.Background(), "acme", start, func(d sources.Discovered) error {
		got = append(got, d)
		return nil
	})
	if err != nil || len(got) != 20 {
		t.Fatalf("%d discovered, err %v", len(got), err)
	}
	for _, d := range got {
		if strings.HasPrefix(d.SessionID, "o-") || d.StartedAt.Before(start) {
			t.Fatalf("listed %+v", d)
		}
	}
	// Nothing updated since a later time.
	got = got[:0]
	if err := h.Discover(context.Background(), "acme", start.Add(2*time.Hour), func(d sources.Discovered) error { got = append(got, d); return nil }); err != nil || len(got) != 0 {
		t.Fatalf("%d, %v", len(got), err)
	}
	if err := h.Discover(context.Background(), "", start, func(sources.Discovered) error { return nil }); err == nil {
		t.Fatal("discovery without a folder")
	}
}

// A platform without the listing says so; a bad row is skipped, reported.
func TestHTTPDiscoverErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("folder") == "none" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"sessions":[{"sessionId":"a b","updatedAt":"2026-11-20T08:00:00Z"},{"sessionId":"ok-1","startedAt":"2026-11-20T08:00:00Z","updatedAt":"2026-11-20T09:00:00Z"},{"sessionId":"ok-2","startedAt":"yesterday","updatedAt":"x"}],"next":""}`))
	}))
	defer srv.Close()
	h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: "tok", RPS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Discover(context.Background(), "none", time.Time{}, func(sources.Discovered) error { return nil }); !errors.Is(err, sources.ErrDiscoverUnsupported) {
		t.Fatalf("404: %v", err)
	}
	var ids []string
	err = h.Discover(context.Background(), "acme", time.Time{}, func(d sources.Discovered) error { ids = append(ids, d.SessionID); return nil })
	if len(ids) != 1 || ids[0] != "ok-1" || !errors.Is(err, sources.ErrBadListingItem) || !strings.Contains(err.Error(), "startedAt") {
		t.Fatalf("ids %v err %v", ids, err)
	}
}
