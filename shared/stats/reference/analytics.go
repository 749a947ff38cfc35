package reference

import (
	"time"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// analytics adds the figures of analytics.md, each read straight from its
// row of the spec. firstReply is the [from, to) interval whose length is
// waitBeforeFirstReplyMs (meaningful only when that figure is not null).
func (s *session) analytics(c *stats.Card, set stats.Settings, w waitReply, handoff, agentTookPart bool, firstReply [2]int64) {
	// rating: the last `rating` event in event order, also after `ended`.
	for i := range s.t.Events {
		if e := &s.t.Events[i]; e.Type == transcript.EventRating {
			c.Rating = &stats.Rating{Score: e.Score, Comment: e.Comment}
		}
	}

	// botContained: closed, no handoff, no agent took part, a bot message.
	botMessage := false
	for _, e := range s.ev {
		botMessage = botMessage || s.botMsg(e)
	}
	c.BotContained = s.closed && !handoff && !agentTookPart && botMessage

	// responseSamples: every customerWait pair's calendar amount, in order.
	c.ResponseSamples.CustomerWaitMs = []int64{}
	for _, p := range w.customerWaitPairs {
		c.ResponseSamples.CustomerWaitMs = append(c.ResponseSamples.CustomerWaitMs, p[1]-p[0])
	}
	c.ResponseSamples.CustomerWaitBy = append([]string{}, w.customerWaitBy...)

	// businessHours: only when the folder has business hours.
	f := set.Folder
	figure := c.WaitBeforeFirstReplyMs
	if f != nil && f.Hours != nil {
		bh := &stats.BusinessHours{}
		if c.WaitBeforeFirstReplyMs != nil {
			bh.WaitBeforeFirstReplyMs = ptr(businessTime(f, firstReply[0], firstReply[1]))
			figure = bh.WaitBeforeFirstReplyMs
		}
		for _, j := range s.joins {
			if s.t.Participants[j.p].VisibleAgent() {
				bh.UntilFirstAgentMs = ptr(businessTime(f, s.start, s.ev[j.pos].At))
				break
			}
		}
		var g group
		for _, p := range w.customerWaitPairs {
			g.add(businessTime(f, p[0], p[1]))
		}
		if g.count > 0 {
			bh.CustomerWait = &stats.Group{Count: g.count, TotalMs: g.total, MaxMs: g.max, AvgMs: avg(g.total, g.count)}
		}
		c.BusinessHours = bh
	}

	// serviceLevel: applies with a handoff or an agent who took part.
	if handoff || agentTookPart {
		target := folders.DefaultFirstReplyTarget
		if f != nil {
			target = f.FirstReplyTarget
		}
		switch {
		case figure != nil && time.Duration(*figure)*time.Millisecond <= target:
			c.ServiceLevel = "met"
		case figure != nil:
			c.ServiceLevel = "missed"
		case s.closed:
			c.ServiceLevel = "missed"
		}
	}
}

// businessTime is the open part of [a, b), taken one UTC minute at a time
// (cut at a and b): within a UTC minute every zone of the tz database since
// 1972 keeps one local minute, so the whole piece is open or closed as the
// local clock reads at its start. Deliberately slow and literal.
func businessTime(f *folders.Settings, a, b int64) int64 {
	var total int64
	for from := a; from < b; {
		to := (from/60000 + 1) * 60000
		if from < 0 && from%60000 != 0 {
			to = from / 60000 * 60000
		}
		to = min(to, b)
		local := time.UnixMilli(from).In(f.Location)
		if open(f, local) {
			total += to - from
		}
		from = to
	}
	return total
}

// open: the local date is not a holiday and the local time is inside one
// of that weekday's ranges.
func open(f *folders.Settings, local time.Time) bool {
	y, m, d := local.Date()
	for _, h := range f.Holidays {
		if h.Year == y && h.Month == m && h.Day == d {
			return false
		}
	}
	minute := local.Hour()*60 + local.Minute()
	for _, r := range f.Hours[local.Weekday()] {
		if r.From <= minute && minute < r.To {
			return true
		}
	}
	return false
}
