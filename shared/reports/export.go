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
	"sync"
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
	// PageSize is the store listing's page size; <= 0 means DefaultPageSize.
	PageSize int
	// Parallel is how many folders a single-mode export writes at once;
	// <= 0 means DefaultParallel.
	Parallel int
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

// DefaultPageSize asks the card store for pages of 1,000 cards (DynamoDB's
// own 1 MB per Query still applies; the store loops to fill a page), ten
// times fewer round trips than the store's default of 100.
const DefaultPageSize = 1000

// DefaultParallel is how many folders a single-mode export writes at once.
const DefaultParallel = 4

// SplitXLSX are the line-level reports whose XLSX is split into files of at
// most XLSX_ROW_LIMIT rows (transcripts-0001.xlsx, …) rather than sheets: a
// further sheet makes excelize keep every sheet's XML on disk until the
// workbook is written, and a day of lines is many sheets (docs/export.md).
var SplitXLSX = []string{"transcripts", "client-phrases"}

// SplitKey is the key of part seq (from 1) of a split XLSX report.
func SplitKey(prefix, report string, seq int) string {
	return fmt.Sprintf("%s%s-%04d.xlsx", prefix, report, seq)
}

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

// parseDay reads a local date as its first instant in loc (midnight, or the
// jump when the clocks skip midnight: folders.DayStart).
func parseDay(field, s string, loc *time.Location) (time.Time, error) {
	d, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, invalid(field, "%q is not a date YYYY-MM-DD", s)
	}
	return folders.DayStart(d.Year(), d.Month(), d.Day(), loc), nil
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
// returns one manifest per folder, in folder order. Each folder's manifest is
// written after all of its files; a folder that fails leaves no file and no
// manifest behind. Up to Options.Parallel folders are written at once; a
// failing folder does not stop the others, and the error names every folder
// that failed.
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
	for _, f := range folders {
		if strings.ContainsAny(f, "/\\") || f == "" {
			return nil, fmt.Errorf("export: folder %q cannot be a key prefix", f)
		}
	}
	parallel := opt.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	results := make([]*Manifest, len(folders))
	errs := make([]error, len(folders))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, f := range folders {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			m, err := exportFolder(ctx, store, sink, r, f, opt)
			if err != nil {
				errs[i] = fmt.Errorf("export folder %s: %w", f, err)
				return
			}
			results[i] = &m
		})
	}
	wg.Wait()
	var out []Manifest
	for _, m := range results {
		if m != nil {
			out = append(out, *m)
		}
	}
	return out, errors.Join(errs...)
}

func exportFolder(ctx context.Context, store cardstore.Store, sink Sink, rs *resolved, folder string, opt Options) (Manifest, error) {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	started := time.Now()
	manifestKey := ManifestKey(folder, rs.dateLabel)
	// A manifest from an earlier run would vouch for files this run is
	// about to replace: drop it first, so it only reappears once complete.
	if err := sink.Remove(ctx, manifestKey); err != nil {
		return Manifest{}, err
	}
	files, sessions, err := exportReports(ctx, store, sink, rs, folder, rs.reports, opt)
	if err != nil {
		return Manifest{}, err
	}
	m := newManifest(rs, folder, opt, files)
	body, err := manifestBody(m)
	if err != nil {
		return m, err
	}
	rollback := func() {
		for _, f := range files {
			_ = sink.Remove(context.WithoutCancel(ctx), f.Key)
		}
	}
	mf, err := sink.Create(ctx, manifestKey)
	if err != nil {
		rollback()
		return m, fmt.Errorf("create manifest: %w", err)
	}
	if _, err := mf.Write(body); err != nil {
		rollback()
		return m, errors.Join(fmt.Errorf("write manifest: %w", err), mf.Abort())
	}
	if err := mf.Commit(); err != nil {
		rollback()
		return m, errors.Join(fmt.Errorf("commit manifest: %w", err), mf.Abort())
	}
	log.InfoContext(ctx, "export done", "folder", folder, "date", rs.dateLabel, "sessions", sessions,
		"files", len(m.Files), "ms", time.Since(started).Milliseconds())
	return m, nil
}

// newManifest lists files in the order of the selection's reports (stable
// within a report), so a fan-out export, whose parts finish in any order,
// writes the same manifest as a single run.
func newManifest(rs *resolved, folder string, opt Options, files []ManifestFile) Manifest {
	loc := rs.loc
	if fw, err := folderWindow(rs, folder, opt); err == nil {
		loc = fw.loc // the folder's zone (FOLDERS), which read the day
	}
	files = slices.Clone(files)
	if files == nil {
		files = []ManifestFile{}
	}
	slices.SortStableFunc(files, func(a, b ManifestFile) int {
		return slices.Index(rs.sel.Reports, a.Report) - slices.Index(rs.sel.Reports, b.Report)
	})
	return Manifest{Folder: folder, Date: rs.dateLabel, Files: files, Selection: ManifestSelection{
		Folder: folder, From: rs.sel.From, To: rs.sel.To, TimeZone: loc.String(), Status: rs.sel.Status,
		WithTimes: rs.sel.WithTimes, Reports: rs.sel.Reports, Formats: rs.sel.Formats,
	}}
}

func manifestBody(m Manifest) ([]byte, error) {
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return append(body, '\n'), nil
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

// fileOut is one file being written.
type fileOut struct {
	entry ManifestFile
	file  File
	count *countingWriter
	table tableWriter
	// committed files are removed again if a later step fails.
	committed bool
}

// output is one report in one format at one key, or, for a split XLSX
// report, a run of numbered files of at most perFile rows each.
type output struct {
	report, format string
	key            string               // the key of an unsplit output
	splitKey       func(seq int) string // the keys of a split one
	perFile        int64                // rows per split file
	cols           []Column
	cur            *fileOut
	rows           int64 // in cur
	seq            int
	done           []ManifestFile
	open           func(report, format, key string, cols []Column, wopt writerOptions) (*fileOut, error)
	wopt           writerOptions
}

func (o *output) next() error {
	key := o.key
	if o.splitKey != nil {
		o.seq++
		key = o.splitKey(o.seq)
	}
	f, err := o.open(o.report, o.format, key, o.cols, o.wopt)
	if err != nil {
		return err
	}
	o.cur, o.rows = f, 0
	return nil
}

func (o *output) write(row Row) error {
	if o.splitKey != nil && o.rows >= o.perFile {
		if err := o.finishFile(); err != nil {
			return err
		}
		if err := o.next(); err != nil {
			return err
		}
	}
	o.rows++
	if err := o.cur.table.WriteRow(row); err != nil {
		return fmt.Errorf("write %s: %w", o.cur.entry.Key, err)
	}
	return nil
}

func (o *output) finishFile() error {
	f := o.cur
	if err := f.table.Close(); err != nil {
		return fmt.Errorf("finish %s: %w", f.entry.Key, err)
	}
	if err := f.file.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", f.entry.Key, err)
	}
	f.committed = true
	// The clean-up list keeps every file until the task ends: let go of the
	// writer (an excelize workbook) now, so split files do not pile up.
	f.table = nil
	f.entry.Rows, f.entry.Bytes = o.rows, f.count.n
	f.entry.SHA256 = hex.EncodeToString(f.count.h.Sum(nil))
	o.done = append(o.done, f.entry)
	return nil
}

type runningReport struct {
	def     reportDef
	r       report
	outs    []*output
	emit    emitFunc
	columns []Column
}

// exportReports writes the given reports of one folder and returns their
// files (not yet in any manifest) and the sessions read. On error every file
// it started is aborted or removed again.
func exportReports(ctx context.Context, store cardstore.Store, sink Sink, rs *resolved, folder string, defs []reportDef, opt Options) (files []ManifestFile, sessions int64, err error) {
	prefix := KeyPrefix(folder, rs.dateLabel)
	// The folder's zone (FOLDERS) reads its day and writes its times.
	fw, err := folderWindow(rs, folder, opt)
	if err != nil {
		return nil, 0, err
	}
	e := env{loc: fw.loc, withTimes: rs.sel.WithTimes, phrasesTop: opt.PhrasesTop, prices: fw.prices,
		summary: newSummaryEnv(folder, opt)}
	wopt := writerOptions{xlsxRowLimit: opt.XLSXRowLimit, parquetRowGroupRows: opt.ParquetRowGroupRows, parquetRowGroupBytes: opt.ParquetRowGroupBytes, loc: fw.loc}
	var all []*fileOut
	var mu sync.Mutex // guards all: nothing writes concurrently today, but cleanup must see every file
	defer func() {
		if err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, f := range all {
			if f.committed {
				_ = sink.Remove(context.WithoutCancel(ctx), f.entry.Key)
			} else {
				_ = f.file.Abort()
			}
		}
	}()
	open := func(report, format, key string, cols []Column, wopt writerOptions) (*fileOut, error) {
		file, err := sink.Create(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", key, err)
		}
		f := &fileOut{entry: ManifestFile{Report: report, Format: format, Key: key}, file: file,
			count: &countingWriter{w: file, h: sha256.New()}}
		mu.Lock()
		all = append(all, f)
		mu.Unlock()
		if f.table, err = newTableWriter(format, f.count, report, cols, wopt); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		return f, nil
	}
	lineLevel := false
	running := make([]*runningReport, 0, len(defs))
	for _, d := range defs {
		lineLevel = lineLevel || d.lineLevel
		rr := &runningReport{def: d, r: d.build(e)}
		rr.columns = rr.r.columns()
		add := func(format, key string) error {
			o := &output{report: d.name, format: format, key: key, cols: rr.columns, open: open, wopt: wopt}
			if format == FormatXLSX && slices.Contains(SplitXLSX, d.name) {
				limit := opt.XLSXRowLimit
				if limit <= 1 || limit > XLSXMaxRows {
					limit = XLSXMaxRows
				}
				o.perFile = int64(limit - 1) // the header is a row
				o.splitKey = func(seq int) string { return SplitKey(prefix, d.name, seq) }
			}
			if err := o.next(); err != nil {
				return err
			}
			rr.outs = append(rr.outs, o)
			return nil
		}
		for _, f := range rs.formats {
			if err := add(f, prefix+d.name+"."+f); err != nil {
				return nil, 0, err
			}
		}
		if rs.tableCopy && slices.Contains(AthenaTables, d.name) && slices.Contains(rs.formats, FormatParquet) {
			if err := add(FormatParquet, TableKey(d.name, folder, rs.dateLabel)); err != nil {
				return nil, 0, err
			}
		}
		rr.emit = func(row Row) error {
			if len(row) != len(rr.columns) {
				return fmt.Errorf("report %s: row of %d cells for %d columns", d.name, len(row), len(rr.columns))
			}
			for _, o := range rr.outs {
				if err := o.write(row); err != nil {
					return err
				}
			}
			return nil
		}
		running = append(running, rr)
	}

	lopt := cardstore.ListOptions{Limit: opt.PageSize, WithChatLog: lineLevel}
	if lopt.Limit <= 0 {
		lopt.Limit = DefaultPageSize
	}
	err = eachPage(ctx, store, folder, fw.from, fw.to, lopt, func(cards []*card.Card) error {
		for _, c := range cards {
			if !rs.statusFunc(c) {
				continue
			}
			sessions++
			for _, rr := range running {
				if err := rr.r.card(c, rr.emit); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, sessions, err
	}
	for _, rr := range running {
		if err := rr.r.finish(rr.emit); err != nil {
			return nil, sessions, err
		}
		for _, o := range rr.outs {
			if err := o.finishFile(); err != nil {
				return nil, sessions, err
			}
			files = append(files, o.done...)
		}
	}
	// summary.html beside the reports, when daily-summary is among them
	// (summarypage.go); removed with the rest if anything later fails.
	pageFiles, err := writeSummaryPages(ctx, sink, rs, prefix, running)
	if err != nil {
		return nil, sessions, err
	}
	mu.Lock()
	for _, f := range pageFiles {
		all = append(all, &fileOut{entry: f, committed: true})
	}
	mu.Unlock()
	files = append(files, pageFiles...)
	return files, sessions, nil
}

// eachPage lists the cards of folder started in [from, to) and hands each
// page to fn, reading the next page while fn works on this one: the store's
// round trip overlaps the writing, and at most two pages are held.
func eachPage(ctx context.Context, store cardstore.Store, folder string, from, to time.Time, lopt cardstore.ListOptions, fn func([]*card.Card) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		page cardstore.Page
		err  error
	}
	pages := make(chan result, 1)
	go func() {
		defer close(pages)
		for {
			page, err := store.ListByStart(ctx, folder, from, to, lopt)
			select {
			case pages <- result{page, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || page.Next == "" {
				return
			}
			lopt.Cursor = page.Next
		}
	}()
	for r := range pages {
		if r.err != nil {
			return fmt.Errorf("list cards: %w", r.err)
		}
		if err := fn(r.page.Cards); err != nil {
			return err
		}
	}
	return ctx.Err()
}
