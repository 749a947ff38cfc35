package folders

import (
	"time"
	// Lambda runtimes need not ship a tz database; every zone must load.
	_ "time/tzdata"
)

const dayMs = 24 * 60 * 60 * 1000

// HasBusinessHours reports whether the folder has business hours, and so
// business-hours figures.
func (s *Settings) HasBusinessHours() bool { return s != nil && s.Hours != nil }

// IsHoliday reports whether the local date d is a holiday.
func (s *Settings) IsHoliday(d Date) bool {
	_, ok := s.holidays[d.dayNumber()]
	return ok
}

// BusinessMs is the business time of [from, to) in milliseconds since the
// epoch (analytics.md): the length of the instants in it at which the
// folder's local clock shows a date that is not a holiday and a time inside
// one of that weekday's ranges. 0 without business hours or when to ≤ from.
//
// Within one zone period (constant UTC offset) local time runs parallel to
// UTC, so the interval is cut at the zone's transitions and each piece is
// measured on the local time line, range by range: a range the clock skips
// contributes only what exists, a repeated hour counts as long as it lasts.
func (s *Settings) BusinessMs(from, to int64) int64 {
	if !s.HasBusinessHours() || to <= from {
		return 0
	}
	var total int64
	for a := from; a < to; {
		t := time.UnixMilli(a).In(s.Location)
		_, off := t.Zone()
		end := to
		if _, zend := t.ZoneBounds(); !zend.IsZero() {
			if e := zend.UnixMilli(); e > a && e < end {
				end = e
			}
		}
		shift := int64(off) * 1000
		total += s.openLocal(a+shift, end+shift)
		a = end
	}
	return total
}

// openLocal is the open time of [l0, l1) on the local time line (local
// milliseconds counted from 1970-01-01T00:00 local).
func (s *Settings) openLocal(l0, l1 int64) int64 {
	var total int64
	for d := floorDiv(l0, dayMs); d*dayMs < l1; d++ {
		ds := d * dayMs
		// Whole weeks at once: a wait over a long holiday season must not
		// cost a loop per day.
		if ds >= l0 {
			if weeks := (l1 - ds) / (7 * dayMs); weeks >= 2 {
				total += weeks*s.weekOpen() - s.holidayOpen(d, d+7*weeks)
				d += 7*weeks - 1
				continue
			}
		}
		if _, closed := s.holidays[d]; closed {
			continue
		}
		for _, r := range s.Hours[weekday(d)] {
			lo := max(l0, ds+int64(r.From)*60000)
			hi := min(l1, ds+int64(r.To)*60000)
			if hi > lo {
				total += hi - lo
			}
		}
	}
	return total
}

// weekday of day number d (day 0, 1970-01-01, was a Thursday).
func weekday(d int64) time.Weekday {
	w := (d + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

func (s *Settings) dayOpen(wd time.Weekday) int64 {
	var ms int64
	for _, r := range s.Hours[wd] {
		ms += int64(r.To-r.From) * 60000
	}
	return ms
}

func (s *Settings) weekOpen() int64 {
	var ms int64
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		ms += s.dayOpen(wd)
	}
	return ms
}

// holidayOpen is the open time the holidays in day numbers [d0, d1) take away.
func (s *Settings) holidayOpen(d0, d1 int64) int64 {
	var ms int64
	for d := range s.holidays {
		if d >= d0 && d < d1 {
			ms += s.dayOpen(weekday(d))
		}
	}
	return ms
}
