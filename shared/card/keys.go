package card

import "github.com/chatcards/chatcards/shared/transcript"

// ValidFolder reports whether s is a folder code: 1 to 64 of A-Z a-z 0-9 _ -.
// The API, the stores and the sync all hold folders to this one rule.
func ValidFolder(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ValidSessionID is the transcript's rule for a widget session id.
func ValidSessionID(s string) bool { return transcript.ValidSessionID(s) }
