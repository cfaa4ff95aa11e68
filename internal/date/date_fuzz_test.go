package date_test

import (
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/date"
)

// The dates Tandem supports (issue 11).
var (
	firstSupportedDay = time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC)
	lastSupportedDay  = time.Date(2199, time.December, 31, 0, 0, 0, 0, time.UTC)
)

// FuzzParse checks what a user relies on when they send a due date, a
// target date or a recorded_on: a date that is accepted is the date they
// wrote — it formats back to exactly their input, lies in the range every
// part of Tandem supports, reads back the same from either database, and
// orders like the calendar.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"2026-03-01", "2028-02-29", "2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10",
		"1900-01-01", "1899-12-31", "2199-12-31", "2200-01-01", "0000-01-01", "9999-12-31",
		"2026-3-1", "2026-03-01T00:00:00Z", " 2026-03-01", "2026-03-01\x00", "+2026-03-01", "-001-01-01",
		"２０２６-03-01", "", "2026/03/01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := date.Parse(s)
		if err != nil {
			return
		}
		if got := d.String(); got != s {
			t.Fatalf("Parse(%q).String() = %q: an accepted date must format back to its input", s, got)
		}
		if at := d.Time(time.UTC); at.Before(firstSupportedDay) || at.After(lastSupportedDay) {
			t.Fatalf("Parse(%q) accepted a date outside 1900-01-01..2199-12-31", s)
		}
		if got, err := date.Parse(d.String()); err != nil || got != d {
			t.Fatalf("Parse(%q) = %v, %v after formatting %q", d.String(), got, err, s)
		}

		// Read back from SQLite (text) and PostgreSQL (a time.Time at UTC midnight).
		stored, err := d.Value()
		if err != nil {
			t.Fatalf("Value() of %s: %v", d, err)
		}
		var fromText, fromTime date.Date
		if err := fromText.Scan(stored); err != nil || fromText != d {
			t.Fatalf("Scan(%v) = %v, %v; want %v", stored, fromText, err, d)
		}
		if err := fromTime.Scan(d.Time(time.UTC)); err != nil || fromTime != d {
			t.Fatalf("Scan(%v) = %v, %v; want %v", d.Time(time.UTC), fromTime, err, d)
		}

		// The day after is later, the day before earlier, as the calendar says.
		next, prev := d.AddDays(1), d.AddDays(-1)
		if !d.Before(next) || next.Before(d) || !prev.Before(d) || d.Before(prev) || d.Before(d) {
			t.Fatalf("Before disagrees with the calendar around %s: previous %s, next %s", d, prev, next)
		}
		if days := next.Time(time.UTC).Sub(d.Time(time.UTC)); days != 24*time.Hour {
			t.Fatalf("%s.AddDays(1) = %s, %v later", d, next, days)
		}
	})
}
