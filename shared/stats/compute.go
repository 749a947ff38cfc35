package stats

import "github.com/chatcards/chatcards/shared/transcript"

// Compute returns the card of a normalised transcript (see
// transcript.Normalize). attachedTickets are the tickets attached through
// the API; they follow the transcript's own tickets without repeats.
func Compute(t *transcript.Transcript, s Settings, attachedTickets []string) *Card {
	panic("TODO")
}
