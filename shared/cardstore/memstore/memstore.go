// Package memstore is the embedded, in-process card store: the same contract
// as the DynamoDB store, for tests, local runs and single-process deployments.
package memstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/stats"
)

var _ cardstore.Store = (*Store)(nil)

// DefaultLimit is the page size when ListOptions.Limit is 0 or less.
const DefaultLimit = 100

// Store keeps cards in memory. It is safe for concurrent use. Cards are kept
// as JSON, so nothing a caller holds can alias stored state, and the values
// that come back are exactly what the DynamoDB store would return. A write
// here cannot lose its answer, so the lost-answer contract of
// cardstore.Store (one write, one success) holds by construction; the
// conformance suite checks it all the same (RunLostAnswers with no loss).
type Store struct {
	mu      sync.RWMutex
	folders map[string]map[string]*entry // folder -> sessionId -> entry
	now     func() time.Time
}

// entry is one stored card: its fields without the chat log, and the log
// apart, so listings never decode logs they do not return.
type entry struct {
	doc     []byte // JSON of the card with ChatLog nil
	log     []byte // JSON of the chat log
	version int64
	active  bool
	start   string // normalised StartedAt, fixed width, sorts as time
	session string
}

// New returns an empty store.
func New() *Store {
	return &Store{folders: map[string]map[string]*entry{}, now: time.Now}
}

// Create implements cardstore.Store.
func (s *Store) Create(ctx context.Context, c *card.Card) (*card.Card, bool, error) {
	const op = "memstore.Create"
	if err := ctx.Err(); err != nil {
		return nil, false, card.Wrap(card.EINTERNAL, op, err)
	}
	if c == nil {
		return nil, false, card.Errorf(card.EINVALID, op, "card is nil")
	}
	if err := cardstore.ValidKey(op, c.Folder, c.SessionID); err != nil {
		return nil, false, err
	}
	start, err := cardstore.StartKey(op, c.StartedAt)
	if err != nil {
		return nil, false, err
	}
	cp := *c
	cp.Version = 1
	e, err := encode(op, &cp, start)
	if err != nil {
		return nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.folders[c.Folder]
	if f == nil {
		f = map[string]*entry{}
		s.folders[c.Folder] = f
	}
	if old := f[c.SessionID]; old != nil {
		out, err := decode(op, old, true)
		return out, false, err
	}
	f[c.SessionID] = e
	out, err := decode(op, e, true)
	return out, true, err
}

// Get implements cardstore.Store.
func (s *Store) Get(ctx context.Context, folder, sessionID string) (*card.Card, error) {
	const op = "memstore.Get"
	if err := ctx.Err(); err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, err)
	}
	if err := cardstore.ValidKey(op, folder, sessionID); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.folders[folder][sessionID]
	if e == nil {
		return nil, card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", sessionID)
	}
	return decode(op, e, true)
}

// AttachTicket implements cardstore.Store. A change stamps UpdatedAt.
func (s *Store) AttachTicket(ctx context.Context, folder, sessionID, ticket string) (*card.Card, error) {
	const op = "memstore.AttachTicket"
	if err := ctx.Err(); err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, err)
	}
	if err := cardstore.ValidKey(op, folder, sessionID); err != nil {
		return nil, err
	}
	if ticket == "" {
		return nil, card.Errorf(card.EINVALID, op, "ticket is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.folders[folder][sessionID]
	if e == nil {
		return nil, card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", sessionID)
	}
	c, err := decode(op, e, true)
	if err != nil {
		return nil, err
	}
	if !addTicket(c, ticket, s.now()) {
		return c, nil
	}
	c.Version = e.version + 1
	ne, err := encode(op, c, e.start)
	if err != nil {
		return nil, err
	}
	s.folders[folder][sessionID] = ne
	return c, nil
}

// addTicket appends ticket where absent and reports whether it changed c.
func addTicket(c *card.Card, ticket string, now time.Time) bool {
	changed := false
	if !slices.Contains(c.AttachedTickets, ticket) {
		c.AttachedTickets = append(c.AttachedTickets, ticket)
		changed = true
	}
	if !slices.Contains(c.RelatedTickets, ticket) {
		c.RelatedTickets = append(c.RelatedTickets, ticket)
		changed = true
	}
	if changed {
		c.UpdatedAt = now.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	return changed
}

// Update implements cardstore.Store.
func (s *Store) Update(ctx context.Context, c *card.Card) error {
	const op = "memstore.Update"
	if err := ctx.Err(); err != nil {
		return card.Wrap(card.EINTERNAL, op, err)
	}
	if c == nil {
		return card.Errorf(card.EINVALID, op, "card is nil")
	}
	if err := cardstore.ValidKey(op, c.Folder, c.SessionID); err != nil {
		return err
	}
	start, err := cardstore.StartKey(op, c.StartedAt)
	if err != nil {
		return err
	}
	cp := *c
	cp.Version = c.Version + 1
	e, err := encode(op, &cp, start)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.folders[c.Folder][c.SessionID]
	if old == nil {
		return card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", c.SessionID)
	}
	if old.version != c.Version {
		return card.Errorf(card.ECONFLICT, op, "card %s is at version %d, not %d: re-read and retry", c.SessionID, old.version, c.Version)
	}
	s.folders[c.Folder][c.SessionID] = e
	c.Version = cp.Version
	return nil
}

// ListActive implements cardstore.Store. Cards come in folder, StartedAt,
// sessionId order.
func (s *Store) ListActive(ctx context.Context, folder string, opt cardstore.ListOptions) (cardstore.Page, error) {
	const op = "memstore.ListActive"
	if err := ctx.Err(); err != nil {
		return cardstore.Page{}, card.Wrap(card.EINTERNAL, op, err)
	}
	if folder != "" {
		if err := cardstore.ValidFolder(op, folder); err != nil {
			return cardstore.Page{}, err
		}
	}
	after, err := decodeCursor(op, opt.Cursor, "a:"+folder)
	if err != nil {
		return cardstore.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var rows []row
	for f, m := range s.folders {
		if folder != "" && f != folder {
			continue
		}
		for _, e := range m {
			if e.active {
				rows = append(rows, row{key: f + "#" + e.start + "#" + e.session, e: e})
			}
		}
	}
	return s.page(op, rows, after, "a:"+folder, opt)
}

// ListByStart implements cardstore.Store. StartedAt is compared to the
// millisecond; ties come in sessionId order.
func (s *Store) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	const op = "memstore.ListByStart"
	if err := ctx.Err(); err != nil {
		return cardstore.Page{}, card.Wrap(card.EINTERNAL, op, err)
	}
	if err := cardstore.ValidFolder(op, folder); err != nil {
		return cardstore.Page{}, err
	}
	lo, hi, err := cardstore.StartRange(op, from, to)
	if err != nil {
		return cardstore.Page{}, err
	}
	after, err := decodeCursor(op, opt.Cursor, "s:"+folder)
	if err != nil {
		return cardstore.Page{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var rows []row
	for _, e := range s.folders[folder] {
		if e.start >= lo && e.start < hi {
			rows = append(rows, row{key: e.start + "#" + e.session, e: e})
		}
	}
	return s.page(op, rows, after, "s:"+folder, opt)
}

type row struct {
	key string
	e   *entry
}

func (s *Store) page(op string, rows []row, after, scope string, opt cardstore.ListOptions) (cardstore.Page, error) {
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.key, b.key) })
	limit := opt.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	i, _ := slices.BinarySearchFunc(rows, after, func(r row, k string) int { return strings.Compare(r.key, k) })
	if after != "" && i < len(rows) && rows[i].key == after {
		i++
	}
	var p cardstore.Page
	for ; i < len(rows) && len(p.Cards) < limit; i++ {
		c, err := decode(op, rows[i].e, opt.WithChatLog)
		if err != nil {
			return cardstore.Page{}, err
		}
		p.Cards = append(p.Cards, c)
	}
	if i < len(rows) {
		p.Next = encodeCursor(scope, rows[i-1].key)
	}
	return p, nil
}

// ListFolders implements cardstore.Store.
func (s *Store) ListFolders(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, card.Wrap(card.EINTERNAL, "memstore.ListFolders", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := []string{}
	for f, m := range s.folders {
		if len(m) > 0 {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out, nil
}

func encode(op string, c *card.Card, start string) (*entry, error) {
	log := c.ChatLog
	cp := *c
	cp.ChatLog = nil
	doc, err := json.Marshal(&cp)
	if err != nil {
		return nil, card.Wrap(card.EINVALID, op, fmt.Errorf("encode card %s: %w", c.SessionID, err))
	}
	lb, err := json.Marshal(log)
	if err != nil {
		return nil, card.Wrap(card.EINVALID, op, fmt.Errorf("encode chat log of %s: %w", c.SessionID, err))
	}
	return &entry{doc: doc, log: lb, version: c.Version, active: c.Active, start: start, session: c.SessionID}, nil
}

func decode(op string, e *entry, withLog bool) (*card.Card, error) {
	c := new(card.Card)
	if err := json.Unmarshal(e.doc, c); err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, fmt.Errorf("decode card %s: %w", e.session, err))
	}
	c.ChatLog = nil
	if withLog {
		var log []stats.LogEntry
		if err := json.Unmarshal(e.log, &log); err != nil {
			return nil, card.Wrap(card.EINTERNAL, op, fmt.Errorf("decode chat log of %s: %w", e.session, err))
		}
		c.ChatLog = log
	}
	c.Version = e.version
	return c, nil
}

// Cursors carry the listing they belong to, so one cannot be replayed
// against another folder or listing.
func encodeCursor(scope, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00" + key))
}

func decodeCursor(op, cursor, scope string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", card.Errorf(card.EINVALID, op, "cursor is not one this listing returned")
	}
	sc, key, ok := strings.Cut(string(b), "\x00")
	if !ok || sc != scope || key == "" {
		return "", card.Errorf(card.EINVALID, op, "cursor is not one this listing returned")
	}
	return key, nil
}
