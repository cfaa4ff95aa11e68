package goals

import (
	"math"
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

// checkMetric cleans a metric: a unit, and a target that differs from the
// baseline (otherwise there is no way to measure progress between them).
func checkMetric(m Metric, fields *apperr.Fields) Metric {
	m.Unit = input.Line(m.Unit, "metric.unit", 40, fields)
	if !finite(m.Baseline) {
		fields.Add("metric.baseline", "must be a finite number")
	}
	if !finite(m.Target) {
		fields.Add("metric.target", "must be a finite number")
	}
	if m.Target == m.Baseline {
		fields.Add("metric.target", "must differ from the baseline")
	}
	return m
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

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
