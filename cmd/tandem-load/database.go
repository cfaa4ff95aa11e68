package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tandem-coach/tandem/internal/store"
)

// database is one database Tandem runs on during a measurement: an
// SQLite file in the run's temporary directory, or a fresh PostgreSQL
// database created for the run and dropped after it.
type database struct {
	kind    string // "sqlite" or "postgres"
	dataDir string // TANDEM_DATA_DIR: the SQLite file, development keys
	pgURL   string // the fresh PostgreSQL database; empty on SQLite
	drop    func() error
}

// newSQLite places the database in dir.
func newSQLite(dir string) *database {
	return &database{kind: "sqlite", dataDir: filepath.Join(dir, "data"), drop: func() error { return nil }}
}

// newPostgres creates a database with a random name on the server adminURL
// names. Its drop removes it, connections and all.
func newPostgres(ctx context.Context, adminURL, dir string) (*database, error) {
	u, err := url.Parse(adminURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("-pg must be a postgres:// URL")
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "tandem_load_" + hex.EncodeToString(suffix)
	if err := adminExec(ctx, adminURL, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u.Path = "/" + name
	return &database{kind: "postgres", dataDir: filepath.Join(dir, "data"), pgURL: u.String(), drop: func() error {
		// A fresh context: the run's may be cancelled already (Ctrl-C).
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return adminExec(ctx, adminURL, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}}, nil
}

// adminExec runs one statement on its own connection.
func adminExec(ctx context.Context, adminURL, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// dbCounters are PostgreSQL's cumulative statistics of the run's
// database. Backends publish them about once a second, so a difference
// over a measurement is approximate at its edges.
type dbCounters struct {
	sessions int64 // connections opened
	commits  int64 // transactions committed: statements, outside a transaction
	// backendCPU is the CPU time, so far, of each server process that
	// serves a connection to the run's database, by process ID. PostgreSQL
	// runs on this machine, so /proc has them.
	backendCPU map[int]time.Duration
}

// cpuSince is the CPU time the run's database spent between c0 and c: of
// each backend of c, what it spent since c0, or since it started when it
// is new. A backend that exited in between is not counted: the pools keep
// their connections open.
func (c dbCounters) cpuSince(c0 dbCounters) time.Duration {
	var d time.Duration
	for pid, cpu := range c.backendCPU {
		d += cpu - c0.backendCPU[pid]
	}
	return d
}

// dbMonitor reads the counters on a connection of its own.
type dbMonitor struct{ conn *pgx.Conn }

func newDBMonitor(ctx context.Context, pgURL string) (*dbMonitor, error) {
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		return nil, err
	}
	return &dbMonitor{conn: conn}, nil
}

func (m *dbMonitor) read(ctx context.Context) (dbCounters, error) {
	var c dbCounters
	err := m.conn.QueryRow(ctx, "SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = current_database()").
		Scan(&c.sessions, &c.commits)
	if err != nil {
		return c, err
	}
	rows, err := m.conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	if err != nil {
		return c, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return c, err
	}
	c.backendCPU = make(map[int]time.Duration, len(pids))
	for _, pid := range pids {
		if cpu, err := cpuTime(int(pid)); err == nil { // else it has just exited
			c.backendCPU[int(pid)] = cpu
		}
	}
	return c, nil
}

// done counts the steps of ids that are done.
func (m *dbMonitor) done(ctx context.Context, ids []uuid.UUID) (int, error) {
	var n int
	err := m.conn.QueryRow(ctx, "SELECT count(*) FROM action_steps WHERE id = ANY($1) AND status = 'done'", ids).Scan(&n)
	return n, err
}

func (m *dbMonitor) close() { _ = m.conn.Close(context.Background()) }

// storeOptions opens the database as tandem serve does.
func (d *database) storeOptions() store.Options {
	if d.kind == "postgres" {
		return store.Options{PostgresURL: d.pgURL}
	}
	return store.Options{SQLitePath: filepath.Join(d.dataDir, "tandem.db")}
}

// serveEnv is the configuration of tandem serve on this database.
func (d *database) serveEnv(addr string) []string {
	settings := map[string]string{
		"TANDEM_ENV":         "development",
		"TANDEM_LISTEN_ADDR": addr,
		"TANDEM_DATA_DIR":    d.dataDir,
		"TANDEM_LOG_LEVEL":   "info", // the access log is part of what a request costs
	}
	if d.pgURL != "" {
		settings["TANDEM_DATABASE_URL"] = d.pgURL
	}
	return append(baseEnv(), envOf(settings)...)
}

// prepareTimeout bounds migrating and seeding, which take seconds: past
// it something waits that never will (a migration on a lock, say), and
// the run fails instead of hanging.
const prepareTimeout = 5 * time.Minute

// prepare migrates the empty database and seeds it, with the project's own
// store package, then leaves the planner statistics a live database would
// have.
func (d *database) prepare(ctx context.Context, poolSize int) (world, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, prepareTimeout,
		fmt.Errorf("migrating and seeding took more than %v", prepareTimeout))
	defer cancel()
	w, err := d.migrateAndSeed(ctx, poolSize)
	if err != nil && ctx.Err() != nil {
		return world{}, context.Cause(ctx)
	}
	return w, err
}

func (d *database) migrateAndSeed(ctx context.Context, poolSize int) (world, error) {
	st, err := store.Open(ctx, d.storeOptions())
	if err != nil {
		return world{}, err
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		return world{}, err
	}
	w, err := seed(ctx, st, poolSize)
	if err != nil {
		return world{}, fmt.Errorf("seed: %w", err)
	}
	// After a bulk load PostgreSQL's autovacuum would soon analyze the
	// tables; do it now so it does not start during a measurement. SQLite
	// has no such thing and Tandem never runs ANALYZE, so it stays as is.
	if d.kind == "postgres" {
		if err := st.DB.WithContext(ctx).Exec("VACUUM ANALYZE").Error; err != nil {
			return world{}, err
		}
	}
	return w, nil
}
