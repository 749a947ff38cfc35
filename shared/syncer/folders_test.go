package syncer_test

import (
	"context"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/syncer"
)

// The folder's FOLDERS entry reaches the figures of its cards only, and a
// change of FOLDERS recomputes cards whose transcript did not change.
func TestFolderSettingsReachTheirCards(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	newCard(t, store, "open", "s1", t0)
	newCard(t, store, "plain", "s1", t0)
	src := &fakeSource{}
	src.put(chat("s1", 6, false)) // still running: every run looks at it again
	now := t0.Add(2 * time.Hour)
	parse := func(raw string) *folders.Config {
		t.Helper()
		fc, err := folders.Parse([]byte(raw), folders.Defaults{Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		return fc
	}
	allWeek := `{"mon":["00:00-24:00"],"tue":["00:00-24:00"],"wed":["00:00-24:00"],"thu":["00:00-24:00"],"fri":["00:00-24:00"],"sat":["00:00-24:00"],"sun":["00:00-24:00"]}`
	run := func(fc *folders.Config) syncer.Summary {
		t.Helper()
		sum, err := syncer.New(store, src, syncer.Options{Folders: fc, Now: func() time.Time { return now }, Logger: quiet()}).Run(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}

	run(parse(`{"open": {"businessHours": ` + allWeek + `}}`))
	if c := get(t, store, "open", "s1"); c.BusinessHours == nil {
		t.Error("folder with business hours: card has no businessHours figures")
	}
	if c := get(t, store, "plain", "s1"); c.BusinessHours != nil {
		t.Errorf("folder without business hours got %+v", c.BusinessHours)
	}

	// Same FOLDERS: nothing to write; another target: both cards of the
	// changed entry's reach are recomputed, the card's transcript unchanged.
	if sum := run(parse(`{"open": {"businessHours": ` + allWeek + `}}`)); sum.Unchanged != 2 || sum.Updated != 0 {
		t.Errorf("unchanged settings: %+v, want 2 unchanged", sum)
	}
	if sum := run(parse(`{"open": {"businessHours": ` + allWeek + `, "firstReplyTarget": "1s"}}`)); sum.Updated != 1 || sum.Unchanged != 1 {
		t.Errorf("changed entry of folder open: %+v, want 1 updated (open) and 1 unchanged (plain)", sum)
	}
}
