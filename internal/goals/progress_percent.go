package goals

import "math"

// ProgressPercent is how far a goal has come, from 0 to 100. With a metric
// it is where the latest value (current, nil before any entry) stands on the
// way from baseline to target, whichever direction that runs; without one it
// is the share of done steps among open and done ones (skipped steps do not
// count), 0 when there are none.
//
// It is always a finite number from 0 to 100, whatever the stored values:
// a response holding NaN cannot be encoded, and one goal must never break a
// dashboard. Values are bounded when written (MetricLimit), but rows written
// before the bound existed are read here too.
func ProgressPercent(metric *Metric, current *float64, stepsOpen, stepsDone int64) float64 {
	if metric != nil {
		if current == nil {
			return 0
		}
		way, gone := metric.Target-metric.Baseline, *current-metric.Baseline
		if math.IsInf(way, 0) || math.IsInf(gone, 0) {
			// The difference of two halved finite float64s cannot
			// overflow: -1e308 to 1e308 is a way like any other.
			way, gone = metric.Target/2-metric.Baseline/2, *current/2-metric.Baseline/2
		}
		if way == 0 {
			return 0
		}
		return clampPercent(gone / way * 100)
	}
	if stepsOpen+stepsDone == 0 {
		return 0
	}
	return clampPercent(float64(stepsDone) / float64(stepsOpen+stepsDone) * 100)
}

// clampPercent bounds p to 0–100. NaN, which only non-finite stored values
// can produce, counts as no progress.
func clampPercent(p float64) float64 {
	switch {
	case math.IsNaN(p) || p <= 0:
		return 0 // also for -0, which JSON would print as "-0"
	case p > 100:
		return 100
	}
	return p
}
