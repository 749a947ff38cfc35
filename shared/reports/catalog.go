package reports

import (
	"context"
	"time"
)

// Link is one exported file of a day, as GET /v1/reports lists it: the
// manifest entry plus a presigned download URL.
type Link struct {
	Report    string    `json:"report"`
	Format    string    `json:"format"`
	Key       string    `json:"key"`
	Rows      int64     `json:"rows"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Catalog finds the reports exported for a folder and a local day
// (YYYY-MM-DD). No manifest means no complete export: an empty list, no error.
type Catalog interface {
	Links(ctx context.Context, folder, date string) ([]Link, error)
}
