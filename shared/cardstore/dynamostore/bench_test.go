package dynamostore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// BenchmarkUpdateMoto measures the sync's write: one conditional put of a
// card with a 200-line chat log, against moto on this machine.
func BenchmarkUpdateMoto(b *testing.B) {
	moto := testenv.Moto(b)
	db := dynamoClient(b, moto)
	st := dynamostore.New(db, newTable(b, db), dynamostore.Options{})
	ctx := context.Background()
	c := cardstoretest.FullCard("acme", "w-bench")
	c.ChatLog = cardstoretest.LongChatLog(200)
	c, _, err := st.Create(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.MessageCount = i
		if err := st.Update(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkListByStartMoto measures the export's read: pages of 100 cards
// without chat logs.
func BenchmarkListByStartMoto(b *testing.B) {
	moto := testenv.Moto(b)
	db := dynamoClient(b, moto)
	st := dynamostore.New(db, newTable(b, db), dynamostore.Options{})
	ctx := context.Background()
	const cards = 300
	for i := range cards {
		c := cardstoretest.FullCard("acme", fmt.Sprintf("w-%04d", i))
		if _, _, err := st.Create(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	listed := 0
	for i := 0; i < b.N; i++ {
		cursor := ""
		for {
			p, err := st.ListByStart(ctx, "acme", cardstoretest.T0, cardstoretest.T0.AddDate(0, 0, 1), cardstore.ListOptions{Cursor: cursor, Limit: 100})
			if err != nil {
				b.Fatal(err)
			}
			listed += len(p.Cards)
			if cursor = p.Next; cursor == "" {
				break
			}
		}
	}
	if listed != cards*b.N {
		b.Fatalf("listed %d cards, want %d", listed, cards*b.N)
	}
	b.ReportMetric(float64(listed)/b.Elapsed().Seconds(), "cards/s")
}
