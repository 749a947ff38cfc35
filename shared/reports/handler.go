package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/folders"
)

// Config is the export settings of the environment, read once at start-up
// (the card store's own settings are config.StoreFromEnv's).
type Config struct {
	ReportsBucket string
	// Formats of the scheduled run (REPORT_FORMATS).
	Formats []string
	// Mode is ModeSingle (this invocation writes everything) or ModeFanout
	// (it plans tasks onto QueueURL for the worker) — EXPORT_MODE.
	Mode     string
	QueueURL string // EXPORT_QUEUE_URL, required in fan-out mode
	Options  Options
}

// Export modes (EXPORT_MODE).
const (
	ModeSingle = "single"
	ModeFanout = "fanout"
)

// ConfigFromEnv reads the export settings; an error names the bad variable.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{ReportsBucket: strings.TrimSpace(getenv("REPORTS_BUCKET")), Mode: ModeSingle}
	switch m := strings.TrimSpace(getenv("EXPORT_MODE")); m {
	case "", ModeSingle:
	case ModeFanout:
		c.Mode = m
		if c.QueueURL = strings.TrimSpace(getenv("EXPORT_QUEUE_URL")); c.QueueURL == "" {
			return c, errors.New("EXPORT_QUEUE_URL: is required when EXPORT_MODE is fanout")
		}
	default:
		return c, fmt.Errorf("EXPORT_MODE: %q is not single or fanout", m)
	}
	c.Options.Location = time.UTC
	if tz := getenv("REPORT_TIMEZONE"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return c, fmt.Errorf("REPORT_TIMEZONE: %q is not an IANA time zone name", tz)
		}
		c.Options.Location = loc
	}
	c.Formats = Formats()
	if v := getenv("REPORT_FORMATS"); v != "" {
		fs, err := ParseList(v, Formats())
		if err != nil {
			return c, fmt.Errorf("REPORT_FORMATS: %w", err)
		}
		c.Formats = fs
	}
	if v := getenv("PHRASES_TOP"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			return c, fmt.Errorf("PHRASES_TOP: %q is not a whole number from 1 to 1000000", v)
		}
		c.Options.PhrasesTop = n
	}
	if v := getenv("PRICES"); v != "" {
		p, err := ParsePrices([]byte(v))
		if err != nil {
			return c, fmt.Errorf("PRICES: %w", err)
		}
		c.Options.Prices = p
	}
	// FOLDERS: each folder's zone and first-reply target for the daily
	// summary; a bad value stops the function at start-up (analytics.md).
	fc, err := folders.FromEnv(getenv)
	if err != nil {
		return c, err
	}
	c.Options.Folders = fc
	if v := getenv("XLSX_ROW_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 || n > XLSXMaxRows {
			return c, fmt.Errorf("XLSX_ROW_LIMIT: %q is not a whole number from 2 to %d", v, XLSXMaxRows)
		}
		c.Options.XLSXRowLimit = n
	}
	return c, nil
}

// ParseList reads a comma-separated list whose items must be in known.
func ParseList(v string, known []string) ([]string, error) {
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		ok := false
		for _, k := range known {
			ok = ok || k == s
		}
		if !ok {
			return nil, fmt.Errorf("%q is not one of %s", s, strings.Join(known, ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, errors.New("the list is empty")
	}
	return out, nil
}

// ParsePrices reads PRICES: a JSON object channel → price per message.
func ParsePrices(b []byte) (map[string]float64, error) {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("want a JSON object of channel to price per message: %w", err)
	}
	for ch, p := range m {
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("price of channel %q must be zero or more", ch)
		}
	}
	return m, nil
}

// Event is the on-demand invocation. Absent fields take their defaults.
type Event struct {
	Folder    *string  `json:"folder"`
	From      *string  `json:"from"`
	To        *string  `json:"to"`
	Reports   []string `json:"reports"`
	Formats   []string `json:"formats"`
	Status    *string  `json:"status"`
	WithTimes *bool    `json:"withTimes"`
}

// ParseEvent reads an invocation: an EventBridge "Scheduled Event", the
// Scheduler payload {"scheduled": true}, or an on-demand Event. A scheduled
// run exports the previous local day (of now in loc) for every folder in
// the given formats. Errors are EINVALID and name the field.
func ParseEvent(raw []byte, loc *time.Location, now time.Time, scheduledFormats []string) (Selection, bool, error) {
	if loc == nil {
		loc = time.UTC
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return Selection{}, false, invalid("event", "is not a JSON object")
	}
	scheduled := false
	if dt, ok := keys["detail-type"]; ok {
		var s string
		if err := json.Unmarshal(dt, &s); err != nil || s != "Scheduled Event" {
			return Selection{}, false, invalid("detail-type", "only \"Scheduled Event\" envelopes are accepted")
		}
		scheduled = true
	} else if sv, ok := keys["scheduled"]; ok {
		var b bool
		if err := json.Unmarshal(sv, &b); err != nil || !b || len(keys) != 1 {
			return Selection{}, false, invalid("scheduled", "must be true and alone in the event")
		}
		scheduled = true
	}
	if scheduled {
		today := now.In(loc)
		// Calendar arithmetic on the date alone: a local midnight the
		// clocks skip would land on the evening before.
		day := time.Date(today.Year(), today.Month(), today.Day()-1, 0, 0, 0, 0, time.UTC)
		return Selection{From: day.Format(dateLayout), Status: StatusAll, WithTimes: true, Formats: scheduledFormats}, true, nil
	}
	var e Event
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Selection{}, false, invalid(te.Field, "has the wrong type (want %s)", te.Type)
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return Selection{}, false, invalid(strings.Trim(f, `"`), "is not a known field")
		}
		return Selection{}, false, invalid("event", "is not valid JSON")
	}
	sel := Selection{WithTimes: true, Reports: e.Reports, Formats: e.Formats}
	if e.Folder != nil {
		sel.Folder = *e.Folder
	}
	if e.From == nil || *e.From == "" {
		return Selection{}, false, invalid("from", "is required (YYYY-MM-DD)")
	}
	sel.From = *e.From
	if e.To != nil {
		if *e.To == "" {
			return Selection{}, false, invalid("to", "is empty; leave it out for one day")
		}
		sel.To = *e.To
	}
	if e.Status != nil {
		sel.Status = *e.Status
	}
	if e.WithTimes != nil {
		sel.WithTimes = *e.WithTimes
	}
	if e.Reports != nil && len(e.Reports) == 0 {
		return Selection{}, false, invalid("reports", "is empty; leave it out for every report")
	}
	if e.Formats != nil && len(e.Formats) == 0 {
		return Selection{}, false, invalid("formats", "is empty; leave it out for every format")
	}
	// Validate everything now so the caller hears about a bad field before any work.
	if _, err := resolve(sel, loc); err != nil {
		return Selection{}, false, err
	}
	return sel, false, nil
}

// Handler runs the export Lambda: parse the event, export, report what was written.
type Handler struct {
	Store  cardstore.Store
	Sink   Sink
	Config Config
	Now    func() time.Time
	Logger *slog.Logger
	// Margin is stopped short of the Lambda deadline so a failing export
	// still has time to abort its uploads. Zero means 15 s.
	Margin time.Duration
	// Queue receives the tasks in fan-out mode (Config.Mode); NewRun names
	// a run (nil means NewRunID).
	Queue  TaskQueue
	NewRun func(time.Time) string
}

// Result is what the function returns.
type Result struct {
	Scheduled bool `json:"scheduled"`
	// Exports are the folders written, in single mode.
	Exports []ExportResult `json:"exports"`
	// In fan-out mode: the run, the tasks queued, and the folders whose
	// manifests will appear (Files 0) once the workers are done.
	Run     string         `json:"run,omitempty"`
	Tasks   int            `json:"tasks,omitempty"`
	Planned []ExportResult `json:"planned,omitempty"`
}

// ExportResult summarises one folder's export.
type ExportResult struct {
	Folder   string `json:"folder"`
	Date     string `json:"date"`
	Manifest string `json:"manifest"`
	Files    int    `json:"files"`
}

// Handle is the Lambda handler.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (Result, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	opt := h.Config.Options
	opt.Logger = log
	formats := h.Config.Formats
	if len(formats) == 0 {
		formats = Formats()
	}
	sel, scheduled, err := ParseEvent(raw, opt.Location, now(), formats)
	if err != nil {
		log.WarnContext(ctx, "export event rejected", "error", err.Error())
		return Result{}, err
	}
	if dl, ok := ctx.Deadline(); ok {
		margin := h.Margin
		if margin <= 0 {
			margin = 15 * time.Second
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-margin))
		defer cancel()
	}
	if h.Config.Mode == ModeFanout {
		return h.plan(ctx, sel, scheduled, opt, now())
	}
	log.InfoContext(ctx, "export start", "scheduled", scheduled, "folder", sel.Folder, "from", sel.From, "to", sel.To)
	ms, err := Export(ctx, h.Store, h.Sink, sel, opt)
	res := Result{Scheduled: scheduled, Exports: []ExportResult{}}
	for _, m := range ms {
		res.Exports = append(res.Exports, ExportResult{Folder: m.Folder, Date: m.Date, Manifest: ManifestKey(m.Folder, m.Date), Files: len(m.Files)})
	}
	if err != nil {
		log.ErrorContext(ctx, "export failed", "error", err.Error(), "code", string(card.ErrorCode(err)), "folders_done", len(ms))
		return res, err
	}
	return res, nil
}

// plan queues one task per folder and report group (fan-out mode).
func (h *Handler) plan(ctx context.Context, sel Selection, scheduled bool, opt Options, now time.Time) (Result, error) {
	log := opt.Logger
	newRun := h.NewRun
	if newRun == nil {
		newRun = NewRunID
	}
	if h.Queue == nil {
		return Result{}, errors.New("export: fan-out mode without a queue")
	}
	run := newRun(now)
	tasks, err := Plan(ctx, h.Store, sel, opt, run)
	if err != nil {
		log.ErrorContext(ctx, "export plan failed", "run", run, "error", err.Error(), "code", string(card.ErrorCode(err)))
		return Result{}, err
	}
	res := Result{Scheduled: scheduled, Exports: []ExportResult{}, Run: run, Tasks: len(tasks), Planned: []ExportResult{}}
	for _, t := range tasks {
		if n := len(res.Planned); n == 0 || res.Planned[n-1].Folder != t.Folder {
			rs, err := resolve(t.selection(), opt.Location)
			if err != nil {
				return Result{}, err
			}
			res.Planned = append(res.Planned, ExportResult{Folder: t.Folder, Date: rs.dateLabel, Manifest: ManifestKey(t.Folder, rs.dateLabel)})
		}
	}
	if err := h.Queue.Send(ctx, tasks); err != nil {
		log.ErrorContext(ctx, "export plan not queued", "run", run, "tasks", len(tasks), "error", err.Error())
		return res, err
	}
	log.InfoContext(ctx, "export planned", "run", run, "scheduled", scheduled, "from", sel.From, "to", sel.To,
		"folders", len(res.Planned), "tasks", len(tasks))
	return res, nil
}
