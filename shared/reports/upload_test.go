package reports_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/chatcards/chatcards/shared/reports"
)

// slowParts delays each part, earlier parts longest, so they finish out of
// order, and records how many were in flight at once.
type slowParts struct {
	*fakeS3
	inflight, peak atomic.Int32
}

func (s *slowParts) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(time.Duration(10-min(*in.PartNumber, 9)) * 5 * time.Millisecond)
	return s.fakeS3.UploadPart(ctx, in, o...)
}

func TestS3SinkUploadsPartsConcurrently(t *testing.T) {
	fs := &slowParts{fakeS3: newFakeS3()}
	sink, err := reports.NewS3SinkConcurrent(fs, "bucket", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	var files []reports.File
	for i := range 2 {
		f, _ := sink.Create(t.Context(), "k"+strconv.Itoa(i))
		files = append(files, f)
	}
	line := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	for i := range 200 {                                   // 12.5 MiB: two full parts and a tail, per file
		line[0] = byte('a' + i%26)
		want.Write(line)
		for _, f := range files {
			if _, err := f.Write(line); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range files {
		if err := f.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if !bytes.Equal(fs.objects["k"+strconv.Itoa(i)], want.Bytes()) {
			t.Fatalf("k%d: the object is not the bytes written", i)
		}
	}
	if p := fs.peak.Load(); p < 2 || p > 3 {
		t.Fatalf("peak parts in flight %d, want 2 or 3 (the sink's bound)", p)
	}
}

type fakeSQS struct {
	mu      sync.Mutex
	bodies  []string
	calls   int
	failIDs map[string]int // entry id → times to fail
}

func (f *fakeSQS) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(in.Entries) > 10 {
		return nil, errors.New("more than 10 entries")
	}
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		if f.failIDs[*e.Id] > 0 {
			f.failIDs[*e.Id]--
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError")})
			continue
		}
		f.bodies = append(f.bodies, *e.MessageBody)
	}
	return out, nil
}

func TestSQSQueueBatchesAndResends(t *testing.T) {
	var tasks []reports.Task
	for i := range 25 {
		tasks = append(tasks, reports.Task{Run: "r", Folder: "f" + strconv.Itoa(i), Group: "sessions"})
	}
	fq := &fakeSQS{failIDs: map[string]int{"3": 2}}
	q := &reports.SQSQueue{Client: fq, URL: "https://sqs/q", Parallel: 2}
	if err := q.Send(t.Context(), tasks); err != nil {
		t.Fatal(err)
	}
	// Entry 3 of every batch failed twice and was sent again each time.
	if len(fq.bodies) != 25 {
		t.Fatalf("%d messages, want 25", len(fq.bodies))
	}
	fq = &fakeSQS{failIDs: map[string]int{"0": 100}}
	q.Client = fq
	if err := q.Send(t.Context(), tasks[:1]); err == nil {
		t.Fatal("a task SQS never took was not reported")
	}
}

// condS3 answers conditional puts like S3: 412 when the key exists, and a
// 409 for the first conflict it is told to fake.
type condS3 struct {
	reports.S3CoordAPI
	mu        sync.Mutex
	objects   map[string][]byte
	conflicts int
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultServer }

func (c *condS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.IfNoneMatch != nil {
		if c.conflicts > 0 {
			c.conflicts--
			return nil, apiErr{"ConditionalRequestConflict"}
		}
		if _, ok := c.objects[*in.Key]; ok {
			return nil, apiErr{"PreconditionFailed"}
		}
	}
	var b bytes.Buffer
	b.ReadFrom(in.Body)
	c.objects[*in.Key] = b.Bytes()
	return &s3.PutObjectOutput{}, nil
}

func TestS3CoordinatorCreateOnce(t *testing.T) {
	c := &condS3{objects: map[string][]byte{}, conflicts: 1}
	coord := &reports.S3Coordinator{Client: c, Bucket: "b"}
	ok, err := coord.CreateOnce(t.Context(), "m", []byte("1"))
	if err != nil || !ok {
		t.Fatalf("first create after a 409: %v %v", ok, err)
	}
	ok, err = coord.CreateOnce(t.Context(), "m", []byte("2"))
	if err != nil || ok || string(c.objects["m"]) != "1" {
		t.Fatalf("second create: %v %v, object %q", ok, err, c.objects["m"])
	}
	c.conflicts = 100
	if _, err := coord.CreateOnce(t.Context(), "n", []byte("1")); err == nil {
		t.Fatal("endless conflicts not reported")
	}
}
