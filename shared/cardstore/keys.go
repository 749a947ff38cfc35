package cardstore

// The key rules every store shares, so both accept and refuse the same
// folders, session ids and start times.

import (
	"time"

	"github.com/chatcards/chatcards/shared/card"
)

// StartLayout is fixed width so that strings sort as times.
const StartLayout = "2006-01-02T15:04:05.000Z"

// ValidKey holds the folder and session id to the API's character rules
// (card.ValidFolder, card.ValidSessionID), so both stores accept and refuse
// the same keys.
func ValidKey(op, folder, sessionID string) error {
	if err := ValidFolder(op, folder); err != nil {
		return err
	}
	if sessionID == "" || len(sessionID) > 128 {
		return card.Errorf(card.EINVALID, op, "sessionId must be 1 to 128 characters, got %d", len(sessionID))
	}
	if !card.ValidSessionID(sessionID) {
		return card.Errorf(card.EINVALID, op, "sessionId %q: only A-Z a-z 0-9 . _ : - are allowed", sessionID)
	}
	return nil
}

// ValidFolder is card.ValidFolder as a coded error naming the operation.
func ValidFolder(op, folder string) error {
	if folder == "" || len(folder) > 64 {
		return card.Errorf(card.EINVALID, op, "folder must be 1 to 64 characters, got %d", len(folder))
	}
	if !card.ValidFolder(folder) {
		return card.Errorf(card.EINVALID, op, "folder %q: only A-Z a-z 0-9 _ - are allowed", folder)
	}
	return nil
}

// StartKey normalises StartedAt to UTC milliseconds; a sub-millisecond part
// is dropped.
func StartKey(op, startedAt string) (string, error) {
	t, err := time.Parse(time.RFC3339Nano, startedAt)
	if err != nil {
		return "", card.Errorf(card.EINVALID, op, "startedAt %q is not an RFC 3339 time", startedAt)
	}
	return FormatStart(op, t)
}

func FormatStart(op string, t time.Time) (string, error) {
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		return "", card.Errorf(card.EINVALID, op, "time %s is outside years 1 to 9999", t.Format(time.RFC3339))
	}
	return t.Format(StartLayout), nil
}

// StartRange turns [from, to) into key bounds: both are rounded up to the
// millisecond, so a card stored at millisecond m is in when from <= m < to.
func StartRange(op string, from, to time.Time) (lo, hi string, err error) {
	if lo, err = FormatStart(op, ceilMs(from)); err != nil {
		return "", "", err
	}
	if hi, err = FormatStart(op, ceilMs(to)); err != nil {
		return "", "", err
	}
	return lo, hi, nil
}

func ceilMs(t time.Time) time.Time {
	if tr := t.Truncate(time.Millisecond); !tr.Equal(t) {
		return tr.Add(time.Millisecond)
	}
	return t
}
