package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/transcript"
)

// The prepass of a run, before the card-by-card work: discovery creates the
// cards of conversations no chatbot registered, then the sweep answers the
// folder's changed transcripts in one paged walk. Both single runs and the
// fan-out planner run it, so both modes behave alike.

// errPastStop ends a walk at the run's stop time.
var errPastStop = errors.New("sync: the run's stop time came")

// folderSources is the syncer's source as a router: a *sources.Router binds
// sources to folders, any other source serves every folder.
func (s *Syncer) sourceFor(folder string) (sources.Source, bool) {
	if r, ok := s.src.(*sources.Router); ok {
		return r.For(folder)
	}
	return s.src, s.src != nil
}

func (s *Syncer) sweeper(folder string) (sources.Sweeper, bool) {
	src, ok := s.sourceFor(folder)
	if !ok {
		return nil, false
	}
	sw, ok := src.(sources.Sweeper)
	return sw, ok
}

func (s *Syncer) discoverer(folder string) (sources.Discoverer, bool) {
	if r, ok := s.src.(*sources.Router); ok {
		return r.Discovering(folder)
	}
	return nil, false // a bare source has no SOURCES entry to opt in
}

// hasPrepass reports whether any folder's source can sweep or discover; when
// none can, a run lists every folder's active cards at once, as before.
func (s *Syncer) hasPrepass() bool {
	r, ok := s.src.(*sources.Router)
	if !ok {
		_, sw := s.src.(sources.Sweeper)
		return sw
	}
	if _, ok := s.sweeper("\x00"); ok { // no folder is named "\x00": the "*" source
		return true
	}
	for _, f := range r.Folders() {
		if _, ok := s.sweeper(f); ok {
			return true
		}
		if _, ok := r.Discovering(f); ok {
			return true
		}
	}
	_, ok = r.Discovering("\x00")
	return ok
}

// prepare runs discovery and the sweep for each folder (every folder when
// none are given: those with cards, plus those SOURCES names, since a folder
// being discovered may have no card yet). It returns the folders the card
// listing must then go through (nil: all at once) and, per folder, the
// sessions the sweep answered, which need no request of their own. A
// platform's failure to sweep or list is logged and only means more
// card-by-card work; an error is returned only when the folders cannot be
// listed.
func (s *Syncer) prepare(ctx context.Context, folders []string, began time.Time, past func() bool, sum *Summary, mu *sync.Mutex) ([]string, map[string]map[string]bool, error) {
	if !s.hasPrepass() {
		return folders, nil, nil
	}
	if len(folders) == 0 {
		var err error
		if folders, err = s.store.ListFolders(ctx); err != nil {
			return nil, nil, fmt.Errorf("sync: list folders: %w", err)
		}
		if r, ok := s.src.(*sources.Router); ok {
			for _, f := range r.Folders() {
				if !slices.Contains(folders, f) {
					folders = append(folders, f)
				}
			}
			slices.Sort(folders)
		}
	}
	answered := map[string]map[string]bool{}
	for _, f := range folders {
		if past() {
			break
		}
		if d, ok := s.discoverer(f); ok {
			n, err := s.discover(ctx, f, d, began, past)
			mu.Lock()
			sum.Discovered += n
			mu.Unlock()
			if err != nil {
				s.opt.Logger.Warn("sync discovery incomplete", "folder", f, "created", n, "error", err.Error())
			}
		}
		if sw, ok := s.sweeper(f); ok {
			got, err := s.sweep(ctx, f, sw, began, past, sum, mu)
			answered[f] = got
			switch {
			case errors.Is(err, sources.ErrSweepUnsupported):
				s.opt.Logger.Info("sync sweep not offered by the platform: card by card", "folder", f)
			case err != nil:
				s.opt.Logger.Warn("sync sweep incomplete: the rest card by card", "folder", f, "answered", len(got), "error", err.Error())
			}
		}
	}
	return folders, answered, nil
}

// since is where a walk of kind starts: the stored watermark less the
// overlap, or, on the first walk, StaleAfter before the run (anything older
// would be closed as stale at once).
func (s *Syncer) since(ctx context.Context, folder, kind string, began time.Time) (time.Time, error) {
	mark, err := s.opt.State.Watermark(ctx, folder, kind)
	if err != nil {
		return time.Time{}, err
	}
	if mark.IsZero() {
		return began.Add(-s.opt.StaleAfter), nil
	}
	return mark.Add(-s.opt.SweepOverlap), nil
}

// only reports whether err is nil or every error joined in it matches is.
func only(err error, is func(error) bool) bool {
	if err == nil {
		return true
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !only(e, is) {
				return false
			}
		}
		return true
	}
	return is(err)
}

// discover creates an active card for each conversation folder's platform
// lists since the watermark. Create never overwrites, so a card the chatbot
// or an earlier discovery made is left as it is and running discovery twice
// creates nothing twice. The watermark moves to the run's start once the
// walk is complete (unreadable rows skipped) and never moves back.
func (s *Syncer) discover(ctx context.Context, folder string, d sources.Discoverer, began time.Time, past func() bool) (int, error) {
	since, err := s.since(ctx, folder, MarkDiscover, began)
	if err != nil {
		return 0, err
	}
	created := 0
	err = d.Discover(ctx, folder, since, func(x sources.Discovered) error {
		if past() {
			return errPastStop
		}
		c := card.New(folder, x.SessionID, transcript.FormatMillis(x.StartedAt.UnixMilli()))
		_, made, err := s.store.Create(ctx, c)
		if err != nil {
			if card.ErrorCode(err) == card.EINVALID {
				s.opt.Logger.Warn("sync discovery: listed session refused", "folder", folder, "error", err.Error())
				return nil
			}
			return fmt.Errorf("create discovered card: %w", err)
		}
		if made {
			created++
		}
		return nil
	})
	if only(err, func(e error) bool { return errors.Is(e, sources.ErrBadListingItem) }) {
		if aerr := s.opt.State.AdvanceWatermark(ctx, folder, MarkDiscover, began); aerr != nil {
			return created, errors.Join(err, aerr)
		}
	}
	return created, err
}

// sweep applies every transcript folder's platform updated since the
// watermark to the folder's card with the same sessionId (through apply: the
// tenant check, the source hash and the optimistic update as card by card),
// Concurrency at a time. A transcript without a card is left: discovery, not
// the sweep, makes cards. It returns the sessions answered. The watermark
// moves to the run's start only when the walk is complete (transcripts it
// could not read are left to the card-by-card fetch).
func (s *Syncer) sweep(ctx context.Context, folder string, sw sources.Sweeper, began time.Time, past func() bool, sum *Summary, mu *sync.Mutex) (map[string]bool, error) {
	since, err := s.since(ctx, folder, MarkSweep, began)
	if err != nil {
		return nil, err
	}
	answered := map[string]bool{}
	results := make(chan sources.Result)
	var wg sync.WaitGroup
	for range s.opt.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for res := range results {
				o, err := s.applySwept(ctx, folder, &res)
				if o == "" {
					continue // no card, or a closed one the transcript did not change
				}
				if err != nil {
					s.opt.Logger.Warn("sync swept session failed", "folder", folder, "sessionId", res.Transcript.SessionID, "outcome", string(o), "error", err.Error())
				}
				mu.Lock()
				sum.add(o, sources.IsBadTranscript(err), false)
				if err == nil && (o == Updated || o == Closed || o == Unchanged || o == Skipped) {
					answered[res.Transcript.SessionID] = true
					sum.Swept++
				}
				mu.Unlock()
				if s.opt.OnDone != nil {
					s.opt.OnDone(o)
				}
			}
		}()
	}
	err = sw.SweepFolder(ctx, folder, since, func(res sources.Result) error {
		if past() {
			return errPastStop
		}
		select {
		case results <- res:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(results)
	wg.Wait()
	if only(err, sources.IsBadTranscript) {
		if aerr := s.opt.State.AdvanceWatermark(ctx, folder, MarkSweep, began); aerr != nil {
			return answered, errors.Join(err, aerr)
		}
	}
	return answered, err
}

// applySwept applies one swept transcript to its card in folder. It returns
// "" when there is nothing to count: no such card, or a card its transcript
// closed that the same transcript would leave unchanged (the per-card path
// never looks at those either, so both paths count alike).
func (s *Syncer) applySwept(ctx context.Context, folder string, res *sources.Result) (Outcome, error) {
	c, err := s.store.Get(ctx, folder, res.Transcript.SessionID)
	if card.ErrorCode(err) == card.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return Failed, err
	}
	o, err := s.apply(ctx, c, res)
	if o == Unchanged && err == nil && !c.Active && !staleClosed(c) {
		return "", nil
	}
	return o, err
}
