package reports_test

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/chatcards/chatcards/shared/reports"
)

// glueColumns returns the Columns (not the PartitionKeys) of the Glue table
// resource named resource in a CloudFormation YAML text, as "name type".
func glueColumns(t *testing.T, doc, resource string) []string {
	t.Helper()
	start := strings.Index(doc, "\n  "+resource+":\n")
	if start < 0 {
		t.Fatalf("no resource %s", resource)
	}
	block := doc[start+1:]
	// The resource ends at the next line indented two spaces (the next
	// resource) or at a top-level key.
	if end := regexp.MustCompile(`\n(  [A-Za-z]|[A-Za-z])`).FindStringIndex(block[1:]); end != nil {
		block = block[:end[0]+1]
	}
	_, cols, ok := strings.Cut(block, "\n          Columns:\n")
	if !ok {
		t.Fatalf("%s has no Columns", resource)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^            - \{ Name: (\w+), Type: (\w+)`).FindAllStringSubmatch(cols, -1) {
		out = append(out, m[1]+" "+m[2])
	}
	return out
}

// parquetColumns is the schema of a report's Parquet file as Athena types,
// named as the Glue table names them (lower case; `folder` is the
// partition key, so the report's own column is `folder_name`).
func parquetColumns(t *testing.T, b []byte) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, field := range f.Schema().Fields() {
		name := strings.ToLower(field.Name())
		if name == "folder" {
			name = "folder_name"
		}
		typ := "?"
		var lv format.LogicalTypeValue
		if lt := field.Type().LogicalType(); lt != nil {
			lv = lt.Value
		}
		switch v := lv.(type) {
		case *format.TimestampType:
			if !v.IsAdjustedToUTC {
				t.Errorf("%s: timestamp not adjusted to UTC", field.Name())
			}
			typ = "timestamp"
		case *format.StringType:
			typ = "string"
		case *format.IntType:
			if v.BitWidth == 64 && v.IsSigned {
				typ = "bigint"
			}
		case nil:
			switch field.Type().Kind() {
			case parquet.Int64:
				typ = "bigint"
			case parquet.Boolean:
				typ = "boolean"
			case parquet.Double:
				typ = "double"
			}
		}
		out = append(out, name+" "+typ)
	}
	return out
}

// TestGlueTablesMatchParquet: the Glue tables of template.yaml and
// docs/glue.yaml list exactly the Parquet columns of their report, in
// order (the tables read columns by position) and with Athena's types.
func TestGlueTablesMatchParquet(t *testing.T) {
	template, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	glue, err := os.ReadFile("../../docs/glue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := export(t, fixtureCards(), reports.Selection{Folder: "acme", From: "2026-11-20", Reports: reports.AthenaTables, Formats: []string{"parquet"}}, reports.Options{})
	for _, r := range reports.AthenaTables {
		want := parquetColumns(t, readFile(t, dir, reports.TableKey(r, "acme", "2026-11-20")))
		resource := strings.ToUpper(r[:1]) + r[1:] + "Table"
		for file, doc := range map[string]string{"template.yaml": string(template), "docs/glue.yaml": string(glue)} {
			if d := cmp.Diff(want, glueColumns(t, doc, resource)); d != "" {
				t.Errorf("%s %s vs the Parquet schema (-parquet +glue):\n%s", file, resource, d)
			}
		}
	}
}
