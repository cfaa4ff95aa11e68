package ratelimit

import (
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
)

func TestBackoffCountsFailuresAndCapsTheWait(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	b := NewBackoff(BackoffRule{Free: 3, Base: time.Second, Ceiling: 30 * time.Second, Forget: time.Hour}, clk)
	want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := b.Fail("acct"); got != w {
			t.Fatalf("failure %d: wait %v, want %v", i+1, got, w)
		}
		if got := b.Wait("acct"); got != w {
			t.Fatalf("after failure %d: Wait = %v, want %v", i+1, got, w)
		}
		clk.Advance(w)
		if got := b.Wait("acct"); got != 0 {
			t.Fatalf("after waiting %v: Wait = %v, want 0", w, got)
		}
	}
	// A hundred more failures never wait longer than the ceiling.
	for range 100 {
		if got := b.Fail("acct"); got > 30*time.Second {
			t.Fatalf("wait %v over the ceiling", got)
		}
	}
	if got := b.Wait("other"); got != 0 {
		t.Fatalf("an untouched key waits %v", got)
	}
}

func TestBackoffResetsOnSuccessAndForgets(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC))
	b := NewBackoff(BackoffRule{Free: 1, Base: time.Second, Ceiling: time.Minute, Forget: 10 * time.Minute}, clk)
	b.Fail("k")
	if b.Fail("k") != time.Second {
		t.Fatal("second failure should wait the base")
	}
	b.Reset("k")
	if b.Wait("k") != 0 || b.Fail("k") != 0 {
		t.Fatal("after a reset the free failures start again")
	}
	clk.Advance(11 * time.Minute)
	if got := b.Fail("k"); got != 0 {
		t.Fatalf("a failure after Forget starts afresh, got wait %v", got)
	}
}
