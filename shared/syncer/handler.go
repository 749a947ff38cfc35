package syncer

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/sources"
)

// KeyFetcher is the connect source's path for one S3 object: it returns the
// widget session the object belongs to and its merged transcript.
type KeyFetcher interface {
	FetchKey(ctx context.Context, key string) (sessionID string, res sources.Result, err error)
}

// Event is what the sync function is invoked with. Three shapes are read:
//   - the schedule's input, {"folders": ["a", "b"]} (empty or absent: all);
//   - an EventBridge "Scheduled Event" envelope (folders may sit in detail);
//   - an EventBridge S3 "Object Created" event for a Connect transcript.
type Event struct {
	Folders    []string        `json:"folders"`
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

type s3Detail struct {
	Bucket struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key string `json:"key"`
	} `json:"object"`
	Folders []string `json:"folders"`
}

// Response is what the function returns: the run's counts, or the one
// session's outcome for an S3 event.
type Response struct {
	Summary   *Summary `json:"summary,omitempty"`
	SessionID string   `json:"sessionId,omitempty"`
	Outcome   Outcome  `json:"outcome,omitempty"`
}

// Handler adapts a Syncer to the function's events. Metrics receives the
// EMF summary line (stdout in Lambda). Keys is nil unless SOURCE=connect.
type Handler struct {
	Syncer  *Syncer
	Keys    KeyFetcher
	Metrics io.Writer
}

// Handle runs one invocation.
func (h *Handler) Handle(ctx context.Context, ev Event) (Response, error) {
	if ev.Source == "aws.s3" || ev.DetailType == "Object Created" {
		return h.object(ctx, ev)
	}
	folders := ev.Folders
	if len(folders) == 0 && len(ev.Detail) > 0 && ev.Detail[0] == '{' {
		var d s3Detail
		if err := json.Unmarshal(ev.Detail, &d); err == nil {
			folders = d.Folders
		}
	}
	for _, f := range folders {
		if !card.ValidFolder(f) {
			return Response{}, fmt.Errorf("sync event: folders: %q is not a folder code (1-64 of A-Z a-z 0-9 _ -)", f)
		}
	}
	sum, err := h.Syncer.Run(ctx, folders)
	if h.Metrics != nil {
		_ = sum.WriteEMF(h.Metrics, h.Syncer.opt.Now())
	}
	if err != nil {
		return Response{Summary: &sum}, err
	}
	return Response{Summary: &sum}, nil
}

func (h *Handler) object(ctx context.Context, ev Event) (Response, error) {
	if h.Keys == nil {
		return Response{}, fmt.Errorf("sync event: an S3 object event needs SOURCE=connect")
	}
	var d s3Detail
	if err := json.Unmarshal(ev.Detail, &d); err != nil || d.Object.Key == "" {
		return Response{}, fmt.Errorf("sync event: detail.object.key is required in an S3 object event")
	}
	key := d.Object.Key
	if strings.Contains(key, "%") {
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
	}
	began := time.Now()
	id, res, err := h.Keys.FetchKey(ctx, key)
	if err != nil {
		return Response{}, fmt.Errorf("sync object %s: %w", key, err)
	}
	o, found, err := h.Syncer.SyncOne(ctx, id, &res)
	h.Syncer.opt.Logger.Info("sync object", "sessionId", id, "outcome", string(o), "found", found, "durationMs", time.Since(began).Milliseconds())
	if err != nil {
		return Response{SessionID: id, Outcome: o}, err
	}
	return Response{SessionID: id, Outcome: o}, nil
}
