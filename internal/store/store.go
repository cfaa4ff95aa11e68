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
	"net/url"
	"os"
	"time"

	"github.com/glebarez/sqlite"
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
}

// Options says which database to open.
type Options struct {
	// PostgresURL selects PostgreSQL; empty selects SQLite at SQLitePath.
	PostgresURL string
	SQLitePath  string
	Logger      *slog.Logger
	// GormLogger overrides GORM's logger (tests use it to count queries).
	GormLogger logger.Interface
}

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

	s := &Store{log: log}
	var err error
	if opts.PostgresURL != "" {
		s.Dialect = Postgres
		s.DB, err = gorm.Open(postgres.Open(opts.PostgresURL), gcfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", redactURLError(err))
		}
		if s.writer, err = s.DB.DB(); err != nil {
			return nil, err
		}
		s.writer.SetMaxOpenConns(20)
		s.writer.SetMaxIdleConns(10)
		s.writer.SetConnMaxIdleTime(5 * time.Minute)
	} else {
		s.Dialect = SQLite
		if err := openSQLite(s, opts.SQLitePath, gcfg); err != nil {
			return nil, err
		}
	}

	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.Ping(pingCtx); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("database does not answer: %w", err)
	}
	return s, nil
}

// openSQLite opens one writer connection (SQLite allows a single writer;
// queuing in Go's pool avoids SQLITE_BUSY) and a separate pool of read-only
// connections that WAL lets run beside it.
func openSQLite(s *Store, path string, gcfg *gorm.Config) error {
	if path == "" {
		return errors.New("sqlite path is empty")
	}
	if dir := dirOf(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
	}
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(FULL)" // an acknowledged write survives power loss too
	writerDSN := "file:" + url.PathEscape(path) + "?" + common + "&_txlock=immediate"
	readerDSN := "file:" + url.PathEscape(path) + "?" + common + "&_pragma=query_only(1)"

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
	s.readers.SetMaxOpenConns(4)
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
	var errs []error
	if s.readers != nil {
		errs = append(errs, s.readers.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// Tx runs fn in one transaction: it commits when fn returns nil and rolls
// back otherwise, so a business operation lands whole or not at all.
func (s *Store) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.DB.WithContext(ctx).Transaction(fn)
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
