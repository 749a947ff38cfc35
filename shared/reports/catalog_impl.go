package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/chatcards/chatcards/shared/card"
)

// LinkTTL is how long a presigned download link is valid.
const LinkTTL = 15 * time.Minute

// maxManifestBytes guards against reading something that is not a manifest.
const maxManifestBytes = 16 << 20

// S3GetAPI is the S3 call the catalog uses.
type S3GetAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Presigner signs download links (s3.PresignClient).
type Presigner interface {
	PresignGetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

var (
	_ S3GetAPI  = (*s3.Client)(nil)
	_ Presigner = (*s3.PresignClient)(nil)
)

// S3Catalog lists the reports of a day from its manifest in the reports bucket.
type S3Catalog struct {
	client    S3GetAPI
	presigner Presigner
	bucket    string
	now       func() time.Time
}

var _ Catalog = (*S3Catalog)(nil)

// NewS3Catalog returns a Catalog over bucket.
func NewS3Catalog(client S3GetAPI, presigner Presigner, bucket string) *S3Catalog {
	return &S3Catalog{client: client, presigner: presigner, bucket: bucket, now: time.Now}
}

func checkCatalogArgs(op, folder, date string) error {
	if folder == "" || strings.ContainsAny(folder, "/\\") {
		return card.Errorf(card.EINVALID, op, "folder %q is not a folder name", folder)
	}
	if _, err := time.Parse(dateLayout, date); err != nil {
		return card.Errorf(card.EINVALID, op, "date %q is not YYYY-MM-DD", date)
	}
	return nil
}

// Links implements Catalog.
func (c *S3Catalog) Links(ctx context.Context, folder, date string) ([]Link, error) {
	const op = "reports.S3Catalog.Links"
	if err := checkCatalogArgs(op, folder, date); err != nil {
		return nil, err
	}
	key := ManifestKey(folder, date)
	out, err := c.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &c.bucket, Key: &key})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NoSuchKey" || apiErr.ErrorCode() == "NotFound") {
			return []Link{}, nil
		}
		return nil, card.Wrap(card.EUNAVAILABLE, op, fmt.Errorf("get %s: %w", key, err))
	}
	defer out.Body.Close()
	m, err := readManifest(out.Body)
	if err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, fmt.Errorf("%s: %w", key, err))
	}
	expires := c.now().Add(LinkTTL).UTC().Truncate(time.Second)
	links := make([]Link, 0, len(m.Files))
	for _, f := range m.Files {
		req, err := c.presigner.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &c.bucket, Key: &f.Key},
			func(o *s3.PresignOptions) { o.Expires = LinkTTL })
		if err != nil {
			return nil, card.Wrap(card.EINTERNAL, op, fmt.Errorf("presign %s: %w", f.Key, err))
		}
		links = append(links, linkOf(f, req.URL, expires))
	}
	return links, nil
}

func readManifest(r io.Reader) (*Manifest, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if len(body) > maxManifestBytes {
		return nil, errors.New("manifest is too large")
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return &m, nil
}

func linkOf(f ManifestFile, u string, expires time.Time) Link {
	return Link{Report: f.Report, Format: f.Format, Key: f.Key, Rows: f.Rows, Bytes: f.Bytes, SHA256: f.SHA256, URL: u, ExpiresAt: expires}
}

// DirCatalog lists the reports a DirSink wrote, with file:// links that do not expire.
type DirCatalog struct {
	Root string
}

var _ Catalog = (*DirCatalog)(nil)

// Links implements Catalog.
func (d *DirCatalog) Links(_ context.Context, folder, date string) ([]Link, error) {
	const op = "reports.DirCatalog.Links"
	if err := checkCatalogArgs(op, folder, date); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(d.Root)
	if err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, err)
	}
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(ManifestKey(folder, date))))
	if errors.Is(err, os.ErrNotExist) {
		return []Link{}, nil
	}
	if err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, err)
	}
	defer f.Close()
	m, err := readManifest(f)
	if err != nil {
		return nil, card.Wrap(card.EINTERNAL, op, err)
	}
	links := make([]Link, 0, len(m.Files))
	for _, mf := range m.Files {
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(root, filepath.FromSlash(mf.Key)))}
		links = append(links, linkOf(mf, u.String(), time.Time{}))
	}
	return links, nil
}
