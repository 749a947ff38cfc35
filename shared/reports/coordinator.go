package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// S3CoordAPI is the part of the S3 client the coordinator uses.
type S3CoordAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3CoordAPI = (*s3.Client)(nil)

// S3Coordinator keeps parts in the reports bucket and creates the manifest
// with a conditional PutObject (If-None-Match: *), which S3 lets exactly
// one writer win.
type S3Coordinator struct {
	Client S3CoordAPI
	Bucket string
}

var _ Coordinator = (*S3Coordinator)(nil)

// maxPartBytes guards against reading something that is not a part.
const maxPartBytes = 16 << 20

// PutPart implements Coordinator.
func (c *S3Coordinator) PutPart(ctx context.Context, key string, body []byte) error {
	_, err := c.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.Bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("s3: put %s: %w", key, err)
	}
	return nil
}

// GetPart implements Coordinator.
func (c *S3Coordinator) GetPart(ctx context.Context, key string) ([]byte, bool, error) {
	out, err := c.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.Bucket, Key: &key})
	if err != nil {
		if apiCode(err) == "NoSuchKey" || apiCode(err) == "NotFound" {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("s3: get %s: %w", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxPartBytes+1))
	if err != nil {
		return nil, false, fmt.Errorf("s3: read %s: %w", key, err)
	}
	if len(b) > maxPartBytes {
		return nil, false, fmt.Errorf("s3: %s is larger than a part can be", key)
	}
	return b, true, nil
}

// CreateOnce implements Coordinator. S3 answers 412 when the key exists and
// 409 when a conditional write raced another; a 409 is retried, and then
// sees the winner's object as a 412.
func (c *S3Coordinator) CreateOnce(ctx context.Context, key string, body []byte) (bool, error) {
	for attempt := 0; ; attempt++ {
		_, err := c.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &c.Bucket, Key: &key, Body: bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String("application/json"), IfNoneMatch: aws.String("*")})
		switch code := apiCode(err); {
		case err == nil:
			return true, nil
		case code == "PreconditionFailed":
			return false, nil
		case code == "ConditionalRequestConflict" && attempt < 3:
			select {
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			case <-ctx.Done():
				return false, ctx.Err()
			}
		default:
			return false, fmt.Errorf("s3: create %s: %w", key, err)
		}
	}
}

func apiCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// DirCoordinator keeps parts and the manifest under a local folder, beside
// a DirSink's files, for local runs of the fan-out.
type DirCoordinator struct {
	Root string
}

var _ Coordinator = (*DirCoordinator)(nil)

func (d *DirCoordinator) path(key string) (string, error) { return (&DirSink{Root: d.Root}).path(key) }

// PutPart implements Coordinator with a write to a temporary name and a rename.
func (d *DirCoordinator) PutPart(_ context.Context, key string, body []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	tmp, err := d.temp(p, body)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("dircoord: %w", err)
	}
	return nil
}

func (d *DirCoordinator) temp(p string, body []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("dircoord: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("dircoord: %w", err)
	}
	_, werr := f.Write(body)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("dircoord: %w", err)
	}
	return f.Name(), nil
}

// GetPart implements Coordinator.
func (d *DirCoordinator) GetPart(_ context.Context, key string) ([]byte, bool, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("dircoord: %w", err)
	}
	return b, true, nil
}

// CreateOnce implements Coordinator with a hard link, which fails if the
// name exists: the file appears whole and only once.
func (d *DirCoordinator) CreateOnce(_ context.Context, key string, body []byte) (bool, error) {
	p, err := d.path(key)
	if err != nil {
		return false, err
	}
	tmp, err := d.temp(p, body)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, p); err != nil {
		if errors.Is(err, os.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("dircoord: %w", err)
	}
	return true, nil
}
