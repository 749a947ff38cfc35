package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/syncer"
)

// A fan-out worker takes 1/SYNC_WORKERS of the platform's rate ceiling, so
// SYNC_WORKERS workers together stay under it: 11 requests at 200/10 = 20
// rps are spaced 50 ms apart, 500 ms from the first slot to the last (the
// server sees them a little closer when the first one waits for the
// connection; at the whole 200 rps it would be 50 ms).
func TestSyncWorkerTakesItsRateShare(t *testing.T) {
	var mu sync.Mutex
	var at []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		http.NotFound(w, r) // not yet: the card stays, the request counted
	}))
	defer srv.Close()
	store := memstore.New()
	item := syncer.WorkItem{V: 1, Run: "r1", Seq: 1, Folder: "acme"}
	for i := range 11 {
		id := fmt.Sprintf("w-%02d", i)
		if _, _, err := store.Create(context.Background(), card.New("acme", id, time.Now().UTC().Format(time.RFC3339))); err != nil {
			t.Fatal(err)
		}
		item.Sessions = append(item.Sessions, id)
	}
	env := func(k string) string {
		return map[string]string{"SOURCE": "http", "PLATFORM_URL": srv.URL, "PLATFORM_TOKEN": "t", "PLATFORM_RPS": "200", "SYNC_WORKERS": "10"}[k]
	}
	h, err := app.SyncWorker(context.Background(), env, app.Deps{Store: store, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(item)
	resp, err := h.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%+v %v", resp, err)
	}
	if len(at) != 11 {
		t.Fatalf("%d requests", len(at))
	}
	first, last := at[0], at[0]
	for _, a := range at {
		first, last = minTime(first, a), maxTime(last, a)
	}
	if d := last.Sub(first); d < 350*time.Millisecond {
		t.Fatalf("11 requests in %v: the worker did not keep to 200/10 rps", d)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// SYNC_MODE=fanout makes the scheduled invocation plan onto the queue.
func TestSyncFanoutPlans(t *testing.T) {
	store := memstore.New()
	if _, _, err := store.Create(context.Background(), card.New("acme", "w-1", time.Now().UTC().Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	q := &syncer.MemQueue{}
	env := func(k string) string {
		return map[string]string{"SOURCE": "files", "FILES_DIR": t.TempDir(), "SYNC_MODE": "fanout", "SYNC_QUEUE_URL": "https://sqs.example/q"}[k]
	}
	h, err := app.Sync(context.Background(), env, app.Deps{Store: store, SyncQueue: q, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(context.Background(), syncer.Event{})
	if err != nil || resp.Plan == nil || resp.Plan.Sessions != 1 || len(q.Items) != 1 || q.Items[0].Folder != "acme" {
		t.Fatalf("%+v %v %+v", resp, err, q.Items)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }
