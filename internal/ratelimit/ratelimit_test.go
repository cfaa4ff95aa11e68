package ratelimit

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
)

var epoch = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// rule allows 5 requests at once, one more every 12 seconds.
var rule = Rule{Burst: 5, Per: time.Minute}

const interval = 12 * time.Second // rule.Per / rule.Burst

// allowN calls Allow n times and counts the allowed calls.
func allowN(l *Limiter, key string, n int) int {
	allowed := 0
	for range n {
		if ok, _ := l.Allow(key); ok {
			allowed++
		}
	}
	return allowed
}

func TestBurstThenRefusal(t *testing.T) {
	l := New(rule, clock.NewManual(epoch))
	for i := range rule.Burst {
		if ok, retry := l.Allow("ip"); !ok || retry != 0 {
			t.Fatalf("request %d of the burst: Allow = %v, %v; want true, 0", i+1, ok, retry)
		}
	}
	ok, retry := l.Allow("ip")
	if ok {
		t.Fatal("request after the burst allowed")
	}
	if retry <= interval-time.Millisecond || retry > interval {
		t.Errorf("retry after = %v, want about %v (one refill interval)", retry, interval)
	}
}

func TestRefill(t *testing.T) {
	clk := clock.NewManual(epoch)
	l := New(rule, clk)
	if got := allowN(l, "ip", rule.Burst); got != rule.Burst {
		t.Fatalf("burst: %d allowed, want %d", got, rule.Burst)
	}
	_, retry := l.Allow("ip")

	// Just before the retry-after time, still nothing.
	clk.Advance(retry - time.Millisecond)
	if ok, _ := l.Allow("ip"); ok {
		t.Error("allowed before the retry-after time")
	}
	// At the retry-after time, exactly one token.
	clk.Advance(time.Millisecond)
	if got := allowN(l, "ip", 3); got != 1 {
		t.Errorf("at the retry-after time: %d allowed, want 1", got)
	}
	// Two intervals later, two tokens.
	clk.Advance(2 * interval)
	if got := allowN(l, "ip", 5); got != 2 {
		t.Errorf("two intervals later: %d allowed, want 2", got)
	}
	// A full period refills the whole burst, and no more.
	clk.Advance(rule.Per)
	if got := allowN(l, "ip", rule.Burst+3); got != rule.Burst {
		t.Errorf("a period later: %d allowed, want %d", got, rule.Burst)
	}
}

// TestRefusalsCostNothing: a client hammering a limited key must not push its
// own retry time further out, or the limit would become a lockout.
func TestRefusalsCostNothing(t *testing.T) {
	clk := clock.NewManual(epoch)
	l := New(rule, clk)
	allowN(l, "ip", rule.Burst)
	_, first := l.Allow("ip")
	if got := allowN(l, "ip", 100); got != 0 {
		t.Fatalf("%d of 100 requests allowed with an empty bucket", got)
	}
	if _, retry := l.Allow("ip"); retry != first {
		t.Errorf("retry after grew from %v to %v with refused requests", first, retry)
	}
	clk.Advance(first)
	if ok, _ := l.Allow("ip"); !ok {
		t.Error("refused at the first retry-after time after 100 refused requests")
	}
}

func TestKeysAreIndependent(t *testing.T) {
	l := New(rule, clock.NewManual(epoch))
	if got := allowN(l, "alice@example.com", rule.Burst+1); got != rule.Burst {
		t.Fatalf("alice: %d allowed, want %d", got, rule.Burst)
	}
	if got := allowN(l, "bob@example.com", rule.Burst+1); got != rule.Burst {
		t.Errorf("bob after alice spent her burst: %d allowed, want %d", got, rule.Burst)
	}
	if ok, _ := l.Allow("alice@example.com"); ok {
		t.Error("alice allowed again after bob's requests")
	}
}

func TestIdleKeyHasFullBurst(t *testing.T) {
	clk := clock.NewManual(epoch)
	l := New(rule, clk)
	allowN(l, "ip", rule.Burst+1)
	clk.Advance(24 * time.Hour)
	if got := allowN(l, "ip", rule.Burst+1); got != rule.Burst {
		t.Errorf("after a day idle: %d allowed, want %d", got, rule.Burst)
	}
}

// TestSweep looks inside the limiter: the promise is that memory is bounded
// by the keys active lately. Sweeps run at most once a period and drop the
// buckets idle for more than a period.
func TestSweep(t *testing.T) {
	clk := clock.NewManual(epoch)
	l := New(rule, clk)
	for i := range 100 {
		l.Allow(fmt.Sprintf("ip-%d", i))
	}
	l.Allow("busy")
	if n := len(l.buckets); n != 101 {
		t.Fatalf("%d buckets, want 101", n)
	}

	// One period on, a sweep runs, but the 100 keys are exactly one period
	// idle, not more: all kept.
	clk.Advance(rule.Per)
	l.Allow("busy")
	if n := len(l.buckets); n != 101 {
		t.Errorf("after exactly one period: %d buckets, want 101", n)
	}

	// Less than a period after that sweep, no new sweep runs.
	clk.Advance(rule.Per / 2)
	l.Allow("busy")
	if n := len(l.buckets); n != 101 {
		t.Errorf("between sweeps: %d buckets, want 101", n)
	}

	// A period after the last sweep, the next one drops the idle keys and
	// keeps "busy", seen half a period ago.
	clk.Advance(rule.Per / 2)
	l.Allow("new")
	_, busyKept := l.buckets["busy"]
	_, newKept := l.buckets["new"]
	if len(l.buckets) != 2 || !busyKept || !newKept {
		t.Errorf("after the sweep: %d buckets (busy %v, new %v), want just busy and new", len(l.buckets), busyKept, newKept)
	}
}

func TestConcurrentRequests(t *testing.T) {
	l := New(Rule{Burst: 20, Per: time.Minute}, clock.NewManual(epoch))
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 10 {
				if ok, _ := l.Allow("ip"); ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 20 {
		t.Errorf("160 concurrent requests: %d allowed, want the burst of 20", got)
	}
}
