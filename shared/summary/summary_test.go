package summary

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/stats"
)

func i64(n int64) *int64     { return &n }
func f64(f float64) *float64 { return &f }

// mk builds a closed card of folder "f" started at the UTC instant start.
func mk(id, start string, opts ...func(*card.Card)) *card.Card {
	c := card.New("f", id, start)
	c.Active, c.Status = false, "closed"
	c.ResponseSamples.CustomerWaitMs = []int64{}
	c.Statistics = stats.Statistics{"csg_SessionEndedBy": stats.Str("CLIENT"), "csg_SessionEndedReason": stats.Str("QUIT")}
	for _, o := range opts {
		o(c)
	}
	return c
}

func active(c *card.Card) { c.Active, c.Status = true, "active"; c.Statistics = stats.Statistics{} }
func first(ms int64) func(*card.Card) {
	return func(c *card.Card) { c.WaitBeforeFirstReplyMs = &ms }
}
func waits(ms ...int64) func(*card.Card) {
	return func(c *card.Card) { c.ResponseSamples.CustomerWaitMs = ms }
}
func agent(person, name string) func(*card.Card) {
	return func(c *card.Card) {
		c.SupportPerson = person
		c.FirstReplyBy = "p-" + person // the agent sent the first reply
		c.Agents = append(c.Agents, stats.Agent{Participant: "p-" + person, Person: person, Name: name})
	}
}
func level(l string) func(*card.Card) { return func(c *card.Card) { c.ServiceLevel = l } }
func rated(score int) func(*card.Card) {
	return func(c *card.Card) { c.Rating = &stats.Rating{Score: score} }
}
func bot(c *card.Card)       { c.BotContained = true }
func abandoned(c *card.Card) { c.Abandoned = true; c.NoOperatorResponse = true }
func ended(by, reason string) func(*card.Card) {
	return func(c *card.Card) {
		c.Statistics = stats.Statistics{"csg_SessionEndedBy": stats.Str(by), "csg_SessionEndedReason": stats.Str(reason)}
	}
}

func build(t *testing.T, loc *time.Location, target time.Duration, date string, cards ...*card.Card) Day {
	t.Helper()
	b, err := NewDay("f", date, loc, target)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cards {
		if err := b.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	return b.Result()
}

// row is the daily-summary row part of a Day, for table comparisons.
type row struct {
	Sessions, Closed, Handoffs, BotContained int64
	BotShare                                 *float64
	Abandoned, Met, Missed                   int64
	Attainment                               *float64
	FRCount                                  int64
	FRMedian, FRP90, FRMax                   *int64
	CWCount                                  int64
	CWMedian, CWP90                          *int64
	Rated                                    int64
	Avg, CSAT                                *float64
}

func rowOf(d Day) row {
	return row{d.Sessions, d.Closed, d.Handoffs, d.BotContained, d.BotContainedShare, d.Abandoned,
		d.ServiceLevelMet, d.ServiceLevelMissed, d.Attainment, d.FirstReplyCount, d.FirstReplyMedianMs,
		d.FirstReplyP90Ms, d.FirstReplyMaxMs, d.CustomerWaitCount, d.CustomerWaitMedianMs, d.CustomerWaitP90Ms,
		d.Rated, d.AverageScore, d.CSAT}
}

func TestDayRow(t *testing.T) {
	const day = "2026-11-20"
	at := func(hm string) string { return day + "T" + hm + ":00.000Z" }
	tests := []struct {
		name  string
		cards []*card.Card
		want  row
	}{
		{"no sessions: every figure empty", nil, row{}},
		{"n = 1, first reply 0 counts, no rating, attainment empty",
			[]*card.Card{mk("a", at("09:00"), bot, first(0))},
			row{Sessions: 1, Closed: 1, BotContained: 1, BotShare: f64(1), FRCount: 1,
				FRMedian: i64(0), FRP90: i64(0), FRMax: i64(0)}},
		{"n = 2: median is the lower middle, p90 the upper",
			[]*card.Card{
				mk("a", at("09:00"), agent("ann", "Ann"), level("met"), first(4000), waits(1000, 3000), rated(5)),
				mk("b", at("10:00"), agent("bob", "Bob"), level("missed"), first(90000), waits(2000), rated(3)),
			},
			// first replies {4000, 90000}: rank ⌈50·2/100⌉=1 → 4000; ⌈90·2/100⌉=2 → 90000.
			// waits {1000, 2000, 3000}: median rank 2 → 2000; p90 rank ⌈2.7⌉=3 → 3000.
			// scores 5, 3: average 4; CSAT 1/2.
			row{Sessions: 2, Closed: 2, Handoffs: 2, BotShare: f64(0), Met: 1, Missed: 1, Attainment: f64(0.5),
				FRCount: 2, FRMedian: i64(4000), FRP90: i64(90000), FRMax: i64(90000),
				CWCount: 3, CWMedian: i64(2000), CWP90: i64(3000), Rated: 2, Avg: f64(4), CSAT: f64(0.5)}},
		{"ties, thirds rounded half up to 4 decimals, null first reply left out",
			[]*card.Card{
				mk("a", at("09:00"), agent("ann", "Ann"), level("met"), first(5000), waits(5000, 5000), rated(4)),
				mk("b", at("09:30"), agent("ann", "Ann"), level("met"), first(5000), waits(5000), rated(4)),
				mk("c", at("11:00"), abandoned, level("missed"), rated(1)), // handoff nobody took: null first reply
				mk("d", at("12:00"), bot),
				mk("e", at("13:00"), active),
				mk("f", at("14:00"), bot),
			},
			// bot 2/6 = 0.3333; attainment 2/3 = 0.6667; scores 4,4,1: avg 3 exactly, CSAT 2/3.
			row{Sessions: 6, Closed: 5, Handoffs: 3, BotContained: 2, BotShare: f64(0.3333), Abandoned: 1,
				Met: 2, Missed: 1, Attainment: f64(0.6667), FRCount: 2, FRMedian: i64(5000), FRP90: i64(5000),
				FRMax: i64(5000), CWCount: 3, CWMedian: i64(5000), CWP90: i64(5000), Rated: 3, Avg: f64(3), CSAT: f64(0.6667)}},
		{"average score 30/8 = 3.75, CSAT 7/8 = 0.875",
			[]*card.Card{
				mk("a", at("01:00"), rated(5)), mk("b", at("01:00"), rated(4)), mk("c", at("01:00"), rated(4)),
				mk("d", at("01:00"), rated(4)), mk("e", at("01:00"), rated(4)), mk("f", at("01:00"), rated(4)),
				mk("g", at("01:00"), rated(4)), mk("h", at("01:00"), rated(1)),
			},
			// sum 30 / 8 = 3.75; high 7/8 = 0.875.
			row{Sessions: 8, Closed: 8, BotShare: f64(0), Rated: 8, Avg: f64(3.75), CSAT: f64(0.875)}},
		{"share halves round up: 1/16 = 0.0625 exactly, 1/32 = 0.03125 → 0.0313",
			append([]*card.Card{mk("x", at("02:00"), bot)}, repeat(31, func(i int) *card.Card { return mk(strings.Repeat("y", i+1), at("02:00")) })...),
			row{Sessions: 32, Closed: 32, BotContained: 1, BotShare: f64(0.0313)}},
		{"p90 of ten first replies is the 9th",
			repeat(10, func(i int) *card.Card { return mk(string(rune('a'+i)), at("08:00"), first(int64(10-i)*1000)) }),
			row{Sessions: 10, Closed: 10, BotShare: f64(0), FRCount: 10, FRMedian: i64(5000), FRP90: i64(9000), FRMax: i64(10000)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := rowOf(build(t, time.UTC, time.Minute, day, tc.cards...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("row (-want +got):\n%s", d)
			}
		})
	}
}

func repeat(n int, f func(int) *card.Card) []*card.Card {
	out := make([]*card.Card, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func TestPageParts(t *testing.T) {
	const day = "2026-11-20"
	at := func(hm string) string { return day + "T" + hm + ":00.000Z" }
	d := build(t, time.UTC, 45*time.Second, day,
		mk("a", at("09:00"), agent("ann", "Ann"), level("met"), first(45000), waits(1000)),               // on the target: met bucket
		mk("b", at("09:59"), agent("ann", "Ann"), level("missed"), first(45001), waits(120000)),          // just over
		mk("c", at("10:00"), agent("bob", ""), level("met"), first(0), ended("AGENT", "QUIT")),           // 0 in the first bucket
		mk("d", at("23:59"), abandoned, level("missed"), ended("CLIENT", "DISCONNECT")),                  // no agent
		mk("e", at("00:00"), agent("bob", "Bob"), level("met"), first(10000), waits(7000, 2000), active), // active: no termination
	)
	// Hours: 24 on a UTC day; sessions at 00, 09 (×2), 10, 23.
	if len(d.Hours) != 24 {
		t.Fatalf("hours = %d, want 24", len(d.Hours))
	}
	want := map[int][2]int64{0: {1, 1}, 9: {2, 2}, 10: {1, 1}, 23: {1, 1}}
	for i, h := range d.Hours {
		if got := [2]int64{h.Sessions, h.Handoffs}; got != want[i] {
			t.Errorf("hour %d (%s) = %v, want %v", i, h.Label, got, want[i])
		}
	}
	// Buckets: edges 10, 30, 45 (target), 60, … seconds.
	var bars []string
	for _, b := range d.FirstReplyBuckets {
		if b.Sessions > 0 {
			bars = append(bars, strings.Join([]string{ms(b.FromMs), ms(b.ToMs), ms(b.Sessions)}, "-"))
		}
		if b.ToMs == 45000 && !b.WithinTarget {
			t.Errorf("bucket ending on the target must be within it")
		}
		if b.FromMs == 45000 && b.WithinTarget {
			t.Errorf("bucket after the target must not be within it")
		}
	}
	if got, want := strings.Join(bars, " "), "0-10000-2 30000-45000-1 45000-60000-1"; got != want {
		t.Errorf("buckets = %s, want %s", got, want)
	}
	wantAgents := []AgentLevel{
		{Person: "ann", Name: "Ann", Met: 1, Missed: 1, Attainment: f64(0.5)},
		{Person: "bob", Name: "Bob", Met: 2, Attainment: f64(1)},
		{Person: NoAgent, Missed: 1, Attainment: f64(0)},
	}
	if df := cmp.Diff(wantAgents, d.Agents); df != "" {
		t.Errorf("agents (-want +got):\n%s", df)
	}
	wantTerms := []Termination{{"AGENT", "QUIT", 1}, {"CLIENT", "DISCONNECT", 1}, {"CLIENT", "QUIT", 2}}
	if df := cmp.Diff(wantTerms, d.Terminations); df != "" {
		t.Errorf("terminations (-want +got):\n%s", df)
	}
	var longest []string
	for _, w := range d.Longest {
		longest = append(longest, w.SessionID+":"+ms(w.WaitMs))
	}
	// b: max(45001, 120000); a: max(45000, 1000); e: max(10000, 7000); c: 0; d has no wait.
	if got, want := strings.Join(longest, " "), "b:120000 a:45000 e:10000 c:0"; got != want {
		t.Errorf("longest = %s, want %s", got, want)
	}
}

func ms(n int64) string { return strconv.FormatInt(n, 10) }

func TestLongestKeepsTenTiesBySessionID(t *testing.T) {
	var cards []*card.Card
	for i := range 15 {
		// waits 1000 for all: order must be by session id, whatever the add order.
		cards = append(cards, mk(string(rune('o'-i)), "2026-11-20T05:00:00.000Z", first(1000)))
	}
	cards = append(cards, mk("zz", "2026-11-20T05:00:00.000Z", first(2000)))
	d := build(t, time.UTC, time.Minute, "2026-11-20", cards...)
	var ids []string
	for _, w := range d.Longest {
		ids = append(ids, w.SessionID)
	}
	if got, want := strings.Join(ids, ","), "zz,a,b,c,d,e,f,g,h,i"; got != want {
		t.Errorf("longest = %s, want %s", got, want)
	}
}

func TestClockChangeDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date   string
		hours  int
		labels string
		// a session at this UTC instant falls in hour slot:
		at   string
		slot int
	}{
		// 2026-03-29 02:00 CET → 03:00 CEST: 23 hours, no "02".
		{"2026-03-29", 23, "00 01 03 04", "2026-03-29T01:30:00.000Z", 2}, // 03:30 CEST
		// 2026-10-25 03:00 CEST → 02:00 CET: 25 hours, "02" twice.
		{"2026-10-25", 25, "00 01 02 +02:00 02 +01:00", "2026-10-25T01:30:00.000Z", 3}, // second 02:30 (CET)
		{"2026-11-20", 24, "00 01 02 03", "2026-11-19T23:00:00.000Z", 0},               // local midnight
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			d := build(t, berlin, time.Minute, tc.date, mk("a", tc.at))
			if len(d.Hours) != tc.hours {
				t.Fatalf("hours = %d, want %d", len(d.Hours), tc.hours)
			}
			var labels []string
			for _, h := range d.Hours[:4] {
				labels = append(labels, h.Label)
			}
			if got := strings.Join(labels, " "); got != tc.labels {
				t.Errorf("labels = %q, want %q", got, tc.labels)
			}
			if d.Hours[tc.slot].Sessions != 1 {
				t.Errorf("session not in slot %d (%s)", tc.slot, d.Hours[tc.slot].Label)
			}
		})
	}
}

func TestAddRefuses(t *testing.T) {
	b, err := NewDay("f", "2026-11-20", time.UTC, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	other := mk("x", "2026-11-20T10:00:00.000Z")
	other.Folder = "g"
	for name, c := range map[string]*card.Card{
		"other folder":     other,
		"day before":       mk("y", "2026-11-19T23:59:59.999Z"),
		"next midnight":    mk("z", "2026-11-21T00:00:00.000Z"),
		"no start":         func() *card.Card { c := mk("w", ""); c.StartTime = ""; return c }(),
		"unreadable start": func() *card.Card { c := mk("v", "yesterday"); return c }(),
	} {
		if err := b.Add(c); err == nil {
			t.Errorf("%s: Add accepted it", name)
		}
	}
	if got := b.Result().Sessions; got != 0 {
		t.Errorf("sessions = %d after refusals", got)
	}
	if _, err := NewDay("f", "20.11.2026", time.UTC, time.Minute); err == nil || !strings.Contains(err.Error(), "date") {
		t.Errorf("bad date: %v", err)
	}
}

func TestDaysRoutesByLocalDay(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	s := NewDays("f", tokyo, time.Minute)
	// 14:59Z is 23:59 in Tokyo on the 20th; 15:00Z is the 21st.
	for _, c := range []*card.Card{mk("a", "2026-11-20T14:59:00.000Z"), mk("b", "2026-11-20T15:00:00.000Z"), mk("c", "2026-11-20T16:00:00.000Z")} {
		if err := s.Add(c); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(s.Dates(), ","); got != "2026-11-20,2026-11-21" {
		t.Errorf("dates = %s", got)
	}
	d, _ := s.Day("2026-11-21")
	if d.Sessions != 2 || d.Hours[0].Sessions != 1 || d.Hours[1].Sessions != 1 {
		t.Errorf("21st: sessions %d, hour 0 %d, hour 1 %d", d.Sessions, d.Hours[0].Sessions, d.Hours[1].Sessions)
	}
	empty, err := s.Day("2026-11-22")
	if err != nil || empty.Sessions != 0 || len(empty.Hours) != 24 || empty.Attainment != nil {
		t.Errorf("empty day: %+v %v", empty, err)
	}
}

// Result must not depend on the order cards arrive in.
func TestOrderIndependent(t *testing.T) {
	const day = "2026-11-20"
	cards := []*card.Card{
		mk("a", day+"T01:00:00.000Z", agent("ann", "Ann"), level("met"), first(3000), waits(5, 9, 1), rated(2)),
		mk("b", day+"T02:00:00.000Z", agent("bob", "Bob"), level("missed"), first(70000), waits(4), rated(5)),
		mk("c", day+"T03:00:00.000Z", bot, ended("BOT", "QUIT")),
		mk("d", day+"T04:00:00.000Z", agent("ann", "Ann"), level("met"), first(0), waits(100, 100)),
	}
	want := build(t, time.UTC, time.Minute, day, cards...)
	rev := []*card.Card{cards[3], cards[1], cards[2], cards[0]}
	if d := cmp.Diff(want, build(t, time.UTC, time.Minute, day, rev...)); d != "" {
		t.Errorf("order changed the result:\n%s", d)
	}
}
