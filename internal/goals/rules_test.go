package goals

import (
	"math"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/date"
)

func TestProgressPercent(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	up := &Metric{Unit: "km", Baseline: 10, Target: 20}
	down := &Metric{Unit: "kg", Baseline: 90, Target: 80}
	cases := []struct {
		name       string
		metric     *Metric
		current    *float64
		open, done int64
		want       float64
	}{
		{"metric without entries", up, nil, 3, 3, 0},
		{"metric halfway", up, f(15), 0, 0, 50},
		{"metric beyond target is clamped", up, f(25), 0, 0, 100},
		{"metric below baseline is clamped", up, f(5), 0, 0, 0},
		{"decreasing metric", down, f(85), 0, 0, 50},
		{"decreasing metric moving away", down, f(95), 0, 0, 0},
		{"metric wins over steps", up, f(12), 0, 4, 20},
		{"no steps", nil, nil, 0, 0, 0},
		{"steps one of four done", nil, nil, 3, 1, 25},
		{"steps all done", nil, nil, 0, 2, 100},
	}
	for _, c := range cases {
		if got := ProgressPercent(c.metric, c.current, c.open, c.done); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// TestProgressPercentIsAlwaysFinite feeds the computation values no request
// may write any more, as rows from before the bounds hold them: it answers a
// number from 0 to 100 every time, never NaN or an infinity.
func TestProgressPercentIsAlwaysFinite(t *testing.T) {
	extremes := []float64{0, 1, -1, 1e12, -1e12, 1e308, -1e308, math.MaxFloat64, -math.MaxFloat64,
		math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN()}
	for _, b := range extremes {
		for _, tg := range extremes {
			for _, c := range extremes {
				got := ProgressPercent(&Metric{Unit: "x", Baseline: b, Target: tg}, &c, 0, 0)
				if math.IsNaN(got) || got < 0 || got > 100 {
					t.Fatalf("ProgressPercent(baseline %v, target %v, current %v) = %v", b, tg, c, got)
				}
			}
		}
	}
	// The finding: -1e308 to 1e308, at 1e308, is all the way.
	c := 1e308
	if got := ProgressPercent(&Metric{Unit: "x", Baseline: -1e308, Target: 1e308}, &c, 0, 0); got != 100 {
		t.Fatalf("-1e308 to 1e308 at 1e308 = %v, want 100", got)
	}
	c = 0
	if got := ProgressPercent(&Metric{Unit: "x", Baseline: -1e308, Target: 1e308}, &c, 0, 0); got != 50 {
		t.Fatalf("-1e308 to 1e308 at 0 = %v, want 50", got)
	}
}

func TestNextDue(t *testing.T) {
	cases := []struct{ base, recurrence, want string }{
		{"2026-01-31", RecurDaily, "2026-02-01"},
		{"2026-02-28", RecurDaily, "2026-03-01"},
		{"2028-02-28", RecurDaily, "2028-02-29"},
		{"2026-12-31", RecurDaily, "2027-01-01"},
		{"2026-02-25", RecurWeekly, "2026-03-04"},
		{"2026-12-29", RecurWeekly, "2027-01-05"},
	}
	for _, c := range cases {
		base, err := date.Parse(c.base)
		if err != nil {
			t.Fatal(err)
		}
		if got := NextDue(base, c.recurrence).String(); got != c.want {
			t.Errorf("NextDue(%s, %s) = %s, want %s", c.base, c.recurrence, got, c.want)
		}
	}
}

func TestOverdueFollowsTheClientsCalendar(t *testing.T) {
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	due, _ := date.Parse("2026-03-01")
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	if !Overdue(StepOpen, &due, now, tokyo) {
		t.Error("in Tokyo it is already 2 March: the step is overdue")
	}
	if Overdue(StepOpen, &due, now, la) {
		t.Error("in Los Angeles it is still 1 March: the step is due today, not overdue")
	}
	if Overdue(StepDone, &due, now, tokyo) || Overdue(StepSkipped, &due, now, tokyo) {
		t.Error("a closed step is never overdue")
	}
	if Overdue(StepOpen, nil, now, tokyo) {
		t.Error("a step without a due date is never overdue")
	}
}
