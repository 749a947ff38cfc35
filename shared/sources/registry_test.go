package sources_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/sources"
)

func TestParseSources(t *testing.T) {
	dir := t.TempDir()
	specs, err := sources.ParseSources([]byte(`{
		"acme": {"kind": "http", "url": "https://chat.acme.example", "tokenSecret": "acme-platform", "rps": 5, "timeout": "2500ms"},
		"*": {"kind": "files", "dir": "` + dir + `"},
		"beta": {"kind": "connect", "bucket": "beta-connect", "prefix": "connect/beta/ChatTranscripts"},
		"gamma": {"kind": "http", "url": "http://gamma.local/api/", "token": "t", "timeout": 3}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range specs {
		got = append(got, s.Folder+"="+s.Kind)
	}
	if strings.Join(got, " ") != "*=files acme=http beta=connect gamma=http" {
		t.Fatalf("specs %v", got)
	}
	h := specs[1].Settings.(*sources.HTTPSettings)
	if h.URL != "https://chat.acme.example" || h.TokenSecret != "acme-platform" || *h.RPS != 5 || time.Duration(*h.Timeout) != 2500*time.Millisecond {
		t.Errorf("acme settings %+v", h)
	}
	if c := specs[2].Settings.(*sources.ConnectSettings); c.Prefix != "connect/beta/ChatTranscripts/" {
		t.Errorf("prefix %q: the final slash was not added", c.Prefix)
	}
	if g := specs[3].Settings.(*sources.HTTPSettings); time.Duration(*g.Timeout) != 3*time.Second {
		t.Errorf("timeout in plain seconds: %v", time.Duration(*g.Timeout))
	}
}

// TestParseSourcesErrors: every bad entry is a start-up error naming the
// folder and the key.
func TestParseSourcesErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[]`, "JSON object"},
		{`null`, "null"},
		{`{}`, "empty"},
		{`{"a": {"kind": "http", "url": "http://x", "token": "t"}, "a": {"kind": "files", "dir": "/"}}`, "duplicate"},
		{`{"a b": {"kind": "files", "dir": "/"}}`, `"a b" is not a folder code`},
		{`{"acme": {"url": "http://x"}}`, `SOURCES["acme"].kind: is required`},
		{`{"acme": {"kind": "telepathy"}}`, `SOURCES["acme"].kind: "telepathy" is not a known source kind`},
		{`{"acme": {"kind": 7}}`, `SOURCES["acme"].kind: must be a string`},
		{`{"acme": {"Kind": "files", "dir": "/"}}`, `SOURCES["acme"].kind: is required`},
		{`{"acme": "files"}`, `SOURCES["acme"].kind: the entry must be a JSON object`},
		{`{"acme": {"kind": "http", "token": "t"}}`, `SOURCES["acme"].url: is required`},
		{`{"acme": {"kind": "http", "url": "ftp://x", "token": "t"}}`, `SOURCES["acme"].url: "ftp://x" is not an absolute http(s) URL`},
		{`{"acme": {"kind": "http", "url": "http://x"}}`, `SOURCES["acme"].token: token or tokenSecret is required`},
		{`{"acme": {"kind": "http", "url": "http://x", "token": "t", "tokenSecret": "s"}}`, `SOURCES["acme"].tokenSecret: token and tokenSecret are both set`},
		{`{"acme": {"kind": "http", "url": "http://x", "token": "t", "rps": 0}}`, `SOURCES["acme"].rps:`},
		{`{"acme": {"kind": "http", "url": "http://x", "token": "t", "rps": "fast"}}`, `SOURCES["acme"].rps:`},
		{`{"acme": {"kind": "http", "url": "http://x", "token": "t", "timeout": "soon"}}`, `SOURCES["acme"].timeout:`},
		{`{"acme": {"kind": "http", "url": "http://x", "token": "t", "timeout": -1}}`, `SOURCES["acme"].timeout:`},
		{`{"acme": {"kind": "http", "url": "http://x", "tokn": "t"}}`, `SOURCES["acme"].tokn: is not a setting of this kind`},
		{`{"acme": {"kind": "http", "URL": "http://x", "token": "t"}}`, `SOURCES["acme"].URL: is not a setting of this kind`},
		{`{"acme": {"kind": "http", "url": "http://x", "token": "t", "token": "u"}}`, `duplicate object member name "token" within "/acme"`},
		{`{"acme": {"kind": "connect"}}`, `SOURCES["acme"].bucket: is required`},
		{`{"acme": {"kind": "connect", "bucket": "b", "prefix": "/x/"}}`, `SOURCES["acme"].prefix:`},
		{`{"acme": {"kind": "files"}}`, `SOURCES["acme"].dir: is required`},
		{`{"acme": {"kind": "files", "dir": "/", "bucket": "b"}}`, `SOURCES["acme"].bucket: is not a setting of this kind`},
		{"{\"acme\": {\"kind\": \"files\", \"dir\": \"\xff\"}}", "UTF-8"},
	} {
		_, err := sources.ParseSources([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSources(%s) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSpecsFromEnv(t *testing.T) {
	dir := t.TempDir()
	// The single-source settings are the "*" entry.
	specs, err := sources.SpecsFromEnv(env(map[string]string{"SOURCE": "http", "PLATFORM_URL": "http://p", "PLATFORM_TOKEN": "t", "PLATFORM_RPS": "3"}))
	if err != nil || len(specs) != 1 || specs[0].Folder != "*" || specs[0].Kind != "http" || *specs[0].Settings.(*sources.HTTPSettings).RPS != 3 {
		t.Fatalf("single source: %+v %v", specs, err)
	}
	// SOURCES with its own "*" and SOURCE too: two defaults.
	_, err = sources.SpecsFromEnv(env(map[string]string{"SOURCE": "files", "FILES_DIR": dir, "SOURCES": `{"*": {"kind": "files", "dir": "` + dir + `"}}`}))
	if err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("two defaults: %v", err)
	}
	// SOURCES without "*" plus SOURCE: SOURCE fills "*".
	specs, err = sources.SpecsFromEnv(env(map[string]string{"SOURCE": "files", "FILES_DIR": dir, "SOURCES": `{"acme": {"kind": "files", "dir": "` + dir + `"}}`}))
	if err != nil || len(specs) != 2 || specs[0].Folder != "*" || specs[1].Folder != "acme" {
		t.Fatalf("SOURCES + SOURCE: %+v %v", specs, err)
	}
	// SOURCES alone.
	specs, err = sources.SpecsFromEnv(env(map[string]string{"SOURCES": `{"acme": {"kind": "files", "dir": "` + dir + `"}}`}))
	if err != nil || len(specs) != 1 {
		t.Fatalf("SOURCES alone: %+v %v", specs, err)
	}
	// Nothing set: the error says what to set.
	if _, err := sources.SpecsFromEnv(env(nil)); err == nil || !strings.Contains(err.Error(), "SOURCES") {
		t.Fatalf("nothing set: %v", err)
	}
}

func TestOpenAndRoute(t *testing.T) {
	dirA := t.TempDir()
	specs, err := sources.ParseSources([]byte(`{"a": {"kind": "files", "dir": "` + dirA + `"}, "*": {"kind": "http", "url": "http://127.0.0.1:9", "token": "t"},
		"c": {"kind": "connect", "bucket": "bk", "prefix": "c/"}, "d": {"kind": "connect", "bucket": "bk", "prefix": "d/"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s3c := &fakeS3{objects: map[string][]byte{}, gets: map[string]int{}}
	opened := 0
	r, err := sources.Open(context.Background(), specs, sources.OpenEnv{S3: func(context.Context) (sources.S3API, error) { opened++; return s3c, nil }})
	if err != nil {
		t.Fatal(err)
	}
	if opened != 2 || !r.HasObjects() {
		t.Fatalf("S3 asked %d times, objects %v", opened, r.HasObjects())
	}
	a, _ := r.For("a")
	other, _ := r.For("zzz")
	if a == other {
		t.Fatal("folder a got the default source")
	}
	key := "d/2026/11/20/4f9a3c1e_20261120T09:04_UTC.json"
	if f, _, err := r.ForObject("bk", key); err != nil || f != "d" {
		t.Fatalf("ForObject(d) = %q, %v", f, err)
	}
	for _, k := range []string{"c/d/2026/11/20/x_20261120T09:04_UTC.json", "e/2026/11/20/x_20261120T09:04_UTC.json", "c/2026/11/20/notes.txt", "c/x/y/z/x_20261120T09:04_UTC.json"} {
		if f, _, err := r.ForObject("bk", k); !errors.Is(err, sources.ErrNoFolderForObject) {
			t.Errorf("ForObject(%s) = %q, %v; want no folder", k, f, err)
		}
	}
	if _, _, err := r.ForObject("other-bucket", key); !errors.Is(err, sources.ErrNoFolderForObject) {
		t.Errorf("another bucket mapped: %v", err)
	}
	// Unknown folder with no "*": the fetch fails naming the folder.
	r2, _ := sources.NewRouter(map[string]sources.Source{"a": a})
	if _, err := r2.Fetch(context.Background(), sources.Request{Folder: "b", SessionID: "s"}); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("fetch for an unbound folder: %v", err)
	}
}

func TestRouterRefusesAmbiguousAndDefaultObjects(t *testing.T) {
	s3c := &fakeS3{objects: map[string][]byte{}, gets: map[string]int{}}
	c1, _ := sources.NewConnect(s3c, "bk", "p/")
	c2, _ := sources.NewConnect(s3c, "bk", "p")
	if _, err := sources.NewRouter(map[string]sources.Source{"a": c1, "b": c2}); err == nil || !strings.Contains(err.Error(), "s3://bk/p/") {
		t.Fatalf("two folders on one bucket+prefix: %v", err)
	}
	if _, err := sources.NewRouter(map[string]sources.Source{"a": c1, "*": c2}); err == nil {
		t.Fatal("a folder and * on one bucket+prefix")
	}
	r := sources.Single(c1)
	_, _, err := r.ForObject("bk", "p/2026/11/20/x_20261120T09:04_UTC.json")
	if !errors.Is(err, sources.ErrNoFolderForObject) || !strings.Contains(err.Error(), `"*"`) {
		t.Fatalf("object of the * source: %v", err)
	}
}

// TestHTTPSendsFolder: the transcript request names the card's folder.
func TestHTTPSendsFolder(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RequestURI())
		http.NotFound(w, r)
	}))
	defer srv.Close()
	h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL + "/base", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.Fetch(context.Background(), sources.Request{Folder: "acme-1", SessionID: "s1"})
	if !errors.Is(err, sources.ErrNotYet) {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "/base/v1/sessions/s1/transcript?folder=acme-1" {
		t.Fatalf("requested %v", got)
	}
}

func FuzzParseSources(f *testing.F) {
	for _, s := range []string{
		`{"*": {"kind": "files", "dir": "/tmp"}}`,
		`{"acme": {"kind": "http", "url": "https://x", "token": "t", "rps": 2, "timeout": "1s"}}`,
		`{"b": {"kind": "connect", "bucket": "bk", "prefix": "p/"}}`,
		`{"a": {"kind": "http", "url": "http://x", "tokenSecret": "s", "timeout": 1e400}}`,
		`{"a": {"kind": "nope"}}`, `{"a": 1}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		specs, err := sources.ParseSources(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "SOURCES") {
				t.Fatalf("error does not name SOURCES: %v", err)
			}
			return
		}
		for _, s := range specs {
			if s.Settings == nil || s.Kind == "" {
				t.Fatalf("spec without settings: %+v", s)
			}
			if err := s.Settings.Check(); err != nil {
				t.Fatalf("accepted settings fail their check: %v", err)
			}
		}
	})
}

// TestHTTPSweepFolder: the sweep names the folder and refuses items of
// another tenant even when the platform sends them.
func TestHTTPSweepFolder(t *testing.T) {
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.Query().Get("folder")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"transcripts": [
			{"version": 1, "sessionId": "a1", "tenant": "A", "participants": [{"id": "c1", "role": "customer"}], "events": [{"at": "2026-11-20T09:00:00.000Z", "type": "started"}]},
			{"version": 1, "sessionId": "b1", "tenant": "B", "participants": [{"id": "c1", "role": "customer"}], "events": [{"at": "2026-11-20T09:00:00.000Z", "type": "started"}]}
		], "next": ""}`))
	}))
	defer srv.Close()
	h, err := sources.NewHTTP(sources.HTTPOptions{BaseURL: srv.URL, Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = h.SweepFolder(context.Background(), "A", time.Time{}, func(r sources.Result) error {
		got = append(got, r.Transcript.SessionID)
		return nil
	})
	if query != "A" {
		t.Errorf("folder sent %q", query)
	}
	if len(got) != 1 || got[0] != "a1" {
		t.Fatalf("swept %v, want only a1 (err %v)", got, err)
	}
	if !sources.IsBadTranscript(err) || !strings.Contains(err.Error(), "b1") {
		t.Fatalf("err = %v, want b1 refused", err)
	}
}

// Every platform kind takes its worker's share of the rate ceiling in
// fan-out, so the fleet stays under the platform's limit.
func TestPlatformKindsTakeTheirRateShare(t *testing.T) {
	rps := 8.0
	a := sources.ExportRateSettings(&rps)
	if got := sources.ExportClientRPS(a, "zendesk", 2, sources.OpenEnv{RateShare: 0.25}); got != 2 {
		t.Errorf("rps 8 with a quarter share = %v, want 2", got)
	}
	if got := sources.ExportClientRPS(a, "zendesk", 2, sources.OpenEnv{}); got != 8 {
		t.Errorf("rps 8 without a share = %v, want 8", got)
	}
}

// A "*" entry of a kind that cannot keep folders apart would serve every
// folder without its own entry from one account, bucket or directory: with
// named folders beside it, that is refused at start-up; alone (the
// single-source settings of a one-folder install) it is allowed.
func TestSharedDefaultOfAFolderBlindKind(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		sources string
		ok      bool
	}{
		{`{"*": {"kind": "files", "dir": "` + dir + `"}}`, true},
		{`{"a": {"kind": "files", "dir": "` + dir + `"}, "*": {"kind": "files", "dir": "` + dir + `"}}`, false},
		{`{"a": {"kind": "files", "dir": "` + dir + `"}, "*": {"kind": "connect", "bucket": "b"}}`, false},
		{`{"a": {"kind": "files", "dir": "` + dir + `"}, "*": {"kind": "zendesk", "url": "https://x.zendesk.com", "token": "t"}}`, false},
		{`{"a": {"kind": "files", "dir": "` + dir + `"}, "*": {"kind": "http", "url": "http://127.0.0.1:9", "token": "t"}}`, true},
		{`{"a": {"kind": "files", "dir": "` + dir + `"}, "b": {"kind": "connect", "bucket": "b"}}`, true},
	} {
		specs, err := sources.ParseSources([]byte(tc.sources))
		if err != nil {
			t.Fatal(err)
		}
		s3c := &fakeS3{objects: map[string][]byte{}, gets: map[string]int{}}
		_, err = sources.Open(context.Background(), specs, sources.OpenEnv{S3: func(context.Context) (sources.S3API, error) { return s3c, nil }})
		if tc.ok != (err == nil) {
			t.Errorf("%s: %v, want ok %v", tc.sources, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), `SOURCES["*"]`) {
			t.Errorf("error does not name the entry: %v", err)
		}
	}
}
