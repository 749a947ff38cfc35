package formats

import (
	"os"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func TestBotFrameworkTranscriptGivesTheV1Card(t *testing.T) {
	d := gcbfReadTwins(t, "botframework", "testdata/botframework/vpn_handoff.transcript", "testdata/botframework/vpn_handoff.v1.json")
	if d.Figures != nil || d.FirstReplyMs != nil {
		t.Errorf("Bot Framework carries no figures; got %s, %v", d.Figures, d.FirstReplyMs)
	}
	var rating *transcript.Event
	for i := range d.Transcript.Events {
		if d.Transcript.Events[i].Type == transcript.EventRating {
			rating = &d.Transcript.Events[i]
		}
	}
	if rating == nil || rating.Score != 5 || rating.Comment != "Quick and friendly" || rating.Participant != "7f3a9c1e-user" {
		t.Errorf("rating = %+v, want the customer's like (5) with its feedbackText", rating)
	}
	s := stats.DefaultSettings()
	s.Mode = stats.ModeAll
	c := stats.Compute(d.Transcript, s, nil)
	for key, want := range map[string]int64{
		"csg_PartiesAsAgentCount":        2,
		"csg_PartiesAsBotCount":          1,
		"cse_SessionHandleTotalCount":    2, // Ann left 1 s before Bob joined
		"csg_MessagesFromCustomersCount": 5, // 4 lines and the screenshot
		"csg_MessagesFromBotsCount":      3, // the card message counts once
	} {
		if got := c.Statistics[key].Num; got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
	if by, why, agent := c.Statistics["csg_SessionEndedBy"].Str, c.Statistics["csg_SessionEndedReason"].Str, c.Statistics["csg_SessionEndedAgent"].Str; by != "BOT" || why != "FORCE" || agent != "VISITED" {
		t.Errorf("ended %s / %s / %s, want BOT / FORCE / VISITED", by, why, agent)
	}
}

func TestBotFrameworkSessionID(t *testing.T) {
	for in, want := range map[string]string{
		"DxaWEqyG9lDA8y8eK1Ykcj-us": "DxaWEqyG9lDA8y8eK1Ykcj-us",
		"a:1Xq2_b.c-d":              "a:1Xq2_b.c-d",
		// sha256 of the id's bytes, as `printf %s 'id' | sha256sum` gives it
		"2f0b6c40-8d0e-11ef-a5b1-7d4c3e2b1a00|livechat": "bf-cbf5e9dceeaeef3c78766e57f12ed9823a8b5b559d020be88f64e3e39bbca825",
	} {
		got := BotFrameworkSessionID(in)
		if got != want {
			t.Errorf("BotFrameworkSessionID(%q) = %q, want %q", in, got, want)
		}
		if !transcript.ValidSessionID(got) {
			t.Errorf("%q is not a valid sessionId", got)
		}
	}
	long := strings.Repeat("a", 129)
	if got := BotFrameworkSessionID(long); !strings.HasPrefix(got, "bf-") || len(got) != 67 {
		t.Errorf("a 129-character id must be hashed, got %q", got)
	}
}

// bfAct builds one activity for the table tests.
func bfAct(fields string) string {
	return `{"conversation": {"id": "c1"}, "timestamp": "2026-11-20T09:00:00Z", ` + fields + `}`
}

func TestBotFrameworkDecoderErrorsNameTheField(t *testing.T) {
	user := `"from": {"id": "u", "role": "user"}`
	for _, tc := range []struct{ name, in, want string }{
		{"object", `{"activities": []}`, "botframework: a transcript is a JSON array"},
		{"empty", `[]`, "botframework: the transcript has no activities"},
		{"not json", `[{"type": `, "botframework: "},
		{"no type", `[` + bfAct(user) + `]`, "botframework: [0].type: is required"},
		{"no conversation", `[{"type": "message", ` + user + `}]`, "botframework: [0].conversation.id: is required"},
		{"two conversations", `[` + bfAct(`"type": "message", `+user) + `, {"type": "message", "conversation": {"id": "c2"}}]`, `botframework: [1].conversation.id: "c2" differs`},
		{"bad role", `[` + bfAct(`"type": "message", "from": {"id": "u", "role": "robot"}`) + `]`, `botframework: [0].from.role: "robot" is not one of`},
		{"role changes", `[` + bfAct(`"type": "message", `+user) + `, ` + bfAct(`"type": "message", "from": {"id": "u", "role": "bot"}`) + `]`, `botframework: [1].from.role: account "u" is a user`},
		{"role type", `[` + bfAct(`"type": "message", "from": {"id": "u", "role": 1}`) + `]`, "botframework: [0].from.role: cannot be a JSON number"},
		{"no from", `[` + bfAct(`"type": "message"`) + `]`, "botframework: [0].from.id: is required"},
		{"unknown sender", `[` + bfAct(`"type": "message", "from": {"id": "x"}`) + `]`, "botframework: [0].from.role: is absent"},
		{"no time", `[{"type": "message", "conversation": {"id": "c1"}, ` + user + `}]`, "botframework: [0].timestamp: is required"},
		{"bad time", `[{"type": "message", "conversation": {"id": "c1"}, "timestamp": "2026-11-20", ` + user + `}]`, `botframework: [0].timestamp: "2026-11-20" is not`},
		{"bad local time", `[{"type": "message", "conversation": {"id": "c1"}, "localTimestamp": "noon", ` + user + `}]`, `botframework: [0].localTimestamp: "noon" is not`},
		{"status without state", `[` + bfAct(`"type": "event", "name": "handoff.status", "value": {}`) + `]`, "botframework: [0].value.state: is required"},
		{"status state type", `[` + bfAct(`"type": "event", "name": "handoff.status", "value": {"state": 3}`) + `]`, "botframework: [0].value.state: cannot be a JSON number"},
		{"feedback without reaction", `[` + bfAct(`"type": "invoke", "name": "message/submitAction", `+user+`, "value": {"actionName": "feedback", "actionValue": {}}`) + `]`, "botframework: [0].value.actionValue.reaction: is required"},
		{"feedback bad reaction", `[` + bfAct(`"type": "invoke", "name": "message/submitAction", `+user+`, "value": {"actionName": "feedback", "actionValue": {"reaction": "meh"}}`) + `]`, `botframework: [0].value.actionValue.reaction: "meh" is not like or dislike`},
		{"text type", `[` + bfAct(`"type": "message", `+user+`, "text": ["hi"]`) + `]`, "botframework: [0].text: cannot be a JSON array"},
		{"duplicate key", `[` + bfAct(`"type": "message", "type": "message", `+user) + `]`, "botframework: [0].type: duplicate"},
		{"wrong case", `[` + bfAct(`"Type": "message", `+user) + `]`, "botframework: [0].type: is required"},
		{"bad utf-8", `[` + bfAct(`"type": "message", `+user+`, "text": "`+"\xff"+`"`) + `]`, "botframework: [0].text: "},
	} {
		_, err := decodeBotFramework([]byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

func TestBotFrameworkMappingDetails(t *testing.T) {
	build := func(t *testing.T, acts ...string) *transcript.Transcript {
		t.Helper()
		tr, err := buildBotFramework([]byte("[" + strings.Join(acts, ",") + "]"))
		if err != nil {
			t.Fatal(err)
		}
		// Every mapping must give a transcript the model accepts (rule 7:
		// "" texts and file names included).
		if err := tr.Normalize(); err != nil {
			t.Fatalf("Normalize: %v", err)
		}
		return tr
	}
	t.Run("a message of only a card is one line of text \"\"", func(t *testing.T) {
		tr := build(t, bfAct(`"type": "message", "from": {"id": "b", "role": "bot"}, "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type": "AdaptiveCard"}}, {"contentType": "application/vnd.microsoft.card.hero", "content": {}}]`))
		ev := tr.Events
		if len(ev) != 2 || ev[1].Type != transcript.EventMessage || ev[1].Text != "" || ev[1].Participant != "b" {
			t.Errorf("events %+v, want started and one empty bot line", ev)
		}
	})
	t.Run("roles are inferred from the counterpart", func(t *testing.T) {
		tr := build(t,
			bfAct(`"type": "message", "from": {"id": "u", "name": "Jane"}, "recipient": {"id": "b", "role": "bot"}, "text": "hi"`),
			bfAct(`"type": "message", "from": {"id": "b"}, "recipient": {"id": "u"}, "text": "hello"`))
		if len(tr.Participants) != 2 || tr.Participants[0].Role != transcript.RoleCustomer || tr.Participants[1].Role != transcript.RoleBot {
			t.Errorf("participants %+v, want u customer and b bot", tr.Participants)
		}
	})
	t.Run("endOfConversation codes", func(t *testing.T) {
		for code, want := range map[string][2]string{
			"userCancelled":           {"CLIENT", "QUIT"},
			"botTimedOut":             {"BOT", "INACTIVE"},
			"botIssuedInvalidMessage": {"BOT", "DB_ERROR"},
			"channelFailed":           {"BOT", "DISCONNECT"},
			"completedSuccessfully":   {"BOT", "FORCE"},
		} {
			from := `{"id": "b", "role": "bot"}`
			if code == "userCancelled" {
				from = `{"id": "u", "role": "user"}`
			}
			tr := build(t,
				bfAct(`"type": "message", "from": {"id": "u", "role": "user"}, "text": "hi"`),
				bfAct(`"type": "message", "from": {"id": "b", "role": "bot"}, "text": "hello"`),
				strings.Replace(bfAct(`"type": "endOfConversation", "from": `+from+`, "code": "`+code+`"`), "09:00:00Z", "09:01:00Z", 1))
			c := stats.Compute(tr, stats.DefaultSettings(), nil)
			if by, why := c.Statistics["csg_SessionEndedBy"].Str, c.Statistics["csg_SessionEndedReason"].Str; by != want[0] || why != want[1] {
				t.Errorf("%s: ended %s / %s, want %s / %s", code, by, why, want[0], want[1])
			}
		}
	})
	t.Run("dislike is 1, a plain feedback string is the comment", func(t *testing.T) {
		tr := build(t, bfAct(`"type": "invoke", "name": "message/submitAction", "from": {"id": "u", "role": "user"}, "value": {"actionName": "feedback", "actionValue": {"reaction": "dislike", "feedback": "too slow"}}`))
		e := tr.Events[len(tr.Events)-1]
		if e.Type != transcript.EventRating || e.Score != 1 || e.Comment != "too slow" {
			t.Errorf("rating %+v, want 1 \"too slow\"", e)
		}
	})
	t.Run("activities are followed in time order, not file order", func(t *testing.T) {
		at := func(sec, fields string) string {
			return strings.Replace(bfAct(fields), "09:00:00Z", "09:00:"+sec+"Z", 1)
		}
		tr := build(t,
			at("20", `"type": "event", "name": "handoff.status", "value": {"state": "completed"}`),
			at("10", `"type": "conversationUpdate", "membersAdded": [{"id": "a", "role": "agent"}]`))
		var kinds []string
		for _, e := range tr.Events {
			kinds = append(kinds, e.Type.String()+" "+e.Participant)
		}
		if got := strings.Join(kinds, ", "); got != "started , joined a, left a" {
			t.Errorf("events: %s; want the agent to join at :10 and leave at :20", got)
		}
		if tr.Events[0].At != tr.Events[1].At {
			t.Error("the session starts at the earliest activity")
		}
	})
	t.Run("typing, trace and other invokes are no events", func(t *testing.T) {
		// One line, so that there is a participant: a transcript of no one
		// is refused by Normalize.
		tr := build(t,
			bfAct(`"type": "message", "from": {"id": "u", "role": "user"}, "text": "hi"`),
			bfAct(`"type": "typing", "from": {"id": "u", "role": "user"}`),
			bfAct(`"type": "trace", "name": "x", "from": {"id": "b", "role": "bot"}`),
			bfAct(`"type": "invoke", "name": "adaptiveCard/action", "from": {"id": "u", "role": "user"}, "value": {"action": {}}`),
			bfAct(`"type": "invoke", "name": "message/submitAction", "from": {"id": "u", "role": "user"}, "value": {"actionName": "other"}`))
		if len(tr.Events) != 2 || tr.Events[0].Type != transcript.EventStarted || tr.Events[1].Type != transcript.EventMessage {
			t.Errorf("events %+v, want only the start and the line", tr.Events)
		}
	})
}

func TestBotFrameworkDetect(t *testing.T) {
	for in, want := range map[string]bool{
		`[{"type": "message", "from": {"id": "u"}}]`:         true,
		`[{"type": "message", "conversation": {"id": "c"}}]`: true,
		`[{"type": "message"}]`:                              false,
		`[]`:                                                 false,
		`[1, 2]`:                                             false,
		`{"type": "message", "from": {"id": "u"}}`:           false,
		`{"conversation": {"participants": [{"purpose": "customer"}]}, "messages": []}`: false,
	} {
		if got := detectBotFramework([]byte(in)); got != want {
			t.Errorf("detectBotFramework(%s) = %v, want %v", in, got, want)
		}
	}
}

func FuzzBotFramework(f *testing.F) {
	if b, err := os.ReadFile("testdata/botframework/vpn_handoff.transcript"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`[{"type": "message", "conversation": {"id": "a|b"}, "timestamp": "2026-11-20T09:00:00Z", "from": {"id": "u", "role": "user"}, "text": "hi", "attachments": [{"contentType": "image/png", "contentUrl": "https://x/y.png"}]}]`))
	f.Add([]byte(`[{"type": "conversationUpdate", "conversation": {"id": "c"}, "timestamp": "2026-11-20T09:00:00Z", "membersAdded": [{"id": "a", "role": "agent"}], "membersRemoved": [{"id": "u", "role": "user"}]}, {"type": "event", "name": "handoff.status", "conversation": {"id": "c"}, "localTimestamp": "2026-11-20T10:00:00+01:00", "value": {"state": "completed"}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeBotFramework(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "botframework: ") {
				t.Fatalf("error without the platform's name: %v", err)
			}
			return
		}
		if err := d.Transcript.Normalize(); err != nil {
			t.Fatalf("decoded transcript does not pass Normalize: %v", err)
		}
		_ = stats.Compute(d.Transcript, stats.DefaultSettings(), nil)
	})
}
