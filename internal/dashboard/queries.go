package dashboard

import (
	"database/sql"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/store"
)

// The dashboard's queries. Each reads the clients table through
// activeClients, so authorization is part of every query. The first two
// read the time zones of the actor's clients, then the page of clients in
// order with the totals over all of them; the last two the goals and the
// sessions of the page's clients only (at most page.MaxLimit IDs). The
// number of queries never depends on the number of clients.

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

// loadZones reads the time zones of the actor's active clients.
func loadZones(db *gorm.DB, a auth.Actor) ([]string, error) {
	var zones []string
	err := activeClients(db.Table("clients").Distinct("clients.timezone"), a).Scan(&zones).Error
	return zones, err
}

// pageRow is one row of loadPage: the totals, with a client of the page
// when there is one (a page past the last client has none).
type pageRow struct {
	Totals  Totals
	ID      uuid.NullUUID
	Name    sql.NullString
	Open    sql.NullInt64
	Overdue sql.NullInt64
	Done    sql.NullInt64
}

// loadPage reads, in one statement, the totals over every active client of
// the actor and the clients of the page after r.After: at most limit of
// them, in dashboard order.
//
// Each client's counts come from the practice's open steps, grouped per
// client, and its steps done since recentSince: both read from partial
// indexes that hold every column they need, in client order (migration
// 00005), and only then joined to the clients in scope, so the join costs
// a lookup per client, not one per step, and no count of a client outside
// the scope leaves the query. The open steps are counted in three buckets,
// due before UTC yesterday, today and tomorrow: every time zone's today is
// one of these, and shifts (see zoneShifts) picks each client's bucket.
// The order, the keyset and the totals are all the database's, so only
// the page's rows reach the service, whatever the number of clients.
func loadPage(db *gorm.DB, dialect store.Dialect, a auth.Actor, shifts map[string]int, utcToday date.Date,
	recentSince time.Time, after *Key, limit int) ([]pageRow, error) {
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
	overdue, overdueArgs := overdueColumn(shifts)
	counted := activeClients(db.Table("clients").
		Joins("LEFT JOIN (?) AS o ON o.client_id = clients.id", open).
		Joins("LEFT JOIN (?) AS d ON d.client_id = clients.id", done).
		Select("clients.id, clients.name, COALESCE(o.open_steps, 0) AS open_steps, "+overdue+
			" AS overdue, COALESCE(d.done_recently, 0) AS done_recently", overdueArgs...), a)

	// Names sort byte-wise on both databases: SQLite's default, and
	// PostgreSQL's "C" collation.
	name := "name"
	if dialect == store.Postgres {
		name = `name COLLATE "C"`
	}
	where, args := "", []any{counted}
	if after != nil {
		where = " WHERE overdue < ? OR (overdue = ? AND (" + name + " > ? OR (" + name + " = ? AND id > ?)))"
		args = append(args, after.Overdue, after.Overdue, after.Name, after.Name, after.ID)
	}
	args = append(args, limit)
	q := db.Raw(`WITH counted AS MATERIALIZED (?)
		SELECT t.clients, t.open_steps, t.overdue_steps, t.clients_overdue, t.done_recently,
			p.id, p.name, p.open_steps, p.overdue, p.done_recently
		FROM (SELECT COUNT(*) AS clients,
				CAST(COALESCE(SUM(open_steps), 0) AS BIGINT) AS open_steps,
				CAST(COALESCE(SUM(overdue), 0) AS BIGINT) AS overdue_steps,
				COUNT(CASE WHEN overdue > 0 THEN 1 END) AS clients_overdue,
				CAST(COALESCE(SUM(done_recently), 0) AS BIGINT) AS done_recently
			FROM counted) AS t
		LEFT JOIN (SELECT id, name, open_steps, overdue, done_recently FROM counted`+where+
		` ORDER BY overdue DESC, `+name+`, id LIMIT ?) AS p ON 1 = 1`, args...)
	return scanAll(q, func(rows *sql.Rows, r *pageRow) error {
		t := &r.Totals
		return rows.Scan(&t.Clients, &t.OpenSteps, &t.OverdueSteps, &t.ClientsWithOverdueSteps, &t.CompletedStepsRecent,
			&r.ID, &r.Name, &r.Open, &r.Overdue, &r.Done)
	})
}

// resolveCursor returns k with the whole name of the client it points at
// when its cursor had to cut the name (see cursorNameBytes) and the client
// still has a name that begins so. Otherwise the names that begin with the
// cut one sort after it, so a page may repeat a client, never skip one.
func resolveCursor(db *gorm.DB, a auth.Actor, k Key) (Key, error) {
	if len(k.Name) < cursorNameBytes {
		return k, nil
	}
	var names []string
	err := clients.Scope(db.Table("clients"), a).Where("clients.id = ?", k.ID).Limit(1).Pluck("clients.name", &names).Error
	if err != nil {
		return k, err
	}
	if len(names) == 1 && strings.HasPrefix(names[0], k.Name) {
		k.Name = names[0]
	}
	return k, nil
}

// overdueColumn is the SQL of a client's overdue steps, the open steps of
// the bucket its time zone's shift picks (see loadPage), with its
// arguments: the zones a day behind and ahead of UTC are listed, the
// others are on UTC's day.
func overdueColumn(shifts map[string]int) (string, []any) {
	var behind, ahead []string
	for zone, shift := range shifts {
		switch {
		case shift < 0:
			behind = append(behind, zone)
		case shift > 0:
			ahead = append(ahead, zone)
		}
	}
	expr, args := "CASE", []any{}
	if len(behind) > 0 {
		expr += " WHEN clients.timezone IN ? THEN COALESCE(o.due_before_utc_yesterday, 0)"
		args = append(args, behind)
	}
	if len(ahead) > 0 {
		expr += " WHEN clients.timezone IN ? THEN COALESCE(o.due_before_utc_tomorrow, 0)"
		args = append(args, ahead)
	}
	if len(args) == 0 {
		return "COALESCE(o.due_before_utc_today, 0)", args
	}
	return expr + " ELSE COALESCE(o.due_before_utc_today, 0) END", args
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
