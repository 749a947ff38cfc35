package reference_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/stats/reference"
	"github.com/chatcards/chatcards/shared/transcript"
)

var (
	maxFail = flag.Int("reference.maxfail", 1, "mismatches to report (each minimised) before stopping")
	count   = flag.Int("reference.n", 4000, "random transcripts to compare")
	seed    = flag.Uint64("reference.seed", 20261120, "seed of the random transcripts")
)

// folderEntries are FOLDERS entries whose opening ranges and holidays cut
// through the generated sessions (2026-11-20 from 09:00 UTC, a Friday,
// running into the weekend): minute-wide gaps, a holiday, whole days.
var folderEntries = []string{
	`{"timeZone": "Europe/Helsinki", "businessHours": {"fri": ["08:00-11:02", "11:03-11:30", "12:00-17:00"], "sat": ["10:00-24:00"], "mon": ["00:00-24:00"]}, "holidays": ["2026-11-21"], "firstReplyTarget": "45s"}`,
	`{"timeZone": "America/New_York", "businessHours": {"fri": ["04:01-04:02", "04:05-04:30", "05:00-24:00"], "sat": ["00:00-24:00"]}, "firstReplyTarget": "0s"}`,
	`{"timeZone": "UTC", "businessHours": {"fri": ["09:00-09:03", "09:05-09:30", "10:00-24:00"], "sat": ["00:00-01:00"]}, "firstReplyTarget": "1m30s"}`,
	`{"timeZone": "Asia/Kolkata", "firstReplyTarget": "10s"}`, // no business hours
}

func mustEntry(raw string) *folders.Settings {
	f, err := folders.ParseEntry([]byte(raw), folders.Defaults{})
	if err != nil {
		panic(err)
	}
	return f
}

var settingsList = func() []stats.Settings {
	var out []stats.Settings
	for _, m := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
		out = append(out,
			stats.Settings{Mode: m, IdleThreshold: 120 * time.Second, AsyncIdleThreshold: time.Hour},
			stats.Settings{Mode: m, IdleThreshold: 10 * time.Second, AsyncIdleThreshold: 10 * time.Minute},
		)
	}
	for i, raw := range folderEntries {
		out = append(out, stats.Settings{Mode: stats.Mode(i % 3), IdleThreshold: 120 * time.Second, AsyncIdleThreshold: time.Hour, Folder: mustEntry(raw)})
	}
	return out
}()

// clone deep-copies a transcript so that Normalize and a minimiser can
// work on copies.
func clone(t *transcript.Transcript) *transcript.Transcript {
	c := *t
	c.Participants = append([]transcript.Participant(nil), t.Participants...)
	c.Events = make([]transcript.Event, len(t.Events))
	for i, e := range t.Events {
		if e.File != nil {
			f := *e.File
			e.File = &f
		}
		c.Events[i] = e
	}
	c.Warnings = nil
	return &c
}

// mismatch computes both engines on a normalised copy of t and returns the
// first differing settings and diff ("" when they agree).
func mismatch(t *transcript.Transcript, attached []string) (stats.Settings, string) {
	return mismatchIn(settingsList, t, attached)
}

func mismatchIn(list []stats.Settings, t *transcript.Transcript, attached []string) (stats.Settings, string) {
	n := clone(t)
	if err := n.Normalize(); err != nil {
		return stats.Settings{}, ""
	}
	for _, s := range list {
		want := reference.Compute(n, s, attached)
		got := stats.Compute(n, s, attached)
		if d := cmp.Diff(want, got); d != "" {
			return s, d
		}
	}
	return stats.Settings{}, ""
}

// minimise drops events and unused participants while the mismatch stays.
func minimise(t *transcript.Transcript, attached []string) *transcript.Transcript {
	cur := clone(t)
	for changed := true; changed; {
		changed = false
		for i := len(cur.Events) - 1; i >= 0; i-- {
			try := clone(cur)
			try.Events = append(try.Events[:i], try.Events[i+1:]...)
			if _, d := mismatch(try, attached); d != "" {
				cur, changed = try, true
			}
		}
		for i := len(cur.Participants) - 1; i >= 0 && len(cur.Participants) > 1; i-- {
			used := false
			for _, e := range cur.Events {
				used = used || e.Participant == cur.Participants[i].ID
			}
			if used {
				continue
			}
			try := clone(cur)
			try.Participants = append(try.Participants[:i], try.Participants[i+1:]...)
			if _, d := mismatch(try, attached); d != "" {
				cur, changed = try, true
			}
		}
	}
	return cur
}

type checker struct {
	t     *testing.T
	fails int
	runs  int
}

func (c *checker) check(name string, t *transcript.Transcript, attached []string) bool {
	c.runs++
	s, d := mismatch(t, attached)
	if d == "" {
		return true
	}
	c.fails++
	full, _ := transcript.Encode(t)
	m := minimise(t, attached)
	ms, md := mismatch(m, attached)
	small, _ := transcript.Encode(m)
	c.t.Errorf("%s: reference (-) and production (+) disagree, mode %v idle %v async idle %v, attached %q\ntranscript:\n%s\ndiff:\n%s\nminimised transcript (mode %v idle %v):\n%s\nminimised diff:\n%s",
		name, s.Mode, s.IdleThreshold, s.AsyncIdleThreshold, attached, full, d, ms.Mode, ms.IdleThreshold, small, md)
	return c.fails < *maxFail
}

// Generator of odd but valid transcripts.

var texts = []string{"hi", "héllo wörld", "日本語のテキスト", "😀 ok", "a", "Still waiting…", "x\u0301y"}
var files = []transcript.File{{Name: "a.png", ContentType: "image/png", Size: 10}, {Name: "b.txt", ContentType: "text/plain"}}
var persons = []string{"", "", "person/1", "person/2", "person/3"}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randParticipants(r *rand.Rand) []transcript.Participant {
	var ps []transcript.Participant
	add := func(prefix string, role transcript.Role, vis transcript.Visibility) {
		p := transcript.Participant{ID: fmt.Sprintf("%s%d", prefix, len(ps)), Role: role, Visibility: vis, Person: pick(r, persons)}
		if r.IntN(4) > 0 {
			p.Name = "N" + p.ID
		}
		ps = append(ps, p)
	}
	for range pick(r, []int{0, 1, 1, 1, 2, 3}) {
		add("c", transcript.RoleCustomer, transcript.VisibilityAll)
	}
	for range pick(r, []int{0, 1, 1, 2}) {
		add("b", transcript.RoleBot, transcript.VisibilityAll)
	}
	for range pick(r, []int{0, 1, 2, 2, 3, 4}) {
		role := pick(r, []transcript.Role{transcript.RoleAgent, transcript.RoleAgent, transcript.RoleSupervisor})
		vis := pick(r, []transcript.Visibility{transcript.VisibilityAll, transcript.VisibilityAll, transcript.VisibilityAll, transcript.VisibilityCoach, transcript.VisibilityMonitor})
		add("a", role, vis)
	}
	if r.IntN(3) == 0 {
		add("s", transcript.RoleSystem, transcript.VisibilityAll)
	}
	if len(ps) == 0 {
		add("c", transcript.RoleCustomer, transcript.VisibilityAll)
	}
	// Shuffle so that the first customer is not always first.
	r.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	return ps
}

func randTranscript(r *rand.Rand, n int, i int) *transcript.Transcript {
	t := &transcript.Transcript{
		Version:      1,
		SessionID:    fmt.Sprintf("s-%d", i),
		Async:        r.IntN(3) == 0,
		Participants: randParticipants(r),
	}
	if r.IntN(2) == 0 {
		t.Tenant = "helpdesk"
	}
	if r.IntN(2) == 0 {
		t.Channel = "web"
	}
	if r.IntN(2) == 0 {
		t.Language = "fi"
	}
	ps := t.Participants
	anyP := func() string { return pick(r, ps).ID }
	optP := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		return anyP()
	}
	byRole := func(roles ...transcript.Role) string {
		var ids []string
		for _, p := range ps {
			for _, ro := range roles {
				if p.Role == ro {
					ids = append(ids, p.ID)
				}
			}
		}
		if len(ids) == 0 {
			return anyP()
		}
		return pick(r, ids)
	}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli() + r.Int64N(1000)
	step := func() {
		if r.IntN(10) < 3 {
			return // same instant
		}
		switch r.IntN(12) {
		case 10, 11:
			// exactly a threshold, to probe "longer than"
			at += pick(r, []int64{10_000, 120_000, 600_000, 3_600_000, 1500})
		case 0, 1, 2:
			at += 1 + r.Int64N(999)
		case 3, 4, 5, 6, 7:
			at += 1000 + r.Int64N(200_000)
		default:
			at += 60_000 + r.Int64N(7_200_000)
		}
	}
	if r.IntN(4) > 0 {
		t.Events = append(t.Events, transcript.Event{At: at, Type: transcript.EventStarted})
	}
	for len(t.Events) < n {
		step()
		e := transcript.Event{At: at}
		switch k := r.IntN(100); {
		case k < 30:
			e.Type = transcript.EventMessage
			e.Participant = pick(r, []string{anyP(), byRole(transcript.RoleCustomer), byRole(transcript.RoleAgent, transcript.RoleSupervisor)})
			e.Text = pick(r, texts)
			e.Automatic = r.IntN(6) == 0
		case k < 36:
			e.Type = transcript.EventAttachment
			e.Participant = anyP()
			f := pick(r, files)
			e.File = &f
			e.Automatic = r.IntN(6) == 0
		case k < 50:
			e.Type = transcript.EventJoined
			e.Participant = pick(r, []string{anyP(), byRole(transcript.RoleAgent, transcript.RoleSupervisor)})
		case k < 60:
			e.Type = transcript.EventLeft
			e.Participant = pick(r, []string{anyP(), byRole(transcript.RoleAgent, transcript.RoleSupervisor), byRole(transcript.RoleCustomer)})
			e.Reason = pick(r, []string{"", "quit", "disconnect"})
		case k < 65:
			// a redirect: one agent leaves, another joins, at one instant
			t.Events = append(t.Events, transcript.Event{At: at, Type: transcript.EventLeft, Participant: byRole(transcript.RoleAgent, transcript.RoleSupervisor)})
			e.Type = transcript.EventJoined
			e.Participant = byRole(transcript.RoleAgent, transcript.RoleSupervisor)
		case k < 69:
			e.Type = transcript.EventHandoff
		case k < 72:
			e.Type = transcript.EventTicket
			e.Participant = optP()
			e.Ticket = pick(r, []string{"INC-1", "INC-2", "INC-3"})
		case k < 75:
			e.Type = transcript.EventMarker
			e.Marker = pick(r, []string{"vpn", "faq", "vpn2"})
		case k < 78:
			e.Type = transcript.EventPage
			e.URL = pick(r, []string{"https://x/1", "https://x/2"})
		case k < 84:
			e.Type = transcript.EventDormant
		case k < 88:
			e.Type = transcript.EventResumed
		case k < 91:
			e.Type = transcript.EventEnded
			e.Participant = optP()
			e.Reason = pick(r, []string{"", "quit", "disconnect", "force", "inactive", "error"})
		case k < 95:
			e.Type = transcript.EventStarted
		default:
			e.Type = transcript.EventUnknown
			e.RawType = pick(r, []string{"typing", "read"})
			e.Participant = optP()
		}
		// Now and then, name a participant on an event that has none.
		if e.Participant == "" && e.Type != transcript.EventEnded && e.Type != transcript.EventTicket && r.IntN(8) == 0 {
			e.Participant = anyP()
		}
		t.Events = append(t.Events, e)
	}
	if len(t.Events) > n {
		t.Events = t.Events[:n]
	}
	if n > 0 && r.IntN(3) == 0 {
		step()
		t.Events = append(t.Events, transcript.Event{At: at, Type: transcript.EventEnded, Participant: optP(),
			Reason: pick(r, []string{"", "quit", "force", "inactive"})})
	}
	// Sometimes feed events out of order: Normalize sorts them stably.
	if len(t.Events) > 2 && r.IntN(5) == 0 {
		i := r.IntN(len(t.Events) - 1)
		t.Events[i], t.Events[i+1] = t.Events[i+1], t.Events[i]
	}
	return t
}

func randAttached(r *rand.Rand) []string {
	return pick(r, [][]string{nil, nil, {"INC-1"}, {"INC-9", "INC-2", "INC-9"}})
}

func TestDiffRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 42))
	c := &checker{t: t}
	total := *count
	if testing.Short() {
		total = min(total, 800)
	}
	for i := 0; i < total; i++ {
		n := i % 81
		tr := randTranscript(r, n, i)
		if err := clone(tr).Normalize(); err != nil {
			t.Fatalf("generated transcript %d is invalid: %v", i, err)
		}
		if !c.check(fmt.Sprintf("random #%d", i), tr, randAttached(r)) {
			return
		}
	}
	t.Logf("%d random transcripts compared", c.runs)
}

func TestDiffPlatform(t *testing.T) {
	c := &checker{t: t}
	for i, tr := range platform.Generate(platform.GenerateOptions{N: 300, Seed: 5}) {
		if !c.check(fmt.Sprintf("platform #%d (%s)", i, tr.SessionID), tr, nil) {
			return
		}
	}
}

// TestDiffEmpty covers the transcript with no events (only unknown ones).
func TestDiffEmpty(t *testing.T) {
	c := &checker{t: t}
	ps := []transcript.Participant{{ID: "c1", Role: transcript.RoleCustomer}, {ID: "a1", Role: transcript.RoleAgent}}
	c.check("no events", &transcript.Transcript{Version: 1, SessionID: "e", Participants: ps}, nil)
	c.check("unknown only", &transcript.Transcript{Version: 1, SessionID: "e", Participants: ps,
		Events: []transcript.Event{{At: 1000, Type: transcript.EventUnknown, RawType: "typing"}}}, []string{"INC-1"})
}

// withRatings inserts up to three rating events anywhere, also before the
// start and after the end, so that rules 4 and 5 are compared too.
func withRatings(r *rand.Rand, t *transcript.Transcript) *transcript.Transcript {
	c := clone(t)
	for range r.IntN(4) {
		e := transcript.Event{Type: transcript.EventRating, Score: 1 + r.IntN(5)}
		if r.IntN(2) == 0 {
			e.Comment = pick(r, []string{"great", "slow", "ok then"})
		}
		if r.IntN(2) == 0 {
			e.Participant = pick(r, c.Participants).ID
		}
		i := r.IntN(len(c.Events) + 1)
		switch {
		case len(c.Events) == 0:
			e.At = 1000
		case i == len(c.Events):
			e.At = c.Events[i-1].At + r.Int64N(100_000)
		default:
			e.At = c.Events[i].At - r.Int64N(2)*r.Int64N(100_000)
		}
		c.Events = slices.Insert(c.Events, i, e)
	}
	return c
}

// TestDiffAnalytics compares the figures of analytics.md: transcripts with
// ratings, under every folder entry.
func TestDiffAnalytics(t *testing.T) {
	r := rand.New(rand.NewPCG(*seed, 7))
	c := &checker{t: t}
	total := *count / 2
	if testing.Short() {
		total = min(total, 400)
	}
	for i := 0; i < total; i++ {
		tr := withRatings(r, randTranscript(r, i%81, i))
		if !c.check(fmt.Sprintf("rated #%d", i), tr, nil) {
			return
		}
	}
}

// TestDiffClockChanges moves generated sessions onto both daylight-saving
// changes of Europe/Helsinki and America/New_York, under opening ranges that
// the change skips or repeats.
func TestDiffClockChanges(t *testing.T) {
	zones := []struct {
		entry string
		at    []string // a few hours before each change
	}{
		{`{"timeZone": "Europe/Helsinki", "businessHours": {"sun": ["00:00-03:30", "03:45-04:15", "05:00-24:00"], "sat": ["23:00-24:00"], "mon": ["00:00-00:01", "08:00-17:00"]}, "holidays": ["2027-03-29"], "firstReplyTarget": "30s"}`,
			[]string{"2026-03-28T21:00:00Z", "2026-10-24T22:30:00Z"}},
		{`{"timeZone": "America/New_York", "businessHours": {"sun": ["01:00-01:30", "01:45-02:30", "03:00-24:00"], "sat": ["22:00-24:00"]}, "firstReplyTarget": "2m"}`,
			[]string{"2026-03-08T05:00:00Z", "2026-11-01T04:30:00Z"}},
	}
	r := rand.New(rand.NewPCG(*seed, 9))
	c := &checker{t: t}
	base := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC).UnixMilli() // randTranscript's
	total := *count / 4
	if testing.Short() {
		total = min(total, 200)
	}
	for _, z := range zones {
		f := mustEntry(z.entry)
		list := []stats.Settings{{Mode: stats.ModeFired, IdleThreshold: 120 * time.Second, AsyncIdleThreshold: time.Hour, Folder: f}}
		for _, at := range z.at {
			to, _ := time.Parse(time.RFC3339, at)
			shift := to.UnixMilli() - base
			for i := 0; i < total; i++ {
				tr := withRatings(r, randTranscript(r, i%81, i))
				for k := range tr.Events {
					tr.Events[k].At += shift + r.Int64N(2)*r.Int64N(3_600_000)/int64(len(tr.Events))
				}
				name := fmt.Sprintf("%s %s #%d", f.Location, at, i)
				c.runs++
				if s, d := mismatchIn(list, tr, nil); d != "" {
					full, _ := transcript.Encode(tr)
					t.Errorf("%s: reference (-) and production (+) disagree (mode %v)\ntranscript:\n%s\ndiff:\n%s", name, s.Mode, full, d)
					return
				}
			}
		}
	}
	t.Logf("%d transcripts compared across clock changes", c.runs)
}
