// Package reference is an independent, test-only implementation of the
// statistics spec (shared/spec/statistics.md, transcript.md, and the card
// figures of analytics.md). It is written
// from the spec alone, deliberately unlike the production engine: it first
// builds explicit presence intervals (with positions in event order), then
// handle periods as their unions, then computes every figure with its own
// simple loop. It favours obviously-correct over fast.
package reference

import (
	"sort"
	"time"
	"unicode/utf8"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// span is a stretch of time with the event positions that open and close it.
// Positions index the effective event list (known types, up to the end).
type span struct {
	fromPos, toPos int
	from, to       int64
}

func (s span) length() int64 { return s.to - s.from }

// joinEvent is an explicit `joined` or an implied join (rule 3).
type joinEvent struct {
	pos, p int
}

// session holds the reading of one transcript that every figure shares.
type session struct {
	t      *transcript.Transcript
	ev     []*transcript.Event // effective events: known type, up to and including the first ended
	closed bool
	start  int64
	end    int64

	presence [][]span    // per participant
	joins    []joinEvent // every explicit or implied join, in event order
	takePart []int       // per participant: position of first taking part, -1 when never
	periods  []span      // handle periods
	dormant  []span      // async dormant periods
}

func (s *session) part(e *transcript.Event) *transcript.Participant {
	if e.P < 0 {
		return nil
	}
	return &s.t.Participants[e.P]
}

func isLine(e *transcript.Event) bool {
	return e.Type == transcript.EventMessage || e.Type == transcript.EventAttachment
}

func (s *session) roleOf(e *transcript.Event) transcript.Role {
	if p := s.part(e); p != nil {
		return p.Role
	}
	return transcript.RoleUnknown
}

// customerMsg: a message or attachment from a customer, automatic included.
func (s *session) customerMsg(e *transcript.Event) bool {
	return isLine(e) && s.roleOf(e) == transcript.RoleCustomer
}

// agentLine: a message or attachment from a visible agent, automatic included.
func (s *session) agentLine(e *transcript.Event) bool {
	p := s.part(e)
	return isLine(e) && p != nil && p.VisibleAgent()
}

// agentMsg: a non-automatic message or attachment from a visible agent.
func (s *session) agentMsg(e *transcript.Event) bool {
	return s.agentLine(e) && !e.Automatic
}

func (s *session) botMsg(e *transcript.Event) bool {
	return isLine(e) && s.roleOf(e) == transcript.RoleBot
}

func textSize(e *transcript.Event) int64 {
	if e.Type == transcript.EventAttachment {
		return 0
	}
	return int64(utf8.RuneCountInString(e.Text))
}

func read(t *transcript.Transcript) *session {
	s := &session{t: t}
	for i := range t.Events {
		e := &t.Events[i]
		if e.Type == transcript.EventUnknown {
			continue // rule 6
		}
		if e.Type == transcript.EventRating {
			continue // rule 4: survey data, never the session clock
		}
		s.ev = append(s.ev, e)
		if e.Type == transcript.EventEnded {
			s.closed = true
			break // rule 5
		}
	}
	if len(s.ev) > 0 {
		s.start = s.ev[0].At
		s.end = s.ev[len(s.ev)-1].At
	}
	s.buildPresence()
	s.buildTakePart()
	s.buildPeriods()
	s.buildDormant()
	return s
}

// buildPresence walks the events once per participant.
func (s *session) buildPresence() {
	n := len(s.t.Participants)
	s.presence = make([][]span, n)
	if len(s.ev) == 0 {
		return
	}
	last := len(s.ev) - 1
	var joins []joinEvent
	for pi := 0; pi < n; pi++ {
		p := &s.t.Participants[pi]
		present := false
		var open span
		if p.Role == transcript.RoleCustomer {
			if s.customerFromStart(pi) {
				present = true
				open = span{fromPos: 0, from: s.start}
			}
		}
		agentish := p.Role == transcript.RoleAgent || p.Role == transcript.RoleSupervisor
		for pos, e := range s.ev {
			if int(e.P) != pi {
				continue
			}
			switch {
			case e.Type == transcript.EventJoined:
				joins = append(joins, joinEvent{pos, pi})
				if !present {
					present = true
					open = span{fromPos: pos, from: e.At}
				}
			case e.Type == transcript.EventLeft:
				if present {
					present = false
					open.toPos, open.to = pos, e.At
					s.presence[pi] = append(s.presence[pi], open)
				}
			case isLine(e) && agentish && !present:
				joins = append(joins, joinEvent{pos, pi})
				present = true
				open = span{fromPos: pos, from: e.At}
			}
		}
		if present {
			open.toPos, open.to = last, s.end
			s.presence[pi] = append(s.presence[pi], open)
		}
	}
	sort.SliceStable(joins, func(i, j int) bool { return joins[i].pos < joins[j].pos })
	s.joins = joins
}

// customerFromStart: a customer is present from the session start unless
// their first joined/left event is a joined.
func (s *session) customerFromStart(pi int) bool {
	for _, e := range s.ev {
		if int(e.P) == pi && (e.Type == transcript.EventJoined || e.Type == transcript.EventLeft) {
			return e.Type == transcript.EventLeft
		}
	}
	return true
}

// buildTakePart: a participant takes part when they join (explicitly or
// implied), send anything, or (customers) are present from the start.
func (s *session) buildTakePart() {
	s.takePart = make([]int, len(s.t.Participants))
	for pi := range s.takePart {
		s.takePart[pi] = -1
		if len(s.presence[pi]) > 0 {
			s.takePart[pi] = s.presence[pi][0].fromPos
		}
		for pos, e := range s.ev {
			if int(e.P) == pi && isLine(e) {
				if s.takePart[pi] < 0 || pos < s.takePart[pi] {
					s.takePart[pi] = pos
				}
				break
			}
		}
	}
}

// union merges spans whose times touch or overlap (a leave and a join at the
// same instant do not split).
func union(spans []span) []span {
	in := append([]span(nil), spans...)
	sort.SliceStable(in, func(i, j int) bool {
		if in[i].from != in[j].from {
			return in[i].from < in[j].from
		}
		return in[i].fromPos < in[j].fromPos
	})
	var out []span
	for _, sp := range in {
		if k := len(out) - 1; k >= 0 && sp.from <= out[k].to {
			// positions follow time, so the later end has the later position
			out[k].to = max(out[k].to, sp.to)
			out[k].toPos = max(out[k].toPos, sp.toPos)
			continue
		}
		out = append(out, sp)
	}
	return out
}

func (s *session) buildPeriods() {
	var all []span
	for pi := range s.t.Participants {
		if s.t.Participants[pi].VisibleAgent() {
			all = append(all, s.presence[pi]...)
		}
	}
	s.periods = union(all)
}

func (s *session) visibleJoinAt(pos int) bool {
	for _, j := range s.joins {
		if j.pos == pos && s.t.Participants[j.p].VisibleAgent() {
			return true
		}
	}
	return false
}

func (s *session) buildDormant() {
	if !s.t.Async || len(s.ev) == 0 {
		return
	}
	dormant := false
	var open span
	for pos, e := range s.ev {
		if !dormant {
			if e.Type == transcript.EventDormant {
				dormant = true
				open = span{fromPos: pos, from: e.At}
			}
			continue
		}
		if e.Type == transcript.EventResumed || e.Type == transcript.EventHandoff || s.visibleJoinAt(pos) {
			dormant = false
			open.toPos, open.to = pos, e.At
			s.dormant = append(s.dormant, open)
		}
	}
	if dormant {
		open.toPos, open.to = len(s.ev)-1, s.end
		s.dormant = append(s.dormant, open)
	}
}

// linesInside: positions of every message and attachment inside sp.
func (s *session) linesInside(sp span) []int {
	var out []int
	for pos := sp.fromPos; pos <= sp.toPos; pos++ {
		if isLine(s.ev[pos]) {
			out = append(out, pos)
		}
	}
	return out
}

type group struct{ count, total, max int64 }

func (g *group) add(v int64) {
	g.count++
	g.total += v
	if v > g.max {
		g.max = v
	}
}

// idle: gaps longer than threshold between the span's start, every line
// inside it and its end.
func (s *session) idle(spans []span, threshold time.Duration) group {
	var g group
	for _, sp := range spans {
		instants := []int64{sp.from}
		for _, pos := range s.linesInside(sp) {
			instants = append(instants, s.ev[pos].At)
		}
		instants = append(instants, sp.to)
		for i := 1; i < len(instants); i++ {
			gap := instants[i] - instants[i-1]
			if time.Duration(gap)*time.Millisecond > threshold {
				g.add(gap)
			}
		}
	}
	return g
}

func avg(total, count int64) int64 {
	// nearest millisecond, halves up (all figures are non-negative)
	return (2*total + count) / (2 * count)
}

func ptr(v int64) *int64 { return &v }

func secs(ms int64) int64 { return ms / 1000 }

type waitReply struct {
	agentReply, agentWait, customerReply, customerWait group
	perAgent                                           map[int]*group
	// customerWaitPairs are the [from, to) of every customerWait pair.
	customerWaitPairs [][2]int64
	// customerWaitBy is the participant id that ended each pair.
	customerWaitBy []string
}

func (s *session) overlapDormant(from, to int64) int64 {
	var d int64
	for _, sp := range s.dormant {
		a, b := max(from, sp.from), min(to, sp.to)
		if b > a {
			d += b - a
		}
	}
	return d
}

func (s *session) waitReply() waitReply {
	w := waitReply{perAgent: map[int]*group{}}
	type line struct {
		pos      int
		customer bool
	}
	var lines []line
	for pos, e := range s.ev {
		switch {
		case s.customerMsg(e) && !e.Automatic:
			lines = append(lines, line{pos, true})
		case s.agentMsg(e):
			lines = append(lines, line{pos, false})
		}
	}
	// cut into runs
	type run struct{ first, last int } // positions
	var runs []run
	var sides []bool
	for i, l := range lines {
		if i == 0 || l.customer != lines[i-1].customer {
			runs = append(runs, run{l.pos, l.pos})
			sides = append(sides, l.customer)
		} else {
			runs[len(runs)-1].last = l.pos
		}
	}
	for i := 0; i+1 < len(runs); i++ {
		r, next := runs[i], runs[i+1]
		m := s.ev[next.first]
		first, last := s.ev[r.first].At, s.ev[r.last].At
		if sides[i] {
			w.customerWait.add(m.At - last)
			w.customerWaitPairs = append(w.customerWaitPairs, [2]int64{last, m.At})
			w.customerWaitBy = append(w.customerWaitBy, s.t.Participants[m.P].ID)
			ps := s.periodHolding(next.first)
			amount := m.At - max(first, ps.from)
			w.agentReply.add(amount)
			g := w.perAgent[int(m.P)]
			if g == nil {
				g = &group{}
				w.perAgent[int(m.P)] = g
			}
			g.add(amount)
		} else {
			w.agentWait.add(m.At - last - s.overlapDormant(last, m.At))
			w.customerReply.add(m.At - first)
		}
	}
	return w
}

func (s *session) periodHolding(pos int) span {
	for _, p := range s.periods {
		if p.fromPos <= pos && pos <= p.toPos {
			return p
		}
	}
	panic("reference: agent message outside every handle period")
}

// Compute returns the card of t as the spec defines it.
func Compute(t *transcript.Transcript, set stats.Settings, attached []string) *stats.Card {
	s := read(t)
	parts := t.Participants
	c := &stats.Card{
		SessionID:      t.SessionID,
		Active:         !s.closed,
		Status:         "active",
		ChatLog:        []stats.LogEntry{},
		Members:        []string{},
		RelatedTickets: []string{},
		Markers:        []string{},
		Pages:          []string{},
		Statistics:     stats.Statistics{},
		Agents:         []stats.Agent{},
	}
	if s.closed {
		c.Status = "closed"
	}

	// chat log
	for _, e := range s.ev {
		if !isLine(e) {
			continue
		}
		p := s.part(e)
		le := stats.LogEntry{At: transcript.FormatMillis(e.At), Participant: p.ID, Role: p.Role.String(), Name: p.Name}
		if e.Type == transcript.EventMessage {
			le.Text = e.Text
		} else {
			le.File = &stats.File{Name: e.File.Name, ContentType: e.File.ContentType, Size: e.File.Size}
		}
		c.ChatLog = append(c.ChatLog, le)
	}
	c.MessageCount = len(c.ChatLog)

	for i := range parts {
		if parts[i].Role == transcript.RoleCustomer {
			c.Customer = parts[i].PersonRef()
			break
		}
	}

	// members and agents: order of first appearance
	var order []int
	for pi := range parts {
		if s.takePart[pi] >= 0 {
			order = append(order, pi)
		}
	}
	// Ambiguity: customers present from the start and a participant taking
	// part at the first event tie on "first appearance". Like production,
	// presence from the start counts as before every event (then
	// participants order).
	rank := func(pi int) int {
		if parts[pi].Role == transcript.RoleCustomer && s.customerFromStart(pi) {
			return -1
		}
		return s.takePart[pi]
	}
	sort.SliceStable(order, func(i, j int) bool { return rank(order[i]) < rank(order[j]) })
	seen := map[string]bool{}
	for _, pi := range order {
		p := &parts[pi]
		if p.Role == transcript.RoleCustomer || p.VisibleAgent() {
			if !seen[p.PersonRef()] {
				seen[p.PersonRef()] = true
				c.Members = append(c.Members, p.PersonRef())
			}
		}
	}

	agentTookPart := false
	for _, pi := range order {
		if parts[pi].VisibleAgent() {
			agentTookPart = true
		}
	}
	for _, j := range s.joins {
		if parts[j.p].VisibleAgent() {
			c.SupportPerson = parts[j.p].PersonRef()
		}
	}

	var firstCustomerAt, firstAgentAt int64 // the interval of waitBeforeFirstReplyMs
	if len(s.ev) > 0 {
		c.StartTime = transcript.FormatMillis(s.start)
		if s.closed {
			c.EndTime = transcript.FormatMillis(s.end)
		}
	}

	// first handle period figures
	if len(s.periods) > 0 {
		fp := s.periods[0]
		firstAgent, firstCustomer := -1, -1
		for pos := fp.fromPos; pos <= fp.toPos; pos++ {
			e := s.ev[pos]
			if firstAgent < 0 && s.agentMsg(e) {
				firstAgent = pos
			}
			if firstCustomer < 0 && s.customerMsg(e) {
				firstCustomer = pos
			}
		}
		if firstAgent >= 0 {
			if firstCustomer < 0 || firstAgent < firstCustomer {
				c.WaitBeforeFirstReplyMs = ptr(0)
				firstCustomerAt, firstAgentAt = s.ev[firstAgent].At, s.ev[firstAgent].At
			} else {
				c.WaitBeforeFirstReplyMs = ptr(s.ev[firstAgent].At - s.ev[firstCustomer].At)
				firstCustomerAt, firstAgentAt = s.ev[firstCustomer].At, s.ev[firstAgent].At
			}
			c.AgentGreetingMs = ptr(s.ev[firstAgent].At - fp.from)
			c.FirstReplyBy = s.t.Participants[s.ev[firstAgent].P].ID
		}
	}

	handoff := false
	anyAgentMsg := false
	for _, e := range s.ev {
		switch {
		case e.Type == transcript.EventHandoff:
			handoff = true
		case e.Type == transcript.EventTicket:
			c.RelatedTickets = appendNew(c.RelatedTickets, e.Ticket)
		case e.Type == transcript.EventMarker:
			c.Markers = appendNew(c.Markers, e.Marker)
		case e.Type == transcript.EventPage:
			c.Pages = appendNew(c.Pages, e.URL)
		case s.agentMsg(e):
			anyAgentMsg = true
		}
	}
	for _, tk := range attached {
		c.RelatedTickets = appendNew(c.RelatedTickets, tk)
	}
	c.NoOperatorResponse = (handoff || agentTookPart) && !anyAgentMsg
	c.Abandoned = s.closed && handoff && !agentTookPart

	w := s.waitReply()

	// per-agent
	for _, pi := range order {
		p := &parts[pi]
		if !p.VisibleAgent() {
			continue
		}
		a := stats.Agent{Participant: p.ID, Person: p.PersonRef(), Name: p.Name}
		for _, e := range s.ev {
			if int(e.P) == pi && s.agentMsg(e) {
				a.Messages++
			}
		}
		if g := w.perAgent[pi]; g != nil {
			a.ReplyCount, a.ReplyTotalMs, a.ReplyMaxMs = g.count, g.total, g.max
			a.ReplyAvgMs = ptr(avg(g.total, g.count))
		}
		for _, sp := range s.presence[pi] {
			a.PresenceMs += sp.length()
		}
		c.Agents = append(c.Agents, a)
	}

	toGroup := func(g group) *stats.Group {
		if g.count == 0 {
			return nil
		}
		return &stats.Group{Count: g.count, TotalMs: g.total, MaxMs: g.max, AvgMs: avg(g.total, g.count)}
	}
	c.ResponseTimes = stats.ResponseTimes{
		AgentReply:    toGroup(w.agentReply),
		AgentWait:     toGroup(w.agentWait),
		CustomerReply: toGroup(w.customerReply),
		CustomerWait:  toGroup(w.customerWait),
	}

	for _, e := range s.ev {
		switch {
		case s.agentMsg(e):
			c.Productivity.OperatorMessages++
		case s.customerMsg(e):
			c.Productivity.ClientMessages++
		case s.botMsg(e):
			c.Productivity.BotMessages++
		}
	}
	if w.agentReply.count > 0 {
		c.Productivity.ResponseMaxMs = ptr(w.agentReply.max)
		c.Productivity.ResponseAvgMs = ptr(avg(w.agentReply.total, w.agentReply.count))
	}

	s.statistics(c, set, w, agentTookPart)
	s.analytics(c, set, w, handoff, agentTookPart, [2]int64{firstCustomerAt, firstAgentAt})
	return c
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// key is one candidate statistic: identity keys are attached in mode fired
// whatever happened; others only when fired.
type key struct {
	name     string
	v        stats.Value
	identity bool
	fired    bool
}

func (s *session) statistics(c *stats.Card, set stats.Settings, w waitReply, agentTookPart bool) {
	t := s.t
	out := c.Statistics
	if len(s.ev) == 0 {
		out["csg_MediaType"] = stats.Str("chat")
		out["csg_TenantId"] = stats.Str(t.Tenant)
		return
	}
	var keys []key
	id := func(name string, v stats.Value) { keys = append(keys, key{name, v, true, true}) }
	num := func(name string, v int64, fired bool) { keys = append(keys, key{name, stats.Num(v), false, fired}) }
	str := func(name string, v string) { keys = append(keys, key{name, stats.Str(v), false, true}) }
	grp := func(prefix string, g group) {
		num(prefix+"TotalCount", g.count, g.count > 0)
		num(prefix+"TotalTime", secs(g.total), g.count > 0)
		num(prefix+"MaxTime", secs(g.max), g.count > 0)
	}

	id("ChatServerSessionStartedAt", stats.Str(transcript.FormatMillis(s.start)))
	if s.closed {
		id("ChatServerSessionClosedAt", stats.Str(transcript.FormatMillis(s.end)))
	}
	id("csg_ChatSessionID", stats.Str(t.SessionID))
	if t.Language != "" {
		id("csg_LanguageName", stats.Str(t.Language))
	}
	if t.Channel != "" {
		id("csg_MediaOrigin", stats.Str(t.Channel))
	}
	id("csg_MediaType", stats.Str("chat"))
	id("csg_TenantId", stats.Str(t.Tenant))
	async := "0"
	if t.Async {
		async = "1"
	}
	id("csg_ChatAsyncMode", stats.Str(async))

	parts := t.Participants
	if s.closed {
		num("csg_SessionTotalTime", secs(s.end-s.start), true)
	}
	// Until keys
	firstAgentJoin := int64(-1)
	for _, j := range s.joins {
		if parts[j.p].VisibleAgent() {
			firstAgentJoin = s.ev[j.pos].At - s.start
			break
		}
	}
	num("csg_SessionUntilFirstAgentTime", secs(max(firstAgentJoin, 0)), firstAgentJoin >= 0)
	firstReply, firstBot := int64(-1), int64(-1)
	for _, e := range s.ev {
		if firstReply < 0 && s.agentMsg(e) {
			firstReply = e.At - s.start
		}
		if firstBot < 0 && s.botMsg(e) {
			firstBot = e.At - s.start
		}
	}
	num("csg_SessionUntilFirstReplyTime", secs(max(firstReply, 0)), firstReply >= 0)
	num("csg_SessionUntilFirstBotTime", secs(max(firstBot, 0)), firstBot >= 0)

	var customerSpans []span
	for pi := range parts {
		if parts[pi].Role == transcript.RoleCustomer {
			customerSpans = append(customerSpans, s.presence[pi]...)
		}
	}
	var withCustomer int64
	for _, sp := range union(customerSpans) {
		withCustomer += sp.length()
	}
	num("csg_SessionWithCustomerTime", secs(withCustomer), len(customerSpans) > 0)

	msgs := func(name string, is func(*transcript.Event) bool) {
		var n, size int64
		for _, e := range s.ev {
			if is(e) {
				n++
				size += textSize(e)
			}
		}
		num("csg_MessagesFrom"+name+"Count", n, n > 0)
		num("csg_MessagesFrom"+name+"Size", size, n > 0)
	}
	msgs("Agents", s.agentLine)
	msgs("Customers", s.customerMsg)
	msgs("Bots", s.botMsg)

	parties := func(name string, is func(p *transcript.Participant) bool) {
		var n int64
		for pi := range parts {
			if s.takePart[pi] >= 0 && is(&parts[pi]) {
				n++
			}
		}
		num("csg_PartiesAs"+name+"Count", n, n > 0)
	}
	agentish := func(p *transcript.Participant) bool {
		return p.Role == transcript.RoleAgent || p.Role == transcript.RoleSupervisor
	}
	parties("Agent", func(p *transcript.Participant) bool { return p.VisibleAgent() })
	parties("Coach", func(p *transcript.Participant) bool { return agentish(p) && p.Visibility == transcript.VisibilityCoach })
	parties("Monitor", func(p *transcript.Participant) bool {
		return agentish(p) && p.Visibility == transcript.VisibilityMonitor
	})
	parties("Bot", func(p *transcript.Participant) bool { return p.Role == transcript.RoleBot })

	if s.closed {
		endedAgent := "ABSENT"
		if agentTookPart {
			endedAgent = "VISITED"
			for pi := range parts {
				if !parts[pi].VisibleAgent() {
					continue
				}
				for _, sp := range s.presence[pi] {
					if sp.toPos == len(s.ev)-1 && s.ev[sp.toPos].Type == transcript.EventEnded {
						endedAgent = "PRESENT"
					}
				}
			}
		}
		str("csg_SessionEndedAgent", endedAgent)
		by, reason := s.endedBy()
		str("csg_SessionEndedBy", by)
		str("csg_SessionEndedReason", reason)
	}

	grp("cse_SessionHandle", func() group {
		var g group
		for _, p := range s.periods {
			g.add(p.length())
		}
		return g
	}())
	grp("cse_ActiveIdle", s.idle(s.periods, set.IdleThreshold))
	grp("cse_AgentReply", w.agentReply)
	grp("cse_AgentWait", w.agentWait)
	grp("cse_CustomerReply", w.customerReply)
	grp("cse_CustomerWait", w.customerWait)
	if t.Async {
		var g group
		for _, d := range s.dormant {
			g.add(d.length())
		}
		grp("cse_AsyncDormant", g)
		grp("cse_AsyncIdle", s.idle(s.dormant, set.AsyncIdleThreshold))
	}

	for _, k := range keys {
		switch set.Mode {
		case stats.ModeNone:
			switch k.name {
			case "ChatServerSessionStartedAt", "ChatServerSessionClosedAt", "csg_MediaType", "csg_TenantId":
				out[k.name] = k.v
			}
		case stats.ModeAll:
			out[k.name] = k.v
		default:
			if k.identity || k.fired {
				out[k.name] = k.v
			}
		}
	}
}

var endedReasons = map[string]string{"quit": "QUIT", "disconnect": "DISCONNECT", "force": "FORCE", "inactive": "INACTIVE", "error": "DB_ERROR"}

func (s *session) endedBy() (by, reason string) {
	endedEv := s.ev[len(s.ev)-1]
	for _, e := range s.ev[:len(s.ev)-1] {
		if e.Type == transcript.EventLeft && s.roleOf(e) == transcript.RoleCustomer {
			if e.Reason == "" {
				return "CLIENT", "QUIT"
			}
			return "CLIENT", endedReasons[e.Reason]
		}
	}
	system := false
	switch s.roleOf(endedEv) {
	case transcript.RoleCustomer:
		by = "CLIENT"
	case transcript.RoleAgent:
		by = "AGENT"
	case transcript.RoleSupervisor:
		by = "SUPERVISOR"
	case transcript.RoleBot:
		by = "BOT"
	default: // no participant, or a system participant
		by, system = "SYSTEM", true
	}
	switch {
	case endedEv.Reason != "":
		reason = endedReasons[endedEv.Reason]
	case system:
		reason = "INACTIVE"
	default:
		reason = "QUIT"
	}
	return by, reason
}
