package syncer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/go-json-experiment/json"

	"github.com/chatcards/chatcards/shared/card"
)

// WorkItem is one SQS message of the fan-out: a batch of one folder's card
// keys for a worker. The folder is in the item, never looked up: a worker
// touches exactly the cards it names (folders are tenants).
type WorkItem struct {
	V        int      `json:"v"`   // 1
	Run      string   `json:"run"` // the planner's run id
	Seq      int      `json:"seq"` // 1.. within the run: counts each message once
	Folder   string   `json:"folder"`
	Sessions []string `json:"sessions,omitempty"` // active cards to sync
	Recheck  []string `json:"recheck,omitempty"`  // stale-closed cards to look for again
}

// MaxItemSessions caps a work item (SYNC_ITEM_SIZE is at most this).
const MaxItemSessions = 100

// ParseWorkItem reads a message body strictly (exact-case keys, no
// duplicates or unknown keys, valid UTF-8) and checks every key: a body that
// is not a work item is an error naming the field, never a panic.
func ParseWorkItem(body []byte) (WorkItem, error) {
	var w WorkItem
	if err := json.Unmarshal(body, &w, json.RejectUnknownMembers(true)); err != nil {
		var se *json.SemanticError
		if errors.As(err, &se) && se.JSONPointer != "" {
			return WorkItem{}, fmt.Errorf("sync work item: %s: not understood", se.JSONPointer)
		}
		return WorkItem{}, errors.New("sync work item: not a JSON object")
	}
	switch {
	case w.V != 1:
		return WorkItem{}, fmt.Errorf("sync work item: v: want 1, got %d", w.V)
	case !validRun(w.Run):
		return WorkItem{}, errors.New("sync work item: run: want 1-64 of A-Z a-z 0-9 _ -")
	case w.Seq < 1:
		return WorkItem{}, errors.New("sync work item: seq: want a positive number")
	case !card.ValidFolder(w.Folder):
		return WorkItem{}, errors.New("sync work item: folder: not a folder code (1-64 of A-Z a-z 0-9 _ -)")
	case len(w.Sessions)+len(w.Recheck) == 0:
		return WorkItem{}, errors.New("sync work item: sessions: no session named")
	case len(w.Sessions)+len(w.Recheck) > MaxItemSessions:
		return WorkItem{}, fmt.Errorf("sync work item: sessions: more than %d", MaxItemSessions)
	}
	for i, id := range w.Sessions {
		if !card.ValidSessionID(id) || len(id) > 128 {
			return WorkItem{}, fmt.Errorf("sync work item: sessions[%d]: not a session id", i)
		}
	}
	for i, id := range w.Recheck {
		if !card.ValidSessionID(id) || len(id) > 128 {
			return WorkItem{}, fmt.Errorf("sync work item: recheck[%d]: not a session id", i)
		}
	}
	return w, nil
}

func validRun(r string) bool { return card.ValidFolder(r) } // same alphabet and length

// NewRunID names a run: its start (UTC, to the second) and 32 random bits,
// so two planners started in the same second do not share counters.
func NewRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Queue takes the planner's messages. Send returns how many of items (from
// the first) were surely sent, also with an error, so the run counts exactly
// what the workers will see.
type Queue interface {
	Send(ctx context.Context, items []WorkItem) (sent int, err error)
}

// SQSAPI is the part of the SQS client the sync uses (*sqs.Client).
type SQSAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// SQSQueue sends work items with SendMessageBatch, ten a call.
type SQSQueue struct {
	Client  SQSAPI
	URL     string
	Timeout time.Duration // per call, default 10 s
	Retries int           // resends of entries SQS refused, default 3
}

// Send sends items in batches of ten. Entries SQS reports as failed are
// sent again (up to Retries); an error means some items were not sent (the
// run's cards they name stay active and are taken by the next run).
func (q *SQSQueue) Send(ctx context.Context, items []WorkItem) (int, error) {
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	retries := q.Retries
	if retries <= 0 {
		retries = 3
	}
	for start := 0; start < len(items); start += 10 {
		batch := items[start:min(start+10, len(items))]
		pending := make(map[string]types.SendMessageBatchRequestEntry, len(batch))
		for i, it := range batch {
			body, err := json.Marshal(it)
			if err != nil {
				return start, fmt.Errorf("sync queue: encode item: %w", err)
			}
			id := strconv.Itoa(i)
			pending[id] = types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(string(body)),
				MessageAttributes: map[string]types.MessageAttributeValue{
					"run":    {DataType: aws.String("String"), StringValue: aws.String(it.Run)},
					"folder": {DataType: aws.String("String"), StringValue: aws.String(it.Folder)},
				}}
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > retries {
				return start, fmt.Errorf("sync queue: %d messages refused after %d attempts", len(pending), attempt)
			}
			entries := make([]types.SendMessageBatchRequestEntry, 0, len(pending))
			for _, e := range pending {
				entries = append(entries, e)
			}
			cctx, cancel := context.WithTimeout(ctx, timeout)
			out, err := q.Client.SendMessageBatch(cctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.URL), Entries: entries})
			cancel()
			if err != nil {
				return start, fmt.Errorf("sync queue: send: %w", err)
			}
			for _, ok := range out.Successful {
				delete(pending, aws.ToString(ok.Id))
			}
			for _, f := range out.Failed {
				if f.SenderFault {
					return start, fmt.Errorf("sync queue: message refused: %s %s", aws.ToString(f.Code), aws.ToString(f.Message))
				}
			}
		}
	}
	return len(items), nil
}

// MemQueue collects items in memory (tests, local runs).
type MemQueue struct {
	Items []WorkItem
}

func (m *MemQueue) Send(_ context.Context, items []WorkItem) (int, error) {
	m.Items = append(m.Items, items...)
	return len(items), nil
}
