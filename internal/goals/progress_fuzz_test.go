package goals_test

import (
	"math"
	"testing"

	"github.com/tandem-coach/tandem/internal/goals"
)

// FuzzProgressPercent checks the number every goal view shows: for any
// metric and value the service accepts (finite numbers) and any step counts,
// progress is a finite percentage from 0 to 100 — a NaN or an infinity
// cannot be written as JSON and breaks every read of the goal — and it
// reaches its ends where the client would expect.
func FuzzProgressPercent(f *testing.F) {
	f.Add(true, 10.0, 20.0, true, 15.0, int64(0), int64(0))
	f.Add(true, 90.0, 80.0, true, 85.0, int64(3), int64(1))
	f.Add(true, 10.0, 20.0, false, 0.0, int64(3), int64(3))
	f.Add(true, 5.0, 5.0, true, 5.0, int64(0), int64(0))
	f.Add(true, 0.0, 5e-324, true, 1.0, int64(0), int64(0))
	f.Add(false, 0.0, 0.0, false, 0.0, int64(0), int64(0))
	f.Add(false, 0.0, 0.0, false, 0.0, int64(3), int64(1))
	f.Add(false, 0.0, 0.0, false, 0.0, int64(0), int64(7))
	f.Add(false, 0.0, 0.0, false, 0.0, int64(1)<<53, int64(1))
	f.Fuzz(func(t *testing.T, hasMetric bool, baseline, target float64, hasCurrent bool, current float64, open, done int64) {
		// The service refuses non-finite metrics and values, and counts are
		// counts of rows.
		if !finite(baseline) || !finite(target) || !finite(current) || open < 0 || done < 0 || open > math.MaxInt64-done {
			t.Skip()
		}
		var metric *goals.Metric
		if hasMetric {
			metric = &goals.Metric{Unit: "km", Baseline: baseline, Target: target}
		}
		var cur *float64
		if hasCurrent {
			cur = &current
		}
		p, ok := percent(goals.ProgressPercent(metric, cur, open, done))
		if !ok {
			return // no progress to show
		}
		if !finite(p) || p < 0 || p > 100 {
			t.Fatalf("ProgressPercent(%+v, current %v (set %v), open %d, done %d) = %v; want a finite number in [0, 100]",
				metric, current, hasCurrent, open, done, p)
		}

		switch {
		case metric != nil && cur != nil && target != baseline && current == target:
			if p != 100 {
				t.Fatalf("a value at the target (%v, baseline %v) gives %v%%, not 100%%", target, baseline, p)
			}
		case metric != nil && cur != nil && target != baseline && current == baseline:
			if p != 0 {
				t.Fatalf("a value at the baseline (%v, target %v) gives %v%%, not 0%%", baseline, target, p)
			}
		case metric == nil && done > 0 && open == 0:
			if p != 100 {
				t.Fatalf("all %d steps done gives %v%%, not 100%%", done, p)
			}
		case metric == nil && done == 0:
			if p != 0 {
				t.Fatalf("no step done (%d open) gives %v%%, not 0%%", open, p)
			}
		case metric == nil && open > 0:
			// Finishing one more open step never lowers progress.
			if after, ok := percent(goals.ProgressPercent(nil, nil, open-1, done+1)); ok && after < p {
				t.Fatalf("finishing a step lowers progress from %v%% to %v%% (open %d, done %d)", p, after, open, done)
			}
		}
	})
}

// percent reads ProgressPercent's result, a float64 or, where there is no
// progress to show, possibly a nil *float64: it accepts both, so that this
// target keeps building while the function moves to the second form.
func percent(v any) (float64, bool) {
	switch p := v.(type) {
	case float64:
		return p, true
	case *float64:
		if p == nil {
			return 0, false
		}
		return *p, true
	}
	panic("ProgressPercent returns neither float64 nor *float64")
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
