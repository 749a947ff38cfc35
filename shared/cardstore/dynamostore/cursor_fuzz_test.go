package dynamostore

import (
	"testing"

	"github.com/chatcards/chatcards/shared/card"
)

// FuzzDecodeCursor: a cursor comes back from callers, so any string must be
// refused cleanly or accepted as a cursor of the asking listing only.
func FuzzDecodeCursor(f *testing.F) {
	want := cursor{Kind: "start", Folder: "acme", Range: "a/b"}
	good := want
	good.Key = map[string]string{attrPK: "F#acme", attrSK: "C#w-1", attrStartSK: "2026#w-1"}
	f.Add(good.encode())
	f.Add(cursor{Kind: "active", Shard: 3}.encode())
	f.Add("")
	f.Add("eyJrIjoic3RhcnQiLCJmIjoiYWNtZSJ9")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor("fuzz", s, want, attrPK, attrSK, attrStartSK)
		if err != nil {
			if card.ErrorCode(err) != card.EINVALID {
				t.Fatalf("code %q for a bad cursor", card.ErrorCode(err))
			}
			return
		}
		if c.Kind != want.Kind || c.Folder != want.Folder || c.Range != want.Range {
			t.Fatalf("accepted a cursor of another listing: %+v", c)
		}
		if c.Key != nil && len(c.Key) != 3 {
			t.Fatalf("accepted a key of %d attributes", len(c.Key))
		}
	})
}
