package dynamostore_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// silentServer accepts TCP connections and never answers: a DynamoDB or S3
// that is up but hung.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never read or written
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestCallTimeout: against a store that accepts connections and never
// answers, every operation ends EUNAVAILABLE in about Options.CallTimeout,
// with the SDK's default retryer (3 attempts) left on: the per-call deadline
// bounds all attempts together.
func TestCallTimeout(t *testing.T) {
	// One second, so that a bound well under three attempts' worth (3 s)
	// still leaves a loaded machine room for scheduling delays.
	const timeout = time.Second
	url := silentServer(t)
	db := dynamodb.NewFromConfig(testenv.AWSConfig(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
	s3c := s3.NewFromConfig(testenv.AWSConfig(t), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})
	ctx := context.Background()
	within := func(t *testing.T, what string, f func() error) {
		t.Helper()
		start := time.Now()
		err := f()
		took := time.Since(start)
		if got := card.ErrorCode(err); got != card.EUNAVAILABLE {
			t.Errorf("%s: code %q (%v), want %q", what, got, err, card.EUNAVAILABLE)
		}
		// A call cannot end before its deadline; the upper bound leaves room
		// for a loaded machine and is still below 3 attempts' worth.
		if took < timeout || took > timeout*5/2 {
			t.Errorf("%s took %v, want about %v", what, took, timeout)
		}
	}
	st := dynamostore.New(db, "cards", dynamostore.Options{CallTimeout: timeout})
	c := card.New("acme", "w-1", cardstoretest.Stamp(cardstoretest.T0))
	within(t, "Get", func() error { _, err := st.Get(ctx, "acme", "w-1"); return err })
	within(t, "Create", func() error { _, _, err := st.Create(ctx, c); return err })
	up := *c
	up.Version = 1
	within(t, "Update", func() error { return st.Update(ctx, &up) })
	if up.Version != 1 {
		t.Errorf("a timed-out Update moved Version to %d", up.Version)
	}
	within(t, "AttachTicket", func() error { _, err := st.AttachTicket(ctx, "acme", "w-1", "INC-1"); return err })
	within(t, "ListActive", func() error { _, err := st.ListActive(ctx, "", cardstore.ListOptions{}); return err })
	within(t, "ListByStart", func() error {
		_, err := st.ListByStart(ctx, "acme", cardstoretest.T0, cardstoretest.T0.Add(time.Hour), cardstore.ListOptions{})
		return err
	})
	within(t, "ListFolders", func() error { _, err := st.ListFolders(ctx); return err })

	// S3 hung, DynamoDB fine: the chat-log put of an oversized card times out.
	objs := dynamostore.New(&fakeDB{putItem: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return &dynamodb.PutItemOutput{}, nil
	}}, "cards", dynamostore.Options{S3: s3c, Bucket: "b", CallTimeout: timeout})
	huge := card.New("acme", "w-huge", cardstoretest.Stamp(cardstoretest.T0))
	huge.ChatLog = cardstoretest.HugeChatLog(1 << 20)
	within(t, "Create with the chat log to S3", func() error { _, _, err := objs.Create(ctx, huge); return err })

	// The caller's own, shorter deadline is not the store's outage.
	short, cancel := context.WithTimeout(ctx, timeout/3)
	defer cancel()
	_, err := st.Get(short, "acme", "w-1")
	if !errors.Is(err, context.DeadlineExceeded) || card.ErrorCode(err) == card.EUNAVAILABLE {
		t.Errorf("Get under the caller's shorter deadline: %v (code %q), want the caller's deadline, not EUNAVAILABLE", err, card.ErrorCode(err))
	}
}
