package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/plugin/dbresolver"
)

// A PostgreSQL streaming replica, when TANDEM_DATABASE_REPLICA_URL names
// one, takes the reads that tolerate a little lag (Lagging): dashboards,
// therapists' lists, calendar feeds. Everything else, and every read inside
// a transaction, stays on the primary. Three rules keep that safe:
//
//   - A replica that lags more than its maximum lag (2 s unless configured),
//     or does not answer, is
//     not used until it catches up (a monitor checks every second); a
//     query the replica fails to answer runs on the primary instead.
//   - A user who has just written reads from the primary for five times
//     the maximum lag (at least 10 s): every write request marks its user in a table
//     on the primary before it runs (RecentWriter, MarkWriter), on
//     whichever API replica it lands, so their next reads see it.
//   - Nothing that decides access (sessions, consents checked before a
//     disclosure) is read from the replica.

// replicaResolver names dbresolver's resolver for the replica. It is no
// table, so no query goes there unless it asks (Lagging).
const replicaResolver = "tandem_replica"

// DefaultReplicaMaxLag is how far behind the replica may be and still
// serve, unless configured otherwise.
const DefaultReplicaMaxLag = 2 * time.Second

// readYourWritesWindow is how long after a write its user reads from the
// primary: five times the replica's maximum lag, so that a replica still
// serving has replayed the write by then, and at least 10 s.
func readYourWritesWindow(maxLag time.Duration) time.Duration { return max(10*time.Second, 5*maxLag) }

// replicaCheckEvery is how often the monitor measures the replica's lag.
const replicaCheckEvery = time.Second

// replica is the replica's pool and what the monitor last found.
type replica struct {
	db      *sql.DB
	maxLag  time.Duration
	healthy atomic.Bool
	stop    context.CancelFunc
	done    chan struct{}
}

// openReplica opens the replica's pool, registers it with GORM under
// replicaResolver, and starts the monitor.
func openReplica(s *Store, rawURL string, requestTimeout, maxLag time.Duration) error {
	cfg, _, err := postgresConfig(rawURL, "", requestTimeout)
	if err != nil {
		return fmt.Errorf("open replica: %w", redactURLError(err))
	}
	if maxLag <= 0 {
		maxLag = DefaultReplicaMaxLag
	}
	r := &replica{db: stdlib.OpenDB(*cfg), maxLag: maxLag, done: make(chan struct{})}
	r.db.SetMaxOpenConns(MaxOpenConns)
	r.db.SetMaxIdleConns(maxIdleConns)
	r.db.SetConnMaxIdleTime(5 * time.Minute)
	pool := fallbackPool{s: s, replica: r.db, primary: s.writer}
	err = s.DB.Use(dbresolver.Register(dbresolver.Config{
		Replicas: []gorm.Dialector{postgres.New(postgres.Config{Conn: pool})},
	}, replicaResolver))
	if err != nil {
		_ = r.db.Close()
		return fmt.Errorf("open replica: %w", err)
	}
	s.replica = r
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	s.checkReplica(ctx)
	go func() {
		defer close(r.done)
		t := time.NewTicker(replicaCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.checkReplica(ctx)
			}
		}
	}()
	return nil
}

// checkReplica measures the replica's lag and records whether it may serve.
func (s *Store) checkReplica(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, replicaCheckEvery)
	defer cancel()
	ok, reason := s.replicaFresh(ctx)
	if was := s.replica.healthy.Swap(ok); was != ok {
		if ok {
			s.log.Info("the read replica serves again")
		} else {
			s.log.Warn("the read replica does not serve: reads go to the primary", slog.String("reason", reason))
		}
	}
}

// replicaFresh reports whether the replica is a replica in recovery that
// has replayed everything the primary wrote, or is at most its maximum lag
// behind it.
func (s *Store) replicaFresh(ctx context.Context) (bool, string) {
	var inRecovery bool
	var replayed sql.NullFloat64
	var lagSeconds float64
	err := s.replica.db.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'),
  COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)`).Scan(&inRecovery, &replayed, &lagSeconds)
	if err != nil {
		return false, "it does not answer: " + err.Error()
	}
	if !inRecovery || !replayed.Valid {
		return false, "it is not a streaming replica (pg_is_in_recovery is false)"
	}
	var written float64
	if err := s.writer.QueryRowContext(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')`).Scan(&written); err != nil {
		return false, "the primary does not answer: " + err.Error()
	}
	if replayed.Float64 >= written {
		return true, ""
	}
	if lag := time.Duration(lagSeconds * float64(time.Second)); lag > s.replica.maxLag {
		return false, fmt.Sprintf("it lags %s behind the primary", lag.Round(time.Millisecond))
	}
	return true, ""
}

// HasReplica reports whether a read replica is configured.
func (s *Store) HasReplica() bool { return s.replica != nil }

// ReplicaServes reports whether the replica takes lag-tolerant reads now.
func (s *Store) ReplicaServes() bool { return s.replica != nil && s.replica.healthy.Load() }

type primaryOnlyKey struct{}

// PrimaryOnly returns ctx whose lag-tolerant reads still go to the primary:
// its user has just written.
func PrimaryOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryOnlyKey{}, true)
}

// Lagging returns the handle for a read that tolerates the replica's lag:
// the replica when one serves and ctx's user has not just written (see
// PrimaryOnly), otherwise the primary. Never for a read whose answer
// decides what someone may see or do.
func (s *Store) Lagging(ctx context.Context) *gorm.DB {
	db := s.DB.WithContext(ctx)
	if !s.ReplicaServes() || ctx.Value(primaryOnlyKey{}) != nil {
		return db
	}
	// Read: dbresolver would take a raw statement that does not start with
	// SELECT (a WITH query) for a write. A new session, so that the handle
	// is reused safely for several statements, as DB.WithContext's is.
	return db.Clauses(dbresolver.Use(replicaResolver), dbresolver.Read).Session(&gorm.Session{})
}

// MarkWriter records, on the primary, that user is about to write: their
// reads go to the primary for a while (see RecentWriter).
// Only with a replica; a no-op otherwise.
func (s *Store) MarkWriter(ctx context.Context, user uuid.UUID) error {
	if s.replica == nil {
		return nil
	}
	until := time.Now().Add(readYourWritesWindow(s.replica.maxLag)).UTC()
	return Classify(s.DB.WithContext(ctx).Exec(`INSERT INTO recent_writers (user_id, until) VALUES (?, ?)
ON CONFLICT (user_id) DO UPDATE SET until = GREATEST(recent_writers.until, EXCLUDED.until)`, user, until).Error)
}

// RecentWriter reports whether user wrote recently enough that the replica
// may not have it yet.
func (s *Store) RecentWriter(ctx context.Context, user uuid.UUID) (bool, error) {
	if s.replica == nil {
		return false, nil
	}
	var n int64
	err := s.DB.WithContext(ctx).Raw(`SELECT count(*) FROM recent_writers WHERE user_id = ? AND until > ?`,
		user, time.Now().UTC()).Scan(&n).Error
	return n > 0, Classify(err)
}

// fallbackPool is the replica's connection pool as GORM sees it: a query
// the replica cannot answer (down, restarting, unreachable) runs on the
// primary, and the replica rests until the monitor finds it fresh again.
type fallbackPool struct {
	s                *Store
	replica, primary *sql.DB
}

// GetDBConn lets gorm.DB.DB return the replica's pool.
func (p fallbackPool) GetDBConn() (*sql.DB, error) { return p.replica, nil }

// PrepareContext prepares on the replica.
func (p fallbackPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.replica.PrepareContext(ctx, query)
}

// ExecContext runs on the primary: nothing is written to a replica.
func (p fallbackPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.primary.ExecContext(ctx, query, args...)
}

// QueryContext reads from the replica, or from the primary when it fails.
func (p fallbackPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if p.s.ReplicaServes() {
		rows, err := p.replica.QueryContext(ctx, query, args...)
		if !p.unreachable(ctx, err) {
			return rows, err
		}
	}
	return p.primary.QueryContext(ctx, query, args...)
}

// QueryRowContext is QueryContext for one row.
func (p fallbackPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if p.s.ReplicaServes() {
		row := p.replica.QueryRowContext(ctx, query, args...)
		if !p.unreachable(ctx, row.Err()) {
			return row
		}
	}
	return p.primary.QueryRowContext(ctx, query, args...)
}

// unreachable reports whether err says the replica could not be reached
// or its connection broke (while the request still has time), and if so
// stops using it until the monitor finds it fresh.
func (p fallbackPool) unreachable(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	var connect *pgconn.ConnectError
	if !errors.As(err, &connect) && !deadConnection(err) && !lostConnection(err) {
		return false
	}
	if p.s.replica.healthy.Swap(false) {
		p.s.log.Warn("the read replica failed a query: reads go to the primary", slog.String("error", err.Error()))
	}
	return true
}

// closeReplica stops the monitor and closes the replica's pool.
func (s *Store) closeReplica() error {
	if s.replica == nil {
		return nil
	}
	s.replica.stop()
	<-s.replica.done
	return s.replica.db.Close()
}
