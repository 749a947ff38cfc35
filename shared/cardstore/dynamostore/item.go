package dynamostore

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/stats"
)

// maxItemBytes keeps a safety margin under DynamoDB's 400 KB item limit,
// for the size estimate's slack and a few tickets attached later in place.
const maxItemBytes = 350_000

func cardPK(folder string) string    { return "F#" + folder }
func cardSK(sessionID string) string { return "C#" + sessionID }

func activeShard(folder string) int {
	h := fnv.New32a()
	h.Write([]byte(folder))
	return int(h.Sum32() % activeShards)
}

func activePK(shard int) string { return "ACTIVE#" + strconv.Itoa(shard) }

func keyOf(folder, sessionID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: s(cardPK(folder)), attrSK: s(cardSK(sessionID))}
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// encodedCard is a card ready to write: the item, and the gzip chat log when
// it has to go to S3 instead.
type encodedCard struct {
	item     map[string]types.AttributeValue
	overflow []byte // the gzip log for S3; nil when it is inline
}

// encodeDoc is the card's JSON without its chat log; the card's own JSON
// codec keeps statistics values typed.
func encodeDoc(c *card.Card) (string, error) {
	cp := *c
	cp.ChatLog = nil
	b, err := json.Marshal(&cp)
	if err != nil {
		return "", fmt.Errorf("encode card %s: %w", c.SessionID, err)
	}
	return string(b), nil
}

func gzipLog(log []stats.LogEntry) ([]byte, error) {
	raw, err := json.Marshal(log)
	if err != nil {
		return nil, fmt.Errorf("encode chat log: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) / 3)
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func gunzipLog(b []byte) ([]stats.LogEntry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("chat log is not gzip: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read gzip chat log: %w", err)
	}
	var log []stats.LogEntry
	if err := json.Unmarshal(raw, &log); err != nil {
		return nil, fmt.Errorf("decode chat log: %w", err)
	}
	return log, nil
}

// encodeItem builds the whole item of c at its Version. The chat log stays
// inline when the item fits maxItemBytes; otherwise it is returned for S3
// and the item gets logRef (set by the caller, who names the object). token
// is the write token of this one logical write (see newToken).
func encodeItem(c *card.Card, start string, expiresAt int64, token string) (*encodedCard, error) {
	doc, err := encodeDoc(c)
	if err != nil {
		return nil, err
	}
	zlog, err := gzipLog(c.ChatLog)
	if err != nil {
		return nil, fmt.Errorf("card %s: %w", c.SessionID, err)
	}
	item := map[string]types.AttributeValue{
		attrPK:      s(cardPK(c.Folder)),
		attrSK:      s(cardSK(c.SessionID)),
		attrVersion: n(c.Version),
		attrDoc:     s(doc),
		attrStartSK: s(start + "#" + c.SessionID),
		attrToken:   s(token),
	}
	if c.Active {
		item[attrActivePK] = s(activePK(activeShard(c.Folder)))
		item[attrActiveSK] = s(c.Folder + "#" + start + "#" + c.SessionID)
	}
	if expiresAt > 0 {
		item[attrExpiresAt] = n(expiresAt)
	}
	item[attrLog] = &types.AttributeValueMemberB{Value: zlog}
	if itemSize(item) <= maxItemBytes {
		return &encodedCard{item: item}, nil
	}
	delete(item, attrLog)
	// Room for the logRef that replaces it.
	if itemSize(item)+len(attrLogRef)+256 > maxItemBytes {
		return nil, card.Errorf(card.ETOOLARGE, "", "card %s is too large to store even without its chat log (%d bytes)", c.SessionID, itemSize(item))
	}
	return &encodedCard{item: item, overflow: zlog}, nil
}

// itemSize follows DynamoDB's rules closely enough: names and values in
// bytes, numbers at their worst case.
func itemSize(item map[string]types.AttributeValue) int {
	size := 0
	for k, v := range item {
		size += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			size += len(v.Value)
		case *types.AttributeValueMemberB:
			size += len(v.Value)
		case *types.AttributeValueMemberN:
			size += 21
		default:
			size += 64
		}
	}
	return size + 100
}

// logKey names a chat-log object: folder and session for lifecycle rules and
// people, the version and a nonce so two racing writers never share a key
// (the loser deletes its own object, never the winner's).
func logKey(folder, sessionID string, version int64) string {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	return fmt.Sprintf("chatlogs/%s/%s/v%d-%s.json.gz", url.PathEscape(folder), url.PathEscape(sessionID), version, hex.EncodeToString(nonce[:]))
}

// newToken returns a fresh write token: 128 random bits, so no two logical
// writes ever share one. Every card write stores its token in the item; when
// the SDK retries a write whose first attempt was applied but whose answer
// was lost, the retry's condition fails, and finding our own token in the
// item proves the write is ours and succeeded.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeDoc reads the card fields of an item (ChatLog nil).
func decodeDoc(item map[string]types.AttributeValue) (*card.Card, error) {
	docAV, ok := item[attrDoc].(*types.AttributeValueMemberS)
	if !ok {
		return nil, fmt.Errorf("item %s has no %s", describeKey(item), attrDoc)
	}
	c := new(card.Card)
	if err := json.Unmarshal([]byte(docAV.Value), c); err != nil {
		return nil, fmt.Errorf("item %s: decode card: %w", describeKey(item), err)
	}
	c.ChatLog = nil
	verAV, ok := item[attrVersion].(*types.AttributeValueMemberN)
	if !ok {
		return nil, fmt.Errorf("item %s has no %s", describeKey(item), attrVersion)
	}
	v, err := strconv.ParseInt(verAV.Value, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("item %s: version %q: %w", describeKey(item), verAV.Value, err)
	}
	c.Version = v
	return c, nil
}

func describeKey(item map[string]types.AttributeValue) string {
	pk, _ := item[attrPK].(*types.AttributeValueMemberS)
	sk, _ := item[attrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return "?"
	}
	return pk.Value + "/" + sk.Value
}

func strAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func expiry(now time.Time, retention time.Duration) int64 {
	if retention <= 0 {
		return 0
	}
	return now.Add(retention).Unix()
}
