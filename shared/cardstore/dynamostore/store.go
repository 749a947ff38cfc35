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
	if opts.Bucket == "" || opts.S3 == nil {
		opts.Bucket, opts.S3 = "", nil
	}
	return &Store{db: db, table: table, opts: opts}
}

// Create implements cardstore.Store. The stored card gets Version 1; the
// caller's card is not changed.
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
	enc, err := st.encode(op, &cp, start)
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
	if err != nil {
		st.deleteLog(ctx, newRef)
		if !isConditionFailed(err) {
			return nil, false, classify(op, fmt.Errorf("put card %s: %w", c.SessionID, err))
		}
		existing, gerr := st.get(ctx, op, c.Folder, c.SessionID, true)
		if gerr != nil {
			return nil, false, gerr
		}
		return existing, false, nil
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

func (st *Store) encode(op string, c *card.Card, start string) (*encodedCard, error) {
	enc, err := encodeItem(c, start, expiry(st.opts.Now(), st.opts.Retention))
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
	// Clean up even when the caller's context is already done.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := st.opts.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(st.opts.Bucket), Key: aws.String(key)}); err != nil {
		slog.WarnContext(ctx, "dynamostore: could not delete chat-log object", "bucket", st.opts.Bucket, "key", key, "error", err.Error())
	}
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
	// A concurrent Update may delete the object the item we read points at;
	// reading the item again then finds the new one.
	for attempt := 0; ; attempt++ {
		out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(st.table),
			Key:            keyOf(folder, sessionID),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, classify(op, fmt.Errorf("get card %s: %w", sessionID, err))
		}
		if len(out.Item) == 0 {
			return nil, card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", sessionID)
		}
		c, err := st.decode(ctx, op, out.Item, withLog)
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) && attempt < 3 {
			continue
		}
		return c, err
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
		_, err = st.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(st.table),
			Key:                       keyOf(folder, sessionID),
			UpdateExpression:          aws.String("SET #doc = :doc, #ver = :new"),
			ConditionExpression:       aws.String("#ver = :old"),
			ExpressionAttributeNames:  map[string]string{"#doc": attrDoc, "#ver": attrVersion},
			ExpressionAttributeValues: map[string]types.AttributeValue{":doc": s(doc), ":new": n(c.Version), ":old": n(old)},
		})
		if err == nil {
			return c, nil
		}
		if !isConditionFailed(err) {
			return nil, classify(op, fmt.Errorf("attach ticket to %s: %w", sessionID, err))
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

// Update implements cardstore.Store: one conditional put of the whole item.
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
	enc, err := st.encode(op, &cp, start)
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
	if err != nil {
		st.deleteLog(ctx, newRef)
		if !isConditionFailed(err) {
			return classify(op, fmt.Errorf("put card %s: %w", c.SessionID, err))
		}
		return st.whyConditionFailed(ctx, op, c)
	}
	if out != nil {
		if oldRef := strAttr(out.Attributes, attrLogRef); oldRef != "" && oldRef != newRef {
			st.deleteLog(ctx, oldRef)
		}
	}
	c.Version = cp.Version
	return nil
}

func (st *Store) whyConditionFailed(ctx context.Context, op string, c *card.Card) error {
	out, err := st.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(st.table),
		Key:                      keyOf(c.Folder, c.SessionID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#ver"),
		ExpressionAttributeNames: map[string]string{"#ver": attrVersion},
	})
	if err != nil {
		return classify(op, fmt.Errorf("read version of %s after a failed update: %w", c.SessionID, err))
	}
	if len(out.Item) == 0 {
		return card.Errorf(card.ENOTFOUND, op, "no card %s in this folder", c.SessionID)
	}
	ver := "?"
	if v, ok := out.Item[attrVersion].(*types.AttributeValueMemberN); ok {
		ver = v.Value
	}
	return card.Errorf(card.ECONFLICT, op, "card %s is at version %s, not %d: re-read and retry", c.SessionID, ver, c.Version)
}
