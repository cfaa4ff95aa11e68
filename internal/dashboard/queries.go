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

// The dashboard's three queries. Each reads the clients table through
// activeClients, so authorization is part of every query. The first reads
// every active client of the actor with its step counts, for the order and
// the totals; the other two only the clients of the page (at most
// page.MaxLimit IDs). The number of queries never depends on the number of
// clients.

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

// clientRow is an active client with its step counts: open steps, also in
// three cumulative overdue buckets around UTC today, and steps done
// recently. Every time zone's today is UTC yesterday, today or tomorrow, so
// overdue picks one bucket per client zone in Go (overdue) instead of a
// query per zone.
type clientRow struct {
	ID                    uuid.UUID
	Name                  string
	Timezone              string
	Open                  int
	DueBeforeUTCYesterday int
	DueBeforeUTCToday     int
	DueBeforeUTCTomorrow  int
	DoneRecently          int
}

// overdue counts the open steps due before the client's today, dayShift
// days from UTC today (see dayShift).
func (r clientRow) overdue(dayShift int) int {
	switch {
	case dayShift < 0:
		return r.DueBeforeUTCYesterday
	case dayShift > 0:
		return r.DueBeforeUTCTomorrow
	}
	return r.DueBeforeUTCToday
}

// loadClients reads every active client of the actor with its step counts,
// the steps done since recentSince counting as done recently.
//
// The counts are grouped per client over the practice's open steps and
// its done ones, both read from one index that holds every column they
// need, in client order (action_steps_dashboard_idx, migration 00005), and
// only then joined to the clients in scope: the join costs one lookup per
// client, not one per step, and no count of a client outside the scope
// leaves the query.
func loadClients(db *gorm.DB, a auth.Actor, utcToday date.Date, recentSince time.Time) ([]clientRow, error) {
	open := db.Table("action_steps AS s").
		Select(`s.client_id, COUNT(*) AS open_steps,
			COUNT(CASE WHEN s.due_date < ? THEN 1 END) AS due_before_utc_yesterday,
			COUNT(CASE WHEN s.due_date < ? THEN 1 END) AS due_before_utc_today,
			COUNT(CASE WHEN s.due_date < ? THEN 1 END) AS due_before_utc_tomorrow`,
			utcToday.AddDays(-1), utcToday, utcToday.AddDays(1)).
		// The statuses are literals, not bound: the partial indexes need them.
		Where("s.practice_id = ? AND s.status = 'open'", a.PracticeID).
		Group("s.client_id")
	done := db.Table("action_steps AS s").
		Select("s.client_id, COUNT(*) AS done_recently").
		Where("s.practice_id = ? AND s.status = 'done' AND s.completed_at >= ?", a.PracticeID, recentSince).
		Group("s.client_id")
	q := db.Table("clients").
		Joins("LEFT JOIN (?) AS o ON o.client_id = clients.id", open).
		Joins("LEFT JOIN (?) AS d ON d.client_id = clients.id", done).
		Select(`clients.id, clients.name, clients.timezone, COALESCE(o.open_steps, 0),
			COALESCE(o.due_before_utc_yesterday, 0), COALESCE(o.due_before_utc_today, 0),
			COALESCE(o.due_before_utc_tomorrow, 0), COALESCE(d.done_recently, 0)`)
	return scanAll(activeClients(q, a), func(rows *sql.Rows, r *clientRow) error {
		return rows.Scan(&r.ID, &r.Name, &r.Timezone, &r.Open, &r.DueBeforeUTCYesterday, &r.DueBeforeUTCToday,
			&r.DueBeforeUTCTomorrow, &r.DoneRecently)
	})
}

// goalRow is an active goal with its metric, the latest progress value
// (by recorded_on, then id) and its open and done steps.
type goalRow struct {
	ID             uuid.UUID
	ClientID       uuid.UUID
	Title          string
	MetricUnit     *string
	MetricBaseline *float64
	MetricTarget   *float64
	LatestValue    *float64
	Open           int64
	Done           int64
}

// metric is the goal's metric, nil when it has none.
func (r goalRow) metric() *goals.Metric {
	if r.MetricUnit == nil || r.MetricBaseline == nil || r.MetricTarget == nil {
		return nil
	}
	return &goals.Metric{Unit: *r.MetricUnit, Baseline: *r.MetricBaseline, Target: *r.MetricTarget}
}

// loadActiveGoals reads the active goals of the clients clientIDs, by
// client and ID.
func loadActiveGoals(db *gorm.DB, a auth.Actor, clientIDs []uuid.UUID) ([]goalRow, error) {
	stepCounts := db.Table("action_steps AS s").
		Select(`s.goal_id,
			COUNT(CASE WHEN s.status = 'open' THEN 1 END) AS open_steps,
			COUNT(CASE WHEN s.status = 'done' THEN 1 END) AS done_steps`).
		Where("s.practice_id = ? AND s.client_id IN ? AND s.status IN ?", a.PracticeID, clientIDs, []string{"open", "done"}).
		Group("s.goal_id")
	q := db.Table("goals AS g").
		Joins("JOIN clients ON clients.practice_id = g.practice_id AND clients.id = g.client_id").
		Joins("LEFT JOIN (?) AS sc ON sc.goal_id = g.id", stepCounts).
		Select(`g.id, g.client_id, g.title, g.metric_unit, g.metric_baseline, g.metric_target,
			(SELECT p.value FROM goal_progress p WHERE p.practice_id = g.practice_id AND p.goal_id = g.id
				ORDER BY p.recorded_on DESC, p.id DESC LIMIT 1) AS latest_value,
			COALESCE(sc.open_steps, 0), COALESCE(sc.done_steps, 0)`).
		Where("g.practice_id = ? AND g.status = ? AND g.client_id IN ?", a.PracticeID, "active", clientIDs)
	return scanAll(activeClients(q, a).Order("g.client_id, g.id"), func(rows *sql.Rows, r *goalRow) error {
		return rows.Scan(&r.ID, &r.ClientID, &r.Title, &r.MetricUnit, &r.MetricBaseline, &r.MetricTarget, &r.LatestValue,
			&r.Open, &r.Done)
	})
}

// sessionTimesRow is a client's last and next session. The times are
// aggregates, which SQLite returns as text: dbTime reads both forms.
type sessionTimesRow struct {
	ClientID uuid.UUID
	LastAt   dbTime
	NextAt   dbTime
}

// loadSessionTimes reads the last and next session of the clients clientIDs.
func loadSessionTimes(db *gorm.DB, a auth.Actor, clientIDs []uuid.UUID, now time.Time) ([]sessionTimesRow, error) {
	q := db.Table("coaching_sessions AS cs").
		Joins("JOIN clients ON clients.practice_id = cs.practice_id AND clients.id = cs.client_id").
		Select(`cs.client_id,
			MAX(CASE WHEN cs.starts_at <= ? THEN cs.starts_at END) AS last_at,
			MIN(CASE WHEN cs.starts_at > ? AND cs.status = 'scheduled' THEN cs.starts_at END) AS next_at`, now, now).
		Where("cs.practice_id = ? AND cs.client_id IN ? AND cs.status IN ?", a.PracticeID, clientIDs, []string{"completed", "scheduled"})
	return scanAll(activeClients(q, a).Group("cs.client_id"), func(rows *sql.Rows, r *sessionTimesRow) error {
		return rows.Scan(&r.ClientID, &r.LastAt, &r.NextAt)
	})
}
