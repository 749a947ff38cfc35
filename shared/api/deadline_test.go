package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/reports"
)

// blackHole is a TCP listener that accepts every connection and never
// answers: the sick dependency of issue 9 §3. It counts connections so a
// test knows the client really got through to it.
type blackHole struct {
	ln       net.Listener
	accepted atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
}

func newBlackHole(t *testing.T) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &blackHole{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cleanup
			}
			b.accepted.Add(1)
			b.mu.Lock()
			b.conns = append(b.conns, c) // held open, never read nor written
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, c := range b.conns {
			c.Close()
		}
	})
	return b
}

func (b *blackHole) url() string { return "http://" + b.ln.Addr().String() }

// testCreds keeps the SDK from looking for real credentials.
var testCreds = credentials.NewStaticCredentialsProvider("test", "test", "")

// storeTimeout is the API's store deadline in these tests, and slack the
// most an answer may come after it (scheduling on a busy 2-core machine).
const (
	storeTimeout = 300 * time.Millisecond
	slack        = 2 * time.Second
)

// callWithin is e.call that gives up after storeTimeout+slack+3s, so a
// handler that hangs fails the test at once instead of at go test's
// 10-minute limit.
func callWithin(t *testing.T, e *env, method, url, token, ctype, body string) (*httptest.ResponseRecorder, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- e.call(method, url, token, ctype, body) }()
	select {
	case rr := <-done:
		return rr, time.Since(start)
	case <-time.After(storeTimeout + slack + 3*time.Second):
		t.Fatalf("%s %s: no answer after %v: the API hangs on a dependency", method, url, time.Since(start))
		return nil, 0
	}
}

// want503 checks the answer to a call that met a sick dependency: 503,
// Retry-After, a problem document, within storeTimeout+slack.
func want503(t *testing.T, rr *httptest.ResponseRecorder, took time.Duration) {
	t.Helper()
	problemOf(t, rr, http.StatusServiceUnavailable)
	if rr.Header().Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	if took > storeTimeout+slack {
		t.Errorf("answered after %v, want < %v", took, storeTimeout+slack)
	}
	if took < storeTimeout/2 {
		t.Errorf("answered after %v: the dependency was never waited for", took)
	}
}

// TestBlackHoleDynamoDB: the real DynamoDB store, its SDK client pointed at
// a table that accepts connections and never answers. Every card call
// answers 503 with Retry-After within the store timeout, not after the
// SDK's or Lambda's own limits.
func TestBlackHoleDynamoDB(t *testing.T) {
	hole := newBlackHole(t)
	db := dynamodb.New(dynamodb.Options{Region: "us-east-1", BaseEndpoint: aws.String(hole.url()), Credentials: testCreds})
	e := newEnv(t, func(c *api.Config) {
		c.Store = dynamostore.New(db, "cards", dynamostore.Options{})
		c.StoreTimeout = storeTimeout
	})
	calls := []struct{ name, method, url, body string }{
		{"create", "POST", "/v1/chat-sessions?folder=acme", `{"sessionId":"s1"}`},
		{"get", "GET", "/v1/chat-sessions/s1?folder=acme", ""},
		{"ticket", "POST", "/v1/chat-sessions/s1/tickets?folder=acme", `{"ticket":"INC-1"}`},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			before := hole.accepted.Load()
			ctype := ""
			if c.body != "" {
				ctype = "application/json"
			}
			rr, took := callWithin(t, e, c.method, c.url, tokenA, ctype, c.body)
			want503(t, rr, took)
			if hole.accepted.Load() == before {
				t.Errorf("the store never connected to the black hole: the test proves nothing")
			}
		})
	}
	if strings.Contains(e.logs.String(), `"status":500`) {
		t.Errorf("a 500 in the log:\n%s", e.logs)
	}
}

// TestBlackHoleS3Catalog: the reports listing, its S3 client pointed at a
// black hole, answers 503 in time.
func TestBlackHoleS3Catalog(t *testing.T) {
	hole := newBlackHole(t)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(hole.url()), Credentials: testCreds, UsePathStyle: true})
	e := newEnv(t, func(c *api.Config) {
		c.Reports = reports.NewS3Catalog(client, s3.NewPresignClient(client), "reports")
		c.StoreTimeout = storeTimeout
	})
	rr, took := callWithin(t, e, "GET", "/v1/reports?folder=acme&date=2026-11-20", tokenA, "", "")
	want503(t, rr, took)
	if hole.accepted.Load() == 0 {
		t.Errorf("the catalog never connected to the black hole")
	}
}

// hangUntilDone is a Create that blocks until its context ends, then fails
// the way fail says: the API's deadline must work whatever the store
// does with it.
func hangUntilDone(fail func(ctx context.Context) error) func(ctx context.Context, c *card.Card) (*card.Card, bool, error) {
	return func(ctx context.Context, c *card.Card) (*card.Card, bool, error) {
		<-ctx.Done()
		return nil, false, fail(ctx)
	}
}

// TestStoreDeadline: a store that never answers by itself is cut off by the
// API's deadline and answered 503, whichever way the store reports it, and
// no card is left behind.
func TestStoreDeadline(t *testing.T) {
	cases := []struct {
		name string
		fail func(ctx context.Context) error
	}{
		{"context error", func(ctx context.Context) error { return ctx.Err() }},
		{"coded internal like dynamostore", func(ctx context.Context) error {
			return card.Wrap(card.EINTERNAL, "dynamostore.Create", ctx.Err())
		}},
		{"symptom without the cause", func(context.Context) error {
			return errors.New("read tcp: use of closed network connection")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cfg *api.Config) { cfg.StoreTimeout = storeTimeout })
			e.store.create = hangUntilDone(c.fail)
			rr, took := callWithin(t, e, "POST", "/v1/chat-sessions?folder=acme", tokenA, "application/json", `{"sessionId":"s1"}`)
			want503(t, rr, took)
			e.store.create = nil
			problemOf(t, e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", ""), 404)
		})
	}
}

// TestStoreDeadlineLeavesTimeToAnswer: when the request's own deadline (the
// Lambda's) comes before the store timeout, the store call is cut short,
// answerMargin before it, so the 503 can still be written. The gap is
// asserted rather than the wall clock, so a loaded machine cannot fail it.
func TestStoreDeadlineLeavesTimeToAnswer(t *testing.T) {
	e := newEnv(t, func(cfg *api.Config) { cfg.StoreTimeout = time.Minute })
	var storeDeadline time.Time
	e.store.get = func(ctx context.Context, folder, id string) (*card.Card, error) {
		storeDeadline, _ = ctx.Deadline()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	reqDeadline, _ := ctx.Deadline()
	req := httptest.NewRequest("GET", "/v1/chat-sessions/s1?folder=acme", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+tokenA)
	rr := httptest.NewRecorder()
	e.h.ServeHTTP(rr, req)
	problemOf(t, rr, http.StatusServiceUnavailable)
	if gap := reqDeadline.Sub(storeDeadline); gap < 400*time.Millisecond {
		t.Errorf("store deadline only %v before the request's: no time left to answer", gap)
	}
}

// TestStoreTimeoutDefault: a Config without StoreTimeout still bounds every
// store call, by DefaultStoreTimeout.
func TestStoreTimeoutDefault(t *testing.T) {
	e := newEnv(t)
	var left time.Duration
	e.store.get = func(ctx context.Context, folder, id string) (*card.Card, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		left = time.Until(dl)
		return nil, card.Errorf(card.ENOTFOUND, "test", "none")
	}
	problemOf(t, e.call("GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", ""), 404)
	if left <= api.DefaultStoreTimeout-time.Second || left > api.DefaultStoreTimeout {
		t.Errorf("store call had %v left, want about %v", left, api.DefaultStoreTimeout)
	}
}

// TestLoadTokensSecretBlackHole: loading the tokens from a Secrets Manager
// that never answers fails within the caller's deadline, naming the secret.
func TestLoadTokensSecretBlackHole(t *testing.T) {
	hole := newBlackHole(t)
	sm := secretsmanager.New(secretsmanager.Options{Region: "us-east-1", BaseEndpoint: aws.String(hole.url()), Credentials: testCreds})
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	start := time.Now()
	_, err := api.LoadTokensSecret(ctx, sm, "chatcards/api-tokens")
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "chatcards/api-tokens") {
		t.Fatalf("err = %v, want one naming the secret", err)
	}
	if took > storeTimeout+slack {
		t.Errorf("took %v", took)
	}
	if hole.accepted.Load() == 0 {
		t.Errorf("never connected to the black hole")
	}
}

// TestLoadTokensSecretHasDefaultDeadline: without a deadline of its own the
// caller's context still gets one, so a cold start cannot hang on it.
func TestLoadTokensSecretHasDefaultDeadline(t *testing.T) {
	var left time.Duration
	sm := secretFunc(func(ctx context.Context) (*secretsmanager.GetSecretValueOutput, error) {
		dl, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		left = time.Until(dl)
		return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(`{"` + api.HashToken("t") + `":["acme"]}`)}, nil
	})
	if _, err := api.LoadTokensSecret(context.Background(), sm, "s"); err != nil {
		t.Fatal(err)
	}
	if left <= 0 || left > api.DefaultStoreTimeout {
		t.Errorf("secret call had %v left, want at most %v", left, api.DefaultStoreTimeout)
	}
}

type secretFunc func(ctx context.Context) (*secretsmanager.GetSecretValueOutput, error)

func (f secretFunc) GetSecretValue(ctx context.Context, _ *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f(ctx)
}

// TestBlackHoleThroughAppWiring: the function's real wiring (app.API, as
// functions/api/main.go runs it) reads STORE_TIMEOUT and bounds the DynamoDB
// client it builds from the environment.
func TestBlackHoleThroughAppWiring(t *testing.T) {
	hole := newBlackHole(t)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", hole.url())
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	settings := map[string]string{
		"TABLE_NAME":    "cards",
		"STORE_TIMEOUT": storeTimeout.String(),
		"API_TOKENS":    `{"` + api.HashToken(tokenA) + `":["acme"]}`,
	}
	h, err := app.API(context.Background(), func(k string) string { return settings[k] }, app.Deps{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{h: h}
	rr, took := callWithin(t, e, "GET", "/v1/chat-sessions/s1?folder=acme", tokenA, "", "")
	want503(t, rr, took)
	if hole.accepted.Load() == 0 {
		t.Errorf("the wired store never connected to the black hole")
	}
}
