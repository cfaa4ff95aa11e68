// Package dashboard is a coach's view of their clients at a glance, overdue
// first, one page at a time, computed with a constant number of queries
// however many clients there are.
package dashboard

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
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

// Dashboard is one page of the active clients the caller coaches, overdue
// first, with totals over all of them.
type Dashboard struct {
	Clients    []Client
	Totals     Totals
	NextCursor *string // nil on the last page
}

// Totals sums the figures of every active client the caller coaches, on
// any page.
type Totals struct {
	Clients                 int
	OpenSteps               int
	OverdueSteps            int
	ClientsWithOverdueSteps int
	CompletedStepsRecent    int
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

// Build returns one page of the actor's dashboard: the owner sees every
// active client of the practice, a coach their own. It costs four queries
// whatever the number of clients, goals, steps or sessions (five when the
// cursor cut a long name): the time zones of the clients, the page of
// clients in order with the totals over all of them, then the active goals
// and the session times of the page's clients only.
func (s *Service) Build(ctx context.Context, a auth.Actor, r Request) (Dashboard, error) {
	if !a.IsStaff() {
		return Dashboard{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches have a dashboard.")
	}
	// A dashboard tolerates the read replica's lag (a second or two):
	// the coach's own changes still show, see store.Lagging.
	db := s.c.Store.Lagging(ctx)
	now := s.c.Clock.Now().UTC()

	zones, err := loadZones(db, a)
	if err != nil {
		return Dashboard{}, err
	}
	after := r.After
	if after != nil {
		k, err := resolveCursor(db, a, *after)
		if err != nil {
			return Dashboard{}, err
		}
		after = &k
	}
	pageRows, err := loadPage(db, s.c.Store.Dialect, a, zoneShifts(now, zones), date.Today(now, time.UTC),
		now.AddDate(0, 0, -RecentDays), after, r.Limit+1)
	if err != nil {
		return Dashboard{}, err
	}
	rows, totals, next := pageOf(pageRows, r.Limit)
	out := Dashboard{Clients: make([]Client, len(rows)), Totals: totals, NextCursor: next}
	if len(rows) == 0 {
		return out, nil
	}

	ids := make([]uuid.UUID, len(rows))
	for i, c := range rows {
		ids[i] = c.ID
	}
	goalRows, err := loadActiveGoals(db, a, ids)
	if err != nil {
		return Dashboard{}, err
	}
	sessionRows, err := loadSessionTimes(db, a, ids, now)
	if err != nil {
		return Dashboard{}, err
	}
	assemble(out.Clients, rows, goalRows, sessionRows)
	return out, nil
}

// assemble fills the page's clients from their ranked rows, their active
// goals and their session times.
func assemble(out []Client, rows []ranked, goalRows []goalRow, sessionRows []sessionTimesRow) {
	byID := make(map[uuid.UUID]*Client, len(rows))
	for i, r := range rows {
		out[i] = Client{ID: r.ID, Name: r.Name, Status: clients.StatusActive,
			OpenSteps: r.Open, OverdueSteps: r.Overdue, CompletedStepsRecent: r.DoneRecently, ActiveGoals: []Goal{}}
		byID[r.ID] = &out[i]
	}
	for _, r := range goalRows {
		c, ok := byID[r.ClientID]
		if !ok {
			continue // a client that became inactive between the queries
		}
		c.ActiveGoals = append(c.ActiveGoals, Goal{
			ID: r.ID, Title: r.Title,
			ProgressPercent: goals.ProgressPercent(r.metric(), r.LatestValue, r.Open, r.Done),
		})
	}
	for _, r := range sessionRows {
		if c, ok := byID[r.ClientID]; ok {
			c.LastSessionAt = r.LastAt.ptr()
			c.NextSessionAt = r.NextAt.ptr()
		}
	}
}
