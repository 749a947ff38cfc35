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

func str(s string) Cell    { return Cell{S: s} }
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

// text renders a cell as CSV text. Times are RFC 3339 UTC with milliseconds,
// the one time format of cards.
func (c Cell) text(k Kind) string {
	if c.Null {
		return ""
	}
	switch k {
	case KindInt:
		return strconv.FormatInt(c.I, 10)
	case KindBool:
		return strconv.FormatBool(c.B)
	case KindTime:
		return time.UnixMilli(c.I).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	case KindFloat:
		return strconv.FormatFloat(c.F, 'f', -1, 64)
	}
	return c.S
}
