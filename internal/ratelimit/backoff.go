package ratelimit

import (
	"sync"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
)

// BackoffRule slows guessing without ever locking anyone out: the first Free
// failures cost nothing, then each further failure makes the key wait Base,
// doubling, up to Ceiling. A key is forgotten Forget after its last failure.
type BackoffRule struct {
	Free    int
	Base    time.Duration
	Ceiling time.Duration
	Forget  time.Duration
}

// Backoff counts failures, not attempts, per key (an account, an account from
// one address). Attempts that succeed cost nothing and reset the key.
type Backoff struct {
	rule  BackoffRule
	clock clock.Clock

	mu    sync.Mutex
	keys  map[string]*failures
	swept time.Time
}

type failures struct {
	count int
	last  time.Time
	until time.Time
}

// NewBackoff returns a back-off applying rule.
func NewBackoff(rule BackoffRule, clk clock.Clock) *Backoff {
	return &Backoff{rule: rule, clock: clk, keys: map[string]*failures{}}
}

// Wait returns how long key must still wait before its next attempt; zero
// when it may try now.
func (b *Backoff) Wait(key string) time.Duration {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.keys[key]
	if !ok || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// Fail records a failed attempt of key and returns the wait it now has.
func (b *Backoff) Fail(key string) time.Duration {
	now := b.clock.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now)
	f, ok := b.keys[key]
	if !ok || now.Sub(f.last) > b.rule.Forget {
		f = &failures{}
		b.keys[key] = f
	}
	f.count++
	f.last = now
	wait := b.rule.wait(f.count)
	if wait > 0 {
		f.until = now.Add(wait)
	}
	return wait
}

// wait is how long a key waits after its nth failure in a row: nothing for
// the first Free, then Base, doubling, up to Ceiling.
func (r BackoffRule) wait(n int) time.Duration {
	over := n - r.Free
	if over <= 0 {
		return 0
	}
	if over < 32 && r.Base<<(over-1) < r.Ceiling {
		return r.Base << (over - 1)
	}
	return r.Ceiling
}

// Reset forgets key's failures, after a success.
func (b *Backoff) Reset(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.keys, key)
}

// sweep forgets keys whose last failure is older than Forget, so memory stays
// bounded by the keys failing recently.
func (b *Backoff) sweep(now time.Time) {
	if now.Sub(b.swept) < b.rule.Forget {
		return
	}
	b.swept = now
	for k, f := range b.keys {
		if now.Sub(f.last) > b.rule.Forget {
			delete(b.keys, k)
		}
	}
}
