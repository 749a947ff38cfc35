package stats_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func rating(sec float64, who string, score int, comment string) transcript.Event {
	e := ev(sec, transcript.EventRating, who)
	e.Score, e.Comment = score, comment
	return e
}

func folder(tb testing.TB, entry string) *folders.Settings {
	tb.Helper()
	s, err := folders.ParseEntry([]byte(entry), folders.Defaults{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func computeWith(tb testing.TB, f *folders.Settings, mode stats.Mode, events []transcript.Event, opts ...opt) *stats.Card {
	tb.Helper()
	s := stats.DefaultSettings()
	s.Mode, s.Folder = mode, f
	return stats.Compute(build(tb, events, opts...), s, nil)
}

// withoutRatings is events with every rating left out.
func withoutRatings(events []transcript.Event) []transcript.Event {
	return slices.DeleteFunc(slices.Clone(events), func(e transcript.Event) bool { return e.Type == transcript.EventRating })
}

func TestRating(t *testing.T) {
	for _, tc := range []struct {
		name   string
		events []transcript.Event
		want   *stats.Rating
	}{
		{"none", specExample(), nil},
		{"one, with a comment", append(specExample()[:11], rating(250, "c1", 4, "quick, thanks"), ended(270, "a1", "")), &stats.Rating{Score: 4, Comment: "quick, thanks"}},
		{"the last in event order wins", []transcript.Event{started(0), rating(5, "c1", 2, "meh"), rating(5, "c1", 5, ""), msg(6, "b1", "bye"), ended(7, "", "")}, &stats.Rating{Score: 5}},
		{"after ended (rule 5)", append(specExample(), rating(400, "c1", 1, "slow")), &stats.Rating{Score: 1, Comment: "slow"}},
		{"after ended, after an earlier one", append(specExample()[:11], rating(250, "c1", 4, ""), ended(270, "a1", ""), msg(300, "c1", "late"), rating(400, "c1", 3, "")), &stats.Rating{Score: 3}},
		{"no participant, active session", []transcript.Event{started(0), msg(1, "c1", "hi"), rating(2, "", 5, "")}, &stats.Rating{Score: 5}},
		{"first event of all (rule 4: not the start)", []transcript.Event{rating(-60, "c1", 2, ""), started(0), msg(1, "b1", "hi"), ended(9, "", "")}, &stats.Rating{Score: 2}},
		{"the only event: no start, still a rating", []transcript.Event{rating(1, "c1", 5, "")}, &stats.Rating{Score: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
				got := compute(t, mode, tc.events)
				if diff := cmp.Diff(tc.want, got.Rating); diff != "" {
					t.Fatalf("rating (-want +got):\n%s", diff)
				}
				// A rating changes nothing else: not the clock (rule 4), not
				// taking part, not the chat log.
				without := compute(t, mode, withoutRatings(tc.events))
				got.Rating = nil
				if diff := cmp.Diff(without, got); diff != "" {
					t.Fatalf("the rating changed other figures (-without +with):\n%s", diff)
				}
			}
		})
	}
	// The participant named by a rating does not take part.
	// (A customer is present from the start anyway; an agent is not.)
	c := compute(t, stats.ModeFired, []transcript.Event{started(0), msg(1, "b1", "hi"), rating(2, "a1", 5, ""), ended(3, "", "")})
	if slices.Contains(c.Members, "person/7") || len(c.Agents) != 0 || c.Rating == nil {
		t.Errorf("members %v, agents %v: the participant named by a rating took part", c.Members, c.Agents)
	}
	// An active session's clock stops at its last event other than a rating.
	c = compute(t, stats.ModeAll, []transcript.Event{started(0), msg(10, "c1", "hi"), rating(500, "c1", 5, "")})
	if v := c.Statistics["csg_SessionWithCustomerTime"]; v.Num != 10 {
		t.Errorf("csg_SessionWithCustomerTime = %v, want 10 (the rating at 500 s moved the clock)", v)
	}
}

func TestRatingJSON(t *testing.T) {
	for _, tc := range []struct {
		ev   transcript.Event
		want string
	}{
		{rating(5, "c1", 4, ""), `"rating":{"score":4}`},
		{rating(5, "c1", 1, "bad \"bot\""), `"rating":{"score":1,"comment":"bad \"bot\""}`},
	} {
		b, _ := json.Marshal(compute(t, stats.ModeFired, []transcript.Event{started(0), tc.ev}))
		if !strings.Contains(string(b), tc.want) {
			t.Errorf("JSON %s lacks %s", b, tc.want)
		}
	}
	b, _ := json.Marshal(compute(t, stats.ModeFired, []transcript.Event{started(0)}))
	if strings.Contains(string(b), `"rating"`) {
		t.Errorf("rating present without a rating event: %s", b)
	}
}

func TestBotContained(t *testing.T) {
	bot := []transcript.Event{started(0), msg(1, "b1", "Hi! How can I help?"), msg(5, "c1", "opening hours?"), msg(6, "b1", "9 to 5")}
	for _, tc := range []struct {
		name   string
		events []transcript.Event
		want   bool
	}{
		{"closed, bot only", append(slices.Clone(bot), ended(9, "c1", "")), true},
		{"an automatic bot line counts", []transcript.Event{started(0), auto(1, "b1", "Hi"), ended(9, "", "inactive")}, true},
		{"a bot attachment counts", []transcript.Event{started(0), file(1, "b1"), ended(9, "", "")}, true},
		{"active", slices.Clone(bot), false},
		{"with a handoff, no agent ever came", append(slices.Clone(bot), handoff(7), ended(9, "", "")), false},
		{"an agent took part without a handoff", append(slices.Clone(bot), joined(7, "a1"), ended(9, "", "")), false},
		{"an agent's implied join", append(slices.Clone(bot), msg(7, "a2", "hi"), ended(9, "", "")), false},
		{"a coach is not an agent", append(slices.Clone(bot), msg(7, "s1", "coach line"), ended(9, "", "")), true},
		{"no bot message", []transcript.Event{started(0), msg(5, "c1", "hello?"), ended(9, "c1", "")}, false},
		{"the bot message came after ended", []transcript.Event{started(0), ended(9, "c1", ""), msg(10, "b1", "bye")}, false},
		{"a handoff after ended is ignored", append(slices.Clone(bot), ended(9, "", ""), handoff(10)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := compute(t, stats.ModeFired, tc.events).BotContained; got != tc.want {
				t.Errorf("botContained = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestServiceLevel(t *testing.T) {
	// Customer line at 50 s inside the live chat, then the agent's reply.
	live := func(replyAt float64) []transcript.Event {
		return []transcript.Event{started(0), msg(1, "b1", "Hi"), msg(5, "c1", "agent please"), handoff(6), joined(40, "a1"), msg(50, "c1", "hello?"), msg(replyAt, "a1", "Hi")}
	}
	closed := func(evs []transcript.Event) []transcript.Event {
		return append(evs, ended(float64(evs[len(evs)-1].At-base)/1000+1000, "", ""))
	}
	// 09:00-09:01 UTC on Friday 2026-11-20 is closed, the rest of the day open.
	lateOpen := folder(t, `{"timeZone": "UTC", "businessHours": {"fri": ["09:01-24:00"]}}`)
	for _, tc := range []struct {
		name   string
		f      *folders.Settings
		events []transcript.Event
		want   string
	}{
		{"met at exactly the target", nil, live(110), stats.ServiceLevelMet},
		{"missed by one millisecond", nil, live(110.001), stats.ServiceLevelMissed},
		{"missed over the target while still active", nil, live(200), stats.ServiceLevelMissed},
		{"met while still active", nil, live(51), stats.ServiceLevelMet},
		{"agent first: 0", nil, []transcript.Event{started(0), joined(1, "a1"), msg(2, "a1", "Hi"), msg(500, "c1", "hello")}, stats.ServiceLevelMet},
		{"missed by no reply: closed, handoff, nobody came", nil, []transcript.Event{started(0), msg(5, "c1", "agent please"), handoff(6), ended(900, "c1", "")}, stats.ServiceLevelMissed},
		{"missed by no reply: closed, the agent never wrote", nil, closed(live(50)[:6]), stats.ServiceLevelMissed},
		{"undecided while active without a reply", nil, live(50)[:6], ""},
		{"undecided while active, handoff only", nil, []transcript.Event{started(0), msg(5, "c1", "agent please"), handoff(6)}, ""},
		{"not applicable: bot only", nil, []transcript.Event{started(0), msg(1, "b1", "Hi"), msg(5, "c1", "ok"), ended(9, "", "")}, ""},
		{"not applicable: a handoff after ended", nil, []transcript.Event{started(0), msg(1, "b1", "Hi"), ended(9, "", ""), handoff(10)}, ""},
		{"not applicable: only a coach wrote", nil, []transcript.Event{started(0), msg(5, "c1", "x"), msg(6, "s1", "coach"), ended(9, "", "")}, ""},
		{"applies without a handoff when an agent took part", nil, []transcript.Event{started(0), joined(1, "a1"), msg(5, "c1", "x"), ended(9, "", "")}, stats.ServiceLevelMissed},
		{"a later live chat's reply does not count", nil, []transcript.Event{started(0), handoff(1), joined(2, "a1"), msg(3, "c1", "x"), left(4, "a1", ""), joined(10, "a2"), msg(11, "a2", "hi"), ended(12, "", "")}, stats.ServiceLevelMissed},
		{"folder target 1m30s: met", folder(t, `{"firstReplyTarget": "1m30s"}`), live(140), stats.ServiceLevelMet},
		{"folder target 1m30s: missed", folder(t, `{"firstReplyTarget": "1m30s"}`), live(140.001), stats.ServiceLevelMissed},
		{"target below a millisecond: only 0 meets it", folder(t, `{"firstReplyTarget": "999us"}`), live(50.001), stats.ServiceLevelMissed},
		{"target below a millisecond: 0 ms meets it", folder(t, `{"firstReplyTarget": "999us"}`), live(50), stats.ServiceLevelMet},
		{"business hours: a reply given wholly outside open hours is met", lateOpen, []transcript.Event{
			started(-7200), msg(-7100, "c1", "agent please"), handoff(-7099), joined(-7000, "a1"), msg(-6999, "c1", "hello?"), msg(55, "a1", "Hi")}, stats.ServiceLevelMet},
		{"business hours: the open part counts", lateOpen, live(130.001), stats.ServiceLevelMissed},
		{"business hours: 60 s of it is met", lateOpen, live(120), stats.ServiceLevelMet},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
				if got := computeWith(t, tc.f, mode, tc.events).ServiceLevel; got != tc.want {
					t.Fatalf("mode %v: serviceLevel = %q, want %q", mode, got, tc.want)
				}
			}
		})
	}
}

func TestBusinessHoursFigures(t *testing.T) {
	// Open from 09:01 UTC on Friday 2026-11-20 (the spec example's day).
	f := folder(t, `{"timeZone": "UTC", "businessHours": {"fri": ["09:01-09:02", "09:04-17:00"]}}`)
	c := computeWith(t, f, stats.ModeFired, specExample())
	want := &stats.BusinessHours{
		WaitBeforeFirstReplyMs: ms(5250), // 09:00:55 → 09:01:05.250, open from 09:01
		UntilFirstAgentMs:      ms(0),    // 09:00:00 → 09:00:40, all closed
		CustomerWait:           &stats.Group{Count: 1, TotalMs: 5250, MaxMs: 5250, AvgMs: 5250},
	}
	if diff := cmp.Diff(want, c.BusinessHours); diff != "" {
		t.Errorf("businessHours (-want +got):\n%s", diff)
	}

	// customerWait counts a pair of 0 business time; averages halves up.
	evs := []transcript.Event{started(0), joined(1, "a1"),
		msg(10, "c1", "a"), msg(70, "a1", "b"), // 09:00:10 → 09:01:10: 10 s open
		msg(130, "c1", "c"), msg(150, "a1", "d"), // 09:02:10 → 09:02:30: closed, 0
		msg(239, "c1", "e"), msg(240.001, "a1", "f"), // 09:03:59 → 09:04:00.001: 1 ms
	}
	for _, mode := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
		c = computeWith(t, f, mode, evs)
		want = &stats.BusinessHours{
			WaitBeforeFirstReplyMs: ms(10000),
			UntilFirstAgentMs:      ms(0),
			CustomerWait:           &stats.Group{Count: 3, TotalMs: 10001, MaxMs: 10000, AvgMs: 3334},
		}
		if diff := cmp.Diff(want, c.BusinessHours); diff != "" {
			t.Errorf("mode %v: businessHours (-want +got):\n%s", mode, diff)
		}
		if !slices.Equal(c.ResponseSamples.CustomerWaitMs, []int64{60000, 20000, 1001}) {
			t.Errorf("responseSamples %v", c.ResponseSamples.CustomerWaitMs)
		}
	}

	// Present only with business hours; `{}` when nothing applies.
	for _, tc := range []struct {
		name   string
		f      *folders.Settings
		events []transcript.Event
		want   string // the businessHours JSON, "" for absent
	}{
		{"no folder settings", nil, specExample(), ""},
		{"a folder without business hours", folder(t, `{"timeZone": "Europe/Helsinki"}`), specExample(), ""},
		{"bot only", f, []transcript.Event{started(0), msg(1, "b1", "hi"), ended(2, "", "")}, `{}`},
		{"no events", f, nil, `{}`},
		{"an agent joined, never wrote", f, []transcript.Event{started(0), joined(100, "a1")}, `{"untilFirstAgentMs":40000}`},
		{"a coach's join is not an agent's", f, []transcript.Event{started(0), joined(100, "s1")}, `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(computeWith(t, tc.f, stats.ModeNone, tc.events))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			if got := string(m["businessHours"]); got != tc.want {
				t.Errorf("businessHours = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestAnalyticsJSONNames(t *testing.T) {
	f := folder(t, `{"timeZone": "UTC", "businessHours": {"fri": ["00:00-24:00"]}}`)
	c := computeWith(t, f, stats.ModeFired, append(specExample(), rating(300, "c1", 5, "great")))
	c.PlatformFigures = json.RawMessage(`{"platform":"zendesk","response_time":{"first":12}}`)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"rating":{"score":5,"comment":"great"}`,
		`"botContained":false`,
		`"serviceLevel":"met"`,
		`"businessHours":{"waitBeforeFirstReplyMs":10250,"untilFirstAgentMs":40000,"customerWait":{"count":1,"totalMs":10250,"maxMs":10250,"avgMs":10250}}`,
		`"platformFigures":{"platform":"zendesk","response_time":{"first":12}}`,
		`"responseSamples":{"customerWaitMs":[10250],"customerWaitBy":["a1"]}`,
		`"firstReplyBy":"a1"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("card JSON lacks %s:\n%s", want, b)
		}
	}
	// Every card: botContained and responseSamples, [] when no pair.
	b, _ = json.Marshal(compute(t, stats.ModeNone, nil))
	for _, want := range []string{`"botContained":false`, `"responseSamples":{"customerWaitMs":[],"customerWaitBy":[]}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("empty card JSON lacks %s:\n%s", want, b)
		}
	}
	for _, absent := range []string{`"rating"`, `"serviceLevel"`, `"businessHours"`, `"platformFigures"`, `"firstReplyBy"`} {
		if strings.Contains(string(b), absent) {
			t.Errorf("empty card JSON has %s:\n%s", absent, b)
		}
	}
}

// TestAttribution checks firstReplyBy and customerWaitBy, the two fields
// beyond analytics.md that credit an agent in the productivity report.
func TestAttribution(t *testing.T) {
	for _, tc := range []struct {
		name       string
		events     []transcript.Event
		firstBy    string
		waitBy     []string
		waitAmount []int64
	}{
		{"no agent", []transcript.Event{started(0), msg(1, "c1", "hi"), msg(2, "b1", "hello"), ended(3, "", "")}, "", []string{}, []int64{}},
		{"two agents: the second sends the first reply, both answer pairs",
			[]transcript.Event{started(0), msg(1, "c1", "hi"), joined(2, "a1"), joined(3, "a2"),
				msg(5, "a2", "Bob here"), msg(6, "c1", "thanks"), msg(9, "a1", "Ann too"), msg(10, "a1", "again"),
				msg(11, "c1", "ok"), msg(20, "a2", "done"), ended(30, "a2", "")},
			"a2", []string{"a2", "a1", "a2"}, []int64{4000, 3000, 9000}},
		{"an agent message before any customer line is the first reply",
			[]transcript.Event{started(0), joined(1, "a1"), msg(2, "a1", "hi there"), msg(3, "c1", "hello"), msg(4, "a1", "how can I help")},
			"a1", []string{"a1"}, []int64{1000}},
		{"a later period's reply is not the first reply",
			[]transcript.Event{started(0), msg(1, "c1", "hi"), joined(2, "a1"), left(3, "a1", ""), joined(4, "a2"), msg(5, "a2", "hi")},
			"", []string{"a2"}, []int64{4000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, mode := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
				c := compute(t, mode, tc.events)
				if c.FirstReplyBy != tc.firstBy {
					t.Errorf("mode %v: firstReplyBy = %q, want %q", mode, c.FirstReplyBy, tc.firstBy)
				}
				if d := cmp.Diff(tc.waitBy, c.ResponseSamples.CustomerWaitBy); d != "" {
					t.Errorf("mode %v: customerWaitBy (-want +got):\n%s", mode, d)
				}
				if d := cmp.Diff(tc.waitAmount, c.ResponseSamples.CustomerWaitMs); d != "" {
					t.Errorf("mode %v: customerWaitMs (-want +got):\n%s", mode, d)
				}
			}
		})
	}
}
