package stats

// stamper formats chat-log times; consecutive lines are nearly always on
// the same day, so the date part is computed once per day, not per line.
type stamper struct {
	day  int64
	date [11]byte // "2006-01-02T"
	ok   bool
}

func (s *stamper) append(b []byte, ms int64) []byte {
	if ms < 0 {
		return appendMillis(b, ms)
	}
	day := ms / 86400000
	if !s.ok || day != s.day {
		d := appendMillis(make([]byte, 0, 24), day*86400000)
		if len(d) != 24 {
			return appendMillis(b, ms) // a year past 9999: no fixed-width date to cache
		}
		copy(s.date[:], d[:11])
		s.day, s.ok = day, true
	}
	rem := ms % 86400000
	secs, frac := rem/1000, rem%1000
	b = append(b, s.date[:]...)
	b = append2(b, int(secs/3600))
	b = append(b, ':')
	b = append2(b, int(secs%3600/60))
	b = append(b, ':')
	b = append2(b, int(secs%60))
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10), 'Z')
}

// appendMillis appends ms (Unix milliseconds) as RFC 3339 UTC with three
// fraction digits. It is the hot path of the chat log, so it avoids
// time.Time.Format (which costs several times more per line).
func appendMillis(b []byte, ms int64) []byte {
	secs := ms / 1000
	frac := ms % 1000
	if frac < 0 {
		frac += 1000
		secs--
	}
	days := secs / 86400
	rem := secs % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civil(days)
	if y < 0 || y > 9999 {
		// Outside RFC 3339's four-digit years; let the slow path say something sane.
		return append(b, formatSlow(ms)...)
	}
	b = append4(b, int(y))
	b = append(b, '-')
	b = append2(b, m)
	b = append(b, '-')
	b = append2(b, d)
	b = append(b, 'T')
	b = append2(b, int(rem/3600))
	b = append(b, ':')
	b = append2(b, int(rem%3600/60))
	b = append(b, ':')
	b = append2(b, int(rem%60))
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10), 'Z')
	return b
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's days_from_civil inverse).
func civil(z int64) (y int64, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
func append4(b []byte, v int) []byte {
	return append(b, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
