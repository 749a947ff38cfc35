package syncer

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Watermark kinds: where a folder's sweep and discovery start next time.
const (
	MarkSweep    = "sweep"
	MarkDiscover = "discover"
)

// State is what the sync keeps between runs and between the processes of one
// run, next to the cards: per-folder watermarks, and per-run totals of the
// fan-out. DynamoState keeps it in the cards table; MemState in memory (one
// process: local runs, tests).
type State interface {
	// Watermark returns folder's mark of kind; the zero time when none.
	Watermark(ctx context.Context, folder, kind string) (time.Time, error)
	// AdvanceWatermark stores at when it is later than the stored mark;
	// otherwise it changes nothing (a mark only moves forward, so a slow
	// run finishing after a newer one cannot move it back).
	AdvanceWatermark(ctx context.Context, folder, kind string, at time.Time) error
	// PlanRun records the planner's totals: messages sent and the sessions
	// in them. It returns the run's totals after the write.
	PlanRun(ctx context.Context, run string, messages, sessions int) (RunTotals, error)
	// DoneMessage counts message seq of run once, however often it is
	// delivered: counted is false when it was counted before (then the
	// counts are not added again). An error with counted true means the
	// counts are in but the run's finish trigger is not.
	DoneMessage(ctx context.Context, run string, seq int, counts Summary, deadLettered bool) (counted bool, err error)
	// Finish marks run finished when it is planned and every message is
	// done, exactly once: ok is true for the one caller that finished it.
	Finish(ctx context.Context, run string) (RunTotals, bool, error)
	// Totals reads a run's totals (a run never seen has zero totals).
	Totals(ctx context.Context, run string) (RunTotals, error)
}

// RunTotals are one fan-out run's counts so far.
type RunTotals struct {
	Run      string `json:"run"`
	Planned  bool   `json:"planned"`  // the planner has sent every message
	Messages int    `json:"messages"` // sent by the planner
	Sessions int    `json:"sessions"` // in those messages
	Done     int    `json:"doneMessages"`
	// DeadLettered are the done messages that failed their last receive
	// (they are in the dead-letter queue; their sessions are not in Counts).
	DeadLettered int     `json:"deadLettered"`
	Counts       Summary `json:"counts"`
}

// Drained reports whether every message of a planned run is done.
func (t RunTotals) Drained() bool { return t.Planned && t.Done >= t.Messages }

// counters are the Summary fields a run adds up, by name (the DynamoDB
// attribute names of the run item, c_<name>).
func (s Summary) counters() map[string]int {
	return map[string]int{
		"seen": s.Seen, "updated": s.Updated, "closed": s.Closed, "unchanged": s.Unchanged,
		"notYet": s.NotYet, "stale": s.Stale, "failed": s.Failed, "badTranscript": s.BadTranscript,
		"skipped": s.Skipped, "rechecked": s.Rechecked, "swept": s.Swept, "discovered": s.Discovered,
	}
}

func summaryFrom(get func(name string) int) Summary {
	return Summary{
		Seen: get("seen"), Updated: get("updated"), Closed: get("closed"), Unchanged: get("unchanged"),
		NotYet: get("notYet"), Stale: get("stale"), Failed: get("failed"), BadTranscript: get("badTranscript"),
		Skipped: get("skipped"), Rechecked: get("rechecked"), Swept: get("swept"), Discovered: get("discovered"),
	}
}

// MemState is State in memory, for one process.
type MemState struct {
	mu    sync.Mutex
	marks map[string]time.Time
	runs  map[string]*memRun
}

type memRun struct {
	RunTotals
	finished bool
	done     map[int]bool
}

// NewMemState returns an empty MemState.
func NewMemState() *MemState {
	return &MemState{marks: map[string]time.Time{}, runs: map[string]*memRun{}}
}

var _ State = (*MemState)(nil)

func (m *MemState) Watermark(_ context.Context, folder, kind string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.marks[folder+"\x00"+kind], nil
}

func (m *MemState) AdvanceWatermark(_ context.Context, folder, kind string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := folder + "\x00" + kind
	if at.After(m.marks[k]) {
		m.marks[k] = at
	}
	return nil
}

func (m *MemState) run(run string) *memRun {
	r := m.runs[run]
	if r == nil {
		r = &memRun{RunTotals: RunTotals{Run: run}, done: map[int]bool{}}
		m.runs[run] = r
	}
	return r
}

func (m *MemState) PlanRun(_ context.Context, run string, messages, sessions int) (RunTotals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.run(run)
	r.Planned, r.Messages, r.Sessions = true, messages, sessions
	return r.RunTotals, nil
}

func (m *MemState) DoneMessage(_ context.Context, run string, seq int, c Summary, dead bool) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.run(run)
	if r.done[seq] {
		return false, nil
	}
	r.done[seq] = true
	r.Done++
	if dead {
		r.DeadLettered++
	}
	r.Counts = summaryFrom(func(n string) int { return r.Counts.counters()[n] + c.counters()[n] })
	return true, nil
}

func (m *MemState) Finish(_ context.Context, run string) (RunTotals, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[run]
	if r == nil {
		return RunTotals{}, false, fmt.Errorf("sync state: no run %q", run)
	}
	if r.finished || !r.Drained() {
		return r.RunTotals, false, nil
	}
	r.finished = true
	return r.RunTotals, true, nil
}

func (m *MemState) Totals(_ context.Context, run string) (RunTotals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.runs[run]; r != nil {
		return r.RunTotals, nil
	}
	return RunTotals{Run: run}, nil
}
