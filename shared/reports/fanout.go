package reports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/strictjson"
)

// Report groups of a fan-out export. Each folder's export is one task per
// group that has a selected report; the groups read the card store
// separately, so they are cut where the reading differs:
//
//   - sessions: one or more rows per session, no chat log (sessions,
//     markers, operators, chat-session-fact, and any new per-session report);
//   - aggregates: small tables folded from the cards, no chat log;
//   - phrases: client-phrases and popular-phrases, which read the chat log;
//   - transcripts: every chat line, the biggest table, alone so that the
//     heaviest task is not also writing the phrases.
const (
	GroupSessions    = "sessions"
	GroupAggregates  = "aggregates"
	GroupPhrases     = "phrases"
	GroupTranscripts = "transcripts"
)

// Groups lists the report groups in the order their files appear.
func Groups() []string {
	return []string{GroupSessions, GroupAggregates, GroupPhrases, GroupTranscripts}
}

// aggregateReports fold the whole window into a few rows.
var aggregateReports = []string{"productivity", "sources", "pages", "terminations", "message-statistics", "billing"}

// GroupOf is the group a report is exported in. A report added later lands
// in transcripts or phrases when it reads the chat log, else in aggregates
// if it is listed there, else in sessions.
func GroupOf(report string) string {
	switch {
	case report == "transcripts":
		return GroupTranscripts
	case slices.Contains(aggregateReports, report):
		return GroupAggregates
	}
	if d, ok := lookupReport(report); ok && d.lineLevel {
		return GroupPhrases
	}
	return GroupSessions
}

// Task is one unit of a fan-out export: one folder, one report group. It
// carries the whole export's selection, because the task that completes the
// folder writes the manifest of every group.
type Task struct {
	// Run names the planner's run; parts of different runs never mix.
	Run       string   `json:"run"`
	Folder    string   `json:"folder"`
	From      string   `json:"from"`
	To        string   `json:"to"`
	Status    string   `json:"status"`
	WithTimes bool     `json:"withTimes"`
	Reports   []string `json:"reports"`
	Formats   []string `json:"formats"`
	// Group is the group this task writes; Groups every group of the
	// folder's export, whose parts the manifest waits for.
	Group  string   `json:"group"`
	Groups []string `json:"groups"`
}

// Validate checks a task read from the queue; errors name the field.
func (t Task) Validate() error {
	if t.Run == "" || strings.ContainsAny(t.Run, "/\\") || len(t.Run) > 128 {
		return invalid("run", "must be a non-empty name without slashes, up to 128 bytes")
	}
	if t.Folder == "" || strings.ContainsAny(t.Folder, "/\\") {
		return invalid("folder", "must be a folder name without slashes")
	}
	if !slices.Contains(Groups(), t.Group) {
		return invalid("group", "%q is not one of %s", t.Group, strings.Join(Groups(), ", "))
	}
	if !slices.Contains(t.Groups, t.Group) {
		return invalid("groups", "does not contain the task's group %q", t.Group)
	}
	for i, g := range t.Groups {
		if !slices.Contains(Groups(), g) {
			return invalid(fmt.Sprintf("groups[%d]", i), "%q is not one of %s", g, strings.Join(Groups(), ", "))
		}
	}
	if len(t.Reports) == 0 {
		return invalid("reports", "is required")
	}
	// The manifest lists every report: each must have a group to wait for.
	for _, r := range t.Reports {
		if g := GroupOf(r); !slices.Contains(t.Groups, g) {
			return invalid("groups", "lacks %q, the group of report %q", g, r)
		}
	}
	if len(t.Formats) == 0 {
		return invalid("formats", "is required")
	}
	return nil
}

func (t Task) selection() Selection {
	return Selection{Folder: t.Folder, From: t.From, To: t.To, Status: t.Status, WithTimes: t.WithTimes, Reports: t.Reports, Formats: t.Formats}
}

// ParseTask reads a queue message strictly (exact-case keys, no duplicates,
// valid UTF-8) and validates it.
func ParseTask(body []byte) (Task, error) {
	var t Task
	if err := strictjson.Unmarshal(body, &t); err != nil {
		return Task{}, invalid("task", "is not a valid task message: %v", err)
	}
	return t, t.Validate()
}

// NewRunID returns a run name that sorts by time and never repeats.
func NewRunID(now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Plan resolves sel and returns the tasks of its export: for every selected
// folder, one task per group that has a selected report.
func Plan(ctx context.Context, store cardstore.Store, sel Selection, opt Options, run string) ([]Task, error) {
	r, err := resolve(sel, opt.Location)
	if err != nil {
		return nil, err
	}
	folders := []string{sel.Folder}
	if sel.Folder == "" {
		if folders, err = store.ListFolders(ctx); err != nil {
			return nil, fmt.Errorf("plan: list folders: %w", err)
		}
	}
	var groups []string
	for _, g := range Groups() {
		if slices.ContainsFunc(r.sel.Reports, func(n string) bool { return GroupOf(n) == g }) {
			groups = append(groups, g)
		}
	}
	var tasks []Task
	for _, f := range folders {
		if strings.ContainsAny(f, "/\\") || f == "" {
			return nil, fmt.Errorf("plan: folder %q cannot be a key prefix", f)
		}
		for _, g := range groups {
			tasks = append(tasks, Task{Run: run, Folder: f, From: r.sel.From, To: r.sel.To, Status: r.sel.Status,
				WithTimes: r.sel.WithTimes, Reports: r.sel.Reports, Formats: r.sel.Formats, Group: g, Groups: groups})
		}
	}
	return tasks, nil
}

// Part is what a finished task records for the manifest: its files and the
// sessions it read.
type Part struct {
	Group    string         `json:"group"`
	Sessions int64          `json:"sessions"`
	Files    []ManifestFile `json:"files"`
}

// Coordinator keeps the parts of a fan-out export and writes its manifest
// exactly once.
type Coordinator interface {
	// PutPart stores (or replaces: a retried task writes the same part
	// again, which counts once) the part of group.
	PutPart(ctx context.Context, key string, body []byte) error
	// GetPart returns a part, or ok false when it is not there yet.
	GetPart(ctx context.Context, key string) (body []byte, ok bool, err error)
	// CreateOnce writes key only if it does not exist; created is false
	// when it already did.
	CreateOnce(ctx context.Context, key string, body []byte) (created bool, err error)
}

// PartKey is where the part of one task is kept: outside reports/ and
// tables/, so neither analysts nor Athena see it; a lifecycle rule expires it.
func PartKey(run, folder, date, group string) string {
	return "_export/run=" + run + "/folder=" + folder + "/date=" + date + "/" + group + ".json"
}

// TaskResult says what a task did.
type TaskResult struct {
	Files    int
	Sessions int64
	// Manifest is true when this task wrote the folder's manifest.
	Manifest bool
	// Waiting lists the groups whose parts were not there yet.
	Waiting []string
}

// RunTask exports one task's group and, if every group of its folder has
// finished, writes the manifest.
//
// Why this is safe: each task removes the folder's manifest before writing
// anything (its files are about to be replaced), writes its files, then its
// part, and only then reads the parts of the other groups. S3 reads after
// writes are strongly consistent, so of two tasks finishing together at
// least the later writer sees both parts; when both do, the manifest's
// conditional create (If-None-Match) lets exactly one of them write it, and
// both would write the same bytes anyway. A retried task writes the same
// files and the same part key again, so it never counts twice. A task that
// fails writes no part, so its folder gets no manifest until it succeeds.
func RunTask(ctx context.Context, store cardstore.Store, sink Sink, coord Coordinator, t Task, opt Options) (TaskResult, error) {
	var res TaskResult
	if err := t.Validate(); err != nil {
		return res, err
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	started := time.Now()
	rs, err := resolve(t.selection(), opt.Location)
	if err != nil {
		return res, err
	}
	var defs []reportDef
	for _, d := range rs.reports {
		if GroupOf(d.name) == t.Group {
			defs = append(defs, d)
		}
	}
	manifestKey := ManifestKey(t.Folder, rs.dateLabel)
	if err := sink.Remove(ctx, manifestKey); err != nil {
		return res, err
	}
	files, sessions, err := exportReports(ctx, store, sink, rs, t.Folder, defs, opt)
	if err != nil {
		return res, fmt.Errorf("export folder %s group %s: %w", t.Folder, t.Group, err)
	}
	res.Files, res.Sessions = len(files), sessions
	if files == nil {
		files = []ManifestFile{}
	}
	body, err := json.Marshal(Part{Group: t.Group, Sessions: sessions, Files: files})
	if err != nil {
		return res, fmt.Errorf("part: %w", err)
	}
	if err := coord.PutPart(ctx, PartKey(t.Run, t.Folder, rs.dateLabel, t.Group), body); err != nil {
		return res, fmt.Errorf("put part %s: %w", t.Group, err)
	}
	var all []ManifestFile
	for _, g := range t.Groups {
		raw, ok, err := coord.GetPart(ctx, PartKey(t.Run, t.Folder, rs.dateLabel, g))
		if err != nil {
			return res, fmt.Errorf("get part %s: %w", g, err)
		}
		if !ok {
			res.Waiting = append(res.Waiting, g)
			continue
		}
		var p Part
		if err := strictjson.Unmarshal(raw, &p); err != nil || p.Group != g {
			return res, fmt.Errorf("part %s is not a part of this export", g)
		}
		all = append(all, p.Files...)
	}
	if len(res.Waiting) == 0 {
		mbody, err := manifestBody(newManifest(rs, t.Folder, opt, all))
		if err != nil {
			return res, err
		}
		if res.Manifest, err = coord.CreateOnce(ctx, manifestKey, mbody); err != nil {
			return res, fmt.Errorf("create manifest: %w", err)
		}
	}
	log.InfoContext(ctx, "export task done", "run", t.Run, "folder", t.Folder, "date", rs.dateLabel, "group", t.Group,
		"sessions", sessions, "files", len(files), "manifest", res.Manifest, "waiting", len(res.Waiting),
		"ms", time.Since(started).Milliseconds())
	return res, nil
}
