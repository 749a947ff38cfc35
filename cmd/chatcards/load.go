package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
)

func init() {
	register("load", command{
		summary: "loopback load test: create calls against a local API, and bare PutItem for comparison",
		help: `Runs createChatSession against a chatcards API on this machine at each client
count of -c, and with -putitem-endpoint the same number of bare DynamoDB
PutItem calls on a local emulator, for comparison. Only loopback targets are
allowed. One line of figures per level on stdout. When any request fails the
command says on stderr how many failed, by HTTP status or error code, with a
sample problem title and detail, and exits 1.

Environment: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY for the
emulator of -putitem-endpoint (default us-east-1, test, test).`,
		run: runLoad,
	})
}

// Bounds that keep a load run a short, self-stopping test on this machine.
const (
	maxLoadDuration    = 60 * time.Second
	maxLoadConcurrency = 256
	maxLoadRequests    = 1_000_000
)

type loadOptions struct {
	url, token, folder string
	levels             []int
	duration           time.Duration
	maxRequests        int
	putEndpoint, table string
	createTable        bool
}

// levelResult is one concurrency level's figures.
type levelResult struct {
	clients  int
	requests int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r levelResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("load", stderr)
	var o loadOptions
	var levels string
	fs.StringVar(&o.url, "url", "", "base URL of a local chatcards API, e.g. http://127.0.0.1:8080")
	fs.StringVar(&o.token, "token", "", "API bearer token")
	fs.StringVar(&o.folder, "folder", "demo", "folder to create cards in")
	fs.StringVar(&levels, "c", "1,16,64", "comma-separated client counts, one run each")
	fs.DurationVar(&o.duration, "d", 10*time.Second, "duration of each level (at most 60s)")
	fs.IntVar(&o.maxRequests, "n", 200_000, "at most this many requests per level")
	fs.StringVar(&o.putEndpoint, "putitem-endpoint", "", "local DynamoDB endpoint: also run bare PutItem calls, the same number per level as the API run")
	fs.StringVar(&o.table, "table", "", "table for -putitem-endpoint")
	fs.BoolVar(&o.createTable, "create-table", false, "create -table on the -putitem-endpoint emulator first (as the card store lays it out) and exit")
	if code, ok := parseFlags(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return badUsage(stderr, fs, "unexpected argument %q", fs.Arg(0))
	}
	if o.createTable {
		if o.putEndpoint == "" || o.table == "" {
			fmt.Fprintln(stderr, "load: -create-table needs -putitem-endpoint and -table")
			return 2
		}
		if err := loopbackOnly("-putitem-endpoint", o.putEndpoint); err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 2
		}
		if err := dynamostore.CreateTable(ctx, localDynamo(o.putEndpoint), o.table); err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "table %s ready on %s\n", o.table, o.putEndpoint)
		return 0
	}
	if err := o.check(levels); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 2
	}
	runID := strconv.FormatInt(time.Now().UnixNano(), 36)
	apiErrs, putErrs := &errorTally{}, &errorTally{}
	defer func() {
		// A run with failed requests measured failures, not the system:
		// say what failed, so a wrong token is not read as a fast API.
		apiErrs.report(stderr, "API createChatSession")
		putErrs.report(stderr, "DynamoDB PutItem")
	}()
	var apiResults []levelResult
	if o.url != "" {
		fmt.Fprintf(stdout, "API createChatSession %s\n", o.url)
		apiResults = make([]levelResult, 0, len(o.levels))
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConns: maxLoadConcurrency, MaxIdleConnsPerHost: maxLoadConcurrency, IdleConnTimeout: 30 * time.Second,
		}}
		for _, c := range o.levels {
			res := runLevel(ctx, c, o.duration, o.maxRequests, apiErrs, func(ctx context.Context, w, i int) error {
				return createOnce(ctx, client, o, fmt.Sprintf("load-%s-%d-%d-%d", runID, c, w, i))
			})
			apiResults = append(apiResults, res)
			printLevel(stdout, res)
			if ctx.Err() != nil {
				return 1
			}
		}
	}
	if o.putEndpoint != "" {
		fmt.Fprintf(stdout, "bare DynamoDB PutItem %s table %s\n", o.putEndpoint, o.table)
		db := localDynamo(o.putEndpoint)
		for i, c := range o.levels {
			n, d := o.maxRequests, o.duration
			if apiResults != nil {
				// Same number of calls as the API made, so the two runs
				// compare like for like; the time bound is kept generous.
				n, d = apiResults[i].requests, maxLoadDuration
			}
			res := runLevel(ctx, c, d, n, putErrs, func(ctx context.Context, w, j int) error {
				return putOnce(ctx, db, o, fmt.Sprintf("put-%s-%d-%d-%d", runID, c, w, j))
			})
			printLevel(stdout, res)
			if apiResults != nil && res.rate() > 0 {
				fmt.Fprintf(stdout, "  ratio API/PutItem at %d clients: throughput %.2f, p50 %.2f, p99 %.2f\n", c,
					apiResults[i].rate()/res.rate(), ratio(apiResults[i].p50, res.p50), ratio(apiResults[i].p99, res.p99))
			}
			if ctx.Err() != nil {
				return 1
			}
		}
	}
	if apiErrs.total() > 0 || putErrs.total() > 0 {
		return 1
	}
	return 0
}

// errorTally counts failed requests by kind ("HTTP 401",
// "ConditionalCheckFailedException", "transport") and keeps the first
// message of each kind as a sample.
type errorTally struct {
	mu     sync.Mutex
	counts map[string]int
	sample map[string]string
	order  []string
}

func (t *errorTally) add(err error) {
	kind, msg := "error", err.Error()
	var se *statusError
	var ae smithy.APIError
	switch {
	case errors.As(err, &se):
		kind, msg = fmt.Sprintf("HTTP %d", se.status), se.problem
	case errors.As(err, &ae):
		kind, msg = ae.ErrorCode(), ae.ErrorMessage()
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counts == nil {
		t.counts, t.sample = map[string]int{}, map[string]string{}
	}
	if _, seen := t.counts[kind]; !seen {
		t.order = append(t.order, kind)
		t.sample[kind] = msg
	}
	t.counts[kind]++
}

func (t *errorTally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

// report writes one line per kind of failure, most frequent first.
func (t *errorTally) report(w io.Writer, what string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.order) == 0 {
		return
	}
	kinds := slices.Clone(t.order)
	slices.SortStableFunc(kinds, func(a, b string) int { return t.counts[b] - t.counts[a] })
	n := 0
	for _, k := range kinds {
		n += t.counts[k]
	}
	fmt.Fprintf(w, "load: %s: %d requests failed\n", what, n)
	for _, k := range kinds {
		line := fmt.Sprintf("  %d × %s", t.counts[k], k)
		if m := t.sample[k]; m != "" {
			line += ": " + oneLine(clipText(m, 200))
		}
		fmt.Fprintln(w, line)
	}
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// statusError is an answer other than 201, with the problem document's
// title and detail (RFC 9457) when the body has them.
type statusError struct {
	status  int
	problem string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.status, e.problem) }

// problemText reads "title: detail" from a problem document; "" when the
// body is not one.
func problemText(body []byte) string {
	var p struct {
		Title  string `json:"title"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &p) != nil || p.Title == "" {
		return ""
	}
	if p.Detail == "" {
		return p.Title
	}
	return p.Title + ": " + p.Detail
}

// localDynamo is a DynamoDB client for an emulator on this machine.
func localDynamo(endpoint string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       envOr("AWS_REGION", "us-east-1"),
		BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(
			envOr("AWS_ACCESS_KEY_ID", "test"), envOr("AWS_SECRET_ACCESS_KEY", "test"), ""),
	})
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (o *loadOptions) check(levels string) error {
	if o.url == "" && o.putEndpoint == "" {
		return errors.New("-url or -putitem-endpoint is required")
	}
	if o.url != "" {
		if err := loopbackOnly("-url", o.url); err != nil {
			return err
		}
		if o.token == "" {
			return errors.New("-token is required with -url")
		}
	}
	if o.putEndpoint != "" {
		if err := loopbackOnly("-putitem-endpoint", o.putEndpoint); err != nil {
			return err
		}
		if o.table == "" {
			return errors.New("-table is required with -putitem-endpoint")
		}
	}
	if o.duration <= 0 || o.duration > maxLoadDuration {
		return fmt.Errorf("-d %s: must be above 0 and at most %s", o.duration, maxLoadDuration)
	}
	if o.maxRequests <= 0 || o.maxRequests > maxLoadRequests {
		return fmt.Errorf("-n %d: must be 1 to %d", o.maxRequests, maxLoadRequests)
	}
	for _, f := range strings.Split(levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > maxLoadConcurrency {
			return fmt.Errorf("-c %q: want client counts of 1 to %d", levels, maxLoadConcurrency)
		}
		o.levels = append(o.levels, c)
	}
	return nil
}

// loopbackOnly refuses any target that is not this machine: a load test
// must never send traffic anywhere else.
func loopbackOnly(flagName, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("%s %q: want http://127.0.0.1:PORT", flagName, raw)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %q: only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed", flagName, raw)
	}
	return nil
}

// runLevel runs call from `clients` workers until d has passed or n calls
// were started, and measures each call.
func runLevel(ctx context.Context, clients int, d time.Duration, n int, errs *errorTally, call func(ctx context.Context, worker, i int) error) levelResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var started, failed atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	begin := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				if started.Add(1) > int64(n) {
					return
				}
				t0 := time.Now()
				err := call(ctx, w, i)
				if ctx.Err() != nil && err != nil {
					return // cut off by the deadline: neither a result nor a failure
				}
				lat[w] = append(lat[w], time.Since(t0))
				if err != nil {
					failed.Add(1)
					errs.add(err)
				}
			}
		}(w)
	}
	wg.Wait()
	res := levelResult{clients: clients, elapsed: time.Since(begin), errors: int(failed.Load())}
	all := slices.Concat(lat...)
	res.requests = len(all)
	if len(all) > 0 {
		slices.Sort(all)
		res.p50 = all[len(all)*50/100]
		res.p99 = all[min(len(all)-1, len(all)*99/100)]
	}
	return res
}

func printLevel(w io.Writer, r levelResult) {
	fmt.Fprintf(w, "  clients %3d: %7d requests in %5.2fs, %4d errors, %9.1f req/s, p50 %8.3f ms, p99 %8.3f ms\n",
		r.clients, r.requests, r.elapsed.Seconds(), r.errors, r.rate(),
		float64(r.p50.Microseconds())/1000, float64(r.p99.Microseconds())/1000)
}

func createOnce(ctx context.Context, client *http.Client, o loadOptions, id string) error {
	body := `{"sessionId":"` + id + `","customer":{"person":"person/1042","name":"Load Test"},"channel":"web","language":"en","pages":["https://example.com/vpn-help"],"metadata":{"botFlow":"load"}}`
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimSuffix(o.url, "/")+"/v1/chat-sessions?folder="+url.QueryEscape(o.folder), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusCreated {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return nil
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 16<<10))
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return &statusError{status: res.StatusCode, problem: problemText(raw)}
}

// putOnce writes an item shaped like a new card: keys, a JSON document of
// the same size and the same create-only condition as the store's Create.
func putOnce(ctx context.Context, db *dynamodb.Client, o loadOptions, id string) error {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	doc := `{"folder":"` + o.folder + `","sessionId":"` + id + `","active":true,"status":"active","chatLog":[],"messageCount":0,"customer":"person/1042","members":[],"startTime":"` + now + `","waitBeforeFirstReplyMs":null,"relatedTickets":[],"noOperatorResponse":false,"abandoned":false,"markers":[],"pages":["https://example.com/vpn-help"],"statistics":{},"agents":[],"responseTimes":{},"productivity":{"operatorMessages":0,"clientMessages":0,"botMessages":0},"channel":"web","language":"en","async":false,"customerName":"Load Test","metadata":{"botFlow":"load"},"startedAt":"` + now + `","createdAt":"` + now + `","updatedAt":"` + now + `","version":1}`
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(o.table),
		Item: map[string]types.AttributeValue{
			"pk":      &types.AttributeValueMemberS{Value: "F#" + o.folder},
			"sk":      &types.AttributeValueMemberS{Value: "C#" + id},
			"ver":     &types.AttributeValueMemberN{Value: "1"},
			"doc":     &types.AttributeValueMemberS{Value: doc},
			"startSk": &types.AttributeValueMemberS{Value: now + "#" + id},
		},
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return err
}
