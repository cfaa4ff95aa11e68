package httpapi_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// failureTimeout is the request deadline of the environments whose database
// fails: short, so that the tests do not wait long for their 503s.
const failureTimeout = 2 * time.Second

// failureWait bounds every wait for an answer: a request that has not been
// answered by then hangs, which is the failure these tests guard against.
const failureWait = 30 * time.Second

// doWithin is env.do that fails the test when no answer comes within
// failureWait, instead of hanging with the service.
func (env *testEnv) doWithin(r request) response {
	env.t.Helper()
	done := make(chan response, 1)
	go func() { done <- env.do(r) }()
	select {
	case res := <-done:
		return res
	case <-time.After(failureWait):
		env.t.Fatalf("%s %s: no answer after %v", r.method, r.path, failureWait)
		return response{}
	}
}

// retryLater checks r is a problem document with status and a Retry-After
// of whole seconds, and returns the document.
func (r response) retryLater(t *testing.T, status int) problemDoc {
	t.Helper()
	p := r.problem(t, status)
	if secs, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || secs < 1 {
		t.Fatalf("Retry-After = %q, want whole seconds; body %s", r.Header.Get("Retry-After"), r.Body)
	}
	return p
}

// noInternals checks a problem document says nothing of the database's
// insides.
func noInternals(t *testing.T, r response) {
	t.Helper()
	for _, word := range []string{"SELECT", "INSERT", "UPDATE", "SQLSTATE", "sqlite", "pgx", "goose", "127.0.0.1", "tcp", "deadlock"} {
		if strings.Contains(strings.ToLower(string(r.Body)), strings.ToLower(word)) {
			t.Errorf("the problem document mentions %q: %s", word, r.Body)
		}
	}
}

func onPostgres() bool { return os.Getenv(storetest.EnvPostgres) != "" }

// TestDatabaseFailuresAreProblems checks the one mapping from errors to
// problem documents: collisions are 409, busy or unreachable databases 503,
// both with Retry-After; real bugs stay 500.
func TestDatabaseFailuresAreProblems(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tests := []struct {
		name   string
		err    error
		status int
		typ    string
		retry  bool
		detail string
	}{
		{"deadlock in a transaction", store.Classify(&pgconn.PgError{Code: "40P01"}), 409, "contention", true, "same moment"},
		{"serialization failure outside one", &pgconn.PgError{Code: "40001"}, 409, "contention", true, "same moment"},
		{"sqlite busy", fmt.Errorf("begin: %w", store.ErrBusy), 503, "unavailable", true, "busy"},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, 503, "unavailable", true, "busy"},
		{"deadline", errors.Join(errors.New("conn closed"), context.DeadlineExceeded), 503, "unavailable", true, "in time"},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, 503, "unavailable", true, "cannot be reached"},
		{"connection lost", fmt.Errorf("query: %w", pgconn.ErrConnClosed), 503, "unavailable", true, "cannot be reached"},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, 503, "unavailable", true, "cannot be reached"},
		{"a truncated body is the client's", echo.NewHTTPError(400).SetInternal(io.ErrUnexpectedEOF), 400, "invalid", false, ""},
		{"a bug", errors.New("nil map"), 500, "internal", false, ""},
		{"a constraint the code missed", &pgconn.PgError{Code: "23514"}, 500, "internal", false, ""},
	}
	for i, tt := range tests {
		path := "/failure-" + strconv.Itoa(i)
		env.e.GET(path, func(echo.Context) error { return tt.err })
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(request{method: "GET", path: path})
			p := r.problem(t, tt.status)
			if !strings.HasSuffix(p.Type, "/"+tt.typ) || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("problem = %+v, want type %s and a detail about %q", p, tt.typ, tt.detail)
			}
			if got := r.Header.Get("Retry-After") != ""; got != tt.retry {
				t.Errorf("Retry-After = %q, want one: %v", r.Header.Get("Retry-After"), tt.retry)
			}
			noInternals(t, r)
		})
	}
}

// TestOverlappingBookingsRace books 24 overlapping sessions of one coach at
// once: exactly one wins, the others are told of the overlap (409), and no
// collision inside the database (a deadlock between the exclusion
// constraint's waiters on PostgreSQL) escapes as a 5xx.
func TestOverlappingBookingsRace(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	first := mustTime(t, env.sessionSlot(3, 14, 0, nil))
	const n = 24
	responses := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clientID := f.clientRec.ID
			if i%2 == 1 {
				clientID = f.otherRec.ID
			}
			<-start
			// Starts a minute apart, 45 minutes long: every two overlap.
			responses[i] = env.do(request{method: "POST", path: "/api/v1/clients/" + clientID + "/sessions", token: f.coach.AccessToken,
				body: map[string]any{"starts_at": first.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "duration_minutes": 45}})
		}()
	}
	close(start)
	wg.Wait()
	won := 0
	for _, r := range responses {
		switch r.Code {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
			r.problem(t, http.StatusConflict)
		default:
			t.Errorf("a racing booking answered %d: %s", r.Code, r.Body)
		}
	}
	if won != 1 || env.sessionCount() != 1 {
		t.Fatalf("%d bookings won, %d sessions stored; want exactly one", won, env.sessionCount())
	}
}

// TestBookingSurvivesADeadlock makes a booking deadlock on PostgreSQL, on
// purpose: another transaction holds an overlapping session, the booking
// waits for it, and then that transaction waits for the booking. The
// server aborts the booking's transaction (the other one looks for
// deadlocks later); the service runs it again, and the booking lands once
// the other transaction rolls back.
func TestBookingSurvivesADeadlock(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("PostgreSQL only: SQLite's single writer cannot deadlock")
	}
	env := newEnv(t)
	f := env.practice("p1")
	// On a busy machine the other transaction may start waiting only after
	// the booking looked for a deadlock; then the other one is the victim
	// and the booking simply lands. Try again on another day until the
	// booking is the victim.
	for day := 2; day < 7; day++ {
		bookingWasVictim, r := env.deadlockBooking(f, day)
		if r.Code != http.StatusCreated {
			t.Fatalf("a booking that deadlocked answered %d: %s", r.Code, r.Body)
		}
		if bookingWasVictim {
			return // run again after the deadlock, and landed
		}
	}
	t.Fatal("the booking was never the deadlock's victim")
}

// deadlockBooking books a session of f's coach on the given day while
// another transaction holds overlapping ones, so that the two deadlock. It
// reports whether the booking's transaction was the victim, and the
// booking's response.
func (env *testEnv) deadlockBooking(f practiceFixture, day int) (bool, response) {
	t := env.t
	t.Helper()
	ctx := context.Background()
	at := func(h int) time.Time { return mustTime(t, env.sessionSlot(day, h, 0, nil)) }
	var practiceID, coachID string
	if err := env.store.DB.Raw("SELECT practice_id::text, coach_id::text FROM clients WHERE id = ?", f.clientRec.ID).
		Row().Scan(&practiceID, &coachID); err != nil {
		t.Fatal(err)
	}
	other, err := env.store.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }()
	// The booking looks for a deadlock after the server's deadlock_timeout
	// (1s by default); the other transaction later, so that the booking is
	// the victim when both wait by then.
	if _, err := other.ExecContext(ctx, "SET LOCAL deadlock_timeout = '4s'"); err != nil {
		t.Fatalf("cannot make the other transaction the patient one (the test role must be allowed to SET deadlock_timeout): %v", err)
	}
	insert := func(start time.Time) error {
		now := time.Now().UTC()
		_, err := other.ExecContext(ctx, `INSERT INTO coaching_sessions (id, practice_id, client_id, coach_id, starts_at, ends_at,
			duration_minutes, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 60, 'scheduled', $7, $7)`,
			uuid.NewString(), practiceID, f.clientRec.ID, coachID, start, start.Add(time.Hour), now)
		return err
	}
	if err := insert(at(10)); err != nil { // 10:00-11:00, uncommitted
		t.Fatal(err)
	}
	booked := make(chan response, 1)
	go func() { // 10:30-11:30 overlaps it: the booking waits for the other transaction
		booked <- env.do(request{method: "POST", path: "/api/v1/clients/" + f.otherRec.ID + "/sessions", token: f.coach.AccessToken,
			body: map[string]any{"starts_at": at(10).Add(30 * time.Minute).Format(time.RFC3339), "duration_minutes": 60}})
	}()
	waitForLockWait(t, env.store)
	// 11:00-12:00 overlaps the booking only: now each waits for the other.
	err = insert(at(11))
	var pg *pgconn.PgError
	victim := err == nil // the other transaction went on: the booking's was aborted
	if err != nil && (!errors.As(err, &pg) || pg.Code != "40P01") {
		t.Fatalf("the other transaction: %v", err)
	}
	_ = other.Rollback() // lets the booking through (an aborted transaction has nothing to roll back)
	select {
	case r := <-booked:
		return victim, r
	case <-time.After(failureWait):
		t.Fatalf("the booking has no answer after %v", failureWait)
		return false, response{}
	}
}

// waitForLockWait waits until a connection to the store's database waits
// for a lock.
func waitForLockWait(t *testing.T, st *store.Store) {
	t.Helper()
	deadline := time.Now().Add(failureWait)
	for time.Now().Before(deadline) {
		var n int64
		err := st.DB.Raw(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND a.datname = current_database()`).Scan(&n).Error
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the booking never waited for the other transaction")
}

// TestHungDatabaseAnswers503 stops the database answering in the middle of
// requests: each answers 503 with Retry-After once the request deadline
// passes, instead of hanging for as long as the database does. On
// PostgreSQL a proxy stops forwarding; on SQLite another holder keeps the
// single writer connection.
func TestHungDatabaseAnswers503(t *testing.T) {
	t.Parallel()
	st, proxy := storetest.OpenProxied(t, storetest.Options{RequestTimeout: failureTimeout})
	env := newEnv(t, envOptions{store: st, requestTimeout: failureTimeout})
	owner := env.register("ada@example.com")

	if proxy != nil {
		proxy.Hang()
		defer proxy.Resume()
	} else {
		writer, err := st.SQL().Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer writer.Close()
	}

	create := env.doWithin(request{method: "POST", path: "/api/v1/clients", token: owner.AccessToken,
		body: map[string]any{"name": "Client"}})
	create.retryLater(t, http.StatusServiceUnavailable)
	noInternals(t, create)
	if proxy != nil { // on SQLite reads have a pool of their own
		me := env.doWithin(request{method: "GET", path: "/api/v1/me", token: owner.AccessToken})
		me.retryLater(t, http.StatusServiceUnavailable)
		env.doWithin(request{method: "GET", path: "/readyz"}).retryLater(t, http.StatusServiceUnavailable)
	}
	if !strings.Contains(env.logs.String(), "request failed") {
		t.Error("a request the database failed was not logged")
	}
}

// TestRefusedDatabaseAnswers503: a database that is down refuses the
// connection; requests answer 503 with Retry-After at once, never 500.
func TestRefusedDatabaseAnswers503(t *testing.T) {
	t.Parallel()
	if !onPostgres() {
		t.Skip("PostgreSQL only: an embedded SQLite file cannot refuse a connection")
	}
	st, proxy := storetest.OpenProxied(t, storetest.Options{RequestTimeout: failureTimeout})
	env := newEnv(t, envOptions{store: st, requestTimeout: failureTimeout})
	owner := env.register("ada@example.com")
	proxy.Refuse()

	for _, r := range []request{
		{method: "GET", path: "/api/v1/me", token: owner.AccessToken},
		{method: "POST", path: "/api/v1/clients", token: owner.AccessToken, body: map[string]any{"name": "Client"}},
		{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "ada@example.com", "password": goodPassword}},
	} {
		res := env.doWithin(r)
		p := res.retryLater(t, http.StatusServiceUnavailable)
		if !strings.Contains(p.Detail, "cannot be reached") {
			t.Errorf("%s %s: detail %q", r.method, r.path, p.Detail)
		}
		noInternals(t, res)
	}
	ready := env.doWithin(request{method: "GET", path: "/readyz"})
	ready.retryLater(t, http.StatusServiceUnavailable)
	noInternals(t, ready)
}

// TestLockedDatabaseAnswers503 holds a lock a write needs, as another
// process or transaction would. SQLite gives up after its busy timeout,
// half the request deadline; PostgreSQL waits until the deadline cancels
// the wait. Either way: 503 with Retry-After, not 500, and not after the
// lock is gone.
func TestLockedDatabaseAnswers503(t *testing.T) {
	t.Parallel()
	st := storetest.OpenWith(t, storetest.Options{RequestTimeout: failureTimeout})
	env := newEnv(t, envOptions{store: st, requestTimeout: failureTimeout})
	owner := env.register("ada@example.com")
	ctx := context.Background()

	var release func()
	if st.Dialect == store.SQLite {
		release = holdSQLiteWriteLock(t, st)
	} else {
		tx, err := st.SQL().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "LOCK TABLE practices IN EXCLUSIVE MODE"); err != nil {
			t.Fatal(err)
		}
		release = func() { _ = tx.Rollback() }
	}
	r := env.doWithin(request{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken,
		body: map[string]any{"name": "Renamed"}})
	release()
	p := r.retryLater(t, http.StatusServiceUnavailable)
	noInternals(t, r)
	if st.Dialect == store.SQLite && !strings.Contains(p.Detail, "busy") {
		t.Errorf("detail %q, want the database busy", p.Detail)
	}
	// The lock gone, the same request succeeds.
	env.doWithin(request{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken,
		body: map[string]any{"name": "Renamed"}}).want(t, http.StatusOK)
}

// holdSQLiteWriteLock takes the write lock of the store's SQLite file from a
// connection of its own (BEGIN IMMEDIATE), as another process would, and
// returns the function that lets it go.
func holdSQLiteWriteLock(t *testing.T, st *store.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	var path string
	if err := st.DB.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path).Error; err != nil || path == "" {
		t.Fatalf("the store's file: %q, %v", path, err)
	}
	db, err := sql.Open(sqlite.DriverName, "file:"+url.PathEscape(filepath.ToSlash(path))+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			_ = conn.Close()
			_ = db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestReadyzChecksTheSchema: /readyz is ready only when the database
// answers and has every migration this binary carries; otherwise 503 with a
// problem document naming what is missing, and no SQL.
func TestReadyzChecksTheSchema(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	env.do(request{method: "GET", path: "/readyz"}).want(t, http.StatusOK)

	status, err := env.store.MigrateStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.store.MigrateDown(ctx); err != nil {
		t.Fatal(err)
	}
	newest := strings.TrimSuffix(filepath.Base(status[len(status)-1].Name), ".sql")
	r := env.do(request{method: "GET", path: "/readyz"})
	p := r.retryLater(t, http.StatusServiceUnavailable)
	if !strings.HasSuffix(p.Type, "/schema_outdated") || !strings.Contains(p.Detail, newest) || !strings.Contains(p.Detail, "tandem migrate up") {
		t.Errorf("one migration pending: %+v, want schema_outdated naming %s", p, newest)
	}
	noInternals(t, r)

	for range status[1:] {
		if err := env.store.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	r = env.do(request{method: "GET", path: "/readyz"})
	if p := r.retryLater(t, http.StatusServiceUnavailable); !strings.HasSuffix(p.Type, "/schema_missing") {
		t.Errorf("no schema: %+v, want schema_missing", p)
	}
	noInternals(t, r)

	if _, err := env.store.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	env.do(request{method: "GET", path: "/readyz"}).want(t, http.StatusOK)
}
