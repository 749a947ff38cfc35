package card

import (
	"encoding/json"
	"strings"
	"testing"
)

// A new card is read by the same clients as a synced one: every collection
// is present and empty, never null (statistics.md, analytics.md).
func TestNewCardHasNoNullCollections(t *testing.T) {
	b, err := json.Marshal(New("fa", "s-1", "2026-11-20T09:00:00.000Z"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"customerWaitMs":[]`, `"customerWaitBy":[]`, `"chatLog":[]`, `"members":[]`, `"agents":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("new card lacks %s: %s", want, b)
		}
	}
}
