package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Version int64
	Name    string
	Applied bool
}

// migrationFiles is the embedded migrations of the store's dialect.
func (s *Store) migrationFiles() (fs.FS, goose.Dialect, error) {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	if s.Dialect == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	return sub, dialect, err
}

// provider returns goose's migration provider and a function that releases
// what it holds. On PostgreSQL migrations run on connections of their own,
// without the statement_timeout that bounds requests: building an index on
// a large table may rightly take longer than any request.
func (s *Store) provider() (*goose.Provider, func(), error) {
	files, dialect, err := s.migrationFiles()
	if err != nil {
		return nil, nil, err
	}
	db, release := s.writer, func() {}
	opts := []goose.ProviderOption{goose.WithGoMigrations(s.riverMigrations()...)}
	if s.Dialect == Postgres {
		// Replicas starting together, or the migration Job beside them, take
		// turns: an advisory lock serialises migrations.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
		if s.migrateConfig != nil {
			db = stdlib.OpenDB(*s.migrateConfig)
			release = func() { _ = db.Close() }
		}
	}
	if s.Dialect == SQLite {
		// goose holds a connection of its pool while it runs River's
		// migration (a Go migration) on another: the single writer
		// connection is not enough.
		db, err = sql.Open(sqlite.DriverName, s.sqliteWriterDSN)
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(2)
		release = func() { _ = db.Close() }
	}
	p, err := goose.NewProvider(dialect, db, files, opts...)
	if err != nil {
		release()
		return nil, nil, err
	}
	return p, release, nil
}

// MigrateUp applies every pending migration and returns how many it applied.
func (s *Store) MigrateUp(ctx context.Context) (int, error) {
	p, release, err := s.provider()
	if err != nil {
		return 0, err
	}
	defer release()
	results, err := p.Up(ctx)
	if err != nil {
		return len(results), fmt.Errorf("migrate up: %w", err)
	}
	return len(results), nil
}

// MigrateDown rolls back the newest applied migration.
func (s *Store) MigrateDown(ctx context.Context) error {
	p, release, err := s.provider()
	if err != nil {
		return err
	}
	defer release()
	if _, err := p.Down(ctx); err != nil {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// MigrateStatus lists every migration and whether it is applied.
func (s *Store) MigrateStatus(ctx context.Context) ([]MigrationStatus, error) {
	p, release, err := s.provider()
	if err != nil {
		return nil, err
	}
	defer release()
	st, err := p.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, len(st))
	for i, m := range st {
		name := m.Source.Path
		if m.Source.Type == goose.TypeGo {
			name = riverMigrationName // the only Go migration
		}
		out[i] = MigrationStatus{Version: m.Source.Version, Name: name, Applied: m.State == goose.StateApplied}
	}
	return out, nil
}
