package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/chatcards/chatcards/shared/card"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// TestSyncProgress runs `chatcards sync -progress` against DynamoDB on
// moto with a files source: the progress lines count the sessions of the
// run against the active cards listed, and the summary is unchanged.
func TestSyncProgress(t *testing.T) {
	_, n := syncWorld(t)
	code, out, errOut := runCLI(t, "sync", "-progress", "-folders", "acme")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var resp struct {
		Summary struct{ Seen, Closed int }
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || resp.Summary.Seen != n || resp.Summary.Closed != n {
		t.Fatalf("summary %+v (%v): %s", resp.Summary, err, out)
	}
	if want := fmt.Sprintf("sync: %d/%d sessions, ", n, n); !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks the closing progress line %q:\n%s", want, errOut)
	}
	// Without -progress (stderr is no terminal here) there is none.
	code, _, errOut = runCLI(t, "sync", "-folders", "acme")
	if code != 0 || strings.Contains(errOut, "sync: 0") {
		t.Errorf("exit %d; progress lines without -progress:\n%s", code, errOut)
	}
}

// syncWorld is a table on moto with n cards of folder acme and a files
// source with their transcripts, configured through the environment.
func syncWorld(t *testing.T) (endpoint string, n int) {
	endpoint = testenv.Moto(t)
	n = 30
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db := testenv.DynamoDB(t, endpoint)
	table := testenv.UniqueName("cli-sync")
	if err := dynamostore.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	store := dynamostore.New(db, table, dynamostore.Options{})
	dir := t.TempDir()
	example, err := os.ReadFile("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		id := fmt.Sprintf("w-sync-%03d", i)
		if _, _, err := store.Create(ctx, card.New("acme", id, "2026-11-20T09:00:00.000Z")); err != nil {
			t.Fatal(err)
		}
		doc := strings.Replace(string(example), "w-2026-11-20-0001", id, 1)
		doc = strings.Replace(doc, `"tenant": "helpdesk"`, `"tenant": "acme"`, 1)
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"TABLE_NAME": table, "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "SOURCE": "files", "FILES_DIR": dir,
	} {
		t.Setenv(k, v)
	}
	return endpoint, n
}

// TestSyncFanoutCLI plans with -mode fanout onto an SQS queue on moto and
// drains it with two `-worker` runs: every card closes once.
func TestSyncFanoutCLI(t *testing.T) {
	endpoint, n := syncWorld(t)
	ctx := context.Background()
	q := sqs.NewFromConfig(testenv.AWSConfig(t), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(testenv.UniqueName("cli-work"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ENDPOINT_URL_SQS", endpoint)
	t.Setenv("SYNC_QUEUE_URL", aws.ToString(out.QueueUrl))
	t.Setenv("SYNC_ITEM_SIZE", "7")
	code, stdout, errOut := runCLI(t, "sync", "-mode", "fanout", "-folders", "acme")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var plan struct {
		Plan struct {
			Run                string
			Messages, Sessions int
		}
	}
	if err := json.Unmarshal([]byte(stdout), &plan); err != nil || plan.Plan.Sessions != n || plan.Plan.Messages != (n+6)/7 {
		t.Fatalf("plan %+v (%v): %s", plan, err, stdout)
	}
	total := 0
	for range 2 {
		code, stdout, errOut = runCLI(t, "sync", "-worker", "-idle", "1s")
		if code != 0 {
			t.Fatalf("worker exit %d: %s", code, errOut)
		}
		var st struct{ Sessions int }
		if err := json.Unmarshal([]byte(stdout), &st); err != nil {
			t.Fatal(err)
		}
		total += st.Sessions
	}
	if total != n {
		t.Fatalf("workers synced %d sessions, want %d", total, n)
	}
	code, stdout, _ = runCLI(t, "sync", "-folders", "acme")
	var resp struct{ Summary struct{ Seen int } }
	if code != 0 || json.Unmarshal([]byte(stdout), &resp) != nil || resp.Summary.Seen != 0 {
		t.Fatalf("after the fan-out a single run still found active cards: %s", stdout)
	}
	if code, _, errOut := runCLI(t, "sync", "-worker", "-folders", "acme"); code != 2 || !strings.Contains(errOut, "-worker takes its cards from the queue") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}
