package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// DynamoDB returns a client for endpoint.
func DynamoDB(t testing.TB, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(AWSConfig(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
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
