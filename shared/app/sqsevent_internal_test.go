package app

import (
	"strings"
	"testing"
)

// The worker refuses what is not an SQS batch, naming what it got; an SQS
// batch (empty included) is read.
func TestParseSQSEvent(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"hello": "world"}`, "no Records"},
		{`{}`, "no Records"},
		{`[]`, "want an SQS batch"},
		{`{"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}}}]}`, `Records[0].eventSource: "aws:s3" is not aws:sqs`},
		{`{"Records": [{"body": "{}"}]}`, `Records[0].eventSource: "none"`},
		{`{"Records": [{"eventSource": "aws:sqs", "eventSource": "aws:sqs"}]}`, "duplicate"},
	} {
		if _, err := ParseSQSEvent([]byte(c.in)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.in, err, c.want)
		}
	}
	ev, err := ParseSQSEvent([]byte(`{"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs", "attributes": {"ApproximateReceiveCount": "2"}}]}`))
	if err != nil || len(ev.Records) != 1 || ev.Records[0].MessageId != "m1" || ev.Records[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("SQS batch: %+v %v", ev, err)
	}
	if ev, err := ParseSQSEvent([]byte(`{"Records": []}`)); err != nil || len(ev.Records) != 0 {
		t.Fatalf("empty batch: %+v %v", ev, err)
	}
}
