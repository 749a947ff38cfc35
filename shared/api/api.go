// Package api is the chat-session HTTP API that the chatbot calls: one
// net/http handler, served by API Gateway through Lambda or by a local server.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/folders"
	"github.com/chatcards/chatcards/shared/reports"
	"github.com/chatcards/chatcards/shared/share"
	"github.com/chatcards/chatcards/shared/transcript"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
const MaxBodyBytes = 64 << 10

// DefaultStoreTimeout bounds each call the API makes to the card store
// (DynamoDB) or the report catalog (S3) when Config.StoreTimeout is zero.
// A table that accepts connections but never answers must still get the
// chatbot a 503 with Retry-After well inside API Gateway's 29 s integration
// timeout and the function's own (10 s in template.yaml); 5 s is ten times
// a slow DynamoDB call and leaves room for the answer.
const DefaultStoreTimeout = 5 * time.Second

// answerMargin is kept free before the request's own deadline (the Lambda
// deadline, through the adapter's context) so that a dependency that uses up
// its time still leaves time to write the 503.
const answerMargin = 500 * time.Millisecond

// Config is what New needs. Store and Tokens are required; the rest has
// defaults.
type Config struct {
	Store  cardstore.Store
	Tokens *Tokens
	// Reports lists a day's exported reports; nil answers every listing with
	// an empty list (no export configured).
	Reports reports.Catalog
	// Now is the clock for startedAt defaults and card timestamps.
	Now func() time.Time
	// Logger gets one JSON line per request and the cause of every 500.
	Logger *slog.Logger
	// NewRequestID names a request in logs and 500 bodies when the caller
	// (the Lambda adapter) has not set one on the context.
	NewRequestID func() string
	// StoreTimeout bounds every single Store and Reports call (zero or
	// negative: DefaultStoreTimeout). A call that runs out of it is answered
	// 503 with Retry-After. Store and Reports must honour their context.
	StoreTimeout time.Duration
	// Folders gives each folder its time zone for the dialog page; nil:
	// every folder in UTC.
	Folders *folders.Config
	// ShareKey signs share links (at least share.MinKeyBytes); nil switches
	// sharing off: the share call and every link answer 501.
	ShareKey []byte
	// ShareBaseURL is the scheme, host and optional path prefix of share
	// links ("https://api.example.com"); empty: the request's own.
	ShareBaseURL string
}

type server struct {
	store   cardstore.Store
	tokens  *Tokens
	reports reports.Catalog
	now     func() time.Time
	log     *slog.Logger
	newID   func() string
	timeout time.Duration
	mux     *http.ServeMux

	folders   *folders.Config
	shareKey  []byte
	shareBase string
}

// New returns the API handler. It panics only on a programming error: a nil
// Store or Tokens, a ShareKey shorter than share.MinKeyBytes or a bad
// ShareBaseURL, which wiring code must never pass.
//
// Where the contract is silent the handler chooses: checks run token (401),
// folder (400), folder right (403), content type (415), size (413), body
// (400); a lost write race (ECONFLICT) is 503 with Retry-After like
// throttling, since nothing was written and a retry succeeds; a card the
// store cannot grow further (ETOOLARGE) is 413; sessionIds "." and ".." are
// refused because no URL path can name them; every answer carries
// X-Request-Id, and only a 500 body repeats it; bodies are read strictly and
// null is refused (decodeStrict); every Store and Reports call runs under
// Config.StoreTimeout and one that runs out of it is 503 with Retry-After.
// The card call answers the dialog page to a browser (WantsHTML) and a
// share link (?share=) always, HTML errors keeping the JSON statuses; the
// share call checks token, folder right, then sharing on (501), id, body,
// the card (404). docs/api.md is the user-facing version of these choices.
func New(cfg Config) http.Handler {
	if cfg.Store == nil {
		panic("api.New: Config.Store is required")
	}
	if cfg.Tokens == nil {
		panic("api.New: Config.Tokens is required")
	}
	s := &server{
		store:   cfg.Store,
		tokens:  cfg.Tokens,
		reports: cfg.Reports,
		now:     cfg.Now,
		log:     cfg.Logger,
		newID:   cfg.NewRequestID,
		timeout: cfg.StoreTimeout,
		mux:     http.NewServeMux(),

		folders:   cfg.Folders,
		shareKey:  cfg.ShareKey,
		shareBase: strings.TrimSuffix(cfg.ShareBaseURL, "/"),
	}
	if s.shareKey != nil {
		if err := share.CheckKey(s.shareKey); err != nil {
			panic("api.New: Config.ShareKey: " + err.Error())
		}
	}
	if s.shareBase != "" {
		if _, err := share.URL(s.shareBase, make([]byte, share.MinKeyBytes), "f", "i", time.Unix(0, 0)); err != nil {
			panic("api.New: Config.ShareBaseURL: " + err.Error())
		}
	}
	if s.timeout <= 0 {
		s.timeout = DefaultStoreTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.newID == nil {
		s.newID = randomID
	}
	s.mux.HandleFunc("POST /v1/chat-sessions", s.authed(s.createSession))
	s.mux.HandleFunc("GET /v1/chat-sessions/{id}", s.cardOrDialog)
	s.mux.HandleFunc("POST /v1/chat-sessions/{id}/share", s.authed(s.shareLink))
	s.mux.HandleFunc("POST /v1/chat-sessions/{id}/tickets", s.authed(s.attachTicket))
	s.mux.HandleFunc("GET /v1/reports", s.authed(s.listReports))
	s.mux.HandleFunc("GET /v1/health", s.health)
	return s
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

type ctxKey int

const requestIDKey ctxKey = 0

// WithRequestID returns a context whose requests are logged and answered
// under id; the Lambda adapter uses the API Gateway request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// recorder remembers the status for the access log.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ServeHTTP routes through the ServeMux but answers its unmatched requests
// itself, because the mux writes plain-text 404 and 405 bodies and every
// error of this API is problem+json.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id, _ := r.Context().Value(requestIDKey).(string)
	if id == "" {
		id = s.newID()
		r = r.WithContext(WithRequestID(r.Context(), id))
	}
	w.Header().Set("X-Request-Id", id)
	rec := &recorder{ResponseWriter: w}
	_, pattern := s.mux.Handler(r)
	defer func() {
		if v := recover(); v != nil {
			// A panic is a bug; answer 500 rather than dropping the
			// connection, and keep the stack out of the response.
			s.log.ErrorContext(r.Context(), "panic", "request_id", id, "route", pattern, "panic", slog.AnyValue(v))
			if rec.status == 0 {
				s.problem(rec, r, problem{Status: http.StatusInternalServerError})
			}
		}
		s.log.InfoContext(r.Context(), "request",
			"request_id", id,
			"method", r.Method,
			"route", pattern,
			"status", rec.status,
			"duration_ms", float64(time.Since(start).Microseconds())/1000)
	}()
	if pattern == "" {
		s.unmatched(rec, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// unmatched answers a request no route took: 405 with the mux's own Allow
// list when the path exists under another method, else 404.
func (s *server) unmatched(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		s.problem(w, r, problem{Status: http.StatusMethodNotAllowed,
			Detail: r.Method + " is not allowed here; allowed: " + probe.header.Get("Allow")})
		return
	}
	s.problem(w, r, problem{Status: http.StatusNotFound, Detail: "no such resource"})
}

// headerProbe runs the mux's fallback handler only to learn its status and
// Allow header; the plain-text body is dropped.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }

// grant is what authed hands a route: the checked folder.
type routeFunc func(w http.ResponseWriter, r *http.Request, folder string)

// authed checks, in this order, the token (401), the folder parameter (400)
// and the token's right to the folder (403). The token comes first so that a
// caller without one learns nothing, not even which folders are well formed.
func (s *server) authed(next routeFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		g := s.tokens.lookup(bearer(r.Header.Get("Authorization")))
		if g == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chatcards"`)
			s.problem(w, r, problem{Status: http.StatusUnauthorized, Detail: "a valid bearer token is required"})
			return
		}
		q, err := parseQuery(r.URL.RawQuery)
		if err != nil {
			s.problem(w, r, invalid(FieldError{"query", "is not a valid query string"}))
			return
		}
		folders := q["folder"]
		switch {
		case len(folders) == 0:
			s.problem(w, r, invalid(FieldError{"folder", "is required"}))
			return
		case len(folders) > 1:
			s.problem(w, r, invalid(FieldError{"folder", "must be given once"}))
			return
		case !ValidFolder(folders[0]):
			s.problem(w, r, invalid(FieldError{"folder", folderRule}))
			return
		}
		folder := folders[0]
		if !g.allows(folder) {
			s.problem(w, r, problem{Status: http.StatusForbidden, Detail: "the token is not valid for this folder"})
			return
		}
		next(w, r, folder)
	}
}

const folderRule = "must be 1 to 64 characters of A-Z a-z 0-9 _ -"

// ValidFolder reports whether s is a folder code (card.ValidFolder).
func ValidFolder(s string) bool { return card.ValidFolder(s) }

// sessionID validates the {id} path segment. "." and ".." pass the
// transcript's character rule but can never be a path segment (the mux
// cleans them away), so the API refuses them at create as well.
func sessionID(field, id string) *FieldError {
	if !transcript.ValidSessionID(id) {
		return &FieldError{field, "must be 1 to 128 characters of A-Z a-z 0-9 . _ : -"}
	}
	if id == "." || id == ".." {
		return &FieldError{field, `must not be "." or ".." (it cannot be a URL path segment)`}
	}
	return nil
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) createSession(w http.ResponseWriter, r *http.Request, folder string) {
	if !s.jsonBody(w, r) {
		return
	}
	req, p := decodeCreate(r.Body)
	if p != nil {
		s.problem(w, r, *p)
		return
	}
	now := s.now().UTC()
	c, errs := req.card(folder, now)
	if len(errs) > 0 {
		s.problem(w, r, invalid(errs...))
		return
	}
	ctx, cancel := s.bounded(r.Context())
	defer cancel()
	stored, created, err := s.store.Create(ctx, c)
	if err = late(ctx, err); err != nil {
		s.storeError(w, r, "create", err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		w.Header().Set("Location", cardPath(folder, stored.SessionID))
	}
	writeJSON(w, status, stored)
}

// cardPath is the shareable URL path of a card. Both parts are restricted
// to characters that need no escaping in a path or a query.
func cardPath(folder, id string) string {
	return "/v1/chat-sessions/" + id + "?folder=" + folder
}

func (s *server) getSession(w http.ResponseWriter, r *http.Request, folder string) {
	id := r.PathValue("id")
	if fe := sessionID("id", id); fe != nil {
		s.problem(w, r, invalid(*fe))
		return
	}
	ctx, cancel := s.bounded(r.Context())
	defer cancel()
	c, err := s.store.Get(ctx, folder, id)
	if err = late(ctx, err); err != nil {
		s.storeError(w, r, "get", err)
		return
	}
	if wantsHTMLPage(r) {
		s.dialogPage(w, r, c, time.Time{})
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *server) attachTicket(w http.ResponseWriter, r *http.Request, folder string) {
	id := r.PathValue("id")
	if fe := sessionID("id", id); fe != nil {
		s.problem(w, r, invalid(*fe))
		return
	}
	if !s.jsonBody(w, r) {
		return
	}
	ticket, p := decodeTicket(r.Body)
	if p != nil {
		s.problem(w, r, *p)
		return
	}
	ctx, cancel := s.bounded(r.Context())
	defer cancel()
	c, err := s.store.AttachTicket(ctx, folder, id, ticket)
	if err = late(ctx, err); err != nil {
		s.storeError(w, r, "attach ticket", err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *server) listReports(w http.ResponseWriter, r *http.Request, folder string) {
	q, _ := parseQuery(r.URL.RawQuery) // authed already parsed it without error
	dates := q["date"]
	switch {
	case len(dates) == 0:
		s.problem(w, r, invalid(FieldError{"date", "is required (YYYY-MM-DD)"}))
		return
	case len(dates) > 1:
		s.problem(w, r, invalid(FieldError{"date", "must be given once"}))
		return
	}
	if _, err := time.Parse(time.DateOnly, dates[0]); err != nil || len(dates[0]) != len(time.DateOnly) {
		s.problem(w, r, invalid(FieldError{"date", "must be a calendar date YYYY-MM-DD"}))
		return
	}
	links := []reports.Link{}
	if s.reports != nil {
		ctx, cancel := s.bounded(r.Context())
		defer cancel()
		l, err := s.reports.Links(ctx, folder, dates[0])
		if err = late(ctx, err); err != nil {
			s.storeError(w, r, "list reports", err)
			return
		}
		if l != nil {
			links = l
		}
	}
	writeJSON(w, http.StatusOK, map[string][]reports.Link{"reports": links})
}

// bounded gives one dependency call its deadline: the store timeout, cut
// short to leave answerMargin before the request's own deadline.
func (s *server) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, max(time.Until(dl)-answerMargin, 0))
	}
	return context.WithTimeout(ctx, d)
}

// late makes sure the error of a call whose deadline passed says so, even
// when the dependency reported only a symptom (a closed connection, an
// uncoded error): statusOf then answers 503 rather than 500.
func late(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return errors.Join(err, ctx.Err())
}

// storeError answers a failed store or catalog call through statusOf, and
// logs the cause of anything the caller cannot fix.
func (s *server) storeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	p := statusOf(err)
	if p.Status >= 500 {
		id, _ := r.Context().Value(requestIDKey).(string)
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelWarn // the caller left or its deadline passed: not our fault
		}
		s.log.Log(r.Context(), level, op+" failed", "request_id", id, "status", p.Status,
			"code", string(card.ErrorCode(err)), "error", err.Error())
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	s.problem(w, r, p)
}

// retryAfter is short because throttling and lost races clear within
// seconds; the chatbot's retry must land before its user gives up.
const retryAfter = "1"

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written here is a plain struct or map; a marshal error
		// is a bug, and a half-written body would hide it.
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
