// Package sources reads a session's transcript from where the chat platform
// keeps it (its history API, Amazon Connect objects in S3, or a folder of files)
// and hands the sync one normalised transcript v1, whatever the origin.
package sources

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/chatcards/chatcards/shared/transcript"
)

// Request names the card whose transcript the sync wants.
type Request struct {
	Folder    string
	SessionID string
	// StartedAt is the card's start; the connect source lists the day
	// prefixes from this day (UTC) to the next one.
	StartedAt time.Time
}

// Result is a fetched, decoded and normalised transcript.
type Result struct {
	Transcript *transcript.Transcript
	// Hash is the hex SHA-256 of the bytes the transcript was decoded from
	// (see HashDocs), so the sync can skip a transcript that did not change.
	Hash string
	// Figures is what the platform itself reported for the chat (the card's
	// platformFigures, as formats.Decoded.Figures); nil when it reports none.
	Figures json.RawMessage
}

// Source yields the transcript of one session.
type Source interface {
	Fetch(ctx context.Context, r Request) (Result, error)
}

// Sweeper is a source whose platform lists the transcripts updated since a
// time in one paged walk, so a run need not fetch card by card. Results carry
// their transcript's sessionId; the caller matches them to the folder's cards.
type Sweeper interface {
	SweepFolder(ctx context.Context, folder string, since time.Time, fn func(Result) error) error
}

// Discovered is a conversation the platform lists, as discovery sees it.
type Discovered struct {
	SessionID string
	StartedAt time.Time
}

// Discoverer is a source whose platform lists its conversations (updated
// since a time, paged), so the sync can create cards for conversations no
// chatbot registered (a folder's `discover: true`).
type Discoverer interface {
	Discover(ctx context.Context, folder string, since time.Time, fn func(Discovered) error) error
}

// ErrNotYet means the platform does not know the session yet (HTTP 404, no
// object, no file): the card stays active and is tried again on the next run.
var ErrNotYet = errors.New("sources: transcript not available yet")

// BadTranscriptError is a transcript the source did get but could not accept:
// not decodable, failing the rules of reading, too large, or for another
// session. Retrying will not help until the platform's data changes, so the
// sync counts it apart from platform failures.
type BadTranscriptError struct {
	SessionID string
	Err       error
}

func (e *BadTranscriptError) Error() string {
	return fmt.Sprintf("sources: bad transcript for session %s: %v", e.SessionID, e.Err)
}

func (e *BadTranscriptError) Unwrap() error { return e.Err }

// IsBadTranscript reports whether err (or anything it wraps) is a
// BadTranscriptError. Any other error but ErrNotYet is a platform failure.
func IsBadTranscript(err error) bool {
	var b *BadTranscriptError
	return errors.As(err, &b)
}

func badTranscript(sessionID string, err error) error {
	return &BadTranscriptError{SessionID: sessionID, Err: err}
}

// HashDocs is the Result.Hash of the given documents, taken in the order
// given (callers pass them in a stable order). One document hashes to the
// plain SHA-256 of its bytes, so `sha256sum file.json` matches; several are
// length-prefixed so no two different lists share a hash.
func HashDocs(docs ...[]byte) string {
	h := sha256.New()
	if len(docs) == 1 {
		h.Write(docs[0])
		return hex.EncodeToString(h.Sum(nil))
	}
	var n [binary.MaxVarintLen64]byte
	for _, d := range docs {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(d)))])
		h.Write(d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkSession rejects a transcript that is not the one asked for: a
// misrouted platform answer must never land on another session's card.
func checkSession(want string, t *transcript.Transcript) error {
	if t.SessionID != want {
		return badTranscript(want, fmt.Errorf("sessionId is %q, not the requested %q", t.SessionID, want))
	}
	return nil
}
