package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultCallTimeout bounds one store call to DynamoDB or S3, all of the
// SDK's retries included, when Options.CallTimeout is 0. A Lambda's whole
// budget is seconds; a dependency that accepts connections but never answers
// must cost one call's timeout, not the function's.
const DefaultCallTimeout = 5 * time.Second

// errCallTimeout marks a call that ran out of its own per-call deadline while
// the caller's context was still alive: the dependency's fault, so
// EUNAVAILABLE, unlike the caller's own deadline or cancellation.
var errCallTimeout = errors.New("no answer within the per-call timeout")

type callTimeoutError struct {
	timeout time.Duration
	err     error
}

func (e *callTimeoutError) Error() string {
	return fmt.Sprintf("%v (%s): %v", errCallTimeout, e.timeout, e.err)
}
func (e *callTimeoutError) Unwrap() []error { return []error{errCallTimeout, e.err} }

// bound returns the context for one call: the caller's, cut at timeout. The
// SDK runs every attempt and every retry back-off under this one context, so
// retries can never stretch a call past it.
func bound(parent context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, timeout)
}

// timed marks err as a per-call timeout when the call's own deadline, not the
// caller's context, ended it.
func timed(parent, call context.Context, timeout time.Duration, err error) error {
	if err == nil || parent.Err() != nil || !errors.Is(call.Err(), context.DeadlineExceeded) {
		return err
	}
	return &callTimeoutError{timeout: timeout, err: err}
}

// timedDB puts every DynamoDB call under its own deadline.
type timedDB struct {
	db      DynamoDB
	timeout time.Duration
}

func (t timedDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.db.GetItem(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

func (t timedDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.db.PutItem(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

func (t timedDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.db.UpdateItem(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

func (t timedDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.db.Query(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

func (t timedDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.db.BatchGetItem(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

// timedS3 puts every S3 call under its own deadline; a GetObject's deadline
// also covers reading its body, so it ends when the body is closed.
type timedS3 struct {
	s3      S3
	timeout time.Duration
}

func (t timedS3) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.s3.PutObject(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

func (t timedS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, o ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	defer cancel()
	out, err := t.s3.DeleteObject(c, in, o...)
	return out, timed(ctx, c, t.timeout, err)
}

func (t timedS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c, cancel := bound(ctx, t.timeout)
	out, err := t.s3.GetObject(c, in, o...)
	if err != nil || out == nil || out.Body == nil {
		err = timed(ctx, c, t.timeout, err)
		cancel()
		return out, err
	}
	out.Body = &timedBody{rc: out.Body, parent: ctx, call: c, cancel: cancel, timeout: t.timeout}
	return out, nil
}

type timedBody struct {
	rc      io.ReadCloser
	parent  context.Context
	call    context.Context
	cancel  context.CancelFunc
	timeout time.Duration
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		return n, err
	}
	return n, timed(b.parent, b.call, b.timeout, err)
}

func (b *timedBody) Close() error {
	defer b.cancel()
	return b.rc.Close()
}
