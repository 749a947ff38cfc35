package transcript_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/transcript"
	"github.com/google/go-cmp/cmp"
)

func TestDecodeConnectMatchesV1(t *testing.T) {
	got, err := transcript.Decode(readFile(t, "connect_chat.json"))
	if err != nil {
		t.Fatalf("Decode(connect): %v", err)
	}
	want, err := transcript.Decode(readFile(t, "connect_chat_v1.json"))
	if err != nil {
		t.Fatalf("Decode(v1): %v", err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Connect model differs from the hand-written v1 (-v1 +connect):\n%s", d)
	}
	// The ids only listed at the top level are dropped.
	for _, p := range got.Participants {
		if strings.Contains(p.ID, "9999") {
			t.Errorf("participant %s was never in an item but kept", p.ID)
		}
	}
}

func TestDecodeConnectSessionID(t *testing.T) {
	const items = `"Transcript": [{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.participant.joined", "ParticipantId": "p", "ParticipantRole": "CUSTOMER"}]`
	tr, err := transcript.DecodeConnect([]byte(`{"Version": "2019-08-26", "ContactId": "c-2", ` + items + `}`))
	if err != nil {
		t.Fatal(err)
	}
	if tr.SessionID != "c-2" || tr.Channel != "" {
		t.Errorf("sessionId = %q, channel = %q", tr.SessionID, tr.Channel)
	}
	// With no participant at all the transcript is not valid v1.
	_, err = transcript.DecodeConnect([]byte(`{"Version": "2019-08-26", "ContactId": "c-2", "Transcript": []}`))
	var te *transcript.Error
	if !errors.As(err, &te) || te.Field != "participants" {
		t.Errorf("empty Transcript: err = %v, want one on participants", err)
	}
}

func TestDecodeConnectErrors(t *testing.T) {
	item := func(fields string) string {
		return `{"Version": "2019-08-26", "ContactId": "c-1", "Transcript": [` +
			`{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "MESSAGE", "Content": "hi", "ParticipantId": "p1", "ParticipantRole": "CUSTOMER"}, {` + fields + `}]}`
	}
	const at = `"AbsoluteTime": "2026-11-20T09:00:01.000Z", `
	tests := []struct{ name, in, field string }{
		{"not json", `{"Version": `, ""},
		{"Version missing", `{"ContactId": "c-1", "Transcript": []}`, "Version"},
		{"Version other", `{"Version": "2030-01-01", "ContactId": "c-1", "Transcript": []}`, "Version"},
		{"Version number", `{"Version": 2019, "ContactId": "c-1", "Transcript": []}`, "Version"},
		{"ContactId missing", `{"Version": "2019-08-26", "Transcript": []}`, "ContactId"},
		{"ContactId bad", `{"Version": "2019-08-26", "ContactId": "a/b", "Transcript": []}`, "ContactId"},
		{"InitialContactId number", `{"Version": "2019-08-26", "ContactId": "c", "InitialContactId": 4, "Transcript": []}`, "InitialContactId"},
		{"Transcript missing", `{"Version": "2019-08-26", "ContactId": "c-1"}`, "Transcript"},
		{"Transcript object", `{"Version": "2019-08-26", "ContactId": "c-1", "Transcript": {}}`, "Transcript"},
		{"item not object", `{"Version": "2019-08-26", "ContactId": "c-1", "Transcript": ["x"]}`, "Transcript[0]"},
		{"AbsoluteTime missing", item(`"Type": "MESSAGE"`), "Transcript[1].AbsoluteTime"},
		{"AbsoluteTime bad", item(`"AbsoluteTime": "yesterday", "Type": "MESSAGE"`), "Transcript[1].AbsoluteTime"},
		{"Type missing", item(at + `"Content": "x"`), "Transcript[1].Type"},
		{"Type number", item(at + `"Type": 1`), "Transcript[1].Type"},
		{"role missing", item(at + `"Type": "MESSAGE", "Content": "x", "ParticipantId": "p2"`), "Transcript[1].ParticipantRole"},
		{"role unknown", item(at + `"Type": "MESSAGE", "Content": "x", "ParticipantId": "p2", "ParticipantRole": "ROBOT"`), "Transcript[1].ParticipantRole"},
		{"message without participant", item(at + `"Type": "MESSAGE", "Content": "x"`), "Transcript[1].ParticipantId"},
		{"message content number", item(at + `"Type": "MESSAGE", "ParticipantId": "p1", "Content": 3`), "Transcript[1].Content"},
		{"attachment without list", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1"`), "Transcript[1].Attachments"},
		{"attachment empty list", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": []`), "Transcript[1].Attachments"},
		{"attachment without name", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"ContentType": "image/png"}]`), "Transcript[1].Attachments[0].AttachmentName"},
		{"attachment name null", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": null, "ContentType": "image/png"}]`), "Transcript[1].Attachments[0].AttachmentName"},
		{"attachment type number", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": "a", "ContentType": 1}]`), "Transcript[1].Attachments[0].ContentType"},
		{"attachment without type", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": "a.png"}]`), "Transcript[1].Attachments[0].ContentType"},
		// duplicate keys, at every level, known or not, escaped or not
		{"dup top Version", `{"Version": "2019-08-26", "ContactId": "c-1", "Version": "2019-08-26", "Transcript": []}`, "Version"},
		{"dup top Transcript", `{"Version": "2019-08-26", "ContactId": "c-1", "Transcript": [], "Transcript": []}`, "Transcript"},
		{"dup top escaped", `{"Version": "2019-08-26", "ContactId": "c-1", "\u0043ontactId": "c-2", "Transcript": []}`, "ContactId"},
		{"dup top unread", `{"Version": "2019-08-26", "ContactId": "c-1", "InstanceId": "i", "Transcript": [], "InstanceId": "i"}`, "InstanceId"},
		{"dup top unknown", `{"Version": "2019-08-26", "ContactId": "c-1", "Foo": 1, "Transcript": [], "Foo": 1}`, "Foo"},
		{"dup in Participants", `{"Version": "2019-08-26", "ContactId": "c-1", "Participants": [{"ParticipantId": "a", "ParticipantId": "b"}], "Transcript": []}`, ""},
		{"dup item Content", item(at + `"Type": "MESSAGE", "ParticipantId": "p1", "Content": "a", "Content": "b"`), "Transcript[1].Content"},
		{"dup item escaped", item(at + `"Type": "MESSAGE", "ParticipantId": "p1", "Content": "a", "C\u006fntent": "b"`), "Transcript[1].Content"},
		{"dup item AbsoluteTime", item(at + at + `"Type": "MESSAGE", "ParticipantId": "p1"`), "Transcript[1].AbsoluteTime"},
		{"dup item Attachments", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [], "Attachments": [{"AttachmentName": "a", "ContentType": "b"}]`), "Transcript[1].Attachments"},
		{"dup item unknown", item(at + `"Type": "MESSAGE", "ParticipantId": "p1", "Content": "a", "MessageMetadata": {}, "MessageMetadata": {}`), "Transcript[1].MessageMetadata"},
		{"dup attachment name", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": "a", "ContentType": "b"}, {"AttachmentName": "a", "ContentType": "b", "AttachmentName": "c"}]`), "Transcript[1].Attachments[1].AttachmentName"},
		{"dup attachment unread", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentId": "1", "AttachmentName": "a", "ContentType": "b", "AttachmentId": "2"}]`), "Transcript[1].Attachments[0].AttachmentId"},
		{"dup attachment unknown", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": "a", "ContentType": "b", "X": 1, "X": 1}]`), "Transcript[1].Attachments[0].X"},
		{"dup in attachment value", item(at + `"Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": "a", "ContentType": "b", "X": {"y": 1, "y": 1}}]`), "Transcript[1].Attachments"},
		{"dup in Attachments of a MESSAGE", item(at + `"Type": "MESSAGE", "ParticipantId": "p1", "Content": "a", "Attachments": [{"AttachmentName": "a", "AttachmentName": "a"}]`), "Transcript[1].Attachments"},
		{"joined without participant", item(at + `"Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.participant.joined"`), "Transcript[1].ParticipantId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transcript.DecodeConnect([]byte(tc.in))
			var te *transcript.Error
			if !errors.As(err, &te) {
				t.Fatalf("error = %v, want a *transcript.Error", err)
			}
			if te.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", te.Field, tc.field, err)
			}
			if strings.HasPrefix(tc.name, "dup ") && !strings.Contains(te.Msg, "duplicate key") {
				t.Errorf("Msg = %q, want a duplicate key", te.Msg)
			}
		})
	}
}

// Rule 7 and sources.md: a MESSAGE with no or empty Content is a line of
// size 0, and an attachment Connect did not name is still an attachment;
// neither may cost the session its card.
func TestDecodeConnectEmptyLines(t *testing.T) {
	tr, err := transcript.DecodeConnect([]byte(`{"Version": "2019-08-26", "ContactId": "c-1", "Transcript": [
		{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "MESSAGE", "ParticipantId": "b", "ParticipantRole": "SYSTEM", "DisplayName": "BOT", "ContentType": "application/vnd.amazonaws.connect.message.interactive"},
		{"AbsoluteTime": "2026-11-20T09:00:01.000Z", "Type": "MESSAGE", "ParticipantId": "p1", "ParticipantRole": "CUSTOMER", "Content": ""},
		{"AbsoluteTime": "2026-11-20T09:00:02.000Z", "Type": "MESSAGE", "ParticipantId": "p1", "Content": null},
		{"AbsoluteTime": "2026-11-20T09:00:03.000Z", "Type": "ATTACHMENT", "ParticipantId": "p1", "Attachments": [{"AttachmentName": "", "ContentType": ""}]}]}`))
	if err != nil {
		t.Fatalf("DecodeConnect: %v", err)
	}
	if len(tr.Events) != 4 {
		t.Fatalf("%d events, want 4", len(tr.Events))
	}
	for i, e := range tr.Events[:3] {
		if e.Type != transcript.EventMessage || e.Text != "" {
			t.Errorf("event %d = %+v, want a message of size 0", i, e)
		}
	}
	if e := tr.Events[3]; e.Type != transcript.EventAttachment || *e.File != (transcript.File{}) {
		t.Errorf("event 3 = %+v, want an unnamed attachment", e)
	}
	// Written as v1 and read back, the empty lines survive.
	out, err := transcript.Encode(tr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := transcript.DecodeV1(out)
	if err != nil {
		t.Fatalf("DecodeV1(Encode): %v\n%s", err, out)
	}
	if d := cmp.Diff(tr, back); d != "" {
		t.Errorf("round trip (-connect +v1):\n%s", d)
	}
}

func TestDecodeConnectTolerates(t *testing.T) {
	// Fields a type does not use are not checked; unknown items are kept.
	tr, err := transcript.DecodeConnect([]byte(`{"Version": "2019-08-26", "ContactId": "c-1", "NewField": [1],
		"Transcript": [
		{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.participant.joined", "ParticipantId": "p1", "ParticipantRole": "CUSTOM_BOT", "Content": 5, "Attachments": 7},
		{"AbsoluteTime": "2026-11-20T09:00:01.000Z", "Type": "MESSAGE_READ", "ParticipantId": "p2", "ParticipantRole": "SUPERVISOR", "MessageMetadata": {"Receipts": []}},
		{"AbsoluteTime": "2026-11-20T09:00:02.000Z", "Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.transfer.failed"},
		{"AbsoluteTime": "2026-11-20T09:00:03.000Z", "Type": "ended"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []transcript.Participant{{ID: "p1", Role: transcript.RoleBot}, {ID: "p2", Role: transcript.RoleSupervisor}}
	if d := cmp.Diff(want, tr.Participants); d != "" {
		t.Errorf("participants (-want +got):\n%s", d)
	}
	if e := tr.Events[1]; e.Type != transcript.EventUnknown || e.RawType != "MESSAGE_READ" || e.Participant != "p2" {
		t.Errorf("event 1 = %+v", e)
	}
	if e := tr.Events[2]; e.RawType != "application/vnd.amazonaws.connect.event.transfer.failed" {
		t.Errorf("event 2 = %+v", e)
	}
	// A Connect name that spells a v1 type stays unknown.
	if e := tr.Events[3]; e.Type != transcript.EventUnknown || e.RawType != "connect:ended" {
		t.Errorf("event 3 = %+v", e)
	}
}

func TestMergeConnectTransfer(t *testing.T) {
	d1, d2 := readFile(t, "connect_transfer_1.json"), readFile(t, "connect_transfer_2.json")
	const session = "c7d8e9f0-aaaa-4b1c-8d2e-000000000001"
	// The documents come in listing order, not time order; a repeated
	// document adds nothing.
	tr, err := transcript.MergeConnect(session, [][]byte{d2, d1, d1})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range tr.Participants {
		ids = append(ids, p.ID+":"+p.Role.String())
	}
	if d := cmp.Diff([]string{"cust-01:customer", "lex-01:bot", "agent-ann:agent", "agent-bob:agent"}, ids); d != "" {
		t.Errorf("participants (-want +got):\n%s", d)
	}
	if len(tr.Events) != 12 {
		t.Errorf("%d events, want 8+5-1", len(tr.Events))
	}
	var ended []string
	for i, e := range tr.Events {
		if i > 0 && e.At < tr.Events[i-1].At {
			t.Errorf("event %d out of order", i)
		}
		if e.Type == transcript.EventEnded {
			ended = append(ended, transcript.FormatMillis(e.At))
		}
	}
	if d := cmp.Diff([]string{"2026-11-21T10:04:00.300Z"}, ended); d != "" {
		t.Errorf("ended events (-want +got):\n%s", d)
	}
	if tr.SessionID != session || len(tr.Warnings) != 0 {
		t.Errorf("sessionId %q, warnings %q", tr.SessionID, tr.Warnings)
	}
	// The merged transcript is plain v1.
	out, err := transcript.Encode(tr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := transcript.DecodeV1(out)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(tr, back); d != "" {
		t.Errorf("round trip (-merged +decoded):\n%s", d)
	}

	// A single document merges to what DecodeConnect gives.
	one, err := transcript.MergeConnect(session, [][]byte{d1})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := transcript.DecodeConnect(d1)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(direct, one); d != "" {
		t.Errorf("merge of one (-decode +merge):\n%s", d)
	}
}

func TestMergeConnectErrors(t *testing.T) {
	d1 := readFile(t, "connect_transfer_1.json")
	tests := []struct {
		name, session string
		docs          [][]byte
		field         string
	}{
		{"no documents", "x", nil, "docs"},
		{"other session", "c7d8e9f0-aaaa-4b1c-8d2e-000000000001", [][]byte{d1, readFile(t, "connect_chat.json")}, "docs[1].ContactId"},
		{"broken document", "c7d8e9f0-aaaa-4b1c-8d2e-000000000001", [][]byte{d1, []byte(`{"Version":`)}, "docs[1]"},
		{"bad item", "c", [][]byte{[]byte(`{"Version": "2019-08-26", "ContactId": "c", "Transcript": [{"Type": "EVENT"}]}`)}, "docs[0].Transcript[0].AbsoluteTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transcript.MergeConnect(tc.session, tc.docs)
			var te *transcript.Error
			if !errors.As(err, &te) || te.Field != tc.field {
				t.Errorf("error = %v, want a *transcript.Error on %q", err, tc.field)
			}
		})
	}
}
