package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/dashboard"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/httpapi"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/sessions"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// The size of the benchmarked practice: 200 clients, 2,000 goals, 20,000
// action steps, 3,000 progress entries and 800 sessions.
var benchPractice = bulkPractice{Clients: 200, Goals: 10, Steps: 10, Sessions: 4}

// benchLargePractices are two practices of 2,000 clients: the one the load
// driver (cmd/tandem-load) calls practice B, with 2 goals of 5 steps and 2
// sessions a client (4,000 goals, 20,000 steps), and one with the work per
// client of benchPractice (20,000 goals, 200,000 steps, 30,000 progress
// entries, 8,000 sessions).
var benchLargePractices = []struct {
	name string
	p    bulkPractice
}{
	{"steps=10", bulkPractice{Clients: 2000, Goals: 2, Steps: 5, Sessions: 2}},
	{"steps=100", bulkPractice{Clients: 2000, Goals: 10, Steps: 10, Sessions: 4}},
}

// envBenchSQLite, set to 1, lets the benchmarks measure SQLite when no
// PostgreSQL URL is set.
const envBenchSQLite = "TANDEM_BENCH_SQLITE"

// BenchmarkCoachingReads measures, in-process through the HTTP handler, the
// owner's GET /dashboard (its first page of 50 clients) over a practice of
// 200 clients and GET /clients/{id}/action-steps?status=open of one of its
// clients. It measures twice: with that practice alone in the database
// (data=1x), then after nine more practices of the same size are added
// (data=10x: 2,000 clients, 20,000 goals, 200,000 steps in all). Both reads
// should stay within 1.5x of themselves; -v prints the ratios. Each
// sub-benchmark reports p50-ms and p95-ms latency and req/s, the throughput
// of one sequential caller. It measures PostgreSQL; without a PostgreSQL URL
// it fails rather than measure SQLite, unless TANDEM_BENCH_SQLITE=1. Run it
// with
//
//	TANDEM_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	  GOTOOLCHAIN=local go test -run '^$' -bench BenchmarkCoachingReads -benchtime 500x -v ./internal/httpapi/
func BenchmarkCoachingReads(b *testing.B) {
	env := newBenchEnv(b)
	owner := env.registerOwner("bench-owner@example.com")

	p := benchPractice
	p.PracticeID, p.CoachID, p.Now = owner.practiceID, owner.userID, env.now
	start := time.Now()
	clientIDs := seedBulk(b, env.store.DB, p)
	env.vacuum()
	b.Logf("seeded the measured practice in %v", time.Since(start).Round(time.Millisecond))
	env.checkFirstPage(owner.token, p.Clients)

	paths := []struct{ name, path string }{
		{"dashboard", "/api/v1/dashboard"},
		{"steps-open", "/api/v1/clients/" + clientIDs[0].String() + "/action-steps?status=open"},
	}
	p95 := map[string]time.Duration{}
	measureAll := func(data string) {
		for _, ep := range paths {
			b.Run("data="+data+"/"+ep.name, func(b *testing.B) {
				p95[data+"/"+ep.name] = env.measure(b, ep.path, owner.token, 1)
			})
		}
	}
	measureAll("1x")

	start = time.Now()
	for i := range 9 {
		other := benchPractice
		other.PracticeID, other.CoachID = seedPractice(b, env.store.DB, fmt.Sprintf("Other practice %d", i), env.now)
		other.Now = env.now
		seedBulk(b, env.store.DB, other)
	}
	env.vacuum()
	b.Logf("seeded nine more practices in %v", time.Since(start).Round(time.Millisecond))
	measureAll("10x")

	for _, ep := range paths {
		one, ten := p95["1x/"+ep.name], p95["10x/"+ep.name]
		if one > 0 && ten > 0 {
			b.Logf("%s: p95 %.2f ms with 1x data, %.2f ms with 10x: %.2fx", ep.name, ms(one), ms(ten), float64(ten)/float64(one))
		}
	}
}

// BenchmarkDashboardLargePractice measures, in-process through the HTTP
// handler, the owner's first dashboard page (50 clients, overdue first, and
// the totals over all) of each practice of benchLargePractices, 2,000
// clients with 10 and with 100 steps each: with one caller (readers=1),
// then with eight callers at once (readers=8). The target is a p95 under
// 50 ms with eight callers on the practice with 10 steps a client. It
// reports p50-ms, p95-ms and req/s, the throughput of all callers together.
// It measures PostgreSQL, or SQLite with TANDEM_BENCH_SQLITE=1 and no
// PostgreSQL URL. Run it with
//
//	TANDEM_TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' \
//	  GOTOOLCHAIN=local go test -run '^$' -bench BenchmarkDashboardLargePractice -benchtime 800x -v ./internal/httpapi/
//	TANDEM_BENCH_SQLITE=1 \
//	  GOTOOLCHAIN=local go test -run '^$' -bench BenchmarkDashboardLargePractice -benchtime 800x -v ./internal/httpapi/
func BenchmarkDashboardLargePractice(b *testing.B) {
	env := newBenchEnv(b)
	for i, lp := range benchLargePractices {
		owner := env.registerOwner(fmt.Sprintf("bench-owner-%d@example.com", i))
		p := lp.p
		p.PracticeID, p.CoachID, p.Now = owner.practiceID, owner.userID, env.now
		start := time.Now()
		seedBulk(b, env.store.DB, p)
		env.vacuum()
		b.Logf("%s: seeded %d clients on %s in %v", lp.name, p.Clients, env.store.DB.Dialector.Name(),
			time.Since(start).Round(time.Millisecond))
		env.checkFirstPage(owner.token, p.Clients)

		for _, readers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/readers=%d", lp.name, readers), func(b *testing.B) {
				env.measure(b, "/api/v1/dashboard", owner.token, readers)
			})
		}
	}
}

// checkFirstPage fails unless the owner's first dashboard page is a full
// page of the default size whose totals count every one of the clients.
func (e *benchEnv) checkFirstPage(token string, clients int) {
	e.b.Helper()
	var d dashboardDoc
	rec := e.get("/api/v1/dashboard", token)
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || rec.Code != http.StatusOK {
		e.b.Fatalf("dashboard: %d %.200s", rec.Code, rec.Body)
	}
	if want := min(clients, page.DefaultLimit); len(d.Clients) != want || d.Totals.Clients != clients {
		e.b.Fatalf("the dashboard shows %d clients of %d, want %d of the %d seeded", len(d.Clients), d.Totals.Clients, want, clients)
	}
}

// benchEnv is the whole service in-process on a fresh database, with a
// clock that stands still so tokens never expire mid-run.
type benchEnv struct {
	b     *testing.B
	api   *httpapi.API
	store *store.Store
	now   time.Time
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	log := slog.New(slog.DiscardHandler)
	now := time.Now().UTC().Truncate(time.Second)
	clk := clock.NewManual(now)
	if os.Getenv(storetest.EnvPostgres) == "" && os.Getenv(envBenchSQLite) != "1" {
		b.Fatalf("this benchmark measures PostgreSQL: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable), or %s=1 to measure SQLite",
			storetest.EnvPostgres, envBenchSQLite)
	}
	st := storetest.Open(b)
	cfg, err := config.Load(func(k string) string {
		if k == "TANDEM_BASE_URL" {
			return "https://tandem.example"
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	tokens, err := auth.NewTokens([]auth.SigningKey{testKey}, cfg.JWTIssuer, cfg.JWTAudience, clk)
	if err != nil {
		b.Fatal(err)
	}
	mailer, err := mail.New("", cfg.MailFrom, log)
	if err != nil {
		b.Fatal(err)
	}
	accounts := account.NewService(account.Config{Store: st, Tokens: tokens, Mailer: mailer, Clock: clk, Log: log,
		BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL})
	b.Cleanup(accounts.Wait)
	box, err := sealbox.New([]sealbox.Key{{ID: "bench-note-key", Secret: bytes.Repeat([]byte{3}, 32)}})
	if err != nil {
		b.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Deps{
		Config: cfg, Store: st, Log: log, Clock: clk, Accounts: accounts,
		Clients: clients.NewService(clients.Config{Store: st, Accounts: accounts, Mailer: mailer, Clock: clk, Log: log,
			BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL}),
		Goals:     goals.NewService(goals.Config{Store: st, Clock: clk, Log: log}),
		Sessions:  sessions.NewService(sessions.Config{Store: st, Clock: clk, Log: log, Notes: box, BaseURL: cfg.BaseURL}),
		Dashboard: dashboard.NewService(dashboard.Config{Store: st, Clock: clk}),
	})
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{b: b, api: api, store: st, now: now}
}

type benchOwner struct {
	token              string
	userID, practiceID uuid.UUID
}

// registerOwner creates a practice through the API and signs its owner in
// (the dashboard needs no proven address).
func (e *benchEnv) registerOwner(email string) benchOwner {
	e.b.Helper()
	rec := e.post("/api/v1/auth/register",
		map[string]string{"practice_name": "Bench practice", "name": "Bench Owner", "email": email, "password": goodPassword})
	if rec.Code != http.StatusAccepted {
		e.b.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	rec = e.post("/api/v1/auth/login", map[string]string{"email": email, "password": goodPassword})
	var tp tokenPair
	if err := json.Unmarshal(rec.Body.Bytes(), &tp); err != nil || rec.Code != http.StatusOK {
		e.b.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	rec = e.get("/api/v1/me", tp.AccessToken)
	var m meDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || rec.Code != http.StatusOK {
		e.b.Fatalf("me: %d %s", rec.Code, rec.Body)
	}
	return benchOwner{token: tp.AccessToken, userID: m.ID, practiceID: m.Practice.ID}
}

func (e *benchEnv) post(path string, body any) *httptest.ResponseRecorder {
	raw, err := json.Marshal(body)
	if err != nil {
		e.b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	return rec
}

func (e *benchEnv) get(path, token string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	return rec
}

// vacuum does after a bulk load what autovacuum does on a live database —
// planner statistics and the visibility map — so that autovacuum does not
// start in the middle of a measurement. SQLite only gathers statistics.
func (e *benchEnv) vacuum() {
	e.b.Helper()
	stmt := "ANALYZE"
	if e.store.DB.Dialector.Name() == "postgres" {
		stmt = "VACUUM ANALYZE"
	}
	if err := e.store.DB.WithContext(context.Background()).Exec(stmt).Error; err != nil {
		e.b.Fatal(err)
	}
}

// measure times b.N requests to path, made by readers callers at once,
// after a warm-up; it reports p50 and p95 latency and the throughput of
// all callers together, and returns the p95.
func (e *benchEnv) measure(b *testing.B, path, token string, readers int) time.Duration {
	for range 10 {
		if rec := e.get(path, token); rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	samples := make([][]time.Duration, readers)
	failed := make([]*httptest.ResponseRecorder, readers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for r := range readers {
		n := b.N / readers
		if r < b.N%readers {
			n++
		}
		samples[r] = make([]time.Duration, 0, n)
		wg.Go(func() {
			for range n {
				t0 := time.Now()
				rec := e.get(path, token)
				samples[r] = append(samples[r], time.Since(t0))
				if rec.Code != http.StatusOK {
					failed[r] = rec
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, rec := range failed {
		if rec != nil {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	all := slices.Concat(samples...)
	slices.Sort(all)
	p50, p95 := percentile(all, 50), percentile(all, 95)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p95), "p95-ms")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	return p95
}

// percentile returns the nearest-rank pth percentile of sorted samples.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (len(sorted)*p + 99) / 100
	return sorted[max(rank, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
