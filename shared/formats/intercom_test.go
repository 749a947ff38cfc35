package formats_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func TestIntercomFixtureGivesTheV1Card(t *testing.T) {
	d := lcicSameCard(t, "intercom", "intercom/bot_handoff_transfer.json", "intercom/bot_handoff_transfer.v1.json")
	tr := d.Transcript
	if tr.SessionID != "371" || tr.Tenant != "" {
		t.Errorf("sessionId %q tenant %q, want the conversation id and no tenant", tr.SessionID, tr.Tenant)
	}
	s := stats.DefaultSettings()
	s.Mode = stats.ModeAll
	card := stats.Compute(tr, s, nil)
	for key, want := range map[string]int64{
		"csg_PartiesAsBotCount":   1,
		"csg_PartiesAsAgentCount": 2,
		"csg_PartiesAsCoachCount": 1,
	} {
		if got := card.Statistics[key].Num; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if card.SupportPerson != "admin:991267600" || len(card.RelatedTickets) != 1 || card.RelatedTickets[0] != "7583" {
		t.Errorf("supportPerson %q tickets %v", card.SupportPerson, card.RelatedTickets)
	}
	if lcicCount(tr, transcript.EventHandoff) != 1 {
		t.Errorf("want exactly one handoff (Fin assigning to the team)")
	}
	if r := lcicRating(tr); r == nil || r.Score != 5 || r.Comment != "Quick and helpful" || r.Participant != "contact:667d60e08a68186f43bafde5" {
		t.Errorf("rating = %+v", r)
	}
	if d.FirstReplyMs == nil || *d.FirstReplyMs != 75000 {
		t.Errorf("FirstReplyMs = %v, want statistics.time_to_admin_reply 75 s = 75000", d.FirstReplyMs)
	}
	var fig struct {
		Platform   string         `json:"platform"`
		Statistics map[string]any `json:"statistics"`
	}
	if err := json.Unmarshal(d.Figures, &fig); err != nil {
		t.Fatalf("figures %s: %v", d.Figures, err)
	}
	if fig.Platform != "intercom" || fig.Statistics["time_to_admin_reply"] != float64(75) || fig.Statistics["last_closed_by_id"] != "991267600" {
		t.Errorf("figures = %s", d.Figures)
	}
}

func TestIntercomDetect(t *testing.T) {
	got, err := formats.Detect(lcicFixture(t, "intercom/bot_handoff_transfer.json"))
	if err != nil || got != "intercom" {
		t.Errorf("Detect = %q, %v; want intercom", got, err)
	}
	f, _ := formats.Lookup("intercom")
	for _, in := range []string{`{"type": "conversation"}`, `{"type": "ticket", "source": {}}`, `{"source": {}, "conversation_parts": {}}`, `{"type": "conversation", "source": null}`, `[]`} {
		if f.Detect([]byte(in)) {
			t.Errorf("Detect(%s) = true, want false", in)
		}
	}
}

func TestIntercomText(t *testing.T) {
	d, err := formats.DecodeIntercom([]byte(icDoc(`"state": "open"`, `
	  {"part_type": "comment", "created_at": 1719492840, "author": {"type": "admin", "id": "1", "name": "A"},
	   "body": "<h2>Lists</h2>\n<ul>\n<li>Coffee</li>\n<li>Tea &lt;hot&gt;</li>\n</ul><p>a<br>b</p>"}`)))
	if err != nil {
		t.Fatal(err)
	}
	var got string
	for _, e := range d.Transcript.Events {
		if e.Participant == "admin:1" && e.Type == transcript.EventMessage {
			got = e.Text
		}
	}
	if want := "Lists\nCoffee\nTea <hot>\na\nb"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

// icDoc builds a small conversation: extra top-level fields and parts.
func icDoc(extra, parts string) string {
	return `{"type": "conversation", "id": "42", "created_at": 1719492832, ` + extra + `,
	  "source": {"type": "conversation", "id": "1", "delivered_as": "customer_initiated", "subject": "", "body": "<p>hi</p>",
	    "author": {"type": "lead", "id": "c1", "name": "Lee"}, "attachments": [], "url": null, "redacted": false},
	  "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "c1"}]},
	  "conversation_parts": {"type": "conversation_part.list", "conversation_parts": [` + parts + `], "total_count": 1}}`
}

func TestIntercomReopenedAndAssignments(t *testing.T) {
	in := icDoc(`"state": "closed", "open": false`, `
	  {"part_type": "default_assignment", "created_at": 1719492833, "author": {"type": "bot", "id": "b"}, "assigned_to": {"type": "admin", "id": "1"}},
	  {"part_type": "comment", "created_at": 1719492840, "author": {"type": "admin", "id": "1"}, "body": "<p>hello</p>"},
	  {"part_type": "close", "created_at": 1719492850, "author": {"type": "admin", "id": "1"}, "body": null},
	  {"part_type": "open", "created_at": 1719492900, "author": {"type": "user", "id": "c1"}, "body": "<p>one more thing</p>"},
	  {"part_type": "assignment", "created_at": 1719492901, "author": {"type": "admin", "id": "1"}, "assigned_to": {"type": "nobody_admin", "id": null}},
	  {"part_type": "comment", "created_at": 1719492910, "author": {"type": "admin", "id": "2"}, "body": "<p>sure</p>"},
	  {"part_type": "snoozed", "created_at": 1719492911, "author": {"type": "admin", "id": "2"}, "body": ""},
	  {"part_type": "close", "created_at": 1719492920, "author": {"type": "bot", "id": "b"}, "body": null}`)
	d, err := formats.DecodeIntercom([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range d.Transcript.Events {
		got = append(got, e.Type.String()+":"+e.Participant)
	}
	want := []string{
		"started:", "message:contact:c1",
		"joined:admin:1", "message:admin:1",
		"left:admin:1", // the first close: the conversation was reopened
		"message:contact:c1",
		"message:admin:2",
		"ended:bot:b",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if d.Figures != nil || d.FirstReplyMs != nil {
		t.Errorf("no statistics: no figures, got %s %v", d.Figures, d.FirstReplyMs)
	}
}

func TestIntercomErrorsNameTheField(t *testing.T) {
	part := func(p string) string { return icDoc(`"state": "open"`, p) }
	for _, tc := range []struct {
		name, in, want string
	}{
		{"not json", `{"type":`, "intercom: "},
		{"type", `{"type": "ticket", "id": "1"}`, `intercom: type: must be "conversation"`},
		{"no id", `{"type": "conversation", "created_at": 1}`, "intercom: id: is required"},
		{"bad id", `{"type": "conversation", "id": "a/b", "created_at": 1}`, "intercom: id: "},
		{"no created_at", `{"type": "conversation", "id": "1"}`, "intercom: created_at: is required"},
		{"created_at type", `{"type": "conversation", "id": "1", "created_at": "yesterday"}`, "intercom: created_at: "},
		{"created_at fraction", `{"type": "conversation", "id": "1", "created_at": 1.5}`, "intercom: created_at: "},
		{"no source", `{"type": "conversation", "id": "1", "created_at": 1}`, "intercom: source: is required"},
		{"duplicate", `{"type": "conversation", "type": "conversation"}`, "intercom: "},
		{"part time", part(`{"part_type": "comment", "created_at": "x", "author": {"type": "admin", "id": "1"}}`), "intercom: conversation_parts.conversation_parts[0].created_at: "},
		{"part time range", part(`{"part_type": "comment", "created_at": -5, "author": {"type": "admin", "id": "1"}}`), "intercom: conversation_parts.conversation_parts[0].created_at: -5 is not a Unix time"},
		{"part type", part(`{"created_at": 1719492840, "author": {"type": "admin", "id": "1"}}`), "intercom: conversation_parts.conversation_parts[0].part_type: is required"},
		{"author", part(`{"part_type": "comment", "created_at": 1719492840}`), "intercom: conversation_parts.conversation_parts[0].author: is required"},
		{"author type", part(`{"part_type": "comment", "created_at": 1719492840, "author": {"type": "robot", "id": "1"}}`), `intercom: conversation_parts.conversation_parts[0].author.type: "robot"`},
		{"author id", part(`{"part_type": "comment", "created_at": 1719492840, "author": {"type": "admin"}}`), "intercom: conversation_parts.conversation_parts[0].author.id: is required"},
		{"filesize", part(`{"part_type": "comment", "created_at": 1719492840, "author": {"type": "admin", "id": "1"}, "attachments": [{"name": "a", "content_type": "b", "filesize": -1}]}`), "intercom: conversation_parts.conversation_parts[0].attachments[0].filesize: must not be negative"},
		{"note by contact", part(`{"part_type": "note", "created_at": 1719492840, "author": {"type": "user", "id": "c1"}, "body": "x"}`), "intercom: conversation_parts.conversation_parts[0].author.type: "},
		{"rating", icDoc(`"conversation_rating": {"rating": 6, "remark": "", "created_at": 1719492900}`, ``), "intercom: conversation_rating.rating: 6 is not from 1 to 5"},
		{"statistics", icDoc(`"statistics": {"time_to_admin_reply": "soon"}`, ``), "intercom: statistics.time_to_admin_reply: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := formats.DecodeIntercom([]byte(tc.in))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func FuzzIntercom(f *testing.F) {
	f.Add(lcicFixture(f, "intercom/bot_handoff_transfer.json"))
	f.Add([]byte(icDoc(`"state": "closed", "conversation_rating": {"rating": 1, "remark": "x", "created_at": 1719492900}`, `
	  {"part_type": "note", "created_at": 1719492840, "author": {"type": "bot", "id": "b"}, "body": "<p>a &amp; b</p>"},
	  {"part_type": "assignment", "created_at": 1719492841, "author": {"type": "bot", "id": "b"}, "assigned_to": {"type": "team", "id": "7"}},
	  {"part_type": "close", "created_at": 1719492850, "author": {"type": "team", "id": "7"}, "body": "<"}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := formats.DecodeIntercom(data)
		if err != nil {
			return
		}
		if err := d.Transcript.Normalize(); err != nil {
			t.Fatalf("decoded transcript fails Normalize: %v", err)
		}
	})
}
