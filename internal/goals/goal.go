package goals

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store"
)

// Goal statuses.
const (
	GoalActive   = "active"
	GoalAchieved = "achieved"
	GoalReleased = "released"
)

// ErrGoalNotFound is the answer for a goal the actor may not see.
var ErrGoalNotFound = apperr.New(apperr.NotFound, "Goal not found.")

// Metric is how a goal is measured: a unit and the way from baseline to target.
type Metric struct {
	Unit     string
	Baseline float64
	Target   float64
}

// Goal is what a client wants, why, and how far they have come.
type Goal struct {
	ID              uuid.UUID
	ClientID        uuid.UUID
	Title           string
	Description     *string
	Why             string
	TargetDate      *date.Date
	Status          string
	Metric          *Metric
	CurrentValue    *float64 // the latest progress entry's value
	ProgressPercent float64
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ETag is the goal's HTTP entity tag: its version, and its progress, which
// changes with its steps and progress entries rather than with the goal.
func (g Goal) ETag() string {
	current := ""
	if g.CurrentValue != nil {
		current = strconv.FormatFloat(*g.CurrentValue, 'g', -1, 64)
	}
	return store.ETag(g.Version, current, strconv.FormatFloat(g.ProgressPercent, 'g', -1, 64))
}

// matchedVersion applies an If-Match to the goal as the actor sees it and
// returns the version a change must find (store.AnyVersion without one).
func matchedVersion(tx *gorm.DB, a auth.Actor, id uuid.UUID, ifMatch *string) (int64, error) {
	if ifMatch == nil {
		return store.AnyVersion, nil
	}
	g, err := loadGoal(tx, a, id)
	if err != nil {
		return 0, err
	}
	return g.Version, store.CheckIfMatch(ifMatch, g.ETag())
}

func toGoal(r goalRow) Goal {
	g := Goal{ID: r.ID, ClientID: r.ClientID, Title: r.Title, Description: r.Description, Why: r.Why,
		TargetDate: r.TargetDate, Status: r.Status, CurrentValue: r.CurrentValue, Version: r.Version,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.MetricUnit != nil && r.MetricBaseline != nil && r.MetricTarget != nil {
		g.Metric = &Metric{Unit: *r.MetricUnit, Baseline: *r.MetricBaseline, Target: *r.MetricTarget}
	}
	g.ProgressPercent = ProgressPercent(g.Metric, g.CurrentValue, r.StepsOpen, r.StepsDone)
	return g
}

// goalColumns reads a goal with what its progress needs, in the same query.
const goalColumns = "goals.*, " + progressColumns

// progressColumns are what a goal's progress needs: correlated subqueries
// cost one statement however many goals a page holds, and read the same on
// PostgreSQL and SQLite.
const progressColumns = `(SELECT p.value FROM goal_progress p WHERE p.goal_id = goals.id AND p.practice_id = goals.practice_id
		ORDER BY p.recorded_on DESC, p.id DESC LIMIT 1) AS current_value,
	(SELECT COUNT(*) FROM action_steps s WHERE s.goal_id = goals.id AND s.practice_id = goals.practice_id
		AND s.status = 'open') AS steps_open,
	(SELECT COUNT(*) FROM action_steps s WHERE s.goal_id = goals.id AND s.practice_id = goals.practice_id
		AND s.status = 'done') AS steps_done`

// scopedGoals is the goals the actor may see: reached through their client.
func scopedGoals(db *gorm.DB, a auth.Actor) *gorm.DB {
	q := db.Table("goals").Joins("JOIN clients ON clients.practice_id = goals.practice_id AND clients.id = goals.client_id")
	return clients.Scope(q, a)
}

func loadGoal(db *gorm.DB, a auth.Actor, id uuid.UUID) (Goal, error) {
	var r goalRow
	err := scopedGoals(db, a).Select(goalColumns).Where("goals.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Goal{}, ErrGoalNotFound
	}
	if err != nil {
		return Goal{}, err
	}
	return toGoal(r), nil
}

// goalRef is what operations on a goal's children need of it.
type goalRef struct {
	ID        uuid.UUID
	ClientID  uuid.UUID
	Timezone  string
	Metric    bool
	CreatedBy uuid.UUID
}

// mayReshape reports whether the actor may change or delete a record the
// user createdBy made. Staff may; a client may reshape only what they set
// themselves — a goal or step agreed with the coach is changed with the
// coach. (Clients still complete, reflect on and edit their steps.)
func mayReshape(a auth.Actor, createdBy uuid.UUID) error {
	if a.IsStaff() || createdBy == a.UserID {
		return nil
	}
	return apperr.New(apperr.Forbidden, "This was set with your coach; change it together with them.")
}

func (g goalRef) location() *time.Location { return clients.Ref{Timezone: g.Timezone}.Location() }

// visibleGoal finds a goal the actor may see, without its progress.
func visibleGoal(db *gorm.DB, a auth.Actor, id uuid.UUID) (goalRef, error) {
	var r goalRef
	err := scopedGoals(db, a).Where("goals.id = ?", id).
		Select("goals.id, goals.client_id, clients.timezone, goals.metric_unit IS NOT NULL AS metric, goals.created_by").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return goalRef{}, ErrGoalNotFound
	}
	return r, err
}

// ListGoals returns a page of a client's goals, oldest first, optionally
// only those in one status.
func (s *Service) ListGoals(ctx context.Context, a auth.Actor, clientID uuid.UUID, status *string, pr page.Request) ([]Goal, *string, error) {
	if status != nil {
		var fields apperr.Fields
		oneOf(*status, "status", &fields, GoalActive, GoalAchieved, GoalReleased)
		if err := fields.Err(); err != nil {
			return nil, nil, err
		}
	}
	db := s.c.Store.DB.WithContext(ctx)
	if _, err := clients.Visible(db, a, clientID); err != nil {
		return nil, nil, err
	}
	q := scopedGoals(db, a).Select(goalColumns).Where("goals.client_id = ?", clientID)
	if status != nil {
		q = q.Where("goals.status = ?", *status)
	}
	if pr.After != uuid.Nil {
		q = q.Where("goals.id > ?", pr.After)
	}
	var rows []goalRow
	if err := q.Order("goals.id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r goalRow) uuid.UUID { return r.ID })
	out := make([]Goal, len(rows))
	for i, r := range rows {
		out[i] = toGoal(r)
	}
	return out, next, nil
}

// NewGoal is a goal as the coach or the client sets it.
type NewGoal struct {
	Title       string
	Description *string
	Why         string
	TargetDate  *date.Date
	Status      *string
	Metric      *Metric
}

// CreateGoal sets a goal for a client the actor may see.
func (s *Service) CreateGoal(ctx context.Context, a auth.Actor, clientID uuid.UUID, in NewGoal) (Goal, error) {
	var fields apperr.Fields
	row := goalRow{ID: newID(), PracticeID: a.PracticeID, ClientID: clientID, CreatedBy: a.UserID, Version: 1}
	row.Title = input.Line(in.Title, "title", 200, &fields)
	row.Description = input.OptionalText(in.Description, "description", 5000, &fields)
	row.Why = input.Text(in.Why, "why", 5000, &fields)
	row.TargetDate = input.OptionalDate(in.TargetDate, "target_date", &fields)
	row.Status = GoalActive
	if in.Status != nil {
		row.Status = oneOf(*in.Status, "status", &fields, GoalActive, GoalAchieved, GoalReleased)
	}
	if in.Metric != nil {
		m := checkMetric(*in.Metric, &fields)
		row.MetricUnit, row.MetricBaseline, row.MetricTarget = &m.Unit, &m.Baseline, &m.Target
	}
	if err := fields.Err(); err != nil {
		return Goal{}, err
	}
	var out Goal
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := clients.Visible(tx, a, clientID); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		row.CreatedAt, row.UpdatedAt = now, now
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "goal.created", "goal", row.ID, now); err != nil {
			return err
		}
		var err error
		out, err = loadGoal(tx, a, row.ID)
		return err
	})
	return out, err
}

// GetGoal returns a goal the actor may see, with its progress.
func (s *Service) GetGoal(ctx context.Context, a auth.Actor, id uuid.UUID) (Goal, error) {
	return loadGoal(s.c.Store.DB.WithContext(ctx), a, id)
}

// GoalChange is a partial update of a goal. Description, TargetDate and
// Metric may be cleared; the others only set.
type GoalChange struct {
	Title       patch.Field[string]
	Description patch.Field[string]
	Why         patch.Field[string]
	TargetDate  patch.Field[date.Date]
	Status      patch.Field[string]
	Metric      patch.Field[Metric]
	IfMatch     *string
}

// UpdateGoal changes a goal the actor may see.
func (s *Service) UpdateGoal(ctx context.Context, a auth.Actor, id uuid.UUID, c GoalChange) (Goal, error) {
	var fields apperr.Fields
	set := map[string]any{}
	if c.Title.Set {
		set["title"] = input.Line(deref(c.Title.Value), "title", 200, &fields)
	}
	if c.Description.Set {
		set["description"] = orNil(input.OptionalText(c.Description.Value, "description", 5000, &fields))
	}
	if c.Why.Set {
		set["why"] = input.Text(deref(c.Why.Value), "why", 5000, &fields)
	}
	if c.TargetDate.Set {
		set["target_date"] = orNil(input.OptionalDate(c.TargetDate.Value, "target_date", &fields))
	}
	if c.Status.Set {
		set["status"] = oneOf(deref(c.Status.Value), "status", &fields, GoalActive, GoalAchieved, GoalReleased)
	}
	if c.Metric.Set {
		set["metric_unit"], set["metric_baseline"], set["metric_target"] = nil, nil, nil
		if c.Metric.Value != nil {
			m := checkMetric(*c.Metric.Value, &fields)
			set["metric_unit"], set["metric_baseline"], set["metric_target"] = m.Unit, m.Baseline, m.Target
		}
	}
	if err := fields.Err(); err != nil {
		return Goal{}, err
	}
	if len(set) == 0 {
		return Goal{}, apperr.Validation(apperr.FieldError{Field: "body", Message: "names no field to change"})
	}
	var out Goal
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		g, err := visibleGoal(tx, a, id)
		if err != nil {
			return err
		}
		version, err := matchedVersion(tx, a, id, c.IfMatch)
		if err != nil {
			return err
		}
		if err := mayReshape(a, g.CreatedBy); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		if err := store.UpdateVersioned(tx, &goalRow{}, a.PracticeID, id, version, set, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "goal.updated", "goal", id, now); err != nil {
			return err
		}
		out, err = loadGoal(tx, a, id)
		return err
	})
	return out, err
}

// DeleteGoal deletes a goal with its action steps and progress entries (a
// client may delete only a goal they set themselves).
// Each deleted step gets its own audit event; progress entries are audited
// under their goal.
func (s *Service) DeleteGoal(ctx context.Context, a auth.Actor, id uuid.UUID, ifMatch *string) error {
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		g, err := visibleGoal(tx, a, id)
		if err != nil {
			return err
		}
		version, err := matchedVersion(tx, a, id, ifMatch)
		if err != nil {
			return err
		}
		if err := mayReshape(a, g.CreatedBy); err != nil {
			return err
		}
		var stepIDs []uuid.UUID
		if err := tx.Model(&stepRow{}).Where("practice_id = ? AND goal_id = ?", a.PracticeID, id).
			Order("id").Pluck("id", &stepIDs).Error; err != nil {
			return err
		}
		if err := tx.Where("practice_id = ? AND goal_id = ?", a.PracticeID, id).Delete(&stepRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("practice_id = ? AND goal_id = ?", a.PracticeID, id).Delete(&progressRow{}).Error; err != nil {
			return err
		}
		del := tx.Where("practice_id = ? AND id = ?", a.PracticeID, id)
		if version != store.AnyVersion {
			del = del.Where("version = ?", version) // changed meanwhile: nothing of it is deleted
		}
		if res := del.Delete(&goalRow{}); res.Error != nil {
			return res.Error
		} else if res.RowsAffected == 0 {
			return store.ErrStale
		}
		now := s.c.Clock.Now()
		for _, stepID := range stepIDs {
			if err := s.audit(ctx, tx, a, "action_step.deleted", "action_step", stepID, now); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "goal.deleted", "goal", id, now)
	})
}

func (s *Service) audit(ctx context.Context, tx *gorm.DB, a auth.Actor, action, recordType string, id uuid.UUID, now time.Time) error {
	return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: action,
		RecordType: recordType, RecordID: id, At: now})
}
