package app

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// ParseSQSEvent reads a worker's event (sync worker, export worker): an SQS batch as Lambda's event
// source mapping sends it, {"Records": [{..., "eventSource": "aws:sqs"}]}.
// Anything else is refused with an error saying what came, so a worker
// wired to the wrong trigger (a schedule, an S3 notification, a test event
// such as {"hello": "world"}) fails loudly instead of reading as an empty
// batch, which decoding straight into events.SQSEvent would make of it.
func ParseSQSEvent(raw []byte) (events.SQSEvent, error) {
	var head struct {
		Records *[]struct {
			EventSource *string `json:"eventSource"`
		} `json:"Records"`
	}
	if err := strictjson.Unmarshal(raw, &head); err != nil {
		return events.SQSEvent{}, fmt.Errorf("worker event: want an SQS batch {\"Records\": [...]}: %w", err)
	}
	if head.Records == nil {
		return events.SQSEvent{}, fmt.Errorf("worker event: no Records: want an SQS batch from the queue's event source mapping, got %.200s", raw)
	}
	for i, r := range *head.Records {
		got := "none"
		if r.EventSource != nil {
			got = *r.EventSource
		}
		if got != "aws:sqs" {
			return events.SQSEvent{}, fmt.Errorf("worker event: Records[%d].eventSource: %q is not aws:sqs (an S3 notification or another trigger is not a work item)", i, got)
		}
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return events.SQSEvent{}, fmt.Errorf("worker event: %w", err)
	}
	return ev, nil
}

// SQSOnly wraps a worker's SQS handler so it takes the raw event and refuses
// anything that is not an SQS batch (ParseSQSEvent): the worker functions'
// entry point.
func SQSOnly(h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) func(context.Context, json.RawMessage) (events.SQSEventResponse, error) {
	return func(ctx context.Context, raw json.RawMessage) (events.SQSEventResponse, error) {
		ev, err := ParseSQSEvent(raw)
		if err != nil {
			return events.SQSEventResponse{}, err
		}
		return h(ctx, ev)
	}
}
