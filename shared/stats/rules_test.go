package stats_test

import (
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// want lists expected statistics; a key mapped to nil must be absent.
type want map[string]any

func checkStats(t *testing.T, c *stats.Card, w want) {
	t.Helper()
	for k, v := range w {
		got, ok := c.Statistics[k]
		switch v := v.(type) {
		case nil:
			if ok {
				t.Errorf("%s = %v, want absent", k, got)
			}
		case string:
			if !ok || !got.IsStr || got.Str != v {
				t.Errorf("%s = %v (present %v), want %q", k, got, ok, v)
			}
		case int:
			if !ok || got.IsStr || got.Num != int64(v) {
				t.Errorf("%s = %v (present %v), want %d", k, got, ok, v)
			}
		}
	}
}

func group(count, total, max int64) *stats.Group {
	return &stats.Group{Count: count, TotalMs: total, MaxMs: max, AvgMs: (2*total + count) / (2 * count)}
}

func eqPtr(t *testing.T, name string, got *int64, want *int64) {
	t.Helper()
	if (got == nil) != (want == nil) || (got != nil && *got != *want) {
		f := func(p *int64) string {
			if p == nil {
				return "absent"
			}
			b, _ := json.Marshal(*p)
			return string(b)
		}
		t.Errorf("%s = %s, want %s", name, f(got), f(want))
	}
}

func TestRules(t *testing.T) {
	type tc struct {
		name   string
		events []transcript.Event
		opts   []opt
		mode   stats.Mode
		check  func(t *testing.T, c *stats.Card)
	}
	cases := []tc{
		{
			name: "redirect: leave and join at the same instant keep one handle period",
			events: []transcript.Event{
				started(0), joined(10, "a1"), msg(12, "c1", "hi"), msg(20, "a1", "hello"),
				left(60, "a1", ""), joined(60, "a2"), msg(70, "a2", "taking over"), msg(80, "c1", "ok"),
				left(100, "a2", ""), ended(110, "", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{
					"cse_SessionHandleTotalCount": 1, "cse_SessionHandleTotalTime": 90, "cse_SessionHandleMaxTime": 90,
					"cse_CustomerWaitTotalCount": 1, "cse_CustomerWaitTotalTime": 8,
					"cse_AgentReplyTotalCount": 1, "cse_AgentReplyTotalTime": 8,
					"cse_AgentWaitTotalCount": 1, "cse_AgentWaitTotalTime": 10,
					"cse_CustomerReplyTotalCount": 1, "cse_CustomerReplyTotalTime": 60,
					"csg_SessionEndedAgent": "VISITED", "csg_SessionEndedBy": "SYSTEM", "csg_SessionEndedReason": "INACTIVE",
					"csg_PartiesAsAgentCount": 2,
				})
				if c.SupportPerson != "person/8" {
					t.Errorf("supportPerson = %q", c.SupportPerson)
				}
				if d := cmp.Diff([]string{"person/1042", "person/7", "person/8"}, c.Members); d != "" {
					t.Errorf("members: %s", d)
				}
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(8000))
				eqPtr(t, "agentGreetingMs", c.AgentGreetingMs, ms(10000))
				if c.Agents[0].PresenceMs != 50000 || c.Agents[1].PresenceMs != 40000 {
					t.Errorf("presence = %d, %d", c.Agents[0].PresenceMs, c.Agents[1].PresenceMs)
				}
			},
		},
		{
			name: "redirect with the join listed before the leave",
			events: []transcript.Event{
				started(0), joined(10, "a1"), joined(60, "a2"), left(60, "a1", ""), ended(100, "a2", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"cse_SessionHandleTotalCount": 1, "cse_SessionHandleTotalTime": 90, "csg_SessionEndedAgent": "PRESENT"})
			},
		},
		{
			name: "a gap of one millisecond splits the live chat in two",
			events: []transcript.Event{
				started(0), joined(10, "a1"), left(60, "a1", ""), joined(60.001, "a2"), ended(100, "a2", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"cse_SessionHandleTotalCount": 2, "cse_SessionHandleTotalTime": 89, "cse_SessionHandleMaxTime": 50})
			},
		},
		{
			name: "two live chats in one session; a pair spans them; reply counted from the second join",
			events: []transcript.Event{
				started(0), joined(10, "a1"), msg(15, "c1", "q1"), msg(20, "a1", "a1"), left(30, "a1", ""),
				msg(100, "c1", "back again"), joined(200, "a2"), msg(210, "a2", "hi"), msg(220, "c1", "thanks"),
				ended(300, "a2", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{
					"cse_SessionHandleTotalCount": 2, "cse_SessionHandleTotalTime": 120, "cse_SessionHandleMaxTime": 100,
					"cse_AgentReplyTotalCount": 2, "cse_AgentReplyTotalTime": 15, "cse_AgentReplyMaxTime": 10,
					"cse_CustomerWaitTotalCount": 2, "cse_CustomerWaitTotalTime": 115, "cse_CustomerWaitMaxTime": 110,
					"cse_AgentWaitTotalCount": 2, "cse_AgentWaitTotalTime": 90, "cse_AgentWaitMaxTime": 80,
					"cse_CustomerReplyTotalCount": 2, "cse_CustomerReplyTotalTime": 90, "cse_CustomerReplyMaxTime": 80,
					"csg_SessionEndedAgent": "PRESENT", "csg_SessionEndedBy": "AGENT", "csg_SessionEndedReason": "QUIT",
					"csg_SessionUntilFirstAgentTime": 10, "csg_SessionUntilFirstReplyTime": 20,
				})
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(5000))
				if c.SupportPerson != "person/8" {
					t.Errorf("supportPerson = %q", c.SupportPerson)
				}
				if c.Agents[0].ReplyTotalMs != 5000 || c.Agents[1].ReplyTotalMs != 10000 {
					t.Errorf("per-agent replies = %+v", c.Agents)
				}
				if d := cmp.Diff(group(2, 15000, 10000), c.ResponseTimes.AgentReply); d != "" {
					t.Errorf("agentReply: %s", d)
				}
			},
		},
		{
			name: "coach and monitor lines neither count nor split a run nor open a live chat",
			events: []transcript.Event{
				started(0), msg(5, "s1", "coach before anyone"), joined(10, "a1"), msg(12, "c1", "hi"),
				msg(14, "s1", "coach tip"), joined(15, "m1"), msg(16, "c1", "still there?"),
				msg(20, "a1", "yes"), ended(30, "a1", "quit"),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{
					"csg_SessionUntilFirstAgentTime": 10, "cse_SessionHandleTotalTime": 20,
					"cse_CustomerWaitTotalCount": 1, "cse_CustomerWaitTotalTime": 4,
					"cse_AgentReplyTotalTime":     8,
					"csg_MessagesFromAgentsCount": 1, "csg_MessagesFromAgentsSize": 3,
					"csg_PartiesAsAgentCount": 1, "csg_PartiesAsCoachCount": 1, "csg_PartiesAsMonitorCount": 1,
				})
				if d := cmp.Diff([]string{"person/1042", "person/7"}, c.Members); d != "" {
					t.Errorf("members: %s", d)
				}
				if c.MessageCount != 5 || len(c.Agents) != 1 {
					t.Errorf("messageCount %d, agents %d", c.MessageCount, len(c.Agents))
				}
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(8000))
			},
		},
		{
			name: "automatic agent lines count as agent lines but are no reply",
			events: []transcript.Event{
				started(0), joined(10, "a1"), auto(10, "a1", "Hello, I'm Ann"), msg(15, "c1", "hi"),
				msg(25, "a1", "hi Jane"), ended(40, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{
					"csg_MessagesFromAgentsCount": 2, "csg_MessagesFromAgentsSize": 21,
					"csg_SessionUntilFirstReplyTime": 25, "cse_AgentReplyTotalCount": 1, "cse_AgentReplyTotalTime": 10,
				})
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(10000))
				eqPtr(t, "agentGreetingMs", c.AgentGreetingMs, ms(15000))
				if c.Productivity.OperatorMessages != 1 || c.Agents[0].Messages != 1 || c.NoOperatorResponse {
					t.Errorf("operatorMessages %d, agent messages %d, noOperatorResponse %v",
						c.Productivity.OperatorMessages, c.Agents[0].Messages, c.NoOperatorResponse)
				}
			},
		},
		{
			name: "only automatic agent lines: no operator response, no first reply",
			events: []transcript.Event{
				started(0), msg(5, "c1", "hi"), joined(10, "a1"), auto(10, "a1", "Hello"), ended(40, "", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionUntilFirstReplyTime": nil, "cse_AgentReplyTotalCount": nil, "csg_MessagesFromAgentsCount": 1})
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, nil)
				eqPtr(t, "agentGreetingMs", c.AgentGreetingMs, nil)
				if !c.NoOperatorResponse || c.Abandoned {
					t.Errorf("noOperatorResponse %v abandoned %v", c.NoOperatorResponse, c.Abandoned)
				}
			},
		},
		{
			name: "customer lines typed in the queue do not start the first-reply clock",
			events: []transcript.Event{
				started(0), msg(5, "c1", "vpn broken"), handoff(6), msg(20, "c1", "anyone?"),
				joined(60, "a1"), msg(70, "a1", "hi"), ended(100, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(0))
				eqPtr(t, "agentGreetingMs", c.AgentGreetingMs, ms(10000))
				checkStats(t, c, want{
					"csg_SessionUntilFirstAgentTime": 60,
					"cse_AgentReplyTotalTime":        10, "cse_CustomerWaitTotalTime": 50,
				})
			},
		},
		{
			name: "async: dormant time is taken out of the agent wait; async idle inside dormancy",
			opts: []opt{async},
			events: []transcript.Event{
				started(0), msg(1, "c1", "hi"), handoff(2), joined(5, "a1"), msg(10, "a1", "hello"),
				left(20, "a1", ""), dormant(30), msg(100, "c1", "still broken"), dormant(200),
				msg(4000, "c1", "hello??"), joined(5000, "a2"), msg(5010, "a2", "sorry"), ended(5100, "a2", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{
					"csg_ChatAsyncMode":          "1",
					"cse_AsyncDormantTotalCount": 1, "cse_AsyncDormantTotalTime": 4970, "cse_AsyncDormantMaxTime": 4970,
					"cse_AsyncIdleTotalCount": 1, "cse_AsyncIdleTotalTime": 3900, "cse_AsyncIdleMaxTime": 3900,
					"cse_AgentWaitTotalCount": 1, "cse_AgentWaitTotalTime": 20,
					"cse_CustomerReplyTotalTime": 90,
					"cse_CustomerWaitTotalTime":  1019,
					"cse_AgentReplyTotalCount":   2, "cse_AgentReplyTotalTime": 15,
					"cse_SessionHandleTotalCount": 2, "cse_SessionHandleTotalTime": 115,
					"cse_ActiveIdleTotalCount": nil,
				})
			},
		},
		{
			name: "dormant is ignored in a non-async session",
			events: []transcript.Event{
				started(0), joined(5, "a1"), msg(10, "a1", "hello"), left(20, "a1", ""), dormant(30),
				msg(100, "c1", "still broken"), ended(200, "", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_ChatAsyncMode": "0", "cse_AsyncDormantTotalCount": nil, "cse_AgentWaitTotalTime": 90})
			},
		},
		{
			name: "async: a handoff ends dormancy; resumed too",
			opts: []opt{async},
			events: []transcript.Event{
				started(0), dormant(10), handoff(50), dormant(60), resumed(70), ended(80, "", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"cse_AsyncDormantTotalCount": 2, "cse_AsyncDormantTotalTime": 50, "cse_AsyncDormantMaxTime": 40, "cse_AsyncIdleTotalCount": nil})
			},
		},
		{
			name: "the customer leaving before the end decides how it ended",
			events: []transcript.Event{
				started(0), joined(10, "a1"), msg(20, "a1", "hi"), left(50, "c1", "disconnect"), ended(60, "a1", "force"),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{
					"csg_SessionEndedBy": "CLIENT", "csg_SessionEndedReason": "DISCONNECT",
					"csg_SessionEndedAgent": "PRESENT", "csg_SessionWithCustomerTime": 50,
				})
			},
		},
		{
			name:   "customer left without a reason: QUIT; agent-ended reasons",
			events: []transcript.Event{started(0), left(5, "c1", ""), ended(6, "sv", "error")},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionEndedBy": "CLIENT", "csg_SessionEndedReason": "QUIT", "csg_SessionEndedAgent": "ABSENT"})
			},
		},
		{
			name:   "ended by a supervisor with reason error",
			events: []transcript.Event{started(0), ended(6, "sv", "error")},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionEndedBy": "SUPERVISOR", "csg_SessionEndedReason": "DB_ERROR"})
			},
		},
		{
			name:   "ended by a bot, no reason",
			events: []transcript.Event{started(0), msg(1, "b1", "bye"), ended(6, "b1", "")},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionEndedBy": "BOT", "csg_SessionEndedReason": "QUIT", "csg_PartiesAsBotCount": 1})
			},
		},
		{
			name:   "ended by a system participant, no reason",
			events: []transcript.Event{started(0), ended(6, "sys", "")},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionEndedBy": "SYSTEM", "csg_SessionEndedReason": "INACTIVE"})
			},
		},
		{
			name: "abandoned: handoff, no agent, closed",
			events: []transcript.Event{
				started(0), msg(1, "b1", "hi"), msg(5, "c1", "agent please"), handoff(6),
				left(300, "c1", "quit"), ended(301, "", "inactive"),
			},
			check: func(t *testing.T, c *stats.Card) {
				if !c.Abandoned || !c.NoOperatorResponse || c.SupportPerson != "" {
					t.Errorf("abandoned %v noOperatorResponse %v supportPerson %q", c.Abandoned, c.NoOperatorResponse, c.SupportPerson)
				}
				checkStats(t, c, want{"csg_SessionEndedAgent": "ABSENT", "cse_SessionHandleTotalCount": nil})
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, nil)
			},
		},
		{
			name: "equal timestamps keep input order: customer then agent at one instant",
			events: []transcript.Event{
				started(0), joined(10, "a1"), msg(20, "c1", "x"), msg(20, "a1", "y"), ended(30, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(0))
				if d := cmp.Diff(group(1, 0, 0), c.ResponseTimes.CustomerWait); d != "" {
					t.Errorf("customerWait: %s", d)
				}
				if c.ResponseTimes.AgentWait != nil {
					t.Errorf("agentWait = %+v, want none", c.ResponseTimes.AgentWait)
				}
			},
		},
		{
			name: "equal timestamps keep input order: agent then customer at one instant",
			events: []transcript.Event{
				started(0), joined(10, "a1"), msg(20, "a1", "y"), msg(20, "c1", "x"), ended(30, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(0))
				if c.ResponseTimes.CustomerWait != nil || c.ResponseTimes.AgentWait == nil {
					t.Errorf("responseTimes = %+v", c.ResponseTimes)
				}
			},
		},
		{
			name:   "a zero-length live chat still counts",
			events: []transcript.Event{started(0), joined(10, "a1"), left(10, "a1", ""), ended(20, "", "")},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"cse_SessionHandleTotalCount": 1, "cse_SessionHandleTotalTime": 0, "csg_SessionEndedAgent": "VISITED"})
				if !c.NoOperatorResponse {
					t.Error("noOperatorResponse should be true: an agent took part and never wrote")
				}
			},
		},
		{
			name: "a customer line after the closing leave at the same instant is inside when a join merges",
			events: []transcript.Event{
				started(0), joined(10, "a1"), left(60, "a1", ""), msg(60, "c1", "hello?"), joined(60, "a2"),
				msg(70, "a2", "hi"), ended(80, "a2", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, ms(10000))
				eqPtr(t, "agentGreetingMs", c.AgentGreetingMs, ms(60000))
			},
		},
		{
			name: "a customer line after the closing leave at the same instant is outside without a join",
			events: []transcript.Event{
				started(0), joined(10, "a1"), left(60, "a1", ""), msg(60, "c1", "hello?"), joined(65, "a2"),
				msg(70, "a2", "hi"), ended(80, "a2", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				eqPtr(t, "waitBeforeFirstReplyMs", c.WaitBeforeFirstReplyMs, nil)
				eqPtr(t, "agentGreetingMs", c.AgentGreetingMs, nil)
				checkStats(t, c, want{"cse_SessionHandleTotalCount": 2})
			},
		},
		{
			name: "non-ASCII text is measured in code points",
			events: []transcript.Event{
				started(0), msg(1, "c1", "Hyvää päivää 👋"), msg(2, "b1", "مرحبا"), msg(3, "c1", "e\u0301"), ended(4, "c1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_MessagesFromCustomersSize": 16, "csg_MessagesFromBotsSize": 5})
			},
		},
		{
			name: "active session: partial figures as of the last event",
			events: []transcript.Event{
				started(0), joined(10, "a1"), msg(20, "c1", "x"), msg(30, "a1", "y"), page(100, "https://x/1"),
			},
			check: func(t *testing.T, c *stats.Card) {
				if !c.Active || c.Status != "active" || c.EndTime != "" {
					t.Errorf("active %v status %q endTime %q", c.Active, c.Status, c.EndTime)
				}
				checkStats(t, c, want{
					"ChatServerSessionClosedAt": nil, "csg_SessionTotalTime": nil, "csg_SessionEndedBy": nil,
					"csg_SessionEndedAgent": nil, "csg_SessionEndedReason": nil,
					"cse_SessionHandleTotalTime": 90, "csg_SessionWithCustomerTime": 100,
				})
				if c.Agents[0].PresenceMs != 90000 {
					t.Errorf("presence = %d", c.Agents[0].PresenceMs)
				}
				if c.Abandoned {
					t.Error("an active session is never abandoned")
				}
			},
		},
		{
			name: "events after the end and unknown types are ignored",
			events: []transcript.Event{
				unknown(-5, "typing"), started(0), msg(1, "c1", "x"), unknown(2, "reaction"), ended(10, "c1", ""),
				msg(20, "c1", "late"), ticket(21, "", "INC-LATE"),
			},
			check: func(t *testing.T, c *stats.Card) {
				if c.MessageCount != 1 || c.StartTime != "2026-11-20T09:00:00.000Z" || len(c.RelatedTickets) != 0 {
					t.Errorf("messageCount %d startTime %s tickets %v", c.MessageCount, c.StartTime, c.RelatedTickets)
				}
				checkStats(t, c, want{"csg_SessionTotalTime": 10})
			},
		},
		{
			name: "a customer who joins later is present from the join, and members follow first appearance",
			events: []transcript.Event{
				started(0), joined(10, "a1"), joined(30, "c1"), msg(40, "c1", "hi"), ended(100, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionWithCustomerTime": 70})
				if d := cmp.Diff([]string{"person/7", "person/1042"}, c.Members); d != "" {
					t.Errorf("members: %s", d)
				}
			},
		},
		{
			name: "customer presence is a union over customers; the id stands in for a missing person",
			opts: []opt{withC2},
			events: []transcript.Event{
				started(0), left(10, "c1", ""), left(20, "c2", ""), joined(30, "c1"), joined(35, "c2"),
				left(50, "c2", ""), ended(60, "", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"csg_SessionWithCustomerTime": 50})
				if d := cmp.Diff([]string{"person/1042", "c2"}, c.Members); d != "" {
					t.Errorf("members: %s", d)
				}
			},
		},
		{
			name: "support person: the latest join counts, repeated and implied joins too",
			events: []transcript.Event{
				started(0), joined(10, "a2"), joined(20, "a1"), joined(30, "a2"), msg(40, "a1", "x"), ended(50, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				if c.SupportPerson != "person/8" {
					t.Errorf("supportPerson = %q", c.SupportPerson)
				}
			},
		},
		{
			name: "an agent line after their own leave is an implied join",
			events: []transcript.Event{
				started(0), joined(10, "a1"), left(20, "a1", ""), msg(30, "a1", "one more thing"), ended(50, "", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"cse_SessionHandleTotalCount": 2, "cse_SessionHandleTotalTime": 30, "csg_SessionEndedAgent": "PRESENT"})
				if c.SupportPerson != "person/7" || c.Agents[0].PresenceMs != 30000 {
					t.Errorf("supportPerson %q presence %d", c.SupportPerson, c.Agents[0].PresenceMs)
				}
			},
		},
		{
			name: "idle: a gap of exactly the threshold is not idle; longer is",
			events: []transcript.Event{
				started(0), joined(0, "a1"), msg(120, "c1", "x"), msg(240.001, "a1", "y"), ended(250, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				checkStats(t, c, want{"cse_ActiveIdleTotalCount": 1, "cse_ActiveIdleTotalTime": 120, "cse_ActiveIdleMaxTime": 120})
			},
		},
		{
			name: "averages round halves up; tickets are distinct and API tickets follow",
			events: []transcript.Event{
				started(0), joined(0, "a1"), msg(1, "c1", "x"), msg(2, "a1", "y"), msg(3, "c1", "x"),
				msg(4.001, "a1", "y"), ticket(5, "a1", "INC-1"), ticket(6, "b1", "INC-2"), ticket(7, "", "INC-1"),
				marker(8, "vpn"), marker(9, "vpn"), page(10, "https://a"), ended(11, "a1", ""),
			},
			check: func(t *testing.T, c *stats.Card) {
				if d := cmp.Diff(&stats.Group{Count: 2, TotalMs: 2001, MaxMs: 1001, AvgMs: 1001}, c.ResponseTimes.AgentReply); d != "" {
					t.Errorf("agentReply: %s", d)
				}
				if d := cmp.Diff([]string{"INC-1", "INC-2"}, c.RelatedTickets); d != "" {
					t.Errorf("tickets: %s", d)
				}
				if d := cmp.Diff([]string{"vpn"}, c.Markers); d != "" {
					t.Errorf("markers: %s", d)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			card := compute(t, c.mode, c.events, c.opts...)
			c.check(t, card)
		})
	}
}

func TestAttachedTickets(t *testing.T) {
	tr := build(t, []transcript.Event{started(0), ticket(1, "a1", "INC-1"), ticket(2, "a1", "INC-2")})
	c := stats.Compute(tr, stats.DefaultSettings(), []string{"INC-2", "INC-9", "INC-9"})
	if d := cmp.Diff([]string{"INC-1", "INC-2", "INC-9"}, c.RelatedTickets); d != "" {
		t.Error(d)
	}
	empty := stats.Compute(build(t, nil), stats.DefaultSettings(), []string{"INC-5"})
	if d := cmp.Diff([]string{"INC-5"}, empty.RelatedTickets); d != "" {
		t.Error(d)
	}
}

func keys(s stats.Statistics) []string {
	var k []string
	for n := range s {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

func TestModes(t *testing.T) {
	closedBot := []transcript.Event{started(0), msg(1, "b1", "hi"), msg(2, "c1", "bye"), ended(3, "c1", "")}
	t.Run("none", func(t *testing.T) {
		c := compute(t, stats.ModeNone, specExample())
		want := []string{"ChatServerSessionClosedAt", "ChatServerSessionStartedAt", "csg_MediaType", "csg_TenantId"}
		if d := cmp.Diff(want, keys(c.Statistics)); d != "" {
			t.Error(d)
		}
		active := compute(t, stats.ModeNone, specExample()[:5])
		if d := cmp.Diff(want[1:], keys(active.Statistics)); d != "" {
			t.Error(d)
		}
	})
	t.Run("fired: only what was encountered", func(t *testing.T) {
		c := compute(t, stats.ModeFired, closedBot)
		want := []string{
			"ChatServerSessionClosedAt", "ChatServerSessionStartedAt", "csg_ChatAsyncMode", "csg_ChatSessionID",
			"csg_LanguageName", "csg_MediaOrigin", "csg_MediaType",
			"csg_MessagesFromBotsCount", "csg_MessagesFromBotsSize", "csg_MessagesFromCustomersCount", "csg_MessagesFromCustomersSize",
			"csg_PartiesAsBotCount", "csg_SessionEndedAgent", "csg_SessionEndedBy", "csg_SessionEndedReason",
			"csg_SessionTotalTime", "csg_SessionUntilFirstBotTime", "csg_SessionWithCustomerTime", "csg_TenantId",
		}
		if d := cmp.Diff(want, keys(c.Statistics)); d != "" {
			t.Error(d)
		}
	})
	t.Run("all: zeros for what did not happen, but no async or closed-only keys where they do not apply", func(t *testing.T) {
		tr := build(t, closedBot[:3])
		tr.Language, tr.Channel = "", ""
		c := stats.Compute(tr, stats.Settings{Mode: stats.ModeAll, IdleThreshold: 120e9, AsyncIdleThreshold: 3600e9}, nil)
		checkStats(t, c, want{
			"csg_SessionUntilFirstAgentTime": 0, "csg_SessionUntilFirstReplyTime": 0, "csg_MessagesFromAgentsCount": 0,
			"csg_MessagesFromAgentsSize": 0, "csg_PartiesAsCoachCount": 0, "cse_SessionHandleTotalCount": 0,
			"cse_ActiveIdleMaxTime": 0, "cse_CustomerWaitTotalTime": 0,
			"cse_AsyncDormantTotalCount": nil, "cse_AsyncIdleTotalCount": nil, "csg_SessionTotalTime": nil,
			"csg_SessionEndedBy": nil, "ChatServerSessionClosedAt": nil, "csg_LanguageName": nil, "csg_MediaOrigin": nil,
		})
		if n := len(c.Statistics); n != 37 {
			t.Errorf("%d keys in mode all for an active sync session: %v", n, keys(c.Statistics))
		}
		a := compute(t, stats.ModeAll, closedBot, async)
		checkStats(t, a, want{"cse_AsyncDormantTotalCount": 0, "cse_AsyncIdleTotalTime": 0, "csg_SessionTotalTime": 3})
	})
	t.Run("a session with no events has only the media type and tenant", func(t *testing.T) {
		for _, m := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
			c := compute(t, m, nil)
			if d := cmp.Diff([]string{"csg_MediaType", "csg_TenantId"}, keys(c.Statistics)); d != "" {
				t.Errorf("mode %s: %s", m, d)
			}
			if !c.Active || c.Status != "active" {
				t.Errorf("mode %s: no events must be an active card", m)
			}
		}
	})
}

func TestChatLogJSON(t *testing.T) {
	c := compute(t, stats.ModeFired, specExample())
	b, err := json.Marshal(c.ChatLog[2])
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); got != `{"at":"2026-11-20T09:00:41.000Z","participant":"sys","role":"system","text":"Ann joined the chat"}` {
		t.Errorf("system line = %s", got)
	}
	b, _ = json.Marshal(c.ChatLog[5])
	if !strings.Contains(string(b), `"file":{"name":"error.png","contentType":"image/png","size":48211}`) || strings.Contains(string(b), `"text"`) {
		t.Errorf("attachment line = %s", b)
	}
}

func TestTimeFormat(t *testing.T) {
	// Lines across midnight, a leap day and far dates all format like the
	// reference formatter.
	for _, v := range []float64{-1, 0, 0.001, 53999.999, 54000, 86400 * 100.5, 86400*3650 + 0.5, 86400 * 365 * 9000} {
		evs := []transcript.Event{started(v), msg(v, "c1", "x"), msg(v+0.999, "c1", "y")}
		c := compute(t, stats.ModeFired, evs)
		for i, e := range c.ChatLog {
			want := transcript.FormatMillis(at(v) + int64(i)*999)
			if e.At != want {
				t.Errorf("at(%v)+%d = %s, want %s", v, i, e.At, want)
			}
		}
	}
}

func TestNormalizeRefusesInvalidUTF8(t *testing.T) {
	tr := &transcript.Transcript{Version: 1, SessionID: "s", Participants: people,
		Events: []transcript.Event{started(0), msg(1, "c1", "bad \xff byte")}}
	err := tr.Normalize()
	var te *transcript.Error
	if !errors.As(err, &te) || te.Field != "events[1].text" {
		t.Fatalf("Normalize = %v, want an error naming events[1].text", err)
	}
}
