package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names; docs/table-design.md explains them and
// template.yaml must use the same.
const (
	attrPK        = "pk"        // "F#<folder>" for cards, "FOLDERS" for the folder registry
	attrSK        = "sk"        // "C#<sessionId>" for cards, "<folder>" in the registry
	attrVersion   = "ver"       // N, the optimistic-concurrency counter
	attrDoc       = "doc"       // S, JSON of the card without its chat log
	attrLog       = "log"       // B, gzip of the chat log's JSON, when it fits the item
	attrLogRef    = "logRef"    // S, S3 key of the gzip chat log, when it does not
	attrActivePK  = "activePk"  // S, "ACTIVE#<shard>", only while the card is active
	attrActiveSK  = "activeSk"  // S, "<folder>#<startedAt>#<sessionId>", only while active
	attrStartSK   = "startSk"   // S, "<startedAt>#<sessionId>"
	attrExpiresAt = "expiresAt" // N, epoch seconds, the table's TTL attribute
	attrToken     = "wt"        // S, write token of the write that made this version

	// IndexActive is the sparse GSI of active cards.
	IndexActive = "active"
	// IndexByStart is the GSI of a folder's cards by StartedAt.
	IndexByStart = "byStart"

	folderRegistryPK = "FOLDERS"
)

// activeShards spreads active cards over a few GSI partitions so their write
// rate is not capped by one; one folder always lands in one shard. Changing it
// needs every active item rewritten.
const activeShards = 8

// TableAPI is the part of the DynamoDB client CreateTable uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// CreateTable creates the card table with its indexes, billed on demand, and
// waits until it and its indexes are active. An existing table is waited for,
// not an error. TTL on expiresAt is left to the deployment template.
func CreateTable(ctx context.Context, db TableAPI, table string) error {
	if table == "" {
		return errors.New("dynamostore.CreateTable: table name is required")
	}
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	// Listings without the chat log read only these from the indexes.
	proj := &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{attrDoc, attrVersion}}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{str(attrPK), str(attrSK), str(attrActivePK), str(attrActiveSK), str(attrStartSK)},
		KeySchema:            key(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(IndexActive), KeySchema: key(attrActivePK, attrActiveSK), Projection: proj},
			{IndexName: aws.String(IndexByStart), KeySchema: key(attrPK, attrStartSK), Projection: proj},
		},
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamostore.CreateTable %s: %w", table, err)
	}
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("dynamostore.CreateTable %s: describe: %w", table, err)
		}
		if tableActive(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dynamostore.CreateTable %s: waiting for it to become active: %w", table, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tableActive(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}
