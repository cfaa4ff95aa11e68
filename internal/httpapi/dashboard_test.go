package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/date"
)

type dashboardDoc struct {
	Clients    []dashboardClientDoc `json:"clients"`
	NextCursor *string              `json:"next_cursor"`
	Totals     dashboardTotalsDoc   `json:"totals"`
}

type dashboardTotalsDoc struct {
	Clients                 int `json:"clients"`
	OpenSteps               int `json:"open_steps"`
	OverdueSteps            int `json:"overdue_steps"`
	ClientsWithOverdueSteps int `json:"clients_with_overdue_steps"`
	CompletedSteps7d        int `json:"completed_steps_7d"`
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

// dashboard returns the first page of the dashboard, of the default size.
func (env *testEnv) dashboard(token string) dashboardDoc {
	env.t.Helper()
	return env.dashboardPage(token, nil)
}

// dashboardPage returns the dashboard page that query (limit, cursor) asks for.
func (env *testEnv) dashboardPage(token string, query url.Values) dashboardDoc {
	env.t.Helper()
	var d dashboardDoc
	path := "/api/v1/dashboard"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	env.do(request{method: "GET", path: path, token: token}).want(env.t, http.StatusOK).decode(env.t, &d)
	return d
}

// dashboardWalk follows the cursors from the first page to the last, limit
// clients a page, and returns every page. Each page but the last is full,
// and every page has the same totals.
func (env *testEnv) dashboardWalk(token string, limit int) []dashboardDoc {
	env.t.Helper()
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	var pages []dashboardDoc
	for {
		d := env.dashboardPage(token, q)
		pages = append(pages, d)
		if d.Totals != pages[0].Totals {
			env.t.Fatalf("page %d has totals %+v, the first %+v", len(pages), d.Totals, pages[0].Totals)
		}
		if d.NextCursor == nil {
			return pages
		}
		if len(d.Clients) != limit {
			env.t.Fatalf("page %d has %d clients and a next page, want %d", len(pages), len(d.Clients), limit)
		}
		if len(pages) > d.Totals.Clients {
			env.t.Fatalf("%d pages of %d for %d clients and still a next cursor", len(pages), limit, d.Totals.Clients)
		}
		q.Set("cursor", *d.NextCursor)
	}
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
	t.Parallel()
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

	// Overdue first, then by name: Bo has 4 overdue steps, Ana and Berlin
	// 1, New York none.
	coachView := env.dashboard(f.coach.AccessToken)
	wantNames := []string{"Bo", "Ana", "Client p1-client@example.com", "Client p1-client2@example.com"}
	if got := names(coachView); !slices.Equal(got, wantNames) {
		t.Fatalf("coach sees %q, want %q", got, wantNames)
	}
	wantTotals := dashboardTotalsDoc{Clients: 4, OpenSteps: 11, OverdueSteps: 6, ClientsWithOverdueSteps: 3, CompletedSteps7d: 3}
	if coachView.Totals != wantTotals || coachView.NextCursor != nil {
		t.Errorf("coach's totals %+v and next cursor %v, want %+v and none", coachView.Totals, coachView.NextCursor, wantTotals)
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
	wantTotals.Clients = 5 // Dee adds no step
	if ownerView.Totals != wantTotals {
		t.Errorf("owner's totals %+v, want %+v", ownerView.Totals, wantTotals)
	}
	// One client a page, the same clients with the same figures.
	var walked dashboardDoc
	for _, p := range env.dashboardWalk(f.owner.AccessToken, 1) {
		walked.Clients = append(walked.Clients, p.Clients...)
		walked.Totals = p.Totals
	}
	if !reflect.DeepEqual(walked, ownerView) {
		t.Errorf("walking one client a page gives %+v, want %+v", walked, ownerView)
	}
	if d := byName(ownerView)["Dee"]; !sameTime(d.NextSessionAt, &deeNext) || d.LastSessionAt != nil {
		t.Errorf("Dee: last %v next %v, want none and %v", d.LastSessionAt, d.NextSessionAt, deeNext)
	}
	if d := env.dashboard(f.otherCoach.AccessToken); !slices.Equal(names(d), []string{"Dee"}) ||
		d.Totals != (dashboardTotalsDoc{Clients: 1}) {
		t.Errorf("other coach sees %q with totals %+v, want only Dee and no steps", names(d), d.Totals)
	}

	// A day later it is Ana's (Pago Pago's) turn to see the step due on the
	// UTC yesterday of the seed as overdue.
	env.clock.Advance(24 * time.Hour)
	var later tokenPair
	env.login("p1-coach@example.com", goodPassword).want(t, http.StatusOK).decode(t, &later)
	if c := byName(env.dashboard(later.AccessToken))["Ana"]; c.OverdueSteps != 2 {
		t.Errorf("a day later Ana has %d overdue steps, want 2", c.OverdueSteps)
	}

	// Another practice sees none of it, as an empty list with zero totals.
	stranger := env.register("p2-owner@example.com")
	res := env.do(request{method: "GET", path: "/api/v1/dashboard", token: stranger.AccessToken}).want(t, http.StatusOK)
	want := `{"clients":[],"next_cursor":null,"totals":{"clients":0,"clients_with_overdue_steps":0,"completed_steps_7d":0,"open_steps":0,"overdue_steps":0}}` + "\n"
	if string(res.Body) != want {
		t.Errorf("another practice's dashboard = %s, want %s", res.Body, want)
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func TestDashboardIsForStaffOnly(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	env.do(request{method: "GET", path: "/api/v1/dashboard", token: f.client.AccessToken}).problem(t, http.StatusForbidden)
	env.do(request{method: "GET", path: "/api/v1/dashboard"}).problem(t, http.StatusUnauthorized)
}

// TestDashboardQueryCountIsConstant counts the SQL statements one dashboard
// request issues (authentication included) with 5 and with 500 clients, on
// the first page and, with 500, on a page of 200 further on.
func TestDashboardQueryCountIsConstant(t *testing.T) {
	t.Parallel()
	counts := map[string]int64{}
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

		measure := func(name string, query url.Values, wantClients int) dashboardDoc {
			t.Helper()
			queries.Store(0)
			counting.Store(true)
			d := env.dashboardPage(owner.AccessToken, query)
			counting.Store(false)
			if len(d.Clients) != wantClients || d.Totals.Clients != n {
				t.Fatalf("%s: dashboard shows %d clients of %d, want %d of %d", name, len(d.Clients), d.Totals.Clients, wantClients, n)
			}
			for _, c := range d.Clients {
				if len(c.ActiveGoals) != 2 || c.OpenSteps == 0 || c.LastSessionAt == nil || c.NextSessionAt == nil {
					t.Fatalf("%s: client %s is missing data: %+v", name, c.Name, c)
				}
			}
			counts[name] = queries.Load()
			return d
		}
		first := measure(fmt.Sprintf("first page of %d", n), nil, min(n, 50))
		if n > 250 {
			measure(fmt.Sprintf("a page of 200 of %d", n), url.Values{"limit": {"200"}, "cursor": {*first.NextCursor}}, 200)
		}
	}
	want := counts["first page of 5"]
	for name, c := range counts {
		if want == 0 || c != want {
			t.Fatalf("queries for one dashboard: %v; want the same, non-zero", counts)
		}
		t.Logf("%s: %d queries", name, c)
	}
}

// pagedClient is what a dashboard test seeds for one client and expects back.
type pagedClient struct {
	id                       uuid.UUID
	name                     string
	coach                    uuid.UUID
	open, overdue, completed int
}

// seedPagedClients writes n active clients of coach with 0 to 3 overdue
// steps (due three days ago: overdue in every time zone), one step due in
// five days, 0 to 2 steps done yesterday and one done a month ago. Names
// repeat, differ only in case or accents, and some are 200 characters that
// differ only at the end, past what a cursor holds.
func seedPagedClients(t *testing.T, s coachingSeed, coach uuid.UUID, n, salt int) []pagedClient {
	t.Helper()
	long := strings.Repeat("é", 150) + strings.Repeat("x", 48)
	names := []string{"Ana", "ana", "Ána", "Bo", "Ana", long + "a", long + "b", "Zoë", long + "a"}
	var (
		out   []pagedClient
		rows  []seedClient
		goals []seedGoal
		steps []seedStep
	)
	step := func(c, g uuid.UUID, status string, due date.Date, completed *time.Time) {
		steps = append(steps, seedStep{ID: newSeedID(), PracticeID: s.practiceID, ClientID: c, GoalID: g, Title: "Step",
			DueDate: &due, Recurrence: "none", Status: status, CompletedAt: completed,
			CreatedBy: coach, Version: 1, CreatedAt: s.now, UpdatedAt: s.now})
	}
	for i := range n {
		k := i + salt
		c := pagedClient{id: newSeedID(), name: names[k%len(names)], coach: coach, overdue: k * 7 % 4, completed: k % 3}
		c.open = c.overdue + 1
		out = append(out, c)
		rows = append(rows, seedClient{ID: c.id, PracticeID: s.practiceID, CoachID: coach, Name: c.name,
			Timezone: seedZones[k%len(seedZones)], Status: "active", Version: 1, CreatedAt: s.now, UpdatedAt: s.now})
		g := seedGoal{ID: newSeedID(), PracticeID: s.practiceID, ClientID: c.id, Title: "Goal", Why: "It matters",
			Status: "active", CreatedBy: coach, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
		goals = append(goals, g)
		for range c.overdue {
			step(c.id, g.ID, "open", s.today.AddDays(-3), nil)
		}
		step(c.id, g.ID, "open", s.today.AddDays(5), nil)
		for range c.completed {
			step(c.id, g.ID, "done", s.today.AddDays(-1), ptrTo(s.now.Add(-24*time.Hour)))
		}
		step(c.id, g.ID, "done", s.today.AddDays(-30), ptrTo(s.now.Add(-30*24*time.Hour)))
	}
	insertBatched(t, s.db, rows)
	insertBatched(t, s.db, goals)
	insertBatched(t, s.db, steps)
	return out
}

// dashboardOrder sorts clients as the dashboard promises: overdue steps,
// most first, then name, then ID.
func dashboardOrder(cs []pagedClient) []pagedClient {
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b pagedClient) int {
		if a.overdue != b.overdue {
			return b.overdue - a.overdue
		}
		if a.name != b.name {
			return strings.Compare(a.name, b.name)
		}
		return strings.Compare(a.id.String(), b.id.String())
	})
	return cs
}

// totalsOf sums what the dashboard's totals count.
func totalsOf(cs []pagedClient) dashboardTotalsDoc {
	t := dashboardTotalsDoc{Clients: len(cs)}
	for _, c := range cs {
		t.OpenSteps += c.open
		t.OverdueSteps += c.overdue
		t.CompletedSteps7d += c.completed
		if c.overdue > 0 {
			t.ClientsWithOverdueSteps++
		}
	}
	return t
}

// TestDashboardPages walks the dashboard of a practice of 130 clients, 80
// of one coach and 50 of another, page by page.
func TestDashboardPages(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("owner@example.com")
	coach := env.addCoach(owner.AccessToken, "coach@example.com")
	other := env.addCoach(owner.AccessToken, "other@example.com")
	me := env.whoAmI(owner.AccessToken)
	now := env.clock.Now().UTC()
	s := coachingSeed{t: t, db: env.store.DB, practiceID: me.Practice.ID, now: now, today: date.Today(now, time.UTC)}
	coachClients := seedPagedClients(t, s, env.whoAmI(coach.AccessToken).ID, 80, 0)
	otherClients := seedPagedClients(t, s, env.whoAmI(other.AccessToken).ID, 50, 3)
	all := slices.Concat(coachClients, otherClients)

	// walk checks that walking the pages gives every client of want exactly
	// once, in dashboard order, with their figures, and totals over them all.
	walk := func(who string, token string, limit int, want []pagedClient) {
		t.Helper()
		pages := env.dashboardWalk(token, limit)
		if n := (len(want) + limit - 1) / limit; len(pages) != n {
			t.Errorf("%s, %d a page: %d pages, want %d", who, limit, len(pages), n)
		}
		var got []pagedClient
		for _, p := range pages {
			for _, c := range p.Clients {
				id := uuid.MustParse(c.ClientID)
				got = append(got, pagedClient{id: id, name: c.Name, open: c.OpenSteps, overdue: c.OverdueSteps,
					completed: c.CompletedSteps7d})
			}
		}
		want = dashboardOrder(want)
		for i := range want {
			want[i].coach = uuid.Nil
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s, %d a page: walked %d clients, want these %d in dashboard order:\n got %v\nwant %v",
				who, limit, len(got), len(want), got, want)
		}
		if tot := pages[0].Totals; tot != totalsOf(want) || tot != totalsOf(got) {
			t.Errorf("%s: totals %+v, want the sums %+v", who, tot, totalsOf(want))
		}
	}
	walk("owner", owner.AccessToken, 7, all)
	walk("owner", owner.AccessToken, 200, all)
	walk("owner", owner.AccessToken, 1, all)
	walk("coach", coach.AccessToken, 9, coachClients)
	walk("other coach", other.AccessToken, 50, otherClients)

	// The default page holds 50; the limit is 1 to 200.
	first := env.dashboard(owner.AccessToken)
	if len(first.Clients) != 50 || first.NextCursor == nil || first.Totals.Clients != 130 {
		t.Fatalf("default page: %d clients of %d, next cursor %v; want 50 of 130 and a next page",
			len(first.Clients), first.Totals.Clients, first.NextCursor)
	}
	for _, q := range []string{"limit=201", "limit=0", "limit=-1", "limit=many"} {
		p := env.do(request{method: "GET", path: "/api/v1/dashboard?" + q, token: owner.AccessToken}).problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "limit") {
			t.Errorf("%s: errors %+v, want one on limit", q, p.Errors)
		}
	}

	// A cursor the API did not issue is refused with a field error that does
	// not repeat it.
	c := *first.NextCursor
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		t.Fatalf("cursor %q is not base64url: %v", c, err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	count, rest, _ := strings.Cut(strings.TrimPrefix(string(raw), "d1:"), ",")
	id, name, _ := strings.Cut(rest, ",")
	for tamper, bad := range map[string]string{
		"the first character cut": c[1:],
		"padded":                  c + "=",
		"a count spelt with a 0":  b64([]byte("d1:0" + count + "," + rest)),
		"a negative count":        b64([]byte("d1:-" + count + "," + rest)),
		"an upper-case ID":        b64([]byte("d1:" + count + "," + strings.ToUpper(id) + "," + name)),
		"a name past 96 bytes":    b64([]byte("d1:" + count + "," + id + "," + strings.Repeat("n", 97))),
		"another version":         b64([]byte("d2:" + count + "," + rest)),
		"the client list's kind":  b64([]byte("v1:" + uuid.NewString())),
		"garbage":                 "not-a-cursor",
	} {
		res := env.do(request{method: "GET", path: "/api/v1/dashboard?cursor=" + url.QueryEscape(bad), token: owner.AccessToken})
		p := res.problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "cursor") {
			t.Errorf("%s: errors %+v, want one on cursor", tamper, p.Errors)
		}
		if strings.Contains(string(res.Body), bad) {
			t.Errorf("%s: the problem repeats the cursor: %s", tamper, res.Body)
		}
	}
	// The same cursor is no secret: for a coach it is a position in their
	// own list, which shows only their clients.
	d := env.dashboardPage(coach.AccessToken, url.Values{"cursor": {c}, "limit": {"200"}})
	for _, cl := range d.Clients {
		if !slices.ContainsFunc(coachClients, func(p pagedClient) bool { return p.id.String() == cl.ClientID }) {
			t.Errorf("a coach's page shows %s, not their client", cl.Name)
		}
	}
}
