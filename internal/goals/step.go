package goals

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store"
)

// Action step statuses.
const (
	StepOpen    = "open"
	StepDone    = "done"
	StepSkipped = "skipped"
)

// Recurrences of an action step.
const (
	RecurNone   = "none"
	RecurDaily  = "daily"
	RecurWeekly = "weekly"
)

// ErrStepNotFound is the answer for a step the actor may not see.
var ErrStepNotFound = apperr.New(apperr.NotFound, "Action step not found.")

// errCalendarEnds refuses to close a recurring step whose next occurrence
// would fall after date.Latest, the last date Tandem stores.
var errCalendarEnds = apperr.New(apperr.Conflict, "The next occurrence of this step would be due after "+
	date.Latest.String()+", the last date Tandem keeps; stop the recurrence or give the step an earlier due date.")

// Step is an action step towards a goal.
type Step struct {
	ID               uuid.UUID
	GoalID           uuid.UUID
	ClientID         uuid.UUID
	Title            string
	Details          *string
	DueDate          *date.Date
	Recurrence       string
	Status           string
	Overdue          bool // open and due before today in the client's time zone
	CompletedAt      *time.Time
	Reflection       *string
	NextOccurrenceID *uuid.UUID
	Version          int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// ETag is the step's HTTP entity tag: its version, and whether it is
// overdue, which changes with the date alone.
func (s Step) ETag() string { return store.ETag(s.Version, strconv.FormatBool(s.Overdue)) }

// locations caches the time zones of the clients whose steps are converted
// together (a page of steps usually belongs to one client).
type locations map[string]*time.Location

func (l locations) of(tz string) *time.Location {
	if loc, ok := l[tz]; ok {
		return loc
	}
	loc := clients.Ref{Timezone: tz}.Location()
	l[tz] = loc
	return loc
}

// Overdue reports whether a step in status with due date due is overdue
// when it is now in loc, the client's time zone.
func Overdue(status string, due *date.Date, now time.Time, loc *time.Location) bool {
	return status == StepOpen && due != nil && due.Before(date.Today(now, loc))
}

func toStep(r stepRow, now time.Time, locs locations) Step {
	return Step{ID: r.ID, GoalID: r.GoalID, ClientID: r.ClientID, Title: r.Title, Details: r.Details, DueDate: r.DueDate,
		Recurrence: r.Recurrence, Status: r.Status, Overdue: Overdue(r.Status, r.DueDate, now, locs.of(r.ClientTimezone)),
		CompletedAt: r.CompletedAt, Reflection: r.Reflection, NextOccurrenceID: r.NextOccurrenceID, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// scopedSteps is the steps the actor may see, reached through their
// client, with the client's time zone.
func scopedSteps(db *gorm.DB, a auth.Actor) *gorm.DB {
	q := db.Table("action_steps").
		Joins("JOIN clients ON clients.practice_id = action_steps.practice_id AND clients.id = action_steps.client_id")
	return clients.Scope(q, a).Select("action_steps.*, clients.timezone AS client_timezone")
}

// findStep reads a step the actor may see. With lock, the row stays locked
// (PostgreSQL) until the transaction ends, so a status check holds until the
// write; SQLite serialises writing transactions anyway.
func findStep(db *gorm.DB, a auth.Actor, id uuid.UUID, lock bool) (stepRow, error) {
	q := scopedSteps(db, a).Where("action_steps.id = ?", id)
	if lock {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "action_steps"}})
	}
	var r stepRow
	err := q.Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return stepRow{}, ErrStepNotFound
	}
	return r, err
}

func (s *Service) listSteps(q *gorm.DB, pr page.Request) ([]Step, *string, error) {
	if pr.After != uuid.Nil {
		q = q.Where("action_steps.id > ?", pr.After)
	}
	var rows []stepRow
	if err := q.Order("action_steps.id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	return s.toSteps(rows, pr)
}

// toSteps converts a page of rows, fetched with pr.Limit+1, to steps and
// the cursor of the next page.
func (s *Service) toSteps(rows []stepRow, pr page.Request) ([]Step, *string, error) {
	rows, next := page.Trim(rows, pr.Limit, func(r stepRow) uuid.UUID { return r.ID })
	now, locs := s.c.Clock.Now(), locations{}
	out := make([]Step, len(rows))
	for i, r := range rows {
		out[i] = toStep(r, now, locs)
	}
	return out, next, nil
}

// ListGoalSteps returns a page of a goal's steps, oldest first.
func (s *Service) ListGoalSteps(ctx context.Context, a auth.Actor, goalID uuid.UUID, pr page.Request) ([]Step, *string, error) {
	db := s.c.Store.DB.WithContext(ctx)
	if _, err := visibleGoal(db, a, goalID); err != nil {
		return nil, nil, err
	}
	return s.listSteps(scopedSteps(db, a).Where("action_steps.goal_id = ?", goalID), pr)
}

// StepFilter narrows a client's steps.
type StepFilter struct {
	Status    *string
	DueBefore *date.Date // only steps due before this date
}

// ListClientSteps returns a page of a client's steps across goals, oldest
// first, in one statement: the client's row as the actor may see it, left
// joined to the page of its steps. No row at all is a client the actor may
// not see (404); a row without a step, a client with none (an empty page).
func (s *Service) ListClientSteps(ctx context.Context, a auth.Actor, clientID uuid.UUID, f StepFilter, pr page.Request) ([]Step, *string, error) {
	var fields apperr.Fields
	if f.Status != nil {
		oneOf(*f.Status, "status", &fields, StepOpen, StepDone, StepSkipped)
	}
	input.OptionalDate(f.DueBefore, "due_before", &fields)
	if err := fields.Err(); err != nil {
		return nil, nil, err
	}
	// The step conditions belong to the join: in WHERE they would drop the
	// client's row when no step matches.
	on, args := []string{"action_steps.practice_id = clients.practice_id", "action_steps.client_id = clients.id"}, []any{}
	if f.Status != nil {
		on, args = append(on, "action_steps.status = ?"), append(args, *f.Status)
	}
	if f.DueBefore != nil {
		on, args = append(on, "action_steps.due_date < ?"), append(args, *f.DueBefore)
	}
	if pr.After != uuid.Nil {
		on, args = append(on, "action_steps.id > ?"), append(args, pr.After)
	}
	q := clients.Scope(s.c.Store.DB.WithContext(ctx).Table("clients"), a).Where("clients.id = ?", clientID).
		Joins("LEFT JOIN action_steps ON "+strings.Join(on, " AND "), args...).
		Select(clientStepColumns).Order("action_steps.id").Limit(pr.Limit + 1)
	rows, err := q.Rows()
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		visible bool
		list    = make([]stepRow, 0, pr.Limit+1)
	)
	for rows.Next() {
		var (
			r                stepRow
			id               *uuid.UUID
			created, updated *time.Time
		)
		if err := rows.Scan(&r.ClientTimezone, &id, &r.GoalID, &r.ClientID, &r.Title, &r.Details, &r.DueDate,
			&r.Recurrence, &r.Status, &r.CompletedAt, &r.Reflection, &r.NextOccurrenceID, &r.Version,
			&created, &updated); err != nil {
			return nil, nil, err
		}
		visible = true
		if id != nil && created != nil && updated != nil {
			r.ID, r.CreatedAt, r.UpdatedAt = *id, *created, *updated
			list = append(list, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if !visible {
		return nil, nil, clients.ErrNotFound
	}
	return s.toSteps(list, pr)
}

// clientStepColumns are what ListClientSteps reads, in the order it scans
// them. The step's columns are NULL for a client without a matching step:
// COALESCE gives the text and number columns a value to scan, while times
// and the id are scanned into pointers (a SQLite expression would lose the
// column's type, and its time would arrive as text).
const clientStepColumns = `clients.timezone, action_steps.id,
	COALESCE(action_steps.goal_id, clients.id), COALESCE(action_steps.client_id, clients.id),
	COALESCE(action_steps.title, ''), action_steps.details, action_steps.due_date,
	COALESCE(action_steps.recurrence, ''), COALESCE(action_steps.status, ''), action_steps.completed_at,
	action_steps.reflection, action_steps.next_occurrence_id, COALESCE(action_steps.version, 0),
	action_steps.created_at, action_steps.updated_at`

// NewStep is an action step as the coach or the client adds it.
type NewStep struct {
	Title      string
	Details    *string
	DueDate    *date.Date
	Recurrence *string
}

// CreateStep adds a step to a goal the actor may see.
func (s *Service) CreateStep(ctx context.Context, a auth.Actor, goalID uuid.UUID, in NewStep) (Step, error) {
	var fields apperr.Fields
	row := stepRow{ID: newID(), PracticeID: a.PracticeID, GoalID: goalID, Status: StepOpen, CreatedBy: a.UserID, Version: 1}
	row.Title = input.Line(in.Title, "title", 200, &fields)
	row.Details = input.OptionalText(in.Details, "details", 5000, &fields)
	row.DueDate = input.OptionalDate(in.DueDate, "due_date", &fields)
	row.Recurrence = RecurNone
	if in.Recurrence != nil {
		row.Recurrence = oneOf(*in.Recurrence, "recurrence", &fields, RecurNone, RecurDaily, RecurWeekly)
	}
	if err := fields.Err(); err != nil {
		return Step{}, err
	}
	var out Step
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		g, err := visibleGoal(tx, a, goalID)
		if err != nil {
			return err
		}
		now := s.c.Clock.Now()
		row.ClientID = g.ClientID
		row.CreatedAt, row.UpdatedAt = now, now
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "action_step.created", "action_step", row.ID, now); err != nil {
			return err
		}
		out, err = s.loadStep(tx, a, row.ID)
		return err
	})
	return out, err
}

func (s *Service) loadStep(db *gorm.DB, a auth.Actor, id uuid.UUID) (Step, error) {
	r, err := findStep(db, a, id, false)
	if err != nil {
		return Step{}, err
	}
	return toStep(r, s.c.Clock.Now(), locations{}), nil
}

// GetStep returns a step the actor may see.
func (s *Service) GetStep(ctx context.Context, a auth.Actor, id uuid.UUID) (Step, error) {
	return s.loadStep(s.c.Store.DB.WithContext(ctx), a, id)
}

// StepChange is a partial update of a step. Details and DueDate may be
// cleared. Status may be open or skipped: done is for CompleteStep.
type StepChange struct {
	Title      patch.Field[string]
	Details    patch.Field[string]
	DueDate    patch.Field[date.Date]
	Recurrence patch.Field[string]
	Status     patch.Field[string]
	IfMatch    *string
}

// UpdateStep changes a step the actor may see. Skipping a recurring step,
// like completing it, creates its next occurrence, so a skipped day does
// not end a habit; setting a done step back to open works like ReopenStep.
func (s *Service) UpdateStep(ctx context.Context, a auth.Actor, id uuid.UUID, c StepChange) (Step, error) {
	var fields apperr.Fields
	set := map[string]any{}
	if c.Title.Set {
		set["title"] = input.Line(deref(c.Title.Value), "title", 200, &fields)
	}
	if c.Details.Set {
		set["details"] = orNil(input.OptionalText(c.Details.Value, "details", 5000, &fields))
	}
	if c.DueDate.Set {
		set["due_date"] = orNil(input.OptionalDate(c.DueDate.Value, "due_date", &fields))
	}
	if c.Recurrence.Set {
		set["recurrence"] = oneOf(deref(c.Recurrence.Value), "recurrence", &fields, RecurNone, RecurDaily, RecurWeekly)
	}
	if c.Status.Set {
		oneOf(deref(c.Status.Value), "status", &fields, StepOpen, StepSkipped)
	}
	if err := fields.Err(); err != nil {
		return Step{}, err
	}
	if len(set) == 0 && !c.Status.Set {
		return Step{}, apperr.Validation(apperr.FieldError{Field: "body", Message: "names no field to change"})
	}
	var out Step
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := findStep(tx, a, id, true)
		if err != nil {
			return err
		}
		now := s.c.Clock.Now()
		if err := store.CheckIfMatch(c.IfMatch, toStep(cur, now, locations{}).ETag()); err != nil {
			return err
		}
		skip := c.Status.Set && deref(c.Status.Value) == StepSkipped && cur.Status != StepSkipped
		if c.Status.Set && deref(c.Status.Value) != cur.Status {
			if cur.Status == StepDone && skip {
				// A field error, not a conflict: the contract declares no 409 for PATCH.
				return apperr.Validation(apperr.FieldError{Field: "status", Message: "a done step cannot be skipped; reopen it first"})
			}
			set = maps.Clone(set) // this function may run again (store.Tx retries): keep the caller's map as it was
			set["status"] = deref(c.Status.Value)
			set["completed_at"] = nil
		}
		if err := store.UpdateVersioned(tx, &stepRow{}, a.PracticeID, id, cur.Version, set, now); err != nil {
			return err
		}
		if skip {
			// The occurrence after a skipped one follows the step as changed.
			changed, err := findStep(tx, a, id, false)
			if err != nil {
				return err
			}
			if err := s.rollForward(ctx, tx, a, changed, now); errors.Is(err, errCalendarEnds) {
				// A field error, not a conflict: the contract declares no 409 for PATCH.
				return apperr.Validation(apperr.FieldError{Field: "status",
					Message: "cannot skip: the next occurrence would be due after " + date.Latest.String() + "; stop the recurrence first"})
			} else if err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, a, "action_step.updated", "action_step", id, now); err != nil {
			return err
		}
		out, err = s.loadStep(tx, a, id)
		return err
	})
	return out, err
}

// CompleteStep marks an open step done with the client's reflection. A
// recurring step gets its next occurrence.
func (s *Service) CompleteStep(ctx context.Context, a auth.Actor, id uuid.UUID, note *string) (Step, error) {
	var fields apperr.Fields
	reflection := input.OptionalText(note, "note", 5000, &fields)
	if err := fields.Err(); err != nil {
		return Step{}, err
	}
	var out Step
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := findStep(tx, a, id, true)
		if err != nil {
			return err
		}
		if cur.Status != StepOpen {
			return apperr.New(apperr.Conflict, "Only an open step can be completed; this one is "+cur.Status+".")
		}
		now := s.c.Clock.Now()
		set := map[string]any{"status": StepDone, "completed_at": now}
		if note != nil {
			set["reflection"] = orNil(reflection)
		}
		if err := store.UpdateVersioned(tx, &stepRow{}, a.PracticeID, id, store.AnyVersion, set, now); err != nil {
			return err
		}
		if err := s.rollForward(ctx, tx, a, cur, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "action_step.completed", "action_step", id, now); err != nil {
			return err
		}
		if out, err = s.loadStep(tx, a, id); err != nil {
			return err
		}
		return s.emitCompleted(ctx, tx, a.PracticeID, out, now)
	})
	return out, err
}

// rollForward creates the next occurrence of a recurring step that has just
// been closed (done or skipped) and points the step at it. A step that
// already has one (it was closed, reopened, and is closed again) keeps it.
// The version was bumped by the closing update in the same transaction.
func (s *Service) rollForward(ctx context.Context, tx *gorm.DB, a auth.Actor, r stepRow, now time.Time) error {
	if r.Recurrence == RecurNone || r.NextOccurrenceID != nil {
		return nil
	}
	base := date.Today(now, clients.Ref{Timezone: r.ClientTimezone}.Location())
	if r.DueDate != nil {
		base = *r.DueDate
	}
	due := NextDue(base, r.Recurrence)
	if !due.InRange() {
		return errCalendarEnds
	}
	next := stepRow{ID: newID(), PracticeID: r.PracticeID, ClientID: r.ClientID, GoalID: r.GoalID, Title: r.Title,
		Details: r.Details, DueDate: &due, Recurrence: r.Recurrence, Status: StepOpen, CreatedBy: a.UserID, Version: 1,
		CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&next).Error; err != nil {
		return err
	}
	if err := tx.Model(&stepRow{}).Where("practice_id = ? AND id = ?", r.PracticeID, r.ID).
		Updates(map[string]any{"next_occurrence_id": next.ID, "updated_at": now}).Error; err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "action_step.created", "action_step", next.ID, now)
}

// NextDue is the due date of the occurrence after one due on base.
func NextDue(base date.Date, recurrence string) date.Date {
	if recurrence == RecurWeekly {
		return base.AddDays(7)
	}
	return base.AddDays(1)
}

// ReopenStep sets a done or skipped step back to open. Its reflection stays;
// a next occurrence already created stays too.
func (s *Service) ReopenStep(ctx context.Context, a auth.Actor, id uuid.UUID) (Step, error) {
	var out Step
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := findStep(tx, a, id, true)
		if err != nil {
			return err
		}
		if cur.Status == StepOpen {
			return apperr.New(apperr.Conflict, "This step is already open.")
		}
		now := s.c.Clock.Now()
		set := map[string]any{"status": StepOpen, "completed_at": nil}
		if err := store.UpdateVersioned(tx, &stepRow{}, a.PracticeID, id, store.AnyVersion, set, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "action_step.reopened", "action_step", id, now); err != nil {
			return err
		}
		out, err = s.loadStep(tx, a, id)
		return err
	})
	return out, err
}

// DeleteStep deletes a step the actor may see (a client: one they created
// themselves). A step whose next
// occurrence it was forgets it, so closing that step again rolls forward anew.
func (s *Service) DeleteStep(ctx context.Context, a auth.Actor, id uuid.UUID, ifMatch *string) error {
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := findStep(tx, a, id, true)
		if err != nil {
			return err
		}
		now := s.c.Clock.Now()
		if err := store.CheckIfMatch(ifMatch, toStep(r, now, locations{}).ETag()); err != nil {
			return err
		}
		if err := mayReshape(a, r.CreatedBy); err != nil {
			return err
		}
		if err := tx.Where("practice_id = ? AND id = ?", a.PracticeID, id).Delete(&stepRow{}).Error; err != nil {
			return err
		}
		if err := tx.Model(&stepRow{}).Where("practice_id = ? AND next_occurrence_id = ?", a.PracticeID, id).
			Updates(map[string]any{"next_occurrence_id": nil, "version": gorm.Expr("version + 1"), "updated_at": now}).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "action_step.deleted", "action_step", id, now)
	})
}
