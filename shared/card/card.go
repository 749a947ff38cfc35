// Package card holds the domain at the centre of chatcards: the stored
// chat-session data card of one widget session, and the coded errors every
// adapter speaks.
package card

import (
	"github.com/chatcards/chatcards/shared/stats"
)

// Card is the stored data card of one chatbot widget session in one folder.
// The figures of the statistics spec are embedded, so its JSON is the card
// fields plus the folder and what the chatbot told us at create.
type Card struct {
	Folder string `json:"folder"`
	stats.Card
	Channel      string            `json:"channel,omitempty"`
	Language     string            `json:"language,omitempty"`
	Async        bool              `json:"async"`
	CustomerName string            `json:"customerName,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	// AttachedTickets are the tickets attached through the API, in order;
	// the sync passes them to the statistics engine so they survive.
	AttachedTickets []string `json:"attachedTickets,omitempty"`
	// StartedAt is the create call's start (RFC 3339 UTC ms); the listing by
	// day uses it, as the figures' startTime is absent until the first sync.
	StartedAt    string `json:"startedAt"`
	CreatedAt    string `json:"createdAt"`
	UpdatedAt    string `json:"updatedAt"`
	SyncedAt     string `json:"syncedAt,omitempty"`
	ClosedReason string `json:"closedReason,omitempty"` // why the sync closed it without an `ended`, e.g. stale
	// SourceHash identifies the transcript the figures were computed from, so
	// a sync over an unchanged transcript writes nothing.
	SourceHash string `json:"sourceHash,omitempty"`
	// Version is the optimistic-concurrency counter; every write bumps it.
	Version int64 `json:"version"`
}

// New returns an empty active card, as createChatSession makes it.
func New(folder, sessionID, startedAt string) *Card {
	c := &Card{Folder: folder, StartedAt: startedAt}
	c.SessionID = sessionID
	c.Active = true
	c.Status = "active"
	c.StartTime = startedAt
	c.ChatLog = []stats.LogEntry{}
	c.Members = []string{}
	c.RelatedTickets = []string{}
	c.Markers = []string{}
	c.Pages = []string{}
	c.Statistics = stats.Statistics{}
	c.Agents = []stats.Agent{}
	// "[] when none" (analytics.md), as on a computed card: a client that
	// reads the samples of a new card must not meet null.
	c.ResponseSamples = stats.ResponseSamples{CustomerWaitMs: []int64{}, CustomerWaitBy: []string{}}
	return c
}
