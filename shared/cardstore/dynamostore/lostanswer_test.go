package dynamostore_test

import (
	"testing"

	"github.com/chatcards/chatcards/shared/cardstore"
	"github.com/chatcards/chatcards/shared/cardstore/cardstoretest"
	"github.com/chatcards/chatcards/shared/cardstore/dynamostore"
	"github.com/chatcards/chatcards/shared/testenv"
)

// lostAnswers runs the lost-answer contract with the store's DynamoDB and S3
// traffic through lossy proxies in front of the emulators: the proxy lets
// the emulator apply a write, then loses its answer (500, a closed
// connection, or a wrong checksum as in the CI failure), and the SDK
// retries. The SDK's default retryer (3 attempts) is left as it is.
func lostAnswers(t *testing.T, dynamoURL, s3URL string) {
	for _, how := range []testenv.Loss{testenv.LossStatus500, testenv.LossClose, testenv.LossChecksum} {
		t.Run(how.String(), func(t *testing.T) {
			cardstoretest.RunLostAnswers(t, func(t *testing.T) (cardstore.Store, cardstoretest.LoseAnswer) {
				direct := dynamoClient(t, dynamoURL)
				table := newTable(t, direct)
				dp := testenv.NewLossyProxy(t, dynamoURL)
				sp := testenv.NewLossyProxy(t, s3URL)
				bucket := newBucket(t, s3Client(t, s3URL))
				st := dynamostore.New(dynamoClient(t, dp.URL), table, dynamostore.Options{S3: s3Client(t, sp.URL), Bucket: bucket, CallTimeout: emulatorCallTimeout})
				lose := func(w cardstoretest.Write) func() int {
					switch w {
					case cardstoretest.WriteCreate:
						dp.LoseNext(testenv.DynamoCall("PutItem", "attribute_not_exists(pk)"), how)
					case cardstoretest.WriteUpdate:
						dp.LoseNext(testenv.DynamoCall("PutItem", "attribute_exists(pk)"), how)
					case cardstoretest.WriteAttach:
						dp.LoseNext(testenv.DynamoCall("UpdateItem"), how)
					case cardstoretest.WriteChatLog:
						sp.LoseNext(testenv.S3Put("/chatlogs/"), how)
						return sp.Lost
					default:
						t.Fatalf("no way to lose the answer of %s", w)
					}
					return dp.Lost
				}
				return st, lose
			})
		})
	}
}

func TestConformanceLostAnswersMoto(t *testing.T) {
	moto := testenv.Moto(t)
	t.Parallel()
	lostAnswers(t, moto, moto)
}

// dynalite has no S3: the chat-log bucket lives on moto.
func TestConformanceLostAnswersDynalite(t *testing.T) {
	dyn, moto := testenv.Dynalite(t), testenv.Moto(t)
	t.Parallel()
	lostAnswers(t, dyn, moto)
}
