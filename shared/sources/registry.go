package sources

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/strictjson"
)

// DefaultFolder is the SOURCES key of the entry every folder without its own
// entry uses.
const DefaultFolder = "*"

// Settings are one kind's settings, decoded from a SOURCES entry (every key
// of the entry but "kind"). A kind plugs in by registering a constructor of
// its own settings struct with Register; nothing else in the sync changes.
type Settings interface {
	// Check validates the settings at start-up. An error names the JSON key
	// ("url: is required"); the caller adds the folder.
	Check() error
	// Open builds the source. It is called once per entry at start-up.
	Open(ctx context.Context, env OpenEnv) (Source, error)
}

// OpenEnv are the outside parts a kind may need to open its source. Each is
// built only when a kind asks for it, so a deployment without S3 sources
// never loads AWS credentials for them.
type OpenEnv struct {
	// S3 returns the S3 client for kinds that read S3 (connect).
	S3 func(ctx context.Context) (S3API, error)
	// Secret reads a Secrets Manager secret's string (tokenSecret keys).
	Secret func(ctx context.Context, name string) (string, error)
	// HTTPClient, when set, is the client kinds that speak HTTP use (tests,
	// a custom transport); nil means each source's own default.
	HTTPClient *http.Client
	// RateShare, when in (0, 1), is the part of each source's request-rate
	// ceiling this process may use: the sync's fan-out workers each get
	// 1/SYNC_WORKERS of it, so the ceiling holds for the whole fleet. Every
	// kind with a rate ceiling multiplies it by RateShare; 0 or 1: all of it.
	RateShare float64
}

// share applies env.RateShare to a ceiling.
func (env OpenEnv) share(rps float64) float64 {
	if env.RateShare > 0 && env.RateShare < 1 {
		return rps * env.RateShare
	}
	return rps
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]func() Settings{}
)

// Register makes kind usable in SOURCES: newSettings returns a fresh pointer
// to the kind's settings struct, which the entry is decoded into (exact-case
// keys, unknown keys refused, so a typo is a start-up error). Call it from an
// init function; registering a kind twice panics, as that is a programming
// error, not a setting.
func Register(kind string, newSettings func() Settings) {
	if kind == "" || kind == DefaultFolder || newSettings == nil {
		panic("sources.Register: kind and constructor are required")
	}
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[kind]; dup {
		panic("sources.Register: kind " + kind + " registered twice")
	}
	kinds[kind] = newSettings
}

// Kinds lists the registered kinds, sorted.
func Kinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func newSettings(kind string) (Settings, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	f, ok := kinds[kind]
	if !ok {
		return nil, false
	}
	return f(), true
}

func init() {
	Register(KindHTTP, func() Settings { return &HTTPSettings{} })
	Register(KindConnect, func() Settings { return &ConnectSettings{} })
	Register(KindFiles, func() Settings { return &FilesSettings{} })
}

// Spec is one folder's source as configured: the folder code (or "*"), the
// kind and the kind's checked settings.
type Spec struct {
	Folder   string
	Kind     string
	Settings Settings
	// Discover is the entry's common "discover" key (default false): the
	// sync creates cards for the conversations the platform lists (see
	// Discoverer). Open refuses it when the kind's source cannot list.
	Discover bool
}

// maxSources bounds SOURCES so a runaway setting cannot open thousands of
// clients at start-up.
const maxSources = 1000

// ParseSources reads SOURCES: a JSON object of folder code (or "*") to
// {"kind": ..., ...the kind's settings...}. It is read strictly (exact-case
// keys, no duplicates, valid UTF-8, unknown keys refused) and every entry is
// checked; an error names the folder and the key. The specs come back sorted
// by folder ("*" first).
func ParseSources(b []byte) ([]Spec, error) {
	var entries map[string]jsontext.Value
	if err := strictjson.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("SOURCES: want a JSON object of folder code (or \"*\") to source settings: %w", err)
	}
	if entries == nil {
		return nil, errors.New("SOURCES: want a JSON object of folder code (or \"*\") to source settings, got null")
	}
	if len(entries) == 0 {
		return nil, errors.New("SOURCES: is empty: name at least one folder or \"*\"")
	}
	if len(entries) > maxSources {
		return nil, fmt.Errorf("SOURCES: %d entries, at most %d", len(entries), maxSources)
	}
	specs := make([]Spec, 0, len(entries))
	for folder, raw := range entries {
		if folder != DefaultFolder && !card.ValidFolder(folder) {
			return nil, fmt.Errorf("SOURCES: %q is not a folder code (1-64 of A-Z a-z 0-9 _ -) nor \"*\"", folder)
		}
		s, err := parseEntry(raw)
		if err != nil {
			return nil, fmt.Errorf("SOURCES[%q].%w", folder, err)
		}
		s.Folder = folder
		specs = append(specs, s)
	}
	sortSpecs(specs)
	return specs, nil
}

// parseEntry reads one entry. Errors start with the key, so the caller can
// prefix SOURCES["folder"].
func parseEntry(raw jsontext.Value) (Spec, error) {
	var head map[string]jsontext.Value
	if err := strictjson.Unmarshal(raw, &head); err != nil || head == nil {
		return Spec{}, errors.New("kind: the entry must be a JSON object with a \"kind\"")
	}
	kraw, ok := head["kind"]
	if !ok {
		return Spec{}, fmt.Errorf("kind: is required (one of %s)", strings.Join(Kinds(), ", "))
	}
	var kind string
	if err := strictjson.Unmarshal(kraw, &kind); err != nil {
		return Spec{}, errors.New("kind: must be a string")
	}
	s, ok := newSettings(kind)
	if !ok {
		return Spec{}, fmt.Errorf("kind: %q is not a known source kind (one of %s)", kind, strings.Join(Kinds(), ", "))
	}
	delete(head, "kind")
	// "discover" is common to every kind, so it is read here, not by the
	// kind's settings; whether the kind can discover is known once its
	// source is open (Open refuses it there).
	discover := false
	if d, ok := head["discover"]; ok {
		if err := strictjson.Unmarshal(d, &discover); err != nil {
			return Spec{}, errors.New("discover: must be true or false")
		}
		delete(head, "discover")
	}
	rest, err := json.Marshal(head)
	if err != nil {
		return Spec{}, fmt.Errorf("kind: %w", err)
	}
	// The same library strictjson wraps, with unknown keys refused: in a
	// setting an unknown key is a typo, not a newer producer.
	if err := json.Unmarshal(rest, s, json.RejectUnknownMembers(true)); err != nil {
		return Spec{}, settingsError(err)
	}
	if err := s.Check(); err != nil {
		return Spec{}, err
	}
	return Spec{Kind: kind, Settings: s, Discover: discover}, nil
}

// settingsError turns a decoding error into "<key>: <problem>" (the JSON
// pointer of a semantic error names the key, an unknown one included).
func settingsError(err error) error {
	var se *json.SemanticError
	if !errors.As(err, &se) {
		return fmt.Errorf("kind: %v", err)
	}
	key := strings.TrimPrefix(string(se.JSONPointer), "/")
	if key == "" {
		key = "kind"
	}
	switch {
	case errors.Is(se.Err, json.ErrUnknownName):
		return fmt.Errorf("%s: is not a setting of this kind", key)
	case se.Err != nil:
		return fmt.Errorf("%s: %v", key, se.Err)
	case se.GoType != nil:
		return fmt.Errorf("%s: has the wrong type (got JSON %v, want %s)", key, se.JSONKind, goKind(se.GoType.String()))
	}
	return fmt.Errorf("%s: has the wrong type (got JSON %v)", key, se.JSONKind)
}

// goKind names a settings field's Go type for a person.
func goKind(t string) string {
	switch strings.TrimPrefix(t, "*") {
	case "float64":
		return "a number"
	case "string":
		return "a string"
	case "sources.Seconds":
		return "a duration"
	}
	return t
}

func sortSpecs(specs []Spec) {
	slices.SortFunc(specs, func(a, b Spec) int {
		switch {
		case a.Folder == b.Folder:
			return 0
		case a.Folder == DefaultFolder:
			return -1
		case b.Folder == DefaultFolder:
			return 1
		}
		return strings.Compare(a.Folder, b.Folder)
	})
}

// SpecsFromEnv reads the sources: SOURCES when set, else the single-source
// settings (SOURCE and its PLATFORM_*, CONNECT_*, FILES_DIR), which are the
// "*" entry written out. Setting SOURCE as well as a SOURCES that has its own
// "*" is an error (two defaults); with a SOURCES without "*", SOURCE and its
// settings fill the "*" entry.
func SpecsFromEnv(getenv func(string) string) ([]Spec, error) {
	raw := strings.TrimSpace(getenv("SOURCES"))
	single := strings.TrimSpace(getenv("SOURCE")) != ""
	var specs []Spec
	if raw != "" {
		var err error
		if specs, err = ParseSources([]byte(raw)); err != nil {
			return nil, err
		}
		if !single {
			return specs, nil
		}
		if specs[0].Folder == DefaultFolder {
			return nil, errors.New("SOURCE and SOURCES[\"*\"] are both set: set the default source in one place")
		}
	}
	c, err := ConfigFromEnv(getenv)
	if err != nil {
		if raw != "" {
			return nil, fmt.Errorf("SOURCE (the \"*\" entry next to SOURCES): %w", err)
		}
		return nil, fmt.Errorf("%w (or set SOURCES)", err)
	}
	specs = append(specs, c.Spec())
	sortSpecs(specs)
	return specs, nil
}

// Spec is c as the "*" entry.
func (c Config) Spec() Spec {
	s := Spec{Folder: DefaultFolder, Kind: c.Kind}
	switch c.Kind {
	case KindHTTP:
		rps, timeout := c.HTTP.RPS, Seconds(c.HTTP.Timeout)
		s.Settings = &HTTPSettings{URL: c.HTTP.BaseURL, Token: c.HTTP.Token, TokenSecret: c.TokenSecret, RPS: &rps, Timeout: &timeout}
	case KindConnect:
		s.Settings = &ConnectSettings{Bucket: c.Bucket, Prefix: c.Prefix}
	case KindFiles:
		s.Settings = &FilesSettings{Dir: c.FilesDir}
	}
	return s
}

// Open opens every spec's source and binds them into a Router.
func Open(ctx context.Context, specs []Spec, env OpenEnv) (*Router, error) {
	if err := checkSharedDefault(specs); err != nil {
		return nil, err
	}
	bound := make(map[string]Source, len(specs))
	discover := map[string]bool{}
	for _, s := range specs {
		src, err := s.Settings.Open(ctx, env)
		if err != nil {
			return nil, fmt.Errorf("SOURCES[%q] (%s): %w", s.Folder, s.Kind, err)
		}
		if s.Discover {
			if _, ok := src.(Discoverer); !ok {
				return nil, fmt.Errorf("SOURCES[%q].discover: kind %q cannot list the platform's conversations; remove \"discover\"", s.Folder, s.Kind)
			}
			discover[s.Folder] = true
		}
		bound[s.Folder] = src
	}
	r, err := NewRouter(bound)
	if err != nil {
		return nil, err
	}
	r.discover = discover
	return r, nil
}

// Seconds is a duration read from JSON as a Go duration string ("10s",
// "2500ms") or a number of seconds (10, 2.5).
type Seconds time.Duration

// UnmarshalJSON reads "10s" or 10.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var v any
	if err := strictjson.Unmarshal(b, &v); err != nil {
		return err
	}
	var d time.Duration
	var err error
	switch v := v.(type) {
	case string:
		d, err = parseSeconds(v)
	case float64:
		if math.IsNaN(v) || v <= 0 || v > float64(24*time.Hour/time.Second) {
			return errors.New("must be a positive number of seconds, at most a day")
		}
		d = time.Duration(v * float64(time.Second))
	default:
		return errors.New("want a duration (\"10s\") or a number of seconds")
	}
	if err != nil {
		return err
	}
	*s = Seconds(d)
	return nil
}

// HTTPSettings are the "http" kind's keys: the platform's history API.
type HTTPSettings struct {
	URL         string   `json:"url"`         // base URL, as PLATFORM_URL
	Token       string   `json:"token"`       // bearer token, as PLATFORM_TOKEN
	TokenSecret string   `json:"tokenSecret"` // Secrets Manager name, as PLATFORM_TOKEN_SECRET
	RPS         *float64 `json:"rps"`         // request rate ceiling, default 20
	Timeout     *Seconds `json:"timeout"`     // per request, default 10 s
}

// Check validates the keys.
func (h *HTTPSettings) Check() error {
	if h.URL == "" {
		return errors.New("url: is required")
	}
	u, err := url.Parse(h.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url: %q is not an absolute http(s) URL", h.URL)
	}
	switch {
	case h.Token == "" && h.TokenSecret == "":
		return errors.New("token: token or tokenSecret is required")
	case h.Token != "" && h.TokenSecret != "":
		return errors.New("tokenSecret: token and tokenSecret are both set: set only one")
	}
	if h.RPS != nil && (*h.RPS <= 0 || math.IsInf(*h.RPS, 0) || math.IsNaN(*h.RPS)) {
		return fmt.Errorf("rps: %v must be a positive number (requests per second)", *h.RPS)
	}
	if h.Timeout != nil && *h.Timeout <= 0 {
		return errors.New("timeout: must be positive")
	}
	return nil
}

// Open reads the token secret when one is named and builds the source.
func (h *HTTPSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	opt := HTTPOptions{BaseURL: h.URL, Token: h.Token, Client: env.HTTPClient}
	if h.TokenSecret != "" {
		if env.Secret == nil {
			return nil, errors.New("tokenSecret: no Secrets Manager client here")
		}
		tok, err := env.Secret(ctx, h.TokenSecret)
		if err != nil {
			return nil, fmt.Errorf("tokenSecret: %w", err)
		}
		if tok == "" {
			return nil, fmt.Errorf("tokenSecret: secret %s is empty", h.TokenSecret)
		}
		opt.Token = tok
	}
	opt.RPS = DefaultRPS
	if h.RPS != nil {
		opt.RPS = *h.RPS
	}
	opt.RPS = env.share(opt.RPS)
	if h.Timeout != nil {
		opt.Timeout = time.Duration(*h.Timeout)
	}
	return NewHTTP(opt)
}

// ConnectSettings are the "connect" kind's keys: Amazon Connect chat
// transcripts in S3.
type ConnectSettings struct {
	Bucket string `json:"bucket"` // as CONNECT_BUCKET
	Prefix string `json:"prefix"` // as CONNECT_PREFIX, e.g. connect/<instance-alias>/ChatTranscripts/
}

// Check validates the keys and adds the prefix's final slash.
func (c *ConnectSettings) Check() error {
	if c.Bucket == "" {
		return errors.New("bucket: is required")
	}
	if strings.HasPrefix(c.Prefix, "/") {
		return fmt.Errorf("prefix: %q must not start with a slash (S3 keys do not)", c.Prefix)
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	return nil
}

// Open builds the source on the shared S3 client.
func (c *ConnectSettings) Open(ctx context.Context, env OpenEnv) (Source, error) {
	if env.S3 == nil {
		return nil, errors.New("bucket: no S3 client here")
	}
	client, err := env.S3(ctx)
	if err != nil {
		return nil, err
	}
	return NewConnect(client, c.Bucket, c.Prefix)
}

// FilesSettings are the "files" kind's keys.
type FilesSettings struct {
	Dir string `json:"dir"` // as FILES_DIR
}

// Check validates the keys.
func (f *FilesSettings) Check() error {
	if f.Dir == "" {
		return errors.New("dir: is required")
	}
	return nil
}

// Open checks the directory exists and builds the source.
func (f *FilesSettings) Open(context.Context, OpenEnv) (Source, error) {
	s, err := NewFiles(f.Dir)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	return s, nil
}

// FolderAware reports whether a kind keeps folders apart by itself: the
// http source sends ?folder= and its platform tags each transcript with its
// tenant, which the sync checks. Every other kind reads one account, bucket
// or directory that knows no folders: a card of folder B created with a
// session id of folder A's would get A's chat if both folders read it.
func FolderAware(kind string) bool { return kind == "http" }

// checkSharedDefault refuses a "*" entry of a kind that cannot keep folders
// apart when SOURCES also names folders: the deployment then clearly serves
// several folders, and every folder without its own entry would read the
// same account, bucket or directory (the cross-folder read of issue 9). A
// "*" alone (the single-source settings) stays allowed: a one-folder
// install; the sync warns about it at start-up.
func checkSharedDefault(specs []Spec) error {
	var star *Spec
	for i := range specs {
		if specs[i].Folder == DefaultFolder {
			star = &specs[i]
		}
	}
	if star == nil || FolderAware(star.Kind) || len(specs) == 1 {
		return nil
	}
	return fmt.Errorf("SOURCES[%q]: kind %q cannot keep folders apart (its transcripts name no folder), so with folders of their own in SOURCES it would serve every other folder from one place: give each folder its own entry, or make \"*\" an http source", DefaultFolder, star.Kind)
}
