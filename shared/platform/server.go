package platform

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatcards/chatcards/shared/transcript"
)

// Faults are the misbehaviours the server can put on, switchable at run
// time. Each rate is a probability in [0,1] drawn per request from the
// server's seeded generator, so a test run is reproducible.
type Faults struct {
	ErrorRate float64       // answer 500
	Latency   time.Duration // wait before answering
	// Burst429 answers the next N requests 429 with Retry-After.
	Burst429   int
	RetryAfter time.Duration // sent with 429s and 503s (default 1 s, whole seconds)
	// TruncateRate sends a 200 with only the first part of the body (and a
	// matching Content-Length): a complete response that is not valid JSON.
	TruncateRate float64
	// GarbleRate sends a 200 whose body has a run of bytes overwritten.
	GarbleRate float64
}

// ServerOptions configure NewServer.
type ServerOptions struct {
	Token  string // required bearer token
	Faults Faults
	Seed   int64        // for the fault draws
	Logger *slog.Logger // default: discard
	// PageSize is the sweep page length (default 100; a request's limit
	// parameter may ask for fewer).
	PageSize int
	// Now stamps updates (default time.Now).
	Now func() time.Time
}

// Server is the reference chat platform's history API. It is an
// http.Handler; everything on it is safe for concurrent use.
type Server struct {
	token    string
	log      *slog.Logger
	pageSize int
	now      func() time.Time

	mu       sync.Mutex
	faults   Faults
	rng      *rand.Rand
	sessions map[string]*stored

	requests atomic.Int64
	mux      *http.ServeMux
}

// stored is one session as served: its bytes, and the model when it came
// from one (so Advance can add to it).
type stored struct {
	id      string
	tenant  string // the transcript's tenant (folder code); "" when untagged
	body    []byte
	t       *transcript.Transcript
	updated int64 // ms; orders the sweep
}

// NewServer returns an empty platform.
func NewServer(opt ServerOptions) (*Server, error) {
	if opt.Token == "" {
		return nil, errors.New("platform.NewServer: Token is required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 100
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Server{
		token:    opt.Token,
		log:      opt.Logger,
		pageSize: opt.PageSize,
		now:      opt.Now,
		faults:   opt.Faults,
		rng:      rand.New(rand.NewPCG(uint64(opt.Seed), 0x5eed)),
		sessions: map[string]*stored{},
		mux:      http.NewServeMux(),
	}
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.mux.HandleFunc("GET /v1/sessions/{sessionId}/transcript", s.auth(s.transcript))
	s.mux.HandleFunc("GET /v1/transcripts", s.auth(s.sweep))
	s.mux.HandleFunc("GET /v1/sessions", s.auth(s.sessionList))
	return s, nil
}

// Paths are the routes the server answers, for the OpenAPI consistency test.
var Paths = []string{"/v1/health", "/v1/sessions/{sessionId}/transcript", "/v1/transcripts", "/v1/sessions"}

// SetFaults replaces the faults from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the current faults (Burst429 counts down as it is used).
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Requests is how many requests the server has answered, health included.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Put stores (or replaces) a transcript, served as v1 JSON.
func (s *Server) Put(t *transcript.Transcript) error {
	body, err := transcript.Encode(t)
	if err != nil {
		return fmt.Errorf("platform: put %s: %w", t.SessionID, err)
	}
	c := *t
	c.Participants = slices.Clone(t.Participants)
	c.Events = slices.Clone(t.Events)
	s.store(&stored{id: t.SessionID, tenant: t.Tenant, body: body, t: &c})
	return nil
}

// PutRaw stores bytes served as they are for id: malformed on purpose, or
// in a shape the tests want verbatim. Advance cannot extend such a session.
func (s *Server) PutRaw(id string, body []byte) {
	// The tenant is read from the bytes when they say one, so ?folder=
	// filters raw sessions too.
	var probe struct {
		Tenant string `json:"tenant"`
	}
	_ = json.Unmarshal(body, &probe)
	s.store(&stored{id: id, tenant: probe.Tenant, body: slices.Clone(body)})
}

func (s *Server) store(st *stored) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st.updated = s.now().UnixMilli()
	if old := s.sessions[st.id]; old != nil && st.updated <= old.updated {
		st.updated = old.updated + 1 // every change sorts after the last
	}
	s.sessions[st.id] = st
}

// Delete forgets a session, so it answers 404 again.
func (s *Server) Delete(id string) {
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
}

// Advance appends events to a stored session (a running chat going on)
// and bumps its update time, so the next sync sees a changed transcript.
func (s *Server) Advance(id string, events ...transcript.Event) error {
	s.mu.Lock()
	st := s.sessions[id]
	s.mu.Unlock()
	if st == nil {
		return fmt.Errorf("platform: advance %s: no such session", id)
	}
	if st.t == nil {
		return fmt.Errorf("platform: advance %s: stored raw, not as a transcript", id)
	}
	t := *st.t
	t.Events = append(slices.Clone(st.t.Events), events...)
	t.Participants = slices.Clone(st.t.Participants)
	if err := t.Normalize(); err != nil {
		return fmt.Errorf("platform: advance %s: %w", id, err)
	}
	return s.Put(&t)
}

// Transcript returns a copy of a stored session's model (nil when unknown
// or stored raw).
func (s *Server) Transcript(id string) *transcript.Transcript {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.sessions[id]
	if st == nil || st.t == nil {
		return nil
	}
	c := *st.t
	c.Participants = slices.Clone(st.t.Participants)
	c.Events = slices.Clone(st.t.Events)
	return &c
}

// Len is the number of sessions stored.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// LoadDir stores every <dir>/*.json, in transcript v1 or Connect format,
// under the session id inside it. It stops at the first file that does not
// decode, naming it.
func (s *Server) LoadDir(dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return 0, fmt.Errorf("platform: load %s: %w", dir, err)
	}
	slices.Sort(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return 0, fmt.Errorf("platform: load: %w", err)
		}
		t, err := transcript.Decode(b)
		if err != nil {
			return 0, fmt.Errorf("platform: load %s: %w", f, err)
		}
		if err := s.Put(t); err != nil {
			return 0, err
		}
	}
	return len(files), nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mux.ServeHTTP(w, r)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "sessions": s.Len()})
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + s.token)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="chat-platform"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		h(w, r)
	}
}

// fault is what one request gets: drawn under the lock so concurrent
// requests consume the seeded sequence one at a time.
type fault struct {
	latency          time.Duration
	status           int
	retryAfter       time.Duration
	truncate, garble bool
	cut              float64
}

func (s *Server) drawFault() fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := fault{latency: s.faults.Latency, retryAfter: s.faults.RetryAfter}
	if f.retryAfter <= 0 {
		f.retryAfter = time.Second
	}
	switch {
	case s.faults.Burst429 > 0:
		s.faults.Burst429--
		f.status = http.StatusTooManyRequests
	case s.faults.ErrorRate > 0 && s.rng.Float64() < s.faults.ErrorRate:
		f.status = http.StatusInternalServerError
	case s.faults.TruncateRate > 0 && s.rng.Float64() < s.faults.TruncateRate:
		f.truncate = true
	case s.faults.GarbleRate > 0 && s.rng.Float64() < s.faults.GarbleRate:
		f.garble = true
	}
	f.cut = s.rng.Float64()
	return f
}

// applyFault sleeps the latency and answers an error status when drawn;
// it reports whether the request is already answered.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f fault) bool {
	if f.latency > 0 {
		t := time.NewTimer(f.latency)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-t.C:
		}
	}
	switch f.status {
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", strconv.Itoa(int((f.retryAfter+time.Second-1)/time.Second)))
		writeError(w, f.status, "too many requests")
		return true
	case http.StatusInternalServerError:
		writeError(w, f.status, "internal error")
		return true
	}
	return false
}

func (s *Server) transcript(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("sessionId")
	f := s.drawFault()
	if s.applyFault(w, r, f) {
		s.log.Info("platform request", "path", "transcript", "session", id, "status", f.status)
		return
	}
	s.mu.Lock()
	st := s.sessions[id]
	s.mu.Unlock()
	// ?folder= asks for that folder's transcript only: another tenant's
	// session (or an untagged one) answers exactly as an unknown one, so
	// its existence does not leak either.
	if folder := r.URL.Query().Get("folder"); st != nil && folder != "" && st.tenant != folder {
		st = nil
	}
	if st == nil {
		writeError(w, http.StatusNotFound, "unknown session")
		return
	}
	body := st.body
	switch {
	case f.truncate && len(body) > 1:
		body = body[:1+int(f.cut*float64(len(body)-2))]
	case f.garble && len(body) > 0:
		body = garble(body, f.cut)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Last-Modified", time.UnixMilli(st.updated).UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	s.log.Info("platform request", "path", "transcript", "session", id, "status", 200, "bytes", len(body), "truncated", f.truncate, "garbled", f.garble)
}

// garble overwrites up to 16 bytes from a point in the body with bytes that
// are never valid in JSON text (0xFF is not UTF-8, and outside a string it is
// not a token), like a proxy mangling a response.
func garble(body []byte, at float64) []byte {
	b := slices.Clone(body)
	i := int(at * float64(len(b)-1))
	for j := i; j < len(b) && j < i+16; j++ {
		b[j] = 0xFF
	}
	return b
}

// cursor is the position after the last item of a page: (updated, id),
// the sweep's order. It is opaque to clients.
func encodeCursor(updated int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(updated, 10) + "|" + id))
}

func decodeCursor(c string) (int64, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, "", false
	}
	ms, id, ok := strings.Cut(string(b), "|")
	if !ok {
		return 0, "", false
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	return n, id, err == nil
}

// page selects one page of the sessions updated since ?updatedSince= (of
// ?folder= when given), in (updated, id) order after ?cursor=, for the sweep
// and the listing alike. ok is false when it has answered already (a bad
// parameter or a fault).
func (s *Server) page(w http.ResponseWriter, r *http.Request) (items []*stored, next string, ok bool) {
	q := r.URL.Query()
	var since int64
	if v := q.Get("updatedSince"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "updatedSince must be an RFC 3339 time")
			return nil, "", false
		}
		since = t.UnixMilli()
	}
	limit := s.pageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "limit must be a positive integer")
			return nil, "", false
		}
		limit = min(limit, n)
	}
	afterMs, afterID := int64(-1<<63), ""
	if c := q.Get("cursor"); c != "" {
		var ok bool
		if afterMs, afterID, ok = decodeCursor(c); !ok {
			writeError(w, http.StatusBadRequest, "cursor is not one this server gave")
			return nil, "", false
		}
	}
	f := s.drawFault()
	if s.applyFault(w, r, f) {
		return nil, "", false
	}
	folder := q.Get("folder")
	s.mu.Lock()
	items = make([]*stored, 0, len(s.sessions))
	for _, st := range s.sessions {
		if folder != "" && st.tenant != folder {
			continue
		}
		if st.updated >= since && (st.updated > afterMs || st.updated == afterMs && st.id > afterID) {
			items = append(items, st)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b *stored) int {
		if a.updated != b.updated {
			if a.updated < b.updated {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	if len(items) > limit {
		items = items[:limit]
		last := items[len(items)-1]
		next = encodeCursor(last.updated, last.id)
	}
	return items, next, true
}

func (s *Server) sweep(w http.ResponseWriter, r *http.Request) {
	items, next, ok := s.page(w, r)
	if !ok {
		return
	}
	var buf bytes.Buffer
	buf.WriteString(`{"transcripts":[`)
	for i, st := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		if json.Valid(st.body) {
			buf.Write(st.body)
		} else {
			// A raw body that is not JSON cannot sit inside the page; it is
			// sent as a string so the page stays valid and the item fails alone.
			b, _ := json.Marshal(string(st.body))
			buf.Write(b)
		}
	}
	buf.WriteString(`],"next":`)
	nb, _ := json.Marshal(next)
	buf.Write(nb)
	buf.WriteByte('}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	s.log.Info("platform request", "path", "sweep", "items", len(items), "more", next != "")
}

// listed is one item of GET /v1/sessions.
type listed struct {
	SessionID string `json:"sessionId"`
	StartedAt string `json:"startedAt,omitempty"`
	UpdatedAt string `json:"updatedAt"`
}

// sessionList is the discovery listing: the sessions updated since a time,
// without their transcripts, in the sweep's order and paging. startedAt is
// the first event's time; it is absent for a raw session whose bytes do not
// say one.
func (s *Server) sessionList(w http.ResponseWriter, r *http.Request) {
	items, next, ok := s.page(w, r)
	if !ok {
		return
	}
	out := struct {
		Sessions []listed `json:"sessions"`
		Next     string   `json:"next"`
	}{Sessions: make([]listed, 0, len(items)), Next: next}
	for _, st := range items {
		l := listed{SessionID: st.id, UpdatedAt: transcript.FormatMillis(st.updated)}
		if st.t != nil && len(st.t.Events) > 0 {
			l.StartedAt = transcript.FormatMillis(st.t.Events[0].At)
		}
		out.Sessions = append(out.Sessions, l)
	}
	writeJSON(w, http.StatusOK, out)
	s.log.Info("platform request", "path", "sessions", "items", len(items), "more", next != "")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
