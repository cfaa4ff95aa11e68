// Package store opens Tandem's database — PostgreSQL in production, an
// embedded SQLite file by default — applies the versioned migrations, and
// runs business operations in transactions.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/plugin/dbresolver"
)

// Dialect names the database engine in use.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the open database.
type Store struct {
	// DB is the GORM handle services use. On SQLite, writes and transactions
	// go to a single connection and reads outside a transaction to a pool.
	DB      *gorm.DB
	Dialect Dialect
	writer  *sql.DB
	readers *sql.DB // SQLite only: the read-only pool
	log     *slog.Logger
	// migrateConfig is PostgreSQL's connection config without the
	// statement_timeout added for requests.
	migrateConfig *pgx.ConnConfig
	// sqliteWriterDSN opens more writer connections to the SQLite file:
	// for migrations (see provider) and River's workers (NewJobClient).
	sqliteWriterDSN string
	// jobs inserts River jobs (see InsertJob); it works none.
	jobs *river.Client[*sql.Tx]
	// jobMiddleware wraps inserting and working jobs: tracing, when on.
	jobMiddleware []rivertype.Middleware
	// replica is PostgreSQL's read replica, when one is configured.
	replica *replica
}

// Options says which database to open.
type Options struct {
	// PostgresURL selects PostgreSQL; empty selects SQLite at SQLitePath.
	PostgresURL string
	// PostgresDirectURL, when set, is the same database reached without
	// the connection pooler that PostgresURL goes through (PgBouncer in
	// transaction mode). Migrations, which hold a session advisory lock,
	// and the job queue's LISTEN need a session of their own and use it;
	// on PostgresURL Tandem then uses no named prepared statements and sets
	// no statement_timeout (set it on the database role instead).
	PostgresDirectURL string
	// PostgresReplicaURL, when set, is a streaming replica of the database
	// for the reads that tolerate lag (see Lagging).
	PostgresReplicaURL string
	// ReplicaMaxLag is how far behind the replica may be and still serve
	// (zero: DefaultReplicaMaxLag).
	ReplicaMaxLag time.Duration
	SQLitePath    string
	Logger        *slog.Logger
	// GormLogger overrides GORM's logger (tests use it to count queries).
	GormLogger logger.Interface
	// RequestTimeout is the longest a request may take (zero: 10s). The
	// database's own limits follow from it: PostgreSQL ends a statement a
	// second after it, and SQLite waits for another writer's lock half as
	// long, so that a locked database is answered before the deadline.
	RequestTimeout time.Duration
}

// DefaultRequestTimeout is the request timeout when Options leaves it out.
const DefaultRequestTimeout = 10 * time.Second

// MaxOpenConns bounds the PostgreSQL pool; maxIdleConns is how many of
// them stay open while idle: all of them, since a connection closed after
// a burst is opened again (a new backend, a new TLS handshake) on the next
// one. The load driver saw 235 reconnections in 20 s with 10 idle of 20.
const (
	MaxOpenConns = 20
	maxIdleConns = MaxOpenConns
)

// Open connects to the database and checks it answers. It does not migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gl := opts.GormLogger
	if gl == nil {
		gl = logger.Discard
	}
	gcfg := &gorm.Config{
		Logger:                 gl,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true, // business operations open their own transactions
		TranslateError:         true,
	}

	timeout := opts.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}

	s := &Store{log: log}
	if opts.PostgresURL != "" {
		s.Dialect = Postgres
		if err := openPostgres(s, opts.PostgresURL, opts.PostgresDirectURL, timeout, gcfg); err != nil {
			return nil, err
		}
		if opts.PostgresReplicaURL != "" {
			if err := openReplica(s, opts.PostgresReplicaURL, timeout, opts.ReplicaMaxLag); err != nil {
				_ = s.Close()
				return nil, err
			}
		}
	} else {
		s.Dialect = SQLite
		if err := openSQLite(s, opts.SQLitePath, sqliteBusyTimeout(timeout), gcfg); err != nil {
			return nil, err
		}
	}

	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("database does not answer: %w", err)
	}
	if err := s.newInserter(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// openPostgres opens the pool of PostgreSQL connections, with the timeouts
// postgresConfig adds, and GORM on it.
func openPostgres(s *Store, rawURL, directURL string, requestTimeout time.Duration, gcfg *gorm.Config) error {
	cfg, migrateCfg, err := postgresConfig(rawURL, directURL, requestTimeout)
	if err != nil {
		return fmt.Errorf("open postgres: %w", redactURLError(err))
	}
	s.migrateConfig = migrateCfg
	s.writer = stdlib.OpenDB(*cfg)
	s.writer.SetMaxOpenConns(MaxOpenConns)
	s.writer.SetMaxIdleConns(maxIdleConns)
	s.writer.SetConnMaxIdleTime(5 * time.Minute)
	s.DB, err = gorm.Open(postgres.New(postgres.Config{Conn: readRetryPool{s.writer}}), gcfg)
	if err != nil {
		_ = s.writer.Close()
		return fmt.Errorf("open postgres: %w", redactURLError(err))
	}
	return nil
}

// sqliteBusyTimeout is how long a SQLite write waits for a lock another
// process holds: half the request's time, at most 5 seconds, so that a
// locked database answers 503 while the caller still listens.
func sqliteBusyTimeout(requestTimeout time.Duration) time.Duration {
	return min(requestTimeout/2, 5*time.Second)
}

// readers is the size of SQLite's read pool.
const readers = 4

// openSQLite opens one writer connection (SQLite allows a single writer;
// queuing in Go's pool avoids SQLITE_BUSY) and a separate pool of read-only
// connections that WAL lets run beside it.
func openSQLite(s *Store, path string, busyTimeout time.Duration, gcfg *gorm.Config) error {
	if path == "" {
		return errors.New("sqlite path is empty")
	}
	if dir := dirOf(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	common := "_pragma=busy_timeout(" + strconv.FormatInt(max(busyTimeout.Milliseconds(), 1), 10) + ")" +
		"&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" // an acknowledged write survives power loss too
	writerDSN := "file:" + url.PathEscape(path) + "?" + common + "&_txlock=immediate"
	// Readers keep a larger page cache (64 MiB each, against SQLite's 2 MiB
	// default): the dashboard's aggregates read most of a practice's pages.
	readerDSN := "file:" + url.PathEscape(path) + "?" + common + "&_pragma=query_only(1)&_pragma=cache_size(-65536)"

	s.sqliteWriterDSN = writerDSN
	var err error
	s.DB, err = gorm.Open(sqlite.Open(writerDSN), gcfg)
	if err != nil {
		return fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if s.writer, err = s.DB.DB(); err != nil {
		return err
	}
	s.readers, err = sql.Open(sqlite.DriverName, readerDSN)
	if err != nil {
		return fmt.Errorf("sqlite read pool: %w", err)
	}
	// Every reader stays open: a connection closed as idle loses its page
	// cache, and database/sql keeps only two idle ones unless told.
	s.readers.SetMaxOpenConns(readers)
	s.readers.SetMaxIdleConns(readers)
	s.readers.SetConnMaxIdleTime(0)
	resolver := dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{sqlite.Dialector{Conn: s.readers}},
	})
	if err := s.DB.Use(resolver); err != nil {
		return fmt.Errorf("sqlite read pool: %w", err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxIdleTime(0)
	s.writer.SetConnMaxLifetime(0)
	return nil
}

// SQL returns the primary (writer) connection pool, for migrations and pool metrics.
func (s *Store) SQL() *sql.DB { return s.writer }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.DB.WithContext(ctx).Exec("SELECT 1").Error
}

// Close releases every connection.
func (s *Store) Close() error {
	errs := []error{s.closeReplica()}
	if s.readers != nil {
		errs = append(errs, s.readers.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// maxTxAttempts bounds how often Tx runs a transaction that keeps colliding
// with others.
const maxTxAttempts = 4

// Tx runs fn in one transaction: it commits when fn returns nil and rolls
// back otherwise, so a business operation lands whole or not at all.
//
// When the database aborts the transaction for colliding with another (a
// deadlock or a serialization failure), Tx runs fn again after a short,
// random pause, up to maxTxAttempts times in all; then it returns
// ErrContention. So fn must do nothing but database work, and must set
// every result it hands out anew on each run (not append to one). Every
// error Tx returns has been through Classify.
func (s *Store) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	for attempt := 1; ; attempt++ {
		err := s.DB.WithContext(ctx).Transaction(fn)
		if err != nil && ctx.Err() != nil {
			return endedByContext(ctx, err)
		}
		err = Classify(err)
		if !errors.Is(err, ErrContention) || attempt == maxTxAttempts {
			return err
		}
		s.log.DebugContext(ctx, "transaction collided; running it again",
			slog.Int("attempt", attempt), slog.String("error", err.Error()))
		if !pause(ctx, txBackoff(attempt)) {
			return endedByContext(ctx, err)
		}
	}
}

// endedByContext marks err, from a transaction whose context ended, as
// ErrUnavailable: the deadline or a cancellation stopped the work, whatever
// the driver's error says (often only that the transaction is done).
func endedByContext(ctx context.Context, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, errors.Join(err, context.Cause(ctx)))
}

// txBackoff is the pause before the next attempt: about 10 ms, doubling
// with each attempt, randomised by half either way so that the colliding
// transactions do not meet again.
func txBackoff(attempt int) time.Duration {
	d := 10 * time.Millisecond << (attempt - 1)
	return d/2 + rand.N(d)
}

// pause waits d, or until ctx ends, and reports whether it waited d.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// IsUniqueViolation reports whether err is a unique-constraint violation.
func IsUniqueViolation(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i]
		}
	}
	return ""
}

// redactURLError keeps a connection error from echoing the URL's password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("invalid database URL")
	}
	return err
}
