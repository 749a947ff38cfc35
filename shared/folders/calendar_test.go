package folders_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/folders"
)

func settings(t testing.TB, zone, hours string, holidays ...string) *folders.Settings {
	t.Helper()
	raw := fmt.Sprintf(`{"timeZone": %q, "businessHours": %s`, zone, hours)
	if len(holidays) > 0 {
		raw += `, "holidays": [`
		for i, h := range holidays {
			if i > 0 {
				raw += ","
			}
			raw += fmt.Sprintf("%q", h)
		}
		raw += `]`
	}
	s, err := folders.ParseEntry([]byte(raw+"}"), folders.Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// utc reads an RFC 3339 instant as model milliseconds.
func utc(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMilli()
}

const weekdays = `{"mon": ["08:00-17:00"], "tue": ["08:00-17:00"], "wed": ["08:00-17:00"], "thu": ["08:00-17:00"], "fri": ["08:00-17:00"]}`

func TestBusinessMs(t *testing.T) {
	const min, hour = 60_000, 3_600_000
	lunch := `{"mon": ["08:00-12:00", "13:00-17:00"]}`
	for _, tc := range []struct {
		name     string
		s        *folders.Settings
		from, to string
		want     int64
	}{
		{"across a lunch break", settings(t, "Europe/Helsinki", lunch), "2026-11-23T11:30:00+02:00", "2026-11-23T13:30:00+02:00", 60 * min},
		{"inside the break", settings(t, "Europe/Helsinki", lunch), "2026-11-23T12:10:00+02:00", "2026-11-23T12:50:00+02:00", 0},
		{"milliseconds at an edge", settings(t, "Europe/Helsinki", lunch), "2026-11-23T11:59:59.750+02:00", "2026-11-23T13:00:00.001+02:00", 251},
		{"over a weekend", settings(t, "Europe/Helsinki", weekdays), "2026-11-20T16:30:00+02:00", "2026-11-23T08:30:00+02:00", 60 * min},
		{"over a holiday", settings(t, "Europe/Helsinki", weekdays, "2026-12-24"), "2026-12-23T16:00:00+02:00", "2026-12-25T09:00:00+02:00", 2 * hour},
		{"a holiday is its local date, not the UTC one", settings(t, "Europe/Helsinki", `{"thu": ["00:00-24:00"]}`, "2026-12-24"),
			"2026-12-23T12:00:00Z", "2026-12-25T12:00:00Z", 0},
		{"wholly outside open hours", settings(t, "Europe/Helsinki", weekdays), "2026-11-21T10:00:00+02:00", "2026-11-22T23:59:00+02:00", 0},
		{"empty interval", settings(t, "UTC", weekdays), "2026-11-23T10:00:00Z", "2026-11-23T10:00:00Z", 0},
		{"reversed interval", settings(t, "UTC", weekdays), "2026-11-23T11:00:00Z", "2026-11-23T10:00:00Z", 0},
		{"a range ending at 24:00", settings(t, "UTC", `{"sat": ["22:00-24:00"], "sun": ["00:00-00:30"]}`), "2026-11-21T23:00:00Z", "2026-11-22T01:00:00Z", 90 * min},
		{"whole days 00:00-24:00 over three weeks", settings(t, "UTC", `{"mon": ["00:00-24:00"]}`, "2026-11-30"), "2026-11-20T00:00:00Z", "2026-12-11T00:00:00Z", 2 * 24 * hour},

		// Europe/Helsinki, spring: 2026-03-29 03:00 EET becomes 04:00 EEST (01:00Z).
		{"Helsinki spring: a range the change skips wholly", settings(t, "Europe/Helsinki", `{"sun": ["03:00-04:00"]}`), "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", 0},
		{"Helsinki spring: a range partly skipped", settings(t, "Europe/Helsinki", `{"sun": ["03:30-04:30"]}`), "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", 30 * min},
		{"Helsinki spring: the whole 23-hour day", settings(t, "Europe/Helsinki", `{"sun": ["00:00-24:00"]}`), "2026-03-28T00:00:00Z", "2026-03-30T00:00:00Z", 23 * hour},
		// Europe/Helsinki, autumn: 2026-10-25 04:00 EEST becomes 03:00 EET (01:00Z); 03:00-04:00 happens twice.
		{"Helsinki autumn: a range ending inside the repeated hour", settings(t, "Europe/Helsinki", `{"sun": ["00:00-03:30"]}`), "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z", 4 * hour},
		{"Helsinki autumn: the repeated hour counts twice", settings(t, "Europe/Helsinki", `{"sun": ["03:00-04:00"]}`), "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z", 2 * hour},
		{"Helsinki autumn: the whole 25-hour day", settings(t, "Europe/Helsinki", `{"sun": ["00:00-24:00"]}`), "2026-10-24T00:00:00Z", "2026-10-26T00:00:00Z", 25 * hour},
		{"Helsinki autumn: an interval inside the second pass only", settings(t, "Europe/Helsinki", `{"sun": ["00:00-03:30"]}`), "2026-10-25T01:10:00Z", "2026-10-25T02:00:00Z", 20 * min},

		// America/New_York, spring: 2026-03-08 02:00 EST becomes 03:00 EDT (07:00Z).
		{"New York spring: a range partly skipped", settings(t, "America/New_York", `{"sun": ["01:30-03:30"]}`), "2026-03-07T00:00:00Z", "2026-03-09T12:00:00Z", 60 * min},
		{"New York spring: a range the change skips wholly", settings(t, "America/New_York", `{"sun": ["02:00-03:00"]}`), "2026-03-07T00:00:00Z", "2026-03-09T12:00:00Z", 0},
		// America/New_York, autumn: 2026-11-01 02:00 EDT becomes 01:00 EST (06:00Z).
		{"New York autumn: a range ending inside the repeated hour", settings(t, "America/New_York", `{"sun": ["00:00-01:30"]}`), "2026-10-31T00:00:00Z", "2026-11-02T12:00:00Z", 2 * hour},
		{"New York autumn: an interval across the change", settings(t, "America/New_York", `{"sun": ["01:00-02:00"]}`), "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", 60 * min},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.BusinessMs(utc(t, tc.from), utc(t, tc.to)); got != tc.want {
				t.Errorf("BusinessMs = %d ms (%v), want %d ms (%v)", got, time.Duration(got)*time.Millisecond, tc.want, time.Duration(tc.want)*time.Millisecond)
			}
			if got := brute(tc.s, utc(t, tc.from), utc(t, tc.to)); got != tc.want {
				t.Errorf("the brute-force reading gives %d ms, want %d ms: the case itself is wrong", got, tc.want)
			}
		})
	}
	if got := (*folders.Settings)(nil).BusinessMs(0, 1000); got != 0 {
		t.Errorf("nil settings: %d", got)
	}
}

// brute is the definition read literally: the open instants of [from, to),
// one UTC second at a time (every zone offset and transition since 1900 is
// whole seconds, so openness is constant within each second), each second
// judged by the local clock reading at its start.
func brute(s *folders.Settings, from, to int64) int64 {
	var total int64
	for a := from; a < to; {
		next := (a/1000 + 1) * 1000
		if a < 0 && a%1000 != 0 {
			next = a / 1000 * 1000
		}
		end := min(next, to)
		l := time.UnixMilli(a).In(s.Location)
		y, m, d := l.Date()
		if !s.IsHoliday(folders.Date{Year: y, Month: m, Day: d}) {
			c := l.Hour()*60 + l.Minute()
			for _, r := range s.Hours[l.Weekday()] {
				if c >= r.From && c < r.To {
					total += end - a
				}
			}
		}
		a = end
	}
	return total
}

// Random intervals near both clock changes of both zones, against the
// literal reading; and the two properties: business time ≤ calendar time,
// and [a,b) + [b,c) = [a,c).
func TestBusinessMsProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	cases := []struct {
		s      *folders.Settings
		around string
	}{
		{settings(t, "Europe/Helsinki", `{"sun": ["00:00-03:30", "03:45-04:15", "23:00-24:00"], "sat": ["02:30-03:10"], "mon": ["00:00-01:00"]}`, "2026-10-26"), "2026-03-29T01:00:00Z"},
		{settings(t, "Europe/Helsinki", `{"sun": ["00:00-03:30", "03:45-04:15", "23:00-24:00"], "sat": ["02:30-03:10"]}`, "2026-10-26"), "2026-10-25T01:00:00Z"},
		{settings(t, "America/New_York", `{"sun": ["01:30-02:30", "20:00-24:00"], "mon": ["00:00-09:00"]}`), "2026-03-08T07:00:00Z"},
		{settings(t, "America/New_York", `{"sun": ["01:00-01:20", "01:40-02:00"], "sat": ["00:00-24:00"]}`, "2026-11-02"), "2026-11-01T06:00:00Z"},
		{settings(t, "Asia/Kolkata", weekdays, "2026-11-25"), "2026-11-25T00:00:00Z"},
		// Past the tz database's table: the zone's rule string decides.
		{settings(t, "Europe/Helsinki", `{"sun": ["00:00-03:30", "03:45-04:15"]}`), "2301-03-25T01:00:00Z"},
		{settings(t, "Europe/Helsinki", `{"sun": ["00:00-03:30", "03:45-04:15"]}`), "2301-10-28T01:00:00Z"},
	}
	for _, tc := range cases {
		mid := utc(t, tc.around)
		for i := 0; i < 150; i++ {
			span := int64(3 * 86400_000)
			a := mid - span + r.Int64N(2*span)
			b := a + r.Int64N(span)
			c := b + r.Int64N(span)
			ab, bc, ac := tc.s.BusinessMs(a, b), tc.s.BusinessMs(b, c), tc.s.BusinessMs(a, c)
			if ab < 0 || ab > b-a {
				t.Fatalf("%s: business time of [%d,%d) = %d exceeds the calendar time %d", tc.s.Location, a, b, ab, b-a)
			}
			if ab+bc != ac {
				t.Fatalf("%s: [a,b) %d + [b,c) %d != [a,c) %d (a=%d b=%d c=%d)", tc.s.Location, ab, bc, ac, a, b, c)
			}
			if i%10 == 0 {
				// The literal reading costs a step a second: up to a day.
				x := a + r.Int64N(86400_000)
				if got, want := tc.s.BusinessMs(a, x), brute(tc.s, a, x); got != want {
					t.Fatalf("%s: BusinessMs(%v, %v) = %d, the literal reading gives %d", tc.s.Location,
						time.UnixMilli(a).UTC(), time.UnixMilli(x).UTC(), got, want)
				}
			}
		}
	}
	// Long intervals take whole weeks at once; the sum of days must agree.
	s := settings(t, "Europe/Helsinki", `{"mon": ["08:00-12:00", "13:00-17:00"], "sat": ["10:00-24:00"], "sun": ["00:00-02:00"]}`, "2026-12-26", "2027-01-04", "2026-03-30")
	for i := 0; i < 50; i++ {
		a := utc(t, "2026-01-01T00:00:00Z") + r.Int64N(300*86400_000)
		c := a + r.Int64N(120*86400_000)
		var daily int64
		for x := a; x < c; x += 86400_000 {
			daily += s.BusinessMs(x, min(x+86400_000, c))
		}
		if got := s.BusinessMs(a, c); got != daily {
			t.Fatalf("BusinessMs over %v = %d, day by day %d", time.Duration(c-a)*time.Millisecond, got, daily)
		}
	}
}

func BenchmarkBusinessMs(b *testing.B) {
	s := settings(b, "Europe/Helsinki", `{"mon": ["08:00-12:00", "13:00-17:00"], "tue": ["08:00-17:00"], "wed": ["08:00-17:00"]}`, "2026-12-24")
	a := utc(b, "2026-11-23T11:58:00Z")
	b.ReportAllocs()
	for b.Loop() {
		s.BusinessMs(a, a+90_000)
	}
}
