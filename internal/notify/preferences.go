package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store"
)

// Preferences is what a person lets Tandem e-mail them, and when. Hours and
// minutes are local to their time zone: Timezone for the mail they get as
// an owner, coach or therapist; for the mail they get as a client, the zone
// of their client record, which their coach keeps (one source of truth for
// the client's day, which the coach also reads).
type Preferences struct {
	DailyDigest      bool
	SessionReminders bool
	ConsentReminders bool
	WeeklySummary    bool
	// DigestHour is the local hour (0–23) of the morning digest.
	DigestHour int
	// Quiet, when set, is a daily span in which no mail goes out: it waits
	// until the span ends.
	Quiet *QuietHours
	// WeeklyNudgeBudget caps the nudges (morning digests) sent in a week,
	// Monday to Sunday local; what is over it waits for the next digest.
	WeeklyNudgeBudget int
	// Timezone is the IANA name of the person's own zone ("UTC" until
	// they choose one).
	Timezone string
	// Version is 0 for the defaults of someone who never changed them.
	Version   int64
	UpdatedAt *time.Time
}

// QuietHours is a daily span of local time, in minutes after midnight. A
// span whose start is after its end runs over midnight (22:00–07:00).
type QuietHours struct {
	Start, End int
}

// Defaults are the preferences of someone who never changed them.
var Defaults = Preferences{
	DailyDigest: true, SessionReminders: true, ConsentReminders: true, WeeklySummary: true,
	DigestHour: 7, WeeklyNudgeBudget: 7, Timezone: "UTC",
}

// MaxWeeklyNudgeBudget bounds the weekly budget, as the API declares it.
const MaxWeeklyNudgeBudget = 21

// Zone is the location of the person's own time zone.
func (p Preferences) Zone() *time.Location { return date.Zone(p.Timezone) }

// ETag is the preferences' version as an HTTP entity tag.
func (p Preferences) ETag() string { return store.ETag(p.Version) }

// Contains reports whether the local time of day t falls inside q.
func (q QuietHours) Contains(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	if q.Start == q.End {
		return false // an empty span
	}
	if q.Start < q.End {
		return m >= q.Start && m < q.End
	}
	return m >= q.Start || m < q.End
}

// EndAfter returns the first instant at or after t (a local time inside q) at
// which q is over.
func (q QuietHours) EndAfter(t time.Time) time.Time {
	y, mo, d := t.Date()
	end := time.Date(y, mo, d, q.End/60, q.End%60, 0, 0, t.Location())
	if !end.After(t) {
		end = time.Date(y, mo, d+1, q.End/60, q.End%60, 0, 0, t.Location())
	}
	return end
}

// FormatMinute renders minutes after midnight as HH:MM.
func FormatMinute(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// ParseMinute reads HH:MM as minutes after midnight.
func ParseMinute(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// preferencesRow is a row of notification_preferences.
type preferencesRow struct {
	UserID            uuid.UUID `gorm:"primaryKey"`
	DailyDigest       bool
	SessionReminders  bool
	ConsentReminders  bool
	WeeklySummary     bool
	DigestHour        int
	QuietStartMinute  *int
	QuietEndMinute    *int
	WeeklyNudgeBudget int
	Timezone          string
	Version           int64
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

func (preferencesRow) TableName() string { return "notification_preferences" }

func toPreferences(r preferencesRow) Preferences {
	p := Preferences{
		DailyDigest: r.DailyDigest, SessionReminders: r.SessionReminders, ConsentReminders: r.ConsentReminders,
		WeeklySummary: r.WeeklySummary, DigestHour: r.DigestHour, WeeklyNudgeBudget: r.WeeklyNudgeBudget,
		Timezone: r.Timezone, Version: r.Version,
	}
	if r.QuietStartMinute != nil && r.QuietEndMinute != nil {
		p.Quiet = &QuietHours{Start: *r.QuietStartMinute, End: *r.QuietEndMinute}
	}
	u := r.UpdatedAt.UTC()
	p.UpdatedAt = &u
	return p
}

// Preferences returns the actor's own preferences (the defaults until
// they change one).
func (s *Service) Preferences(ctx context.Context, a auth.Actor) (Preferences, error) {
	return loadPreferences(s.c.Store.DB.WithContext(ctx), a.UserID)
}

func loadPreferences(db *gorm.DB, userID uuid.UUID) (Preferences, error) {
	var r preferencesRow
	err := db.Where("user_id = ?", userID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Defaults, nil
	}
	if err != nil {
		return Preferences{}, err
	}
	return toPreferences(r), nil
}

// PreferencesChange is a partial update: fields not Set stay as they are.
// Quiet hours are set or cleared together.
type PreferencesChange struct {
	DailyDigest, SessionReminders, ConsentReminders, WeeklySummary patch.Field[bool]
	DigestHour                                                     patch.Field[int]
	QuietStart, QuietEnd                                           patch.Field[string]
	WeeklyNudgeBudget                                              patch.Field[int]
	Timezone                                                       patch.Field[string]
	// IfMatch, when set, is the ETag the change is based on.
	IfMatch *string
}

// apply returns p with c applied, or the field errors of c.
func (c PreferencesChange) apply(p Preferences) (Preferences, error) {
	var fields apperr.Fields
	setBool := func(f patch.Field[bool], dst *bool, name string) {
		if !f.Set {
			return
		}
		if f.Value == nil {
			fields.Add(name, "must be true or false")
			return
		}
		*dst = *f.Value
	}
	setBool(c.DailyDigest, &p.DailyDigest, "daily_digest")
	setBool(c.SessionReminders, &p.SessionReminders, "session_reminders")
	setBool(c.ConsentReminders, &p.ConsentReminders, "consent_reminders")
	setBool(c.WeeklySummary, &p.WeeklySummary, "weekly_summary")
	if c.DigestHour.Set {
		if v := c.DigestHour.Value; v == nil || *v < 0 || *v > 23 {
			fields.Add("digest_hour", "must be an hour from 0 to 23")
		} else {
			p.DigestHour = *v
		}
	}
	if c.WeeklyNudgeBudget.Set {
		if v := c.WeeklyNudgeBudget.Value; v == nil || *v < 0 || *v > MaxWeeklyNudgeBudget {
			fields.Add("weekly_nudge_budget", fmt.Sprintf("must be from 0 to %d", MaxWeeklyNudgeBudget))
		} else {
			p.WeeklyNudgeBudget = *v
		}
	}
	if c.Timezone.Set {
		if c.Timezone.Value == nil {
			fields.Add("timezone", date.ZoneMessage)
		} else if tz, ok := date.ValidZone(*c.Timezone.Value); !ok {
			fields.Add("timezone", date.ZoneMessage)
		} else {
			p.Timezone = tz
		}
	}
	if c.QuietStart.Set != c.QuietEnd.Set || (c.QuietStart.Value == nil) != (c.QuietEnd.Value == nil) {
		fields.Add("quiet_hours_end", "quiet_hours_start and quiet_hours_end are set, or cleared with null, together")
	} else if c.QuietStart.Set {
		if c.QuietStart.Value == nil {
			p.Quiet = nil
		} else {
			start, okStart := ParseMinute(*c.QuietStart.Value)
			end, okEnd := ParseMinute(*c.QuietEnd.Value)
			switch {
			case !okStart:
				fields.Add("quiet_hours_start", "must be a local time HH:MM")
			case !okEnd:
				fields.Add("quiet_hours_end", "must be a local time HH:MM")
			case start == end:
				fields.Add("quiet_hours_end", "must differ from quiet_hours_start")
			default:
				p.Quiet = &QuietHours{Start: start, End: end}
			}
		}
	}
	return p, fields.Err()
}

// UpdatePreferences changes the actor's own preferences, in one
// transaction, and moves their next digest to the new hour.
func (s *Service) UpdatePreferences(ctx context.Context, a auth.Actor, c PreferencesChange) (Preferences, error) {
	var out Preferences
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := loadPreferences(tx, a.UserID)
		if err != nil {
			return err
		}
		if err := store.CheckIfMatch(c.IfMatch, cur.ETag()); err != nil {
			return err
		}
		next, err := c.apply(cur)
		if err != nil {
			return err
		}
		if err := s.savePreferences(tx, a.UserID, cur, next); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		if next.DigestHour != cur.DigestHour || next.DailyDigest != cur.DailyDigest {
			// The next digest is worked out again from the new hour.
			if err := tx.Model(&scheduleRow{}).Where("user_id = ?", a.UserID).
				Updates(map[string]any{"next_at": now, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		out, err = loadPreferences(tx, a.UserID)
		return err
	})
	return out, err
}

// savePreferences writes next over cur, the user's preferences read in tx:
// the first change inserts the row, later ones update it while its version
// is still cur's.
func (s *Service) savePreferences(tx *gorm.DB, userID uuid.UUID, cur, next Preferences) error {
	now := s.c.Clock.Now()
	row := preferencesRow{
		UserID: userID, DailyDigest: next.DailyDigest, SessionReminders: next.SessionReminders,
		ConsentReminders: next.ConsentReminders, WeeklySummary: next.WeeklySummary, DigestHour: next.DigestHour,
		WeeklyNudgeBudget: next.WeeklyNudgeBudget, Timezone: next.Timezone, Version: cur.Version + 1, CreatedAt: now, UpdatedAt: now,
	}
	if next.Quiet != nil {
		row.QuietStartMinute, row.QuietEndMinute = &next.Quiet.Start, &next.Quiet.End
	}
	if cur.Version == 0 {
		// Two first changes at once: one inserts, the other finds the row
		// taken and is stale, as a concurrent update would be.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return store.ErrStale
		}
		return nil
	}
	set := map[string]any{
		"daily_digest": row.DailyDigest, "session_reminders": row.SessionReminders,
		"consent_reminders": row.ConsentReminders, "weekly_summary": row.WeeklySummary,
		"digest_hour": row.DigestHour, "quiet_start_minute": row.QuietStartMinute,
		"quiet_end_minute": row.QuietEndMinute, "weekly_nudge_budget": row.WeeklyNudgeBudget,
		"timezone": row.Timezone,
	}
	return store.ApplyVersioned(tx.Model(&preferencesRow{}).Where("user_id = ?", userID), cur.Version, set, now)
}
