package sources

import (
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// FuzzStableChat: whatever get_chat answers, the chat written for the
// decoder is valid strict JSON without "thread" nor "is_followed", and the
// same answer always gives the same bytes.
func FuzzStableChat(f *testing.F) {
	f.Add([]byte(`{"id": "PJ0MRSHTDG", "thread": {"id": "T"}, "users": [], "is_followed": true, "access": {"group_ids": [0]}}`))
	f.Add([]byte(`{"\u003c": "\u003c", "b\u0000": 1}`))
	f.Add([]byte(`{"a": 1, "a": 2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := stableChat(b)
		if err != nil {
			return
		}
		var m map[string]jsontext.Value
		if err := strictjson.Unmarshal(out, &m); err != nil {
			t.Fatalf("%s gave %s: %v", b, out, err)
		}
		if _, ok := m["thread"]; ok {
			t.Fatal("thread kept")
		}
		if _, ok := m["is_followed"]; ok {
			t.Fatal("is_followed kept")
		}
		again, _ := stableChat(b)
		if string(again) != string(out) {
			t.Fatal("not deterministic")
		}
	})
}
