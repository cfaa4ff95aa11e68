package apperr_test

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/tandem-coach/tandem/internal/apperr"
)

func TestFieldsErr(t *testing.T) {
	var none apperr.Fields
	if err := none.Err(); err != nil {
		t.Errorf("nil Fields.Err() = %v, want nil", err)
	}
	if err := (apperr.Fields{}).Err(); err != nil {
		t.Errorf("empty Fields.Err() = %v, want nil", err)
	}

	var fields apperr.Fields
	fields.Add("email", "must be an e-mail address")
	fields.Add("name", "is required")
	err := fields.Err()
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("Fields.Err() = %v, want an *apperr.Error", err)
	}
	want := []apperr.FieldError{{"email", "must be an e-mail address"}, {"name", "is required"}}
	if e.Code != apperr.Invalid || !slices.Equal(e.Fields, want) {
		t.Errorf("Fields.Err() = %+v, want code invalid with fields %v in order", e, want)
	}
}

func TestValidation(t *testing.T) {
	fe := apperr.FieldError{Field: "limit", Message: "must be between 1 and 200"}
	e := apperr.Validation(fe)
	if e.Code != apperr.Invalid || e.Message != "The request has invalid fields." || !slices.Equal(e.Fields, []apperr.FieldError{fe}) {
		t.Errorf("Validation = %+v", e)
	}
	if got, want := e.Error(), "invalid: The request has invalid fields."; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *apperr.Error
		want string
	}{
		{"no cause", apperr.New(apperr.NotFound, "No such client."), "not_found: No such client."},
		{"with cause", &apperr.Error{Code: apperr.Unavailable, Message: "Try again.", Err: io.ErrUnexpectedEOF},
			"unavailable: Try again.: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAsAndIsThroughWrapping(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	inner := &apperr.Error{Code: apperr.Conflict, Message: "Already a member.", Err: cause}
	wrapped := fmt.Errorf("add member: %w", fmt.Errorf("store: %w", inner))

	e, ok := apperr.As(wrapped)
	if !ok || e != inner {
		t.Fatalf("As(wrapped) = %v, %v; want the inner error", e, ok)
	}
	if !apperr.Is(wrapped, apperr.Conflict) {
		t.Error("Is(wrapped, conflict) = false, want true")
	}
	if apperr.Is(wrapped, apperr.NotFound) {
		t.Error("Is(wrapped, not_found) = true, want false")
	}
	if !errors.Is(wrapped, cause) {
		t.Error("errors.Is(wrapped, cause) = false: Unwrap does not reach the cause")
	}

	plain := fmt.Errorf("boom: %w", io.EOF)
	if e, ok := apperr.As(plain); ok || e != nil {
		t.Errorf("As(plain error) = %v, %v; want nil, false", e, ok)
	}
	if apperr.Is(plain, apperr.Invalid) || apperr.Is(nil, apperr.Invalid) {
		t.Error("Is reports a code for an error without one")
	}
}
