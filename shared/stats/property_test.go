package stats_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// randomEvents makes a session of n events at distinct, increasing times,
// drawing from every event type and participant of the standard cast.
func randomEvents(r *rand.Rand, n int, closed bool) []transcript.Event {
	who := []string{"c1", "b1", "a1", "a2", "s1", "m1", "sv", "sys"}
	texts := []string{"hi", "VPN is broken", "Hyvää päivää 👋", "ok", "مرحبا", "thanks!"}
	sec := 0.0
	evs := []transcript.Event{started(0)}
	for i := 0; i < n; i++ {
		sec += float64(r.IntN(400000)+1) / 1000 // distinct times, up to 400 s apart
		p := who[r.IntN(len(who))]
		var e transcript.Event
		switch k := r.IntN(20); {
		case k < 8:
			e = msg(sec, p, texts[r.IntN(len(texts))])
			e.Automatic = r.IntN(6) == 0
		case k < 9:
			e = file(sec, p)
		case k < 12:
			e = joined(sec, p)
		case k < 15:
			e = left(sec, p, []string{"", "quit", "disconnect"}[r.IntN(3)])
		case k < 16:
			e = handoff(sec)
		case k < 17:
			e = dormant(sec)
		case k < 18:
			e = resumed(sec)
		case k < 19:
			e = ticket(sec, "", []string{"INC-1", "INC-2", "INC-3"}[r.IntN(3)])
		default:
			e = unknown(sec, "typing")
		}
		evs = append(evs, e)
	}
	if closed {
		sec += float64(r.IntN(1000)+1) / 1000
		evs = append(evs, ended(sec, []string{"", "c1", "a1", "sv", "b1", "sys"}[r.IntN(6)], ""))
	}
	return evs
}

func stat(c *stats.Card, k string) int64 { return c.Statistics[k].Num }

func TestInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	allMode := stats.Settings{Mode: stats.ModeAll, IdleThreshold: 120e9, AsyncIdleThreshold: 600e9}
	for i := 0; i < 600; i++ {
		var opts []opt
		if i%3 == 0 {
			opts = append(opts, async)
		}
		evs := randomEvents(r, 1+r.IntN(60), i%2 == 0)
		tr := build(t, evs, opts...)
		c := stats.Compute(tr, allMode, nil)

		// Shuffling events with distinct times changes nothing.
		sh := append([]transcript.Event(nil), evs...)
		r.Shuffle(len(sh), func(a, b int) { sh[a], sh[b] = sh[b], sh[a] })
		if d := cmp.Diff(c, stats.Compute(build(t, sh, opts...), allMode, nil)); d != "" {
			t.Fatalf("case %d: shuffled input changed the card:\n%s", i, d)
		}
		if sum := stat(c, "csg_MessagesFromAgentsCount") + stat(c, "csg_MessagesFromCustomersCount") + stat(c, "csg_MessagesFromBotsCount"); sum > int64(c.MessageCount) {
			t.Fatalf("case %d: %d lines from agents, customers and bots > messageCount %d", i, sum, c.MessageCount)
		}
		if stat(c, "cse_AgentReplyTotalCount") > c.Productivity.OperatorMessages {
			t.Fatalf("case %d: more replies than agent messages", i)
		}
		for k, v := range c.Statistics {
			if strings.HasSuffix(k, "MaxTime") {
				if total := stat(c, strings.TrimSuffix(k, "MaxTime")+"TotalTime"); v.Num > total {
					t.Fatalf("case %d: %s %d > total %d", i, k, v.Num, total)
				}
			}
		}
		var replies int64
		for _, a := range c.Agents {
			replies += a.ReplyCount
			if a.ReplyMaxMs > a.ReplyTotalMs {
				t.Fatalf("case %d: agent %s max > total", i, a.Participant)
			}
		}
		if replies != stat(c, "cse_AgentReplyTotalCount") {
			t.Fatalf("case %d: per-agent replies %d != cse_AgentReplyTotalCount %d", i, replies, stat(c, "cse_AgentReplyTotalCount"))
		}
		if !c.Active && stat(c, "cse_SessionHandleTotalTime") > stat(c, "csg_SessionTotalTime") {
			t.Fatalf("case %d: handle time %d > session time %d", i, stat(c, "cse_SessionHandleTotalTime"), stat(c, "csg_SessionTotalTime"))
		}
	}
}

// TestAppendNeverLowers: appending events to an active session never lowers
// a count, total or max. (Averages may fall, so they are not compared.)
func TestAppendNeverLowers(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	s := stats.Settings{Mode: stats.ModeAll, IdleThreshold: 120e9, AsyncIdleThreshold: 600e9}
	for i := 0; i < 300; i++ {
		var opts []opt
		if i%2 == 0 {
			opts = append(opts, async)
		}
		evs := randomEvents(r, 2+r.IntN(50), false)
		prev := stats.Compute(build(t, evs[:1], opts...), s, nil)
		for n := 2; n <= len(evs); n++ {
			cur := stats.Compute(build(t, evs[:n], opts...), s, nil)
			for k, v := range prev.Statistics {
				if strings.HasSuffix(k, "Count") || strings.HasSuffix(k, "TotalTime") || strings.HasSuffix(k, "MaxTime") || strings.HasSuffix(k, "Size") {
					if cur.Statistics[k].Num < v.Num {
						t.Fatalf("case %d, %d events: %s fell from %d to %d", i, n, k, v.Num, cur.Statistics[k].Num)
					}
				}
			}
			lower := func(name string, a, b *stats.Group) {
				if a != nil && (b == nil || b.Count < a.Count || b.TotalMs < a.TotalMs || b.MaxMs < a.MaxMs) {
					t.Fatalf("case %d, %d events: responseTimes.%s fell: %+v -> %+v", i, n, name, a, b)
				}
			}
			lower("agentReply", prev.ResponseTimes.AgentReply, cur.ResponseTimes.AgentReply)
			lower("agentWait", prev.ResponseTimes.AgentWait, cur.ResponseTimes.AgentWait)
			lower("customerReply", prev.ResponseTimes.CustomerReply, cur.ResponseTimes.CustomerReply)
			lower("customerWait", prev.ResponseTimes.CustomerWait, cur.ResponseTimes.CustomerWait)
			for j, a := range prev.Agents {
				b := cur.Agents[j]
				if b.Participant != a.Participant || b.Messages < a.Messages || b.ReplyCount < a.ReplyCount ||
					b.ReplyTotalMs < a.ReplyTotalMs || b.ReplyMaxMs < a.ReplyMaxMs || b.PresenceMs < a.PresenceMs {
					t.Fatalf("case %d, %d events: agent figures fell: %+v -> %+v", i, n, a, b)
				}
			}
			p, q := prev.Productivity, cur.Productivity
			if q.OperatorMessages < p.OperatorMessages || q.ClientMessages < p.ClientMessages || q.BotMessages < p.BotMessages ||
				(p.ResponseMaxMs != nil && (q.ResponseMaxMs == nil || *q.ResponseMaxMs < *p.ResponseMaxMs)) {
				t.Fatalf("case %d, %d events: productivity fell: %+v -> %+v", i, n, p, q)
			}
			prev = cur
		}
	}
}

// TestDeterministic: same transcript, same settings, same bytes.
func TestDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	evs := randomEvents(r, 200, true)
	a := stats.Compute(build(t, evs), stats.DefaultSettings(), []string{"X"})
	b := stats.Compute(build(t, evs), stats.DefaultSettings(), []string{"X"})
	if d := cmp.Diff(a, b); d != "" {
		t.Fatal(d)
	}
}
