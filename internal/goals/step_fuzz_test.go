package goals_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// The dates Tandem supports (issue 11): every stored date lies between them.
var (
	firstSupportedDay = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	lastSupportedDay  = time.Date(2199, time.December, 31, 0, 0, 0, 0, time.UTC)
)

func supported(d date.Date) bool {
	t := d.Time(time.UTC)
	return !t.Before(firstSupportedDay) && !t.After(lastSupportedDay)
}

// dayOf is the date n days after 1900-01-01, so that a fuzzed integer is
// always a real calendar date.
func dayOf(n int32) date.Date { return date.Of(firstSupportedDay.AddDate(0, 0, int(n))) }

// daysFrom1900 is dayOf's inverse, for seeds.
func daysFrom1900(s string) int32 {
	t, err := time.Parse(date.Layout, s)
	if err != nil {
		panic(err)
	}
	return int32(t.Sub(firstSupportedDay) / (24 * time.Hour))
}

// recurrenceSeeds are due dates around the year and range boundaries, the
// ones of issue 11 included.
var recurrenceSeeds = []string{
	"2026-01-31", "2026-02-28", "2028-02-28", "2026-12-29", "1900-01-01", "2199-12-24", "2199-12-25", "2199-12-30",
	"2199-12-31", "1899-12-31", "2200-01-01", "0001-01-01", "9999-12-31",
}

// FuzzNextDue checks the date a recurring step moves to: exactly a day or a
// week later, a real calendar date, and — where it would leave the
// supported range — recognised as out of range, which is what stops the
// service from storing it.
func FuzzNextDue(f *testing.F) {
	for _, s := range recurrenceSeeds {
		f.Add(daysFrom1900(s), true)
		f.Add(daysFrom1900(s), false)
	}
	f.Fuzz(func(t *testing.T, days int32, weekly bool) {
		base := dayOf(days)
		if !supported(base) {
			t.Skip() // the service refuses such a due date (FuzzCloseRecurringStep)
		}
		recurrence, step := goals.RecurDaily, 24*time.Hour
		if weekly {
			recurrence, step = goals.RecurWeekly, 7*24*time.Hour
		}
		next := goals.NextDue(base, recurrence)
		if gap := next.Time(time.UTC).Sub(base.Time(time.UTC)); gap != step {
			t.Fatalf("NextDue(%s, %s) = %s, %v later; want %v", base, recurrence, next, gap, step)
		}
		if !base.Before(next) || next.Before(base) {
			t.Fatalf("NextDue(%s, %s) = %s does not order after its base", base, recurrence, next)
		}
		if parsed, err := time.Parse(date.Layout, next.String()); err != nil || date.Of(parsed) != next {
			t.Fatalf("NextDue(%s, %s) = %+v, not a calendar date (%q)", base, recurrence, next, next.String())
		}
		if next.InRange() != supported(next) {
			t.Fatalf("NextDue(%s, %s) = %s: InRange says %v, the supported range says %v",
				base, recurrence, next, next.InRange(), supported(next))
		}
	})
}

// FuzzCloseRecurringStep checks what a client sees when they complete or
// skip a recurring step with any due date: the step's next occurrence is
// created strictly later and within the supported range, or the request is
// refused (400 or 409, never 500) and nothing changes.
func FuzzCloseRecurringStep(f *testing.F) {
	for i, s := range recurrenceSeeds {
		f.Add(daysFrom1900(s), i%2 == 0, i%3 == 0)
	}
	st := storetest.Open(f)
	clk := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	svc := goals.NewService(goals.Config{Store: st, Clock: clk})
	ctx := context.Background()
	var (
		owner  auth.Actor
		goalID uuid.UUID
	)
	f.Fuzz(func(t *testing.T, days int32, weekly, skip bool) {
		if days < -1e6 || days > 1e6 { // beyond ±2700 years nothing new happens
			t.Skip()
		}
		if goalID == uuid.Nil { // once per fuzzing process
			var clientID uuid.UUID
			owner, clientID = seedPractice(t, st, clk.Now())
			g, err := svc.CreateGoal(ctx, owner, clientID, goals.NewGoal{Title: "Run", Why: "to feel strong"})
			if err != nil {
				t.Fatal(err)
			}
			goalID = g.ID
		}
		due := dayOf(days)
		recurrence := goals.RecurDaily
		if weekly {
			recurrence = goals.RecurWeekly
		}
		created, err := svc.CreateStep(ctx, owner, goalID, goals.NewStep{Title: "Walk", DueDate: &due, Recurrence: &recurrence})
		if !supported(due) {
			if !apperr.Is(err, apperr.Invalid) {
				t.Fatalf("a step due %s was created: %v; want a field error", due, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("a %s step due %s was refused: %v", recurrence, due, err)
		}

		if skip {
			_, err = svc.UpdateStep(ctx, owner, created.ID, goals.StepChange{Status: patch.Of(goals.StepSkipped)})
		} else {
			_, err = svc.CompleteStep(ctx, owner, created.ID, nil)
		}
		closed, gerr := svc.GetStep(ctx, owner, created.ID)
		if gerr != nil {
			t.Fatal(gerr)
		}
		if err != nil {
			if !apperr.Is(err, apperr.Invalid) && !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("closing a %s step due %s (skip %v) failed with %v; want success, 400 or 409", recurrence, due, skip, err)
			}
			if closed.Status != goals.StepOpen || closed.NextOccurrenceID != nil {
				t.Fatalf("a refused close changed the step: status %s, next occurrence %v", closed.Status, closed.NextOccurrenceID)
			}
			return
		}
		if closed.NextOccurrenceID == nil {
			t.Fatalf("closing a %s step due %s (skip %v) created no next occurrence", recurrence, due, skip)
		}
		next, err := svc.GetStep(ctx, owner, *closed.NextOccurrenceID)
		if err != nil {
			t.Fatal(err)
		}
		if next.DueDate == nil || !due.Before(*next.DueDate) || !supported(*next.DueDate) {
			t.Fatalf("the occurrence after a %s step due %s is due %v; want a later date up to %s",
				recurrence, due, next.DueDate, lastSupportedDay.Format(date.Layout))
		}
		if next.Status != goals.StepOpen || next.Recurrence != recurrence {
			t.Fatalf("the next occurrence is %s with recurrence %s; want open, %s", next.Status, next.Recurrence, recurrence)
		}
	})
}
