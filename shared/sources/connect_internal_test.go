package sources

import (
	"bytes"
	"testing"
)

// FuzzStreamContactIDs feeds the index's partial reader arbitrary object
// bodies: it must never panic, and what it accepts has an initial contact.
func FuzzStreamContactIDs(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2019-08-26","InitialContactId":"a","ContactId":"b","Transcript":[]}`,
		`{"ContactId":"only"}`,
		`{"Transcript":[{"ContactId":"nested"}],"ContactId":"top"}`,
		`{"InitialContactId":5}`,
		`[1,2]`, `{"a":`, `{}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := streamContactIDs(bytes.NewReader(body))
		if err == nil && ids.initial == "" {
			t.Fatalf("accepted %q without an initial contact", body)
		}
	})
}

func TestStreamContactIDs(t *testing.T) {
	for _, c := range []struct {
		in, initial, contact string
		ok                   bool
	}{
		{`{"Version":"2019-08-26","InitialContactId":"a","ContactId":"b","Transcript":[{"x":1}]}`, "a", "b", true},
		{`{"ContactId":"only","Transcript":[]}`, "only", "only", true},
		{`{"Transcript":[{"ContactId":"nested"}],"ContactId":"top"}`, "top", "top", true},
		// The reader stops once both ids are seen: the broken tail is never read.
		{`{"InitialContactId":"a","ContactId":"b","Transcript":[`, "a", "b", true},
		{`{"Transcript":[]}`, "", "", false},
		{`{"InitialContactId":5}`, "", "", false},
		{`[]`, "", "", false},
		{``, "", "", false},
	} {
		ids, err := streamContactIDs(bytes.NewReader([]byte(c.in)))
		if (err == nil) != c.ok || ids.initial != c.initial || ids.contact != c.contact {
			t.Errorf("%s: got %+v, %v", c.in, ids, err)
		}
	}
}
