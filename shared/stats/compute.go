package stats

import (
	"unsafe"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/transcript"
)

func formatSlow(ms int64) string { return transcript.FormatMillis(ms) }

// group accumulates one Count/Time/Max figure in milliseconds.
type group struct{ count, total, max int64 }

func (g *group) add(ms int64) {
	g.count++
	g.total += ms
	if ms > g.max {
		g.max = ms
	}
}

// pstate is the per-participant state of one pass.
type pstate struct {
	present  bool
	tookPart bool
	joinAt   int64
	presence int64
	agent    int32 // index into Card.Agents for visible agents who took part, else -1
	// firstJL: for customers, whether the first joined/left event is a join
	// (then they are not present from the start).
	firstJL uint8
}

const (
	jlNone uint8 = iota
	jlJoined
	jlLeft
)

const (
	sideNone = iota
	sideCustomer
	sideAgent
)

// interval is a closed stretch of time, for dormant time inside wait pairs.
type interval struct{ from, to int64 }

// engine is the state of one pass over a transcript. All the rules of
// statistics.md that depend on order are applied in that single pass.
type engine struct {
	t    *transcript.Transcript
	s    Settings
	card *Card
	ps   []pstate

	idleMs, asyncIdleMs int64

	start, end int64
	closed     bool
	endIdx     int               // index of the `ended` event, or -1
	ratingIdx  int               // index of the last `rating` event, or -1
	hours      *folders.Settings // the folder's, when it has business hours

	// handle periods
	agentsPresent  int
	periodOpen     bool
	periodStart    int64
	pendingClose   bool // the last agent left; a join at the same instant merges
	pendingCloseAt int64
	periods        int
	handle         group
	activeIdle     group
	lastInstant    int64

	// first handle period, for waitBeforeFirstReplyMs and agentGreetingMs
	firstDone        bool // the first period has closed
	firstCustSeen    bool
	firstCustAt      int64
	pendingCust      bool // a customer line after the closing leave, at the same instant
	firstAgentMsg    bool
	firstAgentMsgAt  int64
	firstAgentMsgBy  int32 // participant index of that message's sender
	agentBeforeCust  bool
	firstPeriodStart int64

	// async dormancy
	dormant         bool
	dormStart       int64
	dormLastInstant int64
	dormGroup       group
	asyncIdle       group
	dormants        []interval

	// wait/reply runs
	side                  int
	runFirst, runLast     int64
	agentReply, agentWait group
	custReply, custWait   group
	custWaitSamples       []int64
	custWaitBy            []string // participant ids parallel to custWaitSamples
	custWaitBiz           group    // business time of the customerWait pairs
	maxPairs              int      // capacity for custWaitSamples

	// session figures
	firstAgentJoin, firstReply, firstBot int64
	hasAgentJoin, hasReply, hasBot       bool
	agentMsgs, agentSize                 int64 // every line from visible agents
	custMsgs, custSize                   int64
	botMsgs, botSize                     int64
	operatorMsgs                         int64 // non-automatic visible agent lines
	customersPresent                     int
	custUnionStart, custUnion            int64
	anyCustomerPresent                   bool
	handoff                              bool
	agentTookPart                        bool
	partiesAgent, partiesCoach           int64
	partiesMonitor, partiesBot           int64

	endedBy, endedReason, endedAgent string

	members, tickets, markers, pages distinct
}

// Compute returns the card of a normalised transcript (see
// transcript.Normalize). attachedTickets are the tickets attached through
// the API; they follow the transcript's own tickets without repeats.
func Compute(t *transcript.Transcript, s Settings, attachedTickets []string) *Card {
	e := &engine{t: t, s: s, endIdx: -1, ratingIdx: -1}
	if s.Folder.HasBusinessHours() {
		e.hours = s.Folder
	}
	e.idleMs = s.IdleThreshold.Milliseconds()
	e.asyncIdleMs = s.AsyncIdleThreshold.Milliseconds()
	c := &Card{SessionID: t.SessionID}
	e.card = c
	e.ps = make([]pstate, len(t.Participants))
	for i := range e.ps {
		e.ps[i].agent = -1
	}
	for i := range t.Participants {
		if t.Participants[i].Role == transcript.RoleCustomer {
			c.Customer = t.Participants[i].PersonRef()
			break
		}
	}

	first, last, nLines, nFiles := e.scan()
	c.Agents = []Agent{}
	c.Statistics = make(Statistics, 48)
	if first < 0 {
		// No event of a known type: nothing happened yet, there is no start.
		c.Active, c.Status = true, "active"
		c.ChatLog = []LogEntry{}
		c.Members, c.Markers, c.Pages = []string{}, []string{}, []string{}
		c.RelatedTickets = e.tickets.addAll(attachedTickets)
		c.Statistics["csg_MediaType"] = Str("chat")
		c.Statistics["csg_TenantId"] = Str(t.Tenant)
		e.analytics()
		return c
	}
	c.ChatLog = make([]LogEntry, nLines)
	var files []File
	if nFiles > 0 {
		files = make([]File, 0, nFiles)
	}
	stamps, irregular := e.stamps(first, last, nLines)
	e.maxPairs = nLines/2 + 1

	e.start = t.Events[first].At
	e.beginCustomers()
	line := 0
	for i := first; i <= last; i++ {
		ev := &t.Events[i]
		if ev.Type == transcript.EventUnknown || ev.Type == transcript.EventRating {
			continue // rule 4: a rating never moves the session clock
		}
		at := ev.At
		if e.pendingClose && at > e.pendingCloseAt {
			e.closePeriod(e.pendingCloseAt)
		}
		switch ev.Type {
		case transcript.EventMessage, transcript.EventAttachment:
			e.line(ev)
			p := &t.Participants[ev.P]
			// Filled in place: no per-line copy of the entry.
			le := &c.ChatLog[line]
			if irregular == nil {
				le.At = stamps[line*24 : line*24+24]
			} else {
				le.At = irregular[line]
			}
			le.Participant, le.Role, le.Name = p.ID, p.Role.String(), p.Name
			if ev.Type == transcript.EventMessage {
				le.Text = ev.Text
			} else {
				files = append(files, File{Name: ev.File.Name, ContentType: ev.File.ContentType, Size: ev.File.Size})
				le.File = &files[len(files)-1]
			}
			line++
		case transcript.EventJoined:
			e.join(ev.P, at)
		case transcript.EventLeft:
			e.leave(ev, at)
		case transcript.EventHandoff:
			e.handoff = true
			e.endDormancy(at)
		case transcript.EventTicket:
			e.tickets.add(ev.Ticket)
		case transcript.EventMarker:
			e.markers.add(ev.Marker)
		case transcript.EventPage:
			e.pages.add(ev.URL)
		case transcript.EventDormant:
			if t.Async && !e.dormant {
				e.dormant, e.dormStart, e.dormLastInstant = true, at, at
			}
		case transcript.EventResumed:
			e.endDormancy(at)
		case transcript.EventEnded:
			e.closed = true
			e.endedEvent(ev)
		}
	}
	e.end = t.Events[last].At
	e.finish()

	c.MessageCount = len(c.ChatLog)
	c.RelatedTickets = e.tickets.addAll(attachedTickets)
	c.Members = e.members.list()
	c.Markers = e.markers.list()
	c.Pages = e.pages.list()
	e.fill()
	e.analytics()
	return c
}

// stamps formats the time of every chat line into one string, 24 bytes a
// line: one allocation for the whole log, not one per line. A year outside
// 0000-9999 (only in a hand-built transcript) does not fit; then each line
// is formatted on its own and returned in irregular.
func (e *engine) stamps(first, last, n int) (all string, irregular []string) {
	if n == 0 {
		return "", nil
	}
	buf := make([]byte, 0, n*24)
	var st stamper
	for i := first; i <= last; i++ {
		ev := &e.t.Events[i]
		if ev.Type == transcript.EventMessage || ev.Type == transcript.EventAttachment {
			buf = st.append(buf, ev.At)
		}
	}
	if len(buf) == n*24 {
		return unsafe.String(&buf[0], len(buf)), nil // buf is never written again
	}
	irregular = make([]string, 0, n)
	for i := first; i <= last; i++ {
		ev := &e.t.Events[i]
		if ev.Type == transcript.EventMessage || ev.Type == transcript.EventAttachment {
			irregular = append(irregular, formatSlow(ev.At))
		}
	}
	return "", irregular
}

// scan finds the first and last events the card reads (rule 4 and 5) and
// sizes the chat log; it also notes each customer's first joined/left and
// the last rating (rule 5: also one after `ended`).
func (e *engine) scan() (first, last, lines, files int) {
	first, last = -1, -1
	defer func() {
		if e.endIdx < 0 {
			return // the loop below saw every event
		}
		// Rule 5: a rating after `ended` still counts; the last one wins.
		for i := len(e.t.Events) - 1; i > e.endIdx; i-- {
			if e.t.Events[i].Type == transcript.EventRating {
				e.ratingIdx = i
				return
			}
		}
	}()
	for i := range e.t.Events {
		ev := &e.t.Events[i]
		if ev.Type == transcript.EventUnknown {
			continue
		}
		if ev.Type == transcript.EventRating {
			e.ratingIdx = i // rule 4: a rating is neither start nor end
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
		switch ev.Type {
		case transcript.EventMessage:
			lines++
		case transcript.EventAttachment:
			lines++
			files++
		case transcript.EventJoined, transcript.EventLeft:
			p := &e.ps[ev.P]
			if p.firstJL == jlNone {
				if ev.Type == transcript.EventJoined {
					p.firstJL = jlJoined
				} else {
					p.firstJL = jlLeft
				}
			}
		}
		if ev.Type == transcript.EventEnded {
			e.endIdx = i
			break
		}
	}
	return first, last, lines, files
}

// beginCustomers makes present from the start every customer whose first
// joined/left event is not a join.
func (e *engine) beginCustomers() {
	for i := range e.t.Participants {
		if e.t.Participants[i].Role == transcript.RoleCustomer && e.ps[i].firstJL != jlJoined {
			e.arrive(int32(i), e.start)
		}
	}
}

// arrive marks p present and taking part from at. It does not touch handle
// periods; join does that for agents.
func (e *engine) arrive(pi int32, at int64) {
	p := &e.t.Participants[pi]
	st := &e.ps[pi]
	st.present = true
	st.joinAt = at
	e.takePart(pi)
	if p.Role == transcript.RoleCustomer {
		e.anyCustomerPresent = true
		if e.customersPresent == 0 {
			e.custUnionStart = at
		}
		e.customersPresent++
	}
}

// takePart records that p took part (rule 3), once.
func (e *engine) takePart(pi int32) {
	st := &e.ps[pi]
	if st.tookPart {
		return
	}
	st.tookPart = true
	p := &e.t.Participants[pi]
	switch p.Role {
	case transcript.RoleCustomer:
		e.members.add(p.PersonRef())
	case transcript.RoleAgent, transcript.RoleSupervisor:
		switch p.Visibility {
		case transcript.VisibilityAll:
			e.agentTookPart = true
			e.partiesAgent++
			e.members.add(p.PersonRef())
			a := Agent{Participant: p.ID, Person: p.PersonRef(), Name: p.Name}
			st.agent = int32(len(e.card.Agents))
			e.card.Agents = append(e.card.Agents, a)
		case transcript.VisibilityCoach:
			e.partiesCoach++
		case transcript.VisibilityMonitor:
			e.partiesMonitor++
		}
	case transcript.RoleBot:
		e.partiesBot++
	}
}

// join handles an explicit or implied join at `at`.
func (e *engine) join(pi int32, at int64) {
	p := &e.t.Participants[pi]
	st := &e.ps[pi]
	visible := p.VisibleAgent()
	if !st.present {
		e.arrive(pi, at)
		if visible {
			e.agentsPresent++
			if e.agentsPresent == 1 {
				e.openPeriod(at)
			}
		}
	} else {
		e.takePart(pi)
	}
	if visible {
		// Every join counts for supportPerson, repeated and implied ones too.
		e.card.SupportPerson = p.PersonRef()
		if !e.hasAgentJoin {
			e.hasAgentJoin, e.firstAgentJoin = true, at
		}
		e.endDormancy(at)
	}
}

func (e *engine) openPeriod(at int64) {
	if e.pendingClose {
		if at == e.pendingCloseAt {
			// A leave and a join at one instant: the period goes on.
			e.pendingClose = false
			if e.pendingCust {
				e.pendingCust = false
				e.firstCustSeen, e.firstCustAt = true, at
			}
			return
		}
		e.closePeriod(e.pendingCloseAt)
	}
	e.periodOpen = true
	e.periodStart = at
	e.lastInstant = at
	if e.periods == 0 {
		e.firstPeriodStart = at
	}
}

// closePeriod ends the current handle period at `at`.
func (e *engine) closePeriod(at int64) {
	if !e.periodOpen {
		return
	}
	e.idleGap(at)
	e.handle.add(at - e.periodStart)
	e.periods++
	e.periodOpen = false
	e.pendingClose = false
	e.pendingCust = false
	e.firstDone = true
}

func (e *engine) idleGap(at int64) {
	if gap := at - e.lastInstant; gap > e.idleMs {
		e.activeIdle.add(gap)
	}
	e.lastInstant = at
}

func (e *engine) leave(ev *transcript.Event, at int64) {
	pi := ev.P
	p := &e.t.Participants[pi]
	if p.Role == transcript.RoleCustomer && e.endedBy == "" && !e.closed {
		// The first customer `left` before `ended` decides how it ended.
		e.endedBy = "CLIENT"
		e.endedReason = reasonName(ev.Reason, "QUIT")
	}
	st := &e.ps[pi]
	if !st.present {
		return // a left from someone not present changes nothing
	}
	e.depart(pi, at)
	if p.VisibleAgent() {
		e.agentsPresent--
		if e.agentsPresent == 0 {
			e.pendingClose, e.pendingCloseAt = true, at
		}
	}
}

// depart ends p's presence at `at` (no handle-period bookkeeping).
func (e *engine) depart(pi int32, at int64) {
	st := &e.ps[pi]
	st.present = false
	d := at - st.joinAt
	st.presence += d
	if st.agent >= 0 {
		e.card.Agents[st.agent].PresenceMs += d
	}
	if e.t.Participants[pi].Role == transcript.RoleCustomer {
		e.customersPresent--
		if e.customersPresent == 0 {
			e.custUnion += at - e.custUnionStart
		}
	}
}

func (e *engine) endDormancy(at int64) {
	if !e.dormant {
		return
	}
	e.dormant = false
	if gap := at - e.dormLastInstant; gap > e.asyncIdleMs {
		e.asyncIdle.add(gap)
	}
	e.dormGroup.add(at - e.dormStart)
	e.dormants = append(e.dormants, interval{e.dormStart, at})
}

// line handles a message or attachment.
func (e *engine) line(ev *transcript.Event) {
	at := ev.At
	pi := ev.P
	p := &e.t.Participants[pi]
	st := &e.ps[pi]
	size := int64(0)
	if ev.Type == transcript.EventMessage {
		size = textSize(ev.Text)
	}
	switch p.Role {
	case transcript.RoleCustomer:
		e.takePart(pi)
		e.custMsgs++
		e.custSize += size
		e.firstPeriodCustomer(at)
		if !ev.Automatic {
			e.pair(sideCustomer, at, pi)
		}
	case transcript.RoleAgent, transcript.RoleSupervisor:
		if !st.present {
			e.join(pi, at)
		}
		if p.Visibility == transcript.VisibilityAll {
			e.agentMsgs++
			e.agentSize += size
			if !ev.Automatic {
				e.agentMessage(pi, at)
			}
		}
	case transcript.RoleBot:
		e.takePart(pi)
		e.botMsgs++
		e.botSize += size
		if !e.hasBot {
			e.hasBot, e.firstBot = true, at
		}
	}
	if e.periodOpen {
		e.idleGap(at)
	}
	if e.dormant {
		if gap := at - e.dormLastInstant; gap > e.asyncIdleMs {
			e.asyncIdle.add(gap)
		}
		e.dormLastInstant = at
	}
}

// firstPeriodCustomer notes a customer line for waitBeforeFirstReplyMs.
func (e *engine) firstPeriodCustomer(at int64) {
	if e.firstDone || e.firstCustSeen || !e.periodOpen {
		return
	}
	if e.pendingClose {
		// After the closing leave at this instant: inside only if a join
		// at the same instant merges the period.
		e.pendingCust = true
		return
	}
	e.firstCustSeen, e.firstCustAt = true, at
}

func (e *engine) agentMessage(pi int32, at int64) {
	e.operatorMsgs++
	st := &e.ps[pi]
	e.card.Agents[st.agent].Messages++
	if !e.hasReply {
		e.hasReply, e.firstReply = true, at
	}
	if !e.firstDone && !e.firstAgentMsg {
		e.firstAgentMsg, e.firstAgentMsgAt, e.firstAgentMsgBy = true, at, pi
		e.agentBeforeCust = !e.firstCustSeen
	}
	e.pair(sideAgent, at, pi)
}

// pair extends the current run or closes it against the first line of the
// other side (m at `at`, sent by pi).
func (e *engine) pair(side int, at int64, pi int32) {
	if e.side == side {
		e.runLast = at
		return
	}
	switch e.side {
	case sideCustomer:
		e.custWait.add(at - e.runLast)
		if e.custWaitSamples == nil {
			e.custWaitSamples = make([]int64, 0, e.maxPairs)
		}
		e.custWaitSamples = append(e.custWaitSamples, at-e.runLast)
		if e.custWaitBy == nil {
			e.custWaitBy = make([]string, 0, e.maxPairs)
		}
		e.custWaitBy = append(e.custWaitBy, e.t.Participants[pi].ID)
		if e.hours != nil {
			e.custWaitBiz.add(e.hours.BusinessMs(e.runLast, at))
		}
		from := e.runFirst
		if e.periodStart > from {
			from = e.periodStart
		}
		r := at - from
		e.agentReply.add(r)
		a := &e.card.Agents[e.ps[pi].agent]
		a.ReplyCount++
		a.ReplyTotalMs += r
		if r > a.ReplyMaxMs {
			a.ReplyMaxMs = r
		}
	case sideAgent:
		e.agentWait.add(at - e.runLast - e.dormantBetween(e.runLast, at))
		e.custReply.add(at - e.runFirst)
	}
	e.side, e.runFirst, e.runLast = side, at, at
}

func (e *engine) dormantBetween(from, to int64) int64 {
	var d int64
	for _, iv := range e.dormants {
		d += overlap(iv.from, iv.to, from, to)
	}
	if e.dormant {
		d += overlap(e.dormStart, to, from, to)
	}
	return d
}

func overlap(a0, a1, b0, b1 int64) int64 {
	lo, hi := max(a0, b0), min(a1, b1)
	if hi > lo {
		return hi - lo
	}
	return 0
}

func (e *engine) endedEvent(ev *transcript.Event) {
	if e.endedBy != "" {
		return // a customer's left came first
	}
	if ev.P < 0 {
		e.endedBy = "SYSTEM"
		e.endedReason = reasonName(ev.Reason, "INACTIVE")
		return
	}
	switch e.t.Participants[ev.P].Role {
	case transcript.RoleCustomer:
		e.endedBy = "CLIENT"
	case transcript.RoleAgent:
		e.endedBy = "AGENT"
	case transcript.RoleSupervisor:
		e.endedBy = "SUPERVISOR"
	case transcript.RoleBot:
		e.endedBy = "BOT"
	default:
		e.endedBy = "SYSTEM"
		e.endedReason = reasonName(ev.Reason, "INACTIVE")
		return
	}
	e.endedReason = reasonName(ev.Reason, "QUIT")
}

func reasonName(r, none string) string {
	switch r {
	case "quit":
		return "QUIT"
	case "disconnect":
		return "DISCONNECT"
	case "force":
		return "FORCE"
	case "inactive":
		return "INACTIVE"
	case "error":
		return "DB_ERROR"
	}
	return none
}

// finish closes every open presence, period and dormancy at the session end.
func (e *engine) finish() {
	end := e.end
	presentAtEnd := e.agentsPresent > 0
	if e.pendingClose {
		e.closePeriod(e.pendingCloseAt)
	}
	for i := range e.ps {
		if e.ps[i].present {
			e.depart(int32(i), end)
		}
	}
	if e.periodOpen {
		e.closePeriod(end)
	}
	e.endDormancy(end)
	switch {
	case !e.agentTookPart:
		e.endedAgent = "ABSENT"
	case presentAtEnd:
		e.endedAgent = "PRESENT"
	default:
		e.endedAgent = "VISITED"
	}
}

// fill writes the card fields and the statistics map from the pass's state.
func (e *engine) fill() {
	c, t := e.card, e.t
	c.Active = !e.closed
	c.Status = "active"
	c.StartTime = formatMs(e.start)
	if e.closed {
		c.Status = "closed"
		c.EndTime = formatMs(e.end)
	}
	if e.firstAgentMsg {
		var w int64
		if !e.agentBeforeCust {
			w = e.firstAgentMsgAt - e.firstCustAt
		}
		g := e.firstAgentMsgAt - e.firstPeriodStart
		c.WaitBeforeFirstReplyMs = &w
		c.AgentGreetingMs = &g
	}
	c.NoOperatorResponse = (e.handoff || e.agentTookPart) && e.operatorMsgs == 0
	c.Abandoned = e.closed && e.handoff && !e.agentTookPart
	for i := range c.Agents {
		a := &c.Agents[i]
		if a.ReplyCount > 0 {
			v := avg(a.ReplyTotalMs, a.ReplyCount)
			a.ReplyAvgMs = &v
		}
	}
	c.ResponseTimes = ResponseTimes{
		AgentReply:    e.agentReply.ms(),
		AgentWait:     e.agentWait.ms(),
		CustomerReply: e.custReply.ms(),
		CustomerWait:  e.custWait.ms(),
	}
	c.Productivity = Productivity{OperatorMessages: e.operatorMsgs, ClientMessages: e.custMsgs, BotMessages: e.botMsgs}
	if e.agentReply.count > 0 {
		mx, av := e.agentReply.max, avg(e.agentReply.total, e.agentReply.count)
		c.Productivity.ResponseMaxMs, c.Productivity.ResponseAvgMs = &mx, &av
	}

	st := c.Statistics
	mode := e.s.Mode
	st["ChatServerSessionStartedAt"] = Str(c.StartTime)
	if e.closed {
		st["ChatServerSessionClosedAt"] = Str(c.EndTime)
	}
	st["csg_MediaType"] = Str("chat")
	st["csg_TenantId"] = Str(t.Tenant)
	if mode == ModeNone {
		return
	}
	st["csg_ChatSessionID"] = Str(t.SessionID)
	if t.Language != "" {
		st["csg_LanguageName"] = Str(t.Language)
	}
	if t.Channel != "" {
		st["csg_MediaOrigin"] = Str(t.Channel)
	}
	async := "0"
	if t.Async {
		async = "1"
	}
	st["csg_ChatAsyncMode"] = Str(async)

	all := mode == ModeAll
	secs := func(key string, ms int64, fired bool) {
		if !fired {
			ms = 0
		}
		if fired || all {
			st[key] = Num(ms / 1000)
		}
	}
	count := func(key string, n int64) {
		if n > 0 || all {
			st[key] = Num(n)
		}
	}
	grp := func(prefix string, g group) {
		if g.count > 0 || all {
			st[prefix+"TotalCount"] = Num(g.count)
			st[prefix+"TotalTime"] = Num(g.total / 1000)
			st[prefix+"MaxTime"] = Num(g.max / 1000)
		}
	}
	if e.closed {
		st["csg_SessionTotalTime"] = Num((e.end - e.start) / 1000)
		st["csg_SessionEndedAgent"] = Str(e.endedAgent)
		st["csg_SessionEndedBy"] = Str(e.endedBy)
		st["csg_SessionEndedReason"] = Str(e.endedReason)
	}
	secs("csg_SessionUntilFirstAgentTime", e.firstAgentJoin-e.start, e.hasAgentJoin)
	secs("csg_SessionUntilFirstReplyTime", e.firstReply-e.start, e.hasReply)
	secs("csg_SessionUntilFirstBotTime", e.firstBot-e.start, e.hasBot)
	secs("csg_SessionWithCustomerTime", e.custUnion, e.anyCustomerPresent)
	if e.agentMsgs > 0 || all {
		st["csg_MessagesFromAgentsCount"] = Num(e.agentMsgs)
		st["csg_MessagesFromAgentsSize"] = Num(e.agentSize)
	}
	if e.custMsgs > 0 || all {
		st["csg_MessagesFromCustomersCount"] = Num(e.custMsgs)
		st["csg_MessagesFromCustomersSize"] = Num(e.custSize)
	}
	if e.botMsgs > 0 || all {
		st["csg_MessagesFromBotsCount"] = Num(e.botMsgs)
		st["csg_MessagesFromBotsSize"] = Num(e.botSize)
	}
	count("csg_PartiesAsAgentCount", e.partiesAgent)
	count("csg_PartiesAsCoachCount", e.partiesCoach)
	count("csg_PartiesAsMonitorCount", e.partiesMonitor)
	count("csg_PartiesAsBotCount", e.partiesBot)
	grp("cse_SessionHandle", e.handle)
	grp("cse_ActiveIdle", e.activeIdle)
	grp("cse_AgentReply", e.agentReply)
	grp("cse_AgentWait", e.agentWait)
	grp("cse_CustomerReply", e.custReply)
	grp("cse_CustomerWait", e.custWait)
	if t.Async {
		grp("cse_AsyncDormant", e.dormGroup)
		grp("cse_AsyncIdle", e.asyncIdle)
	}
}

func (g group) ms() *Group {
	if g.count == 0 {
		return nil
	}
	return &Group{Count: g.count, TotalMs: g.total, MaxMs: g.max, AvgMs: avg(g.total, g.count)}
}

// avg is total ÷ count rounded to the nearest integer, halves up.
func avg(total, count int64) int64 {
	return (2*total + count) / (2 * count)
}

func formatMs(ms int64) string { return string(appendMillis(make([]byte, 0, 24), ms)) }

// analytics writes the figures of analytics.md; fill has run (or, for a
// transcript with no start, nothing has).
func (e *engine) analytics() {
	c := e.card
	if e.ratingIdx >= 0 {
		r := &e.t.Events[e.ratingIdx]
		c.Rating = &Rating{Score: r.Score, Comment: r.Comment}
	}
	c.BotContained = e.closed && !e.handoff && !e.agentTookPart && e.botMsgs > 0
	c.ResponseSamples.CustomerWaitMs = e.custWaitSamples
	if c.ResponseSamples.CustomerWaitMs == nil {
		c.ResponseSamples.CustomerWaitMs = []int64{}
	}
	c.ResponseSamples.CustomerWaitBy = e.custWaitBy
	if c.ResponseSamples.CustomerWaitBy == nil {
		c.ResponseSamples.CustomerWaitBy = []string{}
	}
	if e.firstAgentMsg {
		c.FirstReplyBy = e.t.Participants[e.firstAgentMsgBy].ID
	}
	first := c.WaitBeforeFirstReplyMs
	if e.hours != nil {
		bh := &BusinessHours{CustomerWait: e.custWaitBiz.ms()}
		if first != nil {
			var w int64
			if !e.agentBeforeCust {
				w = e.hours.BusinessMs(e.firstCustAt, e.firstAgentMsgAt)
			}
			bh.WaitBeforeFirstReplyMs = &w
			first = &w
		}
		if e.hasAgentJoin {
			u := e.hours.BusinessMs(e.start, e.firstAgentJoin)
			bh.UntilFirstAgentMs = &u
		}
		c.BusinessHours = bh
	}
	if e.handoff || e.agentTookPart {
		switch {
		case first != nil && *first <= e.s.firstReplyTargetMs():
			c.ServiceLevel = ServiceLevelMet
		case first != nil || e.closed:
			c.ServiceLevel = ServiceLevelMissed
		}
	}
}
