// Package stats computes a chat session's card and statistics from one
// normalised transcript. It is pure: no I/O, no clock, no AWS; the same
// transcript and settings give the same card, byte for byte.
package stats

import (
	"fmt"
	"time"

	"github.com/chatcards/chatcards/shared/folders"
)

// Mode chooses which keys the statistics map carries.
type Mode uint8

const (
	ModeFired Mode = iota // the default: only what was encountered
	ModeNone
	ModeAll
)

func (m Mode) String() string {
	switch m {
	case ModeNone:
		return "none"
	case ModeAll:
		return "all"
	}
	return "fired"
}

// ParseMode reads "none", "fired" or "all".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "none":
		return ModeNone, nil
	case "fired":
		return ModeFired, nil
	case "all":
		return ModeAll, nil
	}
	return ModeFired, fmt.Errorf("stats mode %q: want none, fired or all", s)
}

// Settings of the engine (STATS_MODE, IDLE_THRESHOLD, ASYNC_IDLE_THRESHOLD,
// and the card's folder's FOLDERS entry). Settings stays comparable.
type Settings struct {
	Mode               Mode
	IdleThreshold      time.Duration
	AsyncIdleThreshold time.Duration
	// Folder is the settings of the card's folder (folders.Config.For);
	// nil is every default: no business hours, first-reply target 60 s.
	Folder *folders.Settings
}

// firstReplyTargetMs is the target in whole milliseconds, rounded down: a
// figure of n ms is within a target T exactly when n ≤ ⌊T/1 ms⌋.
func (s Settings) firstReplyTargetMs() int64 {
	if s.Folder == nil {
		return folders.DefaultFirstReplyTarget.Milliseconds()
	}
	return s.Folder.FirstReplyTarget.Milliseconds()
}

// DefaultSettings: mode fired, idle 120 s, async idle 3600 s.
func DefaultSettings() Settings {
	return Settings{Mode: ModeFired, IdleThreshold: 120 * time.Second, AsyncIdleThreshold: time.Hour}
}
