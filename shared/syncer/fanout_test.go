package syncer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
)

// messages turns work items into SQS records, as the event source mapping
// delivers them, with a receive count.
func messages(t testing.TB, items []syncer.WorkItem, receive int) []events.SQSMessage {
	t.Helper()
	out := make([]events.SQSMessage, 0, len(items))
	for _, it := range items {
		b, err := json.Marshal(it)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, events.SQSMessage{MessageId: fmt.Sprintf("m-%s-%d", it.Run, it.Seq), Body: string(b),
			Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(receive)}})
	}
	return out
}

// deliver hands records to the worker in batches of ten and returns the
// ids it reported as failed.
func deliver(t testing.TB, h *syncer.Handler, ctx context.Context, recs []events.SQSMessage) []string {
	t.Helper()
	var failed []string
	for i := 0; i < len(recs); i += 10 {
		resp, err := h.HandleSQS(ctx, events.SQSEvent{Records: recs[i:min(i+10, len(recs))]})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range resp.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
	}
	return failed
}

// snapshot is every card of the folder by session id: what a sync decides.
type snap struct {
	Active              bool
	Status, Hash, Close string
	Version             int64
}

func snapshot(t testing.TB, s cardstore.Store) map[string]snap {
	t.Helper()
	out := map[string]snap{}
	page, err := s.ListByStart(context.Background(), "helpdesk", t0.Add(-time.Hour*24*30), t0.Add(time.Hour*24*30), cardstore.ListOptions{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range page.Cards {
		out[c.SessionID] = snap{c.Active, c.Status, c.SourceHash, c.ClosedReason, c.Version}
	}
	return out
}

// The fan-out decides every card exactly as a single run does, with the
// sweep and card by card; the run's totals add up to the single run's.
func TestFanoutMatchesSingle(t *testing.T) {
	for _, sweep := range []bool{true, false} {
		t.Run(map[bool]string{true: "sweep", false: "fetch"}[sweep], func(t *testing.T) {
			const n = 60
			single := newWorld(t, memstore.New(), n)
			fan := newWorld(t, memstore.New(), n)
			if !sweep {
				single.src, fan.src = fetchOnly{single.src}, fetchOnly{fan.src}
			}
			want := runSync(t, single.syncer())

			state := syncer.NewMemState()
			s := syncer.New(fan.store, fan.src, syncer.Options{Now: func() time.Time { return t0.Add(time.Hour) }, Logger: quiet(), State: state, ItemSize: 7})
			q := &syncer.MemQueue{}
			plan, err := s.Plan(context.Background(), nil, q)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Messages != len(q.Items) || plan.Finished != nil {
				t.Fatalf("plan %+v with %d items", plan, len(q.Items))
			}
			h := &syncer.Handler{Syncer: s, MaxReceive: 5}
			if failed := deliver(t, h, context.Background(), messages(t, q.Items, 1)); len(failed) != 0 {
				t.Fatalf("failed messages %v", failed)
			}
			if got, want := snapshot(t, fan.store), snapshot(t, single.store); !equalSnaps(got, want) {
				t.Fatalf("fan-out cards differ from the single run's:\n got %v\nwant %v", got, want)
			}
			tot, _ := state.Totals(context.Background(), plan.Run)
			got := tot.Counts
			got.Swept, got.Discovered = plan.Prepass.Swept, plan.Prepass.Discovered
			got.Seen += plan.Prepass.Seen
			got.Closed += plan.Prepass.Closed
			got.Updated += plan.Prepass.Updated
			want.Duration = 0
			if !tot.Drained() || got != want {
				t.Fatalf("run totals %+v (+ prepass %+v), want the single run's %+v", tot, plan.Prepass, want)
			}
			if sweep && plan.Sessions != single.unknown {
				t.Fatalf("with the sweep only the %d cards it did not answer go out, got %d", single.unknown, plan.Sessions)
			}
		})
	}
}

func equalSnaps(a, b map[string]snap) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// At-least-once delivery: every message delivered twice, and a batch cut
// short by the worker's deadline and delivered again, leave each card
// written exactly once (Version 2 for a card the sync filled, 1 for one the
// platform does not know) and the run counted once.
func TestWorkerRedeliveryIsANoOp(t *testing.T) {
	const n = 50
	w := newWorld(t, memstore.New(), n)
	src := &slowSource{Source: fetchOnly{w.src}, delay: 5 * time.Millisecond}
	state := syncer.NewMemState()
	s := syncer.New(w.store, src, syncer.Options{Logger: quiet(), State: state, Concurrency: 4, Margin: time.Millisecond,
		Now: func() time.Time { return t0.Add(time.Hour) }})
	q := &syncer.MemQueue{}
	plan, err := s.Plan(context.Background(), nil, q)
	if err != nil {
		t.Fatal(err)
	}
	h := &syncer.Handler{Syncer: syncer.New(w.store, src, syncer.Options{Logger: quiet(), State: state, Concurrency: 4, Margin: time.Millisecond})}
	recs := messages(t, q.Items, 1)

	// A worker "killed" mid-batch: its deadline cuts the first batch short.
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	resp, err := h.HandleSQS(ctx, events.SQSEvent{Records: recs[:min(10, len(recs))]})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) == 0 {
		t.Fatal("a batch cut short by the deadline reported no message to retry")
	}
	// Everything delivered (again), then every message a second time.
	if failed := deliver(t, h, context.Background(), recs); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	before := snapshot(t, w.store)
	if failed := deliver(t, h, context.Background(), messages(t, q.Items, 2)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	after := snapshot(t, w.store)
	if !equalSnaps(before, after) {
		t.Fatal("a second delivery changed cards")
	}
	for id, c := range after {
		want := int64(2)
		if strings.HasPrefix(id, "w-unknown-") {
			want = 1
		}
		if c.Version != want {
			t.Errorf("card %s has version %d, want %d (written exactly once)", id, c.Version, want)
		}
	}
	tot, _ := state.Totals(context.Background(), plan.Run)
	if !tot.Drained() || tot.Done != plan.Messages || tot.Counts.Seen != plan.Sessions {
		t.Fatalf("totals %+v for plan %+v: each message must count once", tot, plan)
	}
}

type slowSource struct {
	sources.Source
	delay time.Duration
}

func (s *slowSource) Fetch(ctx context.Context, r sources.Request) (sources.Result, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return sources.Result{}, ctx.Err()
	}
	return s.Source.Fetch(ctx, r)
}

// A message whose card keeps failing with a platform error comes back, and
// on its last receive is logged at ERROR with its messageId and the reason
// before SQS dead-letters it; the run still finishes, counting it.
func TestWorkerDeadLetterReason(t *testing.T) {
	store := memstore.New()
	src := &fakeSource{errs: map[string]error{"w-broken": errors.New("platform said 500")}}
	src.put(chat("w-ok", 2, true))
	newCard(t, store, "helpdesk", "w-ok", t0)
	newCard(t, store, "helpdesk", "w-broken", t0)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	state := syncer.NewMemState()
	s := syncer.New(store, src, syncer.Options{Logger: log, State: state, Now: func() time.Time { return t0.Add(time.Hour) }})
	q := &syncer.MemQueue{}
	plan, err := s.Plan(context.Background(), []string{"helpdesk"}, q)
	if err != nil || plan.Messages != 1 {
		t.Fatalf("plan %+v %v", plan, err)
	}
	var metrics bytes.Buffer
	h := &syncer.Handler{Syncer: s, MaxReceive: 3, Metrics: &metrics}
	for receive := 1; receive <= 3; receive++ {
		failed := deliver(t, h, context.Background(), messages(t, q.Items, receive))
		if len(failed) != 1 {
			t.Fatalf("receive %d: failed %v, want the one message", receive, failed)
		}
	}
	id := messages(t, q.Items, 1)[0].MessageId
	var dead map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == "ERROR" && strings.Contains(fmt.Sprint(m["msg"]), "dead-lettered") {
			dead = m
		}
	}
	if dead == nil || dead["messageId"] != id || !strings.Contains(fmt.Sprint(dead["reason"]), "w-broken") || !strings.Contains(fmt.Sprint(dead["reason"]), "platform said 500") {
		t.Fatalf("dead-letter log line %v, want messageId %s and the reason", dead, id)
	}
	tot, _ := state.Totals(context.Background(), plan.Run)
	if !tot.Drained() || tot.DeadLettered != 1 {
		t.Fatalf("totals %+v", tot)
	}
	if !strings.Contains(metrics.String(), `"sync run summary"`) || !strings.Contains(metrics.String(), `"FailedMessages":1`) {
		t.Fatalf("EMF lines: %s", metrics.String())
	}
	if c := get(t, store, "helpdesk", "w-ok"); c.Active || c.Version != 2 {
		t.Fatalf("the message's good card: active %v version %d", c.Active, c.Version)
	}
}

// A body that is not a work item fails alone, naming the field.
func TestWorkerRefusesBadBodies(t *testing.T) {
	store := memstore.New()
	var logs bytes.Buffer
	s := syncer.New(store, &fakeSource{}, syncer.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	h := &syncer.Handler{Syncer: s, MaxReceive: 5}
	resp, err := h.HandleSQS(context.Background(), events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "a", Body: `{"v":1,"run":"r","seq":1,"folder":"x/y","sessions":["s"]}`},
		{MessageId: "b", Body: `not json`},
	}})
	if err != nil || len(resp.BatchItemFailures) != 2 {
		t.Fatalf("%+v %v", resp, err)
	}
	if !strings.Contains(logs.String(), "folder: not a folder code") {
		t.Fatalf("log does not name the field: %s", logs.String())
	}
}

func TestParseWorkItem(t *testing.T) {
	good := `{"v":1,"run":"20261201T013000Z-ab12cd34","seq":3,"folder":"helpdesk","sessions":["w-1","w-2"],"recheck":["w-3"]}`
	w, err := syncer.ParseWorkItem([]byte(good))
	if err != nil || w.Seq != 3 || len(w.Sessions) != 2 || len(w.Recheck) != 1 {
		t.Fatalf("%+v %v", w, err)
	}
	for body, want := range map[string]string{
		`{"v":2,"run":"r","seq":1,"folder":"f","sessions":["s"]}`:              "v:",
		`{"v":1,"run":"r","seq":0,"folder":"f","sessions":["s"]}`:              "seq:",
		`{"v":1,"run":"r","seq":1,"folder":"f"}`:                               "sessions:",
		`{"v":1,"run":"r","seq":1,"folder":"f","sessions":["a b"]}`:            "sessions[0]",
		`{"v":1,"run":"r","seq":1,"folder":"f","sessions":["s"],"x":1}`:        "/x",
		`{"v":1,"run":"r","seq":1,"Folder":"f","sessions":["s"]}`:              "/Folder",
		`{"v":1,"run":"r","seq":1,"folder":"f","folder":"g","sessions":["s"]}`: "not a JSON object",
		`{"v":1,"run":"","seq":1,"folder":"f","sessions":["s"]}`:               "run:",
		`{"v":1,"run":"r","seq":1,"folder":"f","recheck":["s",""]}`:            "recheck[1]",
	} {
		if _, err := syncer.ParseWorkItem([]byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming %q", body, err, want)
		}
	}
}

func FuzzParseWorkItem(f *testing.F) {
	f.Add([]byte(`{"v":1,"run":"r","seq":1,"folder":"f","sessions":["s"]}`))
	f.Add([]byte(`{"v":1,"run":"r","seq":1,"folder":"f","recheck":["s"],"sessions":[]}`))
	f.Add([]byte(`{"v":1e400}`))
	f.Add([]byte("{\"v\":1,\"run\":\"r\xff\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := syncer.ParseWorkItem(b)
		if err != nil {
			return
		}
		// Whatever is accepted names a folder and 1-100 valid sessions.
		if w.Folder == "" || len(w.Sessions)+len(w.Recheck) == 0 || len(w.Sessions)+len(w.Recheck) > syncer.MaxItemSessions {
			t.Fatalf("accepted %+v", w)
		}
	})
}

// Watermarks only move forward.
func TestMemStateWatermark(t *testing.T) { stateWatermark(t, syncer.NewMemState()) }

func stateWatermark(t *testing.T, st syncer.State) {
	ctx := context.Background()
	if m, err := st.Watermark(ctx, "helpdesk", syncer.MarkSweep); err != nil || !m.IsZero() {
		t.Fatalf("fresh mark %v %v", m, err)
	}
	later := t0.Add(time.Hour)
	for _, at := range []time.Time{t0, later, t0} {
		if err := st.AdvanceWatermark(ctx, "helpdesk", syncer.MarkSweep, at); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := st.Watermark(ctx, "helpdesk", syncer.MarkSweep); !m.Equal(later.Truncate(time.Millisecond)) {
		t.Fatalf("mark %v, want %v (never back)", m, later)
	}
	if m, _ := st.Watermark(ctx, "other", syncer.MarkSweep); !m.IsZero() {
		t.Fatalf("another folder's mark %v", m)
	}
	if m, _ := st.Watermark(ctx, "helpdesk", syncer.MarkDiscover); !m.IsZero() {
		t.Fatalf("the discovery mark moved with the sweep's: %v", m)
	}
}
