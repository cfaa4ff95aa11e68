package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/pressly/goose/v3"
)

// versionTable is where goose records the migrations it applied.
const versionTable = "goose_db_version"

// Schema is how the database's schema compares with the migrations built
// into this binary.
type Schema struct {
	// Pending lists the built-in migrations the database lacks, oldest
	// first. When it is empty, the schema is the one this binary needs.
	Pending []MigrationStatus
	// Missing says no migration was ever applied: the database is empty.
	Missing bool
}

// Current reports whether every built-in migration is applied. Migrations
// newer than the binary do not count against it: during a rolling release
// the old version keeps serving on the schema the new one migrated.
func (sc Schema) Current() bool { return len(sc.Pending) == 0 }

// CheckSchema compares the database's applied migrations with the built-in
// ones. It only reads: it neither creates goose's version table nor waits
// for the lock a running migration holds.
func (s *Store) CheckSchema(ctx context.Context) (Schema, error) {
	all, err := s.builtinMigrations()
	if err != nil {
		return Schema{}, err
	}
	db := s.DB.WithContext(ctx)
	// GORM's Migrator().HasTable swallows errors: a database that does not
	// answer would look empty.
	exists := "SELECT to_regclass('" + versionTable + "') IS NOT NULL"
	if s.Dialect == SQLite {
		exists = "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '" + versionTable + "'"
	}
	var found bool
	if err := db.Raw(exists).Scan(&found).Error; err != nil {
		return Schema{}, err
	}
	applied := map[int64]bool{}
	if found {
		var rows []struct {
			VersionID int64
			IsApplied bool
		}
		// As goose reads it: the newest row of each version says whether
		// it is applied.
		if err := db.Raw("SELECT version_id, is_applied FROM " + versionTable + " ORDER BY id DESC").Scan(&rows).Error; err != nil {
			return Schema{}, err
		}
		seen := map[int64]bool{}
		for _, r := range rows {
			if !seen[r.VersionID] {
				seen[r.VersionID] = true
				applied[r.VersionID] = r.IsApplied
			}
		}
	}
	var sc Schema
	sc.Missing = true
	for _, m := range all {
		if applied[m.Version] {
			sc.Missing = false
		} else {
			sc.Pending = append(sc.Pending, m)
		}
	}
	return sc, nil
}

// builtinMigrations lists the embedded migrations of the store's dialect,
// oldest first, none applied.
func (s *Store) builtinMigrations() ([]MigrationStatus, error) {
	return Migrations(s.Dialect)
}

// Migrations lists the embedded migrations of dialect, by version, none
// applied: what a database that does not exist yet would apply.
func Migrations(dialect Dialect) ([]MigrationStatus, error) {
	s := &Store{Dialect: dialect}
	files, _, err := s.migrationFiles()
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]MigrationStatus, 0, len(names))
	for _, name := range names {
		v, err := goose.NumericComponent(name)
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		out = append(out, MigrationStatus{Version: v, Name: strings.TrimSuffix(path.Base(name), ".sql")})
	}
	out = append(out, MigrationStatus{Version: riverMigrationVersion, Name: riverMigrationName})
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
