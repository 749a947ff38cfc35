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
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// DynamoState keeps State in the cards table (docs/sync.md, "State items"):
//
//	watermark   pk F#<folder>  sk W#sweep | W#discover   at (S, fixed-width UTC ms)
//	run totals  pk RUN#<run>   sk RUN                    planned, messages, sessions, done, deadLettered, c_<count>..., finished, expiresAt
//	run message pk RUN#<run>   sk M#<seq>                expiresAt
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

func (d *DynamoState) DoneMessage(ctx context.Context, run string, seq int, c Summary, dead bool) (bool, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	expr := "SET expiresAt = :e ADD done :one"
	vals := map[string]types.AttributeValue{":e": d.expires(), ":one": nv(1)}
	if dead {
		expr += ", deadLettered :one"
	}
	for name, n := range c.counters() {
		if n != 0 {
			expr += ", c_" + name + " :c_" + name
			vals[":c_"+name] = nv(int64(n))
		}
	}
	// The marker and the counts in one transaction: a second delivery of
	// the message fails the marker's condition and adds nothing.
	_, err := d.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:           aws.String(d.table),
			Item:                map[string]types.AttributeValue{"pk": sv("RUN#" + run), "sk": sv(fmt.Sprintf("M#%08d", seq)), "expiresAt": d.expires()},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		}},
		{Update: &types.Update{
			TableName:                 aws.String(d.table),
			Key:                       runKey(run, "RUN"),
			UpdateExpression:          aws.String(expr),
			ExpressionAttributeValues: vals,
		}},
	}})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for _, r := range tc.CancellationReasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return false, nil
			}
		}
	}
	if err != nil {
		return false, fmt.Errorf("sync state: count message %d of run %s: %w", seq, run, err)
	}
	return true, nil
}

func (d *DynamoState) Finish(ctx context.Context, run string) (RunTotals, bool, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	out, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(d.table),
		Key:                       runKey(run, "RUN"),
		UpdateExpression:          aws.String("SET finished = :t"),
		ConditionExpression:       aws.String("attribute_not_exists(finished) AND planned = :t AND done >= messages"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
		ReturnValues:              types.ReturnValueAllNew,
	})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return RunTotals{Run: run}, false, nil
	}
	if err != nil {
		return RunTotals{}, false, fmt.Errorf("sync state: finish run %s: %w", run, err)
	}
	return totalsOf(run, out.Attributes), true, nil
}

func (d *DynamoState) Totals(ctx context.Context, run string) (RunTotals, error) {
	ctx, cancel := d.ctx(ctx)
	defer cancel()
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: runKey(run, "RUN"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return RunTotals{}, fmt.Errorf("sync state: read run %s: %w", run, err)
	}
	return totalsOf(run, out.Item), nil
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
