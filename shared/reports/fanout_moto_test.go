package reports_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/testenv"
)

type motoFanout struct {
	s3     *s3.Client
	sqs    *sqs.Client
	bucket string
	queue  string
}

func newMotoFanout(t *testing.T) *motoFanout {
	endpoint := testenv.Moto(t)
	m := &motoFanout{s3: testenv.S3(t, endpoint), bucket: testenv.UniqueName("reports")}
	m.sqs = sqs.NewFromConfig(testenv.AWSConfig(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	ctx := t.Context()
	if _, err := m.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &m.bucket}); err != nil {
		t.Fatal(err)
	}
	q, err := m.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.UniqueName("export")),
		Attributes: map[string]string{"VisibilityTimeout": "60"}})
	if err != nil {
		t.Fatal(err)
	}
	m.queue = *q.QueueUrl
	return m
}

func (m *motoFanout) manifest(t *testing.T, folder string) ([]byte, bool) {
	t.Helper()
	out, err := m.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &m.bucket, Key: aws.String(reports.ManifestKey(folder, "2026-11-20"))})
	if err != nil {
		if apiErrCode(err) == "NoSuchKey" {
			return nil, false
		}
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

// plan runs the export function in fan-out mode against the queue.
func (m *motoFanout) plan(t *testing.T, run string) int {
	t.Helper()
	h := &reports.Handler{Store: &sliceStore{cards: fixtureCards()}, Queue: &reports.SQSQueue{Client: m.sqs, URL: m.queue},
		Config: reports.Config{Mode: reports.ModeFanout}, NewRun: func(time.Time) string { return run }}
	body, _ := json.Marshal(map[string]any{"from": fanSel.From, "formats": fanSel.Formats})
	res, err := h.Handle(t.Context(), body)
	if err != nil {
		t.Fatal(err)
	}
	return res.Tasks
}

// work runs n workers that poll the queue like Lambda's event source
// mapping: receive up to 2 messages, call the worker handler, delete the
// messages it did not report as failed and make the failed ones visible
// again. They stop when done says so.
func (m *motoFanout) work(t *testing.T, n int, w *reports.WorkerHandler, done func() bool) (handled atomic.Int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil && !done() {
				out, err := m.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &m.queue, MaxNumberOfMessages: 2,
					WaitTimeSeconds: 1, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"ApproximateReceiveCount"}})
				if err != nil {
					if ctx.Err() == nil {
						t.Error(err)
					}
					return
				}
				ev := events.SQSEvent{}
				for _, msg := range out.Messages {
					ev.Records = append(ev.Records, events.SQSMessage{MessageId: *msg.MessageId, ReceiptHandle: *msg.ReceiptHandle, Body: *msg.Body})
				}
				if len(ev.Records) == 0 {
					continue
				}
				resp, err := w.Handle(ctx, ev)
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range ev.Records {
					handled.Add(1)
					if slices.ContainsFunc(resp.BatchItemFailures, func(f events.SQSBatchItemFailure) bool { return f.ItemIdentifier == r.MessageId }) {
						// Back to the queue at once rather than after the
						// visibility timeout, which is long so that a slow
						// task is never delivered twice while it runs.
						if _, err := m.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &m.queue,
							ReceiptHandle: &r.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
							t.Error(err)
						}
						continue
					}
					if _, err := m.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &m.queue, ReceiptHandle: &r.ReceiptHandle}); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatal("workers ran out of time")
	}
	return
}

// TestFanoutOnMoto: planner → SQS → three workers → S3, with the aggregates
// task of acme failing once (redelivered after the visibility timeout) and
// beta's transcripts failing every time; then a re-run with nothing failing.
func TestFanoutOnMoto(t *testing.T) {
	m := newMotoFanout(t)
	_, ref := singleRun(t)
	sink0, err := reports.NewS3Sink(m.s3, m.bucket, 0)
	if err != nil {
		t.Fatal(err)
	}
	exists := func(key string) bool {
		_, err := m.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &m.bucket, Key: &key})
		return err == nil
	}
	coord := &countingCoord{Coordinator: &reports.S3Coordinator{Client: m.s3, Bucket: m.bucket}, exists: exists}
	once := &failingSink{Sink: sink0, match: "folder=acme/date=2026-11-20/billing"}
	once.left.Store(1)
	sink := &failingSink{Sink: once, match: "folder=beta/date=2026-11-20/transcripts"}
	sink.left.Store(1 << 30)
	w := &reports.WorkerHandler{Store: &sliceStore{cards: fixtureCards()}, Sink: sink, Coord: coord}

	if n := m.plan(t, "run-1"); n != 8 {
		t.Fatalf("%d tasks planned, want 8", n)
	}
	handled := m.work(t, 3, w, func() bool {
		// Done when acme is complete and beta's transcripts failed twice.
		_, ok := m.manifest(t, "acme")
		return ok && sink.left.Load() < 1<<30-2
	})
	if handled.Load() < 9 {
		t.Fatalf("%d deliveries, want at least 9 (8 tasks and a retry)", handled.Load())
	}
	raw, _ := m.manifest(t, "acme")
	var got reports.Manifest
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(ref["acme"], got); d != "" {
		t.Fatalf("acme manifest (-single +fanout):\n%s", d)
	}
	if _, ok := m.manifest(t, "beta"); ok {
		t.Fatal("beta has a manifest though its transcripts task keeps failing")
	}
	if coord.created.Load() != 1 || coord.early.Load() != 0 {
		t.Fatalf("manifests created %d (want 1), written before a file %d", coord.created.Load(), coord.early.Load())
	}
	// No multipart upload was left open by the failures.
	ups, err := m.s3.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: &m.bucket})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("open uploads %v: %v", ups.Uploads, err)
	}

	// Re-run with nothing failing (the failing message is purged, as the
	// DLQ would take it): both folders complete once, acme unchanged.
	if _, err := m.sqs.PurgeQueue(t.Context(), &sqs.PurgeQueueInput{QueueUrl: &m.queue}); err != nil {
		t.Fatal(err)
	}
	w.Sink = sink0
	coord.created.Store(0)
	m.plan(t, "run-2")
	m.work(t, 3, w, func() bool {
		_, a := m.manifest(t, "acme")
		_, b := m.manifest(t, "beta")
		return a && b && coord.created.Load() == 2
	})
	raw2, _ := m.manifest(t, "acme")
	if string(raw2) != string(raw) {
		t.Fatal("the re-run wrote a different acme manifest")
	}
	if coord.created.Load() != 2 || coord.early.Load() != 0 {
		t.Fatalf("re-run: manifests created %d (want 2), early %d", coord.created.Load(), coord.early.Load())
	}
}

func apiErrCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// TestS3CoordinatorOnMoto: the conditional create lets one writer win, and a
// missing part is "not yet", not an error.
func TestS3CoordinatorOnMoto(t *testing.T) {
	m := newMotoFanout(t)
	c := &reports.S3Coordinator{Client: m.s3, Bucket: m.bucket}
	if _, ok, err := c.GetPart(t.Context(), "_export/none.json"); ok || err != nil {
		t.Fatalf("missing part: %v %v", ok, err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := c.CreateOnce(t.Context(), "m.json", []byte{byte('0' + i)})
			if err != nil {
				t.Error(err)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d writers won", wins.Load())
	}
}
