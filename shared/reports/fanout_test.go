package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
)

// countingCoord counts manifests created and checks, at that moment, that
// every file the manifest lists is already in the sink's folder.
type countingCoord struct {
	reports.Coordinator
	root    string                // a DirSink's folder, or
	exists  func(key string) bool // how to tell a file is there
	created atomic.Int32
	early   atomic.Int32 // manifests written before one of their files
}

func (c *countingCoord) CreateOnce(ctx context.Context, key string, body []byte) (bool, error) {
	var m reports.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return false, err
	}
	for _, f := range m.Files {
		if c.exists != nil {
			if !c.exists(f.Key) {
				c.early.Add(1)
			}
		} else if _, err := os.Stat(filepath.Join(c.root, filepath.FromSlash(f.Key))); err != nil {
			c.early.Add(1)
		}
	}
	ok, err := c.Coordinator.CreateOnce(ctx, key, body)
	if ok {
		c.created.Add(1)
	}
	return ok, err
}

// failingSink fails the Create of keys containing match, fails times times.
type failingSink struct {
	reports.Sink
	match string
	left  atomic.Int32
}

func (f *failingSink) Create(ctx context.Context, key string) (reports.File, error) {
	if strings.Contains(key, f.match) && f.left.Add(-1) >= 0 {
		return nil, errors.New("injected failure")
	}
	return f.Sink.Create(ctx, key)
}

var fanSel = reports.Selection{From: "2026-11-20", WithTimes: true, Formats: []string{"csv", "xlsx", "parquet"}}

// singleRun is the reference: the same selection in single mode.
func singleRun(t *testing.T) (string, map[string]reports.Manifest) {
	t.Helper()
	dir := t.TempDir()
	ms, err := reports.Export(t.Context(), &sliceStore{cards: fixtureCards()}, &reports.DirSink{Root: dir}, fanSel, reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]reports.Manifest{}
	for _, m := range ms {
		out[m.Folder] = m
	}
	return dir, out
}

func plan(t *testing.T, run string) []reports.Task {
	t.Helper()
	tasks, err := reports.Plan(t.Context(), &sliceStore{cards: fixtureCards()}, fanSel, reports.Options{}, run)
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

func readManifest(t *testing.T, dir, folder string) (reports.Manifest, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(reports.ManifestKey(folder, "2026-11-20"))))
	if errors.Is(err, os.ErrNotExist) {
		return reports.Manifest{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var m reports.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m, true
}

func TestPlanGroups(t *testing.T) {
	tasks := plan(t, "r1")
	var got []string
	for _, tk := range tasks {
		got = append(got, tk.Folder+"/"+tk.Group)
		if err := tk.Validate(); err != nil {
			t.Errorf("planned task invalid: %v", err)
		}
	}
	want := []string{"acme/sessions", "acme/aggregates", "acme/phrases", "acme/transcripts",
		"beta/sessions", "beta/aggregates", "beta/phrases", "beta/transcripts"}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("tasks (-want +got):\n%s", d)
	}
	// Every report is in exactly one group, and a narrowed selection plans
	// only the groups it needs.
	for _, r := range reports.ReportNames() {
		if !slices.Contains(reports.Groups(), reports.GroupOf(r)) {
			t.Errorf("report %s has no group", r)
		}
	}
	tasks, err := reports.Plan(t.Context(), &sliceStore{cards: fixtureCards()},
		reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"pages", "sessions"}}, reports.Options{}, "r2")
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) != 2 || tasks[0].Group != "sessions" || tasks[1].Group != "aggregates" || !slices.Equal(tasks[0].Groups, []string{"sessions", "aggregates"}) {
		t.Fatalf("narrowed plan: %+v", tasks)
	}
	if _, err := reports.Plan(t.Context(), &sliceStore{}, reports.Selection{From: "x"}, reports.Options{}, "r"); card.ErrorCode(err) != card.EINVALID {
		t.Fatalf("bad selection: %v", err)
	}
}

// TestFanoutMatchesSingle runs the tasks in a shuffled order, concurrently,
// and checks: no manifest before the last task of a folder, exactly one
// manifest per folder, written after all its files, and the same manifest
// and bytes as a single-mode export.
func TestFanoutMatchesSingle(t *testing.T) {
	refDir, ref := singleRun(t)
	for round := range 5 {
		dir := t.TempDir()
		coord := &countingCoord{Coordinator: &reports.DirCoordinator{Root: dir}, root: dir}
		sink := &reports.DirSink{Root: dir}
		tasks := plan(t, "run")
		rng := rand.New(rand.NewPCG(uint64(round), 7))
		rng.Shuffle(len(tasks), func(i, j int) { tasks[i], tasks[j] = tasks[j], tasks[i] })
		if round == 0 {
			// Sequentially: the manifest appears with the folder's last task.
			left := map[string]int{"acme": 4, "beta": 4}
			for _, tk := range tasks {
				if _, ok := readManifest(t, dir, tk.Folder); ok {
					t.Fatalf("manifest of %s before its last task", tk.Folder)
				}
				res, err := reports.RunTask(t.Context(), &sliceStore{cards: fixtureCards()}, sink, coord, tk, reports.Options{})
				if err != nil {
					t.Fatal(err)
				}
				left[tk.Folder]--
				if res.Manifest != (left[tk.Folder] == 0) {
					t.Fatalf("task %s/%s wrote manifest %v with %d tasks left", tk.Folder, tk.Group, res.Manifest, left[tk.Folder])
				}
			}
		} else {
			var wg sync.WaitGroup
			for _, tk := range tasks {
				wg.Go(func() {
					if _, err := reports.RunTask(context.Background(), &sliceStore{cards: fixtureCards()}, sink, coord, tk, reports.Options{}); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		if n := coord.created.Load(); n != 2 {
			t.Fatalf("round %d: %d manifests created, want 2", round, n)
		}
		if n := coord.early.Load(); n != 0 {
			t.Fatalf("round %d: %d files missing when the manifest was written", round, n)
		}
		for folder, want := range ref {
			got, ok := readManifest(t, dir, folder)
			if !ok {
				t.Fatalf("no manifest for %s", folder)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("manifest of %s (-single +fanout):\n%s", folder, d)
			}
			for _, f := range got.Files {
				if !bytes.Equal(readFile(t, refDir, f.Key), readFile(t, dir, f.Key)) {
					t.Errorf("%s differs from the single-mode file", f.Key)
				}
			}
		}
	}
}

func TestFanoutRetryAndFailure(t *testing.T) {
	_, ref := singleRun(t)
	dir := t.TempDir()
	coord := &countingCoord{Coordinator: &reports.DirCoordinator{Root: dir}, root: dir}
	// The aggregates task of acme fails once (its billing file cannot be
	// created), the transcripts task of beta fails every time.
	sink := &failingSink{Sink: &reports.DirSink{Root: dir}, match: "folder=acme/date=2026-11-20/billing"}
	sink.left.Store(1)
	bad := &failingSink{Sink: &reports.DirSink{Root: dir}, match: "folder=beta/date=2026-11-20/transcripts"}
	bad.left.Store(1 << 30)
	var failed []reports.Task
	for _, tk := range plan(t, "run") {
		s := reports.Sink(sink)
		if tk.Folder == "beta" {
			s = bad
		}
		if _, err := reports.RunTask(t.Context(), &sliceStore{cards: fixtureCards()}, s, coord, tk, reports.Options{}); err != nil {
			failed = append(failed, tk)
		}
	}
	if len(failed) != 2 {
		t.Fatalf("%d tasks failed, want 2", len(failed))
	}
	for _, f := range []string{"acme", "beta"} {
		if _, ok := readManifest(t, dir, f); ok {
			t.Fatalf("manifest of %s with a task failed", f)
		}
	}
	// The failed task left no file of its own behind.
	if _, err := os.Stat(filepath.Join(dir, "reports/folder=acme/date=2026-11-20/sources.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the failed aggregates task left sources.csv: %v", err)
	}
	// The retry (SQS redelivers the same message) completes acme, once.
	for _, tk := range failed {
		s := reports.Sink(sink)
		if tk.Folder == "beta" {
			s = bad
		}
		res, err := reports.RunTask(t.Context(), &sliceStore{cards: fixtureCards()}, s, coord, tk, reports.Options{})
		if tk.Folder == "acme" && (err != nil || !res.Manifest) {
			t.Fatalf("retry of acme: %v, manifest %v", err, res.Manifest)
		}
		if tk.Folder == "beta" && err == nil {
			t.Fatal("beta's transcripts succeeded")
		}
	}
	got, ok := readManifest(t, dir, "acme")
	if !ok || coord.created.Load() != 1 {
		t.Fatalf("acme manifest %v, created %d", ok, coord.created.Load())
	}
	if d := cmp.Diff(ref["acme"], got); d != "" {
		t.Fatalf("manifest (-single +fanout):\n%s", d)
	}
	if _, ok := readManifest(t, dir, "beta"); ok {
		t.Fatal("beta has a manifest without its transcripts")
	}
	// A retry of a task whose folder is complete (a duplicate delivery)
	// takes the manifest down while it rewrites, then puts it back, once.
	for _, tk := range plan(t, "run") {
		if tk.Folder == "acme" && tk.Group == "sessions" {
			res, err := reports.RunTask(t.Context(), &sliceStore{cards: fixtureCards()}, sink, coord, tk, reports.Options{})
			if err != nil || !res.Manifest {
				t.Fatalf("duplicate: %v %v", err, res.Manifest)
			}
		}
	}
	if got2, ok := readManifest(t, dir, "acme"); !ok || !cmp.Equal(got, got2) {
		t.Fatal("duplicate delivery changed the manifest")
	}
}

// TestFanoutRunsDoNotMix: parts of an earlier, unfinished run never complete
// a later run's folder, and a full re-run writes the same manifest again.
func TestFanoutRunsDoNotMix(t *testing.T) {
	dir := t.TempDir()
	coord := &countingCoord{Coordinator: &reports.DirCoordinator{Root: dir}, root: dir}
	sink := &reports.DirSink{Root: dir}
	run := func(name string, groups ...string) {
		for _, tk := range plan(t, name) {
			if tk.Folder == "acme" && (len(groups) == 0 || slices.Contains(groups, tk.Group)) {
				if _, err := reports.RunTask(t.Context(), &sliceStore{cards: fixtureCards()}, sink, coord, tk, reports.Options{}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	run("old", "sessions", "aggregates", "phrases")
	run("new", "transcripts")
	if _, ok := readManifest(t, dir, "acme"); ok {
		t.Fatal("a manifest from parts of two runs")
	}
	run("new", "sessions", "aggregates", "phrases")
	first, ok := readManifest(t, dir, "acme")
	if !ok {
		t.Fatal("no manifest")
	}
	run("again")
	second, _ := readManifest(t, dir, "acme")
	if coord.created.Load() != 2 || !cmp.Equal(first, second) {
		t.Fatalf("re-run: created %d, same manifest %v", coord.created.Load(), cmp.Equal(first, second))
	}
}

func TestParseTask(t *testing.T) {
	good, _ := json.Marshal(plan(t, "r")[0])
	if _, err := reports.ParseTask(good); err != nil {
		t.Fatalf("good task: %v", err)
	}
	for _, tc := range []struct{ body, field string }{
		{`[]`, "task"},
		{`{"run":"r","Folder":"acme"}`, "folder"}, // names match exactly
		{`{"run":"r","run":"r"}`, "task"},
		{strings.Replace(string(good), `"run":"r"`, `"run":"a/b"`, 1), "run"},
		{strings.Replace(string(good), `"folder":"acme"`, `"folder":""`, 1), "folder"},
		{strings.Replace(string(good), `"group":"sessions"`, `"group":"all"`, 1), "group"},
		{strings.Replace(string(good), `"group":"sessions"`, `"group":"transcripts"`, 1) + "", ""},
		{strings.Replace(string(good), `"reports":[`, `"reports":[],"x":[`, 1), "reports"},
	} {
		_, err := reports.ParseTask([]byte(tc.body))
		if tc.field == "" {
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.field) || card.ErrorCode(err) != card.EINVALID {
			t.Errorf("%s: error %v, want EINVALID naming %s", tc.body, err, tc.field)
		}
	}
}

func FuzzParseTask(f *testing.F) {
	good, _ := json.Marshal(reports.Task{Run: "r", Folder: "acme", From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"csv"}, Group: "sessions", Groups: []string{"sessions"}})
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"run":"r","group":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := reports.ParseTask(b)
		if err == nil && tk.Validate() != nil {
			t.Fatal("accepted an invalid task")
		}
	})
}

type fakeQueue struct{ tasks []reports.Task }

func (q *fakeQueue) Send(_ context.Context, tasks []reports.Task) error {
	q.tasks = append(q.tasks, tasks...)
	return nil
}

func TestHandlerFanoutMode(t *testing.T) {
	q := &fakeQueue{}
	h := &reports.Handler{Store: &sliceStore{cards: fixtureCards()}, Sink: reports.DiscardSink{}, Queue: q,
		Config: reports.Config{Mode: reports.ModeFanout, Formats: []string{"csv"}},
		Now:    func() time.Time { return time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC) },
		NewRun: func(time.Time) string { return "run-1" },
	}
	res, err := h.Handle(t.Context(), []byte(`{"scheduled": true}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Run != "run-1" || res.Tasks != 8 || len(q.tasks) != 8 || len(res.Planned) != 2 ||
		res.Planned[1].Manifest != "reports/folder=beta/date=2026-11-20/manifest.json" {
		t.Fatalf("result %+v, %d tasks", res, len(q.tasks))
	}
	if q.tasks[0].From != "2026-11-20" || !slices.Equal(q.tasks[0].Formats, []string{"csv"}) {
		t.Fatalf("task %+v", q.tasks[0])
	}
	h.Queue = nil
	if _, err := h.Handle(t.Context(), []byte(`{"scheduled": true}`)); err == nil {
		t.Fatal("fan-out without a queue")
	}
}

func TestWorkerHandler(t *testing.T) {
	dir := t.TempDir()
	tasks := plan(t, "run")
	var recs []events.SQSMessage
	for i, tk := range tasks {
		if tk.Folder != "acme" {
			continue
		}
		b, _ := json.Marshal(tk)
		recs = append(recs, events.SQSMessage{MessageId: "m" + string(rune('0'+i)), Body: string(b)})
	}
	recs = append(recs, events.SQSMessage{MessageId: "bad", Body: `{"run":`})
	sink := &failingSink{Sink: &reports.DirSink{Root: dir}, match: "transcripts"}
	sink.left.Store(1)
	w := &reports.WorkerHandler{Store: &sliceStore{cards: fixtureCards()}, Sink: sink, Coord: &reports.DirCoordinator{Root: dir}}
	resp, err := w.Handle(t.Context(), events.SQSEvent{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"m3", "bad"}) {
		t.Fatalf("batch item failures %v, want the transcripts task and the bad message", failed)
	}
	if _, ok := readManifest(t, dir, "acme"); ok {
		t.Fatal("manifest with transcripts failed")
	}
	resp, err = w.Handle(t.Context(), events.SQSEvent{Records: recs[3:4]})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %v %v", err, resp.BatchItemFailures)
	}
	if _, ok := readManifest(t, dir, "acme"); !ok {
		t.Fatal("no manifest after the redelivery")
	}
	// Past the deadline, nothing is started: every record goes back.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	resp, _ = w.Handle(ctx, events.SQSEvent{Records: recs[:2]})
	if len(resp.BatchItemFailures) != 2 {
		t.Fatalf("cancelled: %v", resp.BatchItemFailures)
	}
}
