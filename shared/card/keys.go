package card

import (
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/transcript"
)

// ValidFolder reports whether s is a folder code: 1 to 64 of A-Z a-z 0-9 _ -.
// The API, the stores and the sync all hold folders to this one rule.
func ValidFolder(s string) bool { return folders.ValidFolder(s) }

// ValidSessionID is the transcript's rule for a widget session id.
func ValidSessionID(s string) bool { return transcript.ValidSessionID(s) }
