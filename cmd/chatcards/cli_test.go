package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Every command answers -h and `help NAME` with exit 0 and a help on
// stdout that says what it does and which environment it reads.
func TestHelpOfEveryCommand(t *testing.T) {
	for _, name := range commandNames() {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, name, "-h")
			if code != 0 {
				t.Fatalf("%s -h: exit %d, stderr %q", name, code, errOut)
			}
			for _, want := range []string{"usage: chatcards " + name, "Environment", upperFirst(commands[name].summary)} {
				if !strings.Contains(out, want) {
					t.Errorf("%s -h does not say %q:\n%s", name, want, out)
				}
			}
			code, out2, _ := runCLI(t, "help", name)
			if code != 0 || out2 != out {
				t.Errorf("help %s: exit %d, and its text differs from -h", name, code)
			}
			if code, _, _ := runCLI(t, name, "--help"); code != 0 {
				t.Errorf("%s --help: exit %d", name, code)
			}
		})
	}
}

func TestTopLevelHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		code, out, _ := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "commands:") || !strings.Contains(out, "transcript") {
			t.Errorf("%v: exit %d, stdout %q", args, code, out)
		}
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{nil, "usage"},
		{[]string{"help", "nosuch"}, "unknown command"},
		{[]string{"help", "stats", "extra"}, "usage: chatcards help"},
		{[]string{"stats", "-nosuchflag", "x"}, "flag provided but not defined"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 mentioning %q", tc.args, code, errOut, tc.msg)
		}
	}
}

// The -format flags list the registry, so new platform formats show up.
func TestFormatsFromRegistry(t *testing.T) {
	for _, cmd := range []string{"stats", "transcript"} {
		_, out, _ := runCLI(t, cmd, "-h")
		for _, name := range formats.Names() {
			if !strings.Contains(out, name) {
				t.Errorf("%s -h does not list format %s", cmd, name)
			}
		}
	}
}

func TestStatsFormats(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		chosen string
	}{
		{[]string{"-v", "testdata/example.json"}, "format v1 (detected)"},
		{[]string{"-v", "-format", "v1", "testdata/example.json"}, "format v1 (as given)"},
		{[]string{"-v", "-format", "auto", "testdata/connect_chat.json"}, "format connect (detected)"},
		{[]string{"-v", "-format", "connect", "testdata/connect_chat.json"}, "format connect (as given)"},
	} {
		code, out, errOut := runCLI(t, append([]string{"stats"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errOut)
		}
		if !strings.Contains(errOut, tc.chosen) {
			t.Errorf("%v: stderr %q does not say %q", tc.args, errOut, tc.chosen)
		}
		var card map[string]any
		if err := json.Unmarshal([]byte(out), &card); err != nil || card["sessionId"] == nil {
			t.Errorf("%v: stdout is not a card: %v", tc.args, err)
		}
	}
	// Without -v stderr stays quiet.
	if _, _, errOut := runCLI(t, "stats", "testdata/connect_chat.json"); errOut != "" {
		t.Errorf("stderr without -v: %q", errOut)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-format", "pdf", "testdata/example.json"}, 2, "-format \"pdf\""},
		{[]string{"-format", "connect", "testdata/example.json"}, 1, "Version"},
		{[]string{"-format", "v1", "testdata/connect_chat.json"}, 1, "version"},
	} {
		code, _, errOut := runCLI(t, append([]string{"stats"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d mentioning %q", tc.args, code, errOut, tc.code, tc.msg)
		}
		if code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: bad input must give one line on stderr, got %q", tc.args, errOut)
		}
	}
}

// stats still counts a line with no words as a message of size 0, and an
// unnamed file as an attachment (rule 7); nothing else changes.
func TestStatsEmptyLines(t *testing.T) {
	code, out, errOut := runCLI(t, "stats", "-mode", "all", "testdata/empty_lines.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var card struct {
		MessageCount int              `json:"messageCount"`
		ChatLog      []map[string]any `json:"chatLog"`
		Statistics   map[string]any   `json:"statistics"`
	}
	if err := json.Unmarshal([]byte(out), &card); err != nil {
		t.Fatal(err)
	}
	if card.MessageCount != 4 || len(card.ChatLog) != 4 {
		t.Errorf("messageCount %d, chat log %d lines; want 4 and 4", card.MessageCount, len(card.ChatLog))
	}
	st := card.Statistics
	if st["csg_MessagesFromBotsCount"] != 1.0 || st["csg_MessagesFromBotsSize"] != 0.0 || st["csg_MessagesFromCustomersSize"] != 0.0 {
		t.Errorf("bot count %v size %v, customer size %v; want 1, 0, 0", st["csg_MessagesFromBotsCount"], st["csg_MessagesFromBotsSize"], st["csg_MessagesFromCustomersSize"])
	}
	// The same transcript with one-character lines differs only in sizes.
	b, err := os.ReadFile("testdata/empty_lines.json")
	if err != nil {
		t.Fatal(err)
	}
	x := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(x, []byte(strings.ReplaceAll(string(b), `"text": ""`, `"text": "x"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, outX, _ := runCLI(t, "stats", "-mode", "all", x)
	var cardX struct {
		MessageCount int            `json:"messageCount"`
		Statistics   map[string]any `json:"statistics"`
	}
	if err := json.Unmarshal([]byte(outX), &cardX); err != nil {
		t.Fatal(err)
	}
	if cardX.MessageCount != card.MessageCount || cardX.Statistics["csg_MessagesFromBotsSize"] != 1.0 {
		t.Errorf("with text: messageCount %d, bot size %v", cardX.MessageCount, cardX.Statistics["csg_MessagesFromBotsSize"])
	}
	// The rating after the end is not an ignored event: no warning.
	if errOut != "" {
		t.Errorf("stderr %q, want nothing (a rating after ended is not warned about)", errOut)
	}
}

func TestTranscriptCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "transcript", "-v", "testdata/connect_chat.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "format connect (detected)") {
		t.Errorf("stderr %q", errOut)
	}
	// The output is transcript v1, equal to the Connect file's model.
	got, err := transcript.DecodeV1([]byte(out))
	if err != nil {
		t.Fatalf("output is not transcript v1: %v\n%s", err, out)
	}
	b, _ := os.ReadFile("testdata/connect_chat.json")
	want, err := transcript.DecodeConnect(b)
	if err != nil {
		t.Fatal(err)
	}
	if got.SessionID != want.SessionID || len(got.Events) != len(want.Events) || len(got.Participants) != len(want.Participants) {
		t.Errorf("transcript differs: %d events, %d participants; want %d, %d", len(got.Events), len(got.Participants), len(want.Events), len(want.Participants))
	}
	if !strings.Contains(out, "\n  \"sessionId\"") {
		t.Errorf("output is not indented:\n%s", out[:min(len(out), 200)])
	}
	// -compact is one line; empty lines and ratings survive.
	code, out, errOut = runCLI(t, "transcript", "-compact", "-format", "v1", "testdata/empty_lines.json")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("exit %d, %d lines: %s", code, strings.Count(out, "\n"), errOut)
	}
	for _, want := range []string{`"text":""`, `"file":{"name":"","contentType":"","size":0}`, `"type":"rating","participant":"c1","score":4,"comment":"quick"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"transcript"}, 2, "want one FILE"},
		{[]string{"transcript", "-format", "nope", "x"}, 2, "-format"},
		{[]string{"transcript", "testdata/nosuch.json"}, 1, "no such file"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
}

// A load run whose requests fail exits 1 and says what failed.
func TestLoadReportsFailures(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		_, _ = io.Copy(io.Discard, r.Body)
		if calls%5 == 0 {
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"type":"urn:chatcards:problem:unauthenticated","title":"Unauthorized","status":401,"detail":"missing or unknown bearer token"}`)
	}))
	defer srv.Close()
	code, out, errOut := runCLI(t, "load", "-url", srv.URL, "-token", "wrong", "-c", "1", "-n", "20", "-d", "10s")
	if code != 1 {
		t.Fatalf("exit %d, want 1; stdout %q stderr %q", code, out, errOut)
	}
	for _, want := range []string{"16 requests failed", "16 × HTTP 401", "Unauthorized: missing or unknown bearer token"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr %q does not say %q", errOut, want)
		}
	}
	// All good: exit 0, nothing on stderr.
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	defer ok.Close()
	code, _, errOut = runCLI(t, "load", "-url", ok.URL, "-token", "t", "-c", "2", "-n", "10", "-d", "10s")
	if code != 0 || errOut != "" {
		t.Errorf("healthy run: exit %d, stderr %q", code, errOut)
	}
}

func TestProgressFlag(t *testing.T) {
	fs := newFlags("sync", io.Discard)
	on := progressFlag(fs)
	var buf strings.Builder
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if progressOut(fs, *on, &buf) != nil {
		t.Error("progress on without a terminal or -progress")
	}
	fs = newFlags("sync", io.Discard)
	on = progressFlag(fs)
	if err := fs.Parse([]string{"-progress"}); err != nil {
		t.Fatal(err)
	}
	if progressOut(fs, *on, &buf) == nil {
		t.Error("-progress did not turn progress on")
	}
}

// The sync's total comes from counting its listing of active cards; the
// total is final once every listing has returned its last page.
func TestCountingStore(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	for i := range 5 {
		for _, f := range []string{"a", "b"} {
			if _, _, err := store.Create(ctx, card.New(f, fmt.Sprintf("s-%d", i), "2026-11-20T09:00:00.000Z")); err != nil {
				t.Fatal(err)
			}
		}
	}
	var total, finals int
	final := listingsDone(2, func() { finals++ })
	cs := &countingStore{Store: store, active: func(n int, last bool) { total += n; final(last) }}
	for _, f := range []string{"a", "b"} {
		cursor := ""
		for {
			p, err := cs.ListActive(ctx, f, cardstore.ListOptions{Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if f == "a" && finals != 0 {
				t.Fatal("final before the last listing ended")
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
	}
	if total != 10 || finals != 1 {
		t.Errorf("counted %d cards, %d finals; want 10 and 1", total, finals)
	}
}

func TestStatsSettings(t *testing.T) {
	zendesk := "../../shared/formats/testdata/zendesk/chat_full.json"
	code, out, errOut := runCLI(t, "stats", "-settings", "testdata/helsinki_weekdays.settings.json", zendesk)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`"serviceLevel": "met"`, `"businessHours": {`, `"waitBeforeFirstReplyMs": 10250`, `"platform": "zendesk"`} {
		if !strings.Contains(out, want) {
			t.Errorf("card lacks %s", want)
		}
	}
	// Without settings: no business-hours figures, the 60 s default target.
	_, out, _ = runCLI(t, "stats", zendesk)
	if strings.Contains(out, `"businessHours"`) || !strings.Contains(out, `"serviceLevel": "met"`) {
		t.Errorf("default settings: businessHours present or serviceLevel not met")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"businessHours": {"mon": ["17:00-08:00"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "stats", "-settings", bad, zendesk)
	if code != 1 || !strings.Contains(errOut, "businessHours.mon[0]") {
		t.Errorf("bad settings: exit %d, stderr %q; want 1 naming businessHours.mon[0]", code, errOut)
	}
}

// The help names every variable the command reads that changes what it
// does: a user who sets SOURCES or SHARE_KEY must find them in -h.
func TestHelpNamesTheVariablesRead(t *testing.T) {
	for name, vars := range map[string][]string{
		"sync":   {"SOURCES", "FOLDERS", "zendesk", "botframework"},
		"serve":  {"API_TOKENS_SECRET", "STORE_TIMEOUT", "SHARE_KEY", "SHARE_BASE_URL"},
		"invoke": {"SOURCES", "STORE_TIMEOUT", "SHARE_KEY"},
	} {
		_, out, _ := runCLI(t, name, "-h")
		for _, v := range vars {
			if !strings.Contains(out, v) {
				t.Errorf("%s -h does not name %s", name, v)
			}
		}
	}
}

// FOLDERS decides a folder's zone, business hours, first-reply target and
// prices for the sync and the export: every command that reads it says so,
// and invoke names every function it runs.
func TestHelpNamesFolderSettings(t *testing.T) {
	for _, name := range []string{"sync", "export", "invoke", "serve"} {
		_, out, _ := runCLI(t, name, "-h")
		if !strings.Contains(out, "FOLDERS") {
			t.Errorf("%s -h does not mention FOLDERS", name)
		}
	}
	_, out, _ := runCLI(t, "invoke", "-h")
	if !strings.Contains(out, "exportworker") {
		t.Error("invoke -h does not name exportworker, which it runs (docs/export.md)")
	}
}
