package goals

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/page"
)

// ProgressEntry is one dated value of a goal's metric.
type ProgressEntry struct {
	ID         uuid.UUID
	GoalID     uuid.UUID
	RecordedOn date.Date
	Value      float64
	Note       *string
	CreatedAt  time.Time
}

// NewProgress is a value to record. RecordedOn defaults to the client's today.
type NewProgress struct {
	RecordedOn *date.Date
	Value      float64
	Note       *string
}

// RecordProgress records a value of a goal's metric. The goal must have a
// metric, and the date may not be later than the client's today.
func (s *Service) RecordProgress(ctx context.Context, a auth.Actor, goalID uuid.UUID, in NewProgress) (ProgressEntry, error) {
	var fields apperr.Fields
	input.Number(in.Value, "value", MetricLimit, &fields)
	input.OptionalDate(in.RecordedOn, "recorded_on", &fields)
	note := input.OptionalText(in.Note, "note", 2000, &fields)
	if err := fields.Err(); err != nil {
		return ProgressEntry{}, err
	}
	var row progressRow
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		g, err := visibleGoal(tx, a, goalID)
		if err != nil {
			return err
		}
		if !g.Metric {
			return apperr.Validation(apperr.FieldError{Field: "value", Message: "the goal has no metric; give it one first"})
		}
		now := s.c.Clock.Now()
		today := date.Today(now, g.location())
		on := today
		if in.RecordedOn != nil {
			on = *in.RecordedOn
		}
		if today.Before(on) {
			return apperr.Validation(apperr.FieldError{Field: "recorded_on", Message: "must not be later than the client's today, " + today.String()})
		}
		row = progressRow{ID: newID(), PracticeID: a.PracticeID, GoalID: g.ID, RecordedOn: on, Value: in.Value,
			Note: note, CreatedBy: a.UserID, CreatedAt: now}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "goal.progress_recorded", "goal", g.ID, now)
	})
	if err != nil {
		return ProgressEntry{}, err
	}
	return ProgressEntry{ID: row.ID, GoalID: row.GoalID, RecordedOn: row.RecordedOn, Value: row.Value,
		Note: row.Note, CreatedAt: row.CreatedAt}, nil
}

// progressKey is an entry's place in a goal's history: its date, then its
// ID (UUIDv7, so the order it was recorded in on one date).
func progressKey(e ProgressEntry) page.Key {
	return page.Key{At: e.RecordedOn.Time(time.UTC), ID: e.ID}
}

// ListProgress returns a page of the entries of a goal the actor may see,
// oldest first: by the date they are for, then by when they were recorded.
// Whoever may see the goal sees its entries, notes included. One statement
// reads the goal as the actor may see it, left joined to the page of its
// entries: no row at all is a goal the actor may not see (404); a row
// without an entry, a goal without entries (an empty page).
func (s *Service) ListProgress(ctx context.Context, a auth.Actor, goalID uuid.UUID, pr page.TimedRequest) ([]ProgressEntry, *string, error) {
	// The keyset belongs to the join: in WHERE it would drop the goal's row
	// on the page after the last.
	on := "goal_progress.practice_id = goals.practice_id AND goal_progress.goal_id = goals.id"
	var args []any
	if k := pr.After; k != nil {
		after := date.Of(k.At)
		on += " AND (goal_progress.recorded_on > ? OR (goal_progress.recorded_on = ? AND goal_progress.id > ?))"
		args = append(args, after, after, k.ID)
	}
	q := scopedGoals(s.c.Store.DB.WithContext(ctx), a).Where("goals.id = ?", goalID).
		Joins("LEFT JOIN goal_progress ON "+on, args...).
		Select(progressListColumns).Order("goal_progress.recorded_on, goal_progress.id").Limit(pr.Limit + 1)
	rows, err := q.Rows()
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var (
		visible bool
		list    = make([]ProgressEntry, 0, pr.Limit+1)
	)
	for rows.Next() {
		var (
			e       ProgressEntry
			id      *uuid.UUID
			day     *date.Date
			value   *float64
			created *time.Time
		)
		if err := rows.Scan(&e.GoalID, &id, &day, &value, &e.Note, &created); err != nil {
			return nil, nil, err
		}
		visible = true
		if id != nil && day != nil && value != nil && created != nil {
			e.ID, e.RecordedOn, e.Value, e.CreatedAt = *id, *day, *value, created.UTC()
			list = append(list, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	if !visible {
		return nil, nil, ErrGoalNotFound
	}
	list, next := page.TrimTimed(list, pr.Limit, progressKey)
	return list, next, nil
}

// progressListColumns are what ListProgress reads, in the order it scans
// them; the entry's columns are NULL for a goal without one.
const progressListColumns = `goals.id, goal_progress.id, goal_progress.recorded_on, goal_progress.value,
	goal_progress.note, goal_progress.created_at`
