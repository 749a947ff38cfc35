package reports

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/parquet-go/parquet-go"
	"github.com/xuri/excelize/v2"
)

// Formats every writer knows, in the default order.
const (
	FormatCSV     = "csv"
	FormatXLSX    = "xlsx"
	FormatParquet = "parquet"
)

// Formats returns the supported formats.
func Formats() []string { return []string{FormatCSV, FormatXLSX, FormatParquet} }

// XLSXMaxRows is the Excel sheet limit, header row included.
const XLSXMaxRows = 1_048_576

// xlsxMaxCellChars is Excel's cell limit in UTF-16 code units.
const xlsxMaxCellChars = 32_767

// xlsxTruncated ends a text cut to fit an XLSX cell; CSV and Parquet keep the text whole.
const xlsxTruncated = "…[truncated]"

// writerOptions tune the file writers.
type writerOptions struct {
	xlsxRowLimit int // rows per sheet, header included
	// parquetRowGroupRows and parquetRowGroupBytes bound the row group
	// parquet-go buffers in memory before writing it out.
	parquetRowGroupRows  int64
	parquetRowGroupBytes int64
	// loc is the folder's time zone: CSV and XLSX show times on its clock;
	// Parquet keeps UTC instants. nil means UTC.
	loc *time.Location
}

// tableWriter writes one table to one file.
type tableWriter interface {
	WriteRow(Row) error
	// Close finishes the file (footer, zip directory); the output is then complete.
	Close() error
}

func newTableWriter(format string, out io.Writer, sheet string, cols []Column, opt writerOptions) (tableWriter, error) {
	loc := opt.loc
	if loc == nil {
		loc = time.UTC
	}
	var w tableWriter
	var err error
	switch format {
	case FormatCSV:
		w, err = newCSVWriter(out, cols, loc)
	case FormatXLSX:
		w, err = newXLSXWriter(out, sheet, cols, opt.xlsxRowLimit, loc)
	case FormatParquet:
		w, err = newParquetWriter(out, cols, opt)
	default:
		return nil, fmt.Errorf("unknown format %q", format)
	}
	if err != nil {
		return nil, err
	}
	return checkedWriter{w, cols}, nil
}

// checkedWriter refuses a row that does not fit the columns: the wrong
// length, or an empty cell in a column not declared Nullable (which would
// be a required Parquet column, and a report bug).
type checkedWriter struct {
	tableWriter
	cols []Column
}

func (c checkedWriter) WriteRow(r Row) error {
	if len(r) != len(c.cols) {
		return fmt.Errorf("row of %d cells for %d columns", len(r), len(c.cols))
	}
	for i, col := range c.cols {
		if r[i].Null && !col.Nullable {
			return fmt.Errorf("column %s: empty cell in a column that is never empty", col.Name)
		}
	}
	return c.tableWriter.WriteRow(r)
}

// formulaRisk reports whether a spreadsheet could read text as a formula:
// it starts with = + - @ after optional white space, or with a tab or CR.
func formulaRisk(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '\t' || s[0] == '\r' {
		return true
	}
	t := strings.TrimLeft(s, " \t\r\n")
	return t != "" && strings.IndexByte("=+-@", t[0]) >= 0
}

// ---- CSV ----

// csvWriter writes RFC 4180: CRLF after each record, fields with a comma,
// quote, CR or LF quoted, quotes doubled. It is not encoding/csv because
// that writer, in CRLF mode, drops a lone CR and turns LF into CRLF inside
// fields; this one keeps every byte of the text.
type csvWriter struct {
	w    *bufio.Writer
	cols []Column
	loc  *time.Location
}

func newCSVWriter(out io.Writer, cols []Column, loc *time.Location) (*csvWriter, error) {
	c := &csvWriter{w: bufio.NewWriterSize(out, 64<<10), cols: cols, loc: loc}
	for i, col := range cols {
		c.field(i, col.Name)
	}
	if _, err := c.w.WriteString("\r\n"); err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	return c, nil
}

func (c *csvWriter) field(i int, s string) {
	if i > 0 {
		c.w.WriteByte(',')
	}
	if !needsQuotes(s) {
		c.w.WriteString(s)
		return
	}
	c.w.WriteByte('"')
	for {
		j := strings.IndexByte(s, '"')
		if j < 0 {
			break
		}
		c.w.WriteString(s[:j+1])
		c.w.WriteByte('"')
		s = s[j+1:]
	}
	c.w.WriteString(s)
	c.w.WriteByte('"')
}

func needsQuotes(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',', '"', '\r', '\n':
			return true
		}
	}
	return false
}

func (c *csvWriter) WriteRow(r Row) error {
	for i, col := range c.cols {
		s := r[i].text(col.Kind, c.loc)
		if col.Kind == KindString && formulaRisk(s) {
			// The quote makes every spreadsheet take the cell as text.
			s = "'" + s
		}
		c.field(i, s)
	}
	_, err := c.w.WriteString("\r\n")
	return err
}

func (c *csvWriter) Close() error {
	return c.w.Flush()
}

// ---- XLSX ----

// fixedDocTime keeps XLSX document properties constant so that a re-run
// writes byte-identical files.
const fixedDocTime = "2000-01-01T00:00:00Z"

type xlsxWriter struct {
	f      *excelize.File
	out    io.Writer
	base   string
	cols   []Column
	sw     *excelize.StreamWriter
	row    int // last row written in the current sheet
	sheets int
	limit  int
	loc    *time.Location
	// timeStyles holds one date style per UTC offset met (a zone has two
	// or three): the cell is the local wall time, and its number format
	// shows that instant's offset as literal text, since Excel dates carry
	// no zone. See xlsxTimeFormat.
	timeStyles map[int]int
	vals       []any
}

// xlsxTimeFormat is the number format of a time cell whose local offset is
// offset seconds east of UTC: the CSV text form, e.g.
// 2026-11-20T11:00:41.000+02:00, with the offset a literal.
func xlsxTimeFormat(offset int) string {
	sign := '+'
	if offset < 0 {
		sign, offset = '-', -offset
	}
	return fmt.Sprintf(`yyyy-mm-dd"T"hh:mm:ss.000"%c%02d:%02d"`, sign, offset/3600, offset/60%60)
}

// timeStyle is the style of a time cell with the given offset.
func (x *xlsxWriter) timeStyle(offset int) (int, error) {
	if id, ok := x.timeStyles[offset]; ok {
		return id, nil
	}
	f := xlsxTimeFormat(offset)
	id, err := x.f.NewStyle(&excelize.Style{CustomNumFmt: &f})
	if err != nil {
		return 0, fmt.Errorf("xlsx time style: %w", err)
	}
	x.timeStyles[offset] = id
	return id, nil
}

func newXLSXWriter(out io.Writer, sheet string, cols []Column, limit int, loc *time.Location) (*xlsxWriter, error) {
	if limit <= 0 || limit > XLSXMaxRows {
		limit = XLSXMaxRows
	}
	if limit < 2 {
		limit = 2 // a header and at least one row per sheet
	}
	f := excelize.NewFile()
	x := &xlsxWriter{f: f, out: out, base: sheet, cols: cols, limit: limit, loc: loc,
		timeStyles: map[int]int{}, vals: make([]any, len(cols))}
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		f.Close()
		return nil, fmt.Errorf("xlsx sheet %q: %w", sheet, err)
	}
	if err := x.startSheet(sheet); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) startSheet(name string) error {
	x.sheets++
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("xlsx sheet %q: %w", name, err)
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("xlsx freeze header: %w", err)
	}
	header := make([]any, len(x.cols))
	for i, c := range x.cols {
		header[i] = c.Name
	}
	if err := sw.SetRow("A1", header); err != nil {
		return fmt.Errorf("xlsx header: %w", err)
	}
	x.sw, x.row = sw, 1
	return nil
}

func (x *xlsxWriter) WriteRow(r Row) error {
	if x.row >= x.limit {
		if err := x.sw.Flush(); err != nil {
			return fmt.Errorf("xlsx flush sheet: %w", err)
		}
		name := fmt.Sprintf("%s %d", x.base, x.sheets+1)
		if _, err := x.f.NewSheet(name); err != nil {
			return fmt.Errorf("xlsx new sheet %q: %w", name, err)
		}
		if err := x.startSheet(name); err != nil {
			return err
		}
	}
	for i, col := range x.cols {
		c := r[i]
		if c.Null {
			x.vals[i] = nil
			continue
		}
		switch col.Kind {
		case KindInt:
			x.vals[i] = c.I
		case KindBool:
			x.vals[i] = c.B
		case KindFloat:
			x.vals[i] = c.F
		case KindTime:
			local := time.UnixMilli(c.I).In(x.loc)
			_, offset := local.Zone()
			style, err := x.timeStyle(offset)
			if err != nil {
				return err
			}
			// The wall time as a zone-less date: excelize writes a
			// time.Time's UTC reading, so the wall clock is moved to UTC.
			wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(),
				local.Second(), local.Nanosecond(), time.UTC)
			x.vals[i] = excelize.Cell{StyleID: style, Value: wall}
		default:
			// The stream writer stores text as inline strings, which no
			// spreadsheet evaluates, so formula-like text stays as written.
			x.vals[i] = fitCell(c.S)
		}
	}
	x.row++
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	if err := x.sw.SetRow(cell, x.vals); err != nil {
		return fmt.Errorf("xlsx row %d: %w", x.row, err)
	}
	return nil
}

// fitCell cuts text longer than an Excel cell holds and marks the cut.
func fitCell(s string) string {
	// A UTF-8 string has at least as many bytes as UTF-16 units.
	if len(s) <= xlsxMaxCellChars || units(s) <= xlsxMaxCellChars {
		return s
	}
	limit := xlsxMaxCellChars - units(xlsxTruncated)
	n := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if n+w > limit {
			return s[:i] + xlsxTruncated
		}
		n += w
	}
	return s
}

func units(s string) int {
	n := 0
	for _, r := range s {
		if w := utf16.RuneLen(r); w > 0 {
			n += w
		} else {
			n++
		}
	}
	return n
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("xlsx flush sheet: %w", err)
	}
	if err := x.f.SetDocProps(&excelize.DocProperties{
		Created: fixedDocTime, Modified: fixedDocTime, Creator: "chatcards", LastModifiedBy: "chatcards",
	}); err != nil {
		return fmt.Errorf("xlsx properties: %w", err)
	}
	// excelize builds the whole zip in a memory buffer before writing it
	// out; a zip writer of our own streams it to the output instead, so the
	// workbook's size never sits in memory. Nothing reaches excelize's buffer.
	var zerr error
	x.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		// One sheet is one stream entry: only several need ordering.
		return &orderedZip{zw: zip.NewWriter(x.out), err: &zerr, flushed: x.sheets == 1}
	})
	if err := x.f.Write(refuseWrites{}); err != nil {
		return fmt.Errorf("xlsx write: %w", err)
	}
	if zerr != nil {
		return fmt.Errorf("xlsx write: %w", zerr)
	}
	return nil
}

// refuseWrites fails if excelize ever writes through its own buffer, which
// the streaming zip writer should have left empty.
type refuseWrites struct{}

func (refuseWrites) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return 0, errors.New("excelize wrote outside the streaming zip writer")
}

// orderedZip writes the sheets in name order. excelize writes the streamed
// sheets first, in map order, which would make a workbook with several
// sheets differ from run to run: sheet entries are spooled to temporary
// files and written sorted before the first other entry.
type orderedZip struct {
	zw      *zip.Writer
	pending []spooled
	flushed bool
	err     *error
}

type spooled struct {
	name string
	f    *os.File
}

func (z *orderedZip) Create(name string) (io.Writer, error) {
	if !z.flushed && strings.HasPrefix(name, "xl/worksheets/sheet") {
		f, err := os.CreateTemp("", "chatcards-xlsx-*")
		if err != nil {
			return nil, err
		}
		z.pending = append(z.pending, spooled{name, f})
		return f, nil
	}
	if err := z.flush(); err != nil {
		return nil, err
	}
	return z.zw.Create(name)
}

func (z *orderedZip) flush() error {
	if z.flushed {
		return nil
	}
	z.flushed = true
	slices.SortFunc(z.pending, func(a, b spooled) int { return strings.Compare(a.name, b.name) })
	defer func() {
		for _, p := range z.pending {
			p.f.Close()
			os.Remove(p.f.Name())
		}
	}()
	for _, p := range z.pending {
		w, err := z.zw.Create(p.name)
		if err != nil {
			return err
		}
		if _, err := p.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(w, p.f); err != nil {
			return err
		}
	}
	return nil
}

func (z *orderedZip) AddFS(fsys fs.FS) error { return z.zw.AddFS(fsys) }

func (z *orderedZip) Close() error {
	err := errors.Join(z.flush(), z.zw.Close())
	if err != nil && *z.err == nil {
		*z.err = err
	}
	return err
}

// ---- Parquet ----

const (
	defaultRowGroupRows  = 50_000
	defaultRowGroupBytes = 16 << 20
	parquetBatch         = 256
)

type parquetWriter struct {
	w        *parquet.GenericWriter[any]
	cols     []Column
	batch    []parquet.Row
	n        int
	groupMax int64
	groupB   int64
}

// parquetSchema builds the schema from a struct type made at run time,
// because parquet.Group sorts its fields by name and the reports keep the
// spec's column order.
func parquetSchema(cols []Column) *parquet.Schema {
	fields := make([]reflect.StructField, len(cols))
	for i, c := range cols {
		tag := c.Name
		var typ reflect.Type
		switch c.Kind {
		case KindInt:
			typ = reflect.TypeFor[int64]()
		case KindBool:
			typ = reflect.TypeFor[bool]()
		case KindFloat:
			typ = reflect.TypeFor[float64]()
		case KindTime:
			typ = reflect.TypeFor[int64]()
			tag += ",timestamp(millisecond:utc)"
		default:
			typ = reflect.TypeFor[string]()
		}
		if c.Nullable {
			tag += ",optional"
		}
		fields[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: typ, Tag: reflect.StructTag(`parquet:"` + tag + `"`)}
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Elem().Interface())
}

func newParquetWriter(out io.Writer, cols []Column, opt writerOptions) (*parquetWriter, error) {
	rows := opt.parquetRowGroupRows
	if rows <= 0 {
		rows = defaultRowGroupRows
	}
	bytes := opt.parquetRowGroupBytes
	if bytes <= 0 {
		bytes = defaultRowGroupBytes
	}
	cfg, err := parquet.NewWriterConfig(
		parquetSchema(cols),
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(rows),
		// A fixed creator string: the default embeds the build, which would
		// make files differ between two builds of the same code.
		parquet.CreatedBy("chatcards", "1", "reports"),
	)
	if err != nil {
		return nil, fmt.Errorf("parquet config: %w", err)
	}
	p := &parquetWriter{w: parquet.NewGenericWriter[any](out, cfg), cols: cols, groupMax: bytes}
	p.batch = make([]parquet.Row, parquetBatch)
	for i := range p.batch {
		p.batch[i] = make(parquet.Row, len(cols))
	}
	return p, nil
}

func (p *parquetWriter) WriteRow(r Row) error {
	row := p.batch[p.n]
	for i, col := range p.cols {
		c := r[i]
		def := 0
		if col.Nullable {
			def = 1
		}
		if c.Null {
			row[i] = parquet.NullValue().Level(0, 0, i)
			continue
		}
		var v parquet.Value
		switch col.Kind {
		case KindInt, KindTime:
			v = parquet.Int64Value(c.I)
			p.groupB += 8
		case KindBool:
			v = parquet.BooleanValue(c.B)
			p.groupB++
		case KindFloat:
			v = parquet.DoubleValue(c.F)
			p.groupB += 8
		default:
			v = parquet.ByteArrayValue([]byte(c.S))
			p.groupB += int64(len(c.S))
		}
		row[i] = v.Level(0, def, i)
	}
	p.n++
	if p.n == len(p.batch) {
		return p.flushBatch()
	}
	return nil
}

func (p *parquetWriter) flushBatch() error {
	if p.n > 0 {
		if _, err := p.w.WriteRows(p.batch[:p.n]); err != nil {
			return fmt.Errorf("parquet rows: %w", err)
		}
		p.n = 0
	}
	// Long texts make a row group large before the row limit is reached:
	// cut it by size too so memory stays bounded.
	if p.groupB >= p.groupMax {
		p.groupB = 0
		if err := p.w.Flush(); err != nil {
			return fmt.Errorf("parquet row group: %w", err)
		}
	}
	return nil
}

func (p *parquetWriter) Close() error {
	if err := p.flushBatch(); err != nil {
		return err
	}
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("parquet close: %w", err)
	}
	return nil
}
