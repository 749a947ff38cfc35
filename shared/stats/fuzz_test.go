package stats_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/stats"
	"github.com/chatcards/chatcards/shared/transcript"
)

// FuzzCompute runs any input the decoders accept through the engine in
// every mode: it must not panic, and the cheap invariants must hold.
func FuzzCompute(f *testing.F) {
	seeds, _ := filepath.Glob("../transcript/testdata/*.json")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"version":1,"sessionId":"s","async":true,"participants":[{"id":"c","role":"customer"},{"id":"a","role":"agent"}],"events":[{"at":"2026-11-20T09:00:00Z","type":"dormant"},{"at":"2026-11-20T09:00:00Z","type":"message","participant":"a","text":"x"},{"at":"2026-11-20T09:00:00Z","type":"left","participant":"a"},{"at":"2026-11-20T09:00:00Z","type":"message","participant":"c","text":"y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := transcript.Decode(data)
		if err != nil {
			return
		}
		for _, m := range []stats.Mode{stats.ModeNone, stats.ModeFired, stats.ModeAll} {
			s := stats.DefaultSettings()
			s.Mode = m
			if m == stats.ModeFired {
				s.Folder = fuzzFolder
			}
			c := stats.Compute(tr, s, []string{"INC-1"})
			checkAnalytics(t, c, s.Folder != nil)
			if c.MessageCount != len(c.ChatLog) {
				t.Fatalf("messageCount %d, chat log %d", c.MessageCount, len(c.ChatLog))
			}
			var replies int64
			for _, a := range c.Agents {
				replies += a.ReplyCount
				if a.ReplyMaxMs > a.ReplyTotalMs || a.PresenceMs < 0 {
					t.Fatalf("agent %+v", a)
				}
			}
			if g := c.ResponseTimes.AgentReply; g != nil && g.Count != replies {
				t.Fatalf("per-agent replies %d, agentReply %d", replies, g.Count)
			}
			for k, v := range c.Statistics {
				if !v.IsStr && v.Num < 0 {
					t.Fatalf("%s = %d < 0", k, v.Num)
				}
			}
		}
	})
}

var fuzzFolder = func() *folders.Settings {
	f, err := folders.ParseEntry([]byte(`{"timeZone": "Europe/Helsinki", "businessHours": {"mon": ["08:00-12:00", "13:00-17:00"], "fri": ["09:00-24:00"], "sun": ["03:00-04:00"]}, "holidays": ["2026-11-23"]}`), folders.Defaults{})
	if err != nil {
		panic(err)
	}
	return f
}()

// checkAnalytics holds the invariants of the analytics.md figures: business
// time never exceeds calendar time, samples match the customerWait group.
func checkAnalytics(t *testing.T, c *stats.Card, hours bool) {
	t.Helper()
	samples := c.ResponseSamples.CustomerWaitMs
	if samples == nil {
		t.Fatal("responseSamples.customerWaitMs is nil")
	}
	var sum int64
	for _, v := range samples {
		sum += v
	}
	cw := c.ResponseTimes.CustomerWait
	if cw == nil && len(samples) != 0 || cw != nil && (int64(len(samples)) != cw.Count || sum != cw.TotalMs) {
		t.Fatalf("samples %v, customerWait %+v", samples, cw)
	}
	if (c.BusinessHours != nil) != hours {
		t.Fatalf("businessHours %+v with business hours %v", c.BusinessHours, hours)
	}
	if bh := c.BusinessHours; bh != nil {
		if (bh.WaitBeforeFirstReplyMs != nil) != (c.WaitBeforeFirstReplyMs != nil) ||
			bh.WaitBeforeFirstReplyMs != nil && (*bh.WaitBeforeFirstReplyMs < 0 || *bh.WaitBeforeFirstReplyMs > *c.WaitBeforeFirstReplyMs) {
			t.Fatalf("business first reply %v, calendar %v", bh.WaitBeforeFirstReplyMs, c.WaitBeforeFirstReplyMs)
		}
		if (bh.CustomerWait != nil) != (cw != nil) || cw != nil && (bh.CustomerWait.Count != cw.Count || bh.CustomerWait.TotalMs > cw.TotalMs || bh.CustomerWait.TotalMs < 0) {
			t.Fatalf("business customerWait %+v, calendar %+v", bh.CustomerWait, cw)
		}
	}
	if c.BotContained && (c.Active || c.NoOperatorResponse || len(c.Agents) > 0) {
		t.Fatalf("botContained with active %v, agents %d", c.Active, len(c.Agents))
	}
	switch c.ServiceLevel {
	case "", stats.ServiceLevelMet, stats.ServiceLevelMissed:
	default:
		t.Fatalf("serviceLevel %q", c.ServiceLevel)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Fatal(err)
	}
}
