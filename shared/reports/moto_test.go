package reports_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/testenv"
)

func motoS3(t *testing.T) *s3.Client {
	endpoint := testenv.Moto(t)
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

func TestS3SinkAndCatalogOnMoto(t *testing.T) {
	client := motoS3(t)
	ctx := context.Background()
	bucket := fmt.Sprintf("reports-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	sink, err := reports.NewS3Sink(client, bucket, 0)
	if err != nil {
		t.Fatal(err)
	}
	cat := reports.NewS3Catalog(client, s3.NewPresignClient(client), bucket)

	links, err := cat.Links(ctx, "acme", "2026-11-20")
	if err != nil || len(links) != 0 {
		t.Fatalf("before export: %v %v, want an empty list", links, err)
	}
	cards := append(bigCards(), fixtureCards()...)
	ms, err := reports.Export(ctx, &sliceStore{cards: cards, pageSize: 100}, sink,
		reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"transcripts", "sessions"}, Formats: []string{"csv", "parquet"}}, reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	links, err = cat.Links(ctx, "acme", "2026-11-20")
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != len(ms[0].Files) || len(links) != 5 {
		t.Fatalf("links %d, manifest files %d", len(links), len(ms[0].Files))
	}
	for _, l := range links {
		if l.ExpiresAt.Before(time.Now().Add(14*time.Minute)) || l.ExpiresAt.After(time.Now().Add(16*time.Minute)) {
			t.Errorf("%s expires at %v, want in 15 minutes", l.Key, l.ExpiresAt)
		}
		if !strings.Contains(l.URL, "X-Amz-Expires=900") {
			t.Errorf("%s: url %s is not valid for 900 s", l.Key, l.URL)
		}
		resp, err := http.Get(l.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || int64(len(body)) != l.Bytes {
			t.Errorf("%s: GET %d, %d bytes, want 200 and %d bytes", l.Key, resp.StatusCode, len(body), l.Bytes)
		}
	}
	// A failing re-run (UploadPart fails) removes the manifest and leaves no upload open.
	failing := &failingS3{Client: client, failPart: 2}
	sink2, _ := reports.NewS3Sink(failing, bucket, 0)
	if _, err := reports.Export(ctx, &sliceStore{cards: cards, pageSize: 100}, sink2,
		reports.Selection{Folder: "acme", From: "2026-11-20", Reports: []string{"transcripts"}, Formats: []string{"csv"}}, reports.Options{}); err == nil {
		t.Fatal("export with a failing part succeeded")
	}
	if links, err := cat.Links(ctx, "acme", "2026-11-20"); err != nil || len(links) != 0 {
		t.Fatalf("after a failed re-run: %d links, %v; want none", len(links), err)
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left open", len(ups.Uploads))
	}
}

type failingS3 struct {
	*s3.Client
	failPart int
	parts    atomic.Int32 // parts upload concurrently
}

func (f *failingS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, opt ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if int(f.parts.Add(1)) == f.failPart {
		return nil, fmt.Errorf("injected failure")
	}
	return f.Client.UploadPart(ctx, in, opt...)
}
