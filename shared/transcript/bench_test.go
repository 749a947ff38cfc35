package transcript_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/chatcards/chatcards/shared/transcript"
)

// benchSession builds, deterministically, a realistic widget session of
// 1,000 messages: a bot greeting, a handoff, an agent joining, chat lines of
// varied length (some non-ASCII, some with characters needing escapes),
// a few attachments and typing notices, and the end. It returns the same
// session as transcript v1 and as an Amazon Connect object.
var benchSession = sync.OnceValues(func() ([]byte, []byte) {
	const n = 1000
	start := int64(1795165200000)
	lines := []string{
		"My VPN is broken again since this morning",
		"Hi Jane, let me look at it — can you tell me which client version you run?",
		"ok",
		"It says \"connection refused\" and then <error 809> & nothing else",
		"Kiitos paljon! Toimii taas 🙂",
		"Could you restart the client and try once more? If it still fails, send me a screenshot of the error dialog please.",
	}
	type item struct {
		AbsoluteTime    string
		Content         string `json:",omitempty"`
		ContentType     string
		Id              string
		Type            string
		ParticipantId   string              `json:",omitempty"`
		DisplayName     string              `json:",omitempty"`
		ParticipantRole string              `json:",omitempty"`
		Attachments     []map[string]string `json:",omitempty"`
	}
	v1 := &transcript.Transcript{Version: 1, SessionID: "8b1c6f0e-2d4a-4e7b-9c3f-5a6d7e8f9a0b",
		Participants: []transcript.Participant{
			{ID: "cust", Role: transcript.RoleCustomer, Name: "Jane Doe"},
			{ID: "lex", Role: transcript.RoleBot, Name: "BOT"},
			{ID: "ann", Role: transcript.RoleAgent, Name: "Ann"},
		}}
	var items []item
	who := map[string][2]string{"cust": {"Jane Doe", "CUSTOMER"}, "lex": {"BOT", "SYSTEM"}, "ann": {"Ann", "AGENT"}}
	at := start
	add := func(e transcript.Event, contentType string) {
		v1.Events = append(v1.Events, e)
		it := item{AbsoluteTime: transcript.FormatMillis(e.At), Id: fmt.Sprintf("0c1d2e3f-%04d-4000-8000-%012d", len(items), len(items)),
			ContentType: contentType, ParticipantId: e.Participant}
		if e.Participant != "" {
			it.DisplayName, it.ParticipantRole = who[e.Participant][0], who[e.Participant][1]
		}
		switch e.Type {
		case transcript.EventMessage:
			it.Type, it.Content = "MESSAGE", e.Text
		case transcript.EventAttachment:
			it.Type = "ATTACHMENT"
			it.Attachments = []map[string]string{{"AttachmentId": "6e7f8a9b-aaaa-4bcd-8ef0-123456789abc", "AttachmentName": e.File.Name, "ContentType": e.File.ContentType, "Status": "APPROVED"}}
		default:
			it.Type = "EVENT"
		}
		items = append(items, it)
	}
	const joined = "application/vnd.amazonaws.connect.event.participant.joined"
	add(transcript.Event{At: at, Type: transcript.EventJoined, Participant: "cust"}, joined)
	add(transcript.Event{At: at + 400, Type: transcript.EventMessage, Participant: "lex", Text: "Hi! How can I help?"}, "text/plain")
	add(transcript.Event{At: at + 60000, Type: transcript.EventJoined, Participant: "ann"}, joined)
	at += 61000
	for i := 0; i < n-1; i++ {
		p := "cust"
		if i%2 == 1 {
			p = "ann"
		}
		at += int64(1000 + (i*7919)%45000)
		if i%50 == 25 {
			add(transcript.Event{At: at, Type: transcript.EventAttachment, Participant: "cust",
				File: &transcript.File{Name: fmt.Sprintf("screenshot-%d.png", i), ContentType: "image/png"}}, "image/png")
			at += 500
		}
		if i%10 == 3 {
			e := transcript.Event{At: at - 300, RawType: "application/vnd.amazonaws.connect.event.typing", Participant: p}
			add(e, e.RawType)
		}
		add(transcript.Event{At: at, Type: transcript.EventMessage, Participant: p, Text: lines[(i*31)%len(lines)]}, "text/plain")
	}
	add(transcript.Event{At: at + 5000, Type: transcript.EventLeft, Participant: "cust"}, "application/vnd.amazonaws.connect.event.participant.left")
	add(transcript.Event{At: at + 5300, Type: transcript.EventEnded}, "application/vnd.amazonaws.connect.event.chat.ended")
	v1Bytes, err := transcript.Encode(v1)
	if err != nil {
		panic(err)
	}
	connect, err := json.Marshal(map[string]any{
		"Version": "2019-08-26", "AWSAccountId": "123456789012", "InstanceId": "5d0f1c1e-7a8b-4c3d-9e2f-1a2b3c4d5e6f",
		"InitialContactId": v1.SessionID, "ContactId": v1.SessionID,
		"Participants": []map[string]string{{"ParticipantId": "cust"}, {"ParticipantId": "ann"}},
		"Transcript":   items,
	})
	if err != nil {
		panic(err)
	}
	return v1Bytes, connect
})

func TestBenchSessionIsValid(t *testing.T) {
	v1, connect := benchSession()
	a, err := transcript.DecodeV1(v1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := transcript.DecodeConnect(connect)
	if err != nil {
		t.Fatal(err)
	}
	msgs := 0
	for _, e := range a.Events {
		if e.Type == transcript.EventMessage {
			msgs++
		}
	}
	if msgs != 1000 || len(a.Events) != len(b.Events) {
		t.Errorf("%d messages (want 1000), %d v1 events vs %d Connect events", msgs, len(a.Events), len(b.Events))
	}
}

func benchDecode(b *testing.B, data []byte, decode func([]byte) error) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decode(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "messages/s")
}

func BenchmarkDecodeV1(b *testing.B) {
	v1, _ := benchSession()
	benchDecode(b, v1, func(d []byte) error { _, err := transcript.DecodeV1(d); return err })
}

func BenchmarkDecodeConnect(b *testing.B) {
	_, connect := benchSession()
	benchDecode(b, connect, func(d []byte) error { _, err := transcript.DecodeConnect(d); return err })
}

func BenchmarkDecodeAutoV1(b *testing.B) {
	v1, _ := benchSession()
	benchDecode(b, v1, func(d []byte) error { _, err := transcript.Decode(d); return err })
}

// The baselines: encoding/json into map[string]any on the same bytes.
func BenchmarkUnmarshalMapV1(b *testing.B) {
	v1, _ := benchSession()
	benchDecode(b, v1, func(d []byte) error { var m map[string]any; return json.Unmarshal(d, &m) })
}

func BenchmarkUnmarshalMapConnect(b *testing.B) {
	_, connect := benchSession()
	benchDecode(b, connect, func(d []byte) error { var m map[string]any; return json.Unmarshal(d, &m) })
}

func BenchmarkEncode(b *testing.B) {
	v1, _ := benchSession()
	tr, err := transcript.DecodeV1(v1)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(v1)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transcript.Encode(tr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "messages/s")
}
