package dashboard

import (
	"fmt"
	"time"
)

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

// ptr returns the time, or nil when it is NULL.
func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}
