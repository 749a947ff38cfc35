// Package summary computes the daily summary of analytics.md: the figures of
// one folder × one local day, from the cards whose session start falls on that
// day in the folder's time zone. It is pure and streaming: Add each card, then
// read Result; no I/O, no clock.
//
// Day holds the daily-summary report row and, beside it, what the Summary page
// draws: sessions and handoffs per local hour, the first-reply distribution,
// service level per agent, terminations, CSAT and the ten longest waits.
package summary

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/stats"
)

// LongestWaits is how many sessions the page lists as the day's longest waits.
const LongestWaits = 10

// NoAgent is the agent key of sessions whose service level applies but that
// no agent answered (a handoff nobody took: always missed).
const NoAgent = ""

// Day is one folder × local day.
type Day struct {
	Folder   string
	Date     string // local date YYYY-MM-DD in TimeZone
	TimeZone string
	// FirstReplyTargetMs is the folder's service-level target, for the page.
	FirstReplyTargetMs int64

	// ---- the daily-summary row ----

	Sessions int64
	Closed   int64
	// Handoffs counts sessions handed to live agents: a handoff or an agent
	// took part. The card keeps no handoff flag, so this is the sources
	// report's rule (an agent, noOperatorResponse or abandoned).
	Handoffs     int64
	BotContained int64
	// BotContainedShare is BotContained ÷ Sessions; nil when no sessions.
	BotContainedShare *float64
	Abandoned         int64
	// ServiceLevelMet/Missed count the cards' serviceLevel; Attainment is
	// met ÷ (met + missed), nil when both are 0.
	ServiceLevelMet, ServiceLevelMissed int64
	Attainment                          *float64
	// FirstReply* are over the sessions whose waitBeforeFirstReplyMs is not
	// null (0 included), calendar milliseconds; nil when there is none.
	FirstReplyCount                                      int64
	FirstReplyMedianMs, FirstReplyP90Ms, FirstReplyMaxMs *int64
	// CustomerWait* are over every customerWait pair of the day's sessions
	// (responseSamples.customerWaitMs); nil when there is no pair.
	CustomerWaitCount                       int64
	CustomerWaitMedianMs, CustomerWaitP90Ms *int64
	// Rated counts sessions with a rating; AverageScore and CSAT (share of
	// rated sessions with score ≥ 4) are nil when none is rated.
	Rated        int64
	AverageScore *float64
	CSAT         *float64

	// ---- what the page draws ----

	// Hours are the local hours of the day in order: 24, or 23/25 on a day
	// the clock changes.
	Hours []Hour
	// FirstReplyBuckets is the distribution of the first-reply figures.
	FirstReplyBuckets []Bucket
	// Agents is the service level per agent, by sessions descending.
	Agents []AgentLevel
	// Terminations counts closed sessions by endedBy × endedReason.
	Terminations []Termination
	// Scores counts rated sessions by score; index 0 holds scores outside
	// 1–5 (never on a computed card), 1–5 their own.
	Scores [6]int64
	// Longest are the sessions with the longest wait, longest first.
	Longest []Wait
}

// Hour is one local clock hour of the day.
type Hour struct {
	Start time.Time // first instant, in the folder's zone
	// Label is "HH" of the local clock; on a day whose clock goes back the
	// repeated hour carries its UTC offset too ("02 +01:00").
	Label    string
	Sessions int64
	Handoffs int64
}

// Bucket is one bar of the first-reply distribution: the sessions whose
// first reply is in (FromMs, ToMs] (the first bucket includes 0; ToMs < 0 is
// open-ended). Upper bounds are inclusive so that a reply exactly on the
// target counts with the met side, as serviceLevel does.
type Bucket struct {
	FromMs, ToMs int64
	Sessions     int64
	// WithinTarget: every value in it is ≤ the target.
	WithinTarget bool
}

// AgentLevel is one agent's first-reply service level.
type AgentLevel struct {
	// Person is the agent's person (else participant id), NoAgent ("") for
	// sessions no agent answered. Attribution: see docs/summary.md.
	Person      string
	Name        string
	Met, Missed int64
	Attainment  *float64
}

// Termination is one endedBy × endedReason cell; "" when the card carries
// no such statistic (STATS_MODE none).
type Termination struct {
	EndedBy, EndedReason string
	Sessions             int64
}

// Wait is one of the day's longest waits. WaitMs is the larger of the first
// reply (waitBeforeFirstReplyMs) and the longest customerWait pair: the
// longest the customer sat waiting for an agent in that session.
type Wait struct {
	SessionID       string
	Start           time.Time
	WaitMs          int64
	FirstReplyMs    *int64
	MaxCustomerWait *int64
	SupportPerson   string
	SupportName     string // the support person's name, when the card has it
}

// Builder accumulates one folder × local day.
type Builder struct {
	folder string
	date   string
	loc    *time.Location
	target time.Duration
	start  time.Time // first instant of the day
	end    time.Time // first instant of the next day

	d            Day
	firstReplies []int64
	waits        []int64
	scoreSum     int64
	high         int64 // rated with score ≥ 4
	agents       map[string]*AgentLevel
	terms        map[[2]string]int64
}

// NewDay starts the summary of folder on the local date (YYYY-MM-DD) in loc,
// with the folder's first-reply target.
func NewDay(folder, date string, loc *time.Location, target time.Duration) (*Builder, error) {
	if loc == nil {
		return nil, errors.New("summary: time zone is required")
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return nil, fmt.Errorf("summary: date %q is not YYYY-MM-DD", date)
	}
	// Not time.Date: a midnight the clocks skip would start the day an hour
	// early, in the evening before.
	start := folders.DayStart(d.Year(), d.Month(), d.Day(), loc)
	end := folders.DayStart(d.Year(), d.Month(), d.Day()+1, loc)
	b := &Builder{folder: folder, date: date, loc: loc, target: target, start: start, end: end,
		agents: map[string]*AgentLevel{}, terms: map[[2]string]int64{}}
	b.d = Day{Folder: folder, Date: date, TimeZone: loc.String(), FirstReplyTargetMs: target.Milliseconds()}
	b.d.Hours = hours(start, end, loc)
	b.d.FirstReplyBuckets = buckets(target.Milliseconds())
	return b, nil
}

// hours lists the clock hours from start to end. Stepping an absolute hour
// at a time gives 23 slots on a spring-forward day and 25 on a fall-back day.
func hours(start, end time.Time, loc *time.Location) []Hour {
	var out []Hour
	seen := map[string]int{}
	for t := start; t.Before(end); t = t.Add(time.Hour) {
		seen[t.In(loc).Format("15")]++
	}
	for t := start; t.Before(end); t = t.Add(time.Hour) {
		lt := t.In(loc)
		label := lt.Format("15")
		if seen[label] > 1 {
			label += " " + lt.Format("-07:00")
		}
		out = append(out, Hour{Start: lt, Label: label})
	}
	return out
}

// bucketEdges are the upper bounds of the first-reply bars, in seconds; the
// target is added as an edge so that it always falls between two bars.
var bucketEdges = []int64{10, 30, 60, 120, 300, 600, 1800}

func buckets(targetMs int64) []Bucket {
	edges := make([]int64, 0, len(bucketEdges)+1)
	for _, s := range bucketEdges {
		edges = append(edges, s*1000)
	}
	if targetMs > 0 && !slices.Contains(edges, targetMs) {
		edges = append(edges, targetMs)
		slices.Sort(edges)
	}
	out := make([]Bucket, 0, len(edges)+1)
	from := int64(0)
	for _, e := range edges {
		out = append(out, Bucket{FromMs: from, ToMs: e, WithinTarget: e <= targetMs})
		from = e
	}
	return append(out, Bucket{FromMs: from, ToMs: -1})
}

// StartMillis is a card's session start: the figures' startTime once synced,
// else the create call's startedAt (what the store lists by day).
func StartMillis(c *card.Card) (int64, error) {
	for _, s := range []string{c.StartTime, c.StartedAt} {
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, fmt.Errorf("session %s: startTime %q is not RFC 3339", c.SessionID, s)
		}
		return t.UnixMilli(), nil
	}
	return 0, fmt.Errorf("session %s: startTime is missing", c.SessionID)
}

// LocalDate is the local date (YYYY-MM-DD) of a card's start in loc.
func LocalDate(c *card.Card, loc *time.Location) (string, error) {
	ms, err := StartMillis(c)
	if err != nil {
		return "", err
	}
	return time.UnixMilli(ms).In(loc).Format(time.DateOnly), nil
}

// HandedOff tells from the card alone whether the session reached live
// agents: an agent took part, or a flag that only a handoff or an agent sets.
func HandedOff(c *card.Card) bool {
	return len(c.Agents) > 0 || c.NoOperatorResponse || c.Abandoned || c.ServiceLevel != ""
}

// Add folds one card in. A card of another folder or another local day is
// refused: folders are tenants, and a day's figures are that day's.
func (b *Builder) Add(c *card.Card) error {
	if c.Folder != b.folder {
		return fmt.Errorf("summary: session %s is in folder %q, not %q", c.SessionID, c.Folder, b.folder)
	}
	ms, err := StartMillis(c)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	start := time.UnixMilli(ms)
	if start.Before(b.start) || !start.Before(b.end) {
		return fmt.Errorf("summary: session %s starts %s, not on %s in %s", c.SessionID,
			start.In(b.loc).Format(time.RFC3339), b.date, b.loc)
	}
	d := &b.d
	d.Sessions++
	handed := HandedOff(c)
	h := int(start.Sub(b.start) / time.Hour)
	if h >= len(d.Hours) { // a zone whose day is not whole hours; never past the end
		h = len(d.Hours) - 1
	}
	d.Hours[h].Sessions++
	if handed {
		d.Handoffs++
		d.Hours[h].Handoffs++
	}
	if !c.Active {
		d.Closed++
		by, reason := c.Statistics["csg_SessionEndedBy"], c.Statistics["csg_SessionEndedReason"]
		b.terms[[2]string{by.String(), reason.String()}]++
	}
	if c.BotContained {
		d.BotContained++
	}
	if c.Abandoned {
		d.Abandoned++
	}
	if c.ServiceLevel != "" {
		b.agentLevel(c)
	}
	if w := c.WaitBeforeFirstReplyMs; w != nil {
		b.firstReplies = append(b.firstReplies, *w)
		for i := range d.FirstReplyBuckets {
			bk := &d.FirstReplyBuckets[i]
			if bk.ToMs < 0 || *w <= bk.ToMs {
				bk.Sessions++
				break
			}
		}
	}
	b.waits = append(b.waits, c.ResponseSamples.CustomerWaitMs...)
	if r := c.Rating; r != nil {
		d.Rated++
		b.scoreSum += int64(r.Score)
		if r.Score >= 4 {
			b.high++
		}
		if r.Score >= 1 && r.Score <= 5 {
			d.Scores[r.Score]++
		} else {
			d.Scores[0]++
		}
	}
	b.longest(c, start)
	return nil
}

// agentLevel credits the service level to the agent who sent the first
// reply. The card does not say who that was; supportPerson (the agent of
// the latest join) stands in, and a session no agent took part in is
// NoAgent. See docs/summary.md.
func (b *Builder) agentLevel(c *card.Card) {
	// The agent who sent the first reply (firstReplyBy), as the productivity
	// report credits it; a session missed without any reply belongs to no
	// agent (key "").
	key := ""
	for _, ag := range c.Agents {
		if c.FirstReplyBy != "" && ag.Participant == c.FirstReplyBy {
			key = ag.Person
		}
	}
	a := b.agents[key]
	if a == nil {
		a = &AgentLevel{Person: key}
		b.agents[key] = a
	}
	for _, ag := range c.Agents {
		if ag.Person == key && ag.Name != "" {
			a.Name = ag.Name
		}
	}
	switch c.ServiceLevel {
	case stats.ServiceLevelMet:
		a.Met++
		b.d.ServiceLevelMet++
	case stats.ServiceLevelMissed:
		a.Missed++
		b.d.ServiceLevelMissed++
	}
}

// longest keeps the LongestWaits sessions with the longest wait; ties go to
// the smaller session id, so the list does not depend on card order.
func (b *Builder) longest(c *card.Card, start time.Time) {
	w := Wait{SessionID: c.SessionID, Start: start.In(b.loc), FirstReplyMs: c.WaitBeforeFirstReplyMs,
		SupportPerson: c.SupportPerson}
	for _, ag := range c.Agents {
		if ag.Person == c.SupportPerson && ag.Name != "" {
			w.SupportName = ag.Name
		}
	}
	has := false
	if c.WaitBeforeFirstReplyMs != nil {
		w.WaitMs, has = *c.WaitBeforeFirstReplyMs, true
	}
	if len(c.ResponseSamples.CustomerWaitMs) > 0 {
		m := slices.Max(c.ResponseSamples.CustomerWaitMs)
		w.MaxCustomerWait = &m
		if !has || m > w.WaitMs {
			w.WaitMs = m
		}
		has = true
	}
	if !has {
		return
	}
	less := func(a, b Wait) int {
		return cmp.Or(cmp.Compare(b.WaitMs, a.WaitMs), cmp.Compare(a.SessionID, b.SessionID))
	}
	i, _ := slices.BinarySearchFunc(b.d.Longest, w, less)
	if i >= LongestWaits {
		return
	}
	b.d.Longest = slices.Insert(b.d.Longest, i, w)
	if len(b.d.Longest) > LongestWaits {
		b.d.Longest = b.d.Longest[:LongestWaits]
	}
}

// Result returns the day's figures. The Builder may take more cards after.
func (b *Builder) Result() Day {
	d := b.d
	d.Hours = slices.Clone(d.Hours)
	d.FirstReplyBuckets = slices.Clone(d.FirstReplyBuckets)
	d.Longest = slices.Clone(d.Longest)
	d.BotContainedShare = share(d.BotContained, d.Sessions)
	d.Attainment = share(d.ServiceLevelMet, d.ServiceLevelMet+d.ServiceLevelMissed)
	d.FirstReplyCount = int64(len(b.firstReplies))
	if p, ok := stats.Percentiles(b.firstReplies, 50, 90, 100); ok {
		d.FirstReplyMedianMs, d.FirstReplyP90Ms, d.FirstReplyMaxMs = &p[0], &p[1], &p[2]
	}
	d.CustomerWaitCount = int64(len(b.waits))
	if p, ok := stats.Percentiles(b.waits, 50, 90); ok {
		d.CustomerWaitMedianMs, d.CustomerWaitP90Ms = &p[0], &p[1]
	}
	d.AverageScore = ratio(b.scoreSum, d.Rated)
	d.CSAT = share(b.high, d.Rated)

	d.Agents = make([]AgentLevel, 0, len(b.agents))
	for _, a := range b.agents {
		x := *a
		x.Attainment = share(x.Met, x.Met+x.Missed)
		d.Agents = append(d.Agents, x)
	}
	slices.SortFunc(d.Agents, func(a, b AgentLevel) int {
		return cmp.Or(cmp.Compare(b.Met+b.Missed, a.Met+a.Missed), cmp.Compare(a.Person, b.Person))
	})
	d.Terminations = make([]Termination, 0, len(b.terms))
	for k, n := range b.terms {
		d.Terminations = append(d.Terminations, Termination{EndedBy: k[0], EndedReason: k[1], Sessions: n})
	}
	slices.SortFunc(d.Terminations, func(a, b Termination) int {
		return cmp.Or(cmp.Compare(a.EndedBy, b.EndedBy), cmp.Compare(a.EndedReason, b.EndedReason))
	})
	return d
}

// ShareDigits is the number of decimals shares and the average score keep.
const ShareDigits = 4

// share is part ÷ whole rounded to ShareDigits decimals, halves up; nil when
// whole is 0. The rounding is done in integers, so 2/3 is 0.6667 on every
// machine and the figure prints without float noise; the counts beside it
// keep the exact fraction.
func share(part, whole int64) *float64 {
	if whole == 0 {
		return nil
	}
	const scale = 10000 // 10^ShareDigits
	q := (2*part*scale + whole) / (2 * whole)
	v := float64(q) / scale
	return &v
}

// ratio is the same rounding for the average score (sum ÷ rated).
func ratio(sum, n int64) *float64 { return share(sum, n) }

// Days routes the cards of one folder to the Builder of their local day.
type Days struct {
	folder string
	loc    *time.Location
	target time.Duration
	days   map[string]*Builder
}

// NewDays summarises folder by local day in loc.
func NewDays(folder string, loc *time.Location, target time.Duration) *Days {
	return &Days{folder: folder, loc: loc, target: target, days: map[string]*Builder{}}
}

// Add folds c into the summary of its start's local day.
func (s *Days) Add(c *card.Card) error {
	date, err := LocalDate(c, s.loc)
	if err != nil {
		return fmt.Errorf("summary: %w", err)
	}
	b := s.days[date]
	if b == nil {
		if b, err = NewDay(s.folder, date, s.loc, s.target); err != nil {
			return err
		}
		s.days[date] = b
	}
	return b.Add(c)
}

// Dates lists the days that have at least one session, ascending.
func (s *Days) Dates() []string {
	out := make([]string, 0, len(s.days))
	for d := range s.days {
		out = append(out, d)
	}
	slices.Sort(out)
	return out
}

// Day returns the figures of date; a day without sessions gives an empty
// summary (every count 0, every figure nil).
func (s *Days) Day(date string) (Day, error) {
	if b := s.days[date]; b != nil {
		return b.Result(), nil
	}
	b, err := NewDay(s.folder, date, s.loc, s.target)
	if err != nil {
		return Day{}, err
	}
	return b.Result(), nil
}
