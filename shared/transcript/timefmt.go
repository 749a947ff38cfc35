package transcript

// parseTime reads an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS, an optional
// fraction of any length, then Z or ±HH:MM) and returns Unix milliseconds,
// UTC. Digits past the millisecond are cut, not rounded; the cut happens
// before the offset is applied, which is exact because offsets are whole
// minutes. Lower-case t and z are accepted, as RFC 3339 allows; a space for
// the T, a leap second (:60) and instants that fall outside the years
// 0000-9999 once in UTC are refused, the latter because they cannot be
// written back as RFC 3339. It is hand-written because it sits on the hot
// path of every decoder, where time.Parse costs several times more.
func parseTime(s string) (int64, string) {
	if len(s) < 20 {
		return 0, "is not an RFC 3339 time"
	}
	year, ok1 := digits(s, 0, 4)
	month, ok2 := digits(s, 5, 2)
	day, ok3 := digits(s, 8, 2)
	hour, ok4 := digits(s, 11, 2)
	minute, ok5 := digits(s, 14, 2)
	sec, ok6 := digits(s, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || s[4] != '-' || s[7] != '-' ||
		(s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' {
		return 0, "is not an RFC 3339 time"
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || minute > 59 || sec > 59 {
		return 0, "is not a valid date and time"
	}
	j := 19
	var frac int64
	if s[j] == '.' {
		j++
		d := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if j-d < 3 {
				frac = frac*10 + int64(s[j]-'0')
			}
			j++
		}
		if j == d {
			return 0, "is not an RFC 3339 time"
		}
		for k := j - d; k < 3; k++ {
			frac *= 10
		}
	}
	if j >= len(s) {
		return 0, "has no time zone offset"
	}
	var offMin int64
	switch s[j] {
	case 'Z', 'z':
		j++
	case '+', '-':
		oh, ok1 := digits(s, j+1, 2)
		om, ok2 := digits(s, j+4, 2)
		if !ok1 || !ok2 || s[j+3] != ':' {
			return 0, "has a bad time zone offset"
		}
		if oh > 23 || om > 59 {
			return 0, "has a bad time zone offset"
		}
		offMin = int64(oh*60 + om)
		if s[j] == '-' {
			offMin = -offMin
		}
		j += 6
	default:
		return 0, "has no time zone offset"
	}
	if j != len(s) {
		return 0, "is not an RFC 3339 time"
	}
	days := daysFromCivil(int64(year), int64(month), int64(day))
	ms := (days*86400+int64(hour*3600+minute*60+sec))*1000 + frac - offMin*60000
	if !millisInRange(ms) {
		return 0, "is outside the years 0000-9999 in UTC"
	}
	return ms, ""
}

// digits reads n decimal digits at s[at:].
func digits(s string, at, n int) (int, bool) {
	if at < 0 || at+n > len(s) {
		return 0, false
	}
	v := 0
	for k := at; k < at+n; k++ {
		c := s[k]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil counts days from 1970-01-01 in the proleptic Gregorian
// calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
