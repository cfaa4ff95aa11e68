package goals

import (
	"strings"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/input"
)

// oneOf checks v is one of allowed.
func oneOf(v, field string, fields *apperr.Fields, allowed ...string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	fields.Add(field, "must be one of "+strings.Join(allowed, ", "))
	return v
}

// MetricLimit bounds a metric's baseline and target and every progress
// value, either side of zero. A trillion measures anything a coaching goal
// counts, and keeps every difference of two values, and so the progress
// computed from them, finite.
const MetricLimit = 1e12

// checkMetric cleans a metric: a unit, bounded values, and a target that
// differs from the baseline (otherwise there is no way to measure progress
// between them).
func checkMetric(m Metric, fields *apperr.Fields) Metric {
	m.Unit = input.Line(m.Unit, "metric.unit", 40, fields)
	input.Number(m.Baseline, "metric.baseline", MetricLimit, fields)
	input.Number(m.Target, "metric.target", MetricLimit, fields)
	if m.Target == m.Baseline {
		fields.Add("metric.target", "must differ from the baseline")
	}
	return m
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// orNil turns a typed nil pointer into an untyped nil, so an update map
// writes NULL.
func orNil[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
