package syncer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

func TestParseEventAccepts(t *testing.T) {
	files, _ := filepath.Glob("../../events/sync-*.json")
	if len(files) < 4 {
		t.Fatalf("sample sync events: %v", files)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := syncer.ParseEvent(raw); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, c := range []struct {
		in      string
		folders []string
		bucket  string
		key     string
	}{
		{in: `{"folders": []}`},
		{in: `{}`},
		{in: `{"folders": ["a", "b-2"]}`, folders: []string{"a", "b-2"}},
		{in: `{"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": {}}`},
		{in: `{"detail-type": "Scheduled Event", "source": "aws.events", "detail": {"folders": ["x"]}}`, folders: []string{"x"}},
		{in: `{"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "p/2026/11/20/x_20261120T09:04_UTC.json", "size": 3, "etag": "e"}, "reason": "PutObject"}}`, bucket: "b", key: "p/2026/11/20/x_20261120T09:04_UTC.json"},
		{in: `{"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "p/2026/11/20/x_20261120T09%3A04_UTC.json"}}}`, bucket: "b", key: "p/2026/11/20/x_20261120T09:04_UTC.json"},
	} {
		ev, err := syncer.ParseEvent([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !slices.Equal(ev.Folders, c.folders) || ev.Bucket != c.bucket || ev.Key != c.key {
			t.Errorf("%s read as %+v", c.in, ev)
		}
	}
}

// TestParseEventRefuses: what the function does not understand is an error
// naming what came, never a run over every folder.
func TestParseEventRefuses(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"hello": "world"}`, `unknown key "hello"`},
		{`{"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}`, "Records[]"},
		{`{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]}`, "Records[]"},
		{`{"Folders": ["a"]}`, `unknown key "Folders"`},
		{`{"folders": ["a"], "folders": ["b"]}`, "duplicate"},
		{`{"folders": "a"}`, "folders: want a list"},
		{`{"folders": ["a/b"]}`, `folders[0]: "a/b" is not a folder code`},
		{`{"folders": null}`, ""},
		{`[]`, "not a JSON object"},
		{`null`, "not a JSON object"},
		{`"sync"`, "not a JSON object"},
		{"{\"folders\": [\"\xff\"]}", "not a JSON object"},
		{`{"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}}}`, "detail.object.key is required"},
		{`{"detail-type": "Object Created", "source": "aws.s3", "detail": {"object": {"key": "k"}}}`, "detail.bucket.name is required"},
		{`{"detail-type": "Object Deleted", "source": "aws.s3", "detail": {}}`, `detail-type "Object Deleted" from source "aws.s3" is not accepted`},
		{`{"detail-type": "Object Created", "source": "my.app", "detail": {"bucket": {"name": "b"}, "object": {"key": "k"}}}`, `source "my.app"`},
		{`{"detail-type": "Scheduled Event", "detail": {"foldrs": []}}`, `unknown key "foldrs"`},
		{`{"detail-type": "Scheduled Event"}`, "detail: is required"},
		{`{"detail-type": "Scheduled Event", "detail": {}, "extra": 1}`, `unknown key "extra"`},
		{`{"detail-type": 5, "detail": {}}`, "detail-type: want a string"},
	} {
		_, err := syncer.ParseEvent([]byte(c.in))
		if c.want == "" {
			// {"folders": null} is "absent": every folder, as documented.
			if err != nil {
				t.Errorf("%s: %v", c.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseEvent(%s) = %v, want an error with %q", c.in, err, c.want)
		}
		// encoding/json callers (chatcards invoke) are as strict.
		var ev syncer.Event
		if json.Unmarshal([]byte(c.in), &ev) == nil {
			t.Errorf("json.Unmarshal accepted %s", c.in)
		}
	}
}

// TestHandleRawRefusesBeforeWork: a refused event runs nothing.
func TestHandleRawRefusesBeforeWork(t *testing.T) {
	store := memstore.New()
	newCard(t, store, "f", "s1", t0)
	src := &fakeSource{}
	h := &syncer.Handler{Syncer: syncer.New(store, src, syncer.Options{Logger: quiet()})}
	for _, raw := range []string{`{"hello": "world"}`, `{"Records": []}`, `{"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "k"}}}`} {
		if _, err := h.HandleRaw(context.Background(), json.RawMessage(raw)); err == nil {
			t.Errorf("%s accepted", raw)
		}
	}
	if n := src.calls.Load(); n != 0 {
		t.Fatalf("%d fetches for refused events", n)
	}
	if resp, err := h.HandleRaw(context.Background(), json.RawMessage(`{"folders": ["f"]}`)); err != nil || resp.Summary.Seen != 1 {
		t.Fatalf("folders event: %+v %v", resp, err)
	}
}

func FuzzParseEvent(f *testing.F) {
	files, _ := filepath.Glob("../../events/sync-*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{`{"hello":"world"}`, `{"Records":[]}`, `{"folders":["a"]}`, `{"detail-type":"Scheduled Event","detail":{"folders":["x"]}}`, `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{"key":"%zz"}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := syncer.ParseEvent(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sync event: ") {
				t.Fatalf("error without its prefix: %v", err)
			}
			return
		}
		if (ev.Bucket == "") != (ev.Key == "") {
			t.Fatalf("half an object event: %+v", ev)
		}
		if ev.Key != "" && len(ev.Folders) > 0 {
			t.Fatalf("object event with folders: %+v", ev)
		}
	})
}

// TestTenantMismatchRefused: a transcript tagged with another folder is a
// bad transcript for the card, logged at ERROR with both codes, and the
// card is left untouched.
func TestTenantMismatchRefused(t *testing.T) {
	store := memstore.New()
	newCard(t, store, "B", "s1", t0)
	newCard(t, store, "A", "s2", t0)
	src := &fakeSource{}
	tr := chat("s1", 4, true)
	tr.Tenant = "A"
	src.put(tr)
	own := chat("s2", 2, true)
	own.Tenant = "A"
	src.put(own)
	var logs bytes.Buffer
	sy := syncer.New(store, src, syncer.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	sum, err := sy.Run(context.Background(), nil)
	if err != nil || sum.BadTranscript != 1 || sum.Failed != 1 || sum.Closed != 1 {
		t.Fatalf("summary %+v err %v", sum, err)
	}
	c := get(t, store, "B", "s1")
	if !c.Active || c.MessageCount != 0 || c.SourceHash != "" {
		t.Fatalf("B's card was written: %+v", c.Card)
	}
	var line struct {
		Level, Msg, Folder, TranscriptTenant string
	}
	found := false
	for _, l := range strings.Split(logs.String(), "\n") {
		if json.Unmarshal([]byte(l), &line) == nil && line.Msg == "transcript of another folder refused" {
			found = line.Level == "ERROR" && line.Folder == "B" && line.TranscriptTenant == "A"
		}
	}
	if !found {
		t.Fatalf("no ERROR line naming both folders: %s", logs.String())
	}
	// The same through the S3 path.
	if o, ok, err := sy.SyncOne(context.Background(), "B", "s1", &sources.Result{Transcript: tr, Hash: "h"}); o != syncer.Failed || !ok || !sources.IsBadTranscript(err) {
		t.Fatalf("SyncOne = %v %v %v", o, ok, err)
	}
}

// TestStaleClosedFilledLater: a card closed as stale is filled when its
// transcript comes, by a later run within the recheck window, or by
// SyncOne (S3 event); outside the window a run no longer looks.
func TestStaleClosedFilledLater(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	for _, id := range []string{"late", "later", "never", "old"} {
		newCard(t, store, "f", id, t0)
	}
	newCard(t, store, "g", "ev", t0)
	now := t0.Add(7*24*time.Hour + time.Hour)
	clock := func() time.Time { return now }
	src := &fakeSource{}
	sy := syncer.New(store, src, syncer.Options{Now: clock, Logger: quiet()})
	sum, err := sy.Run(ctx, nil)
	if err != nil || sum.Stale != 5 || sum.Rechecked != 0 {
		t.Fatalf("first run %+v %v", sum, err)
	}
	// Two transcripts arrive: one finished, one still running.
	src.put(chat("late", 4, true))
	src.put(chat("later", 2, false))
	now = now.Add(24 * time.Hour)
	sum, _ = sy.Run(ctx, nil)
	sum.Duration = 0
	if want := (syncer.Summary{Seen: 2, Closed: 1, Updated: 1, Rechecked: 5}); sum != want {
		t.Fatalf("recheck run %+v, want %+v", sum, want)
	}
	if c := get(t, store, "f", "late"); c.Active || c.MessageCount != 4 || c.ClosedReason != "" {
		t.Errorf("late card: active %v messages %d reason %q", c.Active, c.MessageCount, c.ClosedReason)
	}
	if c := get(t, store, "f", "later"); !c.Active || c.MessageCount != 2 {
		t.Errorf("later card: active %v messages %d", c.Active, c.MessageCount)
	}
	if c := get(t, store, "f", "never"); c.Active || !strings.HasPrefix(c.ClosedReason, "stale") {
		t.Errorf("never card reopened: %+v", c.Card)
	}
	// Past the window (StaleAfter + StaleRecheck after the start) a run no
	// longer looks; an S3 event still fills the card.
	src.put(chat("old", 3, true))
	now = t0.Add(14*24*time.Hour + time.Hour)
	sum, _ = sy.Run(ctx, nil)
	if sum.Rechecked != 0 || sum.Closed != 0 {
		t.Fatalf("run past the window: %+v", sum)
	}
	o, ok, err := sy.SyncOne(ctx, "g", "ev", &sources.Result{Transcript: chat("ev", 2, true), Hash: "h"})
	if err != nil || !ok || o != syncer.Closed {
		t.Fatalf("SyncOne on a stale-closed card: %v %v %v", o, ok, err)
	}
	if c := get(t, store, "g", "ev"); c.MessageCount != 2 || c.ClosedReason != "" {
		t.Errorf("stale-closed card not filled by SyncOne: %+v", c.Card)
	}
	// A negative StaleRecheck turns the look-back off.
	off := syncer.New(store, src, syncer.Options{Now: clock, StaleRecheck: -1, Logger: quiet()})
	now = t0.Add(7*24*time.Hour + 2*time.Hour)
	if sum, _ := off.Run(ctx, nil); sum.Rechecked != 0 {
		t.Fatalf("recheck off: %+v", sum)
	}
}
