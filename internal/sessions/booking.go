package sessions

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/store"
)

// doubleBookingConstraint is PostgreSQL's exclusion constraint on
// coaching_sessions: no two scheduled sessions of one coach overlap.
const doubleBookingConstraint = "coaching_sessions_no_double_booking"

// sqlStateExclusionViolation is PostgreSQL's exclusion_violation.
const sqlStateExclusionViolation = "23P01"

// errDoubleBooked is the caller-safe message for an overlapping session.
const errDoubleBooked = "The coach already has a scheduled session that overlaps this time."

// bookingError turns a violation of the double-booking constraint into a
// conflict; other errors pass through.
func bookingError(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) && pg.Code == sqlStateExclusionViolation && pg.ConstraintName == doubleBookingConstraint {
		return &apperr.Error{Code: apperr.Conflict, Message: errDoubleBooked, Err: err}
	}
	return err
}

// requireFree refuses a scheduled session from start to end that overlaps
// another scheduled session of the coach (except, the session itself when
// it moves). Back-to-back sessions do not overlap: ranges are half-open.
//
// On PostgreSQL the exclusion constraint enforces this in the database, so
// concurrent writers cannot race past it; the write's error goes through
// bookingError. SQLite has no exclusion constraints: there the check is a
// query in the writing transaction, and SQLite's single writer (BEGIN
// IMMEDIATE) serialises check and write. Like the constraint, the check
// spans practices: a coach is one person, whatever practice books them.
func (s *Service) requireFree(tx *gorm.DB, coachID, except uuid.UUID, start, end time.Time) error {
	if s.c.Store.Dialect != store.SQLite {
		return nil
	}
	var n int64
	err := tx.Model(&sessionRow{}).
		Where("coach_id = ? AND status = ? AND id <> ? AND starts_at < ? AND ends_at > ?", coachID, StatusScheduled, except, end, start).
		Count(&n).Error
	if err != nil {
		return err
	}
	if n > 0 {
		return apperr.New(apperr.Conflict, errDoubleBooked)
	}
	return nil
}
