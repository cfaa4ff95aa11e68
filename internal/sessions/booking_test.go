package sessions

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tandem-coach/tandem/internal/apperr"
)

func TestBookingErrorMapsOnlyTheDoubleBookingConstraint(t *testing.T) {
	overlap := &pgconn.PgError{Code: "23P01", ConstraintName: "coaching_sessions_no_double_booking"}
	for _, tc := range []struct {
		name     string
		err      error
		conflict bool
	}{
		{"the constraint", overlap, true},
		{"the constraint, wrapped", fmt.Errorf("insert: %w", overlap), true},
		{"another exclusion constraint", &pgconn.PgError{Code: "23P01", ConstraintName: "something_else"}, false},
		{"a check violation", &pgconn.PgError{Code: "23514", ConstraintName: "coaching_sessions_check"}, false},
		{"not a database error", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bookingError(tc.err)
			if apperr.Is(got, apperr.Conflict) != tc.conflict {
				t.Fatalf("bookingError(%v) = %v, conflict %v", tc.err, got, tc.conflict)
			}
			if !tc.conflict && got != tc.err {
				t.Fatalf("bookingError changed %v into %v", tc.err, got)
			}
			if tc.conflict && !errors.Is(got, overlap) {
				t.Fatal("the conflict lost its cause for the log")
			}
		})
	}
}
