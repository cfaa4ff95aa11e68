package store_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// answerWithin bounds a wait that would otherwise hang: it fails the test if
// fn has not returned after limit. It never judges speed below that.
func answerWithin[T any](t *testing.T, limit time.Duration, fn func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- fn() }()
	select {
	case v := <-done:
		return v
	case <-time.After(limit):
		t.Fatalf("no answer after %v", limit)
		panic("unreachable")
	}
}

// codeError is an error carrying a result code the way SQLite's driver does.
type codeError int

func (e codeError) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e codeError) Code() int     { return int(e) }

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want error // nil: left alone
	}{
		{"deadlock", &pgconn.PgError{Code: "40P01"}, store.ErrContention},
		{"serialization failure", fmt.Errorf("insert: %w", &pgconn.PgError{Code: "40001"}), store.ErrContention},
		{"lock timeout", &pgconn.PgError{Code: "55P03"}, store.ErrBusy},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, store.ErrUnavailable},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, store.ErrUnavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, store.ErrUnavailable},
		{"too many connections", &pgconn.PgError{Code: "53300"}, store.ErrUnavailable},
		{"sqlite busy", codeError(5), store.ErrBusy},
		{"sqlite busy snapshot", codeError(517), store.ErrBusy},
		{"sqlite locked", codeError(6), store.ErrBusy},
		{"sqlite interrupted", codeError(9), store.ErrUnavailable},
		{"disk full", &pgconn.PgError{Code: "53100"}, store.ErrFull},
		{"sqlite full", codeError(13), store.ErrFull},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), store.ErrUnavailable},
		{"cancelled", context.Canceled, store.ErrUnavailable},
		{"refused", refused, store.ErrUnavailable},
		{"bad connection", driver.ErrBadConn, store.ErrUnavailable},
		{"connection done", sql.ErrConnDone, store.ErrUnavailable},
		{"closed connection", fmt.Errorf("query: %w", pgconn.ErrConnClosed), store.ErrUnavailable},
		{"unique violation", &pgconn.PgError{Code: "23505"}, nil},
		{"exclusion violation", &pgconn.PgError{Code: "23P01"}, nil},
		{"sqlite constraint", codeError(2067), nil},
		{"not found", gorm.ErrRecordNotFound, nil},
		{"anything else", errors.New("boom"), nil},
	}
	kinds := []error{store.ErrContention, store.ErrBusy, store.ErrUnavailable, store.ErrFull}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := store.Classify(tt.err)
			if !errors.Is(got, tt.err) {
				t.Errorf("Classify(%v) = %v, which lost the cause", tt.err, got)
			}
			for _, k := range kinds {
				if errors.Is(got, k) != (k == tt.want) {
					t.Errorf("Classify(%v) = %v; errors.Is(%v) = %v", tt.err, got, k, errors.Is(got, k))
				}
			}
			if again := store.Classify(got); again != got {
				t.Errorf("Classify is not idempotent: %v, then %v", got, again)
			}
		})
	}
	if store.Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

// insertPractice writes a practice row in tx.
func insertPractice(tx *gorm.DB, id uuid.UUID) error {
	now := time.Now().UTC()
	return tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'P', 1, ?, ?)", id, now, now).Error
}

func countPractices(t *testing.T, st *store.Store, id uuid.UUID) int64 {
	t.Helper()
	var n int64
	if err := st.DB.Table("practices").Where("id = ?", id).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTxRunsACollidedTransactionAgain: a transaction the database aborts
// for a deadlock or a serialization failure runs again from the start, and
// only its last run lands.
func TestTxRunsACollidedTransactionAgain(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	runs := 0
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		runs++
		if err := insertPractice(tx, id); err != nil {
			return err
		}
		if runs < 3 {
			return fmt.Errorf("write: %w", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"})
		}
		return nil
	})
	if err != nil || runs != 3 {
		t.Fatalf("Tx = %v after %d runs, want success on the third", err, runs)
	}
	if n := countPractices(t, st, id); n != 1 {
		t.Fatalf("%d rows after three runs, want the last run's 1", n)
	}
}

func TestTxGivesUpOnContentionAfterBoundedAttempts(t *testing.T) {
	st := storetest.Open(t)
	runs := 0
	err := st.Tx(context.Background(), func(tx *gorm.DB) error {
		runs++
		return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
	})
	if !errors.Is(err, store.ErrContention) {
		t.Fatalf("Tx = %v, want ErrContention", err)
	}
	if runs < 2 || runs > 5 {
		t.Fatalf("fn ran %d times, want a few retries and then an answer", runs)
	}
}

func TestTxDoesNotRunOtherFailuresAgain(t *testing.T) {
	st := storetest.Open(t)
	for _, failure := range []error{errors.New("a rule was broken"), &pgconn.PgError{Code: "23505"}, codeError(5)} {
		runs := 0
		err := st.Tx(context.Background(), func(tx *gorm.DB) error {
			runs++
			return failure
		})
		if !errors.Is(err, failure) || runs != 1 {
			t.Errorf("%v: Tx = %v after %d runs, want the error after 1", failure, err, runs)
		}
	}
}

func TestTxStopsRetryingWhenTheContextEnds(t *testing.T) {
	st := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	runs := 0
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		runs++
		cancel()
		return &pgconn.PgError{Code: "40P01"}
	})
	if !errors.Is(err, store.ErrUnavailable) || runs != 1 {
		t.Fatalf("Tx = %v after %d runs, want ErrUnavailable after 1", err, runs)
	}
}

// TestTxRetriesARealDeadlock makes two transactions wait for each other on
// PostgreSQL: the server aborts one, Tx runs it again, and both land.
func TestTxRetriesARealDeadlock(t *testing.T) {
	st := storetest.Open(t)
	if st.Dialect != store.Postgres {
		t.Skip("SQLite has a single writer: its transactions cannot deadlock")
	}
	ctx := context.Background()
	a, b := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	for _, id := range []uuid.UUID{a, b} {
		if err := insertPractice(st.DB, id); err != nil {
			t.Fatal(err)
		}
	}
	var holding sync.WaitGroup // both hold their first row lock
	holding.Add(2)
	var runs atomic.Int32
	rename := func(first, second uuid.UUID) func(*gorm.DB) error {
		attempt := 0
		return func(tx *gorm.DB) error {
			runs.Add(1)
			attempt++
			if err := tx.Exec("UPDATE practices SET name = 'x' WHERE id = ?", first).Error; err != nil {
				return err
			}
			if attempt == 1 {
				holding.Done()
				holding.Wait()
			}
			return tx.Exec("UPDATE practices SET name = 'y' WHERE id = ?", second).Error
		}
	}
	errs := make(chan error, 2)
	go func() { errs <- st.Tx(ctx, rename(a, b)) }()
	go func() { errs <- st.Tx(ctx, rename(b, a)) }()
	for range 2 {
		if err := answerWithin(t, 30*time.Second, func() error { return <-errs }); err != nil {
			t.Fatalf("a transaction failed: %v", err)
		}
	}
	// A victim's second run can meet the other transaction again on a busy
	// server; what counts is that one ran again and both landed.
	if n := runs.Load(); n < 3 {
		t.Fatalf("the transactions ran %d times, want at least 3 (a deadlock victim run again)", n)
	}
}

// TestSQLiteBusyIsErrBusy holds SQLite's write lock from another connection,
// as another process would: a write waits out the busy timeout and then
// fails with ErrBusy, while reads go on.
func TestSQLiteBusyIsErrBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	st, err := store.Open(ctx, store.Options{SQLitePath: path, RequestTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	release := holdSQLiteWriteLock(t, path)
	defer release()

	err = answerWithin(t, 10*time.Second, func() error {
		return st.Tx(ctx, func(tx *gorm.DB) error { return insertPractice(tx, uuid.Must(uuid.NewV7())) })
	})
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("write under another's lock = %v, want ErrBusy", err)
	}
	var n int64
	if err := st.DB.WithContext(ctx).Table("practices").Count(&n).Error; err != nil {
		t.Fatalf("a read under another's write lock: %v", err)
	}
	release()
	if err := st.Tx(ctx, func(tx *gorm.DB) error { return insertPractice(tx, uuid.Must(uuid.NewV7())) }); err != nil {
		t.Fatalf("write after the lock is released: %v", err)
	}
}

// holdSQLiteWriteLock opens a second connection to the SQLite file at path
// and holds its write lock (BEGIN IMMEDIATE) until release is called.
func holdSQLiteWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open(sqlite.DriverName, "file:"+url.PathEscape(path)+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			_ = conn.Close()
			_ = db.Close()
		})
	}
}

func TestSQLiteBusyTimeoutIsBelowTheRequestTimeout(t *testing.T) {
	for _, tc := range []struct {
		request time.Duration
		want    int
	}{{0, 5000}, {10 * time.Second, 5000}, {4 * time.Second, 2000}, {time.Minute, 5000}} {
		st, err := store.Open(context.Background(), store.Options{
			SQLitePath: filepath.Join(t.TempDir(), "tandem.db"), RequestTimeout: tc.request})
		if err != nil {
			t.Fatal(err)
		}
		var got int
		st.DB.Raw("PRAGMA busy_timeout").Scan(&got)
		_ = st.Close()
		if got != tc.want {
			t.Errorf("request timeout %v: busy_timeout = %d ms, want %d", tc.request, got, tc.want)
		}
	}
}

// TestPostgresStatementTimeout: the server ends a statement a second after
// the request timeout, unless the URL sets its own limit.
func TestPostgresStatementTimeout(t *testing.T) {
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("PostgreSQL only")
	}
	ctx := context.Background()
	st := storetest.OpenWith(t, storetest.Options{RequestTimeout: 4 * time.Second})
	var got string
	if err := st.DB.WithContext(ctx).Raw("SHOW statement_timeout").Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	if got != "5s" {
		t.Errorf("statement_timeout = %q, want 5s", got)
	}

	// The user's own setting wins.
	own := storetest.PostgresURL(t)
	sep := "?"
	if strings.Contains(own, "?") {
		sep = "&"
	}
	st2, err := store.Open(ctx, store.Options{PostgresURL: own + sep + "statement_timeout=1234&application_name=mine"})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var app string
	st2.DB.WithContext(ctx).Raw("SHOW statement_timeout").Scan(&got)
	st2.DB.WithContext(ctx).Raw("SHOW application_name").Scan(&app)
	if got != "1234ms" || app != "mine" {
		t.Errorf("statement_timeout = %q, application_name = %q; want the URL's 1234ms and mine", got, app)
	}

	// A statement that outlives it is ended by the server: ErrUnavailable.
	err = answerWithin(t, 20*time.Second, func() error { return st2.DB.WithContext(ctx).Exec("SELECT pg_sleep(30)").Error })
	if !errors.Is(store.Classify(err), store.ErrUnavailable) {
		t.Fatalf("a statement past statement_timeout = %v, want ErrUnavailable", err)
	}
}

// openProxied is a PostgreSQL store behind a proxy the test controls; the
// test is skipped on SQLite, which has no connection to break.
func openProxied(t *testing.T, requestTimeout time.Duration) (*store.Store, *storetest.Proxy) {
	t.Helper()
	if os.Getenv(storetest.EnvPostgres) == "" {
		t.Skip("PostgreSQL only: an embedded SQLite file has no connection to lose")
	}
	return storetest.OpenProxied(t, storetest.Options{RequestTimeout: requestTimeout})
}

// TestHungDatabaseEndsWithTheContext: a server that stops answering in the
// middle of a transaction holds the caller no longer than its context.
func TestHungDatabaseEndsWithTheContext(t *testing.T) {
	st, proxy := openProxied(t, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := answerWithin(t, 15*time.Second, func() error {
		return st.Tx(ctx, func(tx *gorm.DB) error {
			if err := insertPractice(tx, uuid.Must(uuid.NewV7())); err != nil {
				return err
			}
			proxy.Hang()
			return insertPractice(tx, uuid.Must(uuid.NewV7()))
		})
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Tx on a hung database = %v, want ErrUnavailable", err)
	}
	// A read outside a transaction, and a new connection, end the same way.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	var n int64
	err = answerWithin(t, 15*time.Second, func() error { return st.DB.WithContext(ctx2).Table("practices").Count(&n).Error })
	if !errors.Is(store.Classify(err), store.ErrUnavailable) {
		t.Fatalf("read on a hung database = %v, want ErrUnavailable", err)
	}
	proxy.Resume()
}

// TestRefusedDatabaseIsUnavailable: a server that is down refuses the
// connection, reads and writes fail at once with ErrUnavailable.
func TestRefusedDatabaseIsUnavailable(t *testing.T) {
	st, proxy := openProxied(t, 10*time.Second)
	proxy.Refuse()
	ctx := context.Background()
	err := answerWithin(t, 15*time.Second, func() error {
		return st.Tx(ctx, func(tx *gorm.DB) error { return insertPractice(tx, uuid.Must(uuid.NewV7())) })
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Tx on a refusing database = %v, want ErrUnavailable", err)
	}
	var n int64
	err = answerWithin(t, 15*time.Second, func() error { return st.DB.WithContext(ctx).Table("practices").Count(&n).Error })
	if !errors.Is(store.Classify(err), store.ErrUnavailable) {
		t.Fatalf("read on a refusing database = %v, want ErrUnavailable", err)
	}
}

// TestDeadPooledConnectionIsRetriedForReads drops every pooled connection,
// as a server restart does, and reads at once: the read runs again on a
// fresh connection instead of failing. A write is never repeated.
func TestDeadPooledConnectionIsRetriedForReads(t *testing.T) {
	st, proxy := openProxied(t, 10*time.Second)
	ctx := context.Background()
	id := uuid.Must(uuid.NewV7())
	if err := insertPractice(st.DB.WithContext(ctx), id); err != nil {
		t.Fatal(err)
	}
	warmPool(t, st)
	for round := range 3 {
		proxy.DropConnections()
		var n int64
		if err := st.DB.WithContext(ctx).Table("practices").Where("id = ?", id).Count(&n).Error; err != nil || n != 1 {
			t.Fatalf("round %d: read after the connections died = %d, %v; want 1 and no error", round, n, err)
		}
		var name string
		if err := st.DB.WithContext(ctx).Raw("SELECT name FROM practices WHERE id = ?", id).Row().Scan(&name); err != nil {
			t.Fatalf("round %d: single-row read after the connections died: %v", round, err)
		}
	}

	// A write on a dead connection is not repeated: it fails, for the
	// caller to answer 503 and the client to retry, unless database/sql
	// found the connection dead before sending anything.
	proxy.DropConnections()
	err := st.DB.WithContext(ctx).Exec("UPDATE practices SET name = name || 'x' WHERE id = ?", id).Error
	if err != nil && !errors.Is(store.Classify(err), store.ErrUnavailable) {
		t.Fatalf("write on a dead connection = %v, want ErrUnavailable", err)
	}
	var name string
	if err := st.DB.WithContext(ctx).Raw("SELECT name FROM practices WHERE id = ?", id).Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	if ran := strings.Count(name, "x"); ran > 1 || (err == nil && ran != 1) {
		t.Fatalf("the write ran %d times (error %v)", ran, err)
	}
}

// warmPool opens several connections and returns them to the pool idle.
func warmPool(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	var conns []*sql.Conn
	for range 4 {
		c, err := st.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		_ = c.Close()
	}
}
