package sources_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/transcript"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	v1 := platform.Generate(platform.GenerateOptions{N: 1, Seed: 5})[0]
	body, err := transcript.Encode(v1)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(v1.SessionID+".json", body)
	w := newWorld()
	conn := w.objects[connectKey(w.session, time.Date(2026, 11, 20, 23, 50, 0, 0, time.UTC))]
	write(w.session+".json", conn)
	write("w-garbage.json", []byte("{not json"))
	write("w-other.json", body) // holds another session
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "outside.json"), body, 0o600); err != nil {
		t.Fatal(err)
	}

	src, err := sources.NewFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		id, hashOf string
		body       []byte
	}{{v1.SessionID, "v1", body}, {w.session, "connect", conn}} {
		res, err := src.Fetch(ctx, sources.Request{SessionID: c.id})
		if err != nil {
			t.Fatalf("%s: %v", c.hashOf, err)
		}
		if res.Transcript.SessionID != c.id || res.Hash != sources.HashDocs(c.body) {
			t.Fatalf("%s: got session %s hash %s", c.hashOf, res.Transcript.SessionID, res.Hash)
		}
	}
	if _, err := src.Fetch(ctx, sources.Request{SessionID: "w-missing"}); !errors.Is(err, sources.ErrNotYet) {
		t.Fatalf("missing file: err = %v, want ErrNotYet", err)
	}
	for _, id := range []string{"w-garbage", "w-other"} {
		if _, err := src.Fetch(ctx, sources.Request{SessionID: id}); !sources.IsBadTranscript(err) {
			t.Fatalf("%s: err = %v, want a bad transcript", id, err)
		}
	}
	for _, id := range []string{"../outside", "..", ".", "a/b", "", strings.Repeat("x", 129)} {
		_, err := src.Fetch(ctx, sources.Request{SessionID: id})
		if err == nil || errors.Is(err, sources.ErrNotYet) || sources.IsBadTranscript(err) {
			t.Fatalf("session id %q: err = %v, want it refused", id, err)
		}
	}
	if _, err := sources.NewFiles(filepath.Join(dir, "nope")); err == nil {
		t.Fatal("a missing dir was accepted")
	}
	if _, err := sources.NewFiles(filepath.Join(dir, "w-garbage.json")); err == nil {
		t.Fatal("a file was accepted as the dir")
	}
}

func TestConfigFromEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		wantErr string // a variable name the error must name; "" for success
		check   func(sources.Config) bool
	}{
		{"no source", nil, "SOURCE", nil},
		{"bad source", map[string]string{"SOURCE": "ftp"}, "SOURCE", nil},
		{"http ok", map[string]string{"SOURCE": "http", "PLATFORM_URL": "https://chat.example.com", "PLATFORM_TOKEN": "t"}, "",
			func(c sources.Config) bool {
				return c.HTTP.RPS == 20 && c.HTTP.Timeout == 10*time.Second && c.HTTP.Token == "t"
			}},
		{"http tuned", map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://127.0.0.1:8081", "PLATFORM_TOKEN_SECRET": "chat/token", "PLATFORM_RPS": "2.5", "PLATFORM_TIMEOUT": "3"}, "",
			func(c sources.Config) bool {
				return c.HTTP.RPS == 2.5 && c.HTTP.Timeout == 3*time.Second && c.TokenSecret == "chat/token" && c.HTTP.Token == ""
			}},
		{"http timeout duration", map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://x", "PLATFORM_TOKEN": "t", "PLATFORM_TIMEOUT": "2500ms"}, "",
			func(c sources.Config) bool { return c.HTTP.Timeout == 2500*time.Millisecond }},
		{"http no url", map[string]string{"SOURCE": "http", "PLATFORM_TOKEN": "t"}, "PLATFORM_URL", nil},
		{"http bad url", map[string]string{"SOURCE": "http", "PLATFORM_URL": "chat.example.com", "PLATFORM_TOKEN": "t"}, "PLATFORM_URL", nil},
		{"http no token", map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://x"}, "PLATFORM_TOKEN", nil},
		{"http two tokens", map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://x", "PLATFORM_TOKEN": "t", "PLATFORM_TOKEN_SECRET": "s"}, "PLATFORM_TOKEN_SECRET", nil},
		{"http bad rps", map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://x", "PLATFORM_TOKEN": "t", "PLATFORM_RPS": "0"}, "PLATFORM_RPS", nil},
		{"http bad timeout", map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://x", "PLATFORM_TOKEN": "t", "PLATFORM_TIMEOUT": "-1s"}, "PLATFORM_TIMEOUT", nil},
		{"connect ok", map[string]string{"SOURCE": "connect", "CONNECT_BUCKET": "b", "CONNECT_PREFIX": "connect/x/ChatTranscripts"}, "",
			func(c sources.Config) bool { return c.Bucket == "b" && c.Prefix == "connect/x/ChatTranscripts/" }},
		{"connect no bucket", map[string]string{"SOURCE": "connect"}, "CONNECT_BUCKET", nil},
		{"connect bad prefix", map[string]string{"SOURCE": "connect", "CONNECT_BUCKET": "b", "CONNECT_PREFIX": "/x/"}, "CONNECT_PREFIX", nil},
		{"files ok", map[string]string{"SOURCE": "files", "FILES_DIR": "/tmp/x"}, "", func(c sources.Config) bool { return c.FilesDir == "/tmp/x" }},
		{"files no dir", map[string]string{"SOURCE": "files"}, "FILES_DIR", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := sources.ConfigFromEnv(func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(cfg) {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

func TestHashDocs(t *testing.T) {
	a, b := []byte("ab"), []byte("c")
	if sources.HashDocs(a, b) == sources.HashDocs([]byte("a"), []byte("bc")) {
		t.Fatal("different splits of the same bytes hash alike")
	}
	if sources.HashDocs(a, b) == sources.HashDocs(b, a) {
		t.Fatal("order does not matter to the hash")
	}
	if sources.HashDocs([]byte("abc")) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatal("one document is not its plain sha256")
	}
}
