package formats_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// The platform fixtures, each beside its hand-written transcript v1 twin.
var platformFixtures = []struct {
	format, file, twin string
}{
	{"zendesk", "testdata/zendesk/chat_full.json", "testdata/zendesk/chat_full.v1.json"},
	{"chatwoot", "testdata/chatwoot/conversation_full.json", "testdata/chatwoot/conversation_full.v1.json"},
	{"rocketchat", "testdata/rocketchat/room_full.json", "testdata/rocketchat/room_full.v1.json"},
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A platform's conversation and its hand-written v1 twin give one card:
// the engine never knows which platform it read.
func TestPlatformAndCanonicalGiveTheSameCard(t *testing.T) {
	for _, fx := range platformFixtures {
		t.Run(fx.format, func(t *testing.T) {
			d, name, err := formats.Decode("auto", readFile(t, fx.file))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if name != fx.format {
				t.Fatalf("auto-detection chose %q, want %q", name, fx.format)
			}
			twin, err := transcript.Decode(readFile(t, fx.twin))
			if err != nil {
				t.Fatalf("twin: %v", err)
			}
			for _, mode := range []stats.Mode{stats.ModeAll, stats.ModeFired} {
				s := stats.DefaultSettings()
				s.Mode = mode
				got, want := stats.Compute(d.Transcript, s, nil), stats.Compute(twin, s, nil)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("mode %v: cards differ (-v1 +%s):\n%s", mode, fx.format, diff)
				}
			}
			if diff := cmp.Diff(twin.Warnings, d.Transcript.Warnings); diff != "" {
				t.Errorf("warnings differ (-v1 +%s):\n%s", fx.format, diff)
			}
		})
	}
}

// count returns how many events of the type the transcript has.
func count(tr *transcript.Transcript, typ transcript.EventType) int {
	n := 0
	for _, e := range tr.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func find(tr *transcript.Transcript, typ transcript.EventType) *transcript.Event {
	for i := range tr.Events {
		if tr.Events[i].Type == typ {
			return &tr.Events[i]
		}
	}
	return nil
}

func role(tr *transcript.Transcript, id string) transcript.Role {
	for _, p := range tr.Participants {
		if p.ID == id {
			return p.Role
		}
	}
	return transcript.RoleUnknown
}

// What each fixture must map to, beyond the card: the figures, the first
// reply, the rating, the handoff, the end and who ended it.
func TestPlatformMapping(t *testing.T) {
	cases := []struct {
		format, file                string
		figures                     string
		firstReplyMs                int64
		endedBy, endReason          string
		ticket                      string
		coach                       string
		agents, bots                int
		wantRatingScore             int
		wantRatingComment           string
		wantPages, wantAttachments  int
		wantSessionID, wantCustomer string
	}{
		{format: "zendesk", file: "testdata/zendesk/chat_full.json",
			figures:      `{"platform":"zendesk","response_time":{"first":56,"avg":38,"max":56}}`,
			firstReplyMs: 56000, endedBy: "visitor", endReason: "quit", ticket: "20431", agents: 2, bots: 1,
			wantRatingScore: 5, wantRatingComment: "Quick help", wantPages: 1, wantAttachments: 1,
			wantSessionID: "2611.10042.QpL3xYzR", wantCustomer: "visitor"},
		{format: "chatwoot", file: "testdata/chatwoot/conversation_full.json",
			figures:      `{"created_at":1795165200,"first_reply_created_at":1795165265,"platform":"chatwoot"}`,
			firstReplyMs: 65000, coach: "user:7:private", agents: 3, bots: 1,
			wantRatingScore: 5, wantRatingComment: "Quick help", wantAttachments: 1,
			wantSessionID: "4711", wantCustomer: "contact:42"},
		{format: "rocketchat", file: "testdata/rocketchat/room_full.json",
			figures:      `{"metrics":{"reaction":{"fd":"2026-11-20T09:01:05.250Z","ft":25.25,"tt":45.25},"response":{"avg":55.625,"fd":"2026-11-20T09:01:05.250Z","ft":56.25,"total":2,"tt":111.25}},"platform":"rocketchat"}`,
			firstReplyMs: 56250, endedBy: "aB0bUserId0000002", endReason: "force", agents: 2, bots: 1,
			wantRatingScore: 5, wantRatingComment: "Quick help", wantPages: 1, wantAttachments: 1,
			wantSessionID: "Kc7dPqR2sTuVwXyZa", wantCustomer: "vJ3kL9mN2pQ4rS6tU"},
	}
	for _, c := range cases {
		t.Run(c.format, func(t *testing.T) {
			f, _ := formats.Lookup(c.format)
			d, err := f.Decode(readFile(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			tr := d.Transcript
			if tr.SessionID != c.wantSessionID || tr.Tenant != "" {
				t.Errorf("sessionId %q tenant %q, want %q and none", tr.SessionID, tr.Tenant, c.wantSessionID)
			}
			if string(d.Figures) != c.figures {
				t.Errorf("figures\n got %s\nwant %s", d.Figures, c.figures)
			}
			if d.FirstReplyMs == nil || *d.FirstReplyMs != c.firstReplyMs {
				t.Errorf("FirstReplyMs = %v, want %d", d.FirstReplyMs, c.firstReplyMs)
			}
			if n := count(tr, transcript.EventHandoff); n != 1 {
				t.Errorf("%d handoffs, want 1", n)
			}
			if n := count(tr, transcript.EventPage); n != c.wantPages {
				t.Errorf("%d pages, want %d", n, c.wantPages)
			}
			if n := count(tr, transcript.EventAttachment); n != c.wantAttachments {
				t.Errorf("%d attachments, want %d", n, c.wantAttachments)
			}
			r := find(tr, transcript.EventRating)
			if r == nil || r.Score != c.wantRatingScore || r.Comment != c.wantRatingComment || r.Participant != c.wantCustomer {
				t.Errorf("rating = %+v, want %d %q by %s", r, c.wantRatingScore, c.wantRatingComment, c.wantCustomer)
			}
			e := find(tr, transcript.EventEnded)
			if e == nil || e.Participant != c.endedBy || e.Reason != c.endReason {
				t.Errorf("ended = %+v, want by %q reason %q", e, c.endedBy, c.endReason)
			}
			if tk := find(tr, transcript.EventTicket); c.ticket != "" && (tk == nil || tk.Ticket != c.ticket) {
				t.Errorf("ticket = %+v, want %s", tk, c.ticket)
			}
			agents, bots := 0, 0
			for _, p := range tr.Participants {
				switch p.Role {
				case transcript.RoleAgent:
					agents++
				case transcript.RoleBot:
					bots++
				}
				if p.ID == c.coach && p.Visibility != transcript.VisibilityCoach {
					t.Errorf("%s should be a coach line (private note)", p.ID)
				}
			}
			if agents != c.agents || bots != c.bots {
				t.Errorf("%d agents and %d bots, want %d and %d", agents, bots, c.agents, c.bots)
			}
			if role(tr, c.wantCustomer) != transcript.RoleCustomer {
				t.Errorf("%s should be the customer", c.wantCustomer)
			}
		})
	}
}

// Each fixture is recognised by its own format only; the v1 twins stay v1.
func TestPlatformDetect(t *testing.T) {
	for _, fx := range platformFixtures {
		b := readFile(t, fx.file)
		for _, name := range []string{"zendesk", "chatwoot", "rocketchat"} {
			f, ok := formats.Lookup(name)
			if !ok {
				t.Fatalf("%s is not registered", name)
			}
			if got, want := f.Detect(b), name == fx.format; got != want {
				t.Errorf("%s.Detect(%s) = %v, want %v", name, filepath.Base(fx.file), got, want)
			}
		}
		if name, err := formats.Detect(readFile(t, fx.twin)); err != nil || name != "v1" {
			t.Errorf("Detect(%s) = %q, %v; want v1", fx.twin, name, err)
		}
	}
	// No platform claims transcript v1 or Amazon Connect files.
	others, err := filepath.Glob("../transcript/testdata/*.json")
	if err != nil || len(others) == 0 {
		t.Fatalf("transcript testdata: %v %v", others, err)
	}
	for _, f := range others {
		name, err := formats.Detect(readFile(t, f))
		if err != nil || (name != "v1" && name != "connect") {
			t.Errorf("Detect(%s) = %q, %v; want v1 or connect", filepath.Base(f), name, err)
		}
	}
	for _, doc := range []string{`{}`, `[]`, `{"history":[],"type":"offline_msg"}`, `{"messages":[]}`, `{"room":[],"messages":[]}`,
		`{"Room":{},"messages":[]}`, `{"type":"chat","history":{}}`, `{"messages":[],"inbox_id":1,"room":{}}`} {
		for _, name := range []string{"zendesk", "chatwoot", "rocketchat"} {
			f, _ := formats.Lookup(name)
			if f.Detect([]byte(doc)) {
				t.Errorf("%s.Detect(%s) = true, want false", name, doc)
			}
		}
	}
}

// Bad input gets an error naming the platform and the field.
func TestPlatformDecodeErrors(t *testing.T) {
	cases := []struct {
		format, doc, want string
	}{
		{"zendesk", `not json`, "zendesk: "},
		{"zendesk", `{"type":"chat","history":[]}`, "zendesk: id: is required"},
		{"zendesk", `{"id":"a b","type":"chat"}`, "zendesk: id: \"a b\" is not a valid sessionId"},
		{"zendesk", `{"id":"1","type":"offline_msg"}`, "zendesk: type:"},
		{"zendesk", `{"ID":"1","type":"chat"}`, "zendesk: id: is required"},
		{"zendesk", `{"id":"1","id":"2"}`, "duplicate"},
		{"zendesk", `{"id":"1","history":[{"type":"chat.msg","nick":"visitor"}]}`, "zendesk: history[0].timestamp: is required"},
		{"zendesk", `{"id":"1","history":[{"type":"chat.msg","nick":"visitor","timestamp":"2026-11-20T09:00:00Z"},{"type":"chat.msg","nick":"visitor","timestamp":"yesterday"}]}`, "zendesk: history[1].timestamp: \"yesterday\" is not an RFC 3339 time"},
		{"zendesk", `{"id":"1","history":[{"type":"chat.msg","timestamp":"2026-11-20T09:00:00Z"}]}`, "zendesk: history[0].nick: is required"},
		{"zendesk", `{"id":"1","history":[{"type":"chat.msg","nick":"robot","timestamp":"2026-11-20T09:00:00Z"}]}`, "zendesk: history[0].nick: \"robot\""},
		{"zendesk", `{"id":"1","history":[{"type":"chat.msg","sender_type":"Alien","timestamp":"2026-11-20T09:00:00Z"}]}`, "zendesk: history[0].sender_type:"},
		{"zendesk", `{"id":"1","history":[{"type":"chat.file","nick":"visitor","timestamp":"2026-11-20T09:00:00Z","attachment":{"size":-1}}]}`, "zendesk: history[0].attachment.size: must not be negative"},
		{"zendesk", `{"id":"1","history":[{"type":"chat.msg","nick":"visitor","timestamp":"2026-11-20T09:00:00Z","msg":7}]}`, "zendesk: "},
		{"zendesk", `{"id":"1","end_timestamp":"2026-11-20T09:00:00Z","rating":"meh"}`, "zendesk: rating: \"meh\" is not good or bad"},
		{"zendesk", `{"id":"1","webpath":[{"timestamp":"2026-11-20T09:00:00Z"}]}`, "zendesk: webpath[0].to: is required"},
		{"zendesk", `{"id":"1","end_timestamp":"2026-11-20"}`, "zendesk: end_timestamp:"},
		{"zendesk", `{"id":"1","response_time":{"first":"soon"}}`, "zendesk: response_time:"},
		{"zendesk", "{\"id\":\"1\",\"history\":[{\"type\":\"chat.msg\",\"nick\":\"visitor\",\"timestamp\":\"2026-11-20T09:00:00Z\",\"msg\":\"\xff\"}]}", "zendesk: "},

		{"chatwoot", `{"messages":[]}`, "chatwoot: id: is required"},
		{"chatwoot", `{"id":"7","messages":[]}`, "chatwoot: "},
		{"chatwoot", `{"id":7,"messages":[{"message_type":0,"content":"hi"}]}`, "chatwoot: messages[0].created_at: is required"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":0,"content":"hi","created_at":true}]}`, "chatwoot: messages[0].created_at: must be a number or a string"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":0,"content":"hi","created_at":"noon"}]}`, "chatwoot: messages[0].created_at: \"noon\" is not an RFC 3339 time"},
		{"chatwoot", `{"id":7,"messages":[{"content":"hi","created_at":1795165200}]}`, "chatwoot: messages[0].message_type: is required"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":9,"content":"hi","created_at":1795165200}]}`, "chatwoot: messages[0].message_type: 9 is not incoming, outgoing, activity or template"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":"shout","content":"hi","created_at":1795165200}]}`, "chatwoot: messages[0].message_type:"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":1,"content":"hi","created_at":1795165200,"sender":{"id":1,"type":"robot"}}]}`, "chatwoot: messages[0].sender.type: \"robot\""},
		{"chatwoot", `{"id":7,"messages":[{"message_type":1,"content":"hi","created_at":1795165200,"sender_type":"Martian"}]}`, "chatwoot: messages[0].sender_type: \"Martian\""},
		{"chatwoot", `{"id":7,"messages":[{"message_type":0,"content":"hi","created_at":1795165200,"attachments":[{"data_url":"https://x/y.png","file_size":-4}]}]}`, "chatwoot: messages[0].attachments[0].file_size: must not be negative"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":3,"content_type":"input_csat","content":"Rate us","created_at":1795165200,"content_attributes":{"submitted_values":{"csat_survey_response":{"rating":9}}}}]}`, "chatwoot: messages[0].content_attributes.submitted_values.csat_survey_response.rating: 9 is not 1 to 5"},
		{"chatwoot", `{"id":7,"messages":[{"message_type":3,"content_type":"input_csat","content":"Rate us","created_at":1795165200,"content_attributes":{"submitted_values":{"csat_survey_response":{"rating":"good"}}}}]}`, "chatwoot: messages[0].content_attributes:"},
		{"chatwoot", `{"id":7,"created_at":"x","messages":[]}`, "chatwoot: created_at:"},
		{"chatwoot", `{"id":7,"messages":[],"first_reply_created_at":[]}`, "chatwoot: first_reply_created_at:"},

		{"rocketchat", `{"messages":[]}`, "rocketchat: room: is required"},
		{"rocketchat", `{"room":{},"messages":[]}`, "rocketchat: room._id: is required"},
		{"rocketchat", `{"room":{"_id":"a/b"},"messages":[]}`, "rocketchat: room._id: \"a/b\" is not a valid sessionId"},
		{"rocketchat", `{"room":{"_id":"r1","t":"c"},"messages":[]}`, "rocketchat: room.t: \"c\" is not a livechat room"},
		{"rocketchat", `{"room":{"_id":"r1","ts":"monday"},"messages":[]}`, "rocketchat: room.ts: \"monday\" is not an RFC 3339 time"},
		{"rocketchat", `{"room":{"_id":"r1"},"messages":[{"msg":"hi","u":{"_id":"u1"}}]}`, "rocketchat: messages[0].ts: is required"},
		{"rocketchat", `{"room":{"_id":"r1"},"messages":[{"msg":"hi","ts":{"$date":"x"},"u":{"_id":"u1"}}]}`, "rocketchat: messages[0].ts: an object date needs an integer $date"},
		{"rocketchat", `{"room":{"_id":"r1"},"messages":[{"msg":"hi","ts":"2026-11-20T09:00:00Z"}]}`, "rocketchat: messages[0].u._id: is required"},
		{"rocketchat", `{"room":{"_id":"r1"},"messages":[{"t":"livechat_navigation_history","ts":"2026-11-20T09:00:00Z","navigation":{"page":{}}}]}`, "rocketchat: messages[0].navigation.page.location.href: is required"},
		{"rocketchat", `{"room":{"_id":"r1"},"messages":[{"msg":"","ts":"2026-11-20T09:00:00Z","u":{"_id":"u1"},"files":[{"name":"a","type":"text/plain","size":-2}]}]}`, "rocketchat: messages[0].files[0].size: must not be negative"},
		{"rocketchat", `{"room":{"_id":"r1","closedAt":"2026-11-20T09:00:00Z","closer":"cat"},"messages":[]}`, "rocketchat: room.closer: \"cat\" is not user, visitor or bot"},
		{"rocketchat", `{"room":{"_id":"r1","closedAt":"2026-11-20T09:00:00Z","surveyFeedback":{"satisfaction":"7"}},"messages":[]}`, "rocketchat: room.surveyFeedback.satisfaction: \"7\" is not 1 to 5"},
		{"rocketchat", `{"room":{"_id":"r1","metrics":{"response":{"ft":"fast"}}},"messages":[]}`, "rocketchat: room.metrics.response:"},
		{"rocketchat", `{"room":{"_id":"r1"},"messages":{}}`, "rocketchat: "},
	}
	for _, c := range cases {
		f, _ := formats.Lookup(c.format)
		d, err := f.Decode([]byte(c.doc))
		if err == nil {
			t.Errorf("%s %s: no error, decoded %+v", c.format, c.doc, d.Transcript)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), c.format+": ") {
			t.Errorf("%s %s:\n got %v\nwant it to start with %q and contain %q", c.format, c.doc, err, c.format+": ", c.want)
		}
	}
}

// With auto detection, a platform document with a duplicate key fits no
// format (each reads strictly): the error names the duplicate and where it
// is, not "neither transcript v1 nor Connect".
func TestDetectNamesADuplicateKey(t *testing.T) {
	_, err := formats.Detect([]byte(`{"chat": {"id": "A", "id": "B", "users": []}, "threads": []}`))
	if err == nil || !strings.Contains(err.Error(), "duplicate") || !strings.Contains(err.Error(), "/chat") {
		t.Fatalf("Detect: %v, want an error naming the duplicate id in /chat", err)
	}
}
