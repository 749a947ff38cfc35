package card

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers; the API maps codes to HTTP status in
// one place.
type Code string

const (
	EINVALID     Code = "invalid"     // the caller's input is wrong
	ENOTFOUND    Code = "not_found"   // no such card (in this folder)
	ECONFLICT    Code = "conflict"    // optimistic version check failed; re-read and retry
	EUNAVAILABLE Code = "unavailable" // throttled or unreachable; try again later
	ETOOLARGE    Code = "too_large"   // the item cannot be stored even after compression/offload
	EINTERNAL    Code = "internal"
)

// Error is a domain error with a code. Message is safe to show to a caller;
// Err is the cause, for logs only.
type Error struct {
	Code    Code
	Op      string // where it came from, e.g. "dynamostore.Update"
	Message string
	Err     error
}

func (e *Error) Error() string {
	s := e.Op
	if e.Message != "" {
		if s != "" {
			s += ": "
		}
		s += e.Message
	}
	if e.Err != nil {
		if s != "" {
			s += ": "
		}
		s += e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a coded error with a message.
func Errorf(code Code, op, format string, args ...any) *Error {
	return &Error{Code: code, Op: op, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code to a cause.
func Wrap(code Code, op string, err error) *Error {
	return &Error{Code: code, Op: op, Err: err}
}

// ErrorCode returns the code of the first coded error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}
