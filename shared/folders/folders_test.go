package folders_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/folders"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseMerge(t *testing.T) {
	hel := mustZone(t, "Europe/Helsinki")
	d := folders.Defaults{Location: hel, Prices: map[string]float64{"sms": 0.05}}
	raw := `{
	  "*": {"timeZone": "UTC", "businessHours": {"mon": ["08:00-12:00", "13:00-17:00"]}, "holidays": ["2026-12-24"], "firstReplyTarget": "90s"},
	  "helpdesk": {"timeZone": "America/New_York", "holidays": [], "prices": {"web": 0}},
	  "sales": {"businessHours": null, "firstReplyTarget": "1m30s500ms", "holidays": ["2026-12-31", "2026-12-25", "2026-12-31"]},
	  "empty": {},
	  "nulls": null
	}`
	c, err := folders.Parse([]byte(raw), d)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Folders(); strings.Join(got, ",") != "empty,helpdesk,nulls,sales" {
		t.Errorf("Folders() = %v", got)
	}
	hd := c.For("helpdesk")
	if hd.Location.String() != "America/New_York" || len(hd.Holidays) != 0 || hd.FirstReplyTarget != 90*time.Second ||
		hd.Prices["web"] != 0 || len(hd.Prices) != 1 || hd.Hours == nil || len(hd.Hours[time.Monday]) != 2 {
		t.Errorf("helpdesk = %+v", hd)
	}
	s := c.For("sales")
	if s.Location != time.UTC || s.FirstReplyTarget != 90500*time.Millisecond || s.Hours == nil ||
		len(s.Holidays) != 2 || s.Holidays[0] != (folders.Date{Year: 2026, Month: 12, Day: 25}) || s.Prices["sms"] != 0.05 {
		t.Errorf("sales (null = not set here) = %+v", s)
	}
	if !s.IsHoliday(folders.Date{Year: 2026, Month: 12, Day: 31}) || s.IsHoliday(folders.Date{Year: 2026, Month: 12, Day: 24}) {
		t.Errorf("sales holidays replaced whole: %v", s.Holidays)
	}
	for _, f := range []string{"empty", "nulls", "other"} {
		o := c.For(f)
		if o.Location != time.UTC || o.FirstReplyTarget != 90*time.Second || !o.IsHoliday(folders.Date{Year: 2026, Month: 12, Day: 24}) || o.Hours == nil {
			t.Errorf("%s = %+v, want the \"*\" entry", f, o)
		}
	}

	// No FOLDERS: the defaults.
	c, err = folders.Parse(nil, d)
	if err != nil {
		t.Fatal(err)
	}
	o := c.For("x")
	if o.Location != hel || o.Hours != nil || o.FirstReplyTarget != time.Minute || o.Prices["sms"] != 0.05 || o.Holidays == nil {
		t.Errorf("defaults = %+v", o)
	}
	if o := (*folders.Config)(nil).For("x"); o.Location != time.UTC || o.FirstReplyTarget != time.Minute {
		t.Errorf("nil config = %+v", o)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want string // the error must contain this
	}{
		{`[]`, `FOLDERS: want a JSON object`},
		{`null`, `FOLDERS: want a JSON object`},
		{`{"a": {"timezone": "UTC"}}`, `FOLDERS["a"].timezone: unknown key`},
		{`{"a": {"timeZone": "UTC", "timeZone": "UTC"}}`, `duplicate object member name "timeZone" within "/a"`},
		{`{"a": {}, "a": {}}`, `FOLDERS: want a JSON object`},
		{`{"a b": {}}`, `FOLDERS["a b"]: not a folder code`},
		{`{"": {}}`, `FOLDERS[""]: not a folder code`},
		{`{"a": []}`, `FOLDERS["a"]: want a JSON object of settings`},
		{`{"a": {"timeZone": "Local"}}`, `FOLDERS["a"].timeZone: "Local" is not an IANA`},
		{`{"a": {"timeZone": "localtime"}}`, `FOLDERS["a"].timeZone`},
		{`{"a": {"timeZone": ""}}`, `FOLDERS["a"].timeZone`},
		{`{"a": {"timeZone": "+02:00"}}`, `FOLDERS["a"].timeZone: "+02:00" is an offset`},
		{`{"a": {"timeZone": "Mars/Olympus"}}`, `FOLDERS["a"].timeZone`},
		{`{"a": {"timeZone": 2}}`, `FOLDERS["a"].timeZone: want a string`},
		{`{"*": {"businessHours": {}}}`, `FOLDERS["*"].businessHours: has no opening range`},
		{`{"*": {"businessHours": {"sat": []}}}`, `FOLDERS["*"].businessHours: has no opening range`},
		{`{"*": {"businessHours": {"sat": null}}}`, `FOLDERS["*"].businessHours: has no opening range`},
		{`{"a": {"businessHours": {"Mon": ["08:00-12:00"]}}}`, `FOLDERS["a"].businessHours.Mon: unknown day`},
		{`{"a": {"businessHours": {"monday": ["08:00-12:00"]}}}`, `businessHours.monday: unknown day`},
		{`{"a": {"businessHours": {"mon": ["8:00-12:00"]}}}`, `FOLDERS["a"].businessHours.mon[0]: "8:00-12:00" is not a range`},
		{`{"a": {"businessHours": {"mon": ["12:00-08:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["08:00-08:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["22:00-02:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["08:00-24:01"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["24:00-24:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["08:60-09:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["08:00-25:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["+8:00-09:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["08:00 -9:00"]}}}`, `businessHours.mon[0]`},
		{`{"a": {"businessHours": {"mon": ["08:00-12:00", "11:59-13:00"]}}}`, `FOLDERS["a"].businessHours.mon: ranges 08:00-12:00 and 11:59-13:00 overlap`},
		{`{"a": {"businessHours": {"mon": "08:00-12:00"}}}`, `businessHours.mon: want an array`},
		{`{"a": {"businessHours": ["08:00-12:00"]}}`, `FOLDERS["a"].businessHours: want an object`},
		{`{"a": {"holidays": ["2026-02-30"]}}`, `FOLDERS["a"].holidays[0]: "2026-02-30" is not a real date`},
		{`{"a": {"holidays": ["2026-12-24", "2026-1-2"]}}`, `FOLDERS["a"].holidays[1]`},
		{`{"a": {"holidays": "2026-12-24"}}`, `FOLDERS["a"].holidays: want an array`},
		{`{"a": {"firstReplyTarget": "60"}}`, `FOLDERS["a"].firstReplyTarget: "60" is not`},
		{`{"a": {"firstReplyTarget": 60}}`, `FOLDERS["a"].firstReplyTarget: want a Go duration`},
		{`{"a": {"firstReplyTarget": "-1s"}}`, `FOLDERS["a"].firstReplyTarget`},
		{`{"a": {"prices": {"web": -1}}}`, `FOLDERS["a"].prices: price of channel "web" must be zero or more`},
		{`{"a": {"prices": {"web": "1"}}}`, `FOLDERS["a"].prices: want a JSON object`},
		{`{"a": {"prices": [1]}}`, `FOLDERS["a"].prices`},
		{"{\"a\": {\"prices\": {\"w\xffb\": 1}}}", `FOLDERS: want a JSON object`},
		// Every entry is checked, used or not.
		{`{"unused": {"timeZone": "Nowhere/Town"}, "*": {}}`, `FOLDERS["unused"].timeZone`},
	} {
		_, err := folders.Parse([]byte(tc.raw), folders.Defaults{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tc.raw, err, tc.want)
		}
	}
}

func TestParseGoodEdges(t *testing.T) {
	for _, raw := range []string{
		`{}`,
		`{"*": {"businessHours": {"mon": ["00:00-24:00"]}}}`,
		`{"*": {"businessHours": {"mon": ["08:00-12:00", "12:00-13:00"], "tue": [], "sun": null}}}`, // touching ranges
		`{"*": {"timeZone": "Etc/GMT+2", "firstReplyTarget": "0s", "holidays": ["2028-02-29"]}}`,
		`{"x_1-Y": {"timeZone": "UTC"}}`,
		`{"a": {"timeZone": null, "businessHours": null, "holidays": null, "firstReplyTarget": null, "prices": null}}`,
	} {
		if _, err := folders.Parse([]byte(raw), folders.Defaults{}); err != nil {
			t.Errorf("Parse(%s): %v", raw, err)
		}
	}
}

func TestParseEntry(t *testing.T) {
	s, err := folders.ParseEntry([]byte(`{"timeZone": "Europe/Helsinki", "businessHours": {"fri": ["09:00-17:00"]}, "firstReplyTarget": "2m"}`),
		folders.Defaults{Prices: map[string]float64{"sms": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Location.String() != "Europe/Helsinki" || s.FirstReplyTarget != 2*time.Minute || s.Hours[time.Friday][0] != (folders.Range{From: 540, To: 1020}) || s.Prices["sms"] != 1 {
		t.Errorf("entry = %+v", s)
	}
	_, err = folders.ParseEntry([]byte(`{"holiday": []}`), folders.Defaults{})
	if err == nil || !strings.Contains(err.Error(), `FOLDERS["entry"].holiday: unknown key`) {
		t.Errorf("err = %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"REPORT_TIMEZONE": "Europe/Helsinki", "PRICES": `{"sms": 0.1}`, "FOLDERS": `{"a": {"timeZone": "UTC"}}`}
	c, err := folders.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.For("a").Location != time.UTC || c.For("b").Location.String() != "Europe/Helsinki" || c.For("a").Prices["sms"] != 0.1 {
		t.Errorf("FromEnv: a=%+v b=%+v", c.For("a"), c.For("b"))
	}
	for k, v := range map[string]string{"REPORT_TIMEZONE": "Local", "PRICES": `{"sms": -1}`, "FOLDERS": `{"a": {"x": 1}}`} {
		bad := map[string]string{k: v}
		if _, err := folders.FromEnv(func(k string) string { return bad[k] }); err == nil || !strings.HasPrefix(err.Error(), k) {
			t.Errorf("%s=%s: err = %v, want it named", k, v, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"*": {"timeZone": "UTC", "businessHours": {"mon": ["08:00-12:00", "13:00-17:00"]}, "holidays": ["2026-12-24"], "firstReplyTarget": "90s", "prices": {"web": 0.5}}, "a": {"timeZone": "Europe/Helsinki"}}`))
	f.Add([]byte(`{"a": {"businessHours": {"sun": ["00:00-24:00"], "sat": null}}}`))
	f.Add([]byte(`{"a": null, "b": {}}`))
	f.Add([]byte(`{"a": {"holidays": ["2026-02-29"]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := folders.Parse(raw, folders.Defaults{})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "FOLDERS") {
				t.Fatalf("error %q does not name FOLDERS", err)
			}
			return
		}
		for _, f := range append(c.Folders(), "*other*") {
			s := c.For(f)
			if s == nil || s.Location == nil || s.FirstReplyTarget < 0 || s.Prices == nil {
				t.Fatalf("%s: %+v", f, s)
			}
			if s.Hours != nil {
				n := 0
				for _, day := range s.Hours {
					for i, r := range day {
						n++
						if r.From < 0 || r.To > 1440 || r.From >= r.To || i > 0 && r.From < day[i-1].To {
							t.Fatalf("%s: bad range %v", f, day)
						}
					}
				}
				if n == 0 {
					t.Fatalf("%s: business hours without a range", f)
				}
				// A week of business time never exceeds the calendar week.
				a := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC).UnixMilli()
				if bt := s.BusinessMs(a, a+7*86400000); bt < 0 || bt > 7*86400000+3600000 {
					t.Fatalf("%s: business time of a week %d", f, bt)
				}
			}
		}
		_, _ = folders.ParseEntry(raw, folders.Defaults{})
	})
}

func TestFingerprint(t *testing.T) {
	c, err := folders.Parse([]byte(`{"*": {"businessHours": {"mon": ["08:00-12:00"]}}, "a": {"prices": {"web": 1}}, "b": {"holidays": ["2026-12-24"]}, "c": {"firstReplyTarget": "61s"}, "d": {"businessHours": {"mon": ["08:00-12:01"]}}, "e": {"timeZone": "Europe/Helsinki"}}`), folders.Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	star := c.For("other").Fingerprint()
	if c.For("a").Fingerprint() != star {
		t.Errorf("prices changed the fingerprint")
	}
	seen := map[string]string{}
	for _, f := range []string{"other", "b", "c", "d", "e"} {
		fp := c.For(f).Fingerprint()
		if prev, dup := seen[fp]; dup {
			t.Errorf("%s and %s share fingerprint %s", f, prev, fp)
		}
		seen[fp] = f
	}
	if (*folders.Settings)(nil).Fingerprint() != "" {
		t.Error("nil settings")
	}
}
