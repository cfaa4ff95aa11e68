package ratelimit_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// twoProcesses opens two stores on one fresh PostgreSQL database, as two
// replicas of Tandem would: two connection pools, no memory in common.
func twoProcesses(t *testing.T) (*store.Store, *store.Store) {
	t.Helper()
	url := storetest.PostgresURL(t)
	if url == "" {
		t.Skip("budgets are shared through PostgreSQL only; set " + storetest.EnvPostgres)
	}
	ctx := context.Background()
	var out [2]*store.Store
	for i := range out {
		st, err := store.Open(ctx, store.Options{PostgresURL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		out[i] = st
	}
	return out[0], out[1]
}

// TestSharedBudgetHoldsAcrossReplicas: requests from one address spread
// over two replicas at once get the budget once, not once per replica;
// the budget refills at its rate, and other keys and scopes are apart.
func TestSharedBudgetHoldsAcrossReplicas(t *testing.T) {
	a, b := twoProcesses(t)
	clk := clock.NewManual(time.Date(2030, 3, 10, 9, 0, 0, 0, time.UTC))
	rule := ratelimit.Rule{Burst: 10, Per: time.Minute}
	replicas := []ratelimit.Budget{
		ratelimit.NewBudget(a, "login-ip", rule, clk), ratelimit.NewBudget(b, "login-ip", rule, clk),
	}
	if _, ok := replicas[0].(*ratelimit.Shared); !ok {
		t.Fatalf("on PostgreSQL the budget is %T, want the shared one", replicas[0])
	}
	ctx := context.Background()
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			ok, wait, err := replicas[i%2].Take(ctx, "203.0.113.7")
			if err != nil {
				t.Error(err)
			}
			if ok {
				allowed.Add(1)
			} else if wait <= 0 || wait > 6*time.Second {
				t.Errorf("refused with a wait of %v, want up to one refill (6s)", wait)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Fatalf("60 requests over two replicas at once: %d allowed, want the budget of 10", n)
	}

	// One token comes back every 6 s, to either replica.
	clk.Advance(6 * time.Second)
	if ok, _, _ := replicas[1].Take(ctx, "203.0.113.7"); !ok {
		t.Fatal("refused after a refill")
	}
	if ok, wait, _ := replicas[0].Take(ctx, "203.0.113.7"); ok || wait != 6*time.Second {
		t.Fatalf("a second request after one refill: allowed %v, wait %v; want refused for 6s", ok, wait)
	}
	// Another address, and another budget of the same address, are untouched.
	if ok, _, _ := replicas[0].Take(ctx, "198.51.100.1"); !ok {
		t.Error("another address was refused")
	}
	if ok, _, _ := ratelimit.NewBudget(a, "feed-ip", rule, clk).Take(ctx, "203.0.113.7"); !ok {
		t.Error("the same address was refused under another scope")
	}
	// The table holds digests, not addresses.
	var leaked int64
	if err := a.DB.Raw("SELECT count(*) FROM rate_limits WHERE key_hash LIKE ?", "%203.0.113.7%").Scan(&leaked).Error; err != nil || leaked != 0 {
		t.Errorf("rate_limits stores the address (%d rows, %v)", leaked, err)
	}
}

// TestSharedBackoffHoldsAcrossReplicas: failures on either replica count
// towards one back-off, concurrent failures all count, and a success or
// the rule's Forget clears it everywhere.
func TestSharedBackoffHoldsAcrossReplicas(t *testing.T) {
	a, b := twoProcesses(t)
	clk := clock.NewManual(time.Date(2030, 3, 10, 9, 0, 0, 0, time.UTC))
	rule := ratelimit.BackoffRule{Free: 2, Base: time.Second, Ceiling: 8 * time.Second, Forget: time.Hour}
	ra, rb := ratelimit.NewFailures(a, "login", rule, clk), ratelimit.NewFailures(b, "login", rule, clk)
	ctx := context.Background()
	key := "login:ada@example.com"

	for _, r := range []ratelimit.Failures{ra, rb} {
		if w, err := r.Fail(ctx, key); w != 0 || err != nil {
			t.Fatalf("a free failure: wait %v, %v", w, err)
		}
	}
	if w, _ := ra.Fail(ctx, key); w != time.Second {
		t.Fatalf("the third failure waits %v, want 1s", w)
	}
	if w, _ := rb.Wait(ctx, key); w != time.Second {
		t.Fatalf("the other replica makes it wait %v, want 1s", w)
	}

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := []ratelimit.Failures{ra, rb}[i%2].Fail(ctx, key); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if w, _ := ra.Wait(ctx, key); w != rule.Ceiling {
		t.Fatalf("after 23 failures the wait is %v, want the ceiling %v", w, rule.Ceiling)
	}
	if w, _ := ra.Fail(ctx, key); w != rule.Ceiling {
		t.Fatalf("the 24th failure waits %v, want the ceiling", w)
	}

	if err := rb.Reset(ctx, key); err != nil {
		t.Fatal(err)
	}
	if w, _ := ra.Wait(ctx, key); w != 0 {
		t.Fatalf("after a success elsewhere the wait is %v, want none", w)
	}
	ra.Fail(ctx, key)
	ra.Fail(ctx, key)
	clk.Advance(rule.Forget + time.Minute)
	if w, _ := rb.Fail(ctx, key); w != 0 {
		t.Fatalf("a failure an hour after the last waits %v, want it free again", w)
	}
	var rows []string
	if err := a.DB.Raw("SELECT key_hash FROM failure_counts").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, h := range rows {
		if strings.Contains(h, "ada") || len(h) != 64 {
			t.Errorf("failure_counts holds %q, want a SHA-256 digest", h)
		}
	}
}

// TestBudgetsStayInMemoryOnSQLite: one process serves SQLite, so its
// budgets cost no statement.
func TestBudgetsStayInMemoryOnSQLite(t *testing.T) {
	if storetest.PostgresURL(t) != "" {
		t.Skip("this checks the choice made on SQLite; the PostgreSQL pass runs the shared budgets' own tests")
	}
	st := storetest.Open(t)
	clk := clock.NewManual(time.Now())
	if _, ok := ratelimit.NewBudget(st, "x", ratelimit.Rule{Burst: 1, Per: time.Minute}, clk).(*ratelimit.Limiter); !ok {
		t.Error("the SQLite budget is not the in-memory limiter")
	}
	if _, ok := ratelimit.NewFailures(st, "x", ratelimit.BackoffRule{Free: 1, Base: time.Second, Ceiling: time.Minute, Forget: time.Hour}, clk).(*ratelimit.SharedBackoff); ok {
		t.Error("the SQLite back-off is the shared one")
	}
}
