package folders_test

import (
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/folders"
)

func TestDayStart(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	scl, hel, nyc := load("America/Santiago"), load("Europe/Helsinki"), load("America/New_York")
	for _, tc := range []struct {
		loc     *time.Location
		y       int
		m       time.Month
		d       int
		wantUTC string
	}{
		{scl, 2026, 9, 6, "2026-09-06T04:00:00Z"}, // no 00:00: the day begins at 01:00 -03
		{scl, 2026, 9, 5, "2026-09-05T04:00:00Z"},
		{scl, 2026, 9, 7, "2026-09-07T03:00:00Z"},
		{scl, 2026, 4, 5, "2026-04-05T04:00:00Z"},  // clocks back at Sunday 00:00 -03 to Saturday 23:00 -04: Sunday starts once, at 00:00 -04
		{scl, 2026, 8, 37, "2026-09-06T04:00:00Z"}, // day overflows like time.Date
		{hel, 2026, 3, 29, "2026-03-28T22:00:00Z"},
		{hel, 2026, 10, 25, "2026-10-24T21:00:00Z"},
		{nyc, 2026, 3, 8, "2026-03-08T05:00:00Z"},
		{time.UTC, 2026, 12, 32, "2027-01-01T00:00:00Z"},
	} {
		got := folders.DayStart(tc.y, tc.m, tc.d, tc.loc)
		if s := got.UTC().Format(time.RFC3339); s != tc.wantUTC {
			t.Errorf("%s %d-%02d-%02d: %s, want %s", tc.loc, tc.y, tc.m, tc.d, s, tc.wantUTC)
		}
		if got.Location() != tc.loc {
			t.Errorf("%s: result in %s", tc.loc, got.Location())
		}
	}
}
