package sources_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/chatcards/chatcards/shared/sources"
	"github.com/chatcards/chatcards/shared/testenv"
	"github.com/chatcards/chatcards/shared/transcript"
)

const prefix = "connect/demo/ChatTranscripts/"

type item struct {
	at        string // RFC 3339
	kind      string // MESSAGE, EVENT
	content   string // text, or the event name after the Connect event prefix
	pid, role string
}

// connectDoc writes one Amazon Connect chat transcript object.
func connectDoc(initial, contact string, items ...item) []byte {
	var tr []map[string]any
	for i, it := range items {
		m := map[string]any{"AbsoluteTime": it.at, "Id": fmt.Sprintf("%s-%d", contact, i), "Type": it.kind}
		if it.kind == "EVENT" {
			m["ContentType"] = "application/vnd.amazonaws.connect.event." + it.content
		} else {
			m["ContentType"], m["Content"] = "text/plain", it.content
		}
		if it.pid != "" {
			m["ParticipantId"], m["ParticipantRole"], m["DisplayName"] = it.pid, it.role, it.pid
		}
		tr = append(tr, m)
	}
	b, _ := json.Marshal(map[string]any{
		"Version": "2019-08-26", "AWSAccountId": "123456789012", "InstanceId": "inst-1",
		"InitialContactId": initial, "ContactId": contact,
		"Participants": []map[string]string{{"ParticipantId": "cust"}},
		"Transcript":   tr,
	})
	return b
}

func connectKey(contact string, at time.Time) string {
	return prefix + at.Format("2006/01/02/") + contact + "_" + at.Format("20060102T15:04") + "_UTC.json"
}

// world is the bucket content of the suite: a session transferred across
// midnight (two objects on two days), an unrelated contact, a broken object.
type world struct {
	session, transfer, other, broken string
	objects                          map[string][]byte
	keyTransfer                      string
}

func newWorld() world {
	d1 := time.Date(2026, 11, 20, 23, 50, 0, 0, time.UTC)
	d2 := time.Date(2026, 11, 21, 0, 5, 0, 0, time.UTC)
	w := world{
		session:  "11111111-aaaa-4000-8000-000000000001",
		transfer: "11111111-bbbb-4000-8000-000000000002",
		other:    "22222222-aaaa-4000-8000-000000000003",
		broken:   "33333333-aaaa-4000-8000-000000000004",
		objects:  map[string][]byte{},
	}
	w.objects[connectKey(w.session, d1)] = connectDoc(w.session, w.session,
		item{"2026-11-20T23:50:00.000Z", "EVENT", "participant.joined", "cust", "CUSTOMER"},
		item{"2026-11-20T23:50:02.000Z", "MESSAGE", "Hi, I need help with billing", "cust", "CUSTOMER"},
		item{"2026-11-20T23:51:00.000Z", "EVENT", "participant.joined", "ann", "AGENT"},
		item{"2026-11-20T23:52:00.000Z", "MESSAGE", "Let me transfer you to billing", "ann", "AGENT"},
		item{"2026-11-20T23:59:00.000Z", "EVENT", "participant.left", "ann", "AGENT"},
	)
	w.keyTransfer = connectKey(w.transfer, d2)
	w.objects[w.keyTransfer] = connectDoc(w.session, w.transfer,
		item{"2026-11-21T00:05:00.000Z", "EVENT", "participant.joined", "bob", "AGENT"},
		item{"2026-11-21T00:05:10.000Z", "MESSAGE", "Bob from billing, hei hei — päivää!", "bob", "AGENT"},
		item{"2026-11-21T00:06:00.000Z", "EVENT", "participant.left", "cust", "CUSTOMER"},
		item{"2026-11-21T00:06:01.000Z", "EVENT", "chat.ended", "", ""},
	)
	w.objects[connectKey(w.other, d1.Add(-time.Hour))] = connectDoc(w.other, w.other,
		item{"2026-11-20T22:50:00.000Z", "MESSAGE", "unrelated", "cust2", "CUSTOMER"},
	)
	w.objects[connectKey(w.broken, d1)] = []byte(`{"Version": "2019-08-26", "InitialContactId": `)
	w.objects[prefix+"2026/11/20/"] = nil // a folder marker: not a transcript
	return w
}

// fakeS3 is an in-memory bucket with paged listings (two keys a page, to
// exercise continuation) that counts object reads.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	gets    map[string]int
	lists   int
}

func (f *fakeS3) put(key string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = body
}

func etag(b []byte) string { s := md5.Sum(b); return `"` + hex.EncodeToString(s[:]) + `"` }

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := &s3.ListObjectsV2Output{}
	if len(keys) > 2 {
		keys = keys[:2]
		out.IsTruncated, out.NextContinuationToken = aws.Bool(true), aws.String(keys[1])
	}
	for _, k := range keys {
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), ETag: aws.String(etag(f.objects[k]))})
	}
	return out, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[aws.ToString(in.Key)]
	if !ok {
		return nil, &types.NoSuchKey{}
	}
	f.gets[aws.ToString(in.Key)]++
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), ETag: aws.String(etag(b))}, nil
}

// testConnect is the one suite both the fake and moto run.
func testConnect(t *testing.T, client sources.S3API, bucket string, put func(key string, body []byte)) {
	w := newWorld()
	for k, b := range w.objects {
		put(k, b)
	}
	src, err := sources.NewConnect(client, bucket, strings.TrimSuffix(prefix, "/"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 23, 49, 30, 0, time.UTC)

	res, err := src.Fetch(ctx, sources.Request{SessionID: w.session, StartedAt: start})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Transcript
	if tr.SessionID != w.session {
		t.Fatalf("session %q, want %q", tr.SessionID, w.session)
	}
	var names []string
	var ended bool
	for _, p := range tr.Participants {
		names = append(names, p.ID)
	}
	for _, e := range tr.Events {
		ended = ended || e.Type == transcript.EventEnded
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"ann", "bob", "cust"}) || !ended {
		t.Fatalf("merged participants %v, ended %v: want both contacts merged", names, ended)
	}
	first, last := tr.Events[0].Time(), tr.Events[len(tr.Events)-1].Time()
	if first.Day() != 20 || last.Day() != 21 {
		t.Fatalf("events span %v..%v, want both days", first, last)
	}
	want := sources.HashDocs(w.objects[connectKey(w.session, time.Date(2026, 11, 20, 23, 50, 0, 0, time.UTC))], w.objects[w.keyTransfer])
	if res.Hash != want {
		t.Fatalf("hash %s, want the hash of both objects in key order %s", res.Hash, want)
	}

	again, err := src.Fetch(ctx, sources.Request{SessionID: w.session, StartedAt: start})
	if err != nil || again.Hash != res.Hash {
		t.Fatalf("second fetch: %v, hash changed %s -> %s", err, res.Hash, again.Hash)
	}

	// Looking up the transferred contact's own id finds the same objects:
	// its ContactId matches the object named after it.
	byTransfer, err := src.Fetch(ctx, sources.Request{SessionID: w.transfer, StartedAt: start})
	if err != nil || byTransfer.Transcript.SessionID != w.transfer || byTransfer.Hash != sources.HashDocs(w.objects[w.keyTransfer]) {
		t.Fatalf("fetch by the transfer's contact id: %v, want its own object alone", err)
	}

	if _, err := src.Fetch(ctx, sources.Request{SessionID: "99999999-0000-4000-8000-000000000000", StartedAt: start}); !errors.Is(err, sources.ErrNotYet) {
		t.Fatalf("unknown contact: err = %v, want ErrNotYet", err)
	}
	// The session starts on the 21st: the 20th is not listed, so the
	// initial contact's object is not found and the merge sees only the
	// transfer, which still names the session.
	late, err := src.Fetch(ctx, sources.Request{SessionID: w.session, StartedAt: start.Add(time.Hour)})
	if err != nil || late.Hash == res.Hash {
		t.Fatalf("fetch from the next day: %v (hash %s): want only the transfer", err, late.Hash)
	}

	_, err = src.Fetch(ctx, sources.Request{SessionID: w.broken, StartedAt: start})
	if !sources.IsBadTranscript(err) {
		t.Fatalf("broken object: err = %v, want a bad transcript", err)
	}

	id, fk, err := src.FetchKey(ctx, w.keyTransfer)
	if err != nil {
		t.Fatal(err)
	}
	if id != w.session || fk.Hash != res.Hash {
		t.Fatalf("FetchKey: session %s hash %s, want %s %s", id, fk.Hash, w.session, res.Hash)
	}
	if _, _, err := src.FetchKey(ctx, prefix+"2026/11/21/not-a-transcript.txt"); err == nil {
		t.Fatal("FetchKey accepted a key that is not a Connect transcript")
	}
	if _, _, err := src.FetchKey(ctx, connectKey("44444444-0000-4000-8000-000000000000", start)); !errors.Is(err, sources.ErrNotYet) {
		t.Fatalf("FetchKey of a missing object: err = %v, want ErrNotYet", err)
	}
}

func TestConnectFakeS3(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{}, gets: map[string]int{}}
	testConnect(t, f, "bucket", f.put)
	// Every object was read once to be indexed; only the session's own
	// objects are read again for each fetch.
	w := newWorld()
	for k := range w.objects {
		if n := f.gets[k]; strings.Contains(k, w.other) && n != 1 {
			t.Errorf("%s read %d times, want once (index only)", k, n)
		}
	}
}

func TestConnectIndexRefresh(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{}, gets: map[string]int{}}
	w := newWorld()
	for k, b := range w.objects {
		f.put(k, b)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	src, err := sources.NewConnect(f, "bucket", prefix)
	if err != nil {
		t.Fatal(err)
	}
	src.Now = func() time.Time { return now }
	src.ListTTL = time.Minute
	ctx := context.Background()
	start := time.Date(2026, 11, 20, 23, 49, 30, 0, time.UTC)
	r := sources.Request{SessionID: w.session, StartedAt: start}
	first, err := src.Fetch(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	lists := f.lists
	// A second transfer lands; within the TTL the cached listing hides it.
	third := "11111111-cccc-4000-8000-000000000005"
	at := time.Date(2026, 11, 21, 0, 20, 0, 0, time.UTC)
	f.put(connectKey(third, at), connectDoc(w.session, third,
		item{"2026-11-21T00:20:00.000Z", "MESSAGE", "one more thing", "cust", "CUSTOMER"}))
	same, err := src.Fetch(ctx, r)
	if err != nil || same.Hash != first.Hash || f.lists != lists {
		t.Fatalf("within the TTL: %v, relisted %d times, hash changed %v", err, f.lists-lists, same.Hash != first.Hash)
	}
	now = now.Add(2 * time.Minute)
	newer, err := src.Fetch(ctx, r)
	if err != nil || newer.Hash == first.Hash {
		t.Fatalf("after the TTL: %v, hash unchanged %v: the new transfer was not merged", err, newer.Hash == first.Hash)
	}
	if n := f.gets[connectKey(w.other, time.Date(2026, 11, 20, 22, 50, 0, 0, time.UTC))]; n != 1 {
		t.Fatalf("an unchanged unrelated object was read %d times, want once", n)
	}
}

func TestConnectMaxDays(t *testing.T) {
	f := &fakeS3{objects: map[string][]byte{}, gets: map[string]int{}}
	src, _ := sources.NewConnect(f, "bucket", prefix)
	src.MaxDays = 2
	for d := range 5 {
		_, err := src.Fetch(context.Background(), sources.Request{SessionID: "x", StartedAt: time.Date(2026, 1, 1+d, 0, 0, 0, 0, time.UTC)})
		if !errors.Is(err, sources.ErrNotYet) {
			t.Fatal(err)
		}
	}
	// Eviction keeps working: days revisited after eviction list again.
	before := f.lists
	if _, err := src.Fetch(context.Background(), sources.Request{SessionID: "x", StartedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); !errors.Is(err, sources.ErrNotYet) {
		t.Fatal(err)
	}
	if f.lists-before != 2 {
		t.Fatalf("%d listings for two evicted days, want 2", f.lists-before)
	}
}

func TestNewConnectRejectsBadOptions(t *testing.T) {
	if _, err := sources.NewConnect(nil, "b", ""); err == nil {
		t.Error("nil client accepted")
	}
	if _, err := sources.NewConnect(&fakeS3{}, "", ""); err == nil {
		t.Error("empty bucket accepted")
	}
	src, _ := sources.NewConnect(&fakeS3{}, "b", "")
	if _, err := src.Fetch(context.Background(), sources.Request{SessionID: "x"}); err == nil {
		t.Error("a request without a start time was accepted")
	}
}

func TestConnectMoto(t *testing.T) {
	endpoint := testenv.Moto(t)
	client := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	ctx := context.Background()
	bucket := fmt.Sprintf("chatcards-sources-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	testConnect(t, client, bucket, func(key string, body []byte) {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseConnectKey(t *testing.T) {
	id, at, ok := sources.ParseConnectKey("connect/x/ChatTranscripts/2026/11/20/c7d8e9f0-aaaa-4b1c-8d2e-000000000001_20261120T23:50_UTC.json")
	if !ok || id != "c7d8e9f0-aaaa-4b1c-8d2e-000000000001" || !at.Equal(time.Date(2026, 11, 20, 23, 50, 0, 0, time.UTC)) {
		t.Fatalf("got %q %v %v", id, at, ok)
	}
	for _, bad := range []string{
		"", "a/b/", "x_20261120T23:50_UTC.txt", "_20261120T23:50_UTC.json", "x_20261120T2350_UTC.json",
		"x_20261320T23:50_UTC.json", "x_20261120T24:00_UTC.json", "x/y_20261120T23:50_UTC.json/", "bad id_20261120T23:50_UTC.json",
	} {
		if _, _, ok := sources.ParseConnectKey(bad); ok {
			t.Errorf("ParseConnectKey(%q) accepted", bad)
		}
	}
}

func FuzzParseConnectKey(f *testing.F) {
	for _, s := range []string{
		"connect/x/ChatTranscripts/2026/11/20/c7d8e9f0-aaaa-4b1c-8d2e-000000000001_20261120T23:50_UTC.json",
		"a_b_20260101T00:00_UTC.json", "_UTC.json", "x_20261120T23:50_UTC.json", "2026/11/20/", "x_20260229T10:00_UTC.json",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		id, at, ok := sources.ParseConnectKey(key)
		if !ok {
			return
		}
		if !transcript.ValidSessionID(id) {
			t.Fatalf("contact id %q is not a valid session id", id)
		}
		// A parsed key ends with the name the parts write back.
		if name := id + "_" + at.Format("20060102T15:04") + "_UTC.json"; !strings.HasSuffix(key, name) {
			t.Fatalf("%q parsed to %q %v, which writes %q", key, id, at, name)
		}
	})
}
