package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
)

// TestLoggedLogsErrorsAtError: a handler's error is a JSON record at ERROR,
// so it survives ApplicationLogLevel WARN; success logs nothing.
func TestLoggedLogsErrorsAtError(t *testing.T) {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer slog.SetDefault(prev)

	h := app.Logged("sync", func(_ context.Context, raw json.RawMessage) (int, error) {
		if string(raw) == "bad" {
			return 0, errors.New("sync event: unknown key \"hello\"")
		}
		return 1, nil
	})
	if n, err := h(context.Background(), json.RawMessage("ok")); n != 1 || err != nil {
		t.Fatalf("ok: %d %v", n, err)
	}
	if buf.Len() != 0 {
		t.Fatalf("success logged: %s", buf.String())
	}
	if _, err := h(context.Background(), json.RawMessage("bad")); err == nil {
		t.Fatal("error swallowed")
	}
	var rec struct{ Level, Msg, Function, Error string }
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON record: %q", buf.String())
	}
	if rec.Level != "ERROR" || rec.Function != "sync" || !strings.Contains(rec.Error, "hello") {
		t.Fatalf("record %+v", rec)
	}
}

func TestSyncSourcesSettings(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SOURCES": `{"acme": {"kind": "telepathy"}}`}, `SOURCES["acme"].kind: "telepathy" is not a known source kind`},
		{map[string]string{"SOURCES": `{"acme": {"kind": "files", "dir": "/nonexistent/chatcards"}}`}, `SOURCES["acme"] (files): dir:`},
		{map[string]string{"SOURCES": `{"*": {"kind": "files", "dir": "` + dir + `"}}`, "SOURCE": "files", "FILES_DIR": dir}, "both set"},
		{map[string]string{}, "SOURCE is required"},
	} {
		_, err := app.Sync(context.Background(), func(k string) string { return c.env[k] }, app.Deps{Store: memstore.New()})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.env, err, c.want)
		}
	}
	h, err := app.Sync(context.Background(), func(k string) string {
		return map[string]string{"SOURCES": `{"a": {"kind": "files", "dir": "` + dir + `"}}`}[k]
	}, app.Deps{Store: memstore.New()})
	if err != nil {
		t.Fatal(err)
	}
	if h.Objects != nil {
		t.Error("a files-only setup serves S3 events")
	}
	// An S3 event with no folder bound to a connect source is refused.
	_, err = h.HandleRaw(context.Background(), json.RawMessage(`{"detail-type": "Object Created", "source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": "p/2026/11/20/x_20261120T09:04_UTC.json"}}}`))
	if err == nil || !strings.Contains(err.Error(), "SOURCES") {
		t.Fatalf("S3 event without a connect folder: %v", err)
	}
}
