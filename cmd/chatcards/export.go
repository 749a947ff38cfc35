package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/config"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/progress"
	"github.com/chatcards/chatcards/shared/reports"
)

func init() {
	register("export", command{
		summary: "export the analyst reports of a day (DynamoDB at TABLE_NAME) to -out DIR or REPORTS_BUCKET",
		help: `Writes the analyst reports (docs/reports.md) of the selected days and folders:
one file per report and format plus a manifest.json per folder, under -out
DIR or in REPORTS_BUCKET. Prints one line per file written. A progress line
(cards read, rate) every few seconds when stderr is a terminal or -progress
is given; the total is not known before the listing ends. Exit 1 when the
export fails.

Environment:
  TABLE_NAME (required), CARDS_BUCKET, RETENTION_DAYS: the card store
  REPORTS_BUCKET: where reports go without -out
  REPORT_TIMEZONE (default UTC), REPORT_FORMATS (default csv,xlsx,parquet),
  PHRASES_TOP, PRICES, XLSX_ROW_LIMIT: as the export function reads them
  FOLDERS: each folder's zone (its day and the times in CSV/XLSX), prices
           and first-reply target
  SHARE_KEY / SHARE_KEY_SECRET, SHARE_BASE_URL: summary.html links to share
           links of the dialog view, as the export function's do
  AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3, ...: the AWS SDK's own.`,
		run: runExport,
	})
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := config.Getenv(os.Getenv)
	// A bad setting is reported after the flags are parsed, so -h works
	// whatever the environment.
	cfg, cfgErr := reports.ConfigFromEnv(env)
	if cfgErr == nil {
		// As the export function: each folder's zone and prices from FOLDERS.
		cfg.Options.Folders, cfgErr = folders.FromEnv(env)
	}
	if cfgErr == nil {
		// As the export functions: summary.html links its longest waits to
		// share links when SHARE_KEY (or _SECRET) and SHARE_BASE_URL are set.
		cfgErr = app.SummaryLinks(ctx, env, app.Deps{}, &cfg.Options.Summary)
	}
	fs := newFlags("export", stderr)
	folder := fs.String("folder", "", "one folder (default: every folder)")
	from := fs.String("from", "", "first local day YYYY-MM-DD in REPORT_TIMEZONE (default: yesterday)")
	to := fs.String("to", "", "end local day, exclusive (default: from + 1 day)")
	reportList := fs.String("reports", "", "comma-separated reports (default: all): "+strings.Join(reports.ReportNames(), ","))
	formatList := fs.String("formats", strings.Join(cfg.Formats, ","), "comma-separated formats: csv,xlsx,parquet")
	status := fs.String("status", "all", "all, active, closed or no-operator-response")
	withTimes := fs.Bool("with-times", true, "add the time of each line to the line-level reports")
	out := fs.String("out", "", "write the report tree to this folder instead of REPORTS_BUCKET")
	showProgress := progressFlag(fs)
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if cfgErr != nil {
		fmt.Fprintf(stderr, "export: %v\n", cfgErr)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "export: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var err error
	loc := cfg.Options.Location
	if *from == "" {
		now := time.Now().In(loc)
		// The date alone (UTC arithmetic): a local midnight the clocks skip
		// would land on the evening before.
		*from = time.Date(now.Year(), now.Month(), now.Day()-1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
	}
	sel := reports.Selection{Folder: *folder, From: *from, To: *to, Status: *status, WithTimes: *withTimes}
	if *reportList != "" {
		if sel.Reports, err = reports.ParseList(*reportList, reports.ReportNames()); err != nil {
			fmt.Fprintf(stderr, "export: -reports: %v\n", err)
			return 2
		}
	}
	if sel.Formats, err = reports.ParseList(*formatList, reports.Formats()); err != nil {
		fmt.Fprintf(stderr, "export: -formats: %v\n", err)
		return 2
	}

	storeCfg, err := config.StoreFromEnv(env)
	if err != nil {
		fmt.Fprintf(stderr, "export: %v\n", err)
		return 2
	}
	if storeCfg.Table == "" {
		// An embedded store would be empty in a one-shot command.
		fmt.Fprintln(stderr, "export: TABLE_NAME is required (AWS_ENDPOINT_URL_DYNAMODB points it at an emulator)")
		return 2
	}
	if *out == "" && cfg.ReportsBucket == "" {
		fmt.Fprintln(stderr, "export: give -out DIR or set REPORTS_BUCKET")
		return 2
	}
	awsCfg, err := config.AWS(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "export: %v\n", err)
		return 1
	}
	store, err := config.OpenStore(awsCfg, storeCfg)
	if err != nil {
		fmt.Fprintf(stderr, "export: %v\n", err)
		return 1
	}
	var sink reports.Sink = &reports.DirSink{Root: *out}
	if *out == "" {
		if sink, err = reports.NewS3Sink(config.S3(awsCfg), cfg.ReportsBucket, 0); err != nil {
			fmt.Fprintf(stderr, "export: %v\n", err)
			return 1
		}
	}
	opt := cfg.Options
	opt.Logger = slog.New(slog.NewJSONHandler(stderr, nil))
	if meter := progressOut(fs, *showProgress, stderr); meter != nil {
		rep := progress.Start(meter, "export", "cards read", 0, progress.Options{})
		defer rep.Stop()
		store = &countingStore{Store: store, byStart: func(n int, _ bool) { rep.Add(int64(n)) }}
	}
	return printExport(ctx, store, sink, sel, opt, stdout, stderr)
}

// printExport runs the export and prints one line per file and manifest.
func printExport(ctx context.Context, store cardstore.Store, sink reports.Sink, sel reports.Selection, opt reports.Options, stdout, stderr io.Writer) int {
	ms, err := reports.Export(ctx, store, sink, sel, opt)
	for _, m := range ms {
		for _, f := range m.Files {
			fmt.Fprintf(stdout, "%s\t%d rows\t%d bytes\n", f.Key, f.Rows, f.Bytes)
		}
		fmt.Fprintln(stdout, reports.ManifestKey(m.Folder, m.Date))
	}
	if err != nil {
		fmt.Fprintf(stderr, "export: %v\n", err)
		return 1
	}
	if len(ms) == 0 {
		fmt.Fprintln(stderr, "export: no folder has any card")
	}
	return 0
}
