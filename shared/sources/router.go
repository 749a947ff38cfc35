package sources

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
)

// KeyFetcher is a source that can serve one S3 object-created event: it
// reads the object at key and returns the widget session it belongs to with
// that session's transcript (Connect implements it).
type KeyFetcher interface {
	FetchKey(ctx context.Context, key string) (sessionID string, res Result, err error)
}

// S3Located is a source that reads one bucket and key prefix; the router maps
// S3 events to the folder bound to it.
type S3Located interface {
	S3Location() (bucket, prefix string)
}

// Router binds sources to folders, as SOURCES does: each card is fetched from
// its own folder's source, or from the "*" source when its folder has none.
// Fetch routes by Request.Folder, so a Router is itself a Source the syncer
// takes. It is safe for concurrent use (it never changes after NewRouter).
type Router struct {
	byFolder map[string]Source
	def      Source // "*", or nil: folders without an entry have no source
	located  []located
	// discover holds the entries with "discover": true (folder or "*"); set
	// by Open, never changed after.
	discover map[string]bool
}

type located struct {
	folder, bucket, prefix string
	src                    KeyFetcher
}

var _ Source = (*Router)(nil)

// NewRouter binds sources to folder codes ("*" is the default). Two folders
// bound to the same bucket and prefix are ambiguous for S3 events: an error.
func NewRouter(bound map[string]Source) (*Router, error) {
	if len(bound) == 0 {
		return nil, errors.New("sources: no source configured")
	}
	r := &Router{byFolder: map[string]Source{}}
	folders := make([]string, 0, len(bound))
	for f := range bound {
		folders = append(folders, f)
	}
	slices.Sort(folders) // stable errors
	seen := map[[2]string]string{}
	for _, f := range folders {
		src := bound[f]
		if src == nil {
			return nil, fmt.Errorf("sources: folder %q has a nil source", f)
		}
		if f == DefaultFolder {
			r.def = src
		} else {
			if !card.ValidFolder(f) {
				return nil, fmt.Errorf("sources: %q is not a folder code", f)
			}
			r.byFolder[f] = src
		}
		loc, ok := src.(S3Located)
		if !ok {
			continue
		}
		bucket, prefix := loc.S3Location()
		if other, dup := seen[[2]string{bucket, prefix}]; dup {
			return nil, fmt.Errorf("sources: SOURCES[%q] and SOURCES[%q] both read s3://%s/%s: an S3 event there could not be told apart; give each folder its own bucket or prefix", other, f, bucket, prefix)
		}
		seen[[2]string{bucket, prefix}] = f
		if kf, ok := src.(KeyFetcher); ok {
			r.located = append(r.located, located{folder: f, bucket: bucket, prefix: prefix, src: kf})
		}
	}
	return r, nil
}

// Single is a Router with one source for every folder (the "*" entry).
func Single(src Source) *Router {
	r, err := NewRouter(map[string]Source{DefaultFolder: src})
	if err != nil {
		panic(err) // only a nil src fails, a programming error
	}
	return r
}

// For returns the source of folder: its own, else the "*" one.
func (r *Router) For(folder string) (Source, bool) {
	if s, ok := r.byFolder[folder]; ok {
		return s, true
	}
	return r.def, r.def != nil
}

// Folders lists the folders bound by name (not "*"), sorted: discovery must
// reach a folder that has no card yet, which no card listing names.
func (r *Router) Folders() []string {
	out := make([]string, 0, len(r.byFolder))
	for f := range r.byFolder {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Discovering returns folder's source as a Discoverer when its entry (its
// own, else "*") has "discover": true.
func (r *Router) Discovering(folder string) (Discoverer, bool) {
	key := folder
	if _, own := r.byFolder[folder]; !own {
		key = DefaultFolder
	}
	if !r.discover[key] {
		return nil, false
	}
	src, ok := r.For(folder)
	if !ok {
		return nil, false
	}
	d, ok := src.(Discoverer)
	return d, ok
}

// Fetch fetches from the source bound to r.Folder.
func (r *Router) Fetch(ctx context.Context, req Request) (Result, error) {
	src, ok := r.For(req.Folder)
	if !ok {
		return Result{}, fmt.Errorf("sources: folder %q has no source (no SOURCES entry for it and no \"*\")", req.Folder)
	}
	return src.Fetch(ctx, req)
}

// HasObjects reports whether any bound source serves S3 object events.
func (r *Router) HasObjects() bool { return len(r.located) > 0 }

// ErrNoFolderForObject means an S3 object is not under any folder's source.
var ErrNoFolderForObject = errors.New("sources: no folder's source reads this object")

// ForObject returns the folder whose source reads s3://bucket/key and that
// source, from the bucket and key alone: key must be the source's prefix
// followed by a day path and a Connect file name (YYYY/MM/DD/<name>), so at
// most one binding can match. An object that only the "*" source reads is
// refused: "*" stands for many folders and the object names none of them.
func (r *Router) ForObject(bucket, key string) (folder string, src KeyFetcher, err error) {
	for _, l := range r.located {
		if l.bucket != bucket || !strings.HasPrefix(key, l.prefix) {
			continue
		}
		rest := key[len(l.prefix):]
		if strings.Count(rest, "/") != 3 || len(rest) < len("2006/01/02/") {
			continue
		}
		if _, err := time.Parse("2006/01/02/", rest[:len("2006/01/02/")]); err != nil {
			continue
		}
		if _, _, ok := ParseConnectKey(rest); !ok {
			continue
		}
		if l.folder == DefaultFolder {
			return "", nil, fmt.Errorf("%w: s3://%s/%s is read by the \"*\" source, which serves every folder without its own entry, so the object's folder is unknown; bind this bucket and prefix to its folder in SOURCES", ErrNoFolderForObject, bucket, key)
		}
		return l.folder, l.src, nil
	}
	return "", nil, fmt.Errorf("%w: s3://%s/%s", ErrNoFolderForObject, bucket, key)
}
