package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API is the part of the S3 client the sink uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// MinPartSize is S3's smallest part but the last one.
const MinPartSize = 5 << 20

// S3Sink streams files to a bucket. A file that fits in one part is one
// PutObject at commit; a larger one is a multipart upload of PartSize parts,
// completed at commit and aborted on any failure, so no partial object is
// ever visible.
type S3Sink struct {
	client   S3API
	bucket   string
	partSize int
}

var _ Sink = (*S3Sink)(nil)

// NewS3Sink returns a sink into bucket. partSize below MinPartSize means MinPartSize.
func NewS3Sink(client S3API, bucket string, partSize int) (*S3Sink, error) {
	if client == nil {
		return nil, errors.New("reports.NewS3Sink: client is required")
	}
	if bucket == "" {
		return nil, errors.New("reports.NewS3Sink: bucket is required")
	}
	return &S3Sink{client: client, bucket: bucket, partSize: max(partSize, MinPartSize)}, nil
}

// Create implements Sink.
func (s *S3Sink) Create(ctx context.Context, key string) (File, error) {
	return &s3File{ctx: ctx, s: s, key: key, buf: bytes.NewBuffer(make([]byte, 0, 64<<10))}, nil
}

// Remove implements Sink.
func (s *S3Sink) Remove(ctx context.Context, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return fmt.Errorf("s3sink: delete %s: %w", key, err)
	}
	return nil
}

type s3File struct {
	ctx      context.Context
	s        *S3Sink
	key      string
	buf      *bytes.Buffer
	uploadID *string
	parts    []types.CompletedPart
	failed   error
	done     bool
}

func (f *s3File) Write(p []byte) (int, error) {
	if f.failed != nil {
		return 0, f.failed
	}
	if f.done {
		return 0, errors.New("s3sink: write after commit or abort")
	}
	if err := f.ctx.Err(); err != nil {
		f.failed = err
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		room := f.s.partSize - f.buf.Len()
		take := min(room, len(p))
		f.buf.Write(p[:take])
		p = p[take:]
		if f.buf.Len() >= f.s.partSize {
			if err := f.uploadPart(); err != nil {
				f.failed = err
				return 0, err
			}
		}
	}
	return n, nil
}

func (f *s3File) uploadPart() error {
	if f.uploadID == nil {
		out, err := f.s.client.CreateMultipartUpload(f.ctx, &s3.CreateMultipartUploadInput{Bucket: &f.s.bucket, Key: &f.key,
			ContentType: aws.String(ContentTypeOf(f.key))})
		if err != nil {
			return fmt.Errorf("s3sink: start upload %s: %w", f.key, err)
		}
		f.uploadID = out.UploadId
	}
	num := int32(len(f.parts) + 1)
	out, err := f.s.client.UploadPart(f.ctx, &s3.UploadPartInput{
		Bucket: &f.s.bucket, Key: &f.key, UploadId: f.uploadID, PartNumber: &num,
		Body: bytes.NewReader(f.buf.Bytes()), ContentLength: aws.Int64(int64(f.buf.Len())),
	})
	if err != nil {
		return fmt.Errorf("s3sink: upload %s part %d: %w", f.key, num, err)
	}
	f.parts = append(f.parts, types.CompletedPart{ETag: out.ETag, PartNumber: &num})
	f.buf.Reset()
	return nil
}

func (f *s3File) Commit() error {
	if f.failed != nil {
		return f.failed
	}
	if f.done {
		return errors.New("s3sink: commit after commit or abort")
	}
	if err := f.ctx.Err(); err != nil {
		f.failed = err
		return err
	}
	if f.uploadID == nil {
		if _, err := f.s.client.PutObject(f.ctx, &s3.PutObjectInput{
			Bucket: &f.s.bucket, Key: &f.key, Body: bytes.NewReader(f.buf.Bytes()),
			ContentLength: aws.Int64(int64(f.buf.Len())), ContentType: aws.String(ContentTypeOf(f.key)),
		}); err != nil {
			f.failed = fmt.Errorf("s3sink: put %s: %w", f.key, err)
			return f.failed
		}
		f.done = true
		return nil
	}
	if f.buf.Len() > 0 {
		if err := f.uploadPart(); err != nil {
			f.failed = err
			return err
		}
	}
	if _, err := f.s.client.CompleteMultipartUpload(f.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &f.s.bucket, Key: &f.key, UploadId: f.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: f.parts},
	}); err != nil {
		f.failed = fmt.Errorf("s3sink: complete %s: %w", f.key, err)
		return f.failed
	}
	f.done = true
	return nil
}

// abortTimeout bounds the clean-up call, which runs even after the export's
// context was cancelled.
const abortTimeout = 10 * time.Second

func (f *s3File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.buf = bytes.NewBuffer(nil)
	if f.uploadID == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), abortTimeout)
	defer cancel()
	if _, err := f.s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &f.s.bucket, Key: &f.key, UploadId: f.uploadID,
	}); err != nil {
		return fmt.Errorf("s3sink: abort %s: %w", f.key, err)
	}
	return nil
}
