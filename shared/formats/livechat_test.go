package formats_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

func lcicFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lcicSameCard decodes a platform fixture and its hand-written v1 twin and
// requires one card from both: the engine never knows the platform.
func lcicSameCard(t *testing.T, format, fixture, twin string) *formats.Decoded {
	t.Helper()
	d, name, err := formats.Decode(format, lcicFixture(t, fixture))
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	if name != format {
		t.Fatalf("decoded as %q, want %q", name, format)
	}
	v1, err := transcript.DecodeV1(lcicFixture(t, twin))
	if err != nil {
		t.Fatalf("%s: %v", twin, err)
	}
	s := stats.DefaultSettings()
	s.Mode = stats.ModeAll
	got := stats.Compute(d.Transcript, s, nil)
	want := stats.Compute(v1, s, nil)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("cards differ (-v1 +%s):\n%s", format, diff)
	}
	return d
}

func lcicCount(tr *transcript.Transcript, typ transcript.EventType) int {
	n := 0
	for _, e := range tr.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func lcicRating(tr *transcript.Transcript) *transcript.Event {
	for i := range tr.Events {
		if tr.Events[i].Type == transcript.EventRating {
			return &tr.Events[i]
		}
	}
	return nil
}

func TestLiveChatFixtureGivesTheV1Card(t *testing.T) {
	d := lcicSameCard(t, "livechat", "livechat/bot_handoff_transfer.json", "livechat/bot_handoff_transfer.v1.json")
	tr := d.Transcript
	if tr.SessionID != "PJ0MRSHTDG" || tr.Tenant != "" {
		t.Errorf("sessionId %q tenant %q, want the chat id and no tenant", tr.SessionID, tr.Tenant)
	}
	card := stats.Compute(tr, func() stats.Settings { s := stats.DefaultSettings(); s.Mode = stats.ModeAll; return s }(), nil)
	for key, want := range map[string]int64{
		"csg_PartiesAsBotCount":   1,
		"csg_PartiesAsAgentCount": 2,
		"csg_PartiesAsCoachCount": 1,
	} {
		if got := card.Statistics[key].Num; got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if lcicCount(tr, transcript.EventHandoff) != 1 {
		t.Errorf("want exactly one handoff (the bot's transfer to Agent Smith)")
	}
	if r := lcicRating(tr); r == nil || r.Score != 5 || r.Comment != "Quick and helpful" {
		t.Errorf("rating = %+v, want score 5 (good) with the comment", r)
	}
	var end *transcript.Event
	for i := range tr.Events {
		if tr.Events[i].Type == transcript.EventEnded {
			end = &tr.Events[i]
			break
		}
	}
	if end == nil || end.Participant != "jones@example.com" || end.Reason != "force" {
		t.Errorf("ended = %+v, want Agent Jones closing it (force)", end)
	}
	if d.FirstReplyMs != nil {
		t.Errorf("LiveChat has no per-chat first response figure, got %d", *d.FirstReplyMs)
	}
	var fig struct {
		Platform string `json:"platform"`
		Threads  []struct {
			ID             string `json:"id"`
			QueuesDuration int    `json:"queues_duration"`
		} `json:"threads"`
	}
	if err := json.Unmarshal(d.Figures, &fig); err != nil {
		t.Fatalf("figures %s: %v", d.Figures, err)
	}
	if fig.Platform != "livechat" || len(fig.Threads) != 1 || fig.Threads[0].QueuesDuration != 29 || fig.Threads[0].ID != "QA37PVJ75B" {
		t.Errorf("figures = %s", d.Figures)
	}
}

func TestLiveChatDetect(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"livechat/bot_handoff_transfer.json", "livechat"},
		{"livechat/bot_handoff_transfer.v1.json", "v1"},
	} {
		got, err := formats.Detect(lcicFixture(t, tc.file))
		if err != nil || got != tc.want {
			t.Errorf("%s: Detect = %q, %v; want %q", tc.file, got, err, tc.want)
		}
	}
	for _, in := range []string{`{"chat": {}}`, `{"threads": []}`, `{"chat": [], "threads": []}`, `{"chat": {}, "threads": {}}`, `[]`} {
		if f, ok := formats.Lookup("livechat"); ok && f.Detect([]byte(in)) {
			t.Errorf("Detect(%s) = true, want false", in)
		}
	}
}

// lcDoc builds a small LiveChat file around the given threads.
func lcDoc(threads string) string {
	return `{"chat": {"id": "PJ0MRSHTDG", "users": [
		{"id": "c1", "type": "customer", "name": "Jane"},
		{"id": "bot1", "type": "agent", "name": "Bot"},
		{"id": "ann@example.com", "type": "agent", "name": "Ann", "email": "ann@example.com"}]},
	 "threads": ` + threads + `}`
}

func TestLiveChatThreadsAreLiveChatsOfOneSession(t *testing.T) {
	in := lcDoc(`[
	 {"id": "T2", "created_at": "2020-05-12T12:00:00.000000Z", "active": true, "events": [
	   {"id": "T2_1", "created_at": "2020-05-12T12:00:01.000000Z", "type": "message", "visibility": "all", "author_id": "c1", "text": "back again"}]},
	 {"id": "T1", "created_at": "2020-05-12T11:00:00.000000Z", "active": false, "events": [
	   {"id": "T1_1", "created_at": "2020-05-12T11:00:01.000000Z", "type": "message", "visibility": "all", "author_id": "c1", "text": "hi"},
	   {"id": "T1_2", "created_at": "2020-05-12T11:00:05.000000Z", "type": "message", "visibility": "all", "author_id": "ann@example.com", "text": "hello"},
	   {"id": "T1_3", "created_at": "2020-05-12T11:01:00.000000Z", "type": "system_message", "visibility": "all",
	    "system_message_type": "archived_customer_disconnected", "text": "Jane left the chat", "text_vars": {"customer": "Jane"}}]}]`)
	d, err := formats.DecodeLiveChat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range d.Transcript.Events {
		if e.Type == transcript.EventMessage {
			continue
		}
		got = append(got, e.Type.String()+":"+e.Participant+":"+e.Reason)
	}
	want := []string{"started::", "left:ann@example.com:quit", "left:c1:disconnect", "joined:c1:"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if lcicCount(d.Transcript, transcript.EventEnded) != 0 {
		t.Errorf("the last thread is active: the session must stay active")
	}
	for _, p := range d.Transcript.Participants {
		if p.ID == "bot1" && p.Role != transcript.RoleBot {
			t.Errorf("an agent without an e-mail is a bot, got %v", p.Role)
		}
		if p.ID == "ann@example.com" && p.Role != transcript.RoleAgent {
			t.Errorf("ann is an agent, got %v", p.Role)
		}
	}
}

func TestLiveChatEndings(t *testing.T) {
	for _, tc := range []struct {
		smt, who, reason string
		left             bool
	}{
		{"manual_archived_customer", "c1", "quit", false},
		{"routing.archived_inactive", "", "inactive", false},
		{"archived_customer_disconnected", "", "", true},
		{"manual_archived_agent", "ann@example.com", "force", false},
	} {
		in := lcDoc(`[{"id": "T1", "created_at": "2020-05-12T11:00:00.000000Z", "active": false, "events": [
		   {"id": "T1_1", "created_at": "2020-05-12T11:00:05.000000Z", "type": "message", "visibility": "all", "author_id": "ann@example.com", "text": "hello"},
		   {"id": "T1_2", "created_at": "2020-05-12T11:01:00.000000Z", "type": "system_message", "visibility": "all",
		    "system_message_type": "` + tc.smt + `", "text": "closed", "text_vars": {"agent": "Ann"}},
		   {"id": "T1_3", "created_at": "2020-05-12T11:09:00.000000Z", "type": "system_message", "visibility": "agents",
		    "system_message_type": "transcript_sent", "text": "sent"}]}]`)
		d, err := formats.DecodeLiveChat([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", tc.smt, err)
		}
		var end *transcript.Event
		left := false
		for i, e := range d.Transcript.Events {
			if e.Type == transcript.EventLeft && e.Participant == "c1" {
				left = true
			}
			if e.Type == transcript.EventEnded {
				end = &d.Transcript.Events[i]
			}
		}
		if end == nil || end.Participant != tc.who || end.Reason != tc.reason || left != tc.left ||
			transcript.FormatMillis(end.At) != "2020-05-12T11:01:00.000Z" {
			t.Errorf("%s: ended %+v, customer left %v; want %q %q at the closing message, left %v", tc.smt, end, left, tc.who, tc.reason, tc.left)
		}
	}
}

func TestLiveChatErrorsNameTheField(t *testing.T) {
	thread := func(ev string) string {
		return lcDoc(`[{"id": "T1", "created_at": "2020-05-12T11:00:00.000000Z", "active": false, "events": [` + ev + `]}]`)
	}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"not json", `{"chat":`, "livechat: "},
		{"no chat", `{"threads": []}`, "livechat: chat: is required"},
		{"no threads", `{"chat": {"id": "X"}}`, "livechat: threads: is required"},
		{"no chat id", `{"chat": {"users": []}, "threads": []}`, "livechat: chat.id: is required"},
		{"bad chat id", `{"chat": {"id": "a b"}, "threads": []}`, "livechat: chat.id: "},
		{"duplicate key", `{"chat": {"id": "A", "id": "B"}, "threads": []}`, "livechat: chat"},
		{"key case", `{"Chat": {"id": "A"}, "threads": []}`, "livechat: chat: is required"},
		{"bad user type", `{"chat": {"id": "A", "users": [{"id": "u", "type": "robot"}]}, "threads": []}`, "livechat: chat.users[0].type: \"robot\""},
		{"user id type", `{"chat": {"id": "A", "users": [{"id": 7, "type": "agent"}]}, "threads": []}`, "livechat: chat.users[0].id: "},
		{"thread time", lcDoc(`[{"id": "T1", "created_at": "yesterday", "active": true}]`), "livechat: threads[0].created_at: not an RFC 3339 time"},
		{"thread active", lcDoc(`[{"id": "T1", "created_at": "2020-05-12T11:00:00Z"}]`), "livechat: threads[0].active: is required"},
		{"event time", thread(`{"type": "message", "author_id": "c1", "text": "x", "created_at": "2020-13-01T00:00:00Z"}`), "livechat: threads[0].events[0].created_at: "},
		{"event type", thread(`{"created_at": "2020-05-12T11:00:01Z", "author_id": "c1"}`), "livechat: threads[0].events[0].type: is required"},
		{"event author", thread(`{"created_at": "2020-05-12T11:00:01Z", "type": "message", "text": "x"}`), "livechat: threads[0].events[0].author_id: is required"},
		{"file size", thread(`{"created_at": "2020-05-12T11:00:01Z", "type": "file", "author_id": "c1", "name": "a", "content_type": "b", "size": -1}`), "livechat: threads[0].events[0].size: must not be negative"},
		{"text type", thread(`{"created_at": "2020-05-12T11:00:01Z", "type": "message", "author_id": "c1", "text": 5}`), "livechat: threads[0].events[0].text: "},
		{"rating", lcDoc(`[{"id": "T1", "created_at": "2020-05-12T11:00:00Z", "active": false, "properties": {"rating": {"score": 3}}}]`), "livechat: threads[0].properties.rating.score: 3 is not 1 (good) or 0 (bad)"},
		{"chat rating", `{"chat": {"id": "A", "properties": {"rating": {"score": "meh"}}}, "threads": [{"id": "T1", "created_at": "2020-05-12T11:00:00Z", "active": false}]}`, "livechat: chat.properties.rating.score: \"meh\" is not"},
		{"system type", thread(`{"created_at": "2020-05-12T11:00:01Z", "type": "system_message", "text": "x"}`), "livechat: threads[0].events[0].system_message_type: is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := formats.DecodeLiveChat([]byte(tc.in))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %v, want prefix %q", err, tc.want)
			}
		})
	}
}

func FuzzLiveChat(f *testing.F) {
	f.Add(lcicFixture(f, "livechat/bot_handoff_transfer.json"))
	f.Add([]byte(lcDoc(`[]`)))
	f.Add([]byte(lcDoc(`[{"id": "T1", "created_at": "2020-05-12T11:00:00Z", "active": false, "properties": {"rating": {"score": 0}}, "events": [
	  {"created_at": "2020-05-12T11:00:01Z", "type": "system_message", "system_message_type": "chat_transferred", "text_vars": {"targets": "Ann, Bot"}},
	  {"created_at": "2020-05-12T11:00:02Z", "type": "message", "visibility": "agents", "author_id": "bot1", "text": "x"}]}]`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := formats.DecodeLiveChat(data)
		if err != nil {
			return
		}
		if err := d.Transcript.Normalize(); err != nil {
			t.Fatalf("decoded transcript fails Normalize: %v", err)
		}
	})
}

func TestLiveChatSupervisorsAndWhispers(t *testing.T) {
	in := `{"chat": {"id": "PJ0MRSHTDG", "users": [
		{"id": "c1", "type": "customer"},
		{"id": "ann@example.com", "type": "agent", "name": "Ann", "email": "ann@example.com", "visibility": "all"},
		{"id": "sam@example.com", "type": "agent", "name": "Sam", "email": "sam@example.com", "visibility": "agents"},
		{"id": "bot1", "type": "agent", "name": "Helper", "visibility": "agents"}]},
	 "threads": [{"id": "T1", "created_at": "2020-05-12T11:00:00Z", "active": true, "events": [
	   {"created_at": "2020-05-12T11:00:01Z", "type": "message", "visibility": "all", "author_id": "ann@example.com", "text": "hello"},
	   {"created_at": "2020-05-12T11:00:02Z", "type": "message", "visibility": "agents", "author_id": "ann@example.com", "text": "psst"},
	   {"created_at": "2020-05-12T11:00:03Z", "type": "message", "visibility": "agents", "author_id": "sam@example.com", "text": "try X"},
	   {"created_at": "2020-05-12T11:00:04Z", "type": "message", "visibility": "all", "author_id": "bot1", "text": "suggestion"}]}]}`
	d, err := formats.DecodeLiveChat([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // line → participant id: role/visibility
		"hello":      "ann@example.com:agent/all",
		"psst":       "ann@example.com#coach:agent/coach",
		"try X":      "sam@example.com:supervisor/coach",
		"suggestion": "bot1#coach:agent/coach",
	}
	for _, e := range d.Transcript.Events {
		if e.Type != transcript.EventMessage {
			continue
		}
		p := d.Transcript.Participants[e.P]
		if got := p.ID + ":" + p.Role.String() + "/" + p.Visibility.String(); got != want[e.Text] {
			t.Errorf("%q: %s, want %s", e.Text, got, want[e.Text])
		}
	}
	s := stats.DefaultSettings()
	s.Mode = stats.ModeAll
	card := stats.Compute(d.Transcript, s, nil)
	if n := card.Statistics["csg_PartiesAsAgentCount"].Num; n != 1 {
		t.Errorf("visible agents = %d, want 1 (Ann)", n)
	}
	_, err = formats.DecodeLiveChat([]byte(strings.Replace(in, `"visibility": "agents"}`, `"visibility": "everyone"}`, 1)))
	if err == nil || !strings.HasPrefix(err.Error(), "livechat: chat.users[2].visibility: ") {
		t.Errorf("err = %v, want one naming chat.users[2].visibility", err)
	}
}
