package reports

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/pages"
)

// SummaryPageReport and SummaryPageFormat name summary.html in the manifest
// (and so in GET /v1/reports).
const (
	SummaryPageReport = "summary"
	SummaryPageFormat = "html"
)

// SummaryOptions are the export's settings for the daily summary and its page.
type SummaryOptions struct {
	// SessionLink is the address of a session's dialog view on the page,
	// e.g. a share link. nil: the API path /v1/chat-sessions/{id}?folder=F.
	SessionLink func(folder, sessionID string) string
	// LinkNote tells the reader what SessionLink's links open; "" with a
	// SessionLink says nothing.
	LinkNote string
}

// summaryEnv is what the daily-summary report needs beyond env: the folder
// and its settings (the export runs one folder at a time).
type summaryEnv struct {
	folder   string
	settings *folders.Settings
	opt      SummaryOptions
}

func newSummaryEnv(folder string, opt Options) summaryEnv {
	e := summaryEnv{folder: folder, opt: opt.Summary}
	if opt.Folders != nil {
		e.settings = opt.Folders.For(folder)
	}
	return e
}

// SummaryPageName is the file name of a day's page: summary.html for a
// one-day export, summary-<date>.html for each day of a longer window.
func SummaryPageName(date string, oneDay bool) string {
	if oneDay {
		return "summary.html"
	}
	return "summary-" + date + ".html"
}

// windowDates lists the local dates of the export window.
func windowDates(rs *resolved) []string {
	var out []string
	for d := rs.from; d.Before(rs.to); d = folders.DayStart(d.Year(), d.Month(), d.Day()+1, rs.loc) {
		out = append(out, d.Format(dateLayout))
	}
	return out
}

// writeSummaryPages writes summary.html for every day of the window, from
// the daily-summary report among running (nothing when it was not selected:
// the page is that report's view). A day without sessions still gets its
// page, which says so. It returns the pages' manifest entries; on error it
// removes the pages it had already written, so the caller only has to list
// the entries and remove them if a later step (the manifest) fails.
func writeSummaryPages(ctx context.Context, sink Sink, rs *resolved, prefix string, running []*runningReport) (files []ManifestFile, err error) {
	var ds *dailySummaryReport
	for _, rr := range running {
		if r, ok := rr.r.(*dailySummaryReport); ok {
			ds = r
		}
	}
	if ds == nil {
		return nil, nil
	}
	defer func() {
		if err != nil {
			for _, f := range files {
				_ = sink.Remove(context.WithoutCancel(ctx), f.Key)
			}
			files = nil
		}
	}()
	dates := windowDates(rs)
	for _, date := range dates {
		d, err := ds.day(date)
		if err != nil {
			return files, err
		}
		var buf bytes.Buffer
		if err := pages.Summary(&buf, d, ds.pageOptions()); err != nil {
			return files, fmt.Errorf("summary page %s: %w", date, err)
		}
		key := prefix + SummaryPageName(date, len(dates) == 1)
		f, err := sink.Create(ctx, key)
		if err != nil {
			return files, fmt.Errorf("create %s: %w", key, err)
		}
		if _, err := f.Write(buf.Bytes()); err != nil {
			return files, errors.Join(fmt.Errorf("write %s: %w", key, err), f.Abort())
		}
		if err := f.Commit(); err != nil {
			return files, errors.Join(fmt.Errorf("commit %s: %w", key, err), f.Abort())
		}
		sum := sha256.Sum256(buf.Bytes())
		files = append(files, ManifestFile{Report: SummaryPageReport, Format: SummaryPageFormat, Key: key,
			Rows: d.Sessions, Bytes: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])})
	}
	return files, nil
}

// ContentTypeOf is the Content-Type an exported file is stored with, by its
// extension, so that a download link opens summary.html as a page and the
// tables as what they are.
func ContentTypeOf(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".html":
		return pages.SummaryContentType
	case ".csv":
		return "text/csv; charset=utf-8"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".parquet":
		return "application/vnd.apache.parquet"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}
