package syncer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB is the part of the DynamoDB client DynamoState uses.
type DynamoDB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// DynamoState keeps State in the cards table (docs/sync.md, "State items"):
//
//	watermark   pk F#<folder>  sk W#sweep | W#discover   at (S, fixed-width UTC ms)
//	run         pk RUN#<run>   sk RUN                    planned, messages, sessions, done (trigger), finished, expiresAt
//	run shard   pk RUN#<run>   sk S#<seq mod 16>         seqs (NS), done, deadLettered, c_<count>..., expiresAt
//
// A message is counted by one conditional UpdateItem on its shard: ADD its
// seq to the shard's number set and its counts, unless the set holds the
// seq already (a second delivery adds nothing). Sixteen shards keep each set
// small (a million cards at 20 a message: ~3,100 seqs, ~25 KB a shard) and
// spread the writes.
//
// None carries startSk or activePk, so no card index or listing ever sees
// them; sk W# and M# never clash with a card's C#.
type DynamoState struct {
	db    DynamoDB
	table string
	// RunTTL is how long run items are kept (expiresAt), default 30 days.
	RunTTL time.Duration
	// Timeout bounds each call, default 10 s.
	Timeout time.Duration
	Now     func() time.Time
}

// NewDynamoState returns the State on table.
func NewDynamoState(db DynamoDB, table string) *DynamoState {
	return &DynamoState{db: db, table: table, RunTTL: 30 * 24 * time.Hour, Timeout: 10 * time.Second, Now: time.Now}
}

var _ State = (*DynamoState)(nil)

const markLayout = "2006-01-02T15:04:05.000Z"

func sv(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nv(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func (d *DynamoState) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.Timeout)
}

func markKey(folder, kind string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": sv("F#" + folder), "sk": sv("W#" + kind)}
}

func (d *DynamoState) Watermark(ctx context.Context, folder, kind string) (time.Time, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: markKey(folder, kind), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return time.Time{}, fmt.Errorf("sync state: read %s watermark of %s: %w", kind, folder, err)
	}
	at, ok := out.Item["at"].(*types.AttributeValueMemberS)
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(markLayout, at.Value)
	if err != nil {
		return time.Time{}, fmt.Errorf("sync state: %s watermark of %s is not a time: %q", kind, folder, at.Value)
	}
	return t, nil
}

func (d *DynamoState) AdvanceWatermark(ctx context.Context, folder, kind string, at time.Time) error {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	// The fixed-width layout sorts as time, so "<" on strings is "earlier".
	_, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       markKey(folder, kind),
		UpdateExpression:          aws.String("SET #at = :at"),
		ConditionExpression:       aws.String("attribute_not_exists(#at) OR #at < :at"),
		ExpressionAttributeNames:  map[string]string{"#at": "at"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": sv(at.UTC().Format(markLayout))},
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return nil // a later mark is stored already
	}
	if err != nil {
		return fmt.Errorf("sync state: advance %s watermark of %s: %w", kind, folder, err)
	}
	return nil
}

func runKey(run, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": sv("RUN#" + run), "sk": sv(sk)}
}

func (d *DynamoState) expires() types.AttributeValue {
	return nv(d.Now().Add(d.RunTTL).Unix())
}

func (d *DynamoState) PlanRun(ctx context.Context, run string, messages, sessions int) (RunTotals, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	out, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(d.table),
		Key:              runKey(run, "RUN"),
		UpdateExpression: aws.String("SET planned = :t, messages = :m, sessions = :s, expiresAt = :e"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":m": nv(int64(messages)), ":s": nv(int64(sessions)), ":e": d.expires(),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return RunTotals{}, fmt.Errorf("sync state: record the plan of run %s: %w", run, err)
	}
	return totalsOf(run, out.Attributes), nil
}

// runShards spreads a run's message counts over items.
const runShards = 16

func (d *DynamoState) DoneMessage(ctx context.Context, run string, seq int, c Summary, dead bool) (bool, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	expr := "SET expiresAt = :e ADD seqs :seqs, done :one"
	vals := map[string]types.AttributeValue{":e": d.expires(), ":one": nv(1), ":seq": nv(int64(seq)),
		":seqs": &types.AttributeValueMemberNS{Value: []string{strconv.Itoa(seq)}}}
	if dead {
		expr += ", deadLettered :one"
	}
	for name, n := range c.counters() {
		if n != 0 {
			expr += ", c_" + name + " :c_" + name
			vals[":c_"+name] = nv(int64(n))
		}
	}
	_, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       runKey(run, fmt.Sprintf("S#%02d", seq%runShards)),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_not_exists(seqs) OR NOT contains(seqs, :seq)"),
		ExpressionAttributeValues: vals,
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return false, nil // counted by an earlier delivery
	}
	if err != nil {
		return false, fmt.Errorf("sync state: count message %d of run %s: %w", seq, run, err)
	}
	// The run item's done is only the trigger for Finish; the counts are
	// the shards'. A worker dying between the two writes leaves the trigger
	// one short: the run's totals stay exact, only its "complete" line is
	// not logged.
	if _, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       runKey(run, "RUN"),
		UpdateExpression:          aws.String("SET expiresAt = :e ADD done :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":e": d.expires(), ":one": nv(1)},
	}); err != nil {
		return true, fmt.Errorf("sync state: count message %d of run %s: %w", seq, run, err)
	}
	return true, nil
}

func (d *DynamoState) Finish(ctx context.Context, run string) (RunTotals, bool, error) {
	cctx, cancel := d.ctx(ctx)
	defer cancel()
	_, err := d.db.UpdateItem(cctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       runKey(run, "RUN"),
		UpdateExpression:          aws.String("SET finished = :t"),
		ConditionExpression:       aws.String("attribute_not_exists(finished) AND planned = :t AND done >= messages"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return RunTotals{Run: run}, false, nil
	}
	if err != nil {
		return RunTotals{}, false, fmt.Errorf("sync state: finish run %s: %w", run, err)
	}
	t, err := d.Totals(ctx, run)
	return t, err == nil, err
}

// Totals reads the run item and its shards (one Query, consistent).
func (d *DynamoState) Totals(ctx context.Context, run string) (RunTotals, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	t := RunTotals{Run: run}
	sums := map[string]int{}
	var start map[string]types.AttributeValue
	for {
		out, err := d.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(d.table),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": sv("RUN#" + run)},
			ConsistentRead:            aws.Bool(true),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return RunTotals{}, fmt.Errorf("sync state: read run %s: %w", run, err)
		}
		for _, it := range out.Items {
			if sk, _ := it["sk"].(*types.AttributeValueMemberS); sk != nil && sk.Value == "RUN" {
				r := totalsOf(run, it)
				t.Planned, t.Messages, t.Sessions = r.Planned, r.Messages, r.Sessions
				continue
			}
			for k, v := range it {
				if n, ok := v.(*types.AttributeValueMemberN); ok && k != "expiresAt" {
					x, _ := strconv.Atoi(n.Value)
					sums[k] += x
				}
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		start = out.LastEvaluatedKey
	}
	t.Done, t.DeadLettered = sums["done"], sums["deadLettered"]
	t.Counts = summaryFrom(func(n string) int { return sums["c_"+n] })
	return t, nil
}

func totalsOf(run string, item map[string]types.AttributeValue) RunTotals {
	num := func(name string) int {
		if v, ok := item[name].(*types.AttributeValueMemberN); ok {
			n, _ := strconv.Atoi(v.Value)
			return n
		}
		return 0
	}
	t := RunTotals{Run: run, Messages: num("messages"), Sessions: num("sessions"), Done: num("done"), DeadLettered: num("deadLettered")}
	if b, ok := item["planned"].(*types.AttributeValueMemberBOOL); ok {
		t.Planned = b.Value
	}
	t.Counts = summaryFrom(func(n string) int { return num("c_" + n) })
	return t
}
