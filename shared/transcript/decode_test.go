package transcript_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/transcript"
	"github.com/google/go-cmp/cmp"
)

// v1 builds a transcript v1 document from a top-level prefix (fields placed
// before the defaults; a field given twice is a duplicate key, so they do not
// override) and event objects.
const baseParticipants = `[
	{"id": "c1", "role": "customer", "name": "Jane"},
	{"id": "a1", "role": "agent", "name": "Ann"},
	{"id": "b1", "role": "bot"}
]`

func doc(events ...string) string {
	return `{"version": 1, "sessionId": "s-1", "participants": ` + baseParticipants +
		`, "events": [` + strings.Join(events, ",") + `]}`
}

// withTop builds a document from raw top-level members.
func withTop(members ...string) string { return "{" + strings.Join(members, ",") + "}" }

const (
	okEvent  = `{"at": "2026-11-20T09:00:00Z", "type": "started"}`
	vOK      = `"version": 1`
	sOK      = `"sessionId": "s-1"`
	pOK      = `"participants": [{"id": "c1", "role": "customer"}]`
	eOK      = `"events": []`
	at       = `"at": "2026-11-20T09:00:01Z"`
	attachOK = `"participant": "c1", "file": {"name": "a.png", "contentType": "image/png", "size": 3}`
)

func ev(fields string) string { return "{" + at + ", " + fields + "}" }

func TestDecodeV1Errors(t *testing.T) {
	tests := []struct {
		name, in, field string
	}{
		// not JSON
		{"not json", `nope`, ""},
		{"empty input", ``, ""},
		{"NaN", withTop(`"version": NaN`, sOK, pOK, eOK), ""},
		{"invalid utf-8", doc(okEvent, ev(`"type": "message", "participant": "c1", "text": "a`+"\xff"+`"`)), ""},
		{"trailing data", doc() + ` {}`, ""},
		{"trailing comma", withTop(vOK, sOK, pOK, eOK+`,`), ""},
		{"unterminated", doc()[:40], ""},
		{"bad escape in ignored field", withTop(vOK, sOK, pOK, eOK, `"x": "\q"`), ""},
		{"control char in string", withTop(vOK, sOK, pOK, eOK, "\"x\": \"a\tb\""), ""},
		{"top-level array", `[]`, ""},
		{"nesting too deep", withTop(vOK, sOK, pOK, eOK, `"x": `+strings.Repeat("[", 20000)+strings.Repeat("]", 20000)), ""},
		{"top-level null", `null`, ""},
		// version
		{"version missing", withTop(sOK, pOK, eOK), "version"},
		{"version null", withTop(`"version": null`, sOK, pOK, eOK), "version"},
		{"version 1.0", withTop(`"version": 1.0`, sOK, pOK, eOK), "version"},
		{"version 1e0", withTop(`"version": 1e0`, sOK, pOK, eOK), "version"},
		{"version string", withTop(`"version": "1"`, sOK, pOK, eOK), "version"},
		{"version true", withTop(`"version": true`, sOK, pOK, eOK), "version"},
		{"version 2", withTop(`"version": 2`, sOK, pOK, eOK), "version"},
		{"Version is not version", withTop(`"Version": 1`, sOK, pOK, eOK), "version"},
		// sessionId and the optional strings
		{"sessionId missing", withTop(vOK, pOK, eOK), "sessionId"},
		{"sessionId null", withTop(vOK, `"sessionId": null`, pOK, eOK), "sessionId"},
		{"sessionId empty", withTop(vOK, `"sessionId": ""`, pOK, eOK), "sessionId"},
		{"sessionId number", withTop(vOK, `"sessionId": 5`, pOK, eOK), "sessionId"},
		{"sessionId bad chars", withTop(vOK, `"sessionId": "a b"`, pOK, eOK), "sessionId"},
		{"sessionId too long", withTop(vOK, `"sessionId": "`+strings.Repeat("x", 129)+`"`, pOK, eOK), "sessionId"},
		{"tenant number", withTop(vOK, sOK, `"tenant": 5`, pOK, eOK), "tenant"},
		{"channel too long", withTop(vOK, sOK, `"channel": "`+strings.Repeat("é", 65)+`"`, pOK, eOK), "channel"},
		{"language array", withTop(vOK, sOK, `"language": []`, pOK, eOK), "language"},
		{"async string", withTop(vOK, sOK, `"async": "yes"`, pOK, eOK), "async"},
		// participants
		{"participants missing", withTop(vOK, sOK, eOK), "participants"},
		{"participants null", withTop(vOK, sOK, `"participants": null`, eOK), "participants"},
		{"participants object", withTop(vOK, sOK, `"participants": {}`, eOK), "participants"},
		{"participants empty", withTop(vOK, sOK, `"participants": []`, eOK), "participants"},
		{"participant not object", withTop(vOK, sOK, `"participants": [5]`, eOK), "participants[0]"},
		{"participant id missing", withTop(vOK, sOK, `"participants": [{"role": "customer"}]`, eOK), "participants[0].id"},
		{"participant id null", withTop(vOK, sOK, `"participants": [{"id": null, "role": "customer"}]`, eOK), "participants[0].id"},
		{"participant id number", withTop(vOK, sOK, `"participants": [{"id": 1, "role": "customer"}]`, eOK), "participants[0].id"},
		{"participant id duplicate", withTop(vOK, sOK, `"participants": [{"id": "x", "role": "customer"}, {"id": "x", "role": "bot"}]`, eOK), "participants[1].id"},
		{"role missing", withTop(vOK, sOK, `"participants": [{"id": "c"}, {"id": "x"}]`, eOK), "participants[0].role"},
		{"role unknown", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer"}, {"id": "x", "role": "robot"}]`, eOK), "participants[1].role"},
		{"role wrong case", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "CUSTOMER"}]`, eOK), "participants[0].role"},
		{"role null", withTop(vOK, sOK, `"participants": [{"id": "c", "role": null}]`, eOK), "participants[0].role"},
		{"name number", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer", "name": 5}]`, eOK), "participants[0].name"},
		{"person bool", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer", "person": true}]`, eOK), "participants[0].person"},
		{"visibility unknown", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer"}, {"id": "a", "role": "agent", "visibility": "ghost"}]`, eOK), "participants[1].visibility"},
		{"visibility empty", withTop(vOK, sOK, `"participants": [{"id": "a", "role": "agent", "visibility": ""}]`, eOK), "participants[0].visibility"},
		{"visibility on customer", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer", "visibility": "all"}]`, eOK), "participants[0].visibility"},
		{"visibility on bot", withTop(vOK, sOK, `"participants": [{"id": "a", "role": "agent"}, {"visibility": "monitor", "id": "b", "role": "bot"}]`, eOK), "participants[1].visibility"},
		{"visibility on system", withTop(vOK, sOK, `"participants": [{"id": "s", "role": "system", "visibility": "coach"}]`, eOK), "participants[0].visibility"},
		// events
		{"events missing", withTop(vOK, sOK, pOK), "events"},
		{"events null", withTop(vOK, sOK, pOK, `"events": null`), "events"},
		{"events object", withTop(vOK, sOK, pOK, `"events": {}`), "events"},
		{"event not object", doc(okEvent, `5`), "events[1]"},
		{"at missing", doc(okEvent, `{"type": "started"}`), "events[1].at"},
		{"at null", doc(okEvent, `{"at": null, "type": "started"}`), "events[1].at"},
		{"at empty", doc(okEvent, `{"at": "", "type": "started"}`), "events[1].at"},
		{"at number", doc(okEvent, `{"at": 1700000000, "type": "started"}`), "events[1].at"},
		// duplicate keys, at every level, known or not, escaped or not
		{"dup top version", withTop(vOK, vOK, sOK, pOK, eOK), "version"},
		{"dup top events", withTop(vOK, sOK, pOK, `"events": [`+okEvent+`]`, eOK), "events"},
		{"dup top unknown", withTop(vOK, sOK, pOK, eOK, `"x": 1`, `"y": 1`, `"x": 2`), "x"},
		{"dup top escaped", withTop(vOK, sOK, `"\u0076ersion": 1`, pOK, eOK), "version"},
		{"dup top null", withTop(vOK, sOK, `"tenant": null`, `"tenant": "t"`, pOK, eOK), "tenant"},
		{"dup participant id", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer"}, {"id": "a", "role": "agent", "id": "b"}]`, eOK), "participants[1].id"},
		{"dup participant unknown", withTop(vOK, sOK, `"participants": [{"id": "c", "role": "customer", "z": 1, "z": 1}]`, eOK), "participants[0].z"},
		{"dup event text", doc(okEvent, okEvent, okEvent, ev(`"type": "message", "participant": "c1", "text": "a", "text": "b"`)), "events[3].text"},
		{"dup event escaped", doc(ev(`"type": "message", "participant": "c1", "text": "a", "te\u0078t": "b"`)), "events[0].text"},
		{"dup event score", doc(ev(`"type": "rating", "score": 5, "score": 1`)), "events[0].score"},
		{"dup event file", doc(ev(`"type": "attachment", ` + attachOK + `, "file": null`)), "events[0].file"},
		{"dup event unknown", doc(ev(`"type": "started", "a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6, "g": 7, "h": 8, "i": 9, "j": 10, "b": 0`)), "events[0].b"},
		{"dup event on unknown type", doc(ev(`"type": "poll", "type": "poll"`)), "events[0].type"},
		{"dup file name", doc(ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 1, "name": "c"}`)), "events[0].file.name"},
		{"dup file unknown", doc(ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 1, "k": 1, "k": 2}`)), "events[0].file.k"},
		{"dup in skipped value", doc(ev(`"type": "started", "x": {"a": [1, {"b": 1, "b": 2}]}`)), ""},
		{"dup in skipped top value", withTop(vOK, sOK, pOK, eOK, `"x": {"a": 1, "\u0061": 2}`), ""},
		{"at without zone", doc(okEvent, `{"at": "2026-11-20T09:00:00", "type": "started"}`), "events[1].at"},
		{"at with space", doc(okEvent, `{"at": "2026-11-20 09:00:00Z", "type": "started"}`), "events[1].at"},
		{"at date only", doc(okEvent, `{"at": "2026-11-20", "type": "started"}`), "events[1].at"},
		{"at Feb 30", doc(okEvent, `{"at": "2026-02-30T09:00:00Z", "type": "started"}`), "events[1].at"},
		{"at Feb 29 non-leap", doc(okEvent, `{"at": "2025-02-29T09:00:00Z", "type": "started"}`), "events[1].at"},
		{"at hour 24", doc(okEvent, `{"at": "2026-11-20T24:00:00Z", "type": "started"}`), "events[1].at"},
		{"at leap second", doc(okEvent, `{"at": "2026-12-31T23:59:60Z", "type": "started"}`), "events[1].at"},
		{"at empty fraction", doc(okEvent, `{"at": "2026-11-20T09:00:00.Z", "type": "started"}`), "events[1].at"},
		{"at bad offset", doc(okEvent, `{"at": "2026-11-20T09:00:00+0100", "type": "started"}`), "events[1].at"},
		{"at offset 24h", doc(okEvent, `{"at": "2026-11-20T09:00:00+24:00", "type": "started"}`), "events[1].at"},
		{"at beyond 9999 in UTC", doc(okEvent, `{"at": "9999-12-31T23:30:00-01:00", "type": "started"}`), "events[1].at"},
		{"at before 0000 in UTC", doc(okEvent, `{"at": "0000-01-01T00:30:00+01:00", "type": "started"}`), "events[1].at"},
		{"type missing", doc(okEvent, ev(`"participant": "c1"`)), "events[1].type"},
		{"type empty", doc(okEvent, ev(`"type": ""`)), "events[1].type"},
		{"type null", doc(okEvent, ev(`"type": null`)), "events[1].type"},
		{"type number", doc(okEvent, ev(`"type": 3`)), "events[1].type"},
		// rule 2, whatever the type
		{"message by stranger", doc(okEvent, ev(`"type": "message", "participant": "zz", "text": "hi"`)), "events[1].participant"},
		{"unknown type by stranger", doc(okEvent, ev(`"type": "poll", "participant": "zz"`)), "events[1].participant"},
		{"started by stranger", doc(okEvent, ev(`"type": "started", "participant": "zz"`)), "events[1].participant"},
		{"participant number", doc(okEvent, ev(`"type": "poll", "participant": 7`)), "events[1].participant"},
		{"participant empty", doc(okEvent, ev(`"type": "ended", "participant": ""`)), "events[1].participant"},
		// message
		{"message without participant", doc(okEvent, ev(`"type": "message", "text": "hi"`)), "events[1].participant"},
		{"message participant null", doc(okEvent, ev(`"type": "message", "participant": null, "text": "hi"`)), "events[1].participant"},
		{"message text missing", doc(okEvent, ev(`"type": "message", "participant": "c1"`)), "events[1].text"},
		{"message text null", doc(okEvent, ev(`"type": "message", "participant": "c1", "text": null`)), "events[1].text"},
		{"message text number", doc(okEvent, ev(`"type": "message", "participant": "c1", "text": 5`)), "events[1].text"},
		{"message automatic string", doc(okEvent, ev(`"type": "message", "participant": "c1", "text": "x", "automatic": "yes"`)), "events[1].automatic"},
		// attachment
		{"attachment file missing", doc(okEvent, ev(`"type": "attachment", "participant": "c1"`)), "events[1].file"},
		{"attachment file null", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": null`)), "events[1].file"},
		{"attachment file string", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": "a.png"`)), "events[1].file"},
		{"attachment without participant", doc(okEvent, ev(`"type": "attachment", "file": {"name": "a", "contentType": "b", "size": 1}`)), "events[1].participant"},
		{"attachment name missing", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"contentType": "b", "size": 1}`)), "events[1].file.name"},
		{"attachment name null", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": null, "contentType": "b", "size": 1}`)), "events[1].file.name"},
		{"attachment name number", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": 1, "contentType": "b", "size": 1}`)), "events[1].file.name"},
		{"attachment contentType null", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "", "contentType": null, "size": 1}`)), "events[1].file.contentType"},
		{"attachment contentType number", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": 5, "size": 1}`)), "events[1].file.contentType"},
		{"attachment contentType missing", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "size": 1}`)), "events[1].file.contentType"},
		{"attachment size missing", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b"}`)), "events[1].file.size"},
		{"attachment size null", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": null}`)), "events[1].file.size"},
		{"attachment size fraction", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 1.5}`)), "events[1].file.size"},
		{"attachment size 1.0", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 1.0}`)), "events[1].file.size"},
		{"attachment size exponent", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 1e3}`)), "events[1].file.size"},
		{"attachment size string", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": "3"}`)), "events[1].file.size"},
		{"attachment size negative", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": -1}`)), "events[1].file.size"},
		{"attachment size minus zero", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": -0}`)), "events[1].file.size"},
		{"attachment size overflow", doc(okEvent, ev(`"type": "attachment", "participant": "c1", "file": {"name": "a", "contentType": "b", "size": 99999999999999999999}`)), "events[1].file.size"},
		{"attachment automatic number", doc(okEvent, ev(attachOK+`, "type": "attachment", "automatic": 1`)), "events[1].automatic"},
		// joined, left, ended
		{"joined without participant", doc(okEvent, ev(`"type": "joined"`)), "events[1].participant"},
		{"left without participant", doc(okEvent, ev(`"type": "left", "reason": "quit"`)), "events[1].participant"},
		{"left reason unknown", doc(okEvent, ev(`"type": "left", "participant": "c1", "reason": "bye"`)), "events[1].reason"},
		{"left reason of ended only", doc(okEvent, ev(`"type": "left", "participant": "c1", "reason": "force"`)), "events[1].reason"},
		{"left reason empty", doc(okEvent, ev(`"type": "left", "participant": "c1", "reason": ""`)), "events[1].reason"},
		{"left reason number", doc(okEvent, ev(`"type": "left", "participant": "c1", "reason": 1`)), "events[1].reason"},
		{"ended reason unknown", doc(okEvent, ev(`"type": "ended", "reason": "timeout"`)), "events[1].reason"},
		// ticket, marker, page
		{"ticket missing", doc(okEvent, ev(`"type": "ticket", "participant": "a1"`)), "events[1].ticket"},
		{"ticket empty", doc(okEvent, ev(`"type": "ticket", "ticket": ""`)), "events[1].ticket"},
		{"ticket number", doc(okEvent, ev(`"type": "ticket", "ticket": 7`)), "events[1].ticket"},
		{"marker empty", doc(okEvent, ev(`"type": "marker", "marker": ""`)), "events[1].marker"},
		{"marker missing", doc(okEvent, ev(`"type": "marker"`)), "events[1].marker"},
		{"url empty", doc(okEvent, ev(`"type": "page", "url": ""`)), "events[1].url"},
		{"url null", doc(okEvent, ev(`"type": "page", "url": null`)), "events[1].url"},
		// rating
		{"rating score missing", doc(okEvent, ev(`"type": "rating", "participant": "c1"`)), "events[1].score"},
		{"rating score null", doc(okEvent, ev(`"type": "rating", "score": null`)), "events[1].score"},
		{"rating score 0", doc(okEvent, ev(`"type": "rating", "score": 0`)), "events[1].score"},
		{"rating score 6", doc(okEvent, ev(`"type": "rating", "score": 6`)), "events[1].score"},
		{"rating score 10", doc(okEvent, ev(`"type": "rating", "score": 10`)), "events[1].score"},
		{"rating score -1", doc(okEvent, ev(`"type": "rating", "score": -1`)), "events[1].score"},
		{"rating score 5.0", doc(okEvent, ev(`"type": "rating", "score": 5.0`)), "events[1].score"},
		{"rating score 4.5", doc(okEvent, ev(`"type": "rating", "score": 4.5`)), "events[1].score"},
		{"rating score 5e0", doc(okEvent, ev(`"type": "rating", "score": 5e0`)), "events[1].score"},
		{"rating score string", doc(okEvent, ev(`"type": "rating", "score": "5"`)), "events[1].score"},
		{"rating score bool", doc(okEvent, ev(`"type": "rating", "score": true`)), "events[1].score"},
		{"rating comment number", doc(okEvent, ev(`"type": "rating", "score": 3, "comment": 3`)), "events[1].comment"},
		{"rating by stranger", doc(okEvent, ev(`"type": "rating", "score": 3, "participant": "zz"`)), "events[1].participant"},
		{"rating participant empty", doc(okEvent, ev(`"type": "rating", "score": 3, "participant": ""`)), "events[1].participant"},
		// the index is the input's, not the sorted order's
		{"index is input order", doc(
			`{"at": "2026-11-20T09:10:00Z", "type": "started"}`,
			`{"at": "2026-11-20T09:00:00Z", "type": "started"}`,
			`{"at": "2026-11-20T09:05:00Z", "type": "message", "participant": "ghost", "text": "x"}`), "events[2].participant"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := transcript.DecodeV1([]byte(tc.in))
			if err == nil {
				t.Fatalf("DecodeV1 succeeded (%d events), want an error on %q", len(got.Events), tc.field)
			}
			var te *transcript.Error
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T) is not a *transcript.Error", err, err)
			}
			if te.Field != tc.field {
				t.Errorf("Field = %q, want %q (error: %v)", te.Field, tc.field, err)
			}
			if strings.HasPrefix(tc.name, "dup ") && !strings.Contains(te.Msg, "duplicate key") {
				t.Errorf("Msg = %q, want a duplicate key", te.Msg)
			}
		})
	}
}

func TestDecodeV1Accepts(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(t *testing.T, tr *transcript.Transcript)
	}{
		{"unknown type with odd fields", doc(okEvent, ev(`"type": "poll", "text": 5, "file": "x", "ticket": [], "reason": {"a": 1}, "participant": "c1"`)),
			func(t *testing.T, tr *transcript.Transcript) {
				e := tr.Events[1]
				if e.Type != transcript.EventUnknown || e.RawType != "poll" || e.Participant != "c1" || e.P != 0 || e.Text != "" {
					t.Errorf("unknown event = %+v", e)
				}
			}},
		{"message only looks at its own fields", doc(okEvent, ev(`"type": "message", "participant": "c1", "text": "hi", "ticket": 7, "file": 1, "reason": "nope", "url": null`)),
			func(t *testing.T, tr *transcript.Transcript) {
				if e := tr.Events[1]; e.Text != "hi" || e.Ticket != "" || e.File != nil || e.Reason != "" {
					t.Errorf("message = %+v", e)
				}
			}},
		{"unknown fields everywhere", `{"future": {"a": [1, 2.5e3, null, true]}, "version": 1, "sessionId": "s-1",
			"participants": [{"id": "c1", "role": "customer", "mood": "ok"}],
			"events": [{"at": "2026-11-20T09:00:00Z", "type": "started", "source": {"x": "y"}}]}`,
			func(t *testing.T, tr *transcript.Transcript) {
				if len(tr.Events) != 1 || tr.Events[0].Type != transcript.EventStarted {
					t.Errorf("events = %+v", tr.Events)
				}
			}},
		{"null counts as missing for optional fields", withTop(vOK, sOK, `"tenant": null, "async": null`,
			`"participants": [{"id": "c1", "role": "customer", "visibility": null, "name": null}]`,
			`"events": [{"at": "2026-11-20T09:00:00Z", "type": "ended", "participant": null, "reason": null}]`),
			func(t *testing.T, tr *transcript.Transcript) {
				if tr.Events[0].P != -1 || tr.Participants[0].Visibility != transcript.VisibilityAll {
					t.Errorf("got %+v", tr)
				}
			}},
		{"all fields", withTop(vOK, `"sessionId": "w-2026.11:20_1"`, `"tenant": "helpdesk"`, `"channel": "web"`, `"language": "fi-FI"`, `"async": true`,
			`"participants": [{"id": "c1", "role": "customer", "name": "Jane", "person": "person/1"}, {"id": "s1", "role": "supervisor", "visibility": "coach"}, {"id": "a1", "role": "agent", "visibility": "all"}]`,
			`"events": [
				{"at": "2026-11-20T09:00:00Z", "type": "started"},
				{"at": "2026-11-20T09:00:01Z", "type": "message", "participant": "s1", "text": "psst", "automatic": true},
				{"at": "2026-11-20T09:00:02Z", "type": "attachment", "participant": "c1", "file": {"name": "a.png", "contentType": "image/png", "size": 0, "sha": "x"}, "automatic": false},
				{"at": "2026-11-20T09:00:03Z", "type": "handoff"},
				{"at": "2026-11-20T09:00:04Z", "type": "marker", "marker": "vpn"},
				{"at": "2026-11-20T09:00:05Z", "type": "page", "url": "https://example.com/?a=1&b=2"},
				{"at": "2026-11-20T09:00:06Z", "type": "dormant"},
				{"at": "2026-11-20T09:00:07Z", "type": "resumed"},
				{"at": "2026-11-20T09:00:08Z", "type": "ticket", "ticket": "INC-1"},
				{"at": "2026-11-20T09:00:09Z", "type": "left", "participant": "c1", "reason": "disconnect"},
				{"at": "2026-11-20T09:00:10Z", "type": "ended", "reason": "inactive"}]`),
			func(t *testing.T, tr *transcript.Transcript) {
				want := &transcript.Transcript{
					Version: 1, SessionID: "w-2026.11:20_1", Tenant: "helpdesk", Channel: "web", Language: "fi-FI", Async: true,
					Participants: []transcript.Participant{
						{ID: "c1", Role: transcript.RoleCustomer, Name: "Jane", Person: "person/1"},
						{ID: "s1", Role: transcript.RoleSupervisor, Visibility: transcript.VisibilityCoach},
						{ID: "a1", Role: transcript.RoleAgent},
					},
				}
				base := int64(1795165200000)
				add := func(e transcript.Event) {
					e.At = base + int64(len(want.Events))*1000
					if e.P == 0 && e.Participant == "" {
						e.P = -1
					}
					want.Events = append(want.Events, e)
				}
				add(transcript.Event{Type: transcript.EventStarted})
				add(transcript.Event{Type: transcript.EventMessage, Participant: "s1", P: 1, Text: "psst", Automatic: true})
				add(transcript.Event{Type: transcript.EventAttachment, Participant: "c1", P: 0, File: &transcript.File{Name: "a.png", ContentType: "image/png"}})
				add(transcript.Event{Type: transcript.EventHandoff})
				add(transcript.Event{Type: transcript.EventMarker, Marker: "vpn"})
				add(transcript.Event{Type: transcript.EventPage, URL: "https://example.com/?a=1&b=2"})
				add(transcript.Event{Type: transcript.EventDormant})
				add(transcript.Event{Type: transcript.EventResumed})
				add(transcript.Event{Type: transcript.EventTicket, Ticket: "INC-1"})
				add(transcript.Event{Type: transcript.EventLeft, Participant: "c1", P: 0, Reason: "disconnect"})
				add(transcript.Event{Type: transcript.EventEnded, Reason: "inactive"})
				if d := cmp.Diff(want, tr); d != "" {
					t.Errorf("model (-want +got):\n%s", d)
				}
			}},
		{"rule 7: empty text and unnamed files", doc(okEvent,
			ev(`"type": "message", "participant": "c1", "text": ""`),
			ev(`"type": "message", "participant": "b1", "text": "", "automatic": true`),
			ev(`"type": "attachment", "participant": "c1", "file": {"name": "", "contentType": "", "size": 0}`)),
			func(t *testing.T, tr *transcript.Transcript) {
				if e := tr.Events[1]; e.Type != transcript.EventMessage || e.Text != "" || e.Participant != "c1" {
					t.Errorf("empty message = %+v", e)
				}
				if e := tr.Events[2]; e.Type != transcript.EventMessage || !e.Automatic {
					t.Errorf("empty automatic message = %+v", e)
				}
				if e := tr.Events[3]; e.Type != transcript.EventAttachment || e.File == nil || *e.File != (transcript.File{}) {
					t.Errorf("unnamed attachment = %+v", e)
				}
			}},
		{"rating", doc(okEvent,
			ev(`"type": "rating", "participant": "c1", "score": 5, "comment": "Great, thanks!"`),
			ev(`"type": "rating", "score": 1`),
			ev(`"type": "rating", "score": 3, "comment": "", "text": 5, "participant": null`)),
			func(t *testing.T, tr *transcript.Transcript) {
				got := []transcript.Event{tr.Events[1], tr.Events[2], tr.Events[3]}
				want := []transcript.Event{
					{At: got[0].At, Type: transcript.EventRating, Participant: "c1", P: 0, Score: 5, Comment: "Great, thanks!"},
					{At: got[0].At, Type: transcript.EventRating, P: -1, Score: 1},
					{At: got[0].At, Type: transcript.EventRating, P: -1, Score: 3},
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("ratings (-want +got):\n%s", d)
				}
			}},
		{"empty events", withTop(vOK, sOK, pOK, eOK),
			func(t *testing.T, tr *transcript.Transcript) {
				if tr.Events == nil || len(tr.Events) != 0 || len(tr.Warnings) != 0 {
					t.Errorf("events = %#v, warnings = %v", tr.Events, tr.Warnings)
				}
			}},
		{"non-ASCII and escapes", doc(ev(`"type": "message", "participant": "c1", "text": "Hyvää päivää 🙂 \u00e4\ud83d\ude42 \"q\" \\ \/ \n \ud800"`)),
			func(t *testing.T, tr *transcript.Transcript) {
				if want := "Hyvää päivää 🙂 ä🙂 \"q\" \\ / \n \uFFFD"; tr.Events[0].Text != want {
					t.Errorf("text = %q, want %q", tr.Events[0].Text, want)
				}
			}},
		{"same key in different objects", doc(ev(`"type": "message", "participant": "c1", "text": "a", "x": {"text": 1, "x": 2}`), ev(`"type": "message", "participant": "c1", "text": "b", "x": [{"x": 1}, {"x": 1}]`)),
			func(t *testing.T, tr *transcript.Transcript) {
				if len(tr.Events) != 2 {
					t.Errorf("events = %+v", tr.Events)
				}
			}},
		{"escaped key", withTop(`"\u0076ersion": 1`, sOK, pOK, eOK),
			func(t *testing.T, tr *transcript.Transcript) {
				if tr.Version != 1 {
					t.Errorf("version = %d", tr.Version)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := transcript.DecodeV1([]byte(tc.in))
			if err != nil {
				t.Fatalf("DecodeV1: %v", err)
			}
			tc.check(t, tr)
		})
	}
}

func TestDecodeV1Times(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-11-20T09:00:00Z", "2026-11-20T09:00:00.000Z"},
		{"2026-11-20T09:00:00.9999Z", "2026-11-20T09:00:00.999Z"},
		{"2026-11-20T09:00:00.999999999Z", "2026-11-20T09:00:00.999Z"},
		{"2026-11-20T09:00:00.5Z", "2026-11-20T09:00:00.500Z"},
		{"2026-11-20T09:00:00.05Z", "2026-11-20T09:00:00.050Z"},
		{"2026-11-20T09:00:00.0001Z", "2026-11-20T09:00:00.000Z"},
		{"2026-11-20t09:00:00z", "2026-11-20T09:00:00.000Z"},
		{"2026-11-20T10:30:00+01:30", "2026-11-20T09:00:00.000Z"},
		{"2026-11-20T07:30:00.9999-01:30", "2026-11-20T09:00:00.999Z"},
		{"2026-11-20T00:15:00.1239-10:00", "2026-11-20T10:15:00.123Z"},
		{"2026-11-21T08:00:00+23:00", "2026-11-20T09:00:00.000Z"},
		{"2026-11-20T09:00:00-00:00", "2026-11-20T09:00:00.000Z"},
		{"2024-02-29T23:59:59.999+00:00", "2024-02-29T23:59:59.999Z"},
		{"2000-03-01T00:00:00Z", "2000-03-01T00:00:00.000Z"},
		{"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
		{"1900-01-01T00:00:00.0009Z", "1900-01-01T00:00:00.000Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000Z"},
		{"9999-12-31T23:59:59.9999Z", "9999-12-31T23:59:59.999Z"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			tr, err := transcript.DecodeV1([]byte(doc(`{"at": "` + tc.in + `", "type": "started"}`)))
			if err != nil {
				t.Fatal(err)
			}
			if got := transcript.FormatMillis(tr.Events[0].At); got != tc.want {
				t.Errorf("at = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestDecodeV1Order(t *testing.T) {
	tr, err := transcript.DecodeV1([]byte(doc(
		`{"at": "2026-11-20T09:00:02Z", "type": "message", "participant": "c1", "text": "third"}`,
		`{"at": "2026-11-20T09:00:00Z", "type": "started"}`,
		`{"at": "2026-11-20T09:00:01.0009Z", "type": "message", "participant": "b1", "text": "first at 1s"}`,
		`{"at": "2026-11-20T09:00:01Z", "type": "message", "participant": "c1", "text": "second at 1s"}`,
		`{"at": "2026-11-20T10:00:01.000+01:00", "type": "message", "participant": "a1", "text": "third at 1s"}`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tr.Events {
		got = append(got, e.Type.String()+":"+e.Text)
	}
	want := []string{"started:", "message:first at 1s", "message:second at 1s", "message:third at 1s", "message:third"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	// P must follow the sort.
	for _, e := range tr.Events {
		if e.Participant != "" && tr.Participants[e.P].ID != e.Participant {
			t.Errorf("event %+v: P points at %s", e, tr.Participants[e.P].ID)
		}
	}
}

func TestDecodeV1EventsAfterEnded(t *testing.T) {
	tr, err := transcript.DecodeV1([]byte(doc(
		okEvent,
		`{"at": "2026-11-20T09:01:00Z", "type": "ended"}`,
		`{"at": "2026-11-20T09:02:00Z", "type": "message", "participant": "c1", "text": "late"}`,
		`{"at": "2026-11-20T09:03:00Z", "type": "ended", "reason": "quit"}`,
		`{"at": "2026-11-20T09:04:00Z", "type": "poll"}`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Warnings) != 1 || !strings.HasPrefix(tr.Warnings[0], "3 event") {
		t.Errorf("warnings = %q, want one counting 3 events", tr.Warnings)
	}
	tr, err = transcript.DecodeV1([]byte(doc(okEvent, `{"at": "2026-11-20T09:01:00Z", "type": "ended"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Warnings) != 0 {
		t.Errorf("warnings = %q, want none", tr.Warnings)
	}
	// Rule 5: a rating after the end (a post-chat survey) is not ignored,
	// so it is not counted; anything else after the end still is.
	tr, err = transcript.DecodeV1([]byte(doc(okEvent,
		`{"at": "2026-11-20T09:01:00Z", "type": "ended"}`,
		`{"at": "2026-11-20T09:02:00Z", "type": "rating", "participant": "c1", "score": 4}`,
		`{"at": "2026-11-20T09:03:00Z", "type": "rating", "score": 2}`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Warnings) != 0 {
		t.Errorf("ratings after ended: warnings = %q, want none", tr.Warnings)
	}
	tr, err = transcript.DecodeV1([]byte(doc(okEvent,
		`{"at": "2026-11-20T09:01:00Z", "type": "ended"}`,
		`{"at": "2026-11-20T09:02:00Z", "type": "rating", "score": 4}`,
		`{"at": "2026-11-20T09:03:00Z", "type": "message", "participant": "c1", "text": "late"}`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Warnings) != 1 || !strings.HasPrefix(tr.Warnings[0], "1 event") {
		t.Errorf("rating and message after ended: warnings = %q, want one counting 1 event", tr.Warnings)
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, name := range []string{"v1_spec_example.json", "connect_chat.json", "connect_chat_v1.json"} {
		t.Run(name, func(t *testing.T) {
			tr, err := transcript.Decode(readFile(t, name))
			if err != nil {
				t.Fatal(err)
			}
			out, err := transcript.Encode(tr)
			if err != nil {
				t.Fatal(err)
			}
			back, err := transcript.DecodeV1(out)
			if err != nil {
				t.Fatalf("DecodeV1(Encode(t)): %v\n%s", err, out)
			}
			if d := cmp.Diff(tr, back); d != "" {
				t.Errorf("round trip (-before +after):\n%s", d)
			}
		})
	}
}

func TestEncodeShape(t *testing.T) {
	tr, err := transcript.DecodeV1([]byte(doc(
		`{"at": "2026-11-20T10:00:00.1239+01:00", "type": "poll", "participant": "c1", "question": "ok?"}`,
		`{"at": "2026-11-20T09:00:01Z", "type": "page", "url": "https://x.example/?a=1&b=<2>"}`,
		`{"at": "2026-11-20T09:00:02Z", "type": "message", "participant": "b1", "text": ""}`,
		`{"at": "2026-11-20T09:00:03Z", "type": "attachment", "participant": "c1", "file": {"name": "", "contentType": "", "size": 0}}`,
		`{"at": "2026-11-20T09:00:04Z", "type": "rating", "score": 5}`,
		`{"at": "2026-11-20T09:00:05Z", "type": "rating", "participant": "c1", "score": 2, "comment": "slow"}`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	out, err := transcript.Encode(tr)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"sessionId":"s-1","participants":[{"id":"c1","role":"customer","name":"Jane"},{"id":"a1","role":"agent","name":"Ann"},{"id":"b1","role":"bot"}],` +
		`"events":[{"at":"2026-11-20T09:00:00.123Z","type":"poll","participant":"c1"},{"at":"2026-11-20T09:00:01.000Z","type":"page","url":"https://x.example/?a=1&b=<2>"},` +
		`{"at":"2026-11-20T09:00:02.000Z","type":"message","participant":"b1","text":""},` +
		`{"at":"2026-11-20T09:00:03.000Z","type":"attachment","participant":"c1","file":{"name":"","contentType":"","size":0}},` +
		`{"at":"2026-11-20T09:00:04.000Z","type":"rating","score":5},` +
		`{"at":"2026-11-20T09:00:05.000Z","type":"rating","participant":"c1","score":2,"comment":"slow"}]}`
	if string(out) != want {
		t.Errorf("Encode =\n%s\nwant\n%s", out, want)
	}
	if back, err := transcript.DecodeV1(out); err != nil {
		t.Errorf("DecodeV1(Encode(t)): %v", err)
	} else if d := cmp.Diff(tr, back); d != "" {
		t.Errorf("round trip (-before +after):\n%s", d)
	}

	bad := []struct {
		name  string
		tr    transcript.Transcript
		field string
	}{
		{"unknown without RawType", transcript.Transcript{SessionID: "s", Events: []transcript.Event{{At: 0}}}, "events[0].type"},
		{"RawType of a known type", transcript.Transcript{SessionID: "s", Events: []transcript.Event{{RawType: "ended"}}}, "events[0].type"},
		{"time out of range", transcript.Transcript{SessionID: "s", Events: []transcript.Event{{At: 1 << 62, Type: transcript.EventStarted}}}, "events[0].at"},
		{"role out of range", transcript.Transcript{SessionID: "s", Participants: []transcript.Participant{{ID: "x", Role: 77}}}, "participants[0].role"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transcript.Encode(&tc.tr)
			var te *transcript.Error
			if !errors.As(err, &te) || te.Field != tc.field {
				t.Errorf("Encode error = %v, want one on %s", err, tc.field)
			}
		})
	}
}

func TestDecodeDetectsFormat(t *testing.T) {
	v1, err := transcript.Decode(readFile(t, "v1_spec_example.json"))
	if err != nil || v1.SessionID != "w-2026-11-20-0001" {
		t.Fatalf("v1: %v, %+v", err, v1)
	}
	// One field is enough to pick the format and get its precise error.
	for in, field := range map[string]string{`{"sessionId": "s"}`: "version", `{"ContactId": "c"}`: "Version"} {
		_, err := transcript.Decode([]byte(in))
		var te *transcript.Error
		if !errors.As(err, &te) || te.Field != field {
			t.Errorf("Decode(%s) = %v, want an error on %s", in, err, field)
		}
	}
	// Duplicate keys are refused by Decode whichever format it picks, with
	// the field path of the decoder.
	for in, field := range map[string]string{
		`{"sessionId": "s", "sessionId": "t"}`:                                                              "sessionId",
		`{"zz": 1, "Version": "2019-08-26", "zz": 2}`:                                                       "zz",
		`{"ContactId": "c", "Contact\u0049d": "c"}`:                                                         "ContactId",
		doc(ev(`"type": "message", "text": "a", "participant": "c1", "text": "a"`)):                         "events[0].text",
		`{"Version": "2019-08-26", "ContactId": "c", "Transcript": [{"Type": "MESSAGE", "Type": "EVENT"}]}`: "Transcript[0].Type",
	} {
		_, err := transcript.Decode([]byte(in))
		var te *transcript.Error
		if !errors.As(err, &te) || te.Field != field || te.Msg != "duplicate key" {
			t.Errorf("Decode(%s) = %v, want a duplicate key on %s", in, err, field)
		}
	}
	for _, tc := range []struct{ name, in string }{
		{"neither", `{"hello": 1}`},
		{"both", `{"version": 1, "ContactId": "x"}`},
		{"not an object", `[1]`},
		{"broken", `{"version": 1,`},
		{"bad utf-8", "{\"version\": \"\xc0\"}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transcript.Decode([]byte(tc.in))
			var te *transcript.Error
			if !errors.As(err, &te) {
				t.Fatalf("error = %v, want a *transcript.Error", err)
			}
		})
	}
}

func ExampleDecode() {
	tr, err := transcript.Decode([]byte(`{"version": 1, "sessionId": "s-1",
		"participants": [{"id": "c1", "role": "customer"}],
		"events": [{"at": "2026-11-20T09:00:00.9999+02:00", "type": "message", "participant": "c1", "text": "hi"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(transcript.FormatMillis(tr.Events[0].At), tr.Events[0].Type, tr.Participants[tr.Events[0].P].Role)
	_, err = transcript.Decode([]byte(`{"version": 1.0}`))
	fmt.Println(err)
	// Output:
	// 2026-11-20T07:00:00.999Z message customer
	// transcript: version: must be the integer 1
}

// TestNormalizeRule7AndRating holds hand-built transcripts (as the platform
// adapters build them) to the same rules as DecodeV1.
func TestNormalizeRule7AndRating(t *testing.T) {
	base := func(events ...transcript.Event) *transcript.Transcript {
		return &transcript.Transcript{Version: 1, SessionID: "s-1",
			Participants: []transcript.Participant{{ID: "c1", Role: transcript.RoleCustomer}}, Events: events}
	}
	ok := base(
		transcript.Event{Type: transcript.EventMessage, Participant: "c1"},
		transcript.Event{Type: transcript.EventAttachment, Participant: "c1", File: &transcript.File{}},
		transcript.Event{Type: transcript.EventEnded},
		transcript.Event{Type: transcript.EventRating, Participant: "c1", Score: 1, Comment: "meh"},
		transcript.Event{Type: transcript.EventRating, Score: 5},
	)
	if err := ok.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if len(ok.Warnings) != 0 {
		t.Errorf("warnings = %q, want none (ratings after the end are not ignored)", ok.Warnings)
	}
	for _, tc := range []struct {
		name  string
		tr    *transcript.Transcript
		field string
	}{
		{"score 0", base(transcript.Event{Type: transcript.EventRating}), "events[0].score"},
		{"score 6", base(transcript.Event{Type: transcript.EventRating, Score: 6}), "events[0].score"},
		{"score -3", base(transcript.Event{Type: transcript.EventRating, Score: -3}), "events[0].score"},
		{"rating by stranger", base(transcript.Event{Type: transcript.EventRating, Score: 3, Participant: "zz"}), "events[0].participant"},
		{"attachment without file", base(transcript.Event{Type: transcript.EventAttachment, Participant: "c1"}), "events[0].file"},
		{"message invalid UTF-8", base(transcript.Event{Type: transcript.EventMessage, Participant: "c1", Text: "\xff"}), "events[0].text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.tr.Normalize()
			var te *transcript.Error
			if !errors.As(err, &te) || te.Field != tc.field {
				t.Errorf("Normalize = %v, want an error on %s", err, tc.field)
			}
		})
	}
}
