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
