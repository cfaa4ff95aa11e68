package goals

// ProgressPercent is how far a goal has come, from 0 to 100. With a metric
// it is where the latest value (current, nil before any entry) stands on the
// way from baseline to target, whichever direction that runs; without one it
// is the share of done steps among open and done ones (skipped steps do not
// count), 0 when there are none.
func ProgressPercent(metric *Metric, current *float64, stepsOpen, stepsDone int64) float64 {
	if metric != nil {
		if current == nil || metric.Target == metric.Baseline {
			return 0
		}
		return clampPercent((*current - metric.Baseline) / (metric.Target - metric.Baseline) * 100)
	}
	if stepsOpen+stepsDone == 0 {
		return 0
	}
	return clampPercent(float64(stepsDone) / float64(stepsOpen+stepsDone) * 100)
}

func clampPercent(p float64) float64 {
	switch {
	case p < 0:
		return 0
	case p > 100:
		return 100
	}
	return p
}
