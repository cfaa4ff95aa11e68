package dashboard

import (
	"database/sql"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/goals"
)

// The dashboard's four queries. Each joins the clients table through
// clients.Scope, so authorization is part of every query, and each groups
// or lists over all the actor's active clients at once: the number of
// queries never depends on the number of clients.

// scanAll runs q and reads each row with scan. Reading columns by hand
// costs a fraction of GORM's reflection over the dashboard's thousands of rows.
func scanAll[T any](q *gorm.DB, scan func(*sql.Rows, *T) error) ([]T, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var r T
		if err := scan(rows, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// activeClients limits q, which joins clients, to the actor's active clients.
func activeClients(q *gorm.DB, a auth.Actor) *gorm.DB {
	return clients.Scope(q, a).Where("clients.status = ?", clients.StatusActive)
}

type clientRow struct {
	ID       uuid.UUID
	Name     string
	Status   string
	Timezone string
}

func loadClients(db *gorm.DB, a auth.Actor) ([]clientRow, error) {
	q := activeClients(db.Table("clients"), a).
		Select("clients.id, clients.name, clients.status, clients.timezone").
		Order("clients.name, clients.id")
	return scanAll(q, func(rows *sql.Rows, r *clientRow) error {
		return rows.Scan(&r.ID, &r.Name, &r.Status, &r.Timezone)
	})
}

// stepCountRow counts one goal's open and done steps. The overdue counts
// come in three cumulative buckets around UTC today: every time zone's
// today is UTC yesterday, today or tomorrow, so overdue picks one bucket per
// client zone in Go instead of a query per zone.
type stepCountRow struct {
	ClientID              uuid.UUID
	GoalID                uuid.UUID
	Open                  int
	DueBeforeUTCYesterday int
	DueBeforeUTCToday     int
	DueBeforeUTCTomorrow  int
	Done                  int
	DoneRecently          int
}

// overdue counts the open steps due before the client's today, dayShift
// days from UTC today (see dayShift).
func (r stepCountRow) overdue(dayShift int) int {
	switch {
	case dayShift < 0:
		return r.DueBeforeUTCYesterday
	case dayShift > 0:
		return r.DueBeforeUTCTomorrow
	}
	return r.DueBeforeUTCToday
}

func loadStepCounts(db *gorm.DB, a auth.Actor, utcToday date.Date, recentSince time.Time) ([]stepCountRow, error) {
	q := db.Table("action_steps AS s").
		Joins("JOIN clients ON clients.practice_id = s.practice_id AND clients.id = s.client_id").
		Select(`s.client_id, s.goal_id,
			COUNT(CASE WHEN s.status = 'open' THEN 1 END) AS open_steps,
			COUNT(CASE WHEN s.status = 'open' AND s.due_date < ? THEN 1 END) AS due_before_utc_yesterday,
			COUNT(CASE WHEN s.status = 'open' AND s.due_date < ? THEN 1 END) AS due_before_utc_today,
			COUNT(CASE WHEN s.status = 'open' AND s.due_date < ? THEN 1 END) AS due_before_utc_tomorrow,
			COUNT(CASE WHEN s.status = 'done' THEN 1 END) AS done_steps,
			COUNT(CASE WHEN s.status = 'done' AND s.completed_at >= ? THEN 1 END) AS done_recently`,
			utcToday.AddDays(-1), utcToday, utcToday.AddDays(1), recentSince).
		Where("s.practice_id = ? AND s.status IN ?", a.PracticeID, []string{"open", "done"})
	return scanAll(activeClients(q, a).Group("s.client_id, s.goal_id"), func(rows *sql.Rows, r *stepCountRow) error {
		return rows.Scan(&r.ClientID, &r.GoalID, &r.Open, &r.DueBeforeUTCYesterday, &r.DueBeforeUTCToday,
			&r.DueBeforeUTCTomorrow, &r.Done, &r.DoneRecently)
	})
}

// goalRow is an active goal with its metric and the latest progress value
// (by recorded_on, then id).
type goalRow struct {
	ID             uuid.UUID
	ClientID       uuid.UUID
	Title          string
	MetricUnit     *string
	MetricBaseline *float64
	MetricTarget   *float64
	LatestValue    *float64
}

// metric is the goal's metric, nil when it has none.
func (r goalRow) metric() *goals.Metric {
	if r.MetricUnit == nil || r.MetricBaseline == nil || r.MetricTarget == nil {
		return nil
	}
	return &goals.Metric{Unit: *r.MetricUnit, Baseline: *r.MetricBaseline, Target: *r.MetricTarget}
}

func loadActiveGoals(db *gorm.DB, a auth.Actor) ([]goalRow, error) {
	q := db.Table("goals AS g").
		Joins("JOIN clients ON clients.practice_id = g.practice_id AND clients.id = g.client_id").
		Select(`g.id, g.client_id, g.title, g.metric_unit, g.metric_baseline, g.metric_target,
			(SELECT p.value FROM goal_progress p WHERE p.practice_id = g.practice_id AND p.goal_id = g.id
				ORDER BY p.recorded_on DESC, p.id DESC LIMIT 1) AS latest_value`).
		Where("g.practice_id = ? AND g.status = ?", a.PracticeID, "active")
	return scanAll(activeClients(q, a).Order("g.client_id, g.id"), func(rows *sql.Rows, r *goalRow) error {
		return rows.Scan(&r.ID, &r.ClientID, &r.Title, &r.MetricUnit, &r.MetricBaseline, &r.MetricTarget, &r.LatestValue)
	})
}

// sessionTimesRow is a client's last and next session. The times are
// aggregates, which SQLite returns as text: dbTime reads both forms.
type sessionTimesRow struct {
	ClientID uuid.UUID
	LastAt   dbTime
	NextAt   dbTime
}

func loadSessionTimes(db *gorm.DB, a auth.Actor, now time.Time) ([]sessionTimesRow, error) {
	q := db.Table("coaching_sessions AS cs").
		Joins("JOIN clients ON clients.practice_id = cs.practice_id AND clients.id = cs.client_id").
		Select(`cs.client_id,
			MAX(CASE WHEN cs.starts_at <= ? THEN cs.starts_at END) AS last_at,
			MIN(CASE WHEN cs.starts_at > ? AND cs.status = 'scheduled' THEN cs.starts_at END) AS next_at`, now, now).
		Where("cs.practice_id = ? AND cs.status IN ?", a.PracticeID, []string{"completed", "scheduled"})
	return scanAll(activeClients(q, a).Group("cs.client_id"), func(rows *sql.Rows, r *sessionTimesRow) error {
		return rows.Scan(&r.ClientID, &r.LastAt, &r.NextAt)
	})
}
