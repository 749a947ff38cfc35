package reports_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// TestProductivityAnalytics checks the per-agent service level, customerWait
// percentiles, rated sessions and CSAT.
func TestProductivityAnalytics(t *testing.T) {
	mk := func(id, at string, agents []stats.Agent, firstBy, level, support string, score int, waits []int64, by []string) *card.Card {
		c := newCard("acme", id, at)
		c.Active, c.Status = false, "closed"
		c.Agents, c.FirstReplyBy, c.ServiceLevel, c.SupportPerson = agents, firstBy, level, support
		if score > 0 {
			c.Rating = &stats.Rating{Score: score}
		}
		c.ResponseSamples = stats.ResponseSamples{CustomerWaitMs: waits, CustomerWaitBy: by}
		return c
	}
	ann := stats.Agent{Participant: "a1", Person: "ann", Name: "Ann"}
	ann2 := stats.Agent{Participant: "a1b", Person: "ann", Name: "Ann"} // Ann again, a second participant
	bob := stats.Agent{Participant: "b1", Person: "bob", Name: "Bob"}
	cards := []*card.Card{
		// Ann: first reply met; pairs 10, 40 (Ann) and 20 (Bob); rated 5 with Ann as support person.
		mk("c1", "2026-11-20T09:00:00.000Z", []stats.Agent{ann, bob}, "a1", "met", "ann", 5, []int64{10, 20, 40}, []string{"a1", "b1", "a1"}),
		// Ann (as her second participant) misses; pairs 30 and 50 hers; rated 3.
		mk("c2", "2026-11-20T10:00:00.000Z", []stats.Agent{ann, ann2}, "a1b", "missed", "ann", 3, []int64{30, 50}, []string{"a1b", "a1"}),
		// Bob met twice, Ann once more: attainment 2/3 for Ann.
		mk("c3", "2026-11-20T11:00:00.000Z", []stats.Agent{bob}, "b1", "met", "bob", 4, []int64{60}, []string{"b1"}),
		mk("c4", "2026-11-20T12:00:00.000Z", []stats.Agent{ann, bob}, "a1", "met", "bob", 0, []int64{}, []string{}),
		// A card stored before customerWaitBy: its pairs credit no one.
		mk("c5", "2026-11-20T13:00:00.000Z", []stats.Agent{bob}, "b1", "met", "bob", 0, []int64{1000}, nil),
		// Missed with no first reply: no sender, credits no one.
		mk("c6", "2026-11-20T14:00:00.000Z", []stats.Agent{bob}, "", "missed", "bob", 1, []int64{}, []string{}),
		// The first reply by someone who is no agent of the card (bad data): no one.
		mk("c7", "2026-11-20T15:00:00.000Z", []stats.Agent{bob}, "ghost", "met", "bob", 0, []int64{7}, []string{"ghost"}),
	}
	dir, _ := export(t, cards, reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"productivity"}, Formats: []string{"csv"}}, reports.Options{})
	got := readCSV(t, readFile(t, dir, key("acme", "2026-11-20", "productivity", "csv")))
	var slim [][]string
	for _, r := range got {
		// agentPerson, sessions, then the seven additions.
		slim = append(slim, append([]string{r[0], r[2]}, r[9:]...))
	}
	want := [][]string{
		{"agentPerson", "sessions", "serviceLevelMet", "serviceLevelMissed", "serviceLevelAttainment", "customerWaitMedianMs", "customerWaitP90Ms", "ratedSessions", "csat"},
		// Ann's pairs 10, 40, 30, 50 → sorted 10 30 40 50: median rank 2 = 30 (the lower middle), p90 rank 4 = 50.
		// Rated: c1 (5) and c2 (3, counted once though Ann is two participants) → CSAT 1/2.
		{"ann", "3", "2", "1", "0.666667", "30", "50", "2", "0.5"},
		// Bob's pairs 20, 60 → median 20, p90 60. Rated where support person: c3 (4), c6 (1) → 0.5.
		{"bob", "6", "2", "0", "1", "20", "60", "2", "0.5"}, // met: c3, c5
	}
	if d := cmp.Diff(want, slim); d != "" {
		t.Fatalf("productivity (-want +got):\n%s", d)
	}
}
