package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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

// DefaultUploadConcurrency is how many parts one S3Sink uploads at once,
// across all of its files.
const DefaultUploadConcurrency = 8

// S3Sink streams files to a bucket. A file that fits in one part is one
// PutObject at commit; a larger one is a multipart upload of PartSize parts,
// completed at commit and aborted on any failure, so no partial object is
// ever visible. Full parts upload in the background while the file goes on
// being written; at most the sink's concurrency of parts are in flight at
// once (the writer waits for a free slot), so memory is bounded by one
// filling buffer per open file plus concurrency × part size.
//
// It does not use the SDK's transfermanager (nor feature/s3/manager): that
// allocates (Concurrency+1) × PartSize per upload up front and first reads
// 16 MiB to choose between single and multipart, per file; a report task
// has up to 14 files open at once, so the bound would grow with the files
// rather than with the parts in flight (docs/export.md).
type S3Sink struct {
	client   S3API
	bucket   string
	partSize int
	slots    chan struct{}
	pool     sync.Pool
}

var _ Sink = (*S3Sink)(nil)

// NewS3Sink returns a sink into bucket. partSize below MinPartSize means MinPartSize.
func NewS3Sink(client S3API, bucket string, partSize int) (*S3Sink, error) {
	return NewS3SinkConcurrent(client, bucket, partSize, 0)
}

// NewS3SinkConcurrent is NewS3Sink with concurrency part uploads at once
// (<= 0 means DefaultUploadConcurrency).
func NewS3SinkConcurrent(client S3API, bucket string, partSize, concurrency int) (*S3Sink, error) {
	if client == nil {
		return nil, errors.New("reports.NewS3Sink: client is required")
	}
	if bucket == "" {
		return nil, errors.New("reports.NewS3Sink: bucket is required")
	}
	if concurrency <= 0 {
		concurrency = DefaultUploadConcurrency
	}
	s := &S3Sink{client: client, bucket: bucket, partSize: max(partSize, MinPartSize), slots: make(chan struct{}, concurrency)}
	return s, nil
}

func (s *S3Sink) getBuf() *bytes.Buffer {
	if b, ok := s.pool.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return bytes.NewBuffer(make([]byte, 0, 64<<10))
}

// putBuf keeps part-sized buffers for the next part; small ones are not
// worth keeping.
func (s *S3Sink) putBuf(b *bytes.Buffer) {
	if b.Cap() >= s.partSize {
		s.pool.Put(b)
	}
}

// Create implements Sink.
func (s *S3Sink) Create(ctx context.Context, key string) (File, error) {
	return &s3File{ctx: ctx, s: s, key: key, buf: s.getBuf()}, nil
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
	next     int32 // parts handed out so far
	wg       sync.WaitGroup
	mu       sync.Mutex // guards parts and partErr, written by the part goroutines
	parts    []types.CompletedPart
	partErr  error
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
		if need := f.buf.Len() + take; need > f.buf.Cap() {
			// Grow by doubling but never past one part: bytes.Buffer's own
			// growth would make every part buffer 8 MiB for 5 MiB parts.
			nb := bytes.NewBuffer(make([]byte, 0, min(f.s.partSize, max(need, 2*f.buf.Cap()))))
			nb.Write(f.buf.Bytes())
			f.buf = nb
		}
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

func (f *s3File) firstErr() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.partErr
}

// uploadPart hands the full buffer to a background upload, waiting for a
// free slot first, and starts a fresh buffer.
func (f *s3File) uploadPart() error {
	if err := f.firstErr(); err != nil {
		return err
	}
	if f.uploadID == nil {
		out, err := f.s.client.CreateMultipartUpload(f.ctx, &s3.CreateMultipartUploadInput{Bucket: &f.s.bucket, Key: &f.key,
			ContentType: aws.String(ContentTypeOf(f.key))})
		if err != nil {
			return fmt.Errorf("s3sink: start upload %s: %w", f.key, err)
		}
		f.uploadID = out.UploadId
	}
	select {
	case f.s.slots <- struct{}{}:
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
	f.next++
	num, body := f.next, f.buf
	f.buf = f.s.getBuf()
	f.wg.Go(func() {
		defer func() { <-f.s.slots }()
		defer f.s.putBuf(body)
		out, err := f.s.client.UploadPart(f.ctx, &s3.UploadPartInput{
			Bucket: &f.s.bucket, Key: &f.key, UploadId: f.uploadID, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(body.Bytes()), ContentLength: aws.Int64(int64(body.Len())),
		})
		f.mu.Lock()
		defer f.mu.Unlock()
		if err != nil {
			if f.partErr == nil {
				f.partErr = fmt.Errorf("s3sink: upload %s part %d: %w", f.key, num, err)
			}
			return
		}
		f.parts = append(f.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
	})
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
		f.release()
		return nil
	}
	if f.buf.Len() > 0 {
		if err := f.uploadPart(); err != nil {
			f.failed = err
			return err
		}
	}
	f.wg.Wait()
	if err := f.firstErr(); err != nil {
		f.failed = err
		return err
	}
	// Parts finish in any order; S3 wants them ascending.
	slices.SortFunc(f.parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	if _, err := f.s.client.CompleteMultipartUpload(f.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &f.s.bucket, Key: &f.key, UploadId: f.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: f.parts},
	}); err != nil {
		f.failed = fmt.Errorf("s3sink: complete %s: %w", f.key, err)
		return f.failed
	}
	f.release()
	return nil
}

// release ends a committed file and returns its buffer for the next one.
func (f *s3File) release() {
	f.done = true
	f.s.putBuf(f.buf)
	f.buf = nil
}

// abortTimeout bounds the clean-up call, which runs even after the export's
// context was cancelled.
const abortTimeout = 10 * time.Second

func (f *s3File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	// Parts still uploading would otherwise land after the abort and
	// leave storage behind that no one can see.
	f.wg.Wait()
	f.buf = nil
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
