package transcript_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/transcript"
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"
)

// tricky are hand-picked inputs for every fuzz target, on top of the
// fixtures and the corpus kept in testdata/fuzz/.
var tricky = []string{
	``, `null`, `{}`, `[]`, `{"version": 1}`, `{"version": NaN}`, "{\"version\": 1, \"x\": \"\xff\"}",
	doc(`{"at": "2026-11-20T09:00:00.9999Z", "type": "started"}`),
	doc(`{"at": "0000-01-01T00:00:00+00:01", "type": "started"}`),
	doc(`{"at": "9999-12-31T23:59:59.999-00:01", "type": "started"}`),
	doc(ev(`"type": "poll", "text": 5, "participant": "c1"`)),
	doc(ev(`"type": "message", "participant": "c1", "text": "\ud83d\ude42\ud800\u0000", "ticket": 7`)),
	doc(ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 9223372036854775807}`)),
	doc(ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 9223372036854775808}`)),
	doc(okEvent, `{"at": "2026-11-20T09:00:00Z", "type": "ended"}`, ev(`"type": "message", "participant": "a1", "text": "late"`)),
	`{"Version": "2019-08-26", "ContactId": "c", "Transcript": [{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "ATTACHMENT", "ParticipantId": "p", "ParticipantRole": "SYSTEM", "DisplayName": "BOT", "Attachments": [{"AttachmentName": "a", "ContentType": "b"}, {"AttachmentName": "c", "ContentType": "d"}]}]}`,
	doc(ev(`"type": "message", "participant": "c1", "text": ""`), ev(`"type": "attachment", "participant": "b1", "file": {"name": "", "contentType": "", "size": 0}`)),
	doc(okEvent, `{"at": "2026-11-20T09:00:00Z", "type": "ended"}`, ev(`"type": "rating", "participant": "c1", "score": 5, "comment": "ok"`), ev(`"type": "rating", "score": 1`)),
	doc(ev(`"type": "rating", "score": 6`), ev(`"type": "rating", "score": 5.0, "comment": 1`)),
	`{"Version": "2019-08-26", "ContactId": "c", "Transcript": [{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "MESSAGE", "ParticipantId": "p", "ParticipantRole": "CUSTOMER"}, {"AbsoluteTime": "2026-11-20T09:00:01.000Z", "Type": "ATTACHMENT", "ParticipantId": "p", "Attachments": [{"AttachmentName": "", "ContentType": ""}]}]}`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
	// duplicate keys, at each level, escaped and in skipped values
	withTop(vOK, sOK, pOK, eOK, `"s\u0065ssionId": "s-1"`),
	withTop(vOK, sOK, `"participants": [{"id": "c1", "role": "customer", "role": "bot"}]`, eOK),
	doc(ev(`"type": "message", "participant": "c1", "text": "a", "te\u0078t": "b"`)),
	doc(ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 1, "size": 2}`)),
	doc(ev(`"type": "started", "x": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "a": 0}`)),
	`{"Version": "2019-08-26", "ContactId": "c", "Transcript": [{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "MESSAGE", "ParticipantId": "p", "ParticipantRole": "CUSTOMER", "Content": "a", "Cont\u0065nt": "b"}]}`,
	`{"Version": "2019-08-26", "ContactId": "c", "Transcript": [{"AbsoluteTime": "2026-11-20T09:00:00.000Z", "Type": "ATTACHMENT", "ParticipantId": "p", "ParticipantRole": "CUSTOMER", "Attachments": [{"AttachmentName": "a", "ContentType": "b", "ContentType": "c"}]}]}`,
	`{"Version": "2019-08-26", "ContactId": "c", "Participants": [{"ParticipantId": "p", "ParticipantId": "q"}], "Transcript": []}`,
}

func addSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range tricky {
		f.Add([]byte(s))
	}
}

// checkDecoded asserts the properties every decoder shares: errors are
// *transcript.Error, only valid JSON is accepted, and a success writes back
// to v1 and reads back to the same model.
func checkDecoded(t *testing.T, data []byte, tr *transcript.Transcript, err error) {
	t.Helper()
	if err != nil {
		var te *transcript.Error
		if !errors.As(err, &te) {
			t.Fatalf("error %v is a %T, not a *transcript.Error", err, err)
		}
		// Only what encoding/json also refuses may be called not JSON (bar
		// invalid UTF-8, which encoding/json replaces, and its own depth
		// limit, counted slightly differently here).
		if strings.HasPrefix(te.Msg, "not JSON") && !strings.Contains(te.Msg, "UTF-8") &&
			!strings.Contains(te.Msg, "nesting") && json.Valid(data) {
			t.Fatalf("called valid JSON %q not JSON: %v", data, err)
		}
		return
	}
	if !json.Valid(data) {
		t.Fatalf("accepted input that encoding/json says is not JSON: %q", data)
	}
	// encoding/json/v2 refuses duplicate keys anywhere, as the rules of
	// reading do. (Lone surrogates in escapes become U+FFFD here, as in
	// encoding/json; invalid UTF-8 proper was refused above.)
	if err := jsonv2.Unmarshal(data, new(any), jsontext.AllowInvalidUTF8(true)); err != nil {
		t.Fatalf("accepted input that encoding/json/v2 refuses: %v\n%q", err, data)
	}
	out, err := transcript.Encode(tr)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	back, err := transcript.DecodeV1(out)
	if err != nil {
		t.Fatalf("DecodeV1(Encode(t)): %v\n%s", err, out)
	}
	if d := cmp.Diff(tr, back); d != "" {
		t.Fatalf("round trip (-decoded +re-decoded):\n%s", d)
	}
}

func FuzzDecodeV1(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := transcript.DecodeV1(data)
		checkDecoded(t, data, tr, err)
	})
}

func FuzzDecodeConnect(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := transcript.DecodeConnect(data)
		checkDecoded(t, data, tr, err)
		if err == nil {
			// One document merges to itself.
			m, err := transcript.MergeConnect(tr.SessionID, [][]byte{data})
			if err != nil {
				t.Fatalf("MergeConnect of a decodable document: %v", err)
			}
			if len(m.Participants) != len(tr.Participants) {
				t.Fatalf("merge of one: %d participants, decode: %d", len(m.Participants), len(tr.Participants))
			}
		}
	})
}

func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := transcript.Decode(data)
		checkDecoded(t, data, tr, err)
	})
}
