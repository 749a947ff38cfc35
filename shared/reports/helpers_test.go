package reports_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/xuri/excelize/v2"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// sliceStore is a cardstore.Store over a fixed slice: pages of pageSize,
// chat logs only when asked for, so tests see exactly what the export reads.
type sliceStore struct {
	cardstore.Store // only the listing methods are implemented
	cards           []*card.Card
	pageSize        int
	withLogCalls    int
	pages           int
	onPage          func(n int) // called before the n-th page (1-based) is returned
	mu              sync.Mutex  // folders are listed in parallel
}

func (s *sliceStore) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages++
	if s.onPage != nil {
		s.onPage(s.pages)
	}
	if err := ctx.Err(); err != nil {
		return cardstore.Page{}, err
	}
	var sel []*card.Card
	for _, c := range s.cards {
		t, err := time.Parse(time.RFC3339Nano, c.StartedAt)
		if err != nil {
			return cardstore.Page{}, err
		}
		if c.Folder == folder && !t.Before(from) && t.Before(to) {
			sel = append(sel, c)
		}
	}
	slices.SortStableFunc(sel, func(a, b *card.Card) int {
		ta, _ := time.Parse(time.RFC3339Nano, a.StartedAt)
		tb, _ := time.Parse(time.RFC3339Nano, b.StartedAt)
		return ta.Compare(tb)
	})
	start := 0
	if opt.Cursor != "" {
		start, _ = strconv.Atoi(opt.Cursor)
	}
	size := s.pageSize
	if size <= 0 {
		size = 2
	}
	end := min(start+size, len(sel))
	page := cardstore.Page{}
	if opt.WithChatLog {
		s.withLogCalls++
	}
	for _, c := range sel[start:end] {
		cp := *c
		if !opt.WithChatLog {
			cp.ChatLog = nil
		}
		page.Cards = append(page.Cards, &cp)
	}
	if end < len(sel) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

func (s *sliceStore) ListFolders(context.Context) ([]string, error) {
	var fs []string
	for _, c := range s.cards {
		if !slices.Contains(fs, c.Folder) {
			fs = append(fs, c.Folder)
		}
	}
	slices.Sort(fs)
	return fs, nil
}

func i64(n int64) *int64 { return &n }

// fixtureCards are three hand-made cards of folder "acme" on 2026-11-20 UTC
// plus one in folder "beta".
func fixtureCards() []*card.Card {
	c1 := card.New("acme", "s-1", "2026-11-20T09:00:00.000Z")
	c1.Channel, c1.Language = "web", "en"
	c1.Active, c1.Status = false, "closed"
	c1.EndTime = "2026-11-20T09:10:00.500Z"
	c1.Customer, c1.SupportPerson = "cust-1", "agent-ann"
	c1.Members = []string{"cust-1", "agent-ann", "agent-bob"}
	c1.MessageCount = 5
	c1.WaitBeforeFirstReplyMs = i64(4000)
	c1.AgentGreetingMs = i64(1500)
	c1.RelatedTickets = []string{"INC-1", "INC-2"}
	c1.Markers = []string{"vip", "refund"}
	c1.Pages = []string{"https://shop.example/cart", "https://shop.example/"}
	c1.Statistics = stats.Statistics{
		"ChatServerSessionStartedAt":  stats.Str("2026-11-20T09:00:00.000Z"),
		"ChatServerSessionClosedAt":   stats.Str("2026-11-20T09:10:00.500Z"),
		"csg_ChatSessionID":           stats.Str("s-1"),
		"csg_LanguageName":            stats.Str("en"),
		"csg_MediaOrigin":             stats.Str("web"),
		"csg_ChatAsyncMode":           stats.Str("0"),
		"csg_SessionTotalTime":        stats.Num(600),
		"csg_MessagesFromAgentsCount": stats.Num(2), "csg_MessagesFromAgentsSize": stats.Num(20),
		"csg_MessagesFromCustomersCount": stats.Num(2), "csg_MessagesFromCustomersSize": stats.Num(11),
		"csg_MessagesFromBotsCount": stats.Num(1), "csg_MessagesFromBotsSize": stats.Num(5),
		"csg_PartiesAsAgentCount":     stats.Num(2),
		"csg_SessionEndedBy":          stats.Str("CLIENT"),
		"csg_SessionEndedReason":      stats.Str("QUIT"),
		"csg_SessionEndedAgent":       stats.Str("PRESENT"),
		"cse_SessionHandleTotalCount": stats.Num(1),
		"cse_SessionHandleTotalTime":  stats.Num(420),
		"cse_AgentReplyTotalCount":    stats.Num(2), "cse_AgentReplyTotalTime": stats.Num(9), "cse_AgentReplyMaxTime": stats.Num(5),
	}
	c1.Agents = []stats.Agent{
		{Participant: "a1", Person: "agent-ann", Name: "Ann", Messages: 1, ReplyCount: 1, ReplyTotalMs: 4000, ReplyMaxMs: 4000, ReplyAvgMs: i64(4000), PresenceMs: 300000},
		{Participant: "a2", Person: "agent-bob", Name: "Bob", Messages: 1, ReplyCount: 1, ReplyTotalMs: 5001, ReplyMaxMs: 5001, ReplyAvgMs: i64(5001), PresenceMs: 120000},
	}
	c1.ResponseTimes = stats.ResponseTimes{
		AgentReply:   &stats.Group{Count: 2, TotalMs: 9001, MaxMs: 5001, AvgMs: 4501},
		CustomerWait: &stats.Group{Count: 2, TotalMs: 9001, MaxMs: 5001, AvgMs: 4501},
	}
	c1.Productivity = stats.Productivity{OperatorMessages: 2, ClientMessages: 2, BotMessages: 1}
	// The analytics.md figures: Ann sent the first reply (met), each agent
	// answered one pair, the customer rated the chat.
	c1.Rating = &stats.Rating{Score: 4, Comment: "quick, thanks"}
	c1.ServiceLevel = stats.ServiceLevelMet
	c1.FirstReplyBy = "a1"
	c1.BusinessHours = &stats.BusinessHours{WaitBeforeFirstReplyMs: i64(1000)}
	c1.PlatformFigures = []byte(`{"platform":"zendesk","response_time":{"first":3}}`)
	c1.ResponseSamples = stats.ResponseSamples{CustomerWaitMs: []int64{4000, 5001}, CustomerWaitBy: []string{"a1", "a2"}}
	c1.ChatLog = []stats.LogEntry{
		{At: "2026-11-20T09:00:01.000Z", Participant: "bot", Role: "bot", Name: "Botty", Text: "Hello"},
		{At: "2026-11-20T09:00:02.000Z", Participant: "c", Role: "customer", Name: "Cy", Text: "  Refund, please!! "},
		{At: "2026-11-20T09:00:06.000Z", Participant: "a1", Role: "agent", Name: "Ann", Text: "Sure thing, one sec"},
		{At: "2026-11-20T09:00:07.000Z", Participant: "c", Role: "customer", Name: "Cy", File: &stats.File{Name: "receipt.pdf", ContentType: "application/pdf", Size: 10}},
		{At: "2026-11-20T09:00:08.000Z", Participant: "c", Role: "customer", Name: "Cy", Text: "refund   PLEASE"},
	}

	c2 := card.New("acme", "s-2", "2026-11-20T12:00:00.000Z")
	c2.Channel = "whatsapp"
	c2.MessageCount = 2
	c2.Customer = "cust-2"
	c2.Members = []string{"cust-2"}
	c2.Pages = []string{"https://shop.example/"}
	c2.Statistics = stats.Statistics{
		"ChatServerSessionStartedAt":     stats.Str("2026-11-20T12:00:00.000Z"),
		"csg_ChatSessionID":              stats.Str("s-2"),
		"csg_ChatAsyncMode":              stats.Str("1"),
		"csg_MessagesFromCustomersCount": stats.Num(1), "csg_MessagesFromCustomersSize": stats.Num(6),
		"csg_MessagesFromBotsCount": stats.Num(1), "csg_MessagesFromBotsSize": stats.Num(3),
	}
	c2.Productivity = stats.Productivity{ClientMessages: 1, BotMessages: 1}
	c2.ChatLog = []stats.LogEntry{
		{At: "2026-11-20T12:00:01.000Z", Participant: "c", Role: "customer", Text: "REFUND please."},
		{At: "2026-11-20T12:00:02.000Z", Participant: "bot", Role: "bot", Text: "Hi!"},
	}

	c3 := card.New("acme", "s-3", "2026-11-20T23:30:00.000Z")
	c3.Channel = "web"
	c3.Active, c3.Status = false, "closed"
	c3.EndTime = "2026-11-20T23:35:00.000Z"
	c3.Abandoned, c3.NoOperatorResponse = true, true
	// Missed for want of any reply: credited to no agent.
	c3.ServiceLevel = stats.ServiceLevelMissed
	c3.Statistics = stats.Statistics{
		"csg_SessionEndedBy":     stats.Str("CLIENT"),
		"csg_SessionEndedReason": stats.Str("QUIT"),
		"csg_SessionEndedAgent":  stats.Str("ABSENT"),
	}

	b1 := card.New("beta", "b-1", "2026-11-20T10:00:00.000Z")
	b1.Channel = "web"
	return []*card.Card{c3, c1, c2, b1}
}

// table is a file read back as strings, header first.
type table [][]string

func readCSV(t *testing.T, b []byte) table {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("read csv: %v", err)
	}
	return recs
}

// readXLSX returns every sheet's rows, header rows included, with raw values.
func readXLSX(t *testing.T, b []byte) map[string]table {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("open xlsx: %v", err)
	}
	defer f.Close()
	out := map[string]table{}
	for _, s := range f.GetSheetList() {
		rows, err := f.GetRows(s, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatalf("xlsx rows: %v", err)
		}
		out[s] = rows
	}
	return out
}

// readParquet returns the rows rendered as CSV would render them.
// emptyString marks a Parquet text value "" (not NULL), which no report may write.
const emptyString = "<\"\" instead of NULL>"

// parquetZone is the zone readParquet renders the UTC instants in, so that
// they compare with CSV text of that zone.
var parquetZone = time.UTC

func readParquet(t *testing.T, b []byte) table {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open parquet: %v", err)
	}
	schema := f.Schema()
	var header []string
	for _, field := range schema.Fields() {
		header = append(header, field.Name())
	}
	out := table{header}
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rows.ReadRows(buf)
			for _, r := range buf[:n] {
				rec := make([]string, len(header))
				for _, v := range r {
					col := v.Column()
					if v.IsNull() {
						continue
					}
					lt := schema.Fields()[col].Type().LogicalType()
					switch {
					case lt != nil && strings.HasPrefix(lt.String(), "TIMESTAMP"):
						rec[col] = time.UnixMilli(v.Int64()).In(parquetZone).Format(reports.TimeLayout)
					case v.Kind() == parquet.Boolean:
						rec[col] = strconv.FormatBool(v.Boolean())
					case v.Kind() == parquet.Int64:
						rec[col] = strconv.FormatInt(v.Int64(), 10)
					case v.Kind() == parquet.Double:
						rec[col] = strconv.FormatFloat(v.Double(), 'f', -1, 64)
					default:
						rec[col] = string(v.ByteArray())
						if rec[col] == "" {
							// reports.md: an absent value is NULL, never "".
							rec[col] = emptyString
						}
					}
				}
				out = append(out, rec)
			}
			if err != nil {
				break
			}
		}
		rows.Close()
	}
	return out
}

func readFile(t *testing.T, dir, key string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

func export(t *testing.T, cards []*card.Card, sel reports.Selection, opt reports.Options) (string, []reports.Manifest) {
	t.Helper()
	dir := t.TempDir()
	ms, err := reports.Export(context.Background(), &sliceStore{cards: cards}, &reports.DirSink{Root: dir}, sel, opt)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	return dir, ms
}

func key(folder, date, report, ext string) string {
	if ext == "xlsx" && slices.Contains(reports.SplitXLSX, report) {
		return reports.SplitKey(reports.KeyPrefix(folder, date), report, 1)
	}
	return fmt.Sprintf("reports/folder=%s/date=%s/%s.%s", folder, date, report, ext)
}

type cardT = card.Card

func newCard(folder, id, startedAt string) *card.Card {
	c := card.New(folder, id, startedAt)
	c.Channel = "web"
	return c
}
