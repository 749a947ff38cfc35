package syncer

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/sources"
)

// The fan-out (SYNC_MODE=fanout, docs/sync.md): a planner runs the prepass
// (discovery, sweep), pages through the active cards and sends them to a
// queue as work items of ItemSize card keys; workers, fed by the SQS event
// source mapping, sync each item's cards through the same syncCard, apply
// and write as a single run. A run's totals add up in State.

// PlanResult is what the planner did.
type PlanResult struct {
	Run      string  `json:"run"`
	Messages int     `json:"messages"`
	Sessions int     `json:"sessions"`
	Prepass  Summary `json:"prepass"` // discovery and sweep, done by the planner itself
	// Finished holds the run's totals when the planner found the run
	// drained (no message, or the workers were done first).
	Finished *RunTotals `json:"finished,omitempty"`
}

// Plan runs the prepass over folders (every folder when none), then sends
// every active card it did not answer, and the stale-closed cards to look for
// again, to q as work items of one folder each. It stops sending at the stop
// time (see Options.Margin); cards not sent stay active for the next run.
// The run's message count is recorded in State even when sending fails, so
// the totals of what was sent still add up.
func (s *Syncer) Plan(ctx context.Context, folders []string, q Queue) (PlanResult, error) {
	began := s.opt.Now()
	res := PlanResult{Run: NewRunID(began)}
	var mu sync.Mutex
	past := s.pastStop(ctx, &res.Prepass, &mu)
	folders, answered, err := s.prepare(ctx, folders, began, past, &res.Prepass, &mu)
	if err != nil {
		return res, err
	}
	var (
		open    = map[string]*WorkItem{} // per folder, being filled
		ready   []WorkItem
		sendErr error
	)
	flush := func(all bool) bool {
		if len(ready) >= 10 || (all && len(ready) > 0) {
			var sent int
			sent, sendErr = q.Send(ctx, ready)
			// A partly refused chunk may still have been delivered; the run
			// counts only what is sure, so it may finish with a few messages
			// still coming (their cards are synced all the same).
			for _, it := range ready[:sent] {
				res.Messages++
				res.Sessions += len(it.Sessions) + len(it.Recheck)
			}
			ready = ready[:0]
			if sendErr != nil {
				return false
			}
		}
		return true
	}
	seq := 0
	send := func(j job) bool {
		if past() {
			return false
		}
		f := j.card.Folder
		it := open[f]
		if it == nil {
			seq++
			it = &WorkItem{V: 1, Run: res.Run, Seq: seq, Folder: f}
			open[f] = it
		}
		if j.recheck {
			it.Recheck = append(it.Recheck, j.card.SessionID)
		} else {
			it.Sessions = append(it.Sessions, j.card.SessionID)
		}
		if len(it.Sessions)+len(it.Recheck) >= s.opt.ItemSize {
			ready = append(ready, *it)
			delete(open, f)
		}
		return flush(false)
	}
	listErr := s.feed(ctx, folders, began, answered, send)
	if sendErr == nil {
		for _, it := range open {
			ready = append(ready, *it)
		}
		flush(true)
	}
	// Seq numbers were given to items never sent (a failed send): the run
	// counts what was sent, so renumbering is not needed — Finish compares
	// done messages with messages sent, and an unsent seq is never done.
	totals, err := s.opt.State.PlanRun(ctx, res.Run, res.Messages, res.Sessions)
	if err != nil {
		return res, err
	}
	if totals.Drained() {
		if t, ok, err := s.opt.State.Finish(ctx, res.Run); err == nil && ok {
			res.Finished = &t
		}
	}
	s.opt.Logger.Info("sync run planned", "run", res.Run, "messages", res.Messages, "sessions", res.Sessions,
		"swept", res.Prepass.Swept, "discovered", res.Prepass.Discovered, "stopped", res.Prepass.Stopped)
	switch {
	case sendErr != nil:
		return res, fmt.Errorf("sync plan: %w", sendErr)
	case listErr != nil:
		return res, listErr
	}
	return res, nil
}

// syncKey syncs one card named by a work item. The card is read afresh, so
// a second delivery of the item (SQS is at least once) or a retry after a
// worker died finds the effect of the first: a card closed meanwhile is left
// alone, an unchanged transcript writes nothing (SourceHash), and a write
// racing another goes through the optimistic version.
func (s *Syncer) syncKey(ctx context.Context, folder, id string, recheck bool) (Outcome, error) {
	c, err := s.store.Get(ctx, folder, id)
	if card.ErrorCode(err) == card.ENOTFOUND {
		return Unchanged, nil // gone (retention) since the planner listed it
	}
	if err != nil {
		return Failed, fmt.Errorf("sync: read card: %w", err)
	}
	switch {
	case recheck && !staleClosed(c):
		return Unchanged, nil // filled meanwhile
	case !recheck && !c.Active:
		return Unchanged, nil // closed meanwhile, e.g. by an earlier delivery
	}
	return s.syncCard(ctx, c, recheck)
}

// itemState is one message of a worker's batch.
type itemState struct {
	msg      events.SQSMessage
	item     WorkItem
	sum      Summary
	left     int      // sessions not yet finished
	failures []string // retryable errors (platform, store), for the log
	badBody  error
}

// HandleSQS is the worker: it syncs the cards of a batch of work items,
// Concurrency at a time, and reports the messages to retry (partial batch
// response): a message fails when one of its cards failed for a reason a
// retry can cure (platform or store error), when the stop time came before
// all its cards were done, or when it is not a work item. Its other cards
// are retried too and are then no-ops. A message that fails its last
// receive (MaxReceive) is logged at ERROR with its messageId and reason
// before SQS moves it to the dead-letter queue, and counted as dead-lettered
// so the run's totals still finish.
func (h *Handler) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	s := h.Syncer
	began := s.opt.Now()
	var batch Summary
	var mu sync.Mutex
	past := s.pastStop(ctx, &batch, &mu)
	items := make([]*itemState, len(ev.Records))
	type unit struct {
		it      *itemState
		id      string
		recheck bool
	}
	var units []unit
	for i, m := range ev.Records {
		st := &itemState{msg: m}
		items[i] = st
		w, err := ParseWorkItem([]byte(m.Body))
		if err != nil {
			st.badBody = err
			continue
		}
		st.item = w
		st.left = len(w.Sessions) + len(w.Recheck)
		for _, id := range w.Sessions {
			units = append(units, unit{st, id, false})
		}
		for _, id := range w.Recheck {
			units = append(units, unit{st, id, true})
		}
	}
	jobs := make(chan unit)
	var wg sync.WaitGroup
	for range s.opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range jobs {
				o, err := s.syncKey(ctx, u.it.item.Folder, u.id, u.recheck)
				bad := sources.IsBadTranscript(err)
				if err != nil {
					s.opt.Logger.Warn("sync session failed", "folder", u.it.item.Folder, "sessionId", u.id, "outcome", string(o), "error", err.Error())
				}
				mu.Lock()
				u.it.sum.add(o, bad, u.recheck)
				batch.add(o, bad, u.recheck)
				u.it.left--
				if err != nil && !bad {
					u.it.failures = append(u.it.failures, u.id+": "+err.Error())
				}
				mu.Unlock()
				if s.opt.OnDone != nil {
					s.opt.OnDone(o)
				}
			}
		}()
	}
	for _, u := range units {
		if past() {
			break
		}
		jobs <- u
	}
	close(jobs)
	wg.Wait()

	var resp events.SQSEventResponse
	failed := 0
	// The bookkeeping runs past the stop time on purpose: the margin was
	// kept for it, and without it finished work would be redone. The State
	// bounds each call itself.
	bctx := context.WithoutCancel(ctx)
	for _, st := range items {
		reason := st.reason()
		last := h.MaxReceive > 0 && receiveCount(st.msg) >= h.MaxReceive
		if reason == "" || last {
			if st.badBody == nil {
				counted, err := s.opt.State.DoneMessage(bctx, st.item.Run, st.item.Seq, st.sum, reason != "")
				switch {
				case err != nil && !counted:
					// Not counted: the message comes back and is counted
					// then (unless this was its last receive).
					if reason == "" {
						reason = err.Error()
					} else {
						reason += "; and " + err.Error()
					}
				case err != nil:
					// Counted, but the run's finish trigger missed it: the
					// totals are exact, the "complete" line will not come.
					s.opt.Logger.Warn("sync run trigger not counted", "run", st.item.Run, "seq", st.item.Seq, "error", err.Error())
				case counted:
					h.finish(bctx, st.item.Run)
				}
			}
		}
		if reason == "" {
			continue
		}
		failed++
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: st.msg.MessageId})
		attrs := []any{"messageId", st.msg.MessageId, "receiveCount", receiveCount(st.msg), "run", st.item.Run, "seq", st.item.Seq, "folder", st.item.Folder, "reason", reason}
		if last {
			s.opt.Logger.Error("sync work item dead-lettered: its last receive failed", attrs...)
		} else {
			s.opt.Logger.Warn("sync work item failed: it will be retried", attrs...)
		}
	}
	batch.Duration = s.opt.Now().Sub(began)
	if h.Metrics != nil {
		_ = batch.writeEMF(h.Metrics, s.opt.Now(), "syncworker", "sync worker batch", map[string]int{"Messages": len(items), "FailedMessages": failed})
	}
	return resp, nil
}

// reason says why a message must come back; "" when it is done.
func (st *itemState) reason() string {
	switch {
	case st.badBody != nil:
		return st.badBody.Error()
	case st.left > 0:
		return fmt.Sprintf("the stop time came with %d of its sessions not synced", st.left)
	case len(st.failures) > 0:
		r := fmt.Sprintf("%d session(s) failed: %s", len(st.failures), st.failures[0])
		if len(r) > 500 {
			r = r[:500] + "…"
		}
		return r
	}
	return ""
}

func receiveCount(m events.SQSMessage) int {
	n := 0
	_, _ = fmt.Sscan(m.Attributes["ApproximateReceiveCount"], &n)
	return n
}

// finish logs the run's summary (a log line and an EMF line) when this
// worker's message was the last one: State.Finish lets exactly one caller do it.
func (h *Handler) finish(ctx context.Context, run string) {
	t, ok, err := h.Syncer.opt.State.Finish(ctx, run)
	if err != nil {
		h.Syncer.opt.Logger.Warn("sync run totals unreadable", "run", run, "error", err.Error())
		return
	}
	if !ok {
		return
	}
	h.logFinished(t)
}

func (h *Handler) logFinished(t RunTotals) {
	c := t.Counts
	h.Syncer.opt.Logger.Info("sync run complete", "run", t.Run, "messages", t.Messages, "sessions", t.Sessions,
		"deadLettered", t.DeadLettered, "seen", c.Seen, "updated", c.Updated, "closed", c.Closed, "unchanged", c.Unchanged,
		"notYet", c.NotYet, "stale", c.Stale, "failed", c.Failed, "badTranscript", c.BadTranscript, "rechecked", c.Rechecked)
	if h.Metrics != nil {
		_ = c.writeEMF(h.Metrics, h.Syncer.opt.Now(), "sync", "sync run summary", map[string]int{"Messages": t.Messages, "DeadLettered": t.DeadLettered})
	}
}

// Mode is SYNC_MODE.
type Mode string

const (
	ModeSingle Mode = "single" // one invocation syncs every card it can before its deadline
	ModeFanout Mode = "fanout" // the invocation plans; workers sync from the queue
)

// ParseMode reads SYNC_MODE (empty: single).
func ParseMode(v string) (Mode, error) {
	switch strings.TrimSpace(v) {
	case "", string(ModeSingle):
		return ModeSingle, nil
	case string(ModeFanout):
		return ModeFanout, nil
	}
	return "", fmt.Errorf("SYNC_MODE=%q: want single or fanout", v)
}
