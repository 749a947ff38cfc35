package platform_test

import (
	"testing"

	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/transcript"
)

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	var sessions, msgs int
	for i := 0; b.Loop(); i++ {
		for _, t := range platform.Generate(platform.GenerateOptions{N: 100, Seed: int64(i)}) {
			sessions++
			for _, e := range t.Events {
				if e.Type == transcript.EventMessage {
					msgs++
				}
			}
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(sessions)/s, "sessions/s")
	b.ReportMetric(float64(msgs)/s, "messages/s")
}

func BenchmarkGenerateHuge(b *testing.B) {
	b.ReportAllocs()
	msgs := 0
	for i := 0; b.Loop(); i++ {
		t := platform.Generate(platform.GenerateOptions{N: 1, Seed: int64(i), MessagesPerSession: 5000})[0]
		msgs += len(t.Events)
	}
	b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "events/s")
}
