package httpapi_test

import (
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/date"
)

type dashboardDoc struct {
	Clients []dashboardClientDoc `json:"clients"`
}

type dashboardClientDoc struct {
	ClientID         string `json:"client_id"`
	Name             string `json:"name"`
	Status           string `json:"status"`
	OpenSteps        int    `json:"open_steps"`
	OverdueSteps     int    `json:"overdue_steps"`
	CompletedSteps7d int    `json:"completed_steps_7d"`
	ActiveGoals      []struct {
		ID              string  `json:"id"`
		Title           string  `json:"title"`
		ProgressPercent float64 `json:"progress_percent"`
	} `json:"active_goals"`
	LastSessionAt *time.Time `json:"last_session_at"`
	NextSessionAt *time.Time `json:"next_session_at"`
}

type meDoc struct {
	ID       uuid.UUID `json:"id"`
	Practice struct {
		ID uuid.UUID `json:"id"`
	} `json:"practice"`
}

func (env *testEnv) whoAmI(token string) meDoc {
	env.t.Helper()
	var m meDoc
	env.do(request{method: "GET", path: "/api/v1/me", token: token}).want(env.t, http.StatusOK).decode(env.t, &m)
	return m
}

func (env *testEnv) dashboard(token string) dashboardDoc {
	env.t.Helper()
	var d dashboardDoc
	env.do(request{method: "GET", path: "/api/v1/dashboard", token: token}).want(env.t, http.StatusOK).decode(env.t, &d)
	return d
}

// coachingSeed writes goals, progress, steps and sessions of one practice.
type coachingSeed struct {
	t          *testing.T
	db         *gorm.DB
	practiceID uuid.UUID
	now        time.Time
	today      date.Date // UTC
}

func (s coachingSeed) create(rows any) {
	s.t.Helper()
	if err := s.db.Create(rows).Error; err != nil {
		s.t.Fatalf("seed %T: %v", rows, err)
	}
}

func (s coachingSeed) goal(clientID, author uuid.UUID, title, status string, baseline, target *float64) uuid.UUID {
	s.t.Helper()
	g := seedGoal{ID: newSeedID(), PracticeID: s.practiceID, ClientID: clientID, Title: title, Why: "It matters",
		Status: status, CreatedBy: author, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
	if baseline != nil {
		g.MetricUnit, g.MetricBaseline, g.MetricTarget = ptrTo("points"), baseline, target
	}
	s.create(&g)
	return g.ID
}

func (s coachingSeed) progress(goalID, author uuid.UUID, on date.Date, value float64) {
	s.t.Helper()
	s.create(&seedProgress{ID: newSeedID(), PracticeID: s.practiceID, GoalID: goalID, RecordedOn: on, Value: value,
		CreatedBy: author, CreatedAt: s.now})
}

// openStep adds an open step due on the UTC date today+days (no due date when due is false).
func (s coachingSeed) openStep(clientID, goalID, author uuid.UUID, due bool, days int) {
	s.t.Helper()
	st := seedStep{ID: newSeedID(), PracticeID: s.practiceID, ClientID: clientID, GoalID: goalID, Title: "Step",
		Recurrence: "none", Status: "open", CreatedBy: author, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
	if due {
		st.DueDate = ptrTo(s.today.AddDays(days))
	}
	s.create(&st)
}

// closedStep adds a done or skipped step, completed ago before now.
func (s coachingSeed) closedStep(clientID, goalID, author uuid.UUID, status string, ago time.Duration) {
	s.t.Helper()
	s.create(&seedStep{ID: newSeedID(), PracticeID: s.practiceID, ClientID: clientID, GoalID: goalID, Title: "Step",
		DueDate: ptrTo(s.today.AddDays(-20)), Recurrence: "none", Status: status, CompletedAt: ptrTo(s.now.Add(-ago)),
		CreatedBy: author, Version: 1, CreatedAt: s.now, UpdatedAt: s.now})
}

func (s coachingSeed) session(clientID, coachID uuid.UUID, status string, startsIn time.Duration) time.Time {
	s.t.Helper()
	starts := s.now.Add(startsIn)
	s.create(&seedSession{ID: newSeedID(), PracticeID: s.practiceID, ClientID: clientID, CoachID: coachID,
		StartsAt: starts, EndsAt: starts.Add(45 * time.Minute), DurationMinutes: 45, Status: status,
		Version: 1, CreatedAt: s.now, UpdatedAt: s.now})
	return starts
}

// TestDashboardContent checks every figure of the dashboard on a small
// practice, at 10:30 UTC, when Pago Pago (UTC-11) is still on the UTC
// yesterday and Kiritimati (UTC+14) already on the UTC tomorrow.
func TestDashboardContent(t *testing.T) {
	env := newEnv(t)
	wall := time.Now().UTC()
	now := time.Date(wall.Year(), wall.Month(), wall.Day()+1, 10, 30, 0, 0, time.UTC)
	env.clock.Advance(now.Sub(env.clock.Now()))

	f := env.practice("p1")
	coach, other := env.whoAmI(f.coach.AccessToken), env.whoAmI(f.otherCoach.AccessToken)
	ana := env.createClient(f.coach.AccessToken, map[string]any{"name": "Ana", "timezone": "Pacific/Pago_Pago"})
	bo := env.createClient(f.coach.AccessToken, map[string]any{"name": "Bo", "timezone": "Pacific/Kiritimati"})
	paused := env.createClient(f.coach.AccessToken, map[string]any{"name": "Paula Paused", "timezone": "UTC"})
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + paused.ID, token: f.coach.AccessToken,
		body: map[string]any{"status": "paused"}}).want(t, http.StatusOK)
	archived := env.createClient(f.coach.AccessToken, map[string]any{"name": "Archie Archived", "timezone": "UTC"})
	env.do(request{method: "DELETE", path: "/api/v1/clients/" + archived.ID, token: f.coach.AccessToken}).want(t, http.StatusNoContent)
	dee := env.createClient(f.otherCoach.AccessToken, map[string]any{"name": "Dee", "timezone": "UTC"})

	s := coachingSeed{t: t, db: env.store.DB, practiceID: coach.Practice.ID, now: now, today: date.Today(now, time.UTC)}
	id := func(c clientDoc) uuid.UUID { return uuid.MustParse(c.ID) }
	num := func(v float64) *float64 { return &v }
	me := coach.ID

	// Ana (today is UTC yesterday): only the step due two days ago is overdue.
	anaGoal := s.goal(id(ana), me, "Run a 10k", "active", nil, nil)
	s.openStep(id(ana), anaGoal, me, true, -2)
	s.openStep(id(ana), anaGoal, me, true, -1)
	s.openStep(id(ana), anaGoal, me, true, 0)
	s.closedStep(id(ana), anaGoal, me, "done", 2*24*time.Hour)
	s.closedStep(id(ana), anaGoal, me, "skipped", time.Hour)

	// Bo (today is UTC tomorrow): everything due up to UTC today is overdue,
	// including a step of an achieved goal.
	boMetric := s.goal(id(bo), me, "Read more", "active", num(10), num(20))
	s.progress(boMetric, me, s.today.AddDays(-5), 12)
	s.progress(boMetric, me, s.today.AddDays(-1), 18)
	s.progress(boMetric, me, s.today.AddDays(-1), 15) // same day, later id: the latest
	s.progress(boMetric, me, s.today.AddDays(-3), 19) // recorded later, for an earlier day
	for _, days := range []int{-2, -1, 0, 1} {
		s.openStep(id(bo), boMetric, me, true, days)
	}
	s.openStep(id(bo), boMetric, me, false, 0)
	s.closedStep(id(bo), boMetric, me, "done", 8*24*time.Hour)
	boEmpty := s.goal(id(bo), me, "Sleep by eleven", "active", nil, nil)
	achieved := s.goal(id(bo), me, "Achieved one", "achieved", nil, nil)
	s.openStep(id(bo), achieved, me, true, -10)
	s.goal(id(bo), me, "Released one", "released", nil, nil)

	// Berlin (today is UTC today), with sessions of every status.
	berlin := uuid.MustParse(f.clientRec.ID)
	down := s.goal(berlin, me, "Fewer meetings", "active", num(100), num(80))
	s.openStep(berlin, down, me, true, -1)
	s.openStep(berlin, down, me, true, 0)
	s.closedStep(berlin, down, me, "done", time.Minute)
	s.closedStep(berlin, down, me, "done", 7*24*time.Hour-time.Minute)
	s.closedStep(berlin, down, me, "done", 7*24*time.Hour+time.Minute)
	s.session(berlin, me, "completed", -3*24*time.Hour)
	berlinLast := s.session(berlin, me, "scheduled", -time.Hour) // started, not yet marked completed
	s.session(berlin, me, "cancelled", -10*time.Minute)
	s.session(berlin, me, "no_show", -5*time.Minute)
	berlinNext := s.session(berlin, me, "scheduled", 2*24*time.Hour)
	s.session(berlin, me, "scheduled", 5*24*time.Hour)
	s.session(berlin, me, "cancelled", 24*time.Hour)

	// New York: one old session and nothing else.
	newYork := uuid.MustParse(f.otherRec.ID)
	newYorkLast := s.session(newYork, me, "completed", -30*24*time.Hour)

	// Paused and archived clients have work too, which must not show.
	for _, c := range []clientDoc{paused, archived} {
		g := s.goal(id(c), me, "Hidden", "active", nil, nil)
		s.openStep(id(c), g, me, true, -3)
		s.session(id(c), me, "scheduled", 3*24*time.Hour+time.Duration(len(c.Name))*time.Hour)
	}
	// Dee is the other coach's.
	deeNext := s.session(id(dee), other.ID, "scheduled", 24*time.Hour)

	byName := func(d dashboardDoc) map[string]dashboardClientDoc {
		m := map[string]dashboardClientDoc{}
		for _, c := range d.Clients {
			m[c.Name] = c
		}
		return m
	}
	names := func(d dashboardDoc) []string {
		var out []string
		for _, c := range d.Clients {
			out = append(out, c.Name)
		}
		return out
	}

	coachView := env.dashboard(f.coach.AccessToken)
	wantNames := []string{"Ana", "Bo", "Client p1-client2@example.com", "Client p1-client@example.com"}
	if got := names(coachView); !slices.Equal(got, wantNames) {
		t.Fatalf("coach sees %q, want %q", got, wantNames)
	}
	got := byName(coachView)

	type goalWant struct {
		title   string
		percent float64
	}
	check := func(name string, open, overdue, completed int, goals []goalWant, last, next *time.Time) {
		t.Helper()
		c := got[name]
		if c.Status != "active" || c.OpenSteps != open || c.OverdueSteps != overdue || c.CompletedSteps7d != completed {
			t.Errorf("%s: status %s, open %d, overdue %d, completed %d; want active, %d, %d, %d",
				name, c.Status, c.OpenSteps, c.OverdueSteps, c.CompletedSteps7d, open, overdue, completed)
		}
		if c.ActiveGoals == nil {
			t.Errorf("%s: active_goals is null, want a list", name)
		}
		var gotGoals []goalWant
		for _, g := range c.ActiveGoals {
			gotGoals = append(gotGoals, goalWant{g.Title, g.ProgressPercent})
		}
		if !slices.Equal(gotGoals, goals) {
			t.Errorf("%s: goals %v, want %v", name, gotGoals, goals)
		}
		if !sameTime(c.LastSessionAt, last) || !sameTime(c.NextSessionAt, next) {
			t.Errorf("%s: last %v next %v, want %v and %v", name, c.LastSessionAt, c.NextSessionAt, last, next)
		}
	}
	check("Ana", 3, 1, 1, []goalWant{{"Run a 10k", 25}}, nil, nil)
	check("Bo", 6, 4, 0, []goalWant{{"Read more", 50}, {"Sleep by eleven", 0}}, nil, nil)
	check("Client p1-client@example.com", 2, 1, 2, []goalWant{{"Fewer meetings", 0}}, &berlinLast, &berlinNext)
	check("Client p1-client2@example.com", 0, 0, 0, nil, &newYorkLast, nil)
	if id := got["Bo"].ActiveGoals[1].ID; id != boEmpty.String() {
		t.Errorf("Bo's second goal id = %s, want %s", id, boEmpty)
	}

	ownerView := env.dashboard(f.owner.AccessToken)
	wantNames = append(wantNames, "Dee")
	if got := names(ownerView); !slices.Equal(got, wantNames) {
		t.Fatalf("owner sees %q, want %q", got, wantNames)
	}
	if d := byName(ownerView)["Dee"]; !sameTime(d.NextSessionAt, &deeNext) || d.LastSessionAt != nil {
		t.Errorf("Dee: last %v next %v, want none and %v", d.LastSessionAt, d.NextSessionAt, deeNext)
	}
	if got := names(env.dashboard(f.otherCoach.AccessToken)); !slices.Equal(got, []string{"Dee"}) {
		t.Errorf("other coach sees %q, want only Dee", got)
	}

	// A day later it is Ana's (Pago Pago's) turn to see the step due on the
	// UTC yesterday of the seed as overdue.
	env.clock.Advance(24 * time.Hour)
	var later tokenPair
	env.login("p1-coach@example.com", goodPassword).want(t, http.StatusOK).decode(t, &later)
	if c := byName(env.dashboard(later.AccessToken))["Ana"]; c.OverdueSteps != 2 {
		t.Errorf("a day later Ana has %d overdue steps, want 2", c.OverdueSteps)
	}

	// Another practice sees none of it, as an empty list.
	stranger := env.register("p2-owner@example.com")
	res := env.do(request{method: "GET", path: "/api/v1/dashboard", token: stranger.AccessToken}).want(t, http.StatusOK)
	if string(res.Body) != "{\"clients\":[]}\n" {
		t.Errorf("another practice's dashboard = %s, want no clients", res.Body)
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func TestDashboardIsForStaffOnly(t *testing.T) {
	env := newEnv(t)
	f := env.practice("p1")
	env.do(request{method: "GET", path: "/api/v1/dashboard", token: f.client.AccessToken}).problem(t, http.StatusForbidden)
	env.do(request{method: "GET", path: "/api/v1/dashboard"}).problem(t, http.StatusUnauthorized)
}

// TestDashboardQueryCountIsConstant counts the SQL statements one dashboard
// request issues (authentication included) with 5 and with 500 clients.
func TestDashboardQueryCountIsConstant(t *testing.T) {
	counts := map[int]int64{}
	for _, n := range []int{5, 500} {
		env := newEnv(t)
		var counting atomic.Bool
		var queries atomic.Int64
		count := func(*gorm.DB) {
			if counting.Load() {
				queries.Add(1)
			}
		}
		cb := env.store.DB.Callback()
		for _, err := range []error{
			cb.Query().Register("test:count_query", count),
			cb.Row().Register("test:count_row", count),
			cb.Raw().Register("test:count_raw", count),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		owner := env.register("owner@example.com")
		me := env.whoAmI(owner.AccessToken)
		seedBulk(t, env.store.DB, bulkPractice{PracticeID: me.Practice.ID, CoachID: me.ID,
			Clients: n, Goals: 2, Steps: 4, Sessions: 2, Now: env.clock.Now()})

		counting.Store(true)
		d := env.dashboard(owner.AccessToken)
		counting.Store(false)
		if len(d.Clients) != n {
			t.Fatalf("dashboard shows %d clients, want %d", len(d.Clients), n)
		}
		for _, c := range d.Clients {
			if len(c.ActiveGoals) != 2 || c.OpenSteps == 0 || c.LastSessionAt == nil || c.NextSessionAt == nil {
				t.Fatalf("client %s is missing data: %+v", c.Name, c)
			}
		}
		counts[n] = queries.Load()
	}
	if counts[5] == 0 || counts[5] != counts[500] {
		t.Fatalf("queries for one dashboard: %d with 5 clients, %d with 500; want the same, non-zero", counts[5], counts[500])
	}
	t.Logf("one dashboard request costs %d queries, with 5 or 500 clients", counts[5])
}
