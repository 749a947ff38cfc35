package reports

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/folders"
)

// Status filters of a Selection.
const (
	StatusAll                = "all"
	StatusActive             = "active"
	StatusClosed             = "closed"
	StatusNoOperatorResponse = "no-operator-response"
)

// Selection is what one export covers.
type Selection struct {
	// Folder is one folder, or "" for every folder (each gets its own tree
	// and manifest).
	Folder string
	// From and To are local dates (YYYY-MM-DD) in the export's time zone;
	// the window is [From 00:00, To 00:00) local. To "" means From + 1 day.
	From, To string
	// Status is all (""), active, closed or no-operator-response.
	Status string
	// WithTimes adds the `at` column to the line-level reports.
	WithTimes bool
	// Reports and Formats narrow the output; nil means all of them.
	Reports []string
	Formats []string
}

// Options are the export's settings (REPORT_TIMEZONE, PHRASES_TOP, PRICES …).
type Options struct {
	Location   *time.Location // nil means UTC
	PhrasesTop int            // <= 0 means DefaultPhrasesTop
	// Prices is the price per paid message by channel; missing costs 0.
	Prices map[string]float64
	// XLSXRowLimit is the rows per sheet, header included; <= 0 means XLSXMaxRows.
	XLSXRowLimit int
	// PageSize is the store listing's page size; <= 0 is the store's default.
	PageSize int
	// ParquetRowGroupRows/Bytes bound parquet-go's in-memory row group.
	ParquetRowGroupRows  int64
	ParquetRowGroupBytes int64
	Logger               *slog.Logger
	// Folders is FOLDERS: each folder's time zone (its day window and the
	// times in CSV/XLSX), prices and first-reply target (daily summary).
	// nil: every folder takes Location, Prices and the 60 s target.
	Folders *folders.Config
	// Summary: session links of the daily summary page.
	Summary SummaryOptions
}

// Manifest is manifest.json: every file of one folder's export and the
// selection it was made with. It carries no clock time, so a re-run writes
// the same bytes.
type Manifest struct {
	Folder    string            `json:"folder"`
	Date      string            `json:"date"`
	Selection ManifestSelection `json:"selection"`
	Files     []ManifestFile    `json:"files"`
}

// ManifestSelection records the selection, resolved (defaults filled in).
type ManifestSelection struct {
	Folder    string   `json:"folder"`
	From      string   `json:"from"`
	To        string   `json:"to"` // exclusive
	TimeZone  string   `json:"timeZone"`
	Status    string   `json:"status"`
	WithTimes bool     `json:"withTimes"`
	Reports   []string `json:"reports"`
	Formats   []string `json:"formats"`
}

// ManifestFile is one exported file.
type ManifestFile struct {
	Report string `json:"report"`
	Format string `json:"format"`
	Key    string `json:"key"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// KeyPrefix is where the export of folder for the given date label lives.
func KeyPrefix(folder, date string) string {
	return "reports/folder=" + folder + "/date=" + date + "/"
}

// ManifestKey is the manifest's key for a folder and date label.
func ManifestKey(folder, date string) string { return KeyPrefix(folder, date) + "manifest.json" }

// TableKey is the copy of a Parquet report under a per-report prefix, which
// an Athena table can point at: a table reads every file under its location
// and cannot name one file, and the day's prefix holds every report.
func TableKey(report, folder, date string) string {
	return "tables/" + report + "/folder=" + folder + "/date=" + date + "/" + report + ".parquet"
}

// AthenaTables are the reports also written under TableKey (as Parquet).
var AthenaTables = []string{"sessions", "operators"}

const dateLayout = time.DateOnly

// resolved is a validated selection.
type resolved struct {
	sel        Selection
	loc        *time.Location
	from, to   time.Time
	dateLabel  string
	reports    []reportDef
	formats    []string
	lineLevel  bool
	statusFunc func(*card.Card) bool
	// tableCopy: only an unfiltered one-day export feeds the Athena tables,
	// so an on-demand run with a status filter never replaces their data.
	tableCopy bool
}

func invalid(field, format string, args ...any) error {
	return card.Errorf(card.EINVALID, "reports", "%s: %s", field, fmt.Sprintf(format, args...))
}

// parseDay reads a local date at midnight in loc.
func parseDay(field, s string, loc *time.Location) (time.Time, error) {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, invalid(field, "%q is not a date YYYY-MM-DD", s)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
}

func resolve(sel Selection, loc *time.Location) (*resolved, error) {
	if loc == nil {
		loc = time.UTC
	}
	r := &resolved{sel: sel, loc: loc}
	if strings.ContainsAny(sel.Folder, "/\\") {
		return nil, invalid("folder", "must not contain a slash")
	}
	if sel.From == "" {
		return nil, invalid("from", "is required")
	}
	var err error
	if r.from, err = parseDay("from", sel.From, loc); err != nil {
		return nil, err
	}
	if sel.To == "" {
		r.to = r.from.AddDate(0, 0, 1)
		r.sel.To = r.to.Format(dateLayout)
	} else if r.to, err = parseDay("to", sel.To, loc); err != nil {
		return nil, err
	}
	if !r.to.After(r.from) {
		return nil, invalid("to", "must be after from (to is exclusive)")
	}
	if r.to.After(r.from.AddDate(1, 0, 1)) {
		return nil, invalid("to", "the window is longer than a year")
	}
	// The label names the included days: the last is the day before To.
	last := r.to.AddDate(0, 0, -1).Format(dateLayout)
	r.dateLabel = sel.From
	if last != sel.From {
		r.dateLabel += "-to-" + last
	}
	switch sel.Status {
	case "", StatusAll:
		r.sel.Status = StatusAll
		r.statusFunc = func(*card.Card) bool { return true }
	case StatusActive:
		r.statusFunc = func(c *card.Card) bool { return c.Active }
	case StatusClosed:
		r.statusFunc = func(c *card.Card) bool { return !c.Active }
	case StatusNoOperatorResponse:
		r.statusFunc = func(c *card.Card) bool { return c.NoOperatorResponse }
	default:
		return nil, invalid("status", "%q is not one of all, active, closed, no-operator-response", sel.Status)
	}
	names := sel.Reports
	if len(names) == 0 {
		names = ReportNames()
	}
	for i, n := range names {
		d, ok := lookupReport(n)
		if !ok {
			return nil, invalid(fmt.Sprintf("reports[%d]", i), "unknown report %q (known: %s)", n, strings.Join(ReportNames(), ", "))
		}
		if slices.ContainsFunc(r.reports, func(x reportDef) bool { return x.name == n }) {
			continue
		}
		r.reports = append(r.reports, d)
		r.lineLevel = r.lineLevel || d.lineLevel
	}
	formats := sel.Formats
	if len(formats) == 0 {
		formats = Formats()
	}
	for i, f := range formats {
		if !slices.Contains(Formats(), f) {
			return nil, invalid(fmt.Sprintf("formats[%d]", i), "unknown format %q (known: csv, xlsx, parquet)", f)
		}
		if !slices.Contains(r.formats, f) {
			r.formats = append(r.formats, f)
		}
	}
	r.tableCopy = r.sel.Status == StatusAll && r.dateLabel == sel.From
	r.sel.Reports = make([]string, len(r.reports))
	for i, d := range r.reports {
		r.sel.Reports[i] = d.name
	}
	r.sel.Formats = r.formats
	return r, nil
}

// Export writes the selected reports of every selected folder to sink and
// returns one manifest per folder. Each folder's manifest is written after
// all of its files; on error the folder being written leaves no file and no
// manifest behind (folders already finished keep theirs).
func Export(ctx context.Context, store cardstore.Store, sink Sink, sel Selection, opt Options) ([]Manifest, error) {
	r, err := resolve(sel, opt.Location)
	if err != nil {
		return nil, err
	}
	folders := []string{sel.Folder}
	if sel.Folder == "" {
		if folders, err = store.ListFolders(ctx); err != nil {
			return nil, fmt.Errorf("export: list folders: %w", err)
		}
	}
	var out []Manifest
	for _, f := range folders {
		if strings.ContainsAny(f, "/\\") || f == "" {
			return out, fmt.Errorf("export: folder %q cannot be a key prefix", f)
		}
		m, err := exportFolder(ctx, store, sink, r, f, opt)
		if err != nil {
			return out, fmt.Errorf("export folder %s: %w", f, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// output is one file being written.
type output struct {
	entry ManifestFile
	file  File
	count *countingWriter
	table tableWriter
	// committed files are removed again if a later step fails.
	committed bool
}

type countingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

type runningReport struct {
	def     reportDef
	r       report
	outs    []*output
	rows    int64
	emit    emitFunc
	columns []Column
}

func exportFolder(ctx context.Context, store cardstore.Store, sink Sink, rs *resolved, folder string, opt Options) (m Manifest, err error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	started := time.Now()
	prefix := KeyPrefix(folder, rs.dateLabel)
	manifestKey := prefix + "manifest.json"
	// A manifest from an earlier run would vouch for files this run is
	// about to replace: drop it first, so it only reappears once complete.
	if err := sink.Remove(ctx, manifestKey); err != nil {
		return m, err
	}
	fw, err := folderWindow(rs, folder, opt)
	if err != nil {
		return m, err
	}
	e := env{loc: fw.loc, withTimes: rs.sel.WithTimes, phrasesTop: opt.PhrasesTop, prices: fw.prices,
		summary: newSummaryEnv(folder, opt)}
	wopt := writerOptions{xlsxRowLimit: opt.XLSXRowLimit, parquetRowGroupRows: opt.ParquetRowGroupRows, parquetRowGroupBytes: opt.ParquetRowGroupBytes, loc: fw.loc}
	var all []*output
	defer func() {
		if err == nil {
			return
		}
		for _, o := range all {
			if o.committed {
				_ = sink.Remove(context.WithoutCancel(ctx), o.entry.Key)
			} else {
				_ = o.file.Abort()
			}
		}
	}()
	open := func(report, format, key string, cols []Column) (*output, error) {
		f, err := sink.Create(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", key, err)
		}
		o := &output{entry: ManifestFile{Report: report, Format: format, Key: key}, file: f,
			count: &countingWriter{w: f, h: sha256.New()}}
		all = append(all, o)
		if o.table, err = newTableWriter(format, o.count, report, cols, wopt); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return o, nil
	}
	running := make([]*runningReport, 0, len(rs.reports))
	for _, d := range rs.reports {
		rr := &runningReport{def: d, r: d.build(e)}
		rr.columns = rr.r.columns()
		for _, f := range rs.formats {
			o, err := open(d.name, f, prefix+d.name+"."+f, rr.columns)
			if err != nil {
				return m, err
			}
			rr.outs = append(rr.outs, o)
		}
		if rs.tableCopy && slices.Contains(AthenaTables, d.name) && slices.Contains(rs.formats, FormatParquet) {
			o, err := open(d.name, FormatParquet, TableKey(d.name, folder, rs.dateLabel), rr.columns)
			if err != nil {
				return m, err
			}
			rr.outs = append(rr.outs, o)
		}
		rr.emit = func(row Row) error {
			if len(row) != len(rr.columns) {
				return fmt.Errorf("report %s: row of %d cells for %d columns", d.name, len(row), len(rr.columns))
			}
			rr.rows++
			for _, o := range rr.outs {
				if err := o.table.WriteRow(row); err != nil {
					return fmt.Errorf("write %s: %w", o.entry.Key, err)
				}
			}
			return nil
		}
		running = append(running, rr)
	}

	var sessions int64
	lopt := cardstore.ListOptions{Limit: opt.PageSize, WithChatLog: rs.lineLevel}
	for {
		page, err := store.ListByStart(ctx, folder, fw.from, fw.to, lopt)
		if err != nil {
			return m, fmt.Errorf("list cards: %w", err)
		}
		for _, c := range page.Cards {
			if !rs.statusFunc(c) {
				continue
			}
			sessions++
			for _, rr := range running {
				if err := rr.r.card(c, rr.emit); err != nil {
					return m, err
				}
			}
		}
		if page.Next == "" {
			break
		}
		lopt.Cursor = page.Next
	}
	m = Manifest{Folder: folder, Date: rs.dateLabel, Files: []ManifestFile{}, Selection: ManifestSelection{
		Folder: folder, From: rs.sel.From, To: rs.sel.To, TimeZone: fw.loc.String(), Status: rs.sel.Status,
		WithTimes: rs.sel.WithTimes, Reports: rs.sel.Reports, Formats: rs.sel.Formats,
	}}
	for _, rr := range running {
		if err := rr.r.finish(rr.emit); err != nil {
			return m, err
		}
		for _, o := range rr.outs {
			if err := o.table.Close(); err != nil {
				return m, fmt.Errorf("finish %s: %w", o.entry.Key, err)
			}
			if err := o.file.Commit(); err != nil {
				return m, fmt.Errorf("commit %s: %w", o.entry.Key, err)
			}
			o.committed = true
			o.entry.Rows, o.entry.Bytes = rr.rows, o.count.n
			o.entry.SHA256 = hex.EncodeToString(o.count.h.Sum(nil))
			m.Files = append(m.Files, o.entry)
		}
	}
	// summary.html beside the reports (summarypage.go); removed again with
	// the reports if the manifest fails.
	pageFiles, err := writeSummaryPages(ctx, sink, rs, prefix, running)
	if err != nil {
		return m, err
	}
	for _, f := range pageFiles {
		all = append(all, &output{entry: f, committed: true})
		m.Files = append(m.Files, f)
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, fmt.Errorf("manifest: %w", err)
	}
	mf, err := sink.Create(ctx, manifestKey)
	if err != nil {
		return m, fmt.Errorf("create manifest: %w", err)
	}
	if _, err := mf.Write(append(body, '\n')); err != nil {
		return m, errors.Join(fmt.Errorf("write manifest: %w", err), mf.Abort())
	}
	if err := mf.Commit(); err != nil {
		return m, errors.Join(fmt.Errorf("commit manifest: %w", err), mf.Abort())
	}
	log.InfoContext(ctx, "export done", "folder", folder, "date", rs.dateLabel, "sessions", sessions,
		"files", len(m.Files), "ms", time.Since(started).Milliseconds())
	return m, nil
}
