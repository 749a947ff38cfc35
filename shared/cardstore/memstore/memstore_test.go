package memstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
)

func TestConformance(t *testing.T) {
	cardstoretest.Run(t, func(*testing.T) cardstore.Store { return memstore.New() })
}

func BenchmarkCreate(b *testing.B) {
	s := memstore.New()
	ctx := context.Background()
	tmpl := cardstoretest.FullCard("acme", "x")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := *tmpl
		c.SessionID = fmt.Sprintf("s-%d", i)
		if _, _, err := s.Create(ctx, &c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}

func BenchmarkGet(b *testing.B) {
	s := memstore.New()
	ctx := context.Background()
	c := card.New("acme", "w-1", cardstoretest.Stamp(cardstoretest.T0))
	c.ChatLog = cardstoretest.LongChatLog(100)
	if _, _, err := s.Create(ctx, c); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Get(ctx, "acme", "w-1"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cards/s")
}

// memstore cannot lose an answer; the lost-answer contract still holds.
func TestConformanceLostAnswers(t *testing.T) {
	cardstoretest.RunLostAnswers(t, func(*testing.T) (cardstore.Store, cardstoretest.LoseAnswer) { return memstore.New(), nil })
}
