package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/transcript"
)

// connectFake answers the connect path for the sample S3 event's object.
type connectFake struct{}

func (connectFake) Fetch(context.Context, sources.Request) (sources.Result, error) {
	return sources.Result{}, sources.ErrNotYet
}

// S3Location is the bucket and prefix of the sample S3 event, so the router
// maps it to the folder this fake is bound to.
func (connectFake) S3Location() (string, string) {
	return "example-connect-bucket", "connect/example-instance/ChatTranscripts/"
}

func (connectFake) FetchKey(_ context.Context, key string) (string, sources.Result, error) {
	id, _, ok := sources.ParseConnectKey(key)
	if !ok {
		return "", sources.Result{}, sources.ErrNotYet
	}
	b, err := os.ReadFile("testdata/example.json")
	if err != nil {
		return "", sources.Result{}, err
	}
	t, err := transcript.DecodeV1([]byte(strings.Replace(string(b), "w-2026-11-20-0001", id, 1)))
	return id, sources.Result{Transcript: t, Hash: "h"}, err
}

// TestEveryEventFile runs each file in events/ through its function's real
// handler, in an order that makes the API calls meaningful, on one store.
func TestEveryEventFile(t *testing.T) {
	files, err := filepath.Glob("../../events/*.json")
	if err != nil || len(files) < 10 {
		t.Fatalf("event files: %v %v", files, err)
	}
	store := memstore.New()
	out := t.TempDir()
	d := localDeps(func(string) string { return "" }, out, &strings.Builder{})
	d.Store = store
	// The sample S3 event's bucket and prefix are bound to helpdesk; every
	// other folder reads the (empty) files source localDeps made.
	router, err := sources.NewRouter(map[string]sources.Source{"helpdesk": connectFake{}, sources.DefaultFolder: d.Source})
	if err != nil {
		t.Fatal(err)
	}
	d.Source = router
	// The events are dated 2026-11-20; the functions' clock is injected to
	// that day (noon UTC) so no outcome depends on when the test runs (a card
	// of the 20th would be closed as stale a week later).
	d.Now = func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) }
	env := config.Getenv(func(string) string { return "" })
	ctx := context.Background()
	// The Connect contact of the sample S3 event has a card.
	if _, _, err := store.Create(ctx, card.New("helpdesk", "4f9a3c1e-8d2b-4c7a-9e6f-1a2b3c4d5e6f", "2026-11-20T09:00:00.000Z")); err != nil {
		t.Fatal(err)
	}
	order := []string{"api-health", "api-create-chat-session", "api-attach-ticket", "api-get-chat-session",
		"sync-scheduled", "sync-folders", "sync-scheduled-envelope", "sync-connect-object-created",
		"syncworker-batch", "export-on-demand", "export-scheduled", "exportworker-task", "api-list-reports"}
	if len(order) != len(files) {
		t.Fatalf("%d event files but %d in the test's order: add the new file here", len(files), len(order))
	}
	for _, name := range order {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("../../events/" + name + ".json")
			if err != nil {
				t.Fatal(err)
			}
			fn, _, _ := strings.Cut(name, "-")
			resp, err := invoke(ctx, fn, raw, env, d)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			switch r := resp.(type) {
			case events.APIGatewayV2HTTPResponse:
				want := map[string]int{"api-health": 200, "api-create-chat-session": 201, "api-attach-ticket": 200,
					"api-get-chat-session": 200, "api-list-reports": 200}[name]
				if r.StatusCode != want {
					t.Fatalf("status %d, want %d: %s", r.StatusCode, want, r.Body)
				}
				if name == "api-get-chat-session" && !strings.Contains(r.Body, "INC-20431") {
					t.Errorf("card lacks the attached ticket: %s", r.Body)
				}
				if name == "api-list-reports" && !strings.Contains(r.Body, "sessions") {
					t.Errorf("no reports listed after the export: %s", r.Body)
				}
			case syncer.Response:
				if name == "sync-connect-object-created" {
					if r.Outcome != syncer.Closed || r.Folder != "helpdesk" {
						t.Fatalf("S3 event outcome %q in folder %q, want closed in helpdesk", r.Outcome, r.Folder)
					}
					return
				}
				if r.Summary == nil || r.Summary.Failed != 0 {
					t.Fatalf("summary %+v", r.Summary)
				}
			case reports.Result:
				b, _ := json.Marshal(r)
				if name == "export-on-demand" && !strings.Contains(string(b), `"files":11`) {
					t.Fatalf("export result: %s", b)
				}
				if name == "export-on-demand" {
					if _, err := os.Stat(filepath.Join(out, "reports", "folder=helpdesk", "date=2026-11-20", "sessions.parquet")); err != nil {
						t.Fatal(err)
					}
				}
			case events.SQSEventResponse: // the sync worker's batch or the export worker's task
				if len(r.BatchItemFailures) != 0 {
					t.Fatalf("%s failed: %+v", name, r)
				}
				if name == "syncworker-batch" {
					return
				}
				if _, err := os.Stat(filepath.Join(out, "reports", "folder=helpdesk", "date=2026-11-20", "manifest.json")); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("unexpected response %T", resp)
			}
		})
	}
	if c, err := store.Get(ctx, "helpdesk", "4f9a3c1e-8d2b-4c7a-9e6f-1a2b3c4d5e6f"); err != nil || c.Active || c.MessageCount != 6 {
		t.Errorf("the Connect card was not filled by the S3 event: %v", err)
	}
}

// The sync and export workers refuse what is not an SQS batch (it used to read
// {"hello": "world"} or an S3 notification as a batch with nothing to do,
// or as a message to retry), naming what it got.
func TestSyncWorkerRefusesOtherEvents(t *testing.T) {
	d := localDeps(func(string) string { return "" }, t.TempDir(), &strings.Builder{})
	d.Store = memstore.New()
	env := config.Getenv(func(string) string { return "" })
	for _, fn := range []string{"syncworker", "exportworker"} {
		for raw, want := range map[string]string{
			`{"hello": "world"}`: "no Records",
			`{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put"}]}`: "aws:s3",
		} {
			if _, err := invoke(context.Background(), fn, []byte(raw), env, d); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s %s: %v, want an error naming %q", fn, raw, err, want)
			}
		}
	}
}
