package cardstoretest

import (
	"testing"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
)

// Write names one kind of store write whose answer can be lost on the way
// back from the database.
type Write int

const (
	WriteCreate  Write = iota // the card put of Create
	WriteUpdate               // the card put of Update
	WriteAttach               // the card update of AttachTicket
	WriteChatLog              // the put of a chat log kept outside the item
)

func (w Write) String() string {
	return [...]string{"create", "update", "attach", "chatlog"}[w]
}

// LoseAnswer arms a store's transport so that the next write of kind w is
// applied but its answer is lost (the SDK then retries it). It returns how
// many answers have been lost so far, to prove the loss happened. A store
// that cannot lose answers (memstore) passes nil: the contract is the same,
// it only cannot be provoked.
type LoseAnswer func(w Write) (lost func() int)

// RunLostAnswers is the contract for writes whose answer was lost: a write
// that was applied is reported as exactly one success. Create tells the
// caller whose put made the card created=true (the API answers 201 +
// Location), Update bumps Version exactly once, AttachTicket attaches once;
// never ECONFLICT, never created=false, never an error for a write that
// happened. newStore returns an empty store and its LoseAnswer (or nil).
func RunLostAnswers(t *testing.T, newStore func(t *testing.T) (cardstore.Store, LoseAnswer)) {
	tests := []struct {
		name string
		fn   func(*testing.T, cardstore.Store, LoseAnswer)
	}{
		{"LostCreate", testLostCreate},
		{"LostUpdate", testLostUpdate},
		{"LostAttachTicket", testLostAttach},
		{"LostChatLogPut", testLostChatLogPut},
		{"LostCreateWithChatLog", testLostCreateWithChatLog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, lose := newStore(t)
			tc.fn(t, s, lose)
		})
	}
}

// arm loses the next answer of w and returns the check that it was lost.
func arm(t *testing.T, lose LoseAnswer, w Write) func() {
	if lose == nil {
		return func() {}
	}
	lost := lose(w)
	before := lost()
	return func() {
		t.Helper()
		if got := lost() - before; got != 1 {
			t.Fatalf("%d answers of %s lost, want 1: the test did not provoke a retry", got, w)
		}
	}
}

func testLostCreate(t *testing.T, s cardstore.Store, lose LoseAnswer) {
	in := card.New("acme", "w-1", Stamp(T0))
	in.Channel = "web"
	lost := arm(t, lose, WriteCreate)
	got, created, err := s.Create(ctx(t), in)
	lost()
	must(t, "Create whose answer was lost", err)
	if !created {
		t.Fatal("Create whose answer was lost reported created=false: the caller would answer 200, not 201")
	}
	want := clone(in)
	want.Version = 1
	same(t, "Create returns the card it made", want, got)
	same(t, "Get", want, get(t, s, "acme", "w-1"))
	// A second, independent Create is still told apart.
	_, created, err = s.Create(ctx(t), card.New("acme", "w-1", Stamp(T0)))
	must(t, "second Create", err)
	if created {
		t.Fatal("a second Create after a lost-answer Create reported created=true")
	}
}

func testLostUpdate(t *testing.T, s cardstore.Store, lose LoseAnswer) {
	c := create(t, s, card.New("acme", "w-1", Stamp(T0)))
	c.MessageCount = 3
	c.ChatLog = LongChatLog(3)
	lost := arm(t, lose, WriteUpdate)
	err := s.Update(ctx(t), c)
	lost()
	must(t, "Update whose answer was lost", err)
	if c.Version != 2 {
		t.Fatalf("Update set Version %d, want 2 (bumped exactly once)", c.Version)
	}
	same(t, "Get after the Update", c, get(t, s, "acme", "w-1"))
	// The writer carries on with the version it was given.
	c.MessageCount = 4
	must(t, "next Update", s.Update(ctx(t), c))
	if c.Version != 3 {
		t.Fatalf("next Update set Version %d, want 3", c.Version)
	}
	same(t, "Get after the next Update", c, get(t, s, "acme", "w-1"))
}

func testLostAttach(t *testing.T, s cardstore.Store, lose LoseAnswer) {
	create(t, s, card.New("acme", "w-1", Stamp(T0)))
	lost := arm(t, lose, WriteAttach)
	got, err := s.AttachTicket(ctx(t), "acme", "w-1", "INC-1")
	lost()
	must(t, "AttachTicket whose answer was lost", err)
	same(t, "attached once", []string{"INC-1"}, got.AttachedTickets)
	stored := get(t, s, "acme", "w-1")
	same(t, "stored tickets", []string{"INC-1"}, stored.AttachedTickets)
	same(t, "stored related tickets", []string{"INC-1"}, stored.RelatedTickets)
	if stored.Version != 2 || got.Version != 2 {
		t.Fatalf("versions returned %d, stored %d; want 2 (bumped exactly once)", got.Version, stored.Version)
	}
}

// testLostChatLogPut: the put of a chat log too big for the item loses its
// answer; the retried put is harmless (same key, same bytes).
func testLostChatLogPut(t *testing.T, s cardstore.Store, lose LoseAnswer) {
	c := card.New("acme", "w-huge", Stamp(T0))
	c.ChatLog = HugeChatLog(1 << 20)
	lost := arm(t, lose, WriteChatLog)
	got, created, err := s.Create(ctx(t), c)
	lost()
	must(t, "Create whose chat-log answer was lost", err)
	if !created || got.Version != 1 {
		t.Fatalf("created=%v version %d, want created at version 1", created, got.Version)
	}
	same(t, "chat log", c.ChatLog, get(t, s, "acme", "w-huge").ChatLog)
	got.ChatLog = append(got.ChatLog, LongChatLog(5)...)
	lost = arm(t, lose, WriteChatLog)
	must(t, "Update whose chat-log answer was lost", s.Update(ctx(t), got))
	lost()
	same(t, "chat log after Update", got.ChatLog, get(t, s, "acme", "w-huge").ChatLog)
}

// testLostCreateWithChatLog: the card put of a card whose log is outside the
// item loses its answer; the log it points at must survive.
func testLostCreateWithChatLog(t *testing.T, s cardstore.Store, lose LoseAnswer) {
	c := card.New("acme", "w-huge", Stamp(T0))
	c.ChatLog = HugeChatLog(1 << 20)
	lost := arm(t, lose, WriteCreate)
	got, created, err := s.Create(ctx(t), c)
	lost()
	must(t, "Create whose answer was lost", err)
	if !created {
		t.Fatal("created=false for the caller whose put made the card")
	}
	same(t, "chat log from Get", c.ChatLog, get(t, s, "acme", "w-huge").ChatLog)
	got.ChatLog = got.ChatLog[:10]
	lost = arm(t, lose, WriteUpdate)
	must(t, "Update whose answer was lost", s.Update(ctx(t), got))
	lost()
	if got.Version != 2 {
		t.Fatalf("Version %d, want 2", got.Version)
	}
	same(t, "card after Update", got, get(t, s, "acme", "w-huge"))
}
