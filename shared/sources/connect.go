package sources

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/chatcards/chatcards/shared/transcript"
)

// S3API is the part of the S3 client the connect source uses.
type S3API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Connect reads Amazon Connect chat transcripts from S3. A widget session
// can span several contacts (transfers make new contacts with the same
// InitialContactId), each in its own object named by its own contact id, so
// finding them means knowing every object's InitialContactId. The source keeps
// a per-day index of that, built once per object and shared by every Fetch of
// the run (safe for concurrent use).
type Connect struct {
	s3     S3API
	bucket string
	prefix string

	// ListTTL is how long a day's listing is trusted before it is listed
	// again to find new objects (default 30 s; objects already indexed are
	// never read again for the index unless their ETag changes).
	ListTTL time.Duration
	// MaxDays bounds the days kept indexed; the least recently used day is
	// dropped first (default 16).
	MaxDays int
	// Now is the clock for ListTTL (default time.Now).
	Now func() time.Time

	mu   sync.Mutex
	days map[string]*dayIndex
	tick uint64 // LRU clock
}

var _ Source = (*Connect)(nil)

// dayIndex is what one day prefix holds. Its own mutex makes concurrent
// fetches of the same day wait for one refresh instead of each listing.
type dayIndex struct {
	mu       sync.Mutex
	listedAt time.Time
	used     uint64
	objects  map[string]indexEntry // by key
}

type indexEntry struct {
	etag       string
	initial    string // InitialContactId
	contact    string // ContactId
	unreadable bool   // the object is not a Connect transcript; kept so it is not re-read
}

// maxConnectObject caps one Connect object, as MaxBodyBytes caps a response.
const maxConnectObject = MaxBodyBytes

// NewConnect returns a source over bucket. prefix is the part before
// YYYY/MM/DD/ (e.g. connect/my-instance/ChatTranscripts/); a missing final
// slash is added.
func NewConnect(client S3API, bucket, prefix string) (*Connect, error) {
	if client == nil {
		return nil, errors.New("sources.NewConnect: S3 client is required")
	}
	if bucket == "" {
		return nil, errors.New("sources.NewConnect: bucket is required")
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Connect{s3: client, bucket: bucket, prefix: prefix, days: map[string]*dayIndex{}}, nil
}

// S3Location is the bucket and prefix the source reads, so an S3 event can
// be mapped to the folder this source is bound to.
func (c *Connect) S3Location() (bucket, prefix string) { return c.bucket, c.prefix }

// Fetch finds every object of the session's contacts in the card's start day
// and the next (UTC) and merges them into one transcript.
func (c *Connect) Fetch(ctx context.Context, r Request) (Result, error) {
	if !transcript.ValidSessionID(r.SessionID) {
		return Result{}, fmt.Errorf("sources: connect: session id %q is not a valid contact id", r.SessionID)
	}
	if r.StartedAt.IsZero() {
		return Result{}, fmt.Errorf("sources: connect: session %s: the card has no start time to find its day", r.SessionID)
	}
	day := r.StartedAt.UTC().Truncate(24 * time.Hour)
	return c.fetch(ctx, r.SessionID, day, day.AddDate(0, 0, 1))
}

// FetchKey serves an S3 "Object Created" event: it reads the object at key
// (as stored, not URL-encoded), takes its InitialContactId as the session id
// and returns that session's merged transcript. The days searched are the
// object's day and the days either side, since the initial contact may have
// begun the day before a transfer written after midnight.
func (c *Connect) FetchKey(ctx context.Context, key string) (sessionID string, res Result, err error) {
	_, at, ok := ParseConnectKey(key)
	if !ok {
		return "", Result{}, fmt.Errorf("sources: connect: %q is not a Connect transcript key (<contactId>_<YYYYMMDD>T<HH:MM>_UTC.json)", key)
	}
	body, _, err := c.get(ctx, key)
	if err != nil {
		return "", Result{}, err
	}
	if body == nil {
		return "", Result{}, fmt.Errorf("sources: connect: object %s: %w", key, ErrNotYet)
	}
	ids, err := readContactIDs(body)
	if err != nil {
		return "", Result{}, badTranscript(key, err)
	}
	sessionID = ids.initial
	if !transcript.ValidSessionID(sessionID) {
		return "", Result{}, badTranscript(key, fmt.Errorf("InitialContactId %q is not a valid session id", sessionID))
	}
	day := at.Truncate(24 * time.Hour)
	res, err = c.fetch(ctx, sessionID, day.AddDate(0, 0, -1), day.AddDate(0, 0, 1))
	return sessionID, res, err
}

func (c *Connect) fetch(ctx context.Context, sessionID string, from, to time.Time) (Result, error) {
	var keys []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		k, err := c.match(ctx, d, sessionID)
		if err != nil {
			return Result{}, err
		}
		keys = append(keys, k...)
	}
	if len(keys) == 0 {
		return Result{}, fmt.Errorf("session %s: no Connect object from %s to %s: %w", sessionID, from.Format(time.DateOnly), to.Format(time.DateOnly), ErrNotYet)
	}
	// Keys sort by contact id then time; that order is arbitrary but stable,
	// which is all the hash needs (the merge orders events by time).
	slices.Sort(keys)
	docs := make([][]byte, 0, len(keys))
	for _, k := range keys {
		body, _, err := c.get(ctx, k)
		if err != nil {
			return Result{}, err
		}
		if body == nil {
			continue // deleted since it was listed
		}
		docs = append(docs, body)
	}
	if len(docs) == 0 {
		return Result{}, fmt.Errorf("session %s: Connect objects vanished: %w", sessionID, ErrNotYet)
	}
	t, err := transcript.MergeConnect(sessionID, docs)
	if err != nil {
		return Result{}, badTranscript(sessionID, err)
	}
	if err := checkSession(sessionID, t); err != nil {
		return Result{}, err
	}
	return Result{Transcript: t, Hash: HashDocs(docs...)}, nil
}

// match returns the keys of day whose contact is sessionID or whose initial
// contact is sessionID.
func (c *Connect) match(ctx context.Context, day time.Time, sessionID string) ([]string, error) {
	idx := c.day(day)
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if err := c.refresh(ctx, day, idx); err != nil {
		return nil, err
	}
	var keys []string
	for k, e := range idx.objects {
		if e.initial == sessionID || e.contact == sessionID {
			keys = append(keys, k)
		} else if e.unreadable {
			// An unreadable object named after the session is still the
			// session's: the merge reports it as a bad transcript.
			if id, _, ok := ParseConnectKey(k); ok && id == sessionID {
				keys = append(keys, k)
			}
		}
	}
	return keys, nil
}

func (c *Connect) day(day time.Time) *dayIndex {
	name := day.Format("2006/01/02/")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	idx := c.days[name]
	if idx == nil {
		maxDays := c.MaxDays
		if maxDays <= 0 {
			maxDays = 16
		}
		for len(c.days) >= maxDays {
			var oldest string
			var used uint64 = ^uint64(0)
			for n, d := range c.days {
				if d.used < used {
					oldest, used = n, d.used
				}
			}
			delete(c.days, oldest)
		}
		idx = &dayIndex{objects: map[string]indexEntry{}}
		c.days[name] = idx
	}
	idx.used = c.tick
	return idx
}

// refresh lists the day again when its listing is older than ListTTL and
// reads the ids of objects it has not indexed yet (or whose ETag changed).
func (c *Connect) refresh(ctx context.Context, day time.Time, idx *dayIndex) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	ttl := c.ListTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	if !idx.listedAt.IsZero() && now().Sub(idx.listedAt) < ttl {
		return nil
	}
	prefix := c.prefix + day.Format("2006/01/02/")
	seen := map[string]bool{}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(c.bucket), Prefix: aws.String(prefix)}
	for {
		out, err := c.s3.ListObjectsV2(ctx, in)
		if err != nil {
			return fmt.Errorf("sources: connect: list s3://%s/%s: %w", c.bucket, prefix, err)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			if _, _, ok := ParseConnectKey(key); !ok {
				continue // not a transcript (e.g. a folder marker)
			}
			seen[key] = true
			etag := aws.ToString(o.ETag)
			if e, ok := idx.objects[key]; ok && e.etag == etag {
				continue
			}
			e, err := c.indexObject(ctx, key, etag)
			if err != nil {
				return err
			}
			if e != nil {
				idx.objects[key] = *e
			}
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			break
		}
		in.ContinuationToken = out.NextContinuationToken
	}
	for k := range idx.objects {
		if !seen[k] {
			delete(idx.objects, k)
		}
	}
	idx.listedAt = now()
	return nil
}

// indexObject reads just enough of an object to learn its contact ids; the
// streaming decoder stops as soon as both are seen, so most of a large
// transcript is never downloaded. nil means the object vanished.
func (c *Connect) indexObject(ctx context.Context, key, listedETag string) (*indexEntry, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, nil
		}
		return nil, fmt.Errorf("sources: connect: get s3://%s/%s: %w", c.bucket, key, err)
	}
	defer out.Body.Close()
	ids, err := streamContactIDs(io.LimitReader(out.Body, maxConnectObject))
	// The listing's ETag is what the next listing is compared with.
	e := &indexEntry{etag: listedETag}
	if err != nil {
		e.unreadable = true
		return e, nil
	}
	e.initial, e.contact = ids.initial, ids.contact
	return e, nil
}

// get reads a whole object; a nil body means it does not exist.
func (c *Connect) get(ctx context.Context, key string) ([]byte, string, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			return nil, "", nil
		}
		return nil, "", fmt.Errorf("sources: connect: get s3://%s/%s: %w", c.bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, maxConnectObject+1))
	if err != nil {
		return nil, "", fmt.Errorf("sources: connect: read s3://%s/%s: %w", c.bucket, key, err)
	}
	if len(body) > maxConnectObject {
		return nil, "", badTranscript(key, fmt.Errorf("object is larger than %d bytes", maxConnectObject))
	}
	return body, aws.ToString(out.ETag), nil
}

type contactIDs struct{ initial, contact string }

func readContactIDs(body []byte) (contactIDs, error) {
	return streamContactIDs(bytes.NewReader(body))
}

// streamContactIDs reads the top-level InitialContactId and ContactId of a
// Connect object. A contact without InitialContactId is its own initial
// contact (Connect leaves it out on some first contacts).
func streamContactIDs(r io.Reader) (contactIDs, error) {
	var ids contactIDs
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return ids, fmt.Errorf("not JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return ids, errors.New("not a JSON object")
	}
	haveInitial, haveContact := false, false
	for dec.More() && !(haveInitial && haveContact) {
		tok, err := dec.Token()
		if err != nil {
			return ids, fmt.Errorf("not JSON: %w", err)
		}
		name, _ := tok.(string)
		switch name {
		case "InitialContactId", "ContactId":
			var v string
			if err := dec.Decode(&v); err != nil {
				return ids, fmt.Errorf("%s: %w", name, err)
			}
			if name == "ContactId" {
				ids.contact, haveContact = v, true
			} else {
				ids.initial, haveInitial = v, true
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return ids, fmt.Errorf("not JSON: %w", err)
			}
		}
	}
	if ids.contact == "" && ids.initial == "" {
		return ids, errors.New("neither InitialContactId nor ContactId is set: not a Connect chat transcript")
	}
	if ids.initial == "" {
		ids.initial = ids.contact
	}
	return ids, nil
}

// ParseConnectKey reads an Amazon Connect transcript object key,
// <prefix>YYYY/MM/DD/<contactId>_<YYYYMMDD>T<HH:MM>_UTC.json, returning the
// contact id and the UTC minute in the name (truncate to a day for the day
// prefix). Only the file name is read, so any prefix is accepted.
func ParseConnectKey(key string) (contactID string, at time.Time, ok bool) {
	name := path.Base(key)
	if key == "" || strings.HasSuffix(key, "/") {
		return "", time.Time{}, false
	}
	rest, found := strings.CutSuffix(name, "_UTC.json")
	if !found {
		return "", time.Time{}, false
	}
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return "", time.Time{}, false
	}
	contactID, stamp := rest[:i], rest[i+1:]
	if !transcript.ValidSessionID(contactID) || len(stamp) != len("20060102T15:04") {
		return "", time.Time{}, false
	}
	at, err := time.Parse("20060102T15:04", stamp)
	if err != nil {
		return "", time.Time{}, false
	}
	return contactID, at.UTC(), true
}
