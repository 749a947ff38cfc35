package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
)

// TaskQueue takes the tasks a planner makes.
type TaskQueue interface {
	Send(ctx context.Context, tasks []Task) error
}

// SQSAPI is the SQS call the queue uses.
type SQSAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// SQSQueue sends tasks to an SQS queue, ten to a batch, a few batches at once.
type SQSQueue struct {
	Client SQSAPI
	URL    string
	// Parallel batches in flight; <= 0 means 8.
	Parallel int
}

var _ TaskQueue = (*SQSQueue)(nil)

// sqsCallTimeout bounds each SendMessageBatch.
const sqsCallTimeout = 10 * time.Second

// Send implements TaskQueue. Entries SQS reports as failed are sent again
// (up to three more times); a task sent twice is harmless, since a task
// only ever rewrites its own keys.
func (q *SQSQueue) Send(ctx context.Context, tasks []Task) error {
	parallel := q.Parallel
	if parallel <= 0 {
		parallel = 8
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for batch := range slices.Chunk(tasks, 10) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := q.sendBatch(ctx, batch); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (q *SQSQueue) sendBatch(ctx context.Context, batch []Task) error {
	entries := make([]types.SendMessageBatchRequestEntry, len(batch))
	for i, t := range batch {
		body, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("sqs: task: %w", err)
		}
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))}
	}
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, sqsCallTimeout)
		out, err := q.Client.SendMessageBatch(cctx, &sqs.SendMessageBatchInput{QueueUrl: &q.URL, Entries: entries})
		cancel()
		if err != nil {
			return fmt.Errorf("sqs: send tasks: %w", err)
		}
		if len(out.Failed) == 0 {
			return nil
		}
		if attempt == 3 {
			f := out.Failed[0]
			return fmt.Errorf("sqs: %d tasks not accepted: %s %s", len(out.Failed), aws.ToString(f.Code), aws.ToString(f.Message))
		}
		var again []types.SendMessageBatchRequestEntry
		for _, f := range out.Failed {
			for _, e := range entries {
				if aws.ToString(e.Id) == aws.ToString(f.Id) {
					again = append(again, e)
				}
			}
		}
		entries = again
		select {
		case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WorkerHandler runs the export worker Lambda: each SQS record is one Task.
// Failed records are reported in batchItemFailures, so SQS redelivers just
// those (and moves them to the dead-letter queue after maxReceiveCount).
type WorkerHandler struct {
	Store  cardstore.Store
	Sink   Sink
	Coord  Coordinator
	Config Config
	Logger *slog.Logger
	// Margin is stopped short of the Lambda deadline so a failing task still
	// has time to abort its uploads. Zero means 15 s.
	Margin time.Duration
}

// Handle is the Lambda handler.
func (w *WorkerHandler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	opt := w.Config.Options
	opt.Logger = log
	if dl, ok := ctx.Deadline(); ok {
		margin := w.Margin
		if margin <= 0 {
			margin = 15 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, rec := range ev.Records {
		fail := func() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
		if ctx.Err() != nil {
			fail() // no time left: back to the queue untouched
			continue
		}
		t, err := ParseTask([]byte(rec.Body))
		if err != nil {
			// A bad message never succeeds: it goes back and on to the DLQ,
			// where it can be seen, rather than being dropped.
			log.ErrorContext(ctx, "export task rejected", "message", rec.MessageId, "error", err.Error())
			fail()
			continue
		}
		if _, err := RunTask(ctx, w.Store, w.Sink, w.Coord, t, opt); err != nil {
			log.ErrorContext(ctx, "export task failed", "message", rec.MessageId, "run", t.Run, "folder", t.Folder,
				"group", t.Group, "error", err.Error(), "code", string(card.ErrorCode(err)), "receives", rec.Attributes["ApproximateReceiveCount"])
			fail()
		}
	}
	return resp, nil
}
