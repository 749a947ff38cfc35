package stats_test

import (
	"fmt"
	"testing"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// session1000 is a realistic 1,000-message live chat: bot greeting, queue,
// two agents with a redirect, a coach, tickets.
func session1000(tb testing.TB) *transcript.Transcript {
	evs := []transcript.Event{started(0), auto(1, "b1", "Hi! How can I help?"), msg(5, "c1", "My VPN is broken"), handoff(6), joined(30, "a1")}
	sec := 30.0
	for n := 3; n < 1000; n++ {
		sec += 7.5
		switch {
		case n == 500:
			evs = append(evs, left(sec, "a1", ""), joined(sec, "a2"))
			evs = append(evs, msg(sec, "a2", "Hi, Bob here, taking over"))
		case n%50 == 0:
			evs = append(evs, msg(sec, "s1", "coach: try a reset"))
		case n%3 == 0:
			who := "a1"
			if n > 500 {
				who = "a2"
			}
			evs = append(evs, msg(sec, who, fmt.Sprintf("Could you try step %d and tell me what happens?", n)))
		default:
			evs = append(evs, msg(sec, "c1", "It still says the certificate is not valid, päivää"))
		}
		if n%200 == 0 {
			evs = append(evs, ticket(sec, "a1", fmt.Sprintf("INC-%d", n)))
		}
	}
	evs = append(evs, left(sec+10, "c1", "quit"), ended(sec+11, "a2", ""))
	return build(tb, evs)
}

func BenchmarkCompute1000(b *testing.B) {
	t := session1000(b)
	s := stats.DefaultSettings()
	msgs := 0
	for i := range t.Events {
		if t.Events[i].Type == transcript.EventMessage {
			msgs++
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		stats.Compute(t, s, nil)
	}
	b.ReportMetric(float64(msgs*b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkCompute1000BusinessHours is the same session in a folder with
// business hours: every customerWait pair also measured in business time.
func BenchmarkCompute1000BusinessHours(b *testing.B) {
	t := session1000(b)
	s := stats.DefaultSettings()
	s.Folder = folder(b, `{"timeZone": "Europe/Helsinki", "businessHours": {"fri": ["08:00-11:02", "11:30-12:00", "13:00-17:00"]}, "holidays": ["2026-12-24"]}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		stats.Compute(t, s, nil)
	}
	b.ReportMetric(float64(len(t.Events)*b.N)/b.Elapsed().Seconds(), "events/s")
}
