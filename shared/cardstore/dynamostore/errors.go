package dynamostore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/chatcards/chatcards/shared/card"
)

// unavailableCodes are the service error codes that mean "try again later":
// DynamoDB and S3 throttling and server-side faults.
var unavailableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
	"InternalError":                          true, // S3
	"SlowDown":                               true, // S3
	"RequestTimeout":                         true, // S3
}

// classify turns an SDK error into a coded one. The caller's own deadline or
// cancellation is not the table's fault, so it is not called unavailable; it
// stays in the chain for errors.Is.
func classify(op string, err error) *card.Error {
	var ce *card.Error
	if errors.As(err, &ce) {
		return ce
	}
	if errors.Is(err, errCallTimeout) {
		// The call's own deadline, not the caller's: the store did not answer.
		return &card.Error{Code: card.EUNAVAILABLE, Op: op, Message: "the card store did not answer in time; try again later", Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return card.Wrap(card.EINTERNAL, op, err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if unavailableCodes[ae.ErrorCode()] {
			return &card.Error{Code: card.EUNAVAILABLE, Op: op, Message: "the card store is busy or unreachable; try again later", Err: err}
		}
		if ae.ErrorCode() == "ValidationException" && strings.Contains(strings.ToLower(ae.ErrorMessage()), "item size") {
			return &card.Error{Code: card.ETOOLARGE, Op: op, Message: "the card is too large to store", Err: err}
		}
	}
	var pe *types.ProvisionedThroughputExceededException
	var rs *smithyhttp.RequestSendError
	var ne net.Error
	var status interface{ HTTPStatusCode() int }
	switch {
	case errors.As(err, &pe), errors.As(err, &rs), errors.As(err, &ne),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF):
		return &card.Error{Code: card.EUNAVAILABLE, Op: op, Message: "the card store is busy or unreachable; try again later", Err: err}
	case errors.As(err, &status) && status.HTTPStatusCode() >= 500:
		return &card.Error{Code: card.EUNAVAILABLE, Op: op, Message: "the card store is busy or unreachable; try again later", Err: err}
	}
	return card.Wrap(card.EINTERNAL, op, err)
}

func isConditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ConditionalCheckFailedException"
}
