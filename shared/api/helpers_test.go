package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/reports"
)

// Tokens of the test server: one per folder, and one for every folder.
const (
	tokenA   = "token-for-folder-acme"
	tokenB   = "token-for-folder-beta"
	tokenAll = "token-for-every-folder"
	folderA  = "acme"
	folderB  = "beta"
)

var fixedNow = time.Date(2026, 11, 20, 9, 30, 0, 123456789, time.UTC)

// syncBuffer is a log sink safe for concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeStore overrides single calls of a real store, wtf-style: a nil func
// falls through to the embedded store.
type fakeStore struct {
	cardstore.Store
	create func(ctx context.Context, c *card.Card) (*card.Card, bool, error)
	get    func(ctx context.Context, folder, id string) (*card.Card, error)
	attach func(ctx context.Context, folder, id, ticket string) (*card.Card, error)
}

func (f *fakeStore) Create(ctx context.Context, c *card.Card) (*card.Card, bool, error) {
	if f.create != nil {
		return f.create(ctx, c)
	}
	return f.Store.Create(ctx, c)
}

func (f *fakeStore) Get(ctx context.Context, folder, id string) (*card.Card, error) {
	if f.get != nil {
		return f.get(ctx, folder, id)
	}
	return f.Store.Get(ctx, folder, id)
}

func (f *fakeStore) AttachTicket(ctx context.Context, folder, id, ticket string) (*card.Card, error) {
	if f.attach != nil {
		return f.attach(ctx, folder, id, ticket)
	}
	return f.Store.AttachTicket(ctx, folder, id, ticket)
}

type catalogFunc func(ctx context.Context, folder, date string) ([]reports.Link, error)

func (f catalogFunc) Links(ctx context.Context, folder, date string) ([]reports.Link, error) {
	return f(ctx, folder, date)
}

type env struct {
	h     http.Handler
	store *fakeStore
	logs  *syncBuffer
}

func testTokens(t testing.TB) *api.Tokens {
	t.Helper()
	m := map[string][]string{
		api.HashToken(tokenA):   {folderA},
		api.HashToken(tokenB):   {folderB},
		api.HashToken(tokenAll): {"*"},
	}
	b, _ := json.Marshal(m)
	toks, err := api.ParseTokens(b)
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

func newEnv(t testing.TB, mod ...func(*api.Config)) *env {
	t.Helper()
	e := &env{store: &fakeStore{Store: memstore.New()}, logs: &syncBuffer{}}
	cfg := api.Config{
		Store:        e.store,
		Tokens:       testTokens(t),
		Now:          func() time.Time { return fixedNow },
		Logger:       slog.New(slog.NewJSONHandler(e.logs, nil)),
		NewRequestID: func() string { return "req-1" },
	}
	for _, m := range mod {
		m(&cfg)
	}
	e.h = api.New(cfg)
	return e
}

// call sends one request through the real handler. contentType "" sends
// none; token "" sends no Authorization.
func (e *env) call(method, target, token, contentType, body string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	return rr
}

func (e *env) create(folder, token, body string) *httptest.ResponseRecorder {
	return e.call("POST", "/v1/chat-sessions?folder="+folder, token, "application/json", body)
}

type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	RequestID string `json:"requestId"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// problemOf checks that rr is an RFC 9457 problem with the given status.
func problemOf(t testing.TB, rr *httptest.ResponseRecorder, status int) problemDoc {
	t.Helper()
	if rr.Code != status {
		t.Fatalf("status %d, want %d; body %s", rr.Code, status, rr.Body)
	}
	if ct := rr.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p problemDoc
	dec := json.NewDecoder(bytes.NewReader(rr.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s: %v", rr.Body, err)
	}
	if p.Status != status || p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem %+v", p)
	}
	return p
}

func cardOf(t testing.TB, rr *httptest.ResponseRecorder, status int) *card.Card {
	t.Helper()
	if rr.Code != status {
		t.Fatalf("status %d, want %d; body %s", rr.Code, status, rr.Body)
	}
	if ct := rr.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var c card.Card
	if err := json.Unmarshal(rr.Body.Bytes(), &c); err != nil {
		t.Fatalf("card body %s: %v", rr.Body, err)
	}
	return &c
}
