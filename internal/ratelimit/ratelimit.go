// Package ratelimit keeps request budgets (token buckets) and failure
// back-offs per key: an account, a client IP. On PostgreSQL, where several
// replicas serve, they are shared through the database (Shared,
// SharedBackoff), so that three replicas do not give an attacker three
// budgets; on SQLite, where one process serves, they stay in memory
// (Limiter, Backoff). NewBudget and NewFailures choose.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/tandem-coach/tandem/internal/clock"
)

// Rule allows Burst requests at once, refilled at Burst per Per.
type Rule struct {
	Burst int
	Per   time.Duration
}

// Limiter limits requests per key under one rule.
type Limiter struct {
	rule  Rule
	clock clock.Clock

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter applying rule.
func New(rule Rule, clk clock.Clock) *Limiter {
	return &Limiter{rule: rule, clock: clk, buckets: map[string]*bucket{}}
}

// Rule is the budget the limiter keeps per key.
func (l *Limiter) Rule() Rule { return l.rule }

// Allow spends one token of key's bucket. When none is left it returns false
// and how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.rule.Per/time.Duration(l.rule.Burst)), l.rule.Burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets buckets idle long enough to be full again, so memory stays
// bounded by the keys active in the last period.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < l.rule.Per {
		return
	}
	l.swept = now
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.rule.Per {
			delete(l.buckets, k)
		}
	}
}
