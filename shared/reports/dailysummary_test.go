package reports_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// summaryCards are hand-worked: folder acme, in Asia/Tokyo (UTC+9) by FOLDERS.
//
//	d-1 20 Nov 23:00Z = 21 Nov 08:00 JST: agent ann, met, first reply 4000, pairs 1000 3000, rated 5
//	d-2 21 Nov 01:00Z = 21 Nov 10:00 JST: agent bob, missed, first reply 90000, pair 2000, rated 3
//	d-3 21 Nov 02:00Z = 21 Nov 11:00 JST: bot contained, rated 4
//	d-4 20 Nov 10:00Z = 20 Nov 19:00 JST: active, nothing else
func summaryCards() []*card.Card {
	mk := func(id, start string) *card.Card {
		c := newCard("acme", id, start)
		c.Active, c.Status = false, "closed"
		c.ResponseSamples.CustomerWaitMs = []int64{}
		c.Statistics = stats.Statistics{"csg_SessionEndedBy": stats.Str("CLIENT"), "csg_SessionEndedReason": stats.Str("QUIT")}
		return c
	}
	d1 := mk("d-1", "2026-11-20T23:00:00.000Z")
	d1.SupportPerson, d1.Agents = "ann", []stats.Agent{{Participant: "a", Person: "ann", Name: "Ann"}}
	d1.ServiceLevel, d1.WaitBeforeFirstReplyMs = "met", i64(4000)
	d1.ResponseSamples.CustomerWaitMs = []int64{1000, 3000}
	d1.Rating = &stats.Rating{Score: 5}
	d2 := mk("d-2", "2026-11-21T01:00:00.000Z")
	d2.SupportPerson, d2.Agents = "bob", []stats.Agent{{Participant: "b", Person: "bob", Name: "Bob"}}
	d2.ServiceLevel, d2.WaitBeforeFirstReplyMs = "missed", i64(90000)
	d2.ResponseSamples.CustomerWaitMs = []int64{2000}
	d2.Rating = &stats.Rating{Score: 3}
	d3 := mk("d-3", "2026-11-21T02:00:00.000Z")
	d3.BotContained = true
	d3.Rating = &stats.Rating{Score: 4}
	d4 := newCard("acme", "d-4", "2026-11-20T10:00:00.000Z")
	return []*card.Card{d4, d1, d2, d3}
}

func tokyoFolders(t *testing.T) *folders.Config {
	t.Helper()
	cfg, err := folders.Parse([]byte(`{"acme": {"timeZone": "Asia/Tokyo", "firstReplyTarget": "45s"}}`), folders.Defaults{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const dailyHeader = "folder|day|timeZone|sessions|closed|handoffs|botContained|botContainedShare|abandoned|serviceLevelMet|serviceLevelMissed|serviceLevelAttainment|firstReplySessions|firstReplyMedianMs|firstReplyP90Ms|firstReplyMaxMs|customerWaitPairs|customerWaitMedianMs|customerWaitP90Ms|ratedSessions|averageScore|csat"

func TestDailySummaryEveryFormat(t *testing.T) {
	// The window is read in REPORT_TIMEZONE = Tokyo too, so both local days
	// are whole: 20 Nov (d-4) and 21 Nov (d-1, d-2, d-3).
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	opt := reports.Options{Location: tokyo, Folders: tokyoFolders(t)}
	dir, ms := export(t, summaryCards(), reports.Selection{Folder: "acme", From: "2026-11-20", To: "2026-11-22",
		Reports: []string{"daily-summary"}}, opt)
	want := split(dailyHeader,
		// d-4 only: active, no figure to measure: every optional cell empty.
		"acme|2026-11-20|Asia/Tokyo|1|0|0|0|0|0|0|0||0||||0|||0||",
		// 3 sessions, 3 closed, 2 handoffs, bot 1/3 = 0.3333, attainment 1/2;
		// first replies {4000, 90000}: median 4000 (lower middle), p90 90000;
		// pairs {1000, 2000, 3000}: median 2000, p90 3000; scores 5, 3, 4:
		// average 4, CSAT 2/3 = 0.6667.
		"acme|2026-11-21|Asia/Tokyo|3|3|2|1|0.3333|0|1|1|0.5|2|4000|90000|90000|3|2000|3000|3|4|0.6667")
	label := "2026-11-20-to-2026-11-21"
	got := map[string]table{
		"csv":     readCSV(t, readFile(t, dir, key("acme", label, "daily-summary", "csv"))),
		"parquet": readParquet(t, readFile(t, dir, key("acme", label, "daily-summary", "parquet"))),
	}
	for name, sheet := range readXLSX(t, readFile(t, dir, key("acme", label, "daily-summary", "xlsx"))) {
		// excelize's reader leaves trailing empty cells out of a row.
		for i := range sheet {
			for len(sheet[i]) < len(want[0]) {
				sheet[i] = append(sheet[i], "")
			}
		}
		got["xlsx "+name] = sheet
	}
	for f, tab := range got {
		if d := cmp.Diff(want, tab); d != "" {
			t.Errorf("%s (-want +got):\n%s", f, d)
		}
	}
	// Two days: two pages, each in the manifest as summary/html.
	var pagesSeen []string
	for _, f := range ms[0].Files {
		if f.Report != reports.SummaryPageReport {
			continue
		}
		b := readFile(t, dir, f.Key)
		sum := sha256.Sum256(b)
		if f.Format != "html" || f.Bytes != int64(len(b)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest entry %+v does not match the file", f)
		}
		pagesSeen = append(pagesSeen, f.Key[strings.LastIndex(f.Key, "/")+1:]+":"+strconv.FormatInt(f.Rows, 10))
		page := string(b)
		if !strings.Contains(page, "Asia/Tokyo") || !strings.Contains(page, "target 45 s") {
			t.Errorf("%s: not in the folder's zone or without its target", f.Key)
		}
	}
	if got, want := strings.Join(pagesSeen, " "), "summary-2026-11-20.html:1 summary-2026-11-21.html:3"; got != want {
		t.Errorf("pages %s, want %s", got, want)
	}
}

func TestSummaryPageOneDayAndLinks(t *testing.T) {
	opt := reports.Options{Summary: reports.SummaryOptions{
		SessionLink: func(folder, id string) string { return "https://share.example/s/" + folder + "/" + id + "?t=tok" },
		LinkNote:    "Links are share links valid 7 days.",
	}}
	dir, ms := export(t, fixtureCards(), reports.Selection{Folder: "acme", From: "2026-11-20", Formats: []string{"csv"}}, opt)
	k := "reports/folder=acme/date=2026-11-20/summary.html"
	page := string(readFile(t, dir, k))
	if !strings.Contains(page, `href="https://share.example/s/acme/s-1?t=tok"`) || !strings.Contains(page, "share links valid 7 days") {
		t.Error("the caller's session link is not used")
	}
	found := false
	for _, f := range ms[0].Files {
		found = found || f.Key == k
	}
	if !found {
		t.Errorf("manifest does not list %s", k)
	}
	// Without daily-summary there is no page.
	_, ms = export(t, fixtureCards(), reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"sessions"}, Formats: []string{"csv"}}, reports.Options{})
	if len(ms[0].Files) != 1 {
		t.Errorf("files %+v, want only sessions.csv", ms[0].Files)
	}
}

// ctS3 records the Content-Type each object is stored with.
type ctS3 struct {
	*fakeS3
	mu    sync.Mutex
	types map[string]string
}

func (c *ctS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.note(*in.Key, in.ContentType)
	return c.fakeS3.PutObject(ctx, in, o...)
}

func (c *ctS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	c.note(*in.Key, in.ContentType)
	return c.fakeS3.CreateMultipartUpload(ctx, in, o...)
}

func (c *ctS3) note(key string, ct *string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ct == nil {
		c.types[key] = ""
		return
	}
	c.types[key] = *ct
}

func TestS3ContentTypes(t *testing.T) {
	fs := &ctS3{fakeS3: newFakeS3(), types: map[string]string{}}
	sink, err := reports.NewS3Sink(fs, "bucket", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Export(t.Context(), &sliceStore{cards: fixtureCards()}, sink,
		reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"daily-summary"}}, reports.Options{}); err != nil {
		t.Fatal(err)
	}
	p := "reports/folder=acme/date=2026-11-20/"
	want := map[string]string{
		p + "summary.html":          "text/html; charset=utf-8",
		p + "daily-summary.csv":     "text/csv; charset=utf-8",
		p + "daily-summary.xlsx":    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		p + "daily-summary.parquet": "application/vnd.apache.parquet",
		p + "manifest.json":         "application/json",
	}
	if d := cmp.Diff(want, fs.types); d != "" {
		t.Errorf("content types (-want +got):\n%s", d)
	}
}

func TestConfigReadsFolders(t *testing.T) {
	env := map[string]string{"FOLDERS": `{"acme": {"timeZone": "Asia/Tokyo", "firstReplyTarget": "45s"}}`}
	c, err := reports.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s := c.Options.Folders.For("acme")
	if s.Location.String() != "Asia/Tokyo" || s.FirstReplyTarget != 45*time.Second {
		t.Errorf("acme settings %v %v", s.Location, s.FirstReplyTarget)
	}
	env["FOLDERS"] = `{"acme": {"timeZone": "Mars/Olympus"}}`
	if _, err := reports.ConfigFromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "FOLDERS") {
		t.Errorf("bad FOLDERS: %v, want an error naming FOLDERS", err)
	}
}

// A failure while writing a page or the manifest leaves no object behind:
// neither the reports nor the pages.
func TestFailedSummaryExportLeavesNothing(t *testing.T) {
	for _, fail := range []string{"summary-2026-11-21.html", "manifest.json"} {
		t.Run(fail, func(t *testing.T) {
			fs := newFakeS3()
			fs.failPut = fail
			sink, err := reports.NewS3Sink(fs, "bucket", 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = reports.Export(t.Context(), &sliceStore{cards: fixtureCards()}, sink,
				reports.Selection{Folder: "acme", From: "2026-11-20", To: "2026-11-22", Reports: []string{"daily-summary", "sessions"}}, reports.Options{})
			if err == nil {
				t.Fatal("export succeeded")
			}
			if len(fs.objects) != 0 {
				var keys []string
				for k := range fs.objects {
					keys = append(keys, k)
				}
				t.Errorf("objects left: %v", keys)
			}
		})
	}
}
