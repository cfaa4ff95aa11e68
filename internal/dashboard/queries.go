package dashboard

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/date"
)

// The dashboard's four queries. Each joins the clients table through
// clients.Scope, so authorization is part of every query, and each groups
// or lists over all the actor's active clients at once: the number of
// queries never depends on the number of clients.

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
	var rows []clientRow
	err := activeClients(db.Table("clients"), a).
		Select("clients.id, clients.name, clients.status, clients.timezone").
		Order("clients.name, clients.id").Scan(&rows).Error
	return rows, err
}

// stepCountRow counts one goal's open and done steps. The overdue counts
// come in three cumulative buckets around UTC today: every time zone's
// today is UTC yesterday, today or tomorrow, so overdue picks one bucket per
// client zone in Go instead of a query per zone.
type stepCountRow struct {
	ClientID              uuid.UUID `gorm:"column:client_id"`
	GoalID                uuid.UUID `gorm:"column:goal_id"`
	Open                  int       `gorm:"column:open_steps"`
	DueBeforeUTCYesterday int       `gorm:"column:due_before_utc_yesterday"`
	DueBeforeUTCToday     int       `gorm:"column:due_before_utc_today"`
	DueBeforeUTCTomorrow  int       `gorm:"column:due_before_utc_tomorrow"`
	Done                  int       `gorm:"column:done_steps"`
	DoneRecently          int       `gorm:"column:done_recently"`
}

// overdue counts the open steps due before clientToday, which is within a
// day of utcToday.
func (r stepCountRow) overdue(clientToday, utcToday date.Date) int {
	switch {
	case clientToday.Before(utcToday):
		return r.DueBeforeUTCYesterday
	case utcToday.Before(clientToday):
		return r.DueBeforeUTCTomorrow
	default:
		return r.DueBeforeUTCToday
	}
}

func loadStepCounts(db *gorm.DB, a auth.Actor, utcToday date.Date, recentSince time.Time) ([]stepCountRow, error) {
	var rows []stepCountRow
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
	err := activeClients(q, a).Group("s.client_id, s.goal_id").Scan(&rows).Error
	return rows, err
}

// goalRow is an active goal with its metric and the latest progress value
// (by recorded_on, then id).
type goalRow struct {
	ID             uuid.UUID `gorm:"column:id"`
	ClientID       uuid.UUID `gorm:"column:client_id"`
	Title          string    `gorm:"column:title"`
	MetricBaseline *float64  `gorm:"column:metric_baseline"`
	MetricTarget   *float64  `gorm:"column:metric_target"`
	LatestValue    *float64  `gorm:"column:latest_value"`
}

func loadActiveGoals(db *gorm.DB, a auth.Actor) ([]goalRow, error) {
	var rows []goalRow
	q := db.Table("goals AS g").
		Joins("JOIN clients ON clients.practice_id = g.practice_id AND clients.id = g.client_id").
		Select(`g.id, g.client_id, g.title, g.metric_baseline, g.metric_target,
			(SELECT p.value FROM goal_progress p WHERE p.goal_id = g.id
				ORDER BY p.recorded_on DESC, p.id DESC LIMIT 1) AS latest_value`).
		Where("g.practice_id = ? AND g.status = ?", a.PracticeID, "active")
	err := activeClients(q, a).Order("g.client_id, g.id").Scan(&rows).Error
	return rows, err
}

// sessionTimesRow is a client's last and next session. The times are
// aggregates, which SQLite returns as text: dbTime reads both forms.
type sessionTimesRow struct {
	ClientID uuid.UUID `gorm:"column:client_id"`
	LastAt   dbTime    `gorm:"column:last_at"`
	NextAt   dbTime    `gorm:"column:next_at"`
}

func loadSessionTimes(db *gorm.DB, a auth.Actor, now time.Time) ([]sessionTimesRow, error) {
	var rows []sessionTimesRow
	q := db.Table("coaching_sessions AS cs").
		Joins("JOIN clients ON clients.practice_id = cs.practice_id AND clients.id = cs.client_id").
		Select(`cs.client_id,
			MAX(CASE WHEN cs.starts_at <= ? THEN cs.starts_at END) AS last_at,
			MIN(CASE WHEN cs.starts_at > ? AND cs.status = 'scheduled' THEN cs.starts_at END) AS next_at`, now, now).
		Where("cs.practice_id = ? AND cs.status IN ?", a.PracticeID, []string{"completed", "scheduled"})
	err := activeClients(q, a).Group("cs.client_id").Scan(&rows).Error
	return rows, err
}
