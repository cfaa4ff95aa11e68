package ratelimit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"sync/atomic"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/store"
)

// Budget spends one request of a key's budget: the in-memory Limiter of a
// single process, or a Shared one that every replica on a PostgreSQL
// database spends together.
type Budget interface {
	Rule() Rule
	// Take spends one token of key's budget. When none is left it returns
	// false and how long until one is.
	Take(ctx context.Context, key string) (ok bool, wait time.Duration, err error)
}

// Failures counts failed attempts per key: the in-memory Backoff of a
// single process, or a SharedBackoff that every replica counts together.
type Failures interface {
	// Wait returns how long key must still wait; zero when it may try now.
	Wait(ctx context.Context, key string) (time.Duration, error)
	// Fail records a failed attempt of key and returns the wait it now has.
	Fail(ctx context.Context, key string) (time.Duration, error)
	// Reset forgets key's failures, after a success.
	Reset(ctx context.Context, key string) error
}

// NewBudget returns the budget rule keeps per key under scope: shared
// through st when it is PostgreSQL, where several processes may serve, and
// in memory on SQLite, where one does.
func NewBudget(st *store.Store, scope string, rule Rule, clk clock.Clock) Budget {
	if st != nil && st.Dialect == store.Postgres {
		return &Shared{db: st.SQL(), scope: scope, rule: rule, clock: clk}
	}
	return New(rule, clk)
}

// NewFailures returns the back-off rule keeps per key under scope: shared
// through st on PostgreSQL, in memory on SQLite (see NewBudget).
func NewFailures(st *store.Store, scope string, rule BackoffRule, clk clock.Clock) Failures {
	if st != nil && st.Dialect == store.Postgres {
		return &SharedBackoff{db: st.SQL(), scope: scope, rule: rule, clock: clk}
	}
	return memoryFailures{NewBackoff(rule, clk)}
}

// Take implements Budget for one process.
func (l *Limiter) Take(_ context.Context, key string) (bool, time.Duration, error) {
	ok, wait := l.Allow(key)
	return ok, wait, nil
}

// memoryFailures is a Backoff as Failures.
type memoryFailures struct{ b *Backoff }

func (m memoryFailures) Wait(_ context.Context, key string) (time.Duration, error) {
	return m.b.Wait(key), nil
}

func (m memoryFailures) Fail(_ context.Context, key string) (time.Duration, error) {
	return m.b.Fail(key), nil
}

func (m memoryFailures) Reset(_ context.Context, key string) error {
	m.b.Reset(key)
	return nil
}

// Shared is a token bucket per key kept in PostgreSQL's rate_limits table
// (migration 00010), as the time at which the key's budget is full again
// (GCRA): each request moves it one emission interval (Per/Burst) later,
// and is refused when that would put it more than Per ahead of now. One
// upsert decides and records a request atomically, whichever replica
// serves it.
type Shared struct {
	db    *sql.DB
	scope string
	rule  Rule
	clock clock.Clock
	swept atomic.Int64 // when this process last swept, in microseconds
}

// Rule is the budget kept per key.
func (s *Shared) Rule() Rule { return s.rule }

// Take implements Budget.
func (s *Shared) Take(ctx context.Context, key string) (bool, time.Duration, error) {
	now := s.clock.Now().UnixMicro()
	interval := (s.rule.Per / time.Duration(s.rule.Burst)).Microseconds()
	window := s.rule.Per.Microseconds()
	s.sweep(ctx, now)
	var tat int64
	err := s.db.QueryRowContext(ctx, `INSERT INTO rate_limits AS r (scope, key_hash, tat) VALUES ($1, $2, $3::bigint + $4::bigint)
		ON CONFLICT (scope, key_hash) DO UPDATE SET tat = GREATEST(r.tat, $3::bigint) + $4::bigint
		WHERE GREATEST(r.tat, $3::bigint) + $4::bigint - $3::bigint <= $5::bigint
		RETURNING tat`, s.scope, hashKey(key), now, interval, window).Scan(&tat)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, err
	}
	// Refused: the budget is spent until tat is within the window again.
	if err := s.db.QueryRowContext(ctx, `SELECT tat FROM rate_limits WHERE scope = $1 AND key_hash = $2`,
		s.scope, hashKey(key)).Scan(&tat); err != nil {
		return false, 0, err
	}
	return false, time.Duration(max(tat, now)+interval-now-window) * time.Microsecond, nil
}

// sweep deletes, at most once a window per process, the buckets that are
// full again: they count nothing.
func (s *Shared) sweep(ctx context.Context, now int64) {
	last := s.swept.Load()
	if now-last < s.rule.Per.Microseconds() || !s.swept.CompareAndSwap(last, now) {
		return
	}
	_, _ = s.db.ExecContext(ctx, `DELETE FROM rate_limits WHERE scope = $1 AND tat < $2`, s.scope, now)
}

// SharedBackoff counts failures per key in PostgreSQL's failure_counts
// table (migration 00010), by the rule of BackoffRule.
type SharedBackoff struct {
	db    *sql.DB
	scope string
	rule  BackoffRule
	clock clock.Clock
	swept atomic.Int64
}

// Wait implements Failures.
func (b *SharedBackoff) Wait(ctx context.Context, key string) (time.Duration, error) {
	now := b.clock.Now().UnixMicro()
	var until int64
	err := b.db.QueryRowContext(ctx, `SELECT until_at FROM failure_counts WHERE scope = $1 AND key_hash = $2`,
		b.scope, hashKey(key)).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) || err == nil && until <= now {
		return 0, nil
	}
	return time.Duration(until-now) * time.Microsecond, err
}

// Fail implements Failures. The count and the wait are decided by one
// upsert each: concurrent failures on several replicas all count, and the
// longest wait stands.
func (b *SharedBackoff) Fail(ctx context.Context, key string) (time.Duration, error) {
	now := b.clock.Now().UnixMicro()
	b.sweep(ctx, now)
	h := hashKey(key)
	var n int
	err := b.db.QueryRowContext(ctx, `INSERT INTO failure_counts AS f (scope, key_hash, failures, last_at, until_at)
		VALUES ($1, $2, 1, $3, 0)
		ON CONFLICT (scope, key_hash) DO UPDATE SET last_at = $3,
			failures = CASE WHEN $3::bigint - f.last_at > $4::bigint THEN 1 ELSE f.failures + 1 END
		RETURNING failures`, b.scope, h, now, b.rule.Forget.Microseconds()).Scan(&n)
	if err != nil {
		return 0, err
	}
	wait := b.rule.wait(n)
	if wait == 0 {
		return 0, nil
	}
	_, err = b.db.ExecContext(ctx, `UPDATE failure_counts SET until_at = GREATEST(until_at, $3)
		WHERE scope = $1 AND key_hash = $2`, b.scope, h, now+wait.Microseconds())
	return wait, err
}

// Reset implements Failures.
func (b *SharedBackoff) Reset(ctx context.Context, key string) error {
	_, err := b.db.ExecContext(ctx, `DELETE FROM failure_counts WHERE scope = $1 AND key_hash = $2`, b.scope, hashKey(key))
	return err
}

// sweep deletes, at most once per Forget per process, the keys whose last
// failure is forgotten.
func (b *SharedBackoff) sweep(ctx context.Context, now int64) {
	last := b.swept.Load()
	if now-last < b.rule.Forget.Microseconds() || !b.swept.CompareAndSwap(last, now) {
		return
	}
	_, _ = b.db.ExecContext(ctx, `DELETE FROM failure_counts WHERE scope = $1 AND last_at < $2`,
		b.scope, now-b.rule.Forget.Microseconds())
}

// hashKey is what the shared tables store of a key: its SHA-256, so that
// no address or account name is kept.
func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
