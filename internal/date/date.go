// Package date is a calendar date without a time or zone — a due date, a
// target date — stored as DATE on PostgreSQL and as YYYY-MM-DD text on SQLite.
package date

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Layout is the ISO 8601 date layout used everywhere.
const Layout = "2006-01-02"

// The range of dates Tandem accepts. Both databases and every client can
// store and compute with them (PostgreSQL refuses year 0; a step due on
// 9999-12-31 has no next week), and no coaching date lies outside them.
var (
	Earliest = Date{1900, time.January, 1}
	Latest   = Date{2199, time.December, 31}
)

// RangeMessage says which dates are accepted, for a field error.
const RangeMessage = "must be a date from 1900-01-01 to 2199-12-31"

// Date is a calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Of returns the date of t in t's location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Today returns today's date in loc.
func Today(now time.Time, loc *time.Location) Date { return Of(now.In(loc)) }

// Parse reads YYYY-MM-DD, a date between Earliest and Latest.
func Parse(s string) (Date, error) {
	d, err := parse(s)
	if err != nil {
		return Date{}, err
	}
	if !d.InRange() {
		return Date{}, fmt.Errorf("date %q is not between %s and %s", s, Earliest, Latest)
	}
	return d, nil
}

// parse reads any YYYY-MM-DD: what is stored is read back as it is.
func parse(s string) (Date, error) {
	t, err := time.Parse(Layout, s)
	if err != nil {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	return Of(t), nil
}

// InRange reports whether d lies between Earliest and Latest, inclusive.
func (d Date) InRange() bool { return !d.Before(Earliest) && !Latest.Before(d) }

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Time returns midnight of the date in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the date n days later.
func (d Date) AddDays(n int) Date { return Of(d.Time(time.UTC).AddDate(0, 0, n)) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Value stores the date as YYYY-MM-DD, which both databases accept.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a DATE (PostgreSQL gives a time.Time) or YYYY-MM-DD text
// (SQLite). It reads any date, in range or not: the range is enforced when a
// date is written, and a row written before must still be readable.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = Of(v.UTC())
		return nil
	case string:
		if len(v) > 10 {
			v = v[:10]
		}
		p, err := parse(v)
		*d = p
		return err
	case []byte:
		return d.Scan(string(v))
	}
	return fmt.Errorf("cannot scan %T into a date", src)
}
