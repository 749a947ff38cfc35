package reports_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/stats"
)

// fakeS3 keeps objects and multipart uploads in memory and fails on demand.
type fakeS3 struct {
	mu          sync.Mutex
	objects     map[string][]byte
	uploads     map[string]map[int32][]byte
	keys        map[string]string
	n           int
	uploadParts int
	aborted     []string
	failPart    int    // fail the n-th UploadPart call (1-based); 0 never
	failPut     string // fail PutObject of keys containing this
	partSizes   []int  // sizes of completed uploads' parts, in part order
}

func newFakeS3() *fakeS3 {
	return &fakeS3{objects: map[string][]byte{}, uploads: map[string]map[int32][]byte{}, keys: map[string]string{}}
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPut != "" && strings.Contains(*in.Key, f.failPut) {
		return nil, errors.New("injected put failure")
	}
	b, _ := io.ReadAll(in.Body)
	f.objects[*in.Key] = b
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	id := fmt.Sprintf("up-%d", f.n)
	f.uploads[id] = map[int32][]byte{}
	f.keys[id] = *in.Key
	return &s3.CreateMultipartUploadOutput{UploadId: &id}, nil
}

func (f *fakeS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.uploadParts++
	if f.uploadParts == f.failPart {
		return nil, errors.New("injected part failure")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(in.Body)
	f.uploads[*in.UploadId][*in.PartNumber] = b
	etag := fmt.Sprintf("etag-%d", *in.PartNumber)
	return &s3.UploadPartOutput{ETag: &etag}, nil
}

func (f *fakeS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := f.uploads[*in.UploadId]
	var body []byte
	for i, p := range in.MultipartUpload.Parts {
		if *p.PartNumber != int32(i+1) {
			return nil, fmt.Errorf("parts out of order")
		}
		body = append(body, parts[*p.PartNumber]...)
		// In part order: parts upload concurrently, so the order of
		// UploadPart calls is not the order of the file.
		f.partSizes = append(f.partSizes, len(parts[*p.PartNumber]))
	}
	f.objects[*in.Key] = body
	delete(f.uploads, *in.UploadId)
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (f *fakeS3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	f.aborted = append(f.aborted, *in.Key)
	delete(f.uploads, *in.UploadId)
	return &s3.AbortMultipartUploadOutput{}, nil
}

func (f *fakeS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, *in.Key)
	return &s3.DeleteObjectOutput{}, nil
}

// bigCards make a transcripts CSV of about 12 MiB: three 5 MiB parts.
func bigCards() []*card.Card {
	var cards []*card.Card
	line := strings.Repeat("x", 40_000)
	for i := range 300 {
		c := newCard("acme", fmt.Sprintf("big-%03d", i), fmt.Sprintf("2026-11-20T10:%02d:%02d.000Z", i/60, i%60))
		c.ChatLog = []stats.LogEntry{{At: "2026-11-20T10:00:01.000Z", Participant: "c", Role: "customer", Text: line}}
		cards = append(cards, c)
	}
	return cards
}

func TestS3SinkMultipart(t *testing.T) {
	fs := newFakeS3()
	sink, err := reports.NewS3Sink(fs, "bucket", 0)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := reports.Export(t.Context(), &sliceStore{cards: bigCards(), pageSize: 50}, sink,
		reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"transcripts", "sessions"}, Formats: []string{"csv"}}, reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs.partSizes) < 3 {
		t.Fatalf("parts %v, want a multipart upload", fs.partSizes)
	}
	for _, n := range fs.partSizes[:len(fs.partSizes)-1] {
		if n != reports.MinPartSize {
			t.Fatalf("part sizes %v: all but the last must be 5 MiB", fs.partSizes)
		}
	}
	for _, f := range ms[0].Files {
		if int64(len(fs.objects[f.Key])) != f.Bytes {
			t.Errorf("%s: %d bytes stored, manifest says %d", f.Key, len(fs.objects[f.Key]), f.Bytes)
		}
	}
	if _, ok := fs.objects["reports/folder=acme/date=2026-11-20/manifest.json"]; !ok {
		t.Fatal("no manifest")
	}
	if len(fs.uploads) != 0 {
		t.Fatalf("open uploads left: %v", fs.uploads)
	}
}

func TestFailedExportLeavesNothing(t *testing.T) {
	sel := reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"transcripts", "sessions", "pages"}, Formats: []string{"csv", "parquet"}}
	for _, tc := range []struct {
		name     string
		setup    func(*fakeS3)
		ctx      func(t *testing.T) (context.Context, *sliceStore)
		wantAbrt bool
	}{
		{name: "second part fails", setup: func(f *fakeS3) { f.failPart = 2 }, wantAbrt: true},
		{name: "last part fails at commit", setup: func(f *fakeS3) { f.failPart = 3 }, wantAbrt: true},
		{name: "manifest put fails", setup: func(f *fakeS3) { f.failPut = "manifest.json" }},
		{name: "context cancelled mid-export", ctx: func(t *testing.T) (context.Context, *sliceStore) {
			ctx, cancel := context.WithCancel(t.Context())
			return ctx, &sliceStore{cards: bigCards(), pageSize: 50, onPage: func(n int) {
				// The export reads a page ahead: page 6 is asked for once
				// pages 1-3 are written, past the first multipart part.
				if n == 6 {
					cancel()
				}
			}}
		}, wantAbrt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFakeS3()
			// A complete earlier export of the same day must not survive as a
			// manifest that vouches for files this run replaced.
			fs.objects["reports/folder=acme/date=2026-11-20/manifest.json"] = []byte("{}")
			if tc.setup != nil {
				tc.setup(fs)
			}
			ctx, store := t.Context(), &sliceStore{cards: bigCards(), pageSize: 50}
			if tc.ctx != nil {
				ctx, store = tc.ctx(t)
			}
			sink, _ := reports.NewS3Sink(fs, "bucket", 0)
			_, err := reports.Export(ctx, store, sink, sel, reports.Options{})
			if err == nil {
				t.Fatal("export succeeded")
			}
			if len(fs.objects) != 0 {
				keys := make([]string, 0)
				for k := range fs.objects {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				t.Fatalf("objects left behind: %v", keys)
			}
			if len(fs.uploads) != 0 {
				t.Fatalf("multipart uploads left open: %v", fs.uploads)
			}
			if tc.wantAbrt && len(fs.aborted) == 0 {
				t.Fatal("no AbortMultipartUpload")
			}
		})
	}
}

func TestS3SinkSmallFileIsOnePut(t *testing.T) {
	fs := newFakeS3()
	sink, _ := reports.NewS3Sink(fs, "bucket", 0)
	f, _ := sink.Create(t.Context(), "a/b.csv")
	if _, err := f.Write([]byte("x,y\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fs.objects["a/b.csv"], []byte("x,y\r\n")) || fs.n != 0 {
		t.Fatalf("objects %v, multipart uploads %d", fs.objects, fs.n)
	}
	if err := f.Abort(); err != nil {
		t.Fatalf("abort after commit: %v", err)
	}
	if _, err := reports.NewS3Sink(nil, "b", 0); err == nil {
		t.Fatal("nil client accepted")
	}
}
