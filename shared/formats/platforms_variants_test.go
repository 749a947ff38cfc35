package formats_test

import (
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// Smaller conversations for the branches the full fixtures do not take:
// another way of naming senders, no bot, a chat nobody answered, an open one.
func TestPlatformVariants(t *testing.T) {
	type want struct {
		handoffs, ended int
		endedBy         string
		endReason       string
		abandoned       bool
		active          bool
		figures         bool
		roles           map[string]transcript.Role
	}
	cases := []struct {
		name, format, doc string
		want              want
	}{
		{"zendesk missed chat, senders by sender_type", "zendesk", `{"id":"2611.1.A","type":"chat","timestamp":"2026-11-20T09:00:00Z","end_timestamp":"2026-11-20T09:05:00Z","missed":true,
			"history":[
			 {"type":"chat.msg","sender_type":"Trigger","name":"Concierge","timestamp":"2026-11-20T09:00:01Z","msg":"Hi there"},
			 {"type":"chat.msg","sender_type":"Visitor","name":"Visitor 8","timestamp":"2026-11-20T09:00:05Z","msg":"anyone?"},
			 {"type":"chat.memberleave","sender_type":"Visitor","name":"Visitor 8","timestamp":"2026-11-20T09:04:00Z"}]}`,
			want{handoffs: 1, ended: 1, endedBy: "visitor", endReason: "quit", abandoned: true,
				roles: map[string]transcript.Role{"visitor": transcript.RoleCustomer, "agent:trigger": transcript.RoleBot}}},
		{"zendesk agent-started chat, still open", "zendesk", `{"id":"2611.1.B","type":"chat","started_by":"agent",
			"history":[
			 {"type":"chat.msg","sender_type":"Agent","agent_id":361001,"name":"Ann","timestamp":"2026-11-20T09:00:01Z","msg":"Can I help?"},
			 {"type":"chat.msg","nick":"visitor","name":"Jane","timestamp":"2026-11-20T09:00:20Z","msg":"yes"}],
			"response_time":{"first":null,"avg":null,"max":null}}`,
			want{active: true, figures: true, roles: map[string]transcript.Role{"agent:361001": transcript.RoleAgent, "visitor": transcript.RoleCustomer}}},
		{"zendesk agent left, visitor wrote on, chat timed out", "zendesk", `{"id":"2611.1.C","type":"chat","end_timestamp":"2026-11-20T09:30:00Z",
			"history":[
			 {"type":"chat.msg","nick":"visitor","timestamp":"2026-11-20T09:00:00Z","msg":"hi"},
			 {"type":"chat.memberjoin","nick":"agent:7","name":"Ann","timestamp":"2026-11-20T09:00:10Z"},
			 {"type":"chat.msg","nick":"agent:7","name":"Ann","timestamp":"2026-11-20T09:00:20Z","msg":"hello"},
			 {"type":"chat.memberleave","nick":"agent:7","name":"Ann","timestamp":"2026-11-20T09:01:00Z"},
			 {"type":"chat.msg","nick":"visitor","timestamp":"2026-11-20T09:02:00Z","msg":"wait, one more thing"},
			 {"type":"chat.triggermsg","timestamp":"2026-11-20T09:02:01Z","msg":"All agents are busy."}]}`,
			want{handoffs: 1, ended: 1, roles: map[string]transcript.Role{"agent:7": transcript.RoleAgent, "agent:trigger": transcript.RoleBot}}},
		{"chatwoot without a bot, as webhooks write it, still open", "chatwoot", `{"id":12,"inbox_id":1,"account_id":1,"status":"open","created_at":"2026-11-20T09:00:00Z","first_reply_created_at":0,
			"messages":[
			 {"message_type":"incoming","content":"hi","created_at":"2026-11-20T09:00:02Z","sender_type":"Contact","sender_id":5},
			 {"message_type":"outgoing","content":"hello","created_at":"2026-11-20T09:00:30Z","sender_type":"User","sender_id":2},
			 {"message_type":"outgoing","content":"Thanks for reaching out!","created_at":"2026-11-20T09:00:03Z"}]}`,
			want{handoffs: 1, active: true, roles: map[string]transcript.Role{"contact:5": transcript.RoleCustomer, "user:2": transcript.RoleAgent, "system": transcript.RoleSystem}}},
		{"chatwoot bot only, resolved by the bot", "chatwoot", `{"id":13,"inbox_id":1,"status":"resolved","created_at":1795165200,
			"messages":[
			 {"message_type":0,"content":"opening hours?","created_at":1795165201,"sender":{"id":5,"name":"Jo","type":"contact"}},
			 {"message_type":1,"content":"draft: 9 to 5?","private":true,"created_at":1795165202,"sender":{"id":3,"name":"Captain","type":"captain_assistant"}},
			 {"message_type":1,"content":"9 to 5","created_at":1795165202,"sender":{"id":3,"name":"Captain","type":"captain_assistant"}},
			 {"message_type":2,"content":"Conversation was marked resolved by Captain","created_at":1795165260}]}`,
			want{ended: 1, roles: map[string]transcript.Role{"contact:5": transcript.RoleCustomer, "captain_assistant:3": transcript.RoleBot}}},
		{"rocketchat without a bot, closed by the visitor, EJSON dates", "rocketchat", `{"room":{"_id":"r9","t":"l","ts":{"$date":1795165200000},"v":{"_id":"v1","username":"guest-1","token":"tk"},
			"closer":"visitor","closedAt":{"$date":1795165500000}},
			"messages":[
			 {"msg":"hello?","token":"tk","ts":{"$date":1795165205000},"u":{"_id":"v1","username":"guest-1"}},
			 {"t":"livechat-close","msg":"","ts":{"$date":1795165500000},"u":{"_id":"v1","username":"guest-1"}}]}`,
			want{handoffs: 1, ended: 1, endedBy: "v1", endReason: "quit", abandoned: true, roles: map[string]transcript.Role{"v1": transcript.RoleCustomer}}},
		{"rocketchat bot room closed by the bot", "rocketchat", `{"room":{"_id":"r10","t":"l","ts":"2026-11-20T09:00:00Z","v":{"_id":"v1","token":"tk"},
			"closer":"bot","closedBy":{"_id":"b1","username":"helpbot"},"closedAt":"2026-11-20T09:01:00Z","metrics":{"response":{"ft":1.5}}},
			"messages":[
			 {"msg":"hi","token":"tk","ts":"2026-11-20T09:00:05Z","u":{"_id":"v1"}},
			 {"msg":"Here is the answer.","ts":"2026-11-20T09:00:06.5Z","u":{"_id":"b1","username":"helpbot"}}]}`,
			want{ended: 1, endedBy: "b1", endReason: "force", figures: true, roles: map[string]transcript.Role{"v1": transcript.RoleCustomer, "b1": transcript.RoleBot}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, name, err := formats.Decode("auto", []byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			if name != c.format {
				t.Fatalf("detected %q, want %q", name, c.format)
			}
			tr := d.Transcript
			if n := count(tr, transcript.EventHandoff); n != c.want.handoffs {
				t.Errorf("%d handoffs, want %d", n, c.want.handoffs)
			}
			if n := count(tr, transcript.EventEnded); n != c.want.ended {
				t.Errorf("%d ended, want %d", n, c.want.ended)
			}
			if e := find(tr, transcript.EventEnded); e != nil && (e.Participant != c.want.endedBy || e.Reason != c.want.endReason) {
				t.Errorf("ended by %q (%q), want %q (%q)", e.Participant, e.Reason, c.want.endedBy, c.want.endReason)
			}
			if (d.Figures != nil) != c.want.figures {
				t.Errorf("figures %s, want present=%v", d.Figures, c.want.figures)
			}
			for id, r := range c.want.roles {
				if got := role(tr, id); got != r {
					t.Errorf("%s is %v, want %v", id, got, r)
				}
			}
			card := stats.Compute(tr, stats.DefaultSettings(), nil)
			if card.Abandoned != c.want.abandoned || card.Active != c.want.active {
				t.Errorf("card abandoned=%v active=%v, want %v %v", card.Abandoned, card.Active, c.want.abandoned, c.want.active)
			}
		})
	}
}

// Times, figures and system users read exactly.
func TestPlatformDetails(t *testing.T) {
	t.Run("chatwoot fractional seconds are cut, exactly", func(t *testing.T) {
		for lit, want := range map[string]int64{"1795165470.512": 1795165470512, "1795165470.5129": 1795165470512, "1795165470": 1795165470000, "-0.0015": -2, "1.795165470512e9": 1795165470512} {
			d, err := formats.DecodeChatwoot([]byte(`{"id":1,"created_at":` + lit + `,"messages":[]}`))
			if err != nil {
				t.Fatalf("%s: %v", lit, err)
			}
			if e := find(d.Transcript, transcript.EventStarted); e == nil || e.At != want {
				t.Errorf("created_at %s: started at %v, want %d", lit, e, want)
			}
		}
	})
	t.Run("figures keep the platform's text", func(t *testing.T) {
		d, err := formats.DecodeRocketChat([]byte(`{"room":{"_id":"r1","metrics":{"response":{ "note" : "a<b&c", "ft": 2.0001 }}},"messages":[]}`))
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"metrics":{"response":{"note":"a<b&c","ft":2.0001}},"platform":"rocketchat"}`; string(d.Figures) != want {
			t.Errorf("figures %s, want %s", d.Figures, want)
		}
		if d.FirstReplyMs == nil || *d.FirstReplyMs != 2000 {
			t.Errorf("FirstReplyMs %v, want 2000", d.FirstReplyMs)
		}
	})
	t.Run("rocket.cat is the system", func(t *testing.T) {
		d, err := formats.DecodeRocketChat([]byte(`{"room":{"_id":"r1"},"messages":[{"msg":"Chat started","ts":"2026-11-20T09:00:00Z","u":{"_id":"rocket.cat","username":"rocket.cat"}}]}`))
		if err != nil {
			t.Fatal(err)
		}
		m := find(d.Transcript, transcript.EventMessage)
		if m == nil || role(d.Transcript, m.Participant) != transcript.RoleSystem || !m.Automatic {
			t.Errorf("rocket.cat line = %+v, want an automatic system line", m)
		}
	})
	t.Run("zendesk agent_id as string or number", func(t *testing.T) {
		for _, id := range []string{`"361001"`, `361001`} {
			d, err := formats.DecodeZendesk([]byte(`{"id":"1","history":[{"type":"chat.msg","sender_type":"Agent","agent_id":` + id + `,"timestamp":"2026-11-20T09:00:00Z","msg":"hi"}]}`))
			if err != nil {
				t.Fatal(err)
			}
			if role(d.Transcript, "agent:361001") != transcript.RoleAgent {
				t.Errorf("agent_id %s: participants %+v", id, d.Transcript.Participants)
			}
		}
	})
}

// A Captain draft (private, not an agent's) is no chat line; an agent's
// private note is a coach line of the same person.
func TestChatwootPrivateLines(t *testing.T) {
	d, err := formats.DecodeChatwoot([]byte(`{"id":5,"messages":[
		{"message_type":0,"content":"hi","created_at":100,"sender":{"id":1,"type":"contact"}},
		{"message_type":1,"content":"draft","private":true,"created_at":101,"sender":{"id":3,"type":"captain_assistant"}},
		{"message_type":1,"content":"note","private":true,"created_at":102,"sender_type":"User","sender_id":9}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range d.Transcript.Events {
		if e.Type == transcript.EventMessage {
			texts = append(texts, e.Participant+"="+e.Text)
		}
	}
	if got, want := strings.Join(texts, ","), "contact:1=hi,user:9:private=note"; got != want {
		t.Errorf("lines %s, want %s", got, want)
	}
	for _, p := range d.Transcript.Participants {
		if p.ID == "user:9:private" && (p.Visibility != transcript.VisibilityCoach || p.Person != "user:9") {
			t.Errorf("note writer %+v, want a coach of person user:9", p)
		}
	}
}
