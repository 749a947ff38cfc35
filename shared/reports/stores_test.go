package reports_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/testenv"
)

// sameAsSliceStore exports the fixture from a real store and requires the
// same bytes as from the slice store: the export depends only on the port.
func sameAsSliceStore(t *testing.T, store cardstore.Store) {
	t.Helper()
	ctx := context.Background()
	for _, c := range fixtureCards() {
		if _, created, err := store.Create(ctx, c); err != nil || !created {
			t.Fatalf("create %s: %v", c.SessionID, err)
		}
	}
	sel := reports.Selection{Folder: "acme", From: "2026-11-20", WithTimes: true, Formats: []string{"csv"}}
	want, _ := export(t, fixtureCards(), sel, fixtureOpts)
	got := t.TempDir()
	if _, err := reports.Export(ctx, store, &reports.DirSink{Root: got}, sel, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	for _, r := range reports.ReportNames() {
		k := key("acme", "2026-11-20", r, "csv")
		if !bytes.Equal(readFile(t, want, k), readFile(t, got, k)) {
			t.Errorf("%s differs:\nwant %s\ngot  %s", r, readFile(t, want, k), readFile(t, got, k))
		}
	}
}

func TestExportFromMemstore(t *testing.T) { sameAsSliceStore(t, memstore.New()) }

func TestExportFromDynamostoreDynalite(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	db := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	table := fmt.Sprintf("reports-%d", time.Now().UnixNano())
	if err := dynamostore.CreateTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	sameAsSliceStore(t, dynamostore.New(db, table, dynamostore.Options{}))
}

// failingStore fails the listing after its first page.
type failingStore struct{ sliceStore }

func (f *failingStore) ListByStart(ctx context.Context, folder string, from, to time.Time, opt cardstore.ListOptions) (cardstore.Page, error) {
	if opt.Cursor != "" {
		return cardstore.Page{}, card.Errorf(card.EUNAVAILABLE, "test", "throttled")
	}
	return f.sliceStore.ListByStart(ctx, folder, from, to, opt)
}

func TestDirSinkFailureLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "reports/folder=acme/date=2026-11-20/manifest.json")
	if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := &failingStore{sliceStore{cards: fixtureCards(), pageSize: 1}}
	_, err := reports.Export(context.Background(), store, &reports.DirSink{Root: dir}, reports.Selection{Folder: "acme", From: "2026-11-20"}, reports.Options{})
	if card.ErrorCode(err) != card.EUNAVAILABLE {
		t.Fatalf("error %v, want the store's EUNAVAILABLE", err)
	}
	var left []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, p)
		}
		return err
	})
	if len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
	if _, err := (&reports.DirSink{Root: dir}).Create(context.Background(), "../escape"); err == nil {
		t.Fatal("a key leaving the folder was accepted")
	}
}
