package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"gorm.io/gorm"
)

// River, the job queue, keeps its jobs in this database: a job is inserted
// in the same transaction as the change that causes it, so the two commit
// or roll back together.

// riverDriver is River's driver on the connections db.
func (s *Store) riverDriver(db *sql.DB) riverdriver.Driver[*sql.Tx] {
	if s.Dialect == Postgres {
		return riverdatabasesql.New(db)
	}
	return riversqlite.New(db)
}

// newInserter returns the insert-only River client InsertJob uses.
func (s *Store) newInserter() error {
	c, err := river.NewClient(s.riverDriver(s.writer), &river.Config{Logger: s.log, Middleware: s.jobMiddleware})
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	s.jobs = c
	return nil
}

// ErrNoTransaction is the answer to a job inserted outside a transaction.
var ErrNoTransaction = errors.New("a job is inserted only inside the transaction of the change that causes it")

// InsertJob inserts a job in tx, the open transaction of the change that
// causes it (Tx's callback argument); it commits or rolls back with it. It
// reports whether the job was new: a job whose unique key matches one
// already queued or done is not inserted again. A job is never inserted
// outside a transaction: on SQLite's single writer connection that would
// wait for the very transaction it belongs in.
func (s *Store) InsertJob(ctx context.Context, tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) (bool, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return false, ErrNoTransaction
	}
	res, err := s.jobs.InsertTx(ctx, sqlTx, args, opts)
	if err != nil {
		return false, fmt.Errorf("insert %s job: %w", args.Kind(), err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// InsertJobs inserts jobs in tx as InsertJob does, in one statement
// however many there are, and reports for each whether it was new.
func (s *Store) InsertJobs(ctx context.Context, tx *gorm.DB, params []river.InsertManyParams) ([]bool, error) {
	if len(params) == 0 {
		return nil, nil
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, ErrNoTransaction
	}
	res, err := s.jobs.InsertManyTx(ctx, sqlTx, params)
	if err != nil {
		return nil, fmt.Errorf("insert %d jobs: %w", len(params), err)
	}
	inserted := make([]bool, len(res))
	for i, r := range res {
		inserted[i] = !r.UniqueSkippedAsDuplicate
	}
	return inserted, nil
}

// NewJobClient returns a River client that works jobs as cfg says, and a
// function that releases what it holds once the client has stopped. On
// PostgreSQL it listens for new jobs (LISTEN/NOTIFY) on a small pool of its
// own, and polls as well; on SQLite it polls.
func (s *Store) NewJobClient(cfg *river.Config) (*river.Client[*sql.Tx], func(), error) {
	driver := s.riverDriver(s.writer)
	release := func() {}
	if s.Dialect == SQLite {
		// River's own work (fetching, completing, maintenance) runs on a
		// writer connection of its own, and meets the application's
		// writer in SQLite's busy wait, as a worker process would. On the
		// application's single writer it would queue requests behind it,
		// and a lock held by another process would hold both.
		db, err := sql.Open(sqlite.DriverName, s.sqliteWriterDSN)
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		driver = s.riverDriver(db)
		release = func() { _ = db.Close() }
	}
	if s.Dialect == Postgres && s.migrateConfig != nil {
		pcfg, err := pgxpool.ParseConfig("")
		if err != nil {
			return nil, nil, err
		}
		// The listener holds one connection; it has no statement_timeout
		// (it waits for notifications for as long as it runs).
		pcfg.ConnConfig = s.migrateConfig.Copy()
		pcfg.MaxConns = 2
		pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
		if err != nil {
			return nil, nil, fmt.Errorf("job queue listener: %w", redactURLError(err))
		}
		driver = riverdatabasesql.NewWithPgxListener(s.writer, pool)
		release = pool.Close
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	cfg.Middleware = append(cfg.Middleware, s.jobMiddleware...)
	c, err := river.NewClient(driver, cfg)
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("job queue: %w", err)
	}
	return c, release, nil
}

// riverMigrationVersion is the goose version of the migration that brings
// River's own schema to riverSchemaVersion. Upgrading River to a release
// with new migrations of its own takes a new goose migration that moves
// its schema to the new version.
const (
	riverMigrationVersion int64 = 6
	riverMigrationName          = "river_job_queue"
	riverSchemaVersion          = 8 // River v0.51.2's newest main-line migration
)

// riverMigrations are River's own migrations, run as goose migrations of
// Tandem's, so that `tandem migrate` and serve apply them with the rest,
// under the same lock, and CheckSchema sees them.
func (s *Store) riverMigrations() []*goose.Migration {
	migrateTo := func(target int) func(context.Context, *sql.DB) error {
		return func(ctx context.Context, db *sql.DB) error {
			m, err := rivermigrate.New(s.riverDriver(db), &rivermigrate.Config{Logger: s.log})
			if err != nil {
				return err
			}
			direction := rivermigrate.DirectionUp
			if target < 0 {
				direction = rivermigrate.DirectionDown
			}
			_, err = m.Migrate(ctx, direction, &rivermigrate.MigrateOpts{TargetVersion: target})
			return err
		}
	}
	return []*goose.Migration{goose.NewGoMigration(riverMigrationVersion,
		&goose.GoFunc{RunDB: migrateTo(riverSchemaVersion)},
		&goose.GoFunc{RunDB: migrateTo(-1)})}
}
