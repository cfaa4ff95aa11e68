package sessions

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/webhooks"
)

// NewSession is what a coach sends to schedule a session.
type NewSession struct {
	StartsAt        time.Time
	DurationMinutes int
	Location        *string
	Agenda          *string
}

// Schedule books a session with a client the actor coaches (any client, for
// the owner). The session's coach is the client's assigned coach at this
// moment; the coach must be free for the whole session.
func (s *Service) Schedule(ctx context.Context, a auth.Actor, clientID uuid.UUID, in NewSession) (Session, error) {
	if !clients.CanManage(a) {
		return Session{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may schedule sessions.")
	}
	var fields apperr.Fields
	row := sessionRow{ID: newID(), PracticeID: a.PracticeID, ClientID: clientID, Status: StatusScheduled, Version: 1}
	row.StartsAt = checkStart(in.StartsAt, &fields)
	row.DurationMinutes = checkDuration(in.DurationMinutes, &fields)
	row.EndsAt = endOf(row.StartsAt, row.DurationMinutes)
	row.Location = input.OptionalLine(in.Location, "location", maxLocationChars, &fields)
	row.Agenda = input.OptionalText(in.Agenda, "agenda", maxAgendaChars, &fields)
	if err := fields.Err(); err != nil {
		return Session{}, err
	}
	var out Session
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		client, err := clients.Visible(tx, a, clientID)
		if err != nil {
			return err
		}
		if client.Status == clients.StatusArchived {
			return apperr.New(apperr.Conflict, "This client is archived; restore them before scheduling.")
		}
		row.CoachID = client.CoachID
		if err := s.requireFree(tx, row.CoachID, row.ID, row.StartsAt, row.EndsAt); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		row.CreatedAt, row.UpdatedAt = now, now
		if err := tx.Create(&row).Error; err != nil {
			return bookingError(err)
		}
		if err := s.audit(ctx, tx, a, "session.scheduled", row.ID, now); err != nil {
			return err
		}
		if out, err = load(tx, a, row.ID); err != nil {
			return err
		}
		return s.emit(ctx, tx, a.PracticeID, webhooks.SessionScheduled, out)
	})
	return out, err
}

// Change is a partial update of a session.
type Change struct {
	StartsAt        patch.Field[time.Time]
	DurationMinutes patch.Field[int]
	Location        patch.Field[string] // nil Value: clear
	Agenda          patch.Field[string] // nil Value: clear
	Summary         patch.Field[string] // nil Value: clear
	Status          patch.Field[string]
	IfMatch         *string
}

// transitions are the status changes a session may make. A held session
// (completed) or a missed one (no_show) is history and stays so; a
// cancelled one may be put back on the calendar if the coach is still free.
var transitions = map[string]map[string]bool{
	StatusScheduled: {StatusCompleted: true, StatusCancelled: true, StatusNoShow: true},
	StatusCancelled: {StatusScheduled: true},
}

func checkTransition(from, to string) error {
	switch {
	case to != StatusScheduled && to != StatusCompleted && to != StatusCancelled && to != StatusNoShow:
		return apperr.Validation(apperr.FieldError{Field: "status", Message: "must be scheduled, completed, cancelled or no_show"})
	case from == to || transitions[from][to]:
		return nil
	}
	return apperr.New(apperr.Conflict, "A "+from+" session cannot become "+to+".")
}

// Update reschedules a session, changes its status, or edits its location,
// agenda and shared summary. A session that is (or becomes) scheduled and
// moves, or returns to the calendar, must not overlap another of its coach.
func (s *Service) Update(ctx context.Context, a auth.Actor, id uuid.UUID, c Change) (Session, error) {
	if !clients.CanManage(a) {
		return Session{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may change a session.")
	}
	var fields apperr.Fields
	set := map[string]any{}
	var start time.Time
	var duration int
	if c.StartsAt.Set {
		start = checkStart(deref(c.StartsAt.Value), &fields)
		set["starts_at"] = start
	}
	if c.DurationMinutes.Set {
		duration = checkDuration(deref(c.DurationMinutes.Value), &fields)
		set["duration_minutes"] = duration
	}
	if c.Location.Set {
		set["location"] = input.OptionalLine(c.Location.Value, "location", maxLocationChars, &fields)
	}
	if c.Agenda.Set {
		set["agenda"] = input.OptionalText(c.Agenda.Value, "agenda", maxAgendaChars, &fields)
	}
	if c.Summary.Set {
		set["summary"] = input.OptionalText(c.Summary.Value, "summary", maxSummaryChars, &fields)
	}
	if c.Status.Set {
		set["status"] = deref(c.Status.Value)
	}
	if err := fields.Err(); err != nil {
		return Session{}, err
	}
	if len(set) == 0 {
		return Session{}, apperr.Validation(apperr.FieldError{Field: "body", Message: "names no field to change"})
	}
	var out Session
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := lockVisible(tx, a, id)
		if err != nil {
			return err
		}
		if err := store.CheckIfMatch(c.IfMatch, store.ETag(cur.Version)); err != nil {
			return err
		}
		status := cur.Status
		if c.Status.Set {
			if err := checkTransition(cur.Status, deref(c.Status.Value)); err != nil {
				return err
			}
			status = deref(c.Status.Value)
		}
		moved := c.StartsAt.Set || c.DurationMinutes.Set
		if !c.StartsAt.Set {
			start = cur.StartsAt.UTC()
		}
		if !c.DurationMinutes.Set {
			duration = cur.DurationMinutes
		}
		end := endOf(start, duration)
		if moved {
			set["ends_at"] = end
		}
		if status == StatusScheduled && (moved || cur.Status != StatusScheduled) {
			if err := s.requireFree(tx, cur.CoachID, id, start, end); err != nil {
				return err
			}
		}
		now := s.c.Clock.Now()
		if err := store.UpdateVersioned(tx, &sessionRow{}, a.PracticeID, id, cur.Version, set, now); err != nil {
			return bookingError(err)
		}
		if err := s.audit(ctx, tx, a, "session.updated", id, now); err != nil {
			return err
		}
		if out, err = load(tx, a, id); err != nil {
			return err
		}
		switch {
		case status == StatusCancelled && cur.Status != StatusCancelled:
			return s.emit(ctx, tx, a.PracticeID, webhooks.SessionCancelled, out)
		case status == StatusScheduled && cur.Status == StatusCancelled:
			return s.emit(ctx, tx, a.PracticeID, webhooks.SessionScheduled, out)
		}
		return nil
	})
	return out, err
}

// lockVisible reads a session the actor may see and, on PostgreSQL, locks
// its row for the rest of the transaction, so that a change computed from it
// (ends_at from starts_at and duration) cannot interleave with another.
// SQLite's single writer needs no row lock.
func lockVisible(tx *gorm.DB, a auth.Actor, id uuid.UUID) (sessionRow, error) {
	var r sessionRow
	err := visible(tx, a).Select(publicColumns).Where("coaching_sessions.id = ?", id).
		Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "coaching_sessions"}}).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return sessionRow{}, ErrNotFound
	}
	return r, err
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
