// Package folders reads FOLDERS, the per-folder settings of analytics.md
// (time zone, business hours, holidays, first-reply target, prices), and
// answers what a folder's local clock says about an instant: open or not.
package folders

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/strictjson"
)

// DefaultFirstReplyTarget is the service-level target when none is set.
const DefaultFirstReplyTarget = 60 * time.Second

// Range is one opening range of a day, in minutes after local midnight:
// [From, To), with To at most 1440 (24:00).
type Range struct{ From, To int }

// Week holds the opening ranges of each weekday, indexed by time.Weekday
// (Sunday = 0), sorted by From and never overlapping. A day with no range is
// closed.
type Week [7][]Range

// Date is a local calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// dayNumber is the number of days from 1970-01-01 to d (negative before).
func (d Date) dayNumber() int64 {
	return floorDiv(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix(), 86400)
}

// Settings are the effective settings of one folder: its FOLDERS entry
// merged over "*" and the defaults. A Settings is shared by every card of the
// folder and must not be changed after Parse returns it.
type Settings struct {
	// Location is the folder's time zone (never time.Local).
	Location *time.Location
	// Hours is nil when the folder has no business hours; then there are
	// no business-hours figures.
	Hours *Week
	// Holidays are local dates closed all day, sorted, without repeats.
	Holidays []Date
	// FirstReplyTarget is the service-level target of the first reply.
	FirstReplyTarget time.Duration
	// Prices maps a channel to the price of one paid message.
	Prices map[string]float64

	holidays map[int64]struct{} // day numbers of Holidays
}

// Defaults are what a key left unset everywhere takes: REPORT_TIMEZONE (else
// UTC) and PRICES.
type Defaults struct {
	Location *time.Location
	Prices   map[string]float64
}

// Config is a parsed FOLDERS: one Settings per named folder, and the one for
// every other folder.
type Config struct {
	def      *Settings
	byFolder map[string]*Settings
}

// For returns the settings of folder: its own entry merged over "*", or
// "*" (else the defaults) when FOLDERS does not name it. Never nil.
func (c *Config) For(folder string) *Settings {
	if c == nil {
		return defaultSettings(Defaults{})
	}
	if s, ok := c.byFolder[folder]; ok {
		return s
	}
	return c.def
}

// Folders lists the folder codes FOLDERS names, sorted ("*" not included).
func (c *Config) Folders() []string {
	if c == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(c.byFolder))
}

// entry is one FOLDERS entry as written: a nil field is "not set here".
type entry struct {
	location *time.Location
	hours    *Week
	holidays []Date
	hasHol   bool // holidays set (possibly to [])
	target   *time.Duration
	prices   map[string]float64
}

var keys = []string{"timeZone", "businessHours", "holidays", "firstReplyTarget", "prices"}

// Error is a bad FOLDERS value: Whole for the setting as a whole, else the
// entry of Folder ("*" for the default entry), Key the entry's key ("" for
// the entry itself).
type Error struct {
	Whole            bool
	Folder, Key, Msg string
}

func (e *Error) Error() string {
	switch {
	case e.Whole:
		return "FOLDERS: " + e.Msg
	case e.Key == "":
		return fmt.Sprintf("FOLDERS[%q]: %s", e.Folder, e.Msg)
	}
	return fmt.Sprintf("FOLDERS[%q].%s: %s", e.Folder, e.Key, e.Msg)
}

// Parse reads FOLDERS (raw, a JSON object of folder code or "*" to entry)
// strictly, checks every entry, used or not, and merges each folder's entry
// over "*" and d. An empty raw is no FOLDERS at all: every folder takes d.
func Parse(raw []byte, d Defaults) (*Config, error) {
	c := &Config{byFolder: map[string]*Settings{}}
	if len(bytes.TrimSpace(raw)) == 0 {
		c.def = defaultSettings(d)
		return c, nil
	}
	var top map[string]jsontext.Value
	if err := strictjson.Unmarshal(raw, &top); err != nil {
		return nil, &Error{Whole: true, Msg: "want a JSON object of folder code (or \"*\") to settings: " + err.Error()}
	}
	if top == nil {
		return nil, &Error{Whole: true, Msg: "want a JSON object of folder code (or \"*\") to settings, not null"}
	}
	entries := make(map[string]*entry, len(top))
	for _, folder := range slices.Sorted(maps.Keys(top)) {
		if folder != "*" && !ValidFolder(folder) {
			return nil, &Error{Folder: folder, Msg: "not a folder code (1 to 64 characters of A-Z a-z 0-9 _ -) or \"*\""}
		}
		e, err := parseEntry(folder, top[folder])
		if err != nil {
			return nil, err
		}
		entries[folder] = e
	}
	star := entries["*"]
	c.def = merge(d, star, nil)
	for folder, e := range entries {
		if folder != "*" {
			c.byFolder[folder] = merge(d, star, e)
		}
	}
	return c, nil
}

// ParseEntry reads the JSON of ONE FOLDERS entry (as `chatcards stats
// -settings FILE` takes it) and merges it over d.
func ParseEntry(raw []byte, d Defaults) (*Settings, error) {
	e, err := parseEntry("", jsontext.Value(raw))
	if err != nil {
		return nil, err
	}
	return merge(d, nil, e), nil
}

// FromEnv reads REPORT_TIMEZONE, PRICES and FOLDERS; an error names the bad
// variable (and, for FOLDERS, the folder and key).
func FromEnv(getenv func(string) string) (*Config, error) {
	d := Defaults{Location: time.UTC}
	if tz := getenv("REPORT_TIMEZONE"); tz != "" {
		loc, err := LoadZone(tz)
		if err != nil {
			return nil, fmt.Errorf("REPORT_TIMEZONE: %w", err)
		}
		d.Location = loc
	}
	if v := getenv("PRICES"); v != "" {
		p, err := ParsePrices([]byte(v))
		if err != nil {
			return nil, fmt.Errorf("PRICES: %w", err)
		}
		d.Prices = p
	}
	return Parse([]byte(getenv("FOLDERS")), d)
}

func defaultSettings(d Defaults) *Settings {
	return merge(d, nil, nil)
}

// merge builds the effective settings: e over star over d, key by key.
func merge(d Defaults, star, e *entry) *Settings {
	s := &Settings{Location: d.Location, FirstReplyTarget: DefaultFirstReplyTarget, Prices: d.Prices, Holidays: []Date{}}
	if s.Location == nil {
		s.Location = time.UTC
	}
	for _, x := range []*entry{star, e} {
		if x == nil {
			continue
		}
		if x.location != nil {
			s.Location = x.location
		}
		if x.hours != nil {
			s.Hours = x.hours
		}
		if x.hasHol {
			s.Holidays = x.holidays
		}
		if x.target != nil {
			s.FirstReplyTarget = *x.target
		}
		if x.prices != nil {
			s.Prices = x.prices
		}
	}
	if s.Prices == nil {
		s.Prices = map[string]float64{}
	}
	s.holidays = make(map[int64]struct{}, len(s.Holidays))
	for _, h := range s.Holidays {
		s.holidays[h.dayNumber()] = struct{}{}
	}
	return s
}

func isNull(v jsontext.Value) bool { return string(bytes.TrimSpace(v)) == "null" }

func parseEntry(folder string, raw jsontext.Value) (*entry, error) {
	fail := func(key, format string, args ...any) error {
		f := folder
		if f == "" {
			f = "entry"
		}
		return &Error{Folder: f, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	var m map[string]jsontext.Value
	if err := strictjson.Unmarshal(raw, &m); err != nil {
		return nil, fail("", "want a JSON object of settings: %v", err)
	}
	if m == nil {
		// null as an entry: nothing set here, like {}.
		return &entry{}, nil
	}
	e := &entry{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(keys, k) {
			return nil, fail(k, "unknown key (want %s)", strings.Join(keys, ", "))
		}
	}
	if v, ok := m["timeZone"]; ok && !isNull(v) {
		var name string
		if err := strictjson.Unmarshal(v, &name); err != nil {
			return nil, fail("timeZone", "want a string")
		}
		loc, err := LoadZone(name)
		if err != nil {
			return nil, fail("timeZone", "%v", err)
		}
		e.location = loc
	}
	if v, ok := m["businessHours"]; ok && !isNull(v) {
		w, err := parseWeek(v)
		if err != nil {
			return nil, fail("businessHours"+err.key, "%s", err.msg)
		}
		e.hours = w
	}
	if v, ok := m["holidays"]; ok && !isNull(v) {
		var list []string
		if err := strictjson.Unmarshal(v, &list); err != nil {
			return nil, fail("holidays", "want an array of dates YYYY-MM-DD")
		}
		hs := make([]Date, 0, len(list))
		for i, h := range list {
			t, err := time.Parse(time.DateOnly, h)
			if err != nil || len(h) != len(time.DateOnly) {
				return nil, fail(fmt.Sprintf("holidays[%d]", i), "%q is not a real date YYYY-MM-DD", h)
			}
			hs = append(hs, Date{t.Year(), t.Month(), t.Day()})
		}
		slices.SortFunc(hs, func(a, b Date) int { return int(a.dayNumber() - b.dayNumber()) })
		e.holidays, e.hasHol = slices.Compact(hs), true
	}
	if v, ok := m["firstReplyTarget"]; ok && !isNull(v) {
		var s string
		if err := strictjson.Unmarshal(v, &s); err != nil {
			return nil, fail("firstReplyTarget", "want a Go duration string such as \"60s\"")
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fail("firstReplyTarget", "%q is not a non-negative Go duration such as \"60s\" or \"1m30s\"", s)
		}
		e.target = &d
	}
	if v, ok := m["prices"]; ok && !isNull(v) {
		p, err := ParsePrices(v)
		if err != nil {
			return nil, fail("prices", "%v", err)
		}
		e.prices = p
	}
	return e, nil
}

// LoadZone loads a tz-database zone by name, refusing what is not one: "",
// "Local", "localtime" and offsets (time.LoadLocation accepts "" and
// "Local" as UTC and the machine's zone).
func LoadZone(name string) (*time.Location, error) {
	switch name {
	case "", "Local", "localtime":
		return nil, fmt.Errorf("%q is not an IANA time zone name", name)
	}
	if strings.ContainsAny(name[:1], "+-0123456789") || strings.Contains(name, ":") {
		// time.LoadLocation would refuse these too; the message says why.
		return nil, fmt.Errorf("%q is an offset, not an IANA time zone name", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone name", name)
	}
	return loc, nil
}

// ParsePrices reads an object of channel → non-negative price per paid
// message (PRICES, or a FOLDERS entry's prices), strictly.
func ParsePrices(raw []byte) (map[string]float64, error) {
	var m map[string]float64
	if err := strictjson.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("want a JSON object of channel to price per message (a number)")
	}
	if m == nil {
		return nil, errors.New("want a JSON object of channel to price per message, not null")
	}
	for _, ch := range slices.Sorted(maps.Keys(m)) {
		if p := m[ch]; p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("price of channel %q must be zero or more", ch)
		}
	}
	return m, nil
}

var dayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

type weekError struct{ key, msg string }

func parseWeek(raw jsontext.Value) (*Week, *weekError) {
	var m map[string]jsontext.Value
	if err := strictjson.Unmarshal(raw, &m); err != nil {
		return nil, &weekError{"", `want an object of weekday ("mon" … "sun") to ranges ["HH:MM-HH:MM", …]`}
	}
	var w Week
	any := false
	for _, k := range slices.Sorted(maps.Keys(m)) {
		day := slices.Index(dayKeys[:], k)
		if day < 0 {
			return nil, &weekError{"." + k, "unknown day (want mon, tue, wed, thu, fri, sat, sun)"}
		}
		if isNull(m[k]) {
			continue
		}
		var list []string
		if err := strictjson.Unmarshal(m[k], &list); err != nil {
			return nil, &weekError{"." + k, `want an array of ranges "HH:MM-HH:MM"`}
		}
		rs := make([]Range, 0, len(list))
		for i, s := range list {
			r, ok := parseRange(s)
			if !ok {
				return nil, &weekError{fmt.Sprintf(".%s[%d]", k, i), fmt.Sprintf("%q is not a range HH:MM-HH:MM with start before end (end at most 24:00)", s)}
			}
			rs = append(rs, r)
		}
		slices.SortFunc(rs, func(a, b Range) int { return a.From - b.From })
		for i := 1; i < len(rs); i++ {
			if rs[i].From < rs[i-1].To {
				return nil, &weekError{"." + k, fmt.Sprintf("ranges %s and %s overlap", rs[i-1], rs[i])}
			}
		}
		if len(rs) > 0 {
			any = true
		}
		w[day] = rs
	}
	if !any {
		return nil, &weekError{"", "has no opening range at all (leave businessHours out for none)"}
	}
	return &w, nil
}

func (r Range) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", r.From/60, r.From%60, r.To/60, r.To%60)
}

// parseRange reads "HH:MM-HH:MM": start 00:00–23:59, end up to 24:00, start
// before end.
func parseRange(s string) (Range, bool) {
	if len(s) != 11 || s[5] != '-' {
		return Range{}, false
	}
	from, ok1 := clock(s[:5])
	to, ok2 := clock(s[6:])
	if !ok1 || !ok2 || from >= to || to > 1440 {
		return Range{}, false
	}
	return Range{from, to}, true
}

func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] < '0' || s[0] > '9' || s[3] < '0' || s[3] > '9' || h < 0 || m < 0 || m > 59 || h > 24 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}

// ValidFolder is the folder-code rule (1–64 characters of A-Z a-z 0-9 _ -),
// shared by the API, the stores and FOLDERS (card.ValidFolder is this).
func ValidFolder(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Fingerprint is a canonical text of the settings that change a card's
// figures (zone, business hours, holidays, target), for a cache key such as
// the sync's "nothing changed" hash: equal settings give equal text. Prices
// are left out: no card figure depends on them.
func (s *Settings) Fingerprint() string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "tz=%s;target=%d;hours=", s.Location, int64(s.FirstReplyTarget))
	if s.Hours != nil {
		for wd, day := range s.Hours {
			fmt.Fprintf(&b, "%s%v", dayKeys[wd], day)
		}
	}
	b.WriteString(";holidays=")
	for _, h := range s.Holidays {
		b.WriteString(h.String() + ",")
	}
	return b.String()
}
