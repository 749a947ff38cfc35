package reports

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Sink is where an export writes its files. Nothing a File writes is
// visible under its key until Commit; Abort throws it away.
type Sink interface {
	// Create starts the file key; ctx bounds every write and the commit.
	Create(ctx context.Context, key string) (File, error)
	// Remove deletes key if it exists (a stale manifest before a re-run).
	Remove(ctx context.Context, key string) error
}

// File is one file being written to a Sink.
type File interface {
	io.Writer
	// Commit makes the whole file visible under its key.
	Commit() error
	// Abort discards everything written; it is safe after a failed Write or
	// Commit and a no-op after a successful Commit.
	Abort() error
}

// DirSink writes the key tree under a local folder, for local runs and the
// demo. A file is written to a temporary name and renamed on commit.
type DirSink struct {
	Root string
}

var _ Sink = (*DirSink)(nil)

func (d *DirSink) path(key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("dirsink: key %q leaves the folder", key)
	}
	return filepath.Join(d.Root, clean), nil
}

// Create implements Sink.
func (d *DirSink) Create(ctx context.Context, key string) (File, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("dirsink: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("dirsink: %w", err)
	}
	return &dirFile{ctx: ctx, f: f, final: p}, nil
}

// Remove implements Sink.
func (d *DirSink) Remove(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("dirsink: %w", err)
	}
	return nil
}

type dirFile struct {
	ctx   context.Context
	f     *os.File
	final string
	done  bool
}

func (f *dirFile) Write(p []byte) (int, error) {
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *dirFile) Commit() error {
	if err := f.ctx.Err(); err != nil {
		return err
	}
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("dirsink: %w", err)
	}
	if err := os.Rename(f.f.Name(), f.final); err != nil {
		return fmt.Errorf("dirsink: %w", err)
	}
	f.done = true
	return nil
}

func (f *dirFile) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.f.Close()
	if err := os.Remove(f.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("dirsink: %w", err)
	}
	return nil
}

// DiscardSink counts and drops everything: benchmarks use it to measure the
// export without any storage.
type DiscardSink struct{}

var _ Sink = DiscardSink{}

// Create implements Sink.
func (DiscardSink) Create(context.Context, string) (File, error) { return discardFile{}, nil }

// Remove implements Sink.
func (DiscardSink) Remove(context.Context, string) error { return nil }

type discardFile struct{}

func (discardFile) Write(p []byte) (int, error) { return len(p), nil }
func (discardFile) Commit() error               { return nil }
func (discardFile) Abort() error                { return nil }
