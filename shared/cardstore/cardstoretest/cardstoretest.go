// Package cardstoretest is the one conformance suite every cardstore.Store
// implementation runs, so the embedded and DynamoDB stores behave alike.
package cardstoretest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/stats"
)

// Run runs every conformance test. newStore must return an empty store of
// its own for each call (a fresh table, say); the huge chat-log test needs
// the store to accept a chat log of several megabytes, so a DynamoDB store
// must have its overflow bucket configured.
func Run(t *testing.T, newStore func(t *testing.T) cardstore.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, cardstore.Store)
	}{
		{"CreateThenGet", testCreateThenGet},
		{"CreateIsIdempotent", testCreateIsIdempotent},
		{"CreateNeverOverwritesSync", testCreateNeverOverwritesSync},
		{"ConcurrentCreates", testConcurrentCreates},
		{"InvalidArguments", testInvalidArguments},
		{"NotFound", testNotFound},
		{"FolderIsolation", testFolderIsolation},
		{"AttachTicket", testAttachTicket},
		{"ConcurrentAttachTickets", testConcurrentAttachTickets},
		{"UpdateVersions", testUpdateVersions},
		{"StaleUpdateConflicts", testStaleUpdateConflicts},
		{"TicketBetweenReadAndUpdate", testTicketBetweenReadAndUpdate},
		{"NoAliasing", testNoAliasing},
		{"ListActivePaging", testListActivePaging},
		{"ListByStart", testListByStart},
		{"ListByStartPaging", testListByStartPaging},
		{"BadCursor", testBadCursor},
		{"ListFolders", testListFolders},
		{"FullCardRoundTrip", testFullCardRoundTrip},
		{"LongChatLog", testLongChatLog},
		{"HugeChatLog", testHugeChatLog},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func wantCode(t *testing.T, what string, err error, code card.Code) {
	t.Helper()
	if got := card.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func same(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("%s (-want +got):\n%s", what, d)
	}
}

func create(t *testing.T, s cardstore.Store, c *card.Card) *card.Card {
	t.Helper()
	got, created, err := s.Create(ctx(t), c)
	must(t, "Create "+c.Folder+"/"+c.SessionID, err)
	if !created {
		t.Fatalf("Create %s/%s: created=false for a new card", c.Folder, c.SessionID)
	}
	return got
}

func get(t *testing.T, s cardstore.Store, folder, id string) *card.Card {
	t.Helper()
	c, err := s.Get(ctx(t), folder, id)
	must(t, "Get "+folder+"/"+id, err)
	return c
}

func clone(c *card.Card) *card.Card {
	cp := *c
	return &cp
}

func testCreateThenGet(t *testing.T, s cardstore.Store) {
	in := card.New("acme", "w-1", Stamp(T0))
	in.Channel = "web"
	got := create(t, s, in)
	if got.Version != 1 {
		t.Errorf("created card has Version %d, want 1", got.Version)
	}
	if in.Version != 0 {
		t.Errorf("Create changed the caller's card: Version %d", in.Version)
	}
	want := clone(in)
	want.Version = 1
	same(t, "Create returns the card as given, at version 1", want, got)
	same(t, "Get returns the created card", want, get(t, s, "acme", "w-1"))
}

func testCreateIsIdempotent(t *testing.T, s cardstore.Store) {
	first := create(t, s, card.New("acme", "w-1", Stamp(T0)))
	again := card.New("acme", "w-1", Stamp(T0.Add(time.Hour)))
	again.Channel = "email"
	got, created, err := s.Create(ctx(t), again)
	must(t, "second Create", err)
	if created {
		t.Fatal("second Create of the same sessionId reported created=true")
	}
	same(t, "second Create returns the stored card", first, got)
	same(t, "stored card unchanged", first, get(t, s, "acme", "w-1"))
}

func testCreateNeverOverwritesSync(t *testing.T, s cardstore.Store) {
	c := create(t, s, card.New("acme", "w-1", Stamp(T0)))
	synced := FullCard("acme", "w-1")
	synced.Version = c.Version
	must(t, "Update", s.Update(ctx(t), synced))
	got, created, err := s.Create(ctx(t), card.New("acme", "w-1", Stamp(T0)))
	must(t, "retried Create", err)
	if created {
		t.Fatal("retried Create reported created=true")
	}
	same(t, "retried Create returns what the sync wrote", synced, got)
	same(t, "stored card keeps what the sync wrote", synced, get(t, s, "acme", "w-1"))
}

func testConcurrentCreates(t *testing.T, s cardstore.Store) {
	const n = 100
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		cards   []*card.Card
		errs    []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := card.New("acme", "w-race", Stamp(T0))
			c.Metadata = map[string]string{"attempt": fmt.Sprint(i)}
			got, ok, err := s.Create(ctx(t), c)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if ok {
				created++
			}
			cards = append(cards, got)
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d concurrent creates failed, first: %v", len(errs), n, errs[0])
	}
	if created != 1 {
		t.Fatalf("%d concurrent creates reported created=true, want exactly 1", created)
	}
	stored := get(t, s, "acme", "w-race")
	for i, c := range cards {
		same(t, fmt.Sprintf("create %d returns the stored card", i), stored, c)
	}
}

func testInvalidArguments(t *testing.T, s cardstore.Store) {
	create(t, s, card.New("acme", "w-1", Stamp(T0)))
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		name string
		c    *card.Card
	}{
		{"nil card", nil},
		{"empty folder", card.New("", "w-2", Stamp(T0))},
		{"folder with #", card.New("a#b", "w-2", Stamp(T0))},
		{"folder too long", card.New(long, "w-2", Stamp(T0))},
		{"empty sessionId", card.New("acme", "", Stamp(T0))},
		{"sessionId with /", card.New("acme", "a/b", Stamp(T0))},
		{"bad startedAt", card.New("acme", "w-2", "yesterday")},
		{"empty startedAt", card.New("acme", "w-2", "")},
	} {
		_, _, err := s.Create(ctx(t), tc.c)
		wantCode(t, "Create with "+tc.name, err, card.EINVALID)
	}
	_, err := s.Get(ctx(t), "", "w-1")
	wantCode(t, "Get with empty folder", err, card.EINVALID)
	_, err = s.Get(ctx(t), "acme", "")
	wantCode(t, "Get with empty sessionId", err, card.EINVALID)
	_, err = s.AttachTicket(ctx(t), "acme", "w-1", "")
	wantCode(t, "AttachTicket with empty ticket", err, card.EINVALID)
	_, err = s.AttachTicket(ctx(t), "", "w-1", "INC-1")
	wantCode(t, "AttachTicket with empty folder", err, card.EINVALID)
	wantCode(t, "Update nil", s.Update(ctx(t), nil), card.EINVALID)
	wantCode(t, "Update with empty folder", s.Update(ctx(t), card.New("", "w-1", Stamp(T0))), card.EINVALID)
	_, err = s.ListByStart(ctx(t), "", T0, T0.Add(time.Hour), cardstore.ListOptions{})
	wantCode(t, "ListByStart with empty folder", err, card.EINVALID)
	_, err = s.ListActive(ctx(t), "a b", cardstore.ListOptions{})
	wantCode(t, "ListActive with a bad folder", err, card.EINVALID)
	// Nothing of the refused calls was stored.
	folders, err := s.ListFolders(ctx(t))
	must(t, "ListFolders", err)
	same(t, "folders after refused calls", []string{"acme"}, folders)
	c := get(t, s, "acme", "w-1")
	if c.Version != 1 || len(c.AttachedTickets) != 0 {
		t.Fatalf("refused calls changed the card: version %d, tickets %v", c.Version, c.AttachedTickets)
	}
}

func testNotFound(t *testing.T, s cardstore.Store) {
	_, err := s.Get(ctx(t), "acme", "nope")
	wantCode(t, "Get of a missing card", err, card.ENOTFOUND)
	_, err = s.AttachTicket(ctx(t), "acme", "nope", "INC-1")
	wantCode(t, "AttachTicket to a missing card", err, card.ENOTFOUND)
	c := card.New("acme", "nope", Stamp(T0))
	c.Version = 1
	wantCode(t, "Update of a missing card", s.Update(ctx(t), c), card.ENOTFOUND)
	if _, err := s.Get(ctx(t), "acme", "nope"); card.ErrorCode(err) != card.ENOTFOUND {
		t.Fatalf("Update of a missing card created it: %v", err)
	}
}

func testFolderIsolation(t *testing.T, s cardstore.Store) {
	a := card.New("folder-a", "w-1", Stamp(T0))
	a.Channel = "web"
	b := card.New("folder-b", "w-1", Stamp(T0))
	b.Channel = "phone"
	ca := create(t, s, a)
	cb := create(t, s, b)
	same(t, "card in folder-a", ca, get(t, s, "folder-a", "w-1"))
	same(t, "card in folder-b", cb, get(t, s, "folder-b", "w-1"))

	only := create(t, s, card.New("folder-a", "only-a", Stamp(T0)))
	_, err := s.Get(ctx(t), "folder-b", "only-a")
	wantCode(t, "Get from the other folder", err, card.ENOTFOUND)
	_, err = s.AttachTicket(ctx(t), "folder-b", "only-a", "INC-1")
	wantCode(t, "AttachTicket from the other folder", err, card.ENOTFOUND)
	up := clone(only)
	up.Folder = "folder-b"
	wantCode(t, "Update into the other folder", s.Update(ctx(t), up), card.ENOTFOUND)
	same(t, "card untouched by the other folder", only, get(t, s, "folder-a", "only-a"))

	_, err = s.AttachTicket(ctx(t), "folder-b", "w-1", "INC-9")
	must(t, "AttachTicket folder-b", err)
	same(t, "folder-a card untouched by folder-b's ticket", ca, get(t, s, "folder-a", "w-1"))

	p, err := s.ListActive(ctx(t), "folder-b", cardstore.ListOptions{})
	must(t, "ListActive folder-b", err)
	if len(p.Cards) != 1 || p.Cards[0].Folder != "folder-b" {
		t.Fatalf("ListActive folder-b returned %d cards: %v", len(p.Cards), ids(p.Cards))
	}
	p, err = s.ListByStart(ctx(t), "folder-b", T0, T0.Add(time.Hour), cardstore.ListOptions{})
	must(t, "ListByStart folder-b", err)
	if len(p.Cards) != 1 || p.Cards[0].Folder != "folder-b" {
		t.Fatalf("ListByStart folder-b returned %d cards: %v", len(p.Cards), ids(p.Cards))
	}
}

func ids(cs []*card.Card) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Folder + "/" + c.SessionID
	}
	return out
}

func testAttachTicket(t *testing.T, s cardstore.Store) {
	c := card.New("acme", "w-1", Stamp(T0))
	c.RelatedTickets = []string{"INC-0"}
	c = create(t, s, c)

	got, err := s.AttachTicket(ctx(t), "acme", "w-1", "INC-1")
	must(t, "AttachTicket", err)
	same(t, "attached tickets", []string{"INC-1"}, got.AttachedTickets)
	same(t, "related tickets", []string{"INC-0", "INC-1"}, got.RelatedTickets)
	if got.Version != c.Version+1 {
		t.Fatalf("AttachTicket: version %d, want %d", got.Version, c.Version+1)
	}
	same(t, "Get after AttachTicket", got, get(t, s, "acme", "w-1"))

	again, err := s.AttachTicket(ctx(t), "acme", "w-1", "INC-1")
	must(t, "repeated AttachTicket", err)
	same(t, "repeated AttachTicket changes nothing, not even the version", got, again)
	same(t, "stored after repeated AttachTicket", got, get(t, s, "acme", "w-1"))

	// A ticket the transcript already named is still recorded as attached.
	third, err := s.AttachTicket(ctx(t), "acme", "w-1", "INC-0")
	must(t, "AttachTicket of a related ticket", err)
	same(t, "attached after INC-0", []string{"INC-1", "INC-0"}, third.AttachedTickets)
	same(t, "related after INC-0", []string{"INC-0", "INC-1"}, third.RelatedTickets)
	if third.Version != got.Version+1 {
		t.Fatalf("AttachTicket of a related ticket: version %d, want %d", third.Version, got.Version+1)
	}
	if len(third.ChatLog) != 0 || third.ChatLog == nil {
		t.Fatalf("AttachTicket returned chat log %v, want the card's empty log", third.ChatLog)
	}
}

func testConcurrentAttachTickets(t *testing.T, s cardstore.Store) {
	full := FullCard("acme", "w-1")
	full.AttachedTickets = nil
	full.RelatedTickets = []string{}
	create(t, s, full)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AttachTicket(ctx(t), "acme", "w-1", fmt.Sprintf("INC-%d", i))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		must(t, fmt.Sprintf("concurrent AttachTicket %d", i), err)
	}
	c := get(t, s, "acme", "w-1")
	got := slices.Sorted(slices.Values(c.AttachedTickets))
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("INC-%d", i)
	}
	same(t, "every concurrently attached ticket survives", want, got)
	same(t, "related tickets match attached", c.AttachedTickets, c.RelatedTickets)
	if c.Version != 1+n {
		t.Fatalf("version %d after %d attaches, want %d", c.Version, n, 1+n)
	}
	same(t, "chat log survives attaches", full.ChatLog, c.ChatLog)
}

func testUpdateVersions(t *testing.T, s cardstore.Store) {
	c := create(t, s, card.New("acme", "w-1", Stamp(T0)))
	for i := range 3 {
		c.MessageCount = i + 1
		c.ChatLog = LongChatLog(i + 1)
		before := c.Version
		must(t, "Update", s.Update(ctx(t), c))
		if c.Version != before+1 {
			t.Fatalf("Update set Version %d, want %d", c.Version, before+1)
		}
		same(t, "Get after Update", c, get(t, s, "acme", "w-1"))
	}
}

func testStaleUpdateConflicts(t *testing.T, s cardstore.Store) {
	c := create(t, s, card.New("acme", "w-1", Stamp(T0)))
	a, b := get(t, s, "acme", "w-1"), get(t, s, "acme", "w-1")
	a.MessageCount = 1
	must(t, "first writer", s.Update(ctx(t), a))
	b.MessageCount = 2
	b.Status = "closed"
	stale := clone(b)
	wantCode(t, "stale writer", s.Update(ctx(t), b), card.ECONFLICT)
	same(t, "a failed Update leaves the caller's card alone", stale, b)
	same(t, "stored card is the first writer's", a, get(t, s, "acme", "w-1"))
	if a.Version != c.Version+1 {
		t.Fatalf("version %d, want %d", a.Version, c.Version+1)
	}
	// A writer from the future is stale too.
	future := clone(a)
	future.Version += 5
	wantCode(t, "writer with a future version", s.Update(ctx(t), future), card.ECONFLICT)
}

func testTicketBetweenReadAndUpdate(t *testing.T, s cardstore.Store) {
	create(t, s, card.New("acme", "w-1", Stamp(T0)))
	read := get(t, s, "acme", "w-1")
	if _, err := s.AttachTicket(ctx(t), "acme", "w-1", "INC-7"); err != nil {
		t.Fatalf("AttachTicket: %v", err)
	}
	read.MessageCount = 3
	read.ChatLog = LongChatLog(3)
	wantCode(t, "Update after a ticket was attached", s.Update(ctx(t), read), card.ECONFLICT)
	// The sync re-reads and recomputes with the ticket.
	again := get(t, s, "acme", "w-1")
	same(t, "re-read shows the ticket", []string{"INC-7"}, again.AttachedTickets)
	again.MessageCount = 3
	again.ChatLog = LongChatLog(3)
	must(t, "retried Update", s.Update(ctx(t), again))
	final := get(t, s, "acme", "w-1")
	same(t, "ticket survives the sync", []string{"INC-7"}, final.AttachedTickets)
	same(t, "related tickets keep the ticket", []string{"INC-7"}, final.RelatedTickets)
}

func testNoAliasing(t *testing.T, s cardstore.Store) {
	in := FullCard("acme", "w-1")
	got := create(t, s, in)
	want := get(t, s, "acme", "w-1")

	in.Metadata["botFlow"] = "changed"
	in.ChatLog[0].Text = "changed"
	in.Statistics["csg_MediaType"] = stats.Str("changed")
	got.Members[0] = "changed"
	got.Agents[0].Name = "changed"
	*got.WaitBeforeFirstReplyMs = 99
	got.ResponseTimes.AgentReply.Count = 99
	same(t, "stored card after callers changed their copies", want, get(t, s, "acme", "w-1"))

	g1 := get(t, s, "acme", "w-1")
	g1.ChatLog[1].Text = "changed"
	g1.RelatedTickets[0] = "changed"
	same(t, "stored card after a Get result was changed", want, get(t, s, "acme", "w-1"))

	up := get(t, s, "acme", "w-1")
	must(t, "Update", s.Update(ctx(t), up))
	snapshot := get(t, s, "acme", "w-1")
	up.Pages[0] = "changed"
	up.Statistics["csg_Big"] = stats.Num(0)
	same(t, "stored card after an Update's card was changed", snapshot, get(t, s, "acme", "w-1"))
}

func testListActivePaging(t *testing.T, s cardstore.Store) {
	folders := []string{"f-1", "f-2", "f-3", "f-4", "f-5"}
	want := map[string]bool{}
	wantPer := map[string][]string{}
	for fi, f := range folders {
		for i := range 5 {
			c := card.New(f, fmt.Sprintf("s-%d", i), Stamp(T0.Add(time.Duration(i*7+fi)*time.Minute)))
			c.ChatLog = LongChatLog(2)
			c = create(t, s, c)
			if i%3 == 1 {
				c.Active = false
				c.Status = "closed"
				must(t, "close", s.Update(ctx(t), c))
				continue
			}
			want[f+"/"+c.SessionID] = true
			wantPer[f] = append(wantPer[f], f+"/"+c.SessionID)
		}
	}
	for _, limit := range []int{1, 2, 3, 0} {
		seen := listAll(t, func(cursor string) (cardstore.Page, error) {
			return s.ListActive(ctx(t), "", cardstore.ListOptions{Cursor: cursor, Limit: limit})
		}, limit, false)
		got := map[string]bool{}
		for _, c := range seen {
			k := c.Folder + "/" + c.SessionID
			if got[k] {
				t.Fatalf("limit %d: %s listed twice", limit, k)
			}
			if !c.Active {
				t.Fatalf("limit %d: closed card %s listed as active", limit, k)
			}
			got[k] = true
			stored := get(t, s, c.Folder, c.SessionID)
			stored.ChatLog = nil
			same(t, "listed card is the stored card without its log", stored, c)
		}
		same(t, fmt.Sprintf("active cards of every folder, limit %d", limit), want, got)
	}
	for _, f := range folders {
		seen := listAll(t, func(cursor string) (cardstore.Page, error) {
			return s.ListActive(ctx(t), f, cardstore.ListOptions{Cursor: cursor, Limit: 2, WithChatLog: true})
		}, 2, true)
		got := ids(seen)
		slices.Sort(got)
		same(t, "active cards of "+f, wantPer[f], got)
		for _, c := range seen {
			same(t, "listed chat log", LongChatLog(2), c.ChatLog)
		}
	}
}

// listAll follows a listing to its end, checking page sizes.
func listAll(t *testing.T, list func(cursor string) (cardstore.Page, error), limit int, withLog bool) []*card.Card {
	t.Helper()
	var all []*card.Card
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("listing never ends")
		}
		p, err := list(cursor)
		must(t, "list page", err)
		if limit > 0 && len(p.Cards) > limit {
			t.Fatalf("page of %d cards, limit %d", len(p.Cards), limit)
		}
		for _, c := range p.Cards {
			if !withLog && c.ChatLog != nil {
				t.Fatalf("%s/%s listed with its chat log without WithChatLog", c.Folder, c.SessionID)
			}
			if withLog && c.ChatLog == nil {
				t.Fatalf("%s/%s listed without its chat log despite WithChatLog", c.Folder, c.SessionID)
			}
		}
		all = append(all, p.Cards...)
		if p.Next == "" {
			return all
		}
		cursor = p.Next
	}
}

func testListByStart(t *testing.T, s cardstore.Store) {
	from := T0
	to := T0.Add(24 * time.Hour)
	mk := func(folder, id, startedAt string) {
		c := card.New(folder, id, startedAt)
		c.ChatLog = LongChatLog(1)
		create(t, s, c)
	}
	mk("acme", "before", Stamp(from.Add(-time.Millisecond)))
	mk("acme", "at-from", Stamp(from))
	mk("acme", "b-same-ms", Stamp(from.Add(time.Millisecond)))
	mk("acme", "a-same-ms", Stamp(from.Add(time.Millisecond)))
	mk("acme", "offset", "2026-11-20T10:30:00.000+01:00") // 09:30 UTC
	mk("acme", "no-millis", "2026-11-20T09:15:00Z")
	mk("acme", "last-ms", Stamp(to.Add(-time.Millisecond)))
	mk("acme", "at-to", Stamp(to))
	mk("other", "at-from", Stamp(from))
	// Closed cards are listed too.
	c := get(t, s, "acme", "no-millis")
	c.Active, c.Status = false, "closed"
	must(t, "close", s.Update(ctx(t), c))

	want := []string{"acme/at-from", "acme/a-same-ms", "acme/b-same-ms", "acme/no-millis", "acme/offset", "acme/last-ms"}
	for _, withLog := range []bool{false, true} {
		p, err := s.ListByStart(ctx(t), "acme", from, to, cardstore.ListOptions{WithChatLog: withLog})
		must(t, "ListByStart", err)
		same(t, fmt.Sprintf("cards in [from, to) in start order, WithChatLog=%v", withLog), want, ids(p.Cards))
		if p.Next != "" {
			t.Fatalf("one short page but Next=%q", p.Next)
		}
		for _, c := range p.Cards {
			stored := get(t, s, c.Folder, c.SessionID)
			if !withLog {
				if c.ChatLog != nil {
					t.Fatalf("%s listed with its chat log", c.SessionID)
				}
				stored.ChatLog = nil
			}
			same(t, "listed card is the stored card", stored, c)
		}
	}
	p, err := s.ListByStart(ctx(t), "acme", from.Add(time.Millisecond), from.Add(2*time.Millisecond), cardstore.ListOptions{})
	must(t, "ListByStart of one millisecond", err)
	same(t, "one millisecond", []string{"acme/a-same-ms", "acme/b-same-ms"}, ids(p.Cards))
	p, err = s.ListByStart(ctx(t), "acme", to, from, cardstore.ListOptions{})
	must(t, "ListByStart with to before from", err)
	if len(p.Cards) != 0 || p.Next != "" {
		t.Fatalf("to before from listed %v", ids(p.Cards))
	}
	p, err = s.ListByStart(ctx(t), "empty", from, to, cardstore.ListOptions{})
	must(t, "ListByStart of an empty folder", err)
	if len(p.Cards) != 0 {
		t.Fatalf("empty folder listed %v", ids(p.Cards))
	}
}

func testListByStartPaging(t *testing.T, s cardstore.Store) {
	var want []string
	for i := 11; i >= 0; i-- { // created out of order on purpose
		id := fmt.Sprintf("s-%02d", i)
		create(t, s, card.New("acme", id, Stamp(T0.Add(time.Duration(i)*time.Hour))))
	}
	for i := range 12 {
		want = append(want, fmt.Sprintf("acme/s-%02d", i))
	}
	for _, limit := range []int{1, 5, 12, 13} {
		got := listAll(t, func(cursor string) (cardstore.Page, error) {
			return s.ListByStart(ctx(t), "acme", T0, T0.Add(24*time.Hour), cardstore.ListOptions{Cursor: cursor, Limit: limit})
		}, limit, false)
		same(t, fmt.Sprintf("paged by %d", limit), want, ids(got))
	}
}

func testBadCursor(t *testing.T, s cardstore.Store) {
	for i := range 3 {
		create(t, s, card.New("folder-a", fmt.Sprintf("s-%d", i), Stamp(T0)))
		create(t, s, card.New("folder-b", fmt.Sprintf("s-%d", i), Stamp(T0)))
	}
	p, err := s.ListByStart(ctx(t), "folder-a", T0, T0.Add(time.Hour), cardstore.ListOptions{Limit: 1})
	must(t, "ListByStart", err)
	if p.Next == "" {
		t.Fatal("no cursor after a full page")
	}
	_, err = s.ListByStart(ctx(t), "folder-b", T0, T0.Add(time.Hour), cardstore.ListOptions{Limit: 1, Cursor: p.Next})
	wantCode(t, "folder-a's cursor on folder-b", err, card.EINVALID)
	_, err = s.ListActive(ctx(t), "folder-a", cardstore.ListOptions{Limit: 1, Cursor: p.Next})
	wantCode(t, "a start cursor on an active listing", err, card.EINVALID)
	for _, bad := range []string{"garbage!", "eyJ4IjoxfQ", "AAAA"} {
		_, err = s.ListActive(ctx(t), "", cardstore.ListOptions{Cursor: bad})
		wantCode(t, "ListActive cursor "+bad, err, card.EINVALID)
		_, err = s.ListByStart(ctx(t), "folder-a", T0, T0.Add(time.Hour), cardstore.ListOptions{Cursor: bad})
		wantCode(t, "ListByStart cursor "+bad, err, card.EINVALID)
	}
}

func testListFolders(t *testing.T, s cardstore.Store) {
	got, err := s.ListFolders(ctx(t))
	must(t, "ListFolders of an empty store", err)
	if len(got) != 0 {
		t.Fatalf("empty store has folders %v", got)
	}
	for _, f := range []string{"zeta", "alpha", "Mid_1", "alpha"} {
		_, _, err := s.Create(ctx(t), card.New(f, "w-1", Stamp(T0)))
		must(t, "Create in "+f, err)
	}
	got, err = s.ListFolders(ctx(t))
	must(t, "ListFolders", err)
	same(t, "folders, sorted, once each", []string{"Mid_1", "alpha", "zeta"}, got)
}

func testFullCardRoundTrip(t *testing.T, s cardstore.Store) {
	in := FullCard("acme", "w-full")
	want := clone(in)
	want.Version = 1
	got := create(t, s, in)
	same(t, "Create result", want, got)
	same(t, "Get", want, get(t, s, "acme", "w-full"))
	in.Version = 1
	in.Statistics["csg_New"] = stats.Str("1")
	must(t, "Update", s.Update(ctx(t), in))
	same(t, "Get after Update", in, get(t, s, "acme", "w-full"))
	for k, v := range get(t, s, "acme", "w-full").Statistics {
		if v != in.Statistics[k] {
			t.Fatalf("statistics %s: %#v, want %#v (type must survive)", k, v, in.Statistics[k])
		}
	}
}

func testLongChatLog(t *testing.T, s cardstore.Store) {
	c := card.New("acme", "w-long", Stamp(T0))
	c = create(t, s, c)
	c.ChatLog = LongChatLog(5000)
	c.MessageCount = len(c.ChatLog)
	must(t, "Update with 5,000 lines", s.Update(ctx(t), c))
	same(t, "5,000-line chat log", c.ChatLog, get(t, s, "acme", "w-long").ChatLog)
	_, err := s.AttachTicket(ctx(t), "acme", "w-long", "INC-1")
	must(t, "AttachTicket", err)
	same(t, "chat log after AttachTicket", c.ChatLog, get(t, s, "acme", "w-long").ChatLog)
}

func testHugeChatLog(t *testing.T, s cardstore.Store) {
	c := card.New("acme", "w-huge", Stamp(T0))
	c.ChatLog = HugeChatLog(3 << 20)
	c.MessageCount = len(c.ChatLog)
	got := create(t, s, c)
	same(t, "huge chat log from Create", c.ChatLog, got.ChatLog)
	same(t, "huge chat log from Get", c.ChatLog, get(t, s, "acme", "w-huge").ChatLog)

	// Grow it, attach to it, shrink it: each read sees the latest log.
	got.ChatLog = append(got.ChatLog, HugeChatLog(1<<20)...)
	must(t, "Update with a bigger log", s.Update(ctx(t), got))
	same(t, "bigger log", got.ChatLog, get(t, s, "acme", "w-huge").ChatLog)
	_, err := s.AttachTicket(ctx(t), "acme", "w-huge", "INC-1")
	must(t, "AttachTicket", err)
	after := get(t, s, "acme", "w-huge")
	same(t, "log after AttachTicket", got.ChatLog, after.ChatLog)
	p, err := s.ListByStart(ctx(t), "acme", T0, T0.Add(time.Hour), cardstore.ListOptions{WithChatLog: true})
	must(t, "ListByStart WithChatLog", err)
	if len(p.Cards) != 1 {
		t.Fatalf("listed %d cards", len(p.Cards))
	}
	same(t, "listed huge log", got.ChatLog, p.Cards[0].ChatLog)
	after.ChatLog = LongChatLog(10)
	must(t, "Update with a small log", s.Update(ctx(t), after))
	same(t, "small log", after, get(t, s, "acme", "w-huge"))
}
