package stats_test

import (
	"os"
	"path/filepath"
	"testing"

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
			c := stats.Compute(tr, s, []string{"INC-1"})
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
