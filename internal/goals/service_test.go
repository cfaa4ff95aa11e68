package goals_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm/logger"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// queryCounter is a GORM logger that counts the statements it sees.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) LogMode(logger.LogLevel) logger.Interface { return q }
func (q *queryCounter) Info(context.Context, string, ...any)     {}
func (q *queryCounter) Warn(context.Context, string, ...any)     {}
func (q *queryCounter) Error(context.Context, string, ...any)    {}
func (q *queryCounter) Trace(context.Context, time.Time, func() (string, int64), error) {
	q.n.Add(1)
}

// seedPractice inserts a practice whose owner coaches one client, and
// returns the owner as an actor and the client's ID.
func seedPractice(t *testing.T, st *store.Store, now time.Time) (auth.Actor, uuid.UUID) {
	t.Helper()
	practiceID, ownerID, clientID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	stmts := []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'P', 1, ?, ?)", []any{practiceID, now, now}},
		{"INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, 'Owner', 'x', ?, ?)",
			[]any{ownerID, ownerID.String() + "@example.com", now, now}},
		{"INSERT INTO memberships (id, practice_id, user_id, role, created_at) VALUES (?, ?, ?, 'owner', ?)",
			[]any{uuid.Must(uuid.NewV7()), practiceID, ownerID, now}},
		{"INSERT INTO clients (id, practice_id, coach_id, name, timezone, status, version, created_at, updated_at) " +
			"VALUES (?, ?, ?, 'Client', 'Europe/Berlin', 'active', 1, ?, ?)", []any{clientID, practiceID, ownerID, now, now}},
	}
	for _, s := range stmts {
		if err := st.DB.Exec(s.sql, s.args...).Error; err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	return auth.Actor{UserID: ownerID, PracticeID: practiceID, Roles: []auth.Role{auth.RoleOwner}}, clientID
}

// TestListGoalsCostsAConstantNumberOfQueries proves a page of goals with
// their progress is read without a query per goal.
func TestListGoalsCostsAConstantNumberOfQueries(t *testing.T) {
	counter := &queryCounter{}
	st := storetest.OpenWith(t, storetest.Options{GormLogger: counter})
	clk := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	svc := goals.NewService(goals.Config{Store: st, Clock: clk})
	ctx := context.Background()
	owner, clientID := seedPractice(t, st, clk.Now())

	addGoals := func(n int) {
		for i := range n {
			in := goals.NewGoal{Title: "Run", Why: "to feel strong"}
			if i%2 == 0 {
				in.Metric = &goals.Metric{Unit: "km", Baseline: 0, Target: 10}
			}
			g, err := svc.CreateGoal(ctx, owner, clientID, in)
			if err != nil {
				t.Fatal(err)
			}
			if in.Metric != nil {
				if _, err := svc.RecordProgress(ctx, owner, g.ID, goals.NewProgress{Value: 4}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for j := range 4 {
				s, err := svc.CreateStep(ctx, owner, g.ID, goals.NewStep{Title: "Step"})
				if err != nil {
					t.Fatal(err)
				}
				if j == 0 {
					if _, err := svc.CompleteStep(ctx, owner, s.ID, nil); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	list := func() (int64, []goals.Goal) {
		before := counter.n.Load()
		got, _, err := svc.ListGoals(ctx, owner, clientID, nil, page.Request{Limit: page.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		return counter.n.Load() - before, got
	}

	addGoals(2)
	few, got := list()
	if len(got) != 2 {
		t.Fatalf("listed %d goals, want 2", len(got))
	}
	addGoals(20)
	many, got := list()
	if len(got) != 22 {
		t.Fatalf("listed %d goals, want 22", len(got))
	}
	if few != many {
		t.Fatalf("listing 2 goals took %d queries, 22 took %d: the cost grows with the page", few, many)
	}
	for _, g := range got {
		want := 25.0 // one of four steps done
		if g.Metric != nil {
			want = 40 // 4 of the way from 0 to 10 km
		}
		if g.ProgressPercent != want {
			t.Fatalf("goal %+v: progress %v, want %v", g, g.ProgressPercent, want)
		}
	}
}
