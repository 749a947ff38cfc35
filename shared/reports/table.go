// Package reports turns stored cards into the analyst reports of
// spec/reports.md and streams them as CSV, XLSX and Parquet files to S3 or a folder.
package reports

import (
	"strconv"
	"time"
)

// Kind is the type of a column; every writer maps it to its own typed cell.
type Kind uint8

const (
	KindString Kind = iota
	KindInt         // counts and durations in milliseconds or seconds
	KindBool
	KindTime  // an instant, milliseconds since the Unix epoch, UTC
	KindFloat // prices and costs
)

// Column is one column of a report table.
type Column struct {
	Name string
	Kind Kind
	// Nullable columns may hold empty cells; Parquet makes them optional.
	// A writer refuses an empty cell in a column that is not Nullable, so a
	// value that can be absent must be declared here (reports.md: absent is
	// NULL in Parquet and an empty cell elsewhere, never "" or 0).
	Nullable bool
}

// Cell is one value; Null is an empty cell. Only the field of the column's
// Kind is read (I for KindInt and KindTime).
type Cell struct {
	Null bool
	S    string
	I    int64
	B    bool
	F    float64
}

// Row is one table row, one Cell per column.
type Row []Cell

// str is a text cell; "" is no text at all, so it is an empty (null) cell:
// no report writes "" as a value.
func str(s string) Cell {
	if s == "" {
		return null()
	}
	return Cell{S: s}
}
func num(n int64) Cell     { return Cell{I: n} }
func boolean(b bool) Cell  { return Cell{B: b} }
func float(f float64) Cell { return Cell{F: f} }
func null() Cell           { return Cell{Null: true} }

func optNum(p *int64) Cell {
	if p == nil {
		return null()
	}
	return num(*p)
}

// timeCell parses a card time (RFC 3339); a missing or unreadable time is an
// empty cell rather than a failed export.
func timeCell(s string) Cell {
	ms, ok := parseMillis(s)
	if !ok {
		return null()
	}
	return num(ms)
}

func parseMillis(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// TimeLayout is how CSV writes an instant: RFC 3339 with milliseconds and
// the numeric offset of the folder's zone at that instant (also "+00:00"
// in UTC, never "Z", so that a column reads one way throughout).
const TimeLayout = "2006-01-02T15:04:05.000-07:00"

// text renders a cell as CSV text; times are read on loc's clock.
func (c Cell) text(k Kind, loc *time.Location) string {
	if c.Null {
		return ""
	}
	switch k {
	case KindInt:
		return strconv.FormatInt(c.I, 10)
	case KindBool:
		return strconv.FormatBool(c.B)
	case KindTime:
		return time.UnixMilli(c.I).In(loc).Format(TimeLayout)
	case KindFloat:
		return strconv.FormatFloat(c.F, 'f', -1, 64)
	}
	return c.S
}
