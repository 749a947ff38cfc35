package dynamostore_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

func rawItem(t *testing.T, db *dynamodb.Client, table, folder, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "F#" + folder}, "sk": &types.AttributeValueMemberS{Value: "C#" + id}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("raw GetItem: %v", err)
	}
	return out.Item
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func attrN(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return ""
}

func objects(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

// TestItemLayout pins what docs/table-design.md promises: the keys, the
// sparse active index attributes, the inline gzip log and expiresAt.
func TestItemLayout(t *testing.T) {
	moto := testenv.Moto(t)
	db := dynamoClient(t, moto)
	table := newTable(t, db)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	st := dynamostore.New(db, table, dynamostore.Options{Retention: 90 * 24 * time.Hour, Now: func() time.Time { return now }})
	ctx := context.Background()

	_, _, err := st.Create(ctx, card.New("acme", "w-1", "2026-11-20T10:30:00.5+01:00"))
	if err != nil {
		t.Fatal(err)
	}
	it := rawItem(t, db, table, "acme", "w-1")
	want := map[string]string{
		"activePk": attrS(it, "activePk"), // shard checked below
		"activeSk": "acme#2026-11-20T09:30:00.500Z#w-1",
		"startSk":  "2026-11-20T09:30:00.500Z#w-1",
	}
	if !strings.HasPrefix(want["activePk"], "ACTIVE#") {
		t.Fatalf("activePk %q", want["activePk"])
	}
	for k, v := range want {
		if got := attrS(it, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	exp1 := strconv.FormatInt(now.Add(90*24*time.Hour).Unix(), 10)
	if got, w := attrN(it, "expiresAt"), exp1; got != w {
		t.Errorf("expiresAt = %s, want %s", got, w)
	}
	if attrN(it, "ver") != "1" {
		t.Errorf("ver = %s", attrN(it, "ver"))
	}
	if _, ok := it["log"].(*types.AttributeValueMemberB); !ok {
		t.Errorf("chat log is not an inline binary attribute: %T", it["log"])
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(attrS(it, "doc")), &doc); err != nil {
		t.Fatalf("doc is not JSON: %v", err)
	}
	if _, ok := doc["chatLog"]; ok && doc["chatLog"] != nil {
		t.Errorf("doc carries the chat log")
	}

	// AttachTicket keeps expiresAt, so the chat-log object is never older
	// than the card's retention anchor; Update moves it.
	now = now.Add(24 * time.Hour)
	if _, err := st.AttachTicket(ctx, "acme", "w-1", "INC-1"); err != nil {
		t.Fatal(err)
	}
	if got := attrN(rawItem(t, db, table, "acme", "w-1"), "expiresAt"); got != exp1 {
		t.Errorf("AttachTicket moved expiresAt to %s", got)
	}
	c, err := st.Get(ctx, "acme", "w-1")
	if err != nil {
		t.Fatal(err)
	}
	c.Active, c.Status = false, "closed"
	if err := st.Update(ctx, c); err != nil {
		t.Fatal(err)
	}
	it = rawItem(t, db, table, "acme", "w-1")
	if _, ok := it["activePk"]; ok {
		t.Error("closed card still has activePk")
	}
	if _, ok := it["activeSk"]; ok {
		t.Error("closed card still has activeSk")
	}
	if got, w := attrN(it, "expiresAt"), strconv.FormatInt(now.Add(90*24*time.Hour).Unix(), 10); got != w {
		t.Errorf("Update set expiresAt %s, want %s", got, w)
	}

	// No retention, no attribute.
	st0 := dynamostore.New(db, table, dynamostore.Options{})
	if _, _, err := st0.Create(ctx, card.New("acme", "w-2", cardstoretest.Stamp(now))); err != nil {
		t.Fatal(err)
	}
	if _, ok := rawItem(t, db, table, "acme", "w-2")["expiresAt"]; ok {
		t.Error("expiresAt written without retention")
	}
}

// TestOverflowObjects follows the S3 objects of a huge chat log: one per
// card, the superseded one deleted, none once the log fits again.
func TestOverflowObjects(t *testing.T) {
	moto := testenv.Moto(t)
	db, s3c := dynamoClient(t, moto), s3Client(t, moto)
	table, bucket := newTable(t, db), newBucket(t, s3c)
	st := dynamostore.New(db, table, dynamostore.Options{S3: s3c, Bucket: bucket})
	ctx := context.Background()

	c := card.New("acme", "w-huge", cardstoretest.Stamp(cardstoretest.T0))
	c.ChatLog = cardstoretest.HugeChatLog(1 << 20)
	got, _, err := st.Create(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	first := objects(t, s3c, bucket)
	if len(first) != 1 || !strings.HasPrefix(first[0], "chatlogs/acme/w-huge/v1-") {
		t.Fatalf("objects after Create: %v", first)
	}
	it := rawItem(t, db, table, "acme", "w-huge")
	if attrS(it, "logRef") != first[0] || it["log"] != nil {
		t.Fatalf("item points at %q (log attribute %T), want %q", attrS(it, "logRef"), it["log"], first[0])
	}
	// A retried create writes nothing more.
	if _, created, err := st.Create(ctx, c); err != nil || created {
		t.Fatalf("retried Create: created=%v err=%v", created, err)
	}
	if diff := cmp.Diff(first, objects(t, s3c, bucket)); diff != "" {
		t.Fatalf("objects after a retried Create (-want +got):\n%s", diff)
	}

	got.ChatLog = append(got.ChatLog, cardstoretest.HugeChatLog(1<<18)...)
	if err := st.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	second := objects(t, s3c, bucket)
	if len(second) != 1 || second[0] == first[0] || !strings.HasPrefix(second[0], "chatlogs/acme/w-huge/v2-") {
		t.Fatalf("objects after Update: %v (before %v)", second, first)
	}
	// A stale update leaves no object behind.
	stale := *got
	stale.Version = 1
	if err := st.Update(ctx, &stale); card.ErrorCode(err) != card.ECONFLICT {
		t.Fatalf("stale Update: %v", err)
	}
	if diff := cmp.Diff(second, objects(t, s3c, bucket)); diff != "" {
		t.Fatalf("objects after a stale Update (-want +got):\n%s", diff)
	}
	got.ChatLog = cardstoretest.LongChatLog(3)
	if err := st.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if left := objects(t, s3c, bucket); len(left) != 0 {
		t.Fatalf("objects left after the log shrank: %v", left)
	}
	if _, ok := rawItem(t, db, table, "acme", "w-huge")["log"].(*types.AttributeValueMemberB); !ok {
		t.Fatal("small log not inline")
	}
}

// TestTooLargeWithoutBucket: without a bucket an oversize card is refused
// and nothing is written.
func TestTooLargeWithoutBucket(t *testing.T) {
	moto := testenv.Moto(t)
	db := dynamoClient(t, moto)
	table := newTable(t, db)
	st := dynamostore.New(db, table, dynamostore.Options{})
	ctx := context.Background()

	c := card.New("acme", "w-huge", cardstoretest.Stamp(cardstoretest.T0))
	c.ChatLog = cardstoretest.HugeChatLog(1 << 20)
	if _, _, err := st.Create(ctx, c); card.ErrorCode(err) != card.ETOOLARGE {
		t.Fatalf("Create of a huge card: %v, want ETOOLARGE", err)
	}
	if _, err := st.Get(ctx, "acme", "w-huge"); card.ErrorCode(err) != card.ENOTFOUND {
		t.Fatalf("refused card was stored: %v", err)
	}
	small, _, err := st.Create(ctx, card.New("acme", "w-1", cardstoretest.Stamp(cardstoretest.T0)))
	if err != nil {
		t.Fatal(err)
	}
	big := *small
	big.ChatLog = c.ChatLog
	if err := st.Update(ctx, &big); card.ErrorCode(err) != card.ETOOLARGE {
		t.Fatalf("Update with a huge log: %v, want ETOOLARGE", err)
	}
	if big.Version != small.Version {
		t.Fatalf("refused Update changed the version to %d", big.Version)
	}
	after, err := st.Get(ctx, "acme", "w-1")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(small, after); diff != "" {
		t.Fatalf("refused Update changed the card (-want +got):\n%s", diff)
	}
	// Huge card fields (not the log) are refused too, even with a bucket.
	meta := card.New("acme", "w-meta", cardstoretest.Stamp(cardstoretest.T0))
	meta.Pages = []string{strings.Repeat("p", 360_000)}
	stB := dynamostore.New(db, table, dynamostore.Options{S3: s3Client(t, moto), Bucket: "unused"})
	if _, _, err := stB.Create(ctx, meta); card.ErrorCode(err) != card.ETOOLARGE {
		t.Fatalf("Create with huge fields: %v, want ETOOLARGE", err)
	}
}
