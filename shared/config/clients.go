package config

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/sources"
)

// AWS loads the default AWS configuration (environment, shared files, the
// Lambda role). AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 point the
// clients at local emulators.
func AWS(ctx context.Context) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// S3 returns an S3 client; path-style addressing when an endpoint override
// is set (emulators) or AWS_S3_USE_PATH_STYLE=true.
func S3(cfg aws.Config) *s3.Client {
	pathStyle := os.Getenv("AWS_ENDPOINT_URL_S3") != "" || os.Getenv("AWS_ENDPOINT_URL") != "" ||
		strings.EqualFold(os.Getenv("AWS_S3_USE_PATH_STYLE"), "true")
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}

// SQS returns an SQS client (AWS_ENDPOINT_URL_SQS points it at an emulator).
func SQS(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }

// DynamoDB returns a DynamoDB client.
func DynamoDB(cfg aws.Config) *dynamodb.Client { return dynamodb.NewFromConfig(cfg) }

// OpenStore returns the DynamoDB card store of s.
func OpenStore(cfg aws.Config, s Store) (cardstore.Store, error) {
	if s.Table == "" {
		return nil, fmt.Errorf("TABLE_NAME is required")
	}
	opts := dynamostore.Options{Retention: s.Retention}
	if s.Bucket != "" {
		opts.S3, opts.Bucket = S3(cfg), s.Bucket
	}
	return dynamostore.New(dynamodb.NewFromConfig(cfg), s.Table, opts), nil
}

// SecretTimeout bounds a Secrets Manager read whose caller set no earlier
// deadline: start-up code runs on context.Background(), and a Secrets
// Manager that accepts connections but never answers must fail the start,
// not hang it until Lambda's init limit.
const SecretTimeout = 5 * time.Second

// Secret reads a Secrets Manager secret's string, within ctx's deadline or
// SecretTimeout, whichever comes first.
func Secret(ctx context.Context, cfg aws.Config, name string) (string, error) {
	return secret(ctx, secretsmanager.NewFromConfig(cfg), name)
}

// secretGetter is the one Secrets Manager call Secret makes.
type secretGetter interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

func secret(ctx context.Context, sm secretGetter, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, SecretTimeout)
	defer cancel()
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("read secret %s: %w", name, err)
	}
	if out.SecretString == nil {
		return "", fmt.Errorf("secret %s has no string value", name)
	}
	return strings.TrimSpace(*out.SecretString), nil
}

// OpenSource builds the transcript source of c. cfg is only used by the
// connect source and for PLATFORM_TOKEN_SECRET.
func OpenSource(ctx context.Context, cfg aws.Config, c sources.Config, client *http.Client) (sources.Source, error) {
	switch c.Kind {
	case sources.KindHTTP:
		if c.TokenSecret != "" {
			tok, err := Secret(ctx, cfg, c.TokenSecret)
			if err != nil {
				return nil, fmt.Errorf("PLATFORM_TOKEN_SECRET: %w", err)
			}
			c.HTTP.Token = tok
		}
		if client != nil {
			c.HTTP.Client = client
		}
		return sources.NewHTTP(c.HTTP)
	case sources.KindConnect:
		return sources.NewConnect(S3(cfg), c.Bucket, c.Prefix)
	case sources.KindFiles:
		return sources.NewFiles(c.FilesDir)
	}
	return nil, fmt.Errorf("SOURCE=%q: want http, connect or files", c.Kind)
}
