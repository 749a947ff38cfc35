package formats_test

import (
	"testing"

	"github.com/chatcards/chatcards/shared/formats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// fuzzDecoder checks that a platform decoder never panics and that what it
// accepts is a transcript Normalize accepts again, with every event's
// participant resolved.
func fuzzDecoder(f *testing.F, name string, seeds ...string) {
	format, ok := formats.Lookup(name)
	if !ok {
		f.Fatalf("%s is not registered", name)
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = format.Detect(data)
		d, err := format.Decode(data)
		if err != nil {
			if d != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		tr := d.Transcript
		if tr == nil {
			t.Fatal("no transcript and no error")
		}
		if !transcript.ValidSessionID(tr.SessionID) {
			t.Fatalf("invalid sessionId %q", tr.SessionID)
		}
		again := *tr
		again.Participants = append([]transcript.Participant(nil), tr.Participants...)
		again.Events = append([]transcript.Event(nil), tr.Events...)
		if err := again.Normalize(); err != nil {
			t.Fatalf("decoded transcript fails Normalize: %v", err)
		}
		for i, e := range tr.Events {
			if e.Participant != "" && (e.P < 0 || int(e.P) >= len(tr.Participants) || tr.Participants[e.P].ID != e.Participant) {
				t.Fatalf("event %d: participant %q not resolved", i, e.Participant)
			}
		}
		if d.FirstReplyMs != nil && *d.FirstReplyMs < 0 {
			t.Fatalf("negative FirstReplyMs %d", *d.FirstReplyMs)
		}
	})
}

func seedFile(f *testing.F, name string) string {
	return string(readFile(f, name))
}

func FuzzZendesk(f *testing.F) {
	fuzzDecoder(f, "zendesk", seedFile(f, "testdata/zendesk/chat_full.json"),
		`{"id":"1","type":"chat","history":[{"type":"chat.msg","nick":"visitor","timestamp":"2026-11-20T09:00:00Z","msg":"hi"}],"end_timestamp":"2026-11-20T09:00:01Z","rating":"bad"}`,
		`{"id":"1","history":[{"type":"chat.file","sender_type":"Agent","agent_id":5,"timestamp":"2026-11-20T09:00:00+02:00"}],"response_time":{"first":1e300}}`,
		`{"id":"x","webpath":[{"to":"u","timestamp":"2026-11-20T09:00:00.123456789Z"}]}`)
}

func FuzzChatwoot(f *testing.F) {
	fuzzDecoder(f, "chatwoot", seedFile(f, "testdata/chatwoot/conversation_full.json"),
		`{"id":1,"inbox_id":2,"status":"resolved","created_at":1795165200,"first_reply_created_at":1795165201,"messages":[{"message_type":"incoming","content":"hi","created_at":"2026-11-20T09:00:00Z"}]}`,
		`{"id":-5,"messages":[{"message_type":1,"private":true,"sender_type":"User","sender_id":3,"content":"note","created_at":1e18}]}`,
		`{"id":1,"messages":[{"message_type":3,"content_type":"input_csat","created_at":0,"content_attributes":{"submitted_values":{"csat_survey_response":{"rating":3}}}}]}`)
}

func FuzzRocketChat(f *testing.F) {
	fuzzDecoder(f, "rocketchat", seedFile(f, "testdata/rocketchat/room_full.json"),
		`{"room":{"_id":"r","closedAt":{"$date":1795165200000},"closer":"visitor","surveyFeedback":{"satisfaction":"1"}},"messages":[{"msg":"hi","token":"t","ts":{"$date":1795165100000}}]}`,
		`{"room":{"_id":"r","closer":"bot","closedBy":{"_id":"b"},"closedAt":"2026-11-20T09:00:00Z","metrics":{"response":{"ft":-3}}},"messages":[{"t":"uj","ts":"2026-11-20T09:00:00Z","u":{"_id":"b"}}]}`)
}
