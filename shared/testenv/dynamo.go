package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
)

// AWSConfig is a configuration for the emulators: dummy credentials, us-east-1.
func AWSConfig(t testing.TB) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
	if err != nil {
		t.Fatalf("aws config: %v", err)
	}
	return cfg
}

// DynamoDB returns a client for endpoint. Requests to moto go one at a time
// (see motoSerial).
func DynamoDB(t testing.TB, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(t), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		if isMoto(endpoint) {
			o.HTTPClient = serialClient{awshttp.NewBuildableClient()}
		}
	})
}

// motoSerial makes DynamoDB requests to moto one at a time, process-wide.
// moto (5.2.1) evaluates a write's condition and then changes the item with
// no lock in between (moto/dynamodb/models: update_item, put_item;
// backend_lock only guards creating a backend), so two concurrent
// conditional writes can both pass `ver = :old` on a loaded machine, and one
// silently overwrites the other: ConcurrentAttachTickets lost a ticket in 2
// of 20 runs with moto busy serving two suites at once. Real DynamoDB and
// dynalite (which locks the item) are atomic; the concurrency contract is
// still exercised against dynalite unserialised, and the client side of it
// against moto, which now sees the requests in some order.
var motoSerial sync.Mutex

func isMoto(endpoint string) bool {
	m := os.Getenv("CHATCARDS_TEST_MOTO")
	return m != "" && strings.TrimSuffix(endpoint, "/") == strings.TrimSuffix(m, "/")
}

type serialClient struct{ c *awshttp.BuildableClient }

// Do holds the lock until the answer's headers arrive: moto builds the
// whole answer before it sends them, so the write is done by then.
func (s serialClient) Do(r *http.Request) (*http.Response, error) {
	motoSerial.Lock()
	defer motoSerial.Unlock()
	return s.c.Do(r)
}

// S3 returns a path-style client for endpoint.
func S3(t testing.TB, endpoint string) *s3.Client {
	return s3.NewFromConfig(AWSConfig(t), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

// UniqueName returns prefix-<random hex>, for tables and buckets.
func UniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// DynamoStore returns a card store on a fresh table at endpoint.
func DynamoStore(t testing.TB, endpoint string) *dynamostore.Store {
	t.Helper()
	db := DynamoDB(t, endpoint)
	table := UniqueName("cards")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, db, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return dynamostore.New(db, table, dynamostore.Options{})
}
