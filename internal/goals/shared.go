package goals

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/date"
)

// The reads in this file serve a therapist under a client's consent. They
// take no actor: the consent module authorizes the read (consent.Check) in
// the same transaction tx and passes the client the consent names. Each
// selects only the columns a consent may share, so nothing else can reach
// the therapist's response by mistake: a goal's description and the
// client's reflections on their steps are never read here.

// SharedGoal is a goal as a consented therapist sees it.
type SharedGoal struct {
	ID              uuid.UUID
	Title           string
	Why             string
	Status          string
	TargetDate      *date.Date
	ProgressPercent float64
}

// sharedGoalRow is a goal's shareable columns with what its progress needs.
type sharedGoalRow struct {
	ID             uuid.UUID
	Title          string
	Why            string
	Status         string
	TargetDate     *date.Date
	MetricUnit     *string
	MetricBaseline *float64
	MetricTarget   *float64
	CurrentValue   *float64
	StepsOpen      int64
	StepsDone      int64
}

// SharedGoals reads every goal of the client, oldest first, with its
// progress, in one query.
func SharedGoals(tx *gorm.DB, practiceID, clientID uuid.UUID) ([]SharedGoal, error) {
	var rows []sharedGoalRow
	err := tx.Table("goals").
		Select("goals.id, goals.title, goals.why, goals.status, goals.target_date, goals.metric_unit, "+
			"goals.metric_baseline, goals.metric_target, "+progressColumns).
		Where("goals.practice_id = ? AND goals.client_id = ?", practiceID, clientID).
		Order("goals.id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]SharedGoal, len(rows))
	for i, r := range rows {
		var m *Metric
		if r.MetricUnit != nil && r.MetricBaseline != nil && r.MetricTarget != nil {
			m = &Metric{Unit: *r.MetricUnit, Baseline: *r.MetricBaseline, Target: *r.MetricTarget}
		}
		out[i] = SharedGoal{ID: r.ID, Title: r.Title, Why: r.Why, Status: r.Status, TargetDate: r.TargetDate,
			ProgressPercent: ProgressPercent(m, r.CurrentValue, r.StepsOpen, r.StepsDone)}
	}
	return out, nil
}

// SharedStep is an action step as a consented therapist sees it: what it
// is, where it stands and when it was done — never the client's reflection.
type SharedStep struct {
	ID          uuid.UUID
	GoalID      uuid.UUID
	Title       string
	Status      string
	DueDate     *date.Date
	CompletedAt *time.Time
}

// sharedStepRow is a step's shareable columns.
type sharedStepRow struct {
	ID          uuid.UUID
	GoalID      uuid.UUID
	Title       string
	Status      string
	DueDate     *date.Date
	CompletedAt *time.Time
}

// SharedSteps reads every action step of the client, oldest first, in one
// query.
func SharedSteps(tx *gorm.DB, practiceID, clientID uuid.UUID) ([]SharedStep, error) {
	var rows []sharedStepRow
	err := tx.Table("action_steps").
		Select("action_steps.id, action_steps.goal_id, action_steps.title, action_steps.status, "+
			"action_steps.due_date, action_steps.completed_at").
		Where("action_steps.practice_id = ? AND action_steps.client_id = ?", practiceID, clientID).
		Order("action_steps.id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]SharedStep, len(rows))
	for i, r := range rows {
		out[i] = SharedStep{ID: r.ID, GoalID: r.GoalID, Title: r.Title, Status: r.Status, DueDate: r.DueDate,
			CompletedAt: utcPtr(r.CompletedAt)}
	}
	return out, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
