package folders

import "time"

// DayStart is the first instant of the local date year-month-day in loc
// (day may overflow, as in time.Date: day+1 is the next date). Usually
// local midnight; on a date whose midnight the clocks skip (America/Santiago
// on 2026-09-06 goes from 23:59:59 -04 to 01:00 -03) it is the instant the
// clocks jump. time.Date alone gives 23:00 of the date before for such a
// midnight, which would put that evening's last hour into this date's day.
func DayStart(year int, month time.Month, day int, loc *time.Location) time.Time {
	t := time.Date(year, month, day, 0, 0, 0, 0, loc)
	want := time.Date(year, month, day, 0, 0, 0, 0, time.UTC) // the date, normalised
	for i := 0; i < 2; i++ {
		y, m, d := t.Date()
		if y == want.Year() && m == want.Month() && d == want.Day() {
			return t
		}
		// t fell on the date before: the date starts where t's zone period
		// ends (the jump), which is on the wanted date.
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.After(t) {
			break
		}
		t = end
	}
	return t
}
