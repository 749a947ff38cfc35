// Package dynamostore is the card store on DynamoDB, with chat logs too big
// for an item kept in S3; docs/table-design.md describes the table.
package dynamostore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
)

var _ cardstore.Store = (*Store)(nil)

// DynamoDB is the part of the DynamoDB client the store uses;
// *dynamodb.Client satisfies it.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// S3 is the part of the S3 client the chat-log overflow uses; *s3.Client
// satisfies it.
type S3 interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Options configure a Store; the zero value keeps cards forever and refuses
// cards too large for one item.
type Options struct {
	// S3 and Bucket (CARDS_BUCKET) take chat logs too large for the item.
	S3     S3
	Bucket string
	// Retention (RETENTION_DAYS) sets expiresAt to the last Create or Update
	// plus Retention; 0 keeps cards forever.
	Retention time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CallTimeout bounds each DynamoDB and S3 call, the SDK's retries and
	// back-offs included; DefaultCallTimeout when 0 or less. A call that runs
	// out of it is EUNAVAILABLE (the caller's own deadline stays EINTERNAL).
	CallTimeout time.Duration
}

// DefaultLimit is the page size when ListOptions.Limit is 0 or less;
// MaxLimit caps larger ones.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// attachAttempts bounds AttachTicket's read-modify-write retries under
// contention with the sync.
const attachAttempts = 10

// Store is the DynamoDB card store. It is safe for concurrent use.
type Store struct {
	db    DynamoDB
	table string
	opts  Options
	// folders already in the registry, so a warm Lambda writes each once.
	folders sync.Map
}

// New returns a store on table. db and table are required; Options.S3 and
// Bucket go together.
func New(db DynamoDB, table string, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.Bucket == "" || opts.S3 == nil {
		opts.Bucket, opts.S3 = "", nil
	} else {
		opts.S3 = timedS3{s3: opts.S3, timeout: opts.CallTimeout}
	}
	return &Store{db: timedDB{db: db, timeout: opts.CallTimeout}, table: table, opts: opts}
}

// Create implements cardstore.Store. The stored card gets Version 1; the
// caller's card is not changed. The put carries a fresh write token, so when
// the SDK retries a put whose answer was lost, the retry's failed condition
// finds our own token and the caller still gets created=true.
func (st *Store) Create(ctx context.Context, c *card.Card) (*card.Card, bool, error) {
	const op = "dynamostore.Create"
	if c == nil {
		return nil, false, card.Errorf(card.EINVALID, op, "card is nil")
	}
	if err := cardstore.ValidKey(op, c.Folder, c.SessionID); err != nil {
		return nil, false, err
	}
	start, err := cardstore.StartKey(op, c.StartedAt)
	if err != nil {
		return nil, false, err
	}
	cp := *c
	cp.Version = 1
	token := newToken()
	enc, err := st.encode(op, &cp, start, token)
	if err != nil {
		return nil, false, err
	}
	// The registry entry goes first: if it fails nothing of the card exists,
	// and a retried create registers it again.
	if err := st.registerFolder(ctx, op, c.Folder); err != nil {
		return nil, false, err
	}
	newRef, err := st.putOverflow(ctx, op, &cp, enc)
	if err != nil {
		return nil, false, err
	}
	_, err = st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(st.table),
		Item:                enc.item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	switch {
	case err == nil:
	case isConditionFailed(err):
		existing, stored, gerr := st.getWithToken(ctx, op, c.Folder, c.SessionID)
		if gerr != nil {
			// Whether the item is ours is unknown, so its object stays.
			st.keepLog(ctx, newRef, "the card could not be read after a failed create")
			return nil, false, gerr
		}
		if stored != token {
			st.deleteLog(ctx, newRef)
			return existing, false, nil
		}
		// Our put made the card; the SDK retried it after a lost answer.
	default:
		cerr := classify(op, fmt.Errorf("put card %s: %w", c.SessionID, err))
		if !st.resolve(ctx, op, c.Folder, c.SessionID, token, newRef, err) {
			return nil, false, cerr
		}
	}
	out, err := copyCard(&cp)
	if err != nil {
		return nil, false, card.Wrap(card.EINTERNAL, op, err)
	}
	return out, true, nil
}

// copyCard deep-copies through the same codec the table uses, so what Create
// returns is exactly what Get will.
func copyCard(c *card.Card) (*card.Card, error) {
	doc, err := encodeDoc(c)
	if err != nil {
		return nil, err
	}
	out, err := decodeDoc(map[string]types.AttributeValue{attrDoc: s(doc), attrVersion: n(c.Version)})
	if err != nil {
		return nil, err
	}
	zlog, err := gzipLog(c.ChatLog)
	if err != nil {
		return nil, err
	}
	out.ChatLog, err = gunzipLog(zlog)
	return out, err
}

func (st *Store) registerFolder(ctx context.Context, op, folder string) error {
	if _, ok := st.folders.Load(folder); ok {
		return nil
	}
	_, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(st.table),
		Item:      map[string]types.AttributeValue{attrPK: s(folderRegistryPK), attrSK: s(folder)},
	})
	if err != nil {
		return classify(op, fmt.Errorf("register folder: %w", err))
	}
	st.folders.Store(folder, true)
	return nil
}

func (st *Store) encode(op string, c *card.Card, start, token string) (*encodedCard, error) {
	enc, err := encodeItem(c, start, expiry(st.opts.Now(), st.opts.Retention), token)
	if err != nil {
		var ce *card.Error
		if errors.As(err, &ce) {
			ce.Op = op
			return nil, ce
		}
		return nil, card.Wrap(card.EINVALID, op, err)
	}
	if enc.overflow != nil && st.opts.Bucket == "" {
		return nil, card.Errorf(card.ETOOLARGE, op, "chat log of %s is too large for the table (%d bytes compressed) and no bucket is configured", c.SessionID, len(enc.overflow))
	}
	return enc, nil
}

// putOverflow writes the chat log to S3 before the item that points at it,
// so no item ever points at a missing object. It returns the key, "" when
// the log is inline.
func (st *Store) putOverflow(ctx context.Context, op string, c *card.Card, enc *encodedCard) (string, error) {
	if enc.overflow == nil {
		return "", nil
	}
	key := logKey(c.Folder, c.SessionID, c.Version)
	_, err := st.opts.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket:          aws.String(st.opts.Bucket),
		Key:             aws.String(key),
		Body:            bytes.NewReader(enc.overflow),
		ContentLength:   aws.Int64(int64(len(enc.overflow))),
		ContentType:     aws.String("application/json"),
		ContentEncoding: aws.String("gzip"),
	})
	if err != nil {
		return "", classify(op, fmt.Errorf("put chat log of %s: %w", c.SessionID, err))
	}
	enc.item[attrLogRef] = s(key)
	return key, nil
}

// deleteLog removes a chat-log object, best effort: a leftover object costs
// storage until the bucket's lifecycle rule, never correctness.
func (st *Store) deleteLog(ctx context.Context, key string) {
	if key == "" || st.opts.S3 == nil {
		return
	}
	// Clean up even when the caller's context is already done; the S3
	// wrapper bounds the call by CallTimeout.
	ctx = context.WithoutCancel(ctx)
	if _, err := st.opts.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(st.opts.Bucket), Key: aws.String(key)}); err != nil {
		slog.WarnContext(ctx, "dynamostore: could not delete chat-log object", "bucket", st.opts.Bucket, "key", key, "error", err.Error())
	}
}

// keepLog logs a chat-log object left in place because an item may point at
// it: deleting it could leave a card whose log is missing, while keeping it
// costs storage until the bucket's lifecycle rule.
func (st *Store) keepLog(ctx context.Context, key, why string) {
	if key != "" {
		slog.WarnContext(ctx, "dynamostore: chat-log object kept", "bucket", st.opts.Bucket, "key", key, "reason", why)
	}
}

// resolve decides a card write that failed with werr, other than by its
// condition: the SDK may have retried after an attempt that was applied but
// whose answer was lost, so one consistent read of the write token tells
// whether the item is ours. It reports true when it is (the write
// succeeded). When the item is not ours the new chat-log object is deleted;
// when that cannot be told (the store timed out, the caller's context is
// done, the read failed) the object is kept and the caller gets the error.
// No second read after a timeout: a store that does not answer would only
// double the wait.
func (st *Store) resolve(ctx context.Context, op, folder, sessionID, token, newRef string, werr error) bool {
	if ctx.Err() != nil || errors.Is(werr, errCallTimeout) {
		st.keepLog(ctx, newRef, "the write's outcome is unknown")
		return false
	}
	_, stored, found, err := st.readToken(ctx, folder, sessionID)
	if err != nil {
		st.keepLog(ctx, newRef, "the write's outcome is unknown")
		return false
	}
	if found && stored == token {
		slog.InfoContext(ctx, "dynamostore: a write whose answer was lost was applied", "op", op)
		return true
	}
	st.deleteLog(ctx, newRef)
	return false
}

// readToken reads an item's version and write token, consistently.
func (st *Store) readToken(ctx context.Context, folder, sessionID string) (ver, token string, found bool, err error) {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(st.table),
		Key:                      keyOf(folder, sessionID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#ver, #wt"),
		ExpressionAttributeNames: map[string]string{"#ver": attrVersion, "#wt": attrToken},
	})
	if err != nil {
		return "", "", false, err
	}
	if len(out.Item) == 0 {
		return "", "", false, nil
	}
	ver = "?"
	if v, ok := out.Item[attrVersion].(*types.AttributeValueMemberN); ok {
		ver = v.Value
	}
	return ver, strAttr(out.Item, attrToken), true, nil
}

// Get implements cardstore.Store; it reads consistently.
func (st *Store) Get(ctx context.Context, folder, sessionID string) (*card.Card, error) {
	const op = "dynamostore.Get"
	if err := cardstore.ValidKey(op, folder, sessionID); err != nil {
		return nil, err
	}
	return st.get(ctx, op, folder, sessionID, true)
}

func (st *Store) get(ctx context.Context, op, folder, sessionID string, withLog bool) (*card.Card, error) {
	c, _, err := st.getItem(ctx, op, folder, sessionID, withLog)
	return c, err
}

// getWithToken is Get that also returns the item's write token.
func (st *Store) getWithToken(ctx context.Context, op, folder, sessionID string) (*card.Card, string, error) {
	return st.getItem(ctx, op, folder, sessionID, true)
}

func (st *Store) getItem(ctx context.Context, op, folder, sessionID string, withLog bool) (*card.Card, string, error) {
	// A concurrent Update may delete the object the item we read points at;
	// reading the item again then finds the new one.
	for attempt := 0; ; attempt++ {
		out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(st.table),
			Key:            keyOf(folder, sessionID),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, "", classify(op, fmt.Errorf("get card %s: %w", sessionID, err))
		}
		if len(out.Item) == 0 {
			return nil, "", card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", sessionID)
		}
		c, err := st.decode(ctx, op, out.Item, withLog)
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		return c, strAttr(out.Item, attrToken), nil
	}
}

// decode reads a whole item; the chat log is decompressed (and fetched from
// S3) only when asked for.
func (st *Store) decode(ctx context.Context, op string, item map[string]types.AttributeValue, withLog bool) (*card.Card, error) {
	c, err := decodeDoc(item)
	if err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, err)
	}
	if !withLog {
		return c, nil
	}
	var zlog []byte
	if b, ok := item[attrLog].(*types.AttributeValueMemberB); ok {
		zlog = b.Value
	} else if ref := strAttr(item, attrLogRef); ref != "" {
		if zlog, err = st.readLog(ctx, op, ref); err != nil {
			return nil, err
		}
	} else {
		return nil, card.Errorf(card.EINTERNAL, op, "item %s has neither %s nor %s", describeKey(item), attrLog, attrLogRef)
	}
	log, err := gunzipLog(zlog)
	if err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, fmt.Errorf("item %s: %w", describeKey(item), err))
	}
	c.ChatLog = log
	return c, nil
}

func (st *Store) readLog(ctx context.Context, op, key string) ([]byte, error) {
	if st.opts.S3 == nil {
		return nil, card.Errorf(card.EINTERNAL, op, "chat log is in S3 (%s) but no bucket is configured", key)
	}
	out, err := st.opts.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(st.opts.Bucket), Key: aws.String(key)})
	if err != nil {
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) {
			return nil, &card.Error{Code: card.EINTERNAL, Op: op, Message: "chat-log object " + key + " is missing", Err: err}
		}
		return nil, classify(op, fmt.Errorf("get chat log %s: %w", key, err))
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, classify(op, fmt.Errorf("read chat log %s: %w", key, err))
	}
	return b, nil
}

// AttachTicket implements cardstore.Store. It rewrites only the card fields,
// never the chat log, under the same version check as Update, retrying on
// conflict; a change stamps UpdatedAt. expiresAt is kept: the chat-log
// object's age must stay within the card's, for the bucket lifecycle rule.
func (st *Store) AttachTicket(ctx context.Context, folder, sessionID, ticket string) (*card.Card, error) {
	const op = "dynamostore.AttachTicket"
	if err := cardstore.ValidKey(op, folder, sessionID); err != nil {
		return nil, err
	}
	if ticket == "" {
		return nil, card.Errorf(card.EINVALID, op, "ticket is empty")
	}
	for attempt := 0; attempt < attachAttempts; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, time.Duration(attempt)*time.Duration(5+rand.IntN(20))*time.Millisecond); err != nil {
				return nil, classify(op, err)
			}
		}
		c, err := st.get(ctx, op, folder, sessionID, true)
		if err != nil {
			return nil, err
		}
		if !addTicket(c, ticket, st.opts.Now()) {
			return c, nil
		}
		old := c.Version
		c.Version++
		doc, err := encodeDoc(c)
		if err != nil {
			return nil, card.Wrap(card.EINVALID, op, err)
		}
		// A retried attempt whose first answer was lost fails its condition;
		// the next round re-reads, finds the ticket and changes nothing.
		token := newToken()
		_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(st.table),
			Key:                       keyOf(folder, sessionID),
			UpdateExpression:          aws.String("SET #doc = :doc, #ver = :new, #wt = :wt"),
			ConditionExpression:       aws.String("#ver = :old"),
			ExpressionAttributeNames:  map[string]string{"#doc": attrDoc, "#ver": attrVersion, "#wt": attrToken},
			ExpressionAttributeValues: map[string]types.AttributeValue{":doc": s(doc), ":new": n(c.Version), ":old": n(old), ":wt": s(token)},
		})
		if err == nil {
			return c, nil
		}
		if !isConditionFailed(err) {
			cerr := classify(op, fmt.Errorf("attach ticket to %s: %w", sessionID, err))
			if st.resolve(ctx, op, folder, sessionID, token, "", err) {
				return c, nil
			}
			return nil, cerr
		}
	}
	return nil, card.Errorf(card.ECONFLICT, op, "card %s kept changing; try again", sessionID)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// addTicket appends ticket where absent and reports whether it changed c.
func addTicket(c *card.Card, ticket string, now time.Time) bool {
	changed := false
	if !slices.Contains(c.AttachedTickets, ticket) {
		c.AttachedTickets = append(c.AttachedTickets, ticket)
		changed = true
	}
	if !slices.Contains(c.RelatedTickets, ticket) {
		c.RelatedTickets = append(c.RelatedTickets, ticket)
		changed = true
	}
	if changed {
		c.UpdatedAt = now.UTC().Format(cardstore.StartLayout)
	}
	return changed
}

// Update implements cardstore.Store: one conditional put of the whole item,
// carrying a fresh write token. When the SDK retries a put whose answer was
// lost, the retry's condition fails; finding our token in the item proves the
// first attempt was applied, and Update succeeds exactly once.
func (st *Store) Update(ctx context.Context, c *card.Card) error {
	const op = "dynamostore.Update"
	if c == nil {
		return card.Errorf(card.EINVALID, op, "card is nil")
	}
	if err := cardstore.ValidKey(op, c.Folder, c.SessionID); err != nil {
		return err
	}
	start, err := cardstore.StartKey(op, c.StartedAt)
	if err != nil {
		return err
	}
	cp := *c
	cp.Version = c.Version + 1
	token := newToken()
	enc, err := st.encode(op, &cp, start, token)
	if err != nil {
		return err
	}
	newRef, err := st.putOverflow(ctx, op, &cp, enc)
	if err != nil {
		return err
	}
	in := &dynamodb.PutItemInput{
		TableName:                 aws.String(st.table),
		Item:                      enc.item,
		ConditionExpression:       aws.String("attribute_exists(pk) AND #ver = :old"),
		ExpressionAttributeNames:  map[string]string{"#ver": attrVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":old": n(c.Version)},
	}
	if st.opts.S3 != nil {
		// The old item tells which chat-log object this write supersedes.
		in.ReturnValues = types.ReturnValueAllOld
	}
	out, err := st.db.PutItem(ctx, in)
	switch {
	case err == nil:
	case isConditionFailed(err):
		if err := st.whyConditionFailed(ctx, op, c, token, newRef); err != nil {
			return err
		}
		// Ours, applied by an earlier attempt: the superseded object is
		// unknown (its ALL_OLD answer was lost) and waits for the lifecycle.
		c.Version = cp.Version
		return nil
	default:
		cerr := classify(op, fmt.Errorf("put card %s: %w", c.SessionID, err))
		if !st.resolve(ctx, op, c.Folder, c.SessionID, token, newRef, err) {
			return cerr
		}
		c.Version = cp.Version
		return nil
	}
	if out != nil {
		if oldRef := strAttr(out.Attributes, attrLogRef); oldRef != "" && oldRef != newRef {
			st.deleteLog(ctx, oldRef)
		}
	}
	c.Version = cp.Version
	return nil
}

// whyConditionFailed tells a failed Update condition apart with one
// consistent read of version and write token: our own token means an earlier
// attempt of this very write was applied (nil: success); no item is
// ENOTFOUND; anything else is ECONFLICT. newRef, the object this write put,
// is deleted unless the item may point at it.
func (st *Store) whyConditionFailed(ctx context.Context, op string, c *card.Card, token, newRef string) error {
	ver, stored, found, err := st.readToken(ctx, c.Folder, c.SessionID)
	if err != nil {
		st.keepLog(ctx, newRef, "the card could not be read after a failed update")
		return classify(op, fmt.Errorf("read version of %s after a failed update: %w", c.SessionID, err))
	}
	if found && stored == token {
		slog.InfoContext(ctx, "dynamostore: an update whose answer was lost was applied", "op", op)
		return nil
	}
	st.deleteLog(ctx, newRef)
	if !found {
		return card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", c.SessionID)
	}
	return card.Errorf(card.ECONFLICT, op, "card %s is at version %s, not %d: re-read and retry", c.SessionID, ver, c.Version)
}
