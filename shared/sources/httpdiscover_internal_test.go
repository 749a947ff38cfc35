package sources

import (
	"errors"
	"testing"

	"github.com/chatcards/chatcards/shared/transcript"
)

// FuzzDiscoverPage: a listing page from the platform is outside input; any
// bytes give items with valid ids and times, or errors, never a panic.
func FuzzDiscoverPage(f *testing.F) {
	f.Add([]byte(`{"sessions":[{"sessionId":"w-1","startedAt":"2026-11-20T08:00:00Z","updatedAt":"2026-11-20T09:00:00Z"}],"next":"abc"}`))
	f.Add([]byte(`{"sessions":[{"sessionId":"a b","updatedAt":"x"}],"next":""}`))
	f.Add([]byte(`{"sessions":null,"next":""}`))
	f.Add([]byte(`{"sessions":[{"sessionId":"w-1","sessionId":"w-2"}]}`))
	f.Add([]byte("{\"sessions\":[{\"sessionId\":\"w-\xff\"}]}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, _, bad, err := parseDiscoverPage(b, 0)
		if err != nil && (items != nil || bad != nil) {
			t.Fatal("items with a page error")
		}
		for _, d := range items {
			if !transcript.ValidSessionID(d.SessionID) {
				t.Fatalf("accepted %+v", d)
			}
		}
		for _, e := range bad {
			if !errors.Is(e, ErrBadListingItem) {
				t.Fatalf("bad item error %v", e)
			}
		}
	})
}
