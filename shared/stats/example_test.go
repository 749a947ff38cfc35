package stats_test

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// The worked example of transcript.md, figured out by hand from statistics.md.
func TestSpecExample(t *testing.T) {
	events := specExample()
	got := compute(t, stats.ModeFired, events)
	want := &stats.Card{
		SessionID: "w-1", Active: false, Status: "closed",
		ChatLog: []stats.LogEntry{
			{At: "2026-11-20T09:00:01.000Z", Participant: "b1", Role: "bot", Name: "Helpbot", Text: "Hi! How can I help?"},
			{At: "2026-11-20T09:00:09.000Z", Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "My VPN is broken"},
			{At: "2026-11-20T09:00:41.000Z", Participant: "sys", Role: "system", Text: "Ann joined the chat"},
			{At: "2026-11-20T09:00:55.000Z", Participant: "c1", Role: "customer", Name: "Jane Doe", Text: "hello?"},
			{At: "2026-11-20T09:01:05.250Z", Participant: "a1", Role: "agent", Name: "Ann", Text: "Hi Jane, looking at it"},
			{At: "2026-11-20T09:02:00.000Z", Participant: "c1", Role: "customer", Name: "Jane Doe", File: &stats.File{Name: "error.png", ContentType: "image/png", Size: 48211}},
		},
		MessageCount:           6,
		Customer:               "person/1042",
		Members:                []string{"person/1042", "person/7"},
		SupportPerson:          "person/7",
		StartTime:              "2026-11-20T09:00:00.000Z",
		EndTime:                "2026-11-20T09:04:30.000Z",
		WaitBeforeFirstReplyMs: ms(10250),
		AgentGreetingMs:        ms(25250),
		RelatedTickets:         []string{"INC-20431"},
		Markers:                []string{},
		Pages:                  []string{},
		Statistics: stats.Statistics{
			"ChatServerSessionStartedAt":     stats.Str("2026-11-20T09:00:00.000Z"),
			"ChatServerSessionClosedAt":      stats.Str("2026-11-20T09:04:30.000Z"),
			"csg_ChatSessionID":              stats.Str("w-1"),
			"csg_LanguageName":               stats.Str("en"),
			"csg_MediaOrigin":                stats.Str("web"),
			"csg_MediaType":                  stats.Str("chat"),
			"csg_TenantId":                   stats.Str("helpdesk"),
			"csg_ChatAsyncMode":              stats.Str("0"),
			"csg_SessionTotalTime":           stats.Num(270),
			"csg_SessionUntilFirstAgentTime": stats.Num(40),
			"csg_SessionUntilFirstReplyTime": stats.Num(65),
			"csg_SessionUntilFirstBotTime":   stats.Num(1),
			"csg_SessionWithCustomerTime":    stats.Num(240),
			"csg_MessagesFromAgentsCount":    stats.Num(1),
			"csg_MessagesFromAgentsSize":     stats.Num(22),
			"csg_MessagesFromCustomersCount": stats.Num(3),
			"csg_MessagesFromCustomersSize":  stats.Num(22),
			"csg_MessagesFromBotsCount":      stats.Num(1),
			"csg_MessagesFromBotsSize":       stats.Num(19),
			"csg_PartiesAsAgentCount":        stats.Num(1),
			"csg_PartiesAsBotCount":          stats.Num(1),
			"csg_SessionEndedAgent":          stats.Str("PRESENT"),
			"csg_SessionEndedBy":             stats.Str("CLIENT"),
			"csg_SessionEndedReason":         stats.Str("QUIT"),
			"cse_SessionHandleTotalCount":    stats.Num(1),
			"cse_SessionHandleTotalTime":     stats.Num(230),
			"cse_SessionHandleMaxTime":       stats.Num(230),
			"cse_ActiveIdleTotalCount":       stats.Num(1),
			"cse_ActiveIdleTotalTime":        stats.Num(150),
			"cse_ActiveIdleMaxTime":          stats.Num(150),
			"cse_AgentReplyTotalCount":       stats.Num(1),
			"cse_AgentReplyTotalTime":        stats.Num(25),
			"cse_AgentReplyMaxTime":          stats.Num(25),
			"cse_CustomerWaitTotalCount":     stats.Num(1),
			"cse_CustomerWaitTotalTime":      stats.Num(10),
			"cse_CustomerWaitMaxTime":        stats.Num(10),
			"cse_AgentWaitTotalCount":        stats.Num(1),
			"cse_AgentWaitTotalTime":         stats.Num(54),
			"cse_AgentWaitMaxTime":           stats.Num(54),
			"cse_CustomerReplyTotalCount":    stats.Num(1),
			"cse_CustomerReplyTotalTime":     stats.Num(54),
			"cse_CustomerReplyMaxTime":       stats.Num(54),
		},
		Agents: []stats.Agent{{Participant: "a1", Person: "person/7", Name: "Ann", Messages: 1,
			ReplyCount: 1, ReplyTotalMs: 25250, ReplyMaxMs: 25250, ReplyAvgMs: ms(25250), PresenceMs: 230000}},
		ResponseTimes: stats.ResponseTimes{
			AgentReply:    &stats.Group{Count: 1, TotalMs: 25250, MaxMs: 25250, AvgMs: 25250},
			AgentWait:     &stats.Group{Count: 1, TotalMs: 54750, MaxMs: 54750, AvgMs: 54750},
			CustomerReply: &stats.Group{Count: 1, TotalMs: 54750, MaxMs: 54750, AvgMs: 54750},
			CustomerWait:  &stats.Group{Count: 1, TotalMs: 10250, MaxMs: 10250, AvgMs: 10250},
		},
		Productivity: stats.Productivity{OperatorMessages: 1, ClientMessages: 3, BotMessages: 1,
			ResponseMaxMs: ms(25250), ResponseAvgMs: ms(25250)},
		// analytics.md: a handoff, the first reply 10.25 s ≤ 60 s.
		ServiceLevel:    stats.ServiceLevelMet,
		ResponseSamples: stats.ResponseSamples{CustomerWaitMs: []int64{10250}, CustomerWaitBy: []string{"a1"}},
		FirstReplyBy:    "a1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("card (-want +got):\n%s", diff)
	}
	// The JSON shape: waitBeforeFirstReplyMs is always present; empty lists are [].
	b, _ := json.Marshal(compute(t, stats.ModeFired, nil))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if v, ok := m["waitBeforeFirstReplyMs"]; !ok || v != nil {
		t.Errorf("waitBeforeFirstReplyMs = %v, %v; want present and null", v, ok)
	}
	for _, k := range []string{"chatLog", "members", "relatedTickets", "markers", "pages", "agents"} {
		if l, ok := m[k].([]any); !ok || len(l) != 0 {
			t.Errorf("%s = %#v, want []", k, m[k])
		}
	}
	if _, ok := m["startTime"]; ok {
		t.Errorf("startTime present for a session with no events")
	}
}

func specExample() []transcript.Event {
	return []transcript.Event{
		started(0),
		msg(1, "b1", "Hi! How can I help?"),
		msg(9, "c1", "My VPN is broken"),
		handoff(10),
		joined(40, "a1"),
		msg(41, "sys", "Ann joined the chat"),
		msg(55, "c1", "hello?"),
		msg(65.25, "a1", "Hi Jane, looking at it"),
		file(120, "c1"),
		ticket(180, "a1", "INC-20431"),
		left(240, "c1", "quit"),
		ended(270, "a1", "force"),
	}
}
