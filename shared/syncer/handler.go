package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/strictjson"
)

// KeyFetcher is the connect source's path for one S3 object.
type KeyFetcher = sources.KeyFetcher

// ObjectRouter maps an S3 object to the folder whose source reads it
// (*sources.Router).
type ObjectRouter interface {
	ForObject(bucket, key string) (folder string, src sources.KeyFetcher, err error)
}

// Event is what the sync function is invoked with. Exactly three shapes are
// accepted (ParseEvent); anything else is an error naming what came:
//   - the schedule's input, {"folders": ["a", "b"]} (empty or absent: every
//     folder), and nothing else;
//   - an EventBridge "Scheduled Event" envelope, whose detail is {} or
//     {"folders": [...]};
//   - an EventBridge "Object Created" event from aws.s3 for a Connect
//     transcript (detail.bucket.name and detail.object.key).
type Event struct {
	Folders []string
	// Bucket and Key are set for an S3 "Object Created" event; Key as stored
	// (EventBridge does not URL-encode it; a %-escaped one is decoded).
	Bucket, Key string
}

// UnmarshalJSON reads an event the way ParseEvent does, so a caller that
// decodes with encoding/json is as strict as the function.
func (e *Event) UnmarshalJSON(b []byte) error {
	ev, err := ParseEvent(b)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

// eventShapes is the list every rejection quotes.
const eventShapes = `{"folders": [...]}, an EventBridge "Scheduled Event", or an EventBridge "Object Created" event from aws.s3`

// envelopeKeys are the top-level keys of an EventBridge event.
var envelopeKeys = []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail", "replay-name"}

// ParseEvent reads an invocation strictly (exact-case keys, no duplicates,
// valid UTF-8) and accepts only the shapes Event lists. An error names the
// key or the value that was not understood, never echoing other values.
func ParseEvent(raw []byte) (Event, error) {
	var top map[string]jsontext.Value
	if err := strictjson.Unmarshal(raw, &top); err != nil || top == nil {
		return Event{}, fmt.Errorf("sync event: not a JSON object (want %s): %v", eventShapes, errOrNull(err))
	}
	if _, ok := top["detail-type"]; ok {
		return parseEnvelope(top)
	}
	if _, ok := top["Records"]; ok {
		return Event{}, fmt.Errorf("sync event: a Records[] notification (S3 event notification or SQS) is not accepted; route S3 events through EventBridge (want %s)", eventShapes)
	}
	for k := range top {
		if k != "folders" {
			return Event{}, fmt.Errorf("sync event: unknown key %s (want %s)", quoteKey(k), eventShapes)
		}
	}
	var ev Event
	if f, ok := top["folders"]; ok {
		folders, err := parseFolders(f, "folders")
		if err != nil {
			return Event{}, err
		}
		ev.Folders = folders
	}
	return ev, nil
}

func errOrNull(err error) string {
	if err == nil {
		return "null"
	}
	return err.Error()
}

// quoteKey quotes a received key, cut short so an event cannot flood the log.
func quoteKey(k string) string {
	if len(k) > 64 {
		k = k[:64] + "…"
	}
	return fmt.Sprintf("%q", k)
}

func parseFolders(raw jsontext.Value, field string) ([]string, error) {
	var folders []string
	if err := strictjson.Unmarshal(raw, &folders); err != nil {
		return nil, fmt.Errorf("sync event: %s: want a list of folder codes", field)
	}
	for i, f := range folders {
		if !card.ValidFolder(f) {
			return nil, fmt.Errorf("sync event: %s[%d]: %s is not a folder code (1-64 of A-Z a-z 0-9 _ -)", field, i, quoteKey(f))
		}
	}
	return folders, nil
}

func parseEnvelope(top map[string]jsontext.Value) (Event, error) {
	for k := range top {
		if !slices.Contains(envelopeKeys, k) {
			return Event{}, fmt.Errorf("sync event: unknown key %s in an EventBridge envelope", quoteKey(k))
		}
	}
	var dt, src string
	if err := strictjson.Unmarshal(top["detail-type"], &dt); err != nil {
		return Event{}, errors.New("sync event: detail-type: want a string")
	}
	if s, ok := top["source"]; ok {
		if err := strictjson.Unmarshal(s, &src); err != nil {
			return Event{}, errors.New("sync event: source: want a string")
		}
	}
	detail, ok := top["detail"]
	if !ok {
		return Event{}, errors.New("sync event: detail: is required in an EventBridge event")
	}
	switch {
	case dt == "Scheduled Event":
		var d map[string]jsontext.Value
		if err := strictjson.Unmarshal(detail, &d); err != nil || d == nil {
			return Event{}, errors.New("sync event: detail: want an object ({} or {\"folders\": [...]})")
		}
		for k := range d {
			if k != "folders" {
				return Event{}, fmt.Errorf("sync event: detail: unknown key %s in a Scheduled Event (only \"folders\")", quoteKey(k))
			}
		}
		var ev Event
		if f, ok := d["folders"]; ok {
			folders, err := parseFolders(f, "detail.folders")
			if err != nil {
				return Event{}, err
			}
			ev.Folders = folders
		}
		return ev, nil
	case dt == "Object Created" && src == "aws.s3":
		// AWS owns this detail's shape and adds keys over time, so only
		// the two read are checked (strictly); the others are not used.
		var d struct {
			Bucket *struct {
				Name string `json:"name"`
			} `json:"bucket"`
			Object *struct {
				Key string `json:"key"`
			} `json:"object"`
		}
		if err := strictjson.Unmarshal(detail, &d); err != nil {
			return Event{}, fmt.Errorf("sync event: detail: not a readable S3 Object Created detail: %v", err)
		}
		if d.Bucket == nil || d.Bucket.Name == "" {
			return Event{}, errors.New("sync event: detail.bucket.name is required in an S3 Object Created event")
		}
		if d.Object == nil || d.Object.Key == "" {
			return Event{}, errors.New("sync event: detail.object.key is required in an S3 Object Created event")
		}
		key := d.Object.Key
		if strings.Contains(key, "%") {
			if k, err := url.QueryUnescape(key); err == nil {
				key = k
			}
		}
		return Event{Bucket: d.Bucket.Name, Key: key}, nil
	}
	return Event{}, fmt.Errorf("sync event: an EventBridge event with detail-type %s from source %s is not accepted (want %s)", quoteKey(dt), quoteKey(src), eventShapes)
}

// Response is what the function returns: the run's counts, or the one
// session's outcome for an S3 event.
type Response struct {
	Summary   *Summary    `json:"summary,omitempty"`
	Plan      *PlanResult `json:"plan,omitempty"`
	Folder    string      `json:"folder,omitempty"`
	SessionID string      `json:"sessionId,omitempty"`
	Outcome   Outcome     `json:"outcome,omitempty"`
}

// Handler adapts a Syncer to the function's events. Metrics receives the
// EMF summary line (stdout in Lambda). Objects maps S3 events to a folder
// and its source; nil when no source serves S3 events.
type Handler struct {
	Syncer  *Syncer
	Objects ObjectRouter
	Metrics io.Writer
	// Mode is SYNC_MODE: with ModeFanout a scheduled invocation plans (sends
	// work items to Queue) instead of syncing itself.
	Mode  Mode
	Queue Queue
	// MaxReceive is the work queue's maxReceiveCount (SYNC_MAX_RECEIVE): a
	// worker that fails a message on this receive logs it as dead-lettered.
	MaxReceive int
}

// HandleRaw is the Lambda entry point: it reads raw with ParseEvent, so an
// event of the wrong shape is refused before any work.
func (h *Handler) HandleRaw(ctx context.Context, raw json.RawMessage) (Response, error) {
	ev, err := ParseEvent(raw)
	if err != nil {
		return Response{}, err
	}
	return h.Handle(ctx, ev)
}

// Handle runs one invocation.
func (h *Handler) Handle(ctx context.Context, ev Event) (Response, error) {
	if ev.Key != "" || ev.Bucket != "" {
		if len(ev.Folders) > 0 {
			return Response{}, errors.New("sync event: an S3 object event has no folders")
		}
		return h.object(ctx, ev)
	}
	for i, f := range ev.Folders {
		if !card.ValidFolder(f) {
			return Response{}, fmt.Errorf("sync event: folders[%d]: %s is not a folder code (1-64 of A-Z a-z 0-9 _ -)", i, quoteKey(f))
		}
	}
	if h.Mode == ModeFanout {
		if h.Queue == nil {
			return Response{}, errors.New("sync: SYNC_MODE=fanout needs a work queue (SYNC_QUEUE_URL)")
		}
		plan, err := h.Syncer.Plan(ctx, ev.Folders, h.Queue)
		if plan.Finished != nil {
			h.logFinished(*plan.Finished)
		}
		if h.Metrics != nil {
			_ = plan.Prepass.writeEMF(h.Metrics, h.Syncer.opt.Now(), "sync", "sync run planned", map[string]int{"Messages": plan.Messages, "Sessions": plan.Sessions})
		}
		return Response{Plan: &plan}, err
	}
	sum, err := h.Syncer.Run(ctx, ev.Folders)
	if h.Metrics != nil {
		_ = sum.WriteEMF(h.Metrics, h.Syncer.opt.Now())
	}
	return Response{Summary: &sum}, err
}

func (h *Handler) object(ctx context.Context, ev Event) (Response, error) {
	if ev.Bucket == "" || ev.Key == "" {
		return Response{}, errors.New("sync event: an S3 object event needs both bucket and key")
	}
	if h.Objects == nil {
		return Response{}, errors.New("sync event: an S3 object event needs a folder bound to a connect source in SOURCES")
	}
	folder, src, err := h.Objects.ForObject(ev.Bucket, ev.Key)
	if err != nil {
		return Response{}, fmt.Errorf("sync event: %w", err)
	}
	began := time.Now()
	id, res, err := src.FetchKey(ctx, ev.Key)
	if err != nil {
		return Response{Folder: folder}, fmt.Errorf("sync object s3://%s/%s (folder %s): %w", ev.Bucket, ev.Key, folder, err)
	}
	o, found, err := h.Syncer.SyncOne(ctx, folder, id, &res)
	h.Syncer.opt.Logger.Info("sync object", "folder", folder, "sessionId", id, "outcome", string(o), "found", found, "durationMs", time.Since(began).Milliseconds())
	return Response{Folder: folder, SessionID: id, Outcome: o}, err
}
