// Package apperr is Tandem's one error type: a code that says what kind of
// failure happened, a message that is safe to show the caller, and field
// errors for validation. The HTTP layer maps codes to statuses in one table.
package apperr

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the caller. Each code maps to one HTTP status.
type Code string

// The codes Tandem uses.
const (
	Invalid              Code = "invalid"               // the request is malformed or breaks a rule
	Unauthenticated      Code = "unauthenticated"       // missing or bad credentials
	PaymentRequired      Code = "payment_required"      // the practice's plan or billing state does not allow it
	Forbidden            Code = "forbidden"             // visible, but the actor may not do this
	NotFound             Code = "not_found"             // absent, or invisible to the actor
	Conflict             Code = "conflict"              // clashes with the current state
	Gone                 Code = "gone"                  // existed once, no longer usable (a spent invitation)
	PreconditionFailed   Code = "precondition_failed"   // a stale If-Match
	PreconditionRequired Code = "precondition_required" // a change to a versioned record without If-Match
	TooManyRequests      Code = "too_many_requests"     // rate limited
	Unavailable          Code = "unavailable"           // a dependency is down
)

// FieldError names one invalid input field.
type FieldError struct {
	Field   string
	Message string
}

// Error is a failure whose Message may be shown to the caller. Err, when set,
// is the internal cause: it is logged, never shown.
type Error struct {
	Code Code
	// Reason, when set, names the failure more precisely than Code for the
	// problem type (e.g. "consent_revoked"); callers may act on it.
	Reason     string
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration // for TooManyRequests
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a caller-safe message.
func New(code Code, message string) *Error {
	return &Error{Code: code, Message: message}
}

// Validation returns an Invalid error carrying field errors.
func Validation(fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: "The request has invalid fields.", Fields: fields}
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

// Fields collects field errors while parsing input, so that every problem in
// a request is reported at once.
type Fields []FieldError

// Add records a field error.
func (f *Fields) Add(field, message string) {
	*f = append(*f, FieldError{Field: field, Message: message})
}

// Err returns a Validation error when any field error was recorded, else nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return Validation(f...)
}
