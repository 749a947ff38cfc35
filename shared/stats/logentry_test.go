package stats

import (
	"encoding/json"
	"testing"
)

// A message of size 0 is a message in the chat log: "text": "" is written
// (statistics.md "then text for a message"); an attachment has "file" and
// no "text"; both read back unchanged.
func TestLogEntryEmptyMessageKeepsText(t *testing.T) {
	for _, c := range []struct {
		e    LogEntry
		want string
	}{
		{LogEntry{At: "2026-11-20T10:00:00.000Z", Participant: "c1", Role: "customer"}, `{"at":"2026-11-20T10:00:00.000Z","participant":"c1","role":"customer","text":""}`},
		{LogEntry{At: "2026-11-20T10:00:00.000Z", Participant: "a1", Role: "agent", Name: "Ann", Text: "hi"}, `{"at":"2026-11-20T10:00:00.000Z","participant":"a1","role":"agent","name":"Ann","text":"hi"}`},
		{LogEntry{At: "2026-11-20T10:00:00.000Z", Participant: "c1", Role: "customer", File: &File{}}, `{"at":"2026-11-20T10:00:00.000Z","participant":"c1","role":"customer","file":{"name":"","contentType":"","size":0}}`},
	} {
		b, err := json.Marshal([]LogEntry{c.e})
		if err != nil {
			t.Fatal(err)
		}
		if got := string(b); got != "["+c.want+"]" {
			t.Errorf("got %s\nwant [%s]", got, c.want)
		}
		var back []LogEntry
		if err := json.Unmarshal(b, &back); err != nil || len(back) != 1 || back[0].Text != c.e.Text || (back[0].File == nil) != (c.e.File == nil) {
			t.Errorf("round trip of %s: %+v %v", b, back, err)
		}
	}
}
