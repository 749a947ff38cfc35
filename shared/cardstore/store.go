// Package cardstore is the card store port: where cards live between the API
// that creates them, the sync that fills them and the export that reads them.
// Implementations: memstore (embedded, in-process) and dynamostore (DynamoDB).
package cardstore

import (
	"context"
	"time"

	"github.com/chatcards/chatcards/shared/card"
)

// Store keeps cards. Every key includes the folder. Errors are *card.Error:
// ENOTFOUND for a missing card, ECONFLICT for a stale Update, EUNAVAILABLE
// for throttling, an outage or a call that got no answer in time, EINVALID
// for bad arguments.
//
// A write that was applied is reported as exactly one success even when its
// answer was lost on the way back and the transport retried it: Create tells
// the caller whose write made the card created=true, Update bumps Version
// once, AttachTicket attaches once; never ECONFLICT or created=false for a
// write that happened (cardstoretest.RunLostAnswers). A write that ends in
// EUNAVAILABLE may or may not have been applied: re-read before writing again.
type Store interface {
	// Create stores c unless the folder already has its sessionId; it then
	// returns the stored card untouched and created=false. Never overwrites.
	Create(ctx context.Context, c *card.Card) (stored *card.Card, created bool, err error)
	// Get returns the card with its chat log.
	Get(ctx context.Context, folder, sessionID string) (*card.Card, error)
	// AttachTicket adds ticket to AttachedTickets and RelatedTickets unless
	// present (idempotent) and returns the card; it bumps Version when it
	// changes anything.
	AttachTicket(ctx context.Context, folder, sessionID, ticket string) (*card.Card, error)
	// Update writes c if the stored Version equals c.Version, then sets
	// c.Version to the new version. A stale writer gets ECONFLICT and must
	// re-read, recompute and retry.
	Update(ctx context.Context, c *card.Card) error
	// ListActive pages through active cards of one folder, or of every folder
	// when folder is "". Never a table scan.
	ListActive(ctx context.Context, folder string, opt ListOptions) (Page, error)
	// ListByStart pages through a folder's cards whose StartedAt is in
	// [from, to), in StartedAt order. Never a table scan.
	ListByStart(ctx context.Context, folder string, from, to time.Time, opt ListOptions) (Page, error)
	// ListFolders returns every folder that has at least one card, sorted.
	ListFolders(ctx context.Context) ([]string, error)
}

// ListOptions control a listing. Cursor is opaque, from the previous Page.
// Limit <= 0 means the implementation's default page size. Listings leave
// ChatLog nil unless WithChatLog is set.
type ListOptions struct {
	Cursor      string
	Limit       int
	WithChatLog bool
}

// Page is one page of a listing; Next is "" after the last page.
type Page struct {
	Cards []*card.Card
	Next  string
}
