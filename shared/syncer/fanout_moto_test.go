package syncer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/testenv"
	"github.com/chatcards/chatcards/shared/transcript"
)

// workerEnv marks the re-executed test binary as a fan-out worker process.
const workerEnv = "CHATCARDS_TEST_SYNC_WORKER"

// TestWorkerProcess is not a test: it is the body of a worker process the
// fan-out test starts by re-executing the test binary. It builds the worker
// exactly as the syncworker function does (app.SyncWorker from the
// environment) and polls the queue as the event source mapping would, until
// the queue has been idle for a while. It prints one JSON line of counts.
func TestWorkerProcess(t *testing.T) {
	if os.Getenv(workerEnv) != "1" {
		t.Skip("only runs as a worker process of TestFanoutProcessesOnMoto")
	}
	// The parent stops a worker with SIGTERM once the run has drained.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	env := config.Getenv(os.Getenv)
	h, err := app.SyncWorker(ctx, env, app.Deps{Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	var sessions atomic.Int64
	var outMu sync.Mutex
	h.Syncer = h.Syncer.WithOnDone(func(syncer.Outcome) {
		if sessions.Add(1) == 30 {
			outMu.Lock()
			fmt.Println(`{"sessions":"30 done"}`) // the parent kills a worker after this line
			outMu.Unlock()
		}
	})
	h.Metrics = os.Stderr
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		os.Exit(2)
	}
	batchTimeout, err := time.ParseDuration(env("CHATCARDS_TEST_BATCH_TIMEOUT"))
	if err != nil {
		batchTimeout = 10 * time.Second
	}
	var busy time.Duration
	handle := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		began := time.Now()
		resp, err := h.HandleSQS(ctx, ev)
		busy += time.Since(began)
		return resp, err
	}
	st, err := syncer.Poll(ctx, handle, syncer.PollOptions{Client: config.SQS(awsCfg), URL: env("SYNC_QUEUE_URL"),
		Wait: time.Second, Timeout: batchTimeout, IdleExit: 5 * time.Minute, Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(map[string]any{"messages": st.Messages, "failed": st.Failed, "sessions": sessions.Load(), "busyMs": busy.Milliseconds()})
	fmt.Println(string(out))
	os.Exit(0)
}

type workerProc struct {
	cmd     *exec.Cmd
	started chan struct{} // closed once it has synced 30 sessions
	result  chan map[string]float64
}

func startWorker(t *testing.T, env []string) *workerProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = &prefixWriter{t: t}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProc{cmd: cmd, started: make(chan struct{}), result: make(chan map[string]float64, 1)}
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			if strings.Contains(line, `"30 done"`) {
				once.Do(func() { close(w.started) })
				continue
			}
			var m map[string]float64
			if json.Unmarshal([]byte(line), &m) == nil && m != nil {
				w.result <- m
			}
		}
		close(w.result)
	}()
	return w
}

// prefixWriter shows a worker's log lines that are not EMF in -v runs.
type prefixWriter struct{ t *testing.T }

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" && !strings.Contains(l, `"_aws"`) {
			p.t.Log("worker:", l)
		}
	}
	return len(b), nil
}

// The fan-out on this machine, with real processes: the reference platform,
// moto's DynamoDB and SQS (a work queue with a dead-letter queue and a
// redrive policy), the planner in this process, and worker processes (this
// test binary re-executed, built like the syncworker function). One worker
// is SIGKILLed in the middle of a batch; its messages come back after the
// visibility timeout and another worker finishes them. Every card must be
// written exactly once (its Version: 1 at create, +1 for the sync's one
// write), none lost, none left active that should be closed, the run's
// totals must drain, and the dead-letter queue must stay empty.
// CHATCARDS_FANOUT_N sets the sessions (default 500); CHATCARDS_FANOUT_WORKERS
// the worker processes (default 3).
func TestFanoutProcessesOnMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	n := envInt("CHATCARDS_FANOUT_N", 500)
	workers := envInt("CHATCARDS_FANOUT_WORKERS", 3)
	ctx := context.Background()

	// The platform: n sessions, some ended, some running, a few unknown.
	plat, err := platform.NewServer(platform.ServerOptions{Token: "fan-token", Seed: 3, Faults: platform.Faults{Latency: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(plat)
	defer srv.Close()
	ts := platform.Generate(platform.GenerateOptions{N: n, Seed: 21, Start: t0.Add(-12 * time.Hour), Spacing: time.Second})
	for _, tr := range ts {
		if err := plat.Put(tr); err != nil {
			t.Fatal(err)
		}
	}

	// The table and the cards.
	db := testenv.DynamoDB(t, endpoint)
	table := testenv.UniqueName("fanout")
	if err := dynamostore.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	store := dynamostore.New(db, table, dynamostore.Options{})
	ended := map[string]bool{}
	unknown := []string{"w-unknown-1", "w-unknown-2", "w-unknown-3"}
	began := time.Now()
	ids := make(chan string)
	var cwg sync.WaitGroup
	starts := map[string]string{}
	for _, tr := range ts {
		starts[tr.SessionID] = transcript.FormatMillis(tr.Events[0].At)
		ended[tr.SessionID] = hasEnded(tr)
	}
	for _, id := range unknown {
		starts[id] = transcript.FormatMillis(t0.UnixMilli())
	}
	for range 16 {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for id := range ids {
				if _, _, err := store.Create(ctx, card.New("helpdesk", id, starts[id])); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	for id := range starts {
		ids <- id
	}
	close(ids)
	cwg.Wait()
	t.Logf("%d cards created in %v", len(starts), time.Since(began).Round(time.Millisecond))

	// The queues: work queue with a redrive policy to its dead-letter queue.
	q := sqs.NewFromConfig(testenv.AWSConfig(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := testenv.UniqueName("sync-work")
	dlq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	dlqAttrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	const maxReceive = 4
	// Above a batch's time on this machine (moto is slower with more items),
	// so a batch is never taken by two workers at once: as in AWS, where it
	// is six times the worker's timeout.
	visibility := 15
	if n > 1000 {
		visibility = 120
	}
	work, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"VisibilityTimeout": strconv.Itoa(visibility),
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, dlqAttrs.Attributes["QueueArn"], maxReceive),
	}})
	if err != nil {
		t.Fatal(err)
	}

	// The planner, here; card by card (the sweep would answer most cards in
	// the planner and leave the workers little to do).
	httpSrc, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: "fan-token", RPS: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	state := syncer.NewDynamoState(db, table)
	planner := syncer.New(store, fetchOnly{httpSrc}, syncer.Options{Logger: quiet(), State: state, ItemSize: 20})
	began = time.Now()
	plan, err := planner.Plan(ctx, []string{"helpdesk"}, &syncer.SQSQueue{Client: q, URL: aws.ToString(work.QueueUrl)})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Sessions != len(starts) {
		t.Fatalf("planned %d sessions, want %d", plan.Sessions, len(starts))
	}
	t.Logf("planned %d messages (%d sessions) in %v", plan.Messages, plan.Sessions, time.Since(began).Round(time.Millisecond))

	env := []string{workerEnv + "=1", "AWS_ENDPOINT_URL=" + endpoint, "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"TABLE_NAME=" + table, "SOURCE=http", "PLATFORM_URL=" + srv.URL, "PLATFORM_TOKEN=fan-token",
		// A ceiling far above what the workers reach: this measures the
		// per-session cost, not the platform's rate.
		"PLATFORM_RPS=100000", "SYNC_WORKERS=" + strconv.Itoa(max(workers, 2)),
		"SYNC_QUEUE_URL=" + aws.ToString(work.QueueUrl), "CHATCARDS_TEST_BATCH_TIMEOUT=" + strconv.Itoa(visibility*3/4) + "s", "SYNC_MAX_RECEIVE=" + strconv.Itoa(maxReceive), "SYNC_CONCURRENCY=16",
		"SOURCES=", "CHATCARDS_TEST_MOTO=", "CHATCARDS_TEST_DYNALITE="}
	began = time.Now()
	procs := make([]*workerProc, 0, workers+1)
	for range workers {
		procs = append(procs, startWorker(t, env))
	}
	// Kill the first worker in the middle of a batch, and start another.
	select {
	case <-procs[0].started:
	case <-time.After(time.Minute):
		t.Fatal("the first worker synced no 30 sessions in a minute")
	}
	// 30 sessions written, inside its first batch of up to ten messages of
	// 20: the batch is not done, so none of its messages is deleted.
	if err := procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = procs[0].cmd.Wait()
	t.Log("worker 1 killed (SIGKILL) mid-batch")
	procs = append(procs, startWorker(t, env))

	deadline := time.Now().Add(time.Duration(max(300, n/20)) * time.Second)
	var tot syncer.RunTotals
	for {
		if tot, err = state.Totals(ctx, plan.Run); err != nil {
			t.Fatal(err)
		}
		if tot.Drained() {
			break
		}
		if time.Now().After(deadline) {
			for _, u := range []*string{work.QueueUrl, dlq.QueueUrl} {
				a, _ := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
				if a != nil {
					t.Logf("%s: %v", aws.ToString(u), a.Attributes)
				}
			}
			t.Fatalf("the run did not drain: %+v", tot)
		}
		time.Sleep(200 * time.Millisecond)
	}
	wall := time.Since(began)
	var sumSessions, sumBusy float64
	var cpu time.Duration
	for _, p := range procs[1:] {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range procs[1:] {
		m := <-p.result
		_ = p.cmd.Wait()
		if m == nil {
			t.Fatalf("worker %d printed no counts", i+2)
		}
		used := p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
		cpu += used
		if m["sessions"] > 0 && m["busyMs"] > 0 {
			t.Logf("worker %d: %v messages (%v failed), %v sessions, %.0f sessions/s while busy, CPU %v (%.2f ms/session)", i+2, m["messages"], m["failed"], m["sessions"],
				m["sessions"]/(m["busyMs"]/1000), used.Round(time.Millisecond), float64(used.Microseconds())/1000/m["sessions"])
		}
		sumSessions += m["sessions"]
		sumBusy += m["busyMs"] / 1000
	}
	t.Logf("drained in %v: %d sessions, %.0f sessions/s overall with %d workers alive, %.0f sessions/s per busy worker, worker CPU %.2f ms/session (poll and start-up included)",
		wall.Round(time.Millisecond), tot.Sessions, float64(tot.Sessions)/wall.Seconds(), workers, sumSessions/sumBusy, float64(cpu.Microseconds())/1000/sumSessions)
	// Read again now that every worker is gone: the read that first saw the
	// run drained may have come between a message's shard count and the
	// counts of a message finishing at the same time.
	if tot, err = state.Totals(ctx, plan.Run); err != nil {
		t.Fatal(err)
	}
	t.Logf("run totals %+v", tot)

	if tot.Done != plan.Messages || tot.DeadLettered != 0 {
		t.Fatalf("totals %+v: every message done once, none dead-lettered", tot)
	}
	c := tot.Counts
	if c.Seen != plan.Sessions || c.Failed != 0 || c.Closed+c.Updated+c.Unchanged+c.NotYet != plan.Sessions {
		t.Fatalf("counts %+v do not add up to %d sessions", c, plan.Sessions)
	}
	// The killed worker's messages came back: the cards it had written were
	// met again and left unchanged (each message counts once, so these are
	// the redelivered sessions the first worker had finished).
	if c.Unchanged == 0 {
		t.Fatalf("counts %+v: no redelivered session was met again; the kill did not land mid-batch", c)
	}
	// Every card: written exactly once, closed exactly when its chat ended.
	for id := range starts {
		got, err := store.Get(ctx, "helpdesk", id)
		if err != nil {
			t.Fatal(err)
		}
		isUnknown := strings.HasPrefix(id, "w-unknown-")
		wantVersion := int64(2)
		if isUnknown {
			wantVersion = 1
		}
		if got.Version != wantVersion {
			t.Errorf("%s: version %d, want %d (written exactly once)", id, got.Version, wantVersion)
		}
		if wantActive := isUnknown || !ended[id]; got.Active != wantActive {
			t.Errorf("%s: active %v, want %v", id, got.Active, wantActive)
		}
		if !isUnknown && got.SourceHash == "" {
			t.Errorf("%s: never synced", id)
		}
	}
	left, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if v := left.Attributes["ApproximateNumberOfMessages"]; v != "0" {
		t.Fatalf("%s messages in the dead-letter queue", v)
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// The DynamoDB state keeps watermarks forward-only and counts a message once.
func TestDynamoStateOnMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	db := testenv.DynamoDB(t, endpoint)
	table := testenv.UniqueName("state")
	if err := dynamostore.CreateTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	st := syncer.NewDynamoState(db, table)
	stateWatermark(t, st)
	ctx := context.Background()
	if counted, err := st.DoneMessage(ctx, "r1", 1, syncer.Summary{Seen: 2, Closed: 2}, false); err != nil || !counted {
		t.Fatalf("%v %v", counted, err)
	}
	if counted, err := st.DoneMessage(ctx, "r1", 1, syncer.Summary{Seen: 2, Closed: 2}, false); err != nil || counted {
		t.Fatalf("a second delivery was counted: %v %v", counted, err)
	}
	if _, ok, err := st.Finish(ctx, "r1"); err != nil || ok {
		t.Fatalf("finished before the plan: %v %v", ok, err)
	}
	if _, err := st.PlanRun(ctx, "r1", 1, 2); err != nil {
		t.Fatal(err)
	}
	tot, ok, err := st.Finish(ctx, "r1")
	if err != nil || !ok || tot.Counts.Closed != 2 || tot.Done != 1 {
		t.Fatalf("%+v %v %v", tot, ok, err)
	}
	if _, ok, _ := st.Finish(ctx, "r1"); ok {
		t.Fatal("finished twice")
	}
}
