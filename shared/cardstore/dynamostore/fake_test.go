package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// fakeDB is a DynamoDB whose calls are func fields; unset ones fail.
type fakeDB struct {
	getItem      func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	putItem      func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	updateItem   func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	query        func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
	batchGetItem func(*dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error)
}

var errUnset = errors.New("fake: call not expected")

func (f *fakeDB) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.getItem == nil {
		return nil, errUnset
	}
	return f.getItem(in)
}
func (f *fakeDB) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if f.putItem == nil {
		return nil, errUnset
	}
	return f.putItem(in)
}
func (f *fakeDB) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.updateItem == nil {
		return nil, errUnset
	}
	return f.updateItem(in)
}
func (f *fakeDB) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if f.query == nil {
		return nil, errUnset
	}
	return f.query(in)
}
func (f *fakeDB) BatchGetItem(_ context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if f.batchGetItem == nil {
		return nil, errUnset
	}
	return f.batchGetItem(in)
}

// fakeS3 keeps objects in a map.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[*in.Key] = b
	return &s3.PutObjectOutput{}, nil
}
func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[*in.Key]
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("no such key")}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}
func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, *in.Key)
	return &s3.DeleteObjectOutput{}, nil
}

func httpStatusErr(code int) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
		Err:      errors.New("server said no"),
	}}
}

// TestFailuresAreCodedAndLeaveNothing: a failing card write is coded by its
// cause, and the overflow object written before it is removed again.
func TestFailuresAreCodedAndLeaveNothing(t *testing.T) {
	huge := card.New("acme", "w-huge", cardstoretest.Stamp(cardstoretest.T0))
	huge.ChatLog = cardstoretest.HugeChatLog(1 << 20)
	for _, tc := range []struct {
		name string
		err  error
		want card.Code
	}{
		{"provisioned throughput", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, card.EUNAVAILABLE},
		{"throttling", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate"}, card.EUNAVAILABLE},
		{"request limit", &types.RequestLimitExceeded{Message: aws.String("account limit")}, card.EUNAVAILABLE},
		{"internal server error", &types.InternalServerError{Message: aws.String("oops")}, card.EUNAVAILABLE},
		{"http 503", httpStatusErr(503), card.EUNAVAILABLE},
		{"connection", &smithyhttp.RequestSendError{Err: errors.New("dial tcp: connection refused")}, card.EUNAVAILABLE},
		{"unrelated", errors.New("disk on fire"), card.EINTERNAL},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid"}, card.EINTERNAL},
		{"item size", &smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}, card.ETOOLARGE},
		{"caller's deadline", context.DeadlineExceeded, card.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := &fakeS3{objects: map[string][]byte{}}
			cardPuts := 0
			db := &fakeDB{putItem: func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				if in.Item["pk"].(*types.AttributeValueMemberS).Value == "FOLDERS" {
					return &dynamodb.PutItemOutput{}, nil
				}
				cardPuts++
				return nil, tc.err
			}, getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				// The write-token read after the failure: nothing was written.
				return &dynamodb.GetItemOutput{}, nil
			}}
			st := dynamostore.New(db, "cards", dynamostore.Options{S3: objs, Bucket: "b"})
			_, _, err := st.Create(context.Background(), huge)
			if got := card.ErrorCode(err); got != tc.want {
				t.Fatalf("Create: code %q (%v), want %q", got, err, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the cause is not kept in the chain: %v", err)
			}
			if cardPuts != 1 {
				t.Errorf("%d card writes, want 1", cardPuts)
			}
			if len(objs.objects) != 0 {
				t.Errorf("objects left after a failed Create: %d", len(objs.objects))
			}

			up := *huge
			up.Version = 1
			err = st.Update(context.Background(), &up)
			if got := card.ErrorCode(err); got != tc.want {
				t.Fatalf("Update: code %q (%v), want %q", got, err, tc.want)
			}
			if up.Version != 1 {
				t.Errorf("failed Update moved the version to %d", up.Version)
			}
			if len(objs.objects) != 0 {
				t.Errorf("objects left after a failed Update: %d", len(objs.objects))
			}
		})
	}
}

func TestReadFailuresAreCoded(t *testing.T) {
	throttle := &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}
	db := &fakeDB{
		getItem:    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { return nil, throttle },
		query:      func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return nil, throttle },
		updateItem: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, throttle },
	}
	st := dynamostore.New(db, "cards", dynamostore.Options{})
	ctx := context.Background()
	_, err := st.Get(ctx, "acme", "w-1")
	wantUnavailable(t, "Get", err)
	_, err = st.AttachTicket(ctx, "acme", "w-1", "INC-1")
	wantUnavailable(t, "AttachTicket", err)
	_, err = st.ListActive(ctx, "", cardstore.ListOptions{})
	wantUnavailable(t, "ListActive", err)
	_, err = st.ListByStart(ctx, "acme", cardstoretest.T0, cardstoretest.T0.Add(time.Hour), cardstore.ListOptions{})
	wantUnavailable(t, "ListByStart", err)
	_, err = st.ListFolders(ctx)
	wantUnavailable(t, "ListFolders", err)
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if got := card.ErrorCode(err); got != card.EUNAVAILABLE {
		t.Errorf("%s: code %q (%v), want %q", what, got, err, card.EUNAVAILABLE)
	}
}

// TestUnreachable uses a real client against a closed port.
func TestUnreachable(t *testing.T) {
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.RetryMaxAttempts = 1
	})
	st := dynamostore.New(db, "cards", dynamostore.Options{})
	_, err := st.Get(context.Background(), "acme", "w-1")
	wantUnavailable(t, "Get from a closed port", err)
	_, _, err = st.Create(context.Background(), card.New("acme", "w-1", cardstoretest.Stamp(cardstoretest.T0)))
	wantUnavailable(t, "Create on a closed port", err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = st.Get(ctx, "acme", "w-1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Get with a cancelled context: %v, want context.Canceled in the chain", err)
	}
	if card.ErrorCode(err) == card.EUNAVAILABLE {
		t.Errorf("the caller's cancellation was reported as the store's outage")
	}
}

// lostAnswerDB applies card writes to one stored item and then answers the
// way the SDK does after it retried a write whose first answer was lost:
// answer (nil for the truth). The registry put always succeeds.
type lostAnswerDB struct {
	fakeDB
	item   map[string]types.AttributeValue
	answer func() error // the error the "retried" call ends with
	writes int
}

func newLostAnswerDB(answer func() error) *lostAnswerDB {
	db := &lostAnswerDB{answer: answer}
	db.putItem = func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		if in.Item["pk"].(*types.AttributeValueMemberS).Value == "FOLDERS" {
			return &dynamodb.PutItemOutput{}, nil
		}
		old := db.item
		db.item = in.Item
		db.writes++
		if err := db.answer(); err != nil {
			return nil, err
		}
		return &dynamodb.PutItemOutput{Attributes: old}, nil
	}
	db.getItem = func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		return &dynamodb.GetItemOutput{Item: db.item}, nil
	}
	return db
}

// TestLostAnswerUnit: a card write that was applied but whose answer ended in
// a failed condition (the SDK's retry) or in an error (retries exhausted) is
// a success, for Create (created=true) and Update (version bumped once); the
// overflow object the item points at is kept.
func TestLostAnswerUnit(t *testing.T) {
	conditionFailed := func() error {
		return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	for _, tc := range []struct {
		name   string
		answer func() error
	}{
		{"retry hit the condition", conditionFailed},
		{"retries exhausted", func() error { return httpStatusErr(500) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := newLostAnswerDB(tc.answer)
			objs := &fakeS3{objects: map[string][]byte{}}
			st := dynamostore.New(db, "cards", dynamostore.Options{S3: objs, Bucket: "b"})
			c := card.New("acme", "w-1", cardstoretest.Stamp(cardstoretest.T0))
			c.ChatLog = cardstoretest.HugeChatLog(1 << 20)
			got, created, err := st.Create(context.Background(), c)
			if err != nil || !created || got.Version != 1 {
				t.Fatalf("Create = version %v, created %v, %v; want version 1, created, no error", got, created, err)
			}
			if len(objs.objects) != 1 {
				t.Fatalf("%d chat-log objects after Create, want the 1 the item points at", len(objs.objects))
			}
			up := *got
			up.Channel = "web"
			if err := st.Update(context.Background(), &up); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if up.Version != 2 {
				t.Errorf("Update set Version %d, want 2", up.Version)
			}
			if db.writes != 2 {
				t.Errorf("%d card writes, want 2", db.writes)
			}
			ref := db.item["logRef"].(*types.AttributeValueMemberS).Value
			if _, ok := objs.objects[ref]; !ok {
				t.Errorf("the object the item points at (%s) was deleted", ref)
			}
		})
	}
	// The control: an item written by someone else (another token) is a real
	// conflict, and the loser's object is deleted.
	t.Run("someone else's write", func(t *testing.T) {
		db := newLostAnswerDB(func() error { return nil })
		objs := &fakeS3{objects: map[string][]byte{}}
		st := dynamostore.New(db, "cards", dynamostore.Options{S3: objs, Bucket: "b"})
		c := card.New("acme", "w-1", cardstoretest.Stamp(cardstoretest.T0))
		got, _, err := st.Create(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		stale := *got
		if err := st.Update(context.Background(), got); err != nil {
			t.Fatal(err)
		}
		db.answer = conditionFailed
		stale.ChatLog = cardstoretest.HugeChatLog(1 << 20)
		applied := db.item
		db.putItem = func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, conditionFailed() }
		if err := st.Update(context.Background(), &stale); card.ErrorCode(err) != card.ECONFLICT {
			t.Fatalf("stale Update: %v, want %s", err, card.ECONFLICT)
		}
		if stale.Version != 1 {
			t.Errorf("a conflicting Update moved Version to %d", stale.Version)
		}
		if len(objs.objects) != 0 {
			t.Errorf("the losing write's object was kept")
		}
		db.item = applied
		_, created, err := st.Create(context.Background(), c)
		if err != nil || created {
			t.Errorf("Create of an existing card by another writer: created %v, %v; want false, nil", created, err)
		}
	})
}
