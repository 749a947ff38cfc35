package formats

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// gcbfReadTwins decodes a platform fixture in its format and its
// hand-written transcript v1 twin, and fails unless both give the same
// transcript and the same card in every statistics mode.
func gcbfReadTwins(t *testing.T, format, fixture, twin string) *Decoded {
	t.Helper()
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	d, name, err := Decode(format, raw)
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	if name != format {
		t.Fatalf("Decode named the format %q, want %q", name, format)
	}
	if got, err := Detect(raw); err != nil || got != format {
		t.Errorf("Detect(%s) = %q, %v; want %q", fixture, got, err, format)
	}
	vb, err := os.ReadFile(twin)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := transcript.DecodeV1(vb)
	if err != nil {
		t.Fatalf("%s: %v", twin, err)
	}
	// Ratings (Score, Comment) are compared like every other field: the v1
	// reader carries them.
	if diff := cmp.Diff(v1, d.Transcript); diff != "" {
		t.Errorf("transcripts differ (-v1 +%s):\n%s", format, diff)
	}
	for _, mode := range []stats.Mode{stats.ModeFired, stats.ModeAll} {
		s := stats.DefaultSettings()
		s.Mode = mode
		want := stats.Compute(v1, s, nil)
		got := stats.Compute(d.Transcript, s, nil)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("mode %v: cards differ (-v1 +%s):\n%s", mode, format, diff)
		}
	}
	return d
}

func TestGenesysConversationGivesTheV1Card(t *testing.T) {
	d := gcbfReadTwins(t, "genesys", "testdata/genesys/vpn_transfer.json", "testdata/genesys/vpn_transfer.v1.json")
	if d.Figures != nil || d.FirstReplyMs != nil {
		t.Errorf("Genesys messaging conversations carry no figures; got %s, %v", d.Figures, d.FirstReplyMs)
	}
	s := stats.DefaultSettings()
	s.Mode = stats.ModeAll
	c := stats.Compute(d.Transcript, s, nil)
	for key, want := range map[string]int64{
		"csg_PartiesAsAgentCount":        2, // the transfer from Ann to Bob
		"csg_PartiesAsBotCount":          1, // the message flow's bot
		"cse_SessionHandleTotalCount":    1, // Bob joined as Ann left: one live chat
		"csg_MessagesFromCustomersCount": 5, // 4 lines and the screenshot
	} {
		if got := c.Statistics[key].Num; got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
	if got := c.Statistics["csg_SessionEndedBy"].Str; got != "AGENT" {
		t.Errorf("csg_SessionEndedBy = %q, want AGENT (Bob disconnected)", got)
	}
}

func TestGenesysDecoderErrorsNameTheField(t *testing.T) {
	good, err := os.ReadFile("testdata/genesys/vpn_transfer.json")
	if err != nil {
		t.Fatal(err)
	}
	conv := `"conversation": {"id": "c-1", "participants": [{"id": "p1", "purpose": "customer", "startTime": "2026-11-20T09:00:00Z"}]}`
	for _, tc := range []struct{ name, in, want string }{
		{"not an object", `[1]`, "genesys: "},
		{"no conversation", `{"messages": []}`, "genesys: conversation: is required"},
		{"no messages", `{` + conv + `}`, "genesys: messages: is required"},
		{"no id", `{"conversation": {"participants": []}, "messages": []}`, "genesys: conversation.id: is required"},
		{"bad id", `{"conversation": {"id": "a|b", "participants": []}, "messages": []}`, `genesys: conversation.id: "a|b" cannot be a sessionId`},
		{"no participants", `{"conversation": {"id": "c-1", "participants": []}, "messages": []}`, "genesys: conversation.participants: at least one"},
		{"no purpose", `{"conversation": {"id": "c-1", "participants": [{"id": "p1"}]}, "messages": []}`, "genesys: conversation.participants[0].purpose: is required"},
		{"bad start", `{"conversation": {"id": "c-1", "participants": [{"id": "p1", "purpose": "customer", "startTime": "yesterday"}]}, "messages": []}`, `genesys: conversation.participants[0].startTime: "yesterday" is not an ISO-8601`},
		{"bad end type", `{"conversation": {"id": "c-1", "participants": [{"id": "p1", "purpose": "customer", "endTime": 5}]}, "messages": []}`, "genesys: conversation.participants[0].endTime: "},
		{"agent without id", `{"conversation": {"id": "c-1", "participants": [{"purpose": "agent"}]}, "messages": []}`, "genesys: conversation.participants[0].id: is required"},
		{"acd without time", `{"conversation": {"id": "c-1", "participants": [{"id": "q", "purpose": "acd"}]}, "messages": []}`, "genesys: conversation.participants[0].startTime: is required for an acd"},
		{"message without time", `{` + conv + `, "messages": [{"direction": "inbound", "textBody": "hi"}]}`, "genesys: messages[0].timestamp: is required"},
		{"message bad time", `{` + conv + `, "messages": [{"timestamp": "2026-11-20 09:00", "direction": "inbound"}]}`, `genesys: messages[0].timestamp: "2026-11-20 09:00" is not`},
		{"message no direction", `{` + conv + `, "messages": [{"timestamp": "2026-11-20T09:00:01Z", "textBody": "hi"}]}`, "genesys: messages[0].direction: is required"},
		{"message bad direction", `{` + conv + `, "messages": [{"timestamp": "2026-11-20T09:00:01Z", "direction": "sideways"}]}`, `genesys: messages[0].direction: "sideways" is not`},
		{"inbound without customer", `{"conversation": {"id": "c-1", "participants": [{"id": "a", "purpose": "agent"}]}, "messages": [{"timestamp": "2026-11-20T09:00:01Z", "direction": "inbound", "textBody": "x"}]}`, "genesys: messages[0].direction: is inbound, but"},
		{"negative size", `{` + conv + `, "messages": [{"timestamp": "2026-11-20T09:00:01Z", "direction": "inbound", "media": [{"name": "a", "mediaType": "x/y", "contentLengthBytes": -1}]}]}`, "genesys: messages[0].media[0].contentLengthBytes: must not be negative"},
		{"text not a string", `{` + conv + `, "messages": [{"timestamp": "2026-11-20T09:00:01Z", "direction": "inbound", "textBody": 7}]}`, "genesys: messages[0].textBody: "},
		{"duplicate key", `{` + conv + `, "messages": [], "messages": []}`, "genesys: messages: "},
		{"wrong case", `{"Conversation": {"id": "c-1"}, "messages": []}`, "genesys: conversation: is required"},
		{"bad utf-8", strings.Replace(string(good), "My VPN is broken", "My VPN \xff", 1), "genesys: messages[1].textBody: "},
	} {
		_, err := decodeGenesys([]byte(tc.in))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want prefix %q", tc.name, err, tc.want)
		}
	}
}

func TestGenesysMappingDetails(t *testing.T) {
	t.Run("customer hangs up: CLIENT QUIT, agent present at the end", func(t *testing.T) {
		in := `{"conversation": {"id": "c-2", "participants": [
		  {"id": "cu", "purpose": "customer", "startTime": "2026-11-20T09:00:00Z", "endTime": "2026-11-20T09:05:00Z", "disconnectType": "client"},
		  {"id": "ag", "purpose": "agent", "user": {"id": "u1"}, "connectedTime": "2026-11-20T09:01:00Z", "endTime": "2026-11-20T09:05:00Z", "disconnectType": "peer", "mediaRoles": ["full"]}
		]}, "messages": [
		  {"timestamp": "2026-11-20T09:01:10Z", "direction": "outbound", "textBody": "hi", "createdBy": {"id": "u1"}}
		]}`
		d, err := decodeGenesys([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		c := stats.Compute(d.Transcript, stats.DefaultSettings(), nil)
		if by, why, agent := c.Statistics["csg_SessionEndedBy"].Str, c.Statistics["csg_SessionEndedReason"].Str, c.Statistics["csg_SessionEndedAgent"].Str; by != "CLIENT" || why != "QUIT" || agent != "PRESENT" {
			t.Errorf("ended by %s / %s / agent %s, want CLIENT / QUIT / PRESENT", by, why, agent)
		}
	})
	t.Run("system close of an idle chat is INACTIVE; active without every endTime", func(t *testing.T) {
		in := `{"conversation": {"id": "c-3", "participants": [
		  {"id": "cu", "purpose": "customer", "startTime": "2026-11-20T09:00:00Z", "endTime": "2026-11-20T10:00:00Z", "disconnectType": "system"}
		]}, "messages": []}`
		d, err := decodeGenesys([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		c := stats.Compute(d.Transcript, stats.DefaultSettings(), nil)
		if by, why := c.Statistics["csg_SessionEndedBy"].Str, c.Statistics["csg_SessionEndedReason"].Str; by != "SYSTEM" || why != "INACTIVE" {
			t.Errorf("ended by %s / %s, want SYSTEM / INACTIVE", by, why)
		}
		open := strings.Replace(in, `, "endTime": "2026-11-20T10:00:00Z"`, "", 1)
		d, err = decodeGenesys([]byte(open))
		if err != nil {
			t.Fatal(err)
		}
		if c := stats.Compute(d.Transcript, stats.DefaultSettings(), nil); !c.Active {
			t.Error("a conversation whose customer has no endTime must be active")
		}
	})
	t.Run("a message given twice is one line", func(t *testing.T) {
		msg := `{"id": "m1", "timestamp": "2026-11-20T09:00:01Z", "direction": "inbound", "textBody": "hi"}`
		in := `{"conversation": {"id": "c-5", "participants": [{"id": "cu", "purpose": "customer", "startTime": "2026-11-20T09:00:00Z"}]}, "messages": [` + msg + `, ` + msg + `]}`
		d, err := decodeGenesys([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if c := stats.Compute(d.Transcript, stats.DefaultSettings(), nil); c.MessageCount != 1 {
			t.Errorf("messageCount = %d, want 1", c.MessageCount)
		}
	})
	t.Run("coach and monitor visibility; unknown senders become agents", func(t *testing.T) {
		in := `{"conversation": {"id": "c-4", "participants": [
		  {"id": "cu", "purpose": "customer", "startTime": "2026-11-20T09:00:00Z"},
		  {"id": "co", "purpose": "agent", "user": {"id": "u2"}, "mediaRoles": ["coach"], "connectedTime": "2026-11-20T09:01:00Z"},
		  {"id": "mo", "purpose": "user", "user": {"id": "u3"}, "monitoredParticipantId": "cu", "connectedTime": "2026-11-20T09:01:00Z"}
		]}, "messages": [
		  {"timestamp": "2026-11-20T09:02:00Z", "direction": "outbound", "textBody": "psst", "createdBy": {"id": "u2"}},
		  {"timestamp": "2026-11-20T09:03:00Z", "direction": "outbound", "textBody": "from the API", "createdBy": {"id": "u9", "name": "Api User"}},
		  {"timestamp": "2026-11-20T09:04:00Z", "direction": "outbound", "normalizedMessage": {"type": "Structured", "originatingEntity": "Bot", "direction": "Outbound", "content": [{"contentType": "Attachment", "attachment": {"mediaType": "File", "filename": "", "contentSizeBytes": 0}}]}}
		]}`
		tr, err := buildGenesys([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		// Rule 7: a file's name and contentType may be "".
		if err := tr.Normalize(); err != nil {
			t.Fatalf("Normalize: %v", err)
		}
		vis := map[string]transcript.Visibility{}
		role := map[string]transcript.Role{}
		for _, p := range tr.Participants {
			vis[p.ID], role[p.ID] = p.Visibility, p.Role
		}
		if vis["co"] != transcript.VisibilityCoach || vis["mo"] != transcript.VisibilityMonitor {
			t.Errorf("visibility co=%v mo=%v, want coach, monitor", vis["co"], vis["mo"])
		}
		if role["user:u9"] != transcript.RoleAgent || role["bot"] != transcript.RoleBot {
			t.Errorf("roles %v: want user:u9 agent and a bot for the Bot-originated line", role)
		}
		last := tr.Events[len(tr.Events)-1]
		if last.Type != transcript.EventAttachment || last.Participant != "bot" || last.File.Name != "" || last.File.ContentType != "" {
			t.Errorf("last event %+v, want the bot's unnamed attachment", last)
		}
	})
}

func TestGenesysDetect(t *testing.T) {
	for in, want := range map[string]bool{
		`{"conversation": {"participants": [{"purpose": "customer"}]}, "messages": []}`: true,
		`{"conversation": {"participants": [{"id": "x"}]}, "messages": []}`:             false,
		`{"conversation": {"participants": [{"purpose": "customer"}]}}`:                 false,
		`{"version": 1, "sessionId": "a", "participants": [], "events": []}`:            false,
		`[{"type": "message", "from": {"id": "u"}}]`:                                    false,
	} {
		if got := detectGenesys([]byte(in)); got != want {
			t.Errorf("detectGenesys(%s) = %v, want %v", in, got, want)
		}
	}
}

func FuzzGenesys(f *testing.F) {
	if b, err := os.ReadFile("testdata/genesys/vpn_transfer.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"conversation": {"id": "c", "participants": [{"id": "p", "purpose": "customer", "startTime": "2026-11-20T09:00:00Z", "endTime": "2026-11-20T09:00:00Z", "disconnectType": "client"}]}, "messages": [{"timestamp": "2026-11-20T09:00:00Z", "direction": "outbound"}]}`))
	f.Add([]byte(`{"conversation": {"id": "c", "participants": [{"id": "b", "purpose": "workflow", "startTime": "2026-11-20T09:00:00Z"}, {"id": "q", "purpose": "acd", "startTime": "2026-11-20T09:00:01Z"}]}, "messages": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeGenesys(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "genesys: ") {
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

// An agent or coach who pressed disconnect minutes before the conversation
// ended left it; they did not close it. Only a visible agent or bot whose
// disconnect is the conversation's end closed it.
func TestGenesysEarlyDisconnectDoesNotCloseTheConversation(t *testing.T) {
	const doc = `{"conversation": {"id": "5c2a7d1e-0000-4000-8000-00000000aa02", "participants": [
  {"id": "p-cust", "purpose": "customer", "name": "Gus", "startTime": "2026-11-20T10:00:00.000Z", "connectedTime": "2026-11-20T10:00:00.000Z", "endTime": "2026-11-20T10:09:00.000Z", "disconnectType": "system"},
  {"id": "p-ag1", "purpose": "agent", "name": "Ann", "user": {"id": "u-ann"}, "connectedTime": "2026-11-20T10:01:00.000Z", "endTime": "2026-11-20T10:03:00.000Z", "disconnectType": "client"},
  {"id": "p-ag2", "purpose": "agent", "name": "Bob", "user": {"id": "u-bob"}, "connectedTime": "2026-11-20T10:03:00.000Z", "endTime": "2026-11-20T10:09:00.000Z", "disconnectType": "peer"},
  {"id": "p-coach", "purpose": "agent", "name": "Sue", "user": {"id": "u-sue"}, "mediaRoles": ["coach"], "connectedTime": "2026-11-20T10:02:00.000Z", "endTime": "2026-11-20T10:09:00.000Z", "disconnectType": "client"}
 ]},
 "messages": [
  {"id": "m1", "direction": "inbound", "timestamp": "2026-11-20T10:00:01.000Z", "textBody": "hi"},
  {"id": "m2", "direction": "outbound", "timestamp": "2026-11-20T10:01:30.000Z", "textBody": "Ann here", "createdBy": {"id": "u-ann"}}
 ]}`
	d, _, err := Decode("genesys", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	evs := d.Transcript.Events
	end := evs[len(evs)-1]
	if end.Type != transcript.EventEnded || end.Participant != "" || end.Reason != "inactive" {
		t.Errorf("end = %+v, want the system's, reason inactive (Ann left at 10:03, the coach cannot close the chat)", end)
	}
	c := stats.Compute(d.Transcript, stats.DefaultSettings(), nil)
	if got := c.Statistics["csg_SessionEndedBy"].Str; got != "SYSTEM" {
		t.Errorf("csg_SessionEndedBy = %q, want SYSTEM", got)
	}
}
