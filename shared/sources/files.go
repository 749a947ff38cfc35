package sources

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chatcards/chatcards/shared/transcript"
)

// Files reads <dir>/<sessionId>.json, in transcript v1 or Amazon Connect
// format, for the CLI, the demo and tests.
type Files struct {
	dir string
}

var _ Source = (*Files)(nil)

// NewFiles returns a source over dir, which must exist.
func NewFiles(dir string) (*Files, error) {
	if dir == "" {
		return nil, errors.New("sources.NewFiles: dir is required")
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("sources.NewFiles: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("sources.NewFiles: %s is not a directory", dir)
	}
	return &Files{dir: dir}, nil
}

// Fetch reads the session's file. The session id is checked against the
// session-id alphabet first, which has no path separator, so a card can never
// name a file outside dir ("..", being only dots, is refused explicitly).
func (f *Files) Fetch(ctx context.Context, r Request) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if !transcript.ValidSessionID(r.SessionID) || r.SessionID == "." || r.SessionID == ".." {
		return Result{}, fmt.Errorf("sources: files: session id %q is not a valid session id", r.SessionID)
	}
	p := filepath.Join(f.dir, r.SessionID+".json")
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, fmt.Errorf("session %s: no file %s: %w", r.SessionID, p, ErrNotYet)
	}
	if err != nil {
		return Result{}, fmt.Errorf("sources: files: %w", err)
	}
	if st.Size() > MaxBodyBytes {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("%s is larger than %d bytes", p, MaxBodyBytes))
	}
	body, err := os.ReadFile(p)
	if err != nil {
		return Result{}, fmt.Errorf("sources: files: %w", err)
	}
	t, err := transcript.Decode(body)
	if err != nil {
		return Result{}, badTranscript(r.SessionID, fmt.Errorf("%s: %w", p, err))
	}
	if err := checkSession(r.SessionID, t); err != nil {
		return Result{}, err
	}
	return Result{Transcript: t, Hash: HashDocs(body)}, nil
}
