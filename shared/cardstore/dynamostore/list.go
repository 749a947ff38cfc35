package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
)

// cursor is the opaque paging state. It names the listing it belongs to, so
// a cursor is refused by any other listing, folder or time range.
type cursor struct {
	Kind   string            `json:"k"`           // "active" or "start"
	Folder string            `json:"f,omitempty"` // "" for every folder
	Range  string            `json:"r,omitempty"` // ListByStart's bounds
	Shard  int               `json:"s,omitempty"` // ListActive of every folder
	Key    map[string]string `json:"key,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = "cursor is not one this listing returned"

func decodeCursor(op, s string, want cursor, keyAttrs ...string) (cursor, error) {
	var c cursor
	if s == "" {
		return want, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Kind != want.Kind || c.Folder != want.Folder || c.Range != want.Range ||
		c.Shard < 0 || c.Shard >= activeShards {
		return cursor{}, card.Errorf(card.EINVALID, op, "%s", errBadCursor)
	}
	if c.Key != nil {
		if len(c.Key) != len(keyAttrs) {
			return cursor{}, card.Errorf(card.EINVALID, op, "%s", errBadCursor)
		}
		for _, a := range keyAttrs {
			if _, ok := c.Key[a]; !ok {
				return cursor{}, card.Errorf(card.EINVALID, op, "%s", errBadCursor)
			}
		}
	}
	return c, nil
}

func toKey(k map[string]string) map[string]types.AttributeValue {
	if k == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(k))
	for name, v := range k {
		out[name] = s(v)
	}
	return out
}

func fromKey(k map[string]types.AttributeValue) (map[string]string, error) {
	if len(k) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(k))
	for name, v := range k {
		sv, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return nil, fmt.Errorf("paging key attribute %s is not a string", name)
		}
		out[name] = sv.Value
	}
	return out, nil
}

func limitOf(opt cardstore.ListOptions) int {
	switch {
	case opt.Limit <= 0:
		return DefaultLimit
	case opt.Limit > MaxLimit:
		return MaxLimit
	}
	return opt.Limit
}

// ListActive implements cardstore.Store with Queries on the sparse active
// index: one folder is a begins_with in its shard; every folder walks the
// shards in turn. Cards of one folder come in StartedAt order.
func (st *Store) ListActive(ctx context.Context, folder string, opt cardstore.ListOptions) (cardstore.Page, error) {
	const op = "dynamostore.ListActive"
	want := cursor{Kind: "active", Folder: folder}
	if folder != "" {
		if err := cardstore.ValidFolder(op, folder); err != nil {
			return cardstore.Page{}, err
		}
		want.Shard = activeShard(folder)
	}
	cur, err := decodeCursor(op, opt.Cursor, want, attrPK, attrSK, attrActivePK, attrActiveSK)
	if err != nil {
		return cardstore.Page{}, err
	}
	if folder != "" && cur.Shard != want.Shard ||
		cur.Key != nil && (cur.Key[attrActivePK] != activePK(cur.Shard) || !strings.HasPrefix(cur.Key[attrActiveSK], folder)) {
		return cardstore.Page{}, card.Errorf(card.EINVALID, op, "%s", errBadCursor)
	}
	limit := limitOf(opt)
	var items []map[string]types.AttributeValue
	for {
		in := &dynamodb.QueryInput{
			TableName:                 aws.String(st.table),
			IndexName:                 aws.String(IndexActive),
			KeyConditionExpression:    aws.String("#apk = :apk"),
			ExpressionAttributeNames:  map[string]string{"#apk": attrActivePK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":apk": s(activePK(cur.Shard))},
			ExclusiveStartKey:         toKey(cur.Key),
			Limit:                     aws.Int32(int32(limit - len(items))),
		}
		if folder != "" {
			in.KeyConditionExpression = aws.String("#apk = :apk AND begins_with(#ask, :prefix)")
			in.ExpressionAttributeNames["#ask"] = attrActiveSK
			in.ExpressionAttributeValues[":prefix"] = s(folder + "#")
		}
		out, err := st.db.Query(ctx, in)
		if err != nil {
			return cardstore.Page{}, classify(op, fmt.Errorf("query active cards: %w", err))
		}
		items = append(items, out.Items...)
		if cur.Key, err = fromKey(out.LastEvaluatedKey); err != nil {
			return cardstore.Page{}, card.Wrap(card.EINTERNAL, op, err)
		}
		if cur.Key == nil {
			if folder != "" || cur.Shard == activeShards-1 {
				return st.page(ctx, op, items, "", opt.WithChatLog)
			}
			cur.Shard++
		}
		if len(items) >= limit {
			return st.page(ctx, op, items, cur.encode(), opt.WithChatLog)
		}
	}
}

// ListByStart implements cardstore.Store with a Query on the byStart index.
// StartedAt is compared to the millisecond; ties come in sessionId order.
func (st *Store) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	const op = "dynamostore.ListByStart"
	if err := cardstore.ValidFolder(op, folder); err != nil {
		return cardstore.Page{}, err
	}
	lo, hi, err := cardstore.StartRange(op, from, to)
	if err != nil {
		return cardstore.Page{}, err
	}
	cur, err := decodeCursor(op, opt.Cursor, cursor{Kind: "start", Folder: folder, Range: lo + "/" + hi}, attrPK, attrSK, attrStartSK)
	if err != nil {
		return cardstore.Page{}, err
	}
	if cur.Key != nil && cur.Key[attrPK] != cardPK(folder) {
		return cardstore.Page{}, card.Errorf(card.EINVALID, op, "%s", errBadCursor)
	}
	if lo >= hi {
		return cardstore.Page{}, nil
	}
	limit := limitOf(opt)
	var items []map[string]types.AttributeValue
	for {
		// Every key is "<startedAt>#<sessionId>", so hi itself (no '#') is
		// never a key and BETWEEN lo AND hi is the half-open [from, to).
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(st.table),
			IndexName:                 aws.String(IndexByStart),
			KeyConditionExpression:    aws.String("#pk = :pk AND #ssk BETWEEN :lo AND :hi"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#ssk": attrStartSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(cardPK(folder)), ":lo": s(lo), ":hi": s(hi)},
			ExclusiveStartKey:         toKey(cur.Key),
			Limit:                     aws.Int32(int32(limit - len(items))),
		})
		if err != nil {
			return cardstore.Page{}, classify(op, fmt.Errorf("query cards by start: %w", err))
		}
		items = append(items, out.Items...)
		if cur.Key, err = fromKey(out.LastEvaluatedKey); err != nil {
			return cardstore.Page{}, card.Wrap(card.EINTERNAL, op, err)
		}
		if cur.Key == nil {
			return st.page(ctx, op, items, "", opt.WithChatLog)
		}
		if len(items) >= limit {
			return st.page(ctx, op, items, cur.encode(), opt.WithChatLog)
		}
	}
}

// page decodes index items. With the chat log, each card is read whole
// from the table instead, so its fields and log are of one version.
func (st *Store) page(ctx context.Context, op string, items []map[string]types.AttributeValue, next string, withLog bool) (cardstore.Page, error) {
	p := cardstore.Page{Next: next, Cards: make([]*card.Card, 0, len(items))}
	if withLog {
		full, err := st.batchGet(ctx, op, items)
		if err != nil {
			return cardstore.Page{}, err
		}
		items = full
	}
	for _, it := range items {
		c, err := st.decode(ctx, op, it, withLog)
		if err != nil {
			return cardstore.Page{}, err
		}
		p.Cards = append(p.Cards, c)
	}
	return p, nil
}

// batchGetParallel is how many BatchGetItem calls of one page run at once:
// a page of 1,000 cards is ten calls, and run one after the other their
// round trips dominate an export that reads chat logs.
const batchGetParallel = 4

// batchGet reads the whole items for the given keys, in the given order;
// items gone meanwhile (expired) are left out.
func (st *Store) batchGet(ctx context.Context, op string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	got := make(map[string]map[string]types.AttributeValue, len(keys))
	var mu sync.Mutex // guards got and firstErr
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, batchGetParallel)
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(keys, 100) {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			items, err := st.batchGetChunk(ctx, op, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			for _, it := range items {
				got[describeKey(it)] = it
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		if it, ok := got[describeKey(k)]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// batchGetChunk reads up to 100 items, retrying the keys DynamoDB defers.
func (st *Store) batchGetChunk(ctx context.Context, op string, chunk []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	req := make([]map[string]types.AttributeValue, len(chunk))
	for i, k := range chunk {
		req[i] = map[string]types.AttributeValue{attrPK: k[attrPK], attrSK: k[attrSK]}
	}
	pending := map[string]types.KeysAndAttributes{st.table: {Keys: req, ConsistentRead: aws.Bool(true)}}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt > 8 {
				return nil, card.Errorf(card.EUNAVAILABLE, op, "the card store keeps deferring reads; try again later")
			}
			if err := sleep(ctx, time.Duration(1<<attempt)*10*time.Millisecond); err != nil {
				return nil, classify(op, err)
			}
		}
		out, err := st.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
		if err != nil {
			return nil, classify(op, fmt.Errorf("batch get cards: %w", err))
		}
		items = append(items, out.Responses[st.table]...)
		pending = out.UnprocessedKeys
		if len(pending[st.table].Keys) == 0 {
			pending = nil
		}
	}
	return items, nil
}

// ListFolders implements cardstore.Store from the folder registry partition.
func (st *Store) ListFolders(ctx context.Context) ([]string, error) {
	const op = "dynamostore.ListFolders"
	folders := []string{}
	var start map[string]types.AttributeValue
	for {
		out, err := st.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(st.table),
			KeyConditionExpression:    aws.String("#pk = :pk"),
			ProjectionExpression:      aws.String("#sk"),
			ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(folderRegistryPK)},
			ExclusiveStartKey:         start,
			ConsistentRead:            aws.Bool(true),
		})
		if err != nil {
			return nil, classify(op, fmt.Errorf("query folders: %w", err))
		}
		for _, it := range out.Items {
			if f := strAttr(it, attrSK); f != "" {
				folders = append(folders, f)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	slices.Sort(folders) // already in key order; sorting keeps the promise explicit
	return folders, nil
}
