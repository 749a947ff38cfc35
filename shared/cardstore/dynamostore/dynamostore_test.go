package dynamostore_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

func dynamoClient(t testing.TB, endpoint string) *dynamodb.Client {
	return testenv.DynamoDB(t, endpoint)
}

func s3Client(t testing.TB, endpoint string) *s3.Client { return testenv.S3(t, endpoint) }

func uniqueName(prefix string) string { return testenv.UniqueName(prefix) }

// newTable creates a fresh uniquely named table on endpoint.
func newTable(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	table := uniqueName("cards")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, db, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return table
}

// newBucket creates a fresh bucket on moto for chat-log overflow.
func newBucket(t testing.TB, client *s3.Client) string {
	t.Helper()
	bucket := uniqueName("cards")
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	return bucket
}

// emulatorCallTimeout replaces DefaultCallTimeout in the emulator suites.
// They check the contract, not latency: moto and dynalite on a loaded
// two-core CI machine can take seconds for one call under the concurrent
// tests, where real DynamoDB takes milliseconds. TestCallTimeout checks the
// deadline itself.
const emulatorCallTimeout = 30 * time.Second

// The emulator suites run in parallel with each other: each store has its
// own table and bucket, and most of their time is spent waiting on the
// emulators (table creation above all), which are separate processes.
func TestConformanceMoto(t *testing.T) {
	moto := testenv.Moto(t)
	t.Parallel()
	db, s3c := dynamoClient(t, moto), s3Client(t, moto)
	cardstoretest.Run(t, func(t *testing.T) cardstore.Store {
		return dynamostore.New(db, newTable(t, db), dynamostore.Options{S3: s3c, Bucket: newBucket(t, s3c), Retention: 30 * 24 * time.Hour, CallTimeout: emulatorCallTimeout})
	})
}

// dynalite has no S3: the overflow bucket lives on moto.
func TestConformanceDynalite(t *testing.T) {
	dyn := testenv.Dynalite(t)
	moto := testenv.Moto(t)
	t.Parallel()
	db, s3c := dynamoClient(t, dyn), s3Client(t, moto)
	cardstoretest.Run(t, func(t *testing.T) cardstore.Store {
		return dynamostore.New(db, newTable(t, db), dynamostore.Options{S3: s3c, Bucket: newBucket(t, s3c), CallTimeout: emulatorCallTimeout})
	})
}
