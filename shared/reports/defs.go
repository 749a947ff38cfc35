package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/stats"
)

// emitFunc receives the rows a report produces, in order.
type emitFunc func(Row) error

// report builds one table. Per-session reports emit from card and hold
// nothing; aggregate reports fold cards into a small map and emit in finish.
type report interface {
	columns() []Column
	card(c *card.Card, emit emitFunc) error
	finish(emit emitFunc) error
}

// env is what a report may depend on besides the cards.
type env struct {
	loc        *time.Location
	withTimes  bool
	phrasesTop int
	prices     map[string]float64
	summary    summaryEnv // daily-summary (dailysummary.go)
}

// window is one folder's share of an export: the selection's local days
// read in the folder's zone, and its prices.
type window struct {
	loc      *time.Location
	from, to time.Time
	prices   map[string]float64
}

// folderWindow reads the selection's days in the folder's time zone (FOLDERS
// timeZone, default REPORT_TIMEZONE, else UTC): "2026-11-20" is that local
// day in that folder, so folders in different zones cover different
// instants. Without FOLDERS every folder takes opt.Location and opt.Prices.
func folderWindow(rs *resolved, folder string, opt Options) (window, error) {
	w := window{loc: rs.loc, from: rs.from, to: rs.to, prices: opt.Prices}
	if opt.Folders == nil {
		return w, nil
	}
	set := opt.Folders.For(folder)
	w.loc, w.prices = set.Location, set.Prices
	var err error
	if w.from, err = parseDay("from", rs.sel.From, w.loc); err != nil {
		return w, err
	}
	if w.to, err = parseDay("to", rs.sel.To, w.loc); err != nil {
		return w, err
	}
	return w, nil
}

type reportDef struct {
	name string
	// lineLevel reports need the chat log, so the listing fetches it.
	lineLevel bool
	build     func(env) report
}

// definitions lists every report of the spec, in the spec's order; the
// manifest and the default selection follow it.
var definitions = []reportDef{
	{name: "sessions", build: func(env) report { return sessionsReport{} }},
	{name: "markers", build: func(env) report { return markersReport{} }},
	{name: "operators", build: func(env) report { return operatorsReport{} }},
	{name: "productivity", build: func(env) report { return &productivityReport{agents: map[string]*agentTotals{}} }},
	{name: "sources", build: func(env) report { return &sourcesReport{channels: map[string]*sourceTotals{}} }},
	{name: "pages", build: func(env) report { return &pagesReport{urls: map[string]int64{}} }},
	{name: "popular-phrases", lineLevel: true, build: func(e env) report { return newPhrasesReport(e.phrasesTop) }},
	{name: "client-phrases", lineLevel: true, build: func(e env) report { return linesReport{withTimes: e.withTimes, clientOnly: true} }},
	{name: "transcripts", lineLevel: true, build: func(e env) report { return linesReport{withTimes: e.withTimes} }},
	{name: "chat-session-fact", build: func(env) report { return factReport{} }},
	{name: "terminations", build: func(e env) report { return &terminationsReport{loc: e.loc, counts: map[terminationKey]int64{}} }},
	{name: "message-statistics", build: func(e env) report {
		return &messageStatsReport{loc: e.loc, totals: map[dayChannel]*messageTotals{}}
	}},
	{name: "billing", build: func(e env) report { return &billingReport{prices: e.prices, channels: map[string]*billingTotals{}} }},
	{name: "daily-summary", build: newDailySummaryReport}, // analytics.md; also writes summary.html
}

// ReportNames returns the name of every report, in the spec's order.
func ReportNames() []string {
	names := make([]string, len(definitions))
	for i, d := range definitions {
		names[i] = d.name
	}
	return names
}

func lookupReport(name string) (reportDef, bool) {
	for _, d := range definitions {
		if d.name == name {
			return d, true
		}
	}
	return reportDef{}, false
}

// listSep joins list fields (members, relatedTickets, markers) into one cell.
const listSep = ";"

// startMillis is the session start: the figures' startTime once the sync has
// run, else the create call's StartedAt (the time the listing selects on).
func startMillis(c *card.Card) (int64, bool) {
	if ms, ok := parseMillis(c.StartTime); ok {
		return ms, true
	}
	return parseMillis(c.StartedAt)
}

func startCell(c *card.Card) Cell {
	if ms, ok := startMillis(c); ok {
		return num(ms)
	}
	return null()
}

// statNum reads an integer statistic; absent (or not a number) is ok=false.
func statNum(s stats.Statistics, key string) (int64, bool) {
	v, ok := s[key]
	if !ok {
		return 0, false
	}
	if v.IsStr {
		n, err := strconv.ParseInt(v.Str, 10, 64)
		return n, err == nil
	}
	return v.Num, true
}

func statNumCell(s stats.Statistics, key string) Cell {
	if n, ok := statNum(s, key); ok {
		return num(n)
	}
	return null()
}

func statStrCell(s stats.Statistics, key string) Cell {
	if v, ok := s[key]; ok {
		return str(v.String())
	}
	return null()
}

func statTimeCell(s stats.Statistics, key string) Cell {
	if v, ok := s[key]; ok && v.IsStr {
		return timeCell(v.Str)
	}
	return null()
}

// localDay is the session's start day in the report time zone.
func localDay(c *card.Card, loc *time.Location) string {
	ms, _ := startMillis(c)
	return time.UnixMilli(ms).In(loc).Format(time.DateOnly)
}

// roundDiv is total ÷ count to the nearest integer, halves up (the
// statistics spec's rule for averages).
func roundDiv(total, count int64) int64 {
	return int64(math.Floor(float64(total)/float64(count) + 0.5))
}

// ---- sessions ----

type sessionsReport struct{}

func (sessionsReport) columns() []Column {
	// Strings that a card may lack (language, customer, a list with no
	// item, …) are Nullable: an absent value is an empty cell, never "".
	// The analytics.md columns come last, so the column positions an
	// Athena table reads by (docs/glue.yaml) stay put.
	return []Column{
		{Name: "sessionId"}, {Name: "folder"}, {Name: "channel", Nullable: true}, {Name: "language", Nullable: true}, {Name: "status"},
		{Name: "startTime", Kind: KindTime, Nullable: true}, {Name: "endTime", Kind: KindTime, Nullable: true},
		{Name: "durationMs", Kind: KindInt, Nullable: true},
		{Name: "customer", Nullable: true}, {Name: "supportPerson", Nullable: true}, {Name: "members", Nullable: true},
		{Name: "messageCount", Kind: KindInt},
		{Name: "waitBeforeFirstReplyMs", Kind: KindInt, Nullable: true},
		{Name: "agentGreetingMs", Kind: KindInt, Nullable: true},
		{Name: "relatedTickets", Nullable: true},
		{Name: "noOperatorResponse", Kind: KindBool}, {Name: "abandoned", Kind: KindBool},
		{Name: "endedBy", Nullable: true}, {Name: "endedReason", Nullable: true}, {Name: "endedAgent", Nullable: true},
		{Name: "handleTimeMs", Kind: KindInt, Nullable: true},
		{Name: "agentReplyAvgMs", Kind: KindInt, Nullable: true}, {Name: "agentReplyMaxMs", Kind: KindInt, Nullable: true},
		{Name: "customerWaitAvgMs", Kind: KindInt, Nullable: true}, {Name: "customerWaitMaxMs", Kind: KindInt, Nullable: true},
		{Name: "markers", Nullable: true},
		{Name: "rating", Kind: KindInt, Nullable: true}, {Name: "ratingComment", Nullable: true},
		{Name: "botContained", Kind: KindBool}, {Name: "serviceLevel", Nullable: true},
		{Name: "waitBeforeFirstReplyBusinessMs", Kind: KindInt, Nullable: true},
		{Name: "platformFigures", Nullable: true}, {Name: "platformFirstReplyMs", Kind: KindInt, Nullable: true},
	}
}

func (sessionsReport) card(c *card.Card, emit emitFunc) error {
	duration := null()
	if s, ok := startMillis(c); ok {
		if e, ok := parseMillis(c.EndTime); ok {
			duration = num(e - s)
		}
	}
	// The card keeps handle time only as whole seconds (a csg/cse figure),
	// so this column has second precision; see docs/reports.md.
	handle := null()
	if n, ok := statNum(c.Statistics, "cse_SessionHandleTotalTime"); ok {
		handle = num(n * 1000)
	}
	avgMax := func(g *stats.Group) (Cell, Cell) {
		if g == nil {
			return null(), null()
		}
		return num(g.AvgMs), num(g.MaxMs)
	}
	replyAvg, replyMax := avgMax(c.ResponseTimes.AgentReply)
	waitAvg, waitMax := avgMax(c.ResponseTimes.CustomerWait)
	rating, ratingComment := null(), null()
	if c.Rating != nil {
		rating, ratingComment = num(int64(c.Rating.Score)), str(c.Rating.Comment)
	}
	// Empty when the folder has no business hours (then the card has no
	// businessHours) or the calendar figure is null.
	businessWait := null()
	if c.BusinessHours != nil {
		businessWait = optNum(c.BusinessHours.WaitBeforeFirstReplyMs)
	}
	return emit(Row{
		str(c.SessionID), str(c.Folder), str(c.Channel), str(c.Language), str(c.Status),
		startCell(c), timeCell(c.EndTime), duration,
		str(c.Customer), str(c.SupportPerson), str(strings.Join(c.Members, listSep)),
		num(int64(c.MessageCount)),
		optNum(c.WaitBeforeFirstReplyMs), optNum(c.AgentGreetingMs),
		str(strings.Join(c.RelatedTickets, listSep)),
		boolean(c.NoOperatorResponse), boolean(c.Abandoned),
		statStrCell(c.Statistics, "csg_SessionEndedBy"), statStrCell(c.Statistics, "csg_SessionEndedReason"),
		statStrCell(c.Statistics, "csg_SessionEndedAgent"),
		handle, replyAvg, replyMax, waitAvg, waitMax,
		str(strings.Join(c.Markers, listSep)),
		rating, ratingComment,
		boolean(c.BotContained), str(c.ServiceLevel),
		businessWait,
		// The figures as stored (compact JSON of the platform's own names).
		str(string(c.PlatformFigures)), optNum(formats.FirstReplyMs(c.PlatformFigures)),
	})
}

func (sessionsReport) finish(emitFunc) error { return nil }

// ---- markers ----

type markersReport struct{}

func (markersReport) columns() []Column {
	return []Column{{Name: "sessionId"}, {Name: "marker", Nullable: true}, {Name: "startTime", Kind: KindTime, Nullable: true}}
}

func (markersReport) card(c *card.Card, emit emitFunc) error {
	start := startCell(c)
	for _, m := range c.Markers {
		if err := emit(Row{str(c.SessionID), str(m), start}); err != nil {
			return err
		}
	}
	return nil
}

func (markersReport) finish(emitFunc) error { return nil }

// ---- operators ----

type operatorsReport struct{}

func (operatorsReport) columns() []Column {
	return []Column{
		{Name: "sessionId"}, {Name: "agentPerson"}, {Name: "name", Nullable: true},
		{Name: "messages", Kind: KindInt}, {Name: "replyCount", Kind: KindInt},
		// With no reply there is no average and no maximum: empty, not 0.
		{Name: "replyAvgMs", Kind: KindInt, Nullable: true}, {Name: "replyMaxMs", Kind: KindInt, Nullable: true},
		{Name: "presenceMs", Kind: KindInt},
	}
}

func (operatorsReport) card(c *card.Card, emit emitFunc) error {
	for _, a := range c.Agents {
		if err := emit(Row{
			str(c.SessionID), str(a.Person), str(a.Name), num(a.Messages), num(a.ReplyCount),
			optNum(a.ReplyAvgMs), maxCell(a.ReplyMaxMs, a.ReplyCount), num(a.PresenceMs),
		}); err != nil {
			return err
		}
	}
	return nil
}

func (operatorsReport) finish(emitFunc) error { return nil }

// ---- productivity ----

// maxCell is a maximum that exists only when count > 0: empty otherwise.
func maxCell(v, count int64) Cell {
	if count == 0 {
		return null()
	}
	return num(v)
}

// share is part ÷ whole as a fraction from 0 to 1, rounded to a millionth
// so float noise never shows; empty when whole is 0.
func share(part, whole int64) Cell {
	if whole == 0 {
		return null()
	}
	return float(math.Round(float64(part)/float64(whole)*1e6) / 1e6)
}

// percentileCells are the median and p90 (nearest rank, analytics.md) of
// values, sorted in place; both empty when there are none.
func percentileCells(values []int64) (Cell, Cell) {
	if len(values) == 0 {
		return null(), null()
	}
	slices.Sort(values)
	p50, _ := stats.PercentileSorted(values, 50)
	p90, _ := stats.PercentileSorted(values, 90)
	return num(p50), num(p90)
}

// csatScore is the lowest score that counts as satisfied (analytics.md:
// CSAT is the share of rated sessions with score ≥ 4).
const csatScore = 4

type agentTotals struct {
	name                               string
	sessions, operatorMsgs, clientMsgs int64
	replyCount, replyTotal, replyMax   int64
	presence                           int64
	lastSession                        string
	lastSessionFolder                  string
	// The analytics.md additions.
	slMet, slMissed  int64
	waits            []int64 // customerWait amounts of the pairs this agent answered
	rated, satisfied int64
}

// productivityReport keeps a total per agent person. Exact percentiles need
// every customerWait amount an agent answered: 8 bytes a pair are held
// until the end (a million pairs in the window is 8 MB); see docs/reports.md.
type productivityReport struct {
	agents map[string]*agentTotals
}

func (*productivityReport) columns() []Column {
	return []Column{
		{Name: "agentPerson"}, {Name: "name", Nullable: true}, {Name: "sessions", Kind: KindInt},
		{Name: "operatorMessages", Kind: KindInt}, {Name: "clientMessages", Kind: KindInt},
		{Name: "replyCount", Kind: KindInt}, {Name: "replyAvgMs", Kind: KindInt, Nullable: true},
		{Name: "replyMaxMs", Kind: KindInt, Nullable: true}, {Name: "handleTimeMs", Kind: KindInt},
		{Name: "serviceLevelMet", Kind: KindInt}, {Name: "serviceLevelMissed", Kind: KindInt},
		{Name: "serviceLevelAttainment", Kind: KindFloat, Nullable: true},
		{Name: "customerWaitMedianMs", Kind: KindInt, Nullable: true}, {Name: "customerWaitP90Ms", Kind: KindInt, Nullable: true},
		{Name: "ratedSessions", Kind: KindInt}, {Name: "csat", Kind: KindFloat, Nullable: true},
	}
}

// personOf maps a participant id of c to its agent person; ok is false for
// an id that is no agent of the card.
func personOf(c *card.Card, participant string) (string, bool) {
	for i := range c.Agents {
		if c.Agents[i].Participant == participant {
			return c.Agents[i].Person, true
		}
	}
	return "", false
}

func (r *productivityReport) totals(person string) *agentTotals {
	t := r.agents[person]
	if t == nil {
		t = &agentTotals{}
		r.agents[person] = t
	}
	return t
}

func (r *productivityReport) card(c *card.Card, _ emitFunc) error {
	for _, a := range c.Agents {
		t := r.totals(a.Person)
		if t.name == "" {
			t.name = a.Name
		}
		// One person may appear as two participants of a session: count
		// the session, its client messages and its rating once.
		if t.lastSession != c.SessionID || t.lastSessionFolder != c.Folder {
			t.lastSession, t.lastSessionFolder = c.SessionID, c.Folder
			t.sessions++
			t.clientMsgs += c.Productivity.ClientMessages
			// Rated sessions and CSAT go to the session's support person.
			if c.Rating != nil && c.SupportPerson == a.Person {
				t.rated++
				if c.Rating.Score >= csatScore {
					t.satisfied++
				}
			}
		}
		t.operatorMsgs += a.Messages
		t.replyCount += a.ReplyCount
		t.replyTotal += a.ReplyTotalMs
		t.replyMax = max(t.replyMax, a.ReplyMaxMs)
		t.presence += a.PresenceMs
	}
	// The service level goes to the sender of the first reply; a session
	// missed for want of any first reply has no sender and credits no one.
	if p, ok := personOf(c, c.FirstReplyBy); ok && c.FirstReplyBy != "" {
		switch c.ServiceLevel {
		case stats.ServiceLevelMet:
			r.totals(p).slMet++
		case stats.ServiceLevelMissed:
			r.totals(p).slMissed++
		}
	}
	// A card stored before customerWaitBy existed has no attribution.
	if rs := c.ResponseSamples; len(rs.CustomerWaitBy) == len(rs.CustomerWaitMs) {
		for i, id := range rs.CustomerWaitBy {
			if p, ok := personOf(c, id); ok {
				t := r.totals(p)
				t.waits = append(t.waits, rs.CustomerWaitMs[i])
			}
		}
	}
	return nil
}

func (r *productivityReport) finish(emit emitFunc) error {
	for _, person := range sortedKeys(r.agents) {
		t := r.agents[person]
		avg := null()
		if t.replyCount > 0 {
			avg = num(roundDiv(t.replyTotal, t.replyCount))
		}
		p50, p90 := percentileCells(t.waits)
		t.waits = nil
		if err := emit(Row{
			str(person), str(t.name), num(t.sessions), num(t.operatorMsgs), num(t.clientMsgs),
			num(t.replyCount), avg, maxCell(t.replyMax, t.replyCount), num(t.presence),
			num(t.slMet), num(t.slMissed), share(t.slMet, t.slMet+t.slMissed),
			p50, p90,
			num(t.rated), share(t.satisfied, t.rated),
		}); err != nil {
			return err
		}
	}
	return nil
}

// ---- sources ----

type sourceTotals struct {
	sessions, bot, operator, client, handoffs, noResponse, abandoned int64
}

type sourcesReport struct {
	channels map[string]*sourceTotals
}

func (*sourcesReport) columns() []Column {
	return []Column{
		{Name: "channel", Nullable: true}, {Name: "sessions", Kind: KindInt}, {Name: "botMessages", Kind: KindInt},
		{Name: "operatorMessages", Kind: KindInt}, {Name: "clientMessages", Kind: KindInt},
		{Name: "handoffs", Kind: KindInt}, {Name: "noOperatorResponse", Kind: KindInt}, {Name: "abandoned", Kind: KindInt},
	}
}

// reachedOperators tells from the card alone whether the session was handed
// to live agents: an agent took part, or noOperatorResponse (which the spec
// sets on a handoff or an agent) is true.
func reachedOperators(c *card.Card) bool {
	return len(c.Agents) > 0 || c.NoOperatorResponse || c.Abandoned
}

func (r *sourcesReport) card(c *card.Card, _ emitFunc) error {
	t := r.channels[c.Channel]
	if t == nil {
		t = &sourceTotals{}
		r.channels[c.Channel] = t
	}
	t.sessions++
	t.bot += c.Productivity.BotMessages
	t.operator += c.Productivity.OperatorMessages
	t.client += c.Productivity.ClientMessages
	if reachedOperators(c) {
		t.handoffs++
	}
	if c.NoOperatorResponse {
		t.noResponse++
	}
	if c.Abandoned {
		t.abandoned++
	}
	return nil
}

func (r *sourcesReport) finish(emit emitFunc) error {
	for _, ch := range sortedKeys(r.channels) {
		t := r.channels[ch]
		if err := emit(Row{str(ch), num(t.sessions), num(t.bot), num(t.operator), num(t.client),
			num(t.handoffs), num(t.noResponse), num(t.abandoned)}); err != nil {
			return err
		}
	}
	return nil
}

// ---- pages ----

type pagesReport struct {
	urls map[string]int64
}

func (*pagesReport) columns() []Column {
	return []Column{{Name: "url", Nullable: true}, {Name: "sessions", Kind: KindInt}}
}

func (r *pagesReport) card(c *card.Card, _ emitFunc) error {
	for _, u := range c.Pages { // distinct per card already
		r.urls[u]++
	}
	return nil
}

func (r *pagesReport) finish(emit emitFunc) error {
	urls := sortedKeys(r.urls)
	// Most visited first, like popular-phrases; ties by url.
	slices.SortStableFunc(urls, func(a, b string) int { return cmp.Compare(r.urls[b], r.urls[a]) })
	for _, u := range urls {
		if err := emit(Row{str(u), num(r.urls[u])}); err != nil {
			return err
		}
	}
	return nil
}

// ---- client-phrases and transcripts ----

type linesReport struct {
	withTimes  bool
	clientOnly bool
}

func (r linesReport) columns() []Column {
	cols := []Column{{Name: "sessionId"}}
	if r.withTimes {
		cols = append(cols, Column{Name: "at", Kind: KindTime, Nullable: true})
	}
	if r.clientOnly {
		return append(cols, Column{Name: "text"})
	}
	// An attachment may have no name, a system line no name.
	return append(cols, Column{Name: "role"}, Column{Name: "name", Nullable: true}, Column{Name: "text", Nullable: true})
}

func (r linesReport) card(c *card.Card, emit emitFunc) error {
	for i := range c.ChatLog {
		l := &c.ChatLog[i]
		text := l.Text
		if r.clientOnly {
			// A client phrase is something typed: attachments are skipped.
			if l.Role != "customer" || l.File != nil || l.Text == "" {
				continue
			}
		} else if l.File != nil {
			text = l.File.Name
		}
		row := make(Row, 0, 5)
		row = append(row, str(c.SessionID))
		if r.withTimes {
			row = append(row, timeCell(l.At))
		}
		if !r.clientOnly {
			row = append(row, str(l.Role), str(l.Name))
		}
		if err := emit(append(row, str(text))); err != nil {
			return err
		}
	}
	return nil
}

func (linesReport) finish(emitFunc) error { return nil }

// ---- chat-session-fact ----

// factColumns maps the data-mart columns to statistics keys, in order.
var factColumns = []struct {
	name, key string
	kind      Kind
}{
	{"CHAT_SESSION_ID", "csg_ChatSessionID", KindString},
	{"START_DATE_TIME_KEY", "ChatServerSessionStartedAt", KindTime},
	{"END_DATE_TIME_KEY", "ChatServerSessionClosedAt", KindTime},
	{"SESSION_DURATION", "csg_SessionTotalTime", KindInt},
	{"UNTIL_FIRST_AGENT_DURATION", "csg_SessionUntilFirstAgentTime", KindInt},
	{"UNTIL_FIRST_REPLY_DURATION", "csg_SessionUntilFirstReplyTime", KindInt},
	{"MSG_FROM_AGENTS_COUNT", "csg_MessagesFromAgentsCount", KindInt},
	{"MSG_FROM_AGENTS_SIZE", "csg_MessagesFromAgentsSize", KindInt},
	{"MSG_FROM_CUSTOMERS_COUNT", "csg_MessagesFromCustomersCount", KindInt},
	{"MSG_FROM_CUSTOMERS_SIZE", "csg_MessagesFromCustomersSize", KindInt},
	{"AGENTS_COUNT", "csg_PartiesAsAgentCount", KindInt},
	{"HANDLE_COUNT", "cse_SessionHandleTotalCount", KindInt},
	{"HANDLE_DURATION", "cse_SessionHandleTotalTime", KindInt},
	{"ACTIVE_IDLE_COUNT", "cse_ActiveIdleTotalCount", KindInt},
	{"ACTIVE_IDLE_DURATION", "cse_ActiveIdleTotalTime", KindInt},
	{"AGENT_REPLY_COUNT", "cse_AgentReplyTotalCount", KindInt},
	{"AGENT_REPLY_DURATION", "cse_AgentReplyTotalTime", KindInt},
	{"AGENT_REPLY_MAX_DURATION", "cse_AgentReplyMaxTime", KindInt},
	{"AGENT_WAIT_COUNT", "cse_AgentWaitTotalCount", KindInt},
	{"AGENT_WAIT_DURATION", "cse_AgentWaitTotalTime", KindInt},
	{"AGENT_WAIT_MAX_DURATION", "cse_AgentWaitMaxTime", KindInt},
	{"CUSTOMER_REPLY_COUNT", "cse_CustomerReplyTotalCount", KindInt},
	{"CUSTOMER_REPLY_DURATION", "cse_CustomerReplyTotalTime", KindInt},
	{"CUSTOMER_REPLY_MAX_DURATION", "cse_CustomerReplyMaxTime", KindInt},
	{"CUSTOMER_WAIT_COUNT", "cse_CustomerWaitTotalCount", KindInt},
	{"CUSTOMER_WAIT_DURATION", "cse_CustomerWaitTotalTime", KindInt},
	{"CUSTOMER_WAIT_MAX_DURATION", "cse_CustomerWaitMaxTime", KindInt},
	{"ASYNC_DORMANT_COUNT", "cse_AsyncDormantTotalCount", KindInt},
	{"ASYNC_DORMANT_DURATION", "cse_AsyncDormantTotalTime", KindInt},
	{"ASYNC_IDLE_COUNT", "cse_AsyncIdleTotalCount", KindInt},
	{"ASYNC_IDLE_DURATION", "cse_AsyncIdleTotalTime", KindInt},
	{"ENDED_BY", "csg_SessionEndedBy", KindString},
	{"ENDED_REASON", "csg_SessionEndedReason", KindString},
	{"ASYNC_MODE", "csg_ChatAsyncMode", KindInt},
	{"LANGUAGE_NAME", "csg_LanguageName", KindString},
	{"MEDIA_ORIGIN", "csg_MediaOrigin", KindString},
	{"TENANT_KEY", "", KindString}, // the folder
}

type factReport struct{}

func (factReport) columns() []Column {
	cols := make([]Column, len(factColumns))
	for i, f := range factColumns {
		cols[i] = Column{Name: f.name, Kind: f.kind, Nullable: f.key != ""} // only TENANT_KEY is always there
	}
	return cols
}

func (factReport) card(c *card.Card, emit emitFunc) error {
	row := make(Row, len(factColumns))
	for i, f := range factColumns {
		switch {
		case f.key == "":
			row[i] = str(c.Folder)
		case f.kind == KindTime:
			row[i] = statTimeCell(c.Statistics, f.key)
		case f.kind == KindInt:
			row[i] = statNumCell(c.Statistics, f.key)
		default:
			row[i] = statStrCell(c.Statistics, f.key)
		}
	}
	return emit(row)
}

func (factReport) finish(emitFunc) error { return nil }

// ---- terminations ----

type terminationKey struct{ day, by, reason, agent string }

type terminationsReport struct {
	loc    *time.Location
	counts map[terminationKey]int64
}

func (*terminationsReport) columns() []Column {
	// A closed card without the csg_SessionEnded* statistics (never
	// synced) groups under empty cells.
	return []Column{{Name: "day"}, {Name: "endedBy", Nullable: true}, {Name: "endedReason", Nullable: true},
		{Name: "endedAgent", Nullable: true}, {Name: "sessions", Kind: KindInt}}
}

func (r *terminationsReport) card(c *card.Card, _ emitFunc) error {
	if c.Active {
		return nil
	}
	s := c.Statistics
	r.counts[terminationKey{localDay(c, r.loc), s["csg_SessionEndedBy"].String(),
		s["csg_SessionEndedReason"].String(), s["csg_SessionEndedAgent"].String()}]++
	return nil
}

func (r *terminationsReport) finish(emit emitFunc) error {
	keys := make([]terminationKey, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b terminationKey) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.by, b.by), cmp.Compare(a.reason, b.reason), cmp.Compare(a.agent, b.agent))
	})
	for _, k := range keys {
		if err := emit(Row{str(k.day), str(k.by), str(k.reason), str(k.agent), num(r.counts[k])}); err != nil {
			return err
		}
	}
	return nil
}

// ---- message-statistics ----

type dayChannel struct{ day, channel string }

type messageTotals struct {
	sessions, agentMsgs, agentChars, custMsgs, custChars, botMsgs, botChars int64
}

type messageStatsReport struct {
	loc    *time.Location
	totals map[dayChannel]*messageTotals
}

func (*messageStatsReport) columns() []Column {
	return []Column{
		{Name: "day"}, {Name: "channel", Nullable: true}, {Name: "sessions", Kind: KindInt},
		{Name: "agentMessages", Kind: KindInt}, {Name: "agentChars", Kind: KindInt},
		{Name: "customerMessages", Kind: KindInt}, {Name: "customerChars", Kind: KindInt},
		{Name: "botMessages", Kind: KindInt}, {Name: "botChars", Kind: KindInt},
	}
}

func (r *messageStatsReport) card(c *card.Card, _ emitFunc) error {
	k := dayChannel{localDay(c, r.loc), c.Channel}
	t := r.totals[k]
	if t == nil {
		t = &messageTotals{}
		r.totals[k] = t
	}
	// Mode "fired" leaves zero counts out of the map: absent adds 0.
	n := func(key string) int64 { v, _ := statNum(c.Statistics, key); return v }
	t.sessions++
	t.agentMsgs += n("csg_MessagesFromAgentsCount")
	t.agentChars += n("csg_MessagesFromAgentsSize")
	t.custMsgs += n("csg_MessagesFromCustomersCount")
	t.custChars += n("csg_MessagesFromCustomersSize")
	t.botMsgs += n("csg_MessagesFromBotsCount")
	t.botChars += n("csg_MessagesFromBotsSize")
	return nil
}

func (r *messageStatsReport) finish(emit emitFunc) error {
	keys := make([]dayChannel, 0, len(r.totals))
	for k := range r.totals {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b dayChannel) int {
		return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.channel, b.channel))
	})
	for _, k := range keys {
		t := r.totals[k]
		if err := emit(Row{str(k.day), str(k.channel), num(t.sessions), num(t.agentMsgs), num(t.agentChars),
			num(t.custMsgs), num(t.custChars), num(t.botMsgs), num(t.botChars)}); err != nil {
			return err
		}
	}
	return nil
}

// ---- billing ----

type billingTotals struct{ sessions, paid int64 }

type billingReport struct {
	prices   map[string]float64
	channels map[string]*billingTotals
}

func (*billingReport) columns() []Column {
	return []Column{
		{Name: "channel", Nullable: true}, {Name: "sessions", Kind: KindInt}, {Name: "paidMessages", Kind: KindInt},
		// unitPrice is empty for a channel without a price; its cost is 0
		// as reports.md says.
		{Name: "unitPrice", Kind: KindFloat, Nullable: true}, {Name: "cost", Kind: KindFloat},
	}
}

func (r *billingReport) card(c *card.Card, _ emitFunc) error {
	t := r.channels[c.Channel]
	if t == nil {
		t = &billingTotals{}
		r.channels[c.Channel] = t
	}
	t.sessions++
	t.paid += c.Productivity.BotMessages + c.Productivity.OperatorMessages
	return nil
}

func (r *billingReport) finish(emit emitFunc) error {
	for _, ch := range sortedKeys(r.channels) {
		t := r.channels[ch]
		price, priced := r.prices[ch]
		unit := null()
		if priced {
			unit = float(price)
		}
		// Rounded to a millionth so float noise (3 × 0.01) never shows.
		cost := math.Round(float64(t.paid)*price*1e6) / 1e6
		if err := emit(Row{str(ch), num(t.sessions), num(t.paid), unit, float(cost)}); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Columns returns a report's columns, in file order.
func Columns(report string, withTimes bool) ([]Column, error) {
	d, ok := lookupReport(report)
	if !ok {
		return nil, fmt.Errorf("unknown report %q", report)
	}
	return d.build(env{loc: time.UTC, withTimes: withTimes}).columns(), nil
}
