package syncer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// PollOptions configure Poll.
type PollOptions struct {
	Client SQSAPI
	URL    string
	// BatchSize is the messages a receive asks for (1-10, default 10), as
	// the event source mapping's BatchSize.
	BatchSize int
	// Wait is the long-poll wait of a receive (default 2 s, at most 20 s).
	Wait time.Duration
	// Timeout bounds one batch, as the worker function's timeout (default
	// 5 min); keep it under the queue's visibility timeout.
	Timeout time.Duration
	// IdleExit ends Poll after this long without a message (0: only when ctx
	// ends).
	IdleExit time.Duration
	// OnBatch, when set, hears each batch's size and failures.
	OnBatch func(messages, failed int)
	Logger  *slog.Logger // nil: no log
}

// PollStats count what Poll did.
type PollStats struct {
	Batches, Messages, Failed int
	DeleteErrors              int
}

// Poll is a local stand-in for Lambda's SQS event source mapping, for
// `chatcards sync -worker` and the tests: it receives batches from the queue,
// hands each to handle as an events.SQSEvent (with the receive count), and
// deletes the messages the handler did not report as failed. A failed
// message is left to come back after the queue's visibility timeout, and the
// queue's redrive policy moves it to the dead-letter queue, as in AWS.
func Poll(ctx context.Context, handle func(context.Context, events.SQSEvent) (events.SQSEventResponse, error), o PollOptions) (PollStats, error) {
	var st PollStats
	if o.BatchSize <= 0 || o.BatchSize > 10 {
		o.BatchSize = 10
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Second
	}
	o.Wait = min(o.Wait, 20*time.Second)
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	idleSince := time.Now()
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, o.Wait+10*time.Second)
		out, err := o.Client.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(o.URL),
			MaxNumberOfMessages:         int32(o.BatchSize),
			WaitTimeSeconds:             int32(o.Wait / time.Second),
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"},
		})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return st, fmt.Errorf("sync poll: receive: %w", err)
		}
		if len(out.Messages) == 0 {
			if o.IdleExit > 0 && time.Since(idleSince) >= o.IdleExit {
				return st, nil
			}
			if o.Wait < time.Second { // a short poll: do not spin
				t := time.NewTimer(100 * time.Millisecond)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
			}
			continue
		}
		idleSince = time.Now()
		ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(out.Messages))}
		handles := map[string]string{}
		for _, m := range out.Messages {
			rec := events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: m.Attributes, EventSource: "aws:sqs"}
			ev.Records = append(ev.Records, rec)
			handles[rec.MessageId] = rec.ReceiptHandle
		}
		hctx, cancel := context.WithTimeout(ctx, o.Timeout)
		resp, err := handle(hctx, ev)
		cancel()
		st.Batches++
		st.Messages += len(ev.Records)
		if err != nil {
			// The whole batch failed, as Lambda treats a function error.
			st.Failed += len(ev.Records)
			if o.OnBatch != nil {
				o.OnBatch(len(ev.Records), len(ev.Records))
			}
			continue
		}
		for _, f := range resp.BatchItemFailures {
			delete(handles, f.ItemIdentifier)
		}
		st.Failed += len(ev.Records) - len(handles)
		if o.OnBatch != nil {
			o.OnBatch(len(ev.Records), len(ev.Records)-len(handles))
		}
		if err := deleteDone(ctx, o.Client, o.URL, handles); err != nil {
			// Not fatal: an undeleted message comes back after the
			// visibility timeout and is then a no-op (its cards are done
			// and the run counted it).
			st.DeleteErrors++
			if o.Logger != nil {
				o.Logger.Warn("sync poll: delete failed; the messages will come back as no-ops", "error", err.Error())
			}
		}
	}
	return st, nil
}

func deleteDone(ctx context.Context, c SQSAPI, url string, handles map[string]string) error {
	if len(handles) == 0 {
		return nil
	}
	entries := make([]types.DeleteMessageBatchRequestEntry, 0, len(handles))
	i := 0
	for _, h := range handles {
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)})
		i++
	}
	// Deleting is bounded by its own deadline, not ctx: the batch is done
	// and deleting it saves a redelivery even when the caller is stopping.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	out, err := c.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		return fmt.Errorf("sync poll: delete: %w", err)
	}
	if len(out.Failed) > 0 {
		return errors.New("sync poll: delete: " + aws.ToString(out.Failed[0].Message))
	}
	return nil
}
