// Package dashboard is a coach's view of all their clients at a glance,
// computed with a constant number of queries however many clients there are.
package dashboard

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the dashboard needs.
type Config struct {
	Store *store.Store
	Clock clock.Clock
}

// Service builds dashboards.
type Service struct{ c Config }

// NewService returns the dashboard service.
func NewService(c Config) *Service { return &Service{c: c} }

// RecentDays is how far back "recently completed" steps count.
const RecentDays = 7

// Dashboard is every active client the caller coaches, by name.
type Dashboard struct {
	Clients []Client
}

// Client is one active client's row on the dashboard.
type Client struct {
	ID     uuid.UUID
	Name   string
	Status string
	// OpenSteps counts open steps; OverdueSteps those of them due before
	// today in the client's time zone.
	OpenSteps    int
	OverdueSteps int
	// CompletedStepsRecent counts steps done in the last RecentDays days.
	CompletedStepsRecent int
	ActiveGoals          []Goal
	// LastSessionAt is the latest completed or scheduled session that has
	// started; NextSessionAt the earliest scheduled one still to come.
	LastSessionAt *time.Time
	NextSessionAt *time.Time
}

// Goal is an active goal with how far along it is, by the goal's own rule
// (goals.ProgressPercent).
type Goal struct {
	ID              uuid.UUID
	Title           string
	ProgressPercent float64
}

// Build returns the actor's dashboard: the owner sees every active client
// of the practice, a coach their own. It costs four queries whatever the
// number of clients, goals, steps or sessions.
func (s *Service) Build(ctx context.Context, a auth.Actor) (Dashboard, error) {
	if !a.IsStaff() {
		return Dashboard{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches have a dashboard.")
	}
	db := s.c.Store.DB.WithContext(ctx)
	now := s.c.Clock.Now().UTC()
	utcToday := date.Today(now, time.UTC)

	clientRows, err := loadClients(db, a)
	if err != nil {
		return Dashboard{}, err
	}
	stepRows, err := loadStepCounts(db, a, utcToday, now.AddDate(0, 0, -RecentDays))
	if err != nil {
		return Dashboard{}, err
	}
	goalRows, err := loadActiveGoals(db, a)
	if err != nil {
		return Dashboard{}, err
	}
	sessionRows, err := loadSessionTimes(db, a, now)
	if err != nil {
		return Dashboard{}, err
	}
	return assemble(now, clientRows, stepRows, goalRows, sessionRows), nil
}

// assemble joins the query results in Go, by client and goal.
func assemble(now time.Time, clientRows []clientRow, stepRows []stepCountRow, goalRows []goalRow, sessionRows []sessionTimesRow) Dashboard {
	out := Dashboard{Clients: make([]Client, len(clientRows))}
	type entry struct {
		c        *Client
		dayShift int // the client's today minus UTC today, in days: -1, 0 or 1
	}
	byID := make(map[uuid.UUID]entry, len(clientRows))
	// Zones are loaded once per name: time.LoadLocation reads the zone
	// database on every call.
	shiftIn := map[string]int{}
	utcToday := date.Today(now, time.UTC)
	for i, r := range clientRows {
		out.Clients[i] = Client{ID: r.ID, Name: r.Name, Status: r.Status, ActiveGoals: []Goal{}}
		shift, ok := shiftIn[r.Timezone]
		if !ok {
			shift = dayShift(date.Today(now, loadLocation(r.Timezone)), utcToday)
			shiftIn[r.Timezone] = shift
		}
		byID[r.ID] = entry{c: &out.Clients[i], dayShift: shift}
	}

	type stepTotals struct{ open, done int64 }
	byGoal := make(map[uuid.UUID]stepTotals, len(stepRows))
	for _, r := range stepRows {
		byGoal[r.GoalID] = stepTotals{open: int64(r.Open), done: int64(r.Done)}
		e, ok := byID[r.ClientID]
		if !ok {
			continue // a client that became inactive between the queries
		}
		e.c.OpenSteps += r.Open
		e.c.OverdueSteps += r.overdue(e.dayShift)
		e.c.CompletedStepsRecent += r.DoneRecently
	}

	for _, r := range goalRows {
		e, ok := byID[r.ClientID]
		if !ok {
			continue
		}
		t := byGoal[r.ID]
		e.c.ActiveGoals = append(e.c.ActiveGoals, Goal{
			ID: r.ID, Title: r.Title,
			ProgressPercent: goals.ProgressPercent(r.metric(), r.LatestValue, t.open, t.done),
		})
	}

	for _, r := range sessionRows {
		e, ok := byID[r.ClientID]
		if !ok {
			continue
		}
		e.c.LastSessionAt = r.LastAt.ptr()
		e.c.NextSessionAt = r.NextAt.ptr()
	}
	return out
}

// dayShift is clientToday minus utcToday in days; every time zone's today
// is within a day of UTC's.
func dayShift(clientToday, utcToday date.Date) int {
	switch {
	case clientToday.Before(utcToday):
		return -1
	case utcToday.Before(clientToday):
		return 1
	}
	return 0
}

// loadLocation is the client's time zone, UTC when it no longer loads.
func loadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
