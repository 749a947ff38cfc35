package syncer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/chatcards/chatcards/shared/api"
	"github.com/chatcards/chatcards/shared/app"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/memstore"
	"github.com/chatcards/chatcards/shared/platform"
	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/syncer"
	"github.com/chatcards/chatcards/shared/testenv"
	"github.com/chatcards/chatcards/shared/transcript"
)

// The isolation suite: folders A and B, each with its own API token. A's
// chat has a session id; B creates a card with the same id in B (by mistake
// or on purpose). Whatever the source kind, the sync fills A's card and B's
// card never receives a byte of A's chat. Everything goes through the real
// API handler and the real sync handler built by shared/app.

const (
	sharedID = "4f9a3c1e-8d2b-4c7a-9e6f-1a2b3c4d5e6f" // also a valid Connect contact id
	tokenA   = "token-of-folder-A"
	tokenB   = "token-of-folder-B"
	secretA  = "SECRET-OF-A"
	personA  = "person/A-only"
)

type e2e struct {
	t     *testing.T
	store cardstore.Store
	api   http.Handler
}

func newE2E(t *testing.T, store cardstore.Store) *e2e {
	t.Helper()
	tokens, err := api.ParseTokens(fmt.Appendf(nil, `{%q: ["A"], %q: ["B"]}`, api.HashToken(tokenA), api.HashToken(tokenB)))
	if err != nil {
		t.Fatal(err)
	}
	h, err := app.API(context.Background(), func(string) string { return "" }, app.Deps{Store: store, Tokens: tokens, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return &e2e{t: t, store: store, api: h}
}

func (e *e2e) do(method, token, path string, body []byte) (int, string) {
	e.t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	e.api.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func (e *e2e) create(token, folder string, started time.Time) {
	e.t.Helper()
	body := fmt.Appendf(nil, `{"sessionId": %q, "startedAt": %q}`, sharedID, started.UTC().Format(time.RFC3339))
	if code, resp := e.do("POST", token, "/v1/chat-sessions?folder="+folder, body); code != http.StatusCreated {
		e.t.Fatalf("create in %s: %d %s", folder, code, resp)
	}
}

func (e *e2e) card(token, folder string) string {
	e.t.Helper()
	code, body := e.do("GET", token, "/v1/chat-sessions/"+sharedID+"?folder="+folder, nil)
	if code != http.StatusOK {
		e.t.Fatalf("get in %s: %d %s", folder, code, body)
	}
	return body
}

// sync runs the sync function's handler built from env (and deps) on a
// schedule event.
func (e *e2e) sync(env map[string]string, d app.Deps) syncer.Summary {
	e.t.Helper()
	h := e.handler(env, d)
	resp, err := h.HandleRaw(context.Background(), json.RawMessage(`{"folders": []}`))
	if err != nil || resp.Summary == nil {
		e.t.Fatalf("sync: %+v %v", resp, err)
	}
	return *resp.Summary
}

func (e *e2e) handler(env map[string]string, d app.Deps) *syncer.Handler {
	e.t.Helper()
	d.Store, d.Logger = e.store, quiet()
	h, err := app.Sync(context.Background(), func(k string) string { return env[k] }, d)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// check is the isolation verdict: A's card has A's chat (so the suite can
// fail), B's card has nothing of it and is still waiting for its own.
func (e *e2e) check() {
	e.t.Helper()
	a := e.card(tokenA, "A")
	if !strings.Contains(a, secretA) || !strings.Contains(a, personA) {
		e.t.Fatalf("A's card was not filled with A's chat: %s", a)
	}
	b := e.card(tokenB, "B")
	for _, leak := range []string{secretA, personA, `"csg_TenantId":"A"`} {
		if strings.Contains(b, leak) {
			e.t.Fatalf("folder B's card holds %q of folder A: %s", leak, b)
		}
	}
	c, err := e.store.Get(context.Background(), "B", sharedID)
	if err != nil {
		e.t.Fatal(err)
	}
	if !c.Active || c.MessageCount != 0 || len(c.ChatLog) != 0 || c.SourceHash != "" {
		e.t.Fatalf("folder B's card was written: active %v messages %d", c.Active, c.MessageCount)
	}
	// And B's token cannot read A's card through the API either.
	if code, _ := e.do("GET", tokenB, "/v1/chat-sessions/"+sharedID+"?folder=A", nil); code != http.StatusForbidden {
		e.t.Fatalf("B's token read folder A: %d", code)
	}
}

// chatOfA is A's chat: a marker line and a marker person, tagged with tenant.
func chatOfA(tenant string) *transcript.Transcript {
	t := chat(sharedID, 4, true)
	t.Tenant = tenant
	t.Participants[0].Person = personA
	t.Events[2].Text = secretA
	return t
}

func encode(t *testing.T, tr *transcript.Transcript) []byte {
	t.Helper()
	b, err := transcript.Encode(tr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestIsolationHTTP(t *testing.T) {
	plat, err := platform.NewServer(platform.ServerOptions{Token: "plat"})
	if err != nil {
		t.Fatal(err)
	}
	if err := plat.Put(chatOfA("A")); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(plat)
	defer srv.Close()
	// A platform adapter that ignores ?folder= and serves any session to
	// any caller: the transcript's tenant is what stops it then.
	careless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.RawQuery = ""
		plat.ServeHTTP(w, r)
	}))
	defer careless.Close()

	for name, c := range map[string]struct {
		env     map[string]string
		badB    int
		notYetB int
	}{
		// One platform for every folder (the "*" shorthand): ?folder= does it.
		"single source, platform honours folder": {env: map[string]string{"SOURCE": "http", "PLATFORM_URL": srv.URL, "PLATFORM_TOKEN": "plat"}, notYetB: 1},
		// Each folder its own entry.
		"per-folder sources": {env: map[string]string{"SOURCES": fmt.Sprintf(`{"A": {"kind": "http", "url": %q, "token": "plat"}, "B": {"kind": "http", "url": %q, "token": "plat", "rps": 50}}`, srv.URL, srv.URL)}, notYetB: 1},
		// The platform ignores ?folder=: the tenant check refuses A's chat for B.
		"platform ignores folder": {env: map[string]string{"SOURCE": "http", "PLATFORM_URL": careless.URL, "PLATFORM_TOKEN": "plat"}, badB: 1},
	} {
		t.Run(name, func(t *testing.T) {
			e := newE2E(t, memstore.New())
			e.create(tokenA, "A", t0)
			e.create(tokenB, "B", t0)
			sum := e.sync(c.env, app.Deps{})
			if sum.Closed != 1 || sum.BadTranscript != c.badB || sum.NotYet != c.notYetB {
				t.Fatalf("summary %+v, want A closed, B bad %d / not yet %d", sum, c.badB, c.notYetB)
			}
			e.check()
		})
	}
}

func TestIsolationFiles(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	// Untagged in A's directory: the per-folder binding keeps it in A.
	if err := os.WriteFile(filepath.Join(dirA, sharedID+".json"), encode(t, chatOfA("")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SOURCES": fmt.Sprintf(`{"A": {"kind": "files", "dir": %q}, "B": {"kind": "files", "dir": %q}}`, dirA, dirB)}
	e := newE2E(t, memstore.New())
	e.create(tokenA, "A", t0)
	e.create(tokenB, "B", t0)
	if sum := e.sync(env, app.Deps{}); sum.Closed != 1 || sum.NotYet != 1 {
		t.Fatalf("summary %+v", sum)
	}
	e.check()
	// A's tagged chat misplaced into B's directory is refused for B.
	if err := os.WriteFile(filepath.Join(dirB, sharedID+".json"), encode(t, chatOfA("A")), 0o600); err != nil {
		t.Fatal(err)
	}
	if sum := e.sync(env, app.Deps{}); sum.BadTranscript != 1 {
		t.Fatalf("misplaced tagged chat: %+v", sum)
	}
	e.check()
}

// connectObject is A's chat as an Amazon Connect transcript object.
func connectObject(at time.Time) (key string, body []byte) {
	ms := func(d time.Duration) string { return at.Add(d).UTC().Format("2006-01-02T15:04:05.000Z") }
	doc := map[string]any{
		"Version": "2019-08-26", "AWSAccountId": "123456789012", "InstanceId": "inst-a",
		"InitialContactId": sharedID, "ContactId": sharedID,
		"Participants": []map[string]string{{"ParticipantId": "cust"}, {"ParticipantId": "ann"}},
		"Transcript": []map[string]string{
			{"AbsoluteTime": ms(0), "Id": "1", "Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.participant.joined", "ParticipantId": "cust", "DisplayName": personA, "ParticipantRole": "CUSTOMER"},
			{"AbsoluteTime": ms(time.Second), "Id": "2", "Type": "MESSAGE", "ContentType": "text/plain", "Content": secretA, "ParticipantId": "cust", "DisplayName": personA, "ParticipantRole": "CUSTOMER"},
			{"AbsoluteTime": ms(2 * time.Second), "Id": "3", "Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.participant.joined", "ParticipantId": "ann", "DisplayName": "Ann", "ParticipantRole": "AGENT"},
			{"AbsoluteTime": ms(3 * time.Second), "Id": "4", "Type": "MESSAGE", "ContentType": "text/plain", "Content": "hello", "ParticipantId": "ann", "DisplayName": "Ann", "ParticipantRole": "AGENT"},
			{"AbsoluteTime": ms(4 * time.Second), "Id": "5", "Type": "EVENT", "ContentType": "application/vnd.amazonaws.connect.event.chat.ended"},
		},
	}
	body, _ = json.Marshal(doc)
	return at.UTC().Format("2006/01/02/") + sharedID + "_" + at.UTC().Format("20060102T15:04") + "_UTC.json", body
}

// bucketS3 is an in-memory S3 that keeps buckets apart.
type bucketS3 struct {
	mu      sync.Mutex
	objects map[string][]byte // bucket + "/" + key
}

func (f *bucketS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &s3.ListObjectsV2Output{}
	p := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Prefix)
	for k, b := range f.objects {
		if strings.HasPrefix(k, p) {
			_, key, _ := strings.Cut(k, "/")
			out.Contents = append(out.Contents, types.Object{Key: aws.String(key), ETag: aws.String(fmt.Sprintf(`"%d"`, len(b)))})
		}
	}
	return out, nil
}

func (f *bucketS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// connectSuite: A and B read the same bucket under their own prefixes; A's
// object is under A's. The S3 event fills A only, the scheduled run finds
// nothing for B under B's prefix, and an object of a bucket no folder reads
// is refused.
func connectSuite(t *testing.T, store cardstore.Store, bucket string, put func(key string, body []byte), syncEnv map[string]string, deps app.Deps) {
	e := newE2E(t, store)
	e.create(tokenA, "A", t0)
	e.create(tokenB, "B", t0)
	key, body := connectObject(t0.Add(time.Minute))
	put("conn/A/"+key, body)

	// The S3 event first: it maps to folder A by bucket and prefix.
	h := e.handler(syncEnv, deps)
	ev := fmt.Sprintf(`{"version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3", "account": "1", "time": "2026-01-01T00:00:00Z", "region": "eu-north-1", "resources": [], "detail": {"bucket": {"name": %q}, "object": {"key": %q, "size": 1}, "reason": "PutObject"}}`, bucket, "conn/A/"+key)
	resp, err := h.HandleRaw(context.Background(), json.RawMessage(ev))
	if err != nil || resp.Folder != "A" || resp.Outcome != syncer.Closed {
		t.Fatalf("S3 event: %+v %v", resp, err)
	}
	e.check()
	// The scheduled run: A is closed, B is still not found under B's prefix.
	if sum := e.sync(syncEnv, deps); sum.Seen != 1 || sum.NotYet != 1 {
		t.Fatalf("scheduled run: %+v", sum)
	}
	e.check()
	// An object of another bucket with A's prefix is no folder's.
	ev = strings.Replace(ev, fmt.Sprintf("%q", bucket), `"someone-elses-bucket"`, 1)
	if _, err := h.HandleRaw(context.Background(), json.RawMessage(ev)); err == nil || !strings.Contains(err.Error(), "no folder") {
		t.Fatalf("object of an unbound bucket: %v", err)
	}
	e.check()
}

func TestIsolationConnect(t *testing.T) {
	f := &bucketS3{objects: map[string][]byte{}}
	a, _ := sources.NewConnect(f, "chats", "conn/A/")
	b, _ := sources.NewConnect(f, "chats", "conn/B/")
	router, err := sources.NewRouter(map[string]sources.Source{"A": a, "B": b})
	if err != nil {
		t.Fatal(err)
	}
	connectSuite(t, memstore.New(), "chats", func(k string, body []byte) { f.objects["chats/"+k] = body }, nil, app.Deps{Source: router})
}

// TestIsolationConnectMoto is the same over moto's S3 and DynamoDB, with
// the sources opened from SOURCES by the real wiring.
func TestIsolationConnectMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	client := testenv.S3(t, endpoint)
	bucket := testenv.UniqueName("iso")
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// The wiring builds its S3 client from the AWS environment.
	cfg := testenv.AWSConfig(t)
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", cfg.Region)
	env := map[string]string{"SOURCES": fmt.Sprintf(`{"A": {"kind": "connect", "bucket": %q, "prefix": "conn/A/"}, "B": {"kind": "connect", "bucket": %q, "prefix": "conn/B"}}`, bucket, bucket)}
	connectSuite(t, testenv.DynamoStore(t, endpoint), bucket, func(k string, body []byte) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}, env, app.Deps{})
}
