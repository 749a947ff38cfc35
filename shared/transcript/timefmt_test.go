package transcript

import (
	"testing"
	"time"
)

// FuzzParseTime checks the hand-written RFC 3339 reader against time.Parse
// wherever both accept the input: same instant, cut to the millisecond.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-20T09:00:00Z", "2026-11-20T09:00:00.9999-01:30", "2024-02-29T23:59:59.999+14:00",
		"1969-12-31T23:59:59.9999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2026-13-01T00:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, msg := parseTime(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if msg != "" || err != nil {
			return
		}
		// UnixMilli cuts towards the past, as parseTime does.
		if got := want.UnixMilli(); got != ms {
			t.Fatalf("parseTime(%q) = %d, time.Parse = %d", s, ms, got)
		}
	})
}
