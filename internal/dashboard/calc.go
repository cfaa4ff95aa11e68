package dashboard

import (
	"database/sql/driver"
	"fmt"
	"math"
	"time"
)

// progressPercent is how far along a goal is, 0 to 100, by the same rule
// as the goal's own progress_percent. With a metric (baseline and target)
// it is where the latest progress value lies on the way from baseline to
// target — a goal may aim down as well as up — and 0 before any value is
// recorded or when the target equals the baseline. Without a metric it is
// the share of done steps among open and done ones (skipped steps count for
// neither), 0 when there are none.
func progressPercent(baseline, target, latest *float64, open, done int) float64 {
	if baseline != nil && target != nil {
		if latest == nil || *target == *baseline {
			return 0
		}
		return clampPercent((*latest - *baseline) / (*target - *baseline) * 100)
	}
	if open+done == 0 {
		return 0
	}
	return clampPercent(float64(done) / float64(open+done) * 100)
}

func clampPercent(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0:
		return 0
	case p > 100:
		return 100
	}
	return p
}

// dbTime is a nullable timestamp read from an aggregate such as MAX(starts_at).
// PostgreSQL returns a time.Time; SQLite returns the text the driver wrote.
type dbTime struct {
	Time  time.Time
	Valid bool
}

// sqliteTimeLayouts are the forms the SQLite driver writes and reads times in.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = dbTime{}
		return nil
	case time.Time:
		*t = dbTime{Time: v.UTC(), Valid: true}
		return nil
	case []byte:
		return t.Scan(string(v))
	case string:
		for _, layout := range sqliteTimeLayouts {
			if p, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
				*t = dbTime{Time: p.UTC(), Valid: true}
				return nil
			}
		}
		return fmt.Errorf("cannot read %q as a time", v)
	}
	return fmt.Errorf("cannot scan %T into a time", src)
}

// Value implements driver.Valuer, which GORM requires of a scanned struct field.
func (t dbTime) Value() (driver.Value, error) {
	if !t.Valid {
		return nil, nil
	}
	return t.Time, nil
}

// ptr returns the time, or nil when it is NULL.
func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}
