package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/sessions"
)

// Session reminders go to the client (with a portal account; times and
// quiet hours in the zone of their client record) and to the coach (in
// their own zone), SessionReminderLead before a scheduled session starts,
// with the session as an iCalendar event. Nothing goes to a therapist: a session is
// the client's and the coach's. A periodic task takes the sessions that
// came into its window (starting up to the lead from now) since its last
// run, which notify_cursors remembers, in one transaction; each reminder's
// key (session, person, start) keeps a retried run from sending it twice,
// and a rescheduled session is reminded of again.

// DefaultSessionReminderLead is how long before a session its reminder goes.
const DefaultSessionReminderLead = 24 * time.Hour

// cursorRow is a row of notify_cursors.
type cursorRow struct {
	Name         string `gorm:"primaryKey"`
	CoveredUntil time.Time
}

func (cursorRow) TableName() string { return "notify_cursors" }

// reminderSessionRow is a scheduled session in the window, with who takes part.
type reminderSessionRow struct {
	ID           uuid.UUID
	PracticeID   uuid.UUID
	ClientID     uuid.UUID
	StartsAt     time.Time
	EndsAt       time.Time
	Location     *string
	Version      int64
	UpdatedAt    time.Time
	ClientName   string
	Timezone     string
	ClientUserID *uuid.UUID
	ClientEmail  *string
	ClientStatus string
	CoachID      uuid.UUID
	CoachName    string
	CoachEmail   string
}

// loadCursor returns how far the named task has looked, or from when none.
func loadCursor(tx *gorm.DB, name string, none time.Time) (time.Time, error) {
	var c cursorRow
	err := tx.Where("name = ?", name).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return none, nil
	}
	return c.CoveredUntil, err
}

func saveCursor(tx *gorm.DB, name string, until time.Time) error {
	return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "name"}},
		DoUpdates: clause.AssignmentColumns([]string{"covered_until"})}).
		Create(&cursorRow{Name: name, CoveredUntil: until}).Error
}

// EnqueueSessionReminders queues the reminders of the sessions starting up
// to the lead from now that no earlier run took, in one transaction of
// five statements whatever their number.
func (s *Service) EnqueueSessionReminders(ctx context.Context) error {
	now := s.c.Clock.Now()
	to := now.Add(s.c.SessionReminderLead)
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		// The first run reminds of what starts within the lead.
		from, err := loadCursor(tx, "session_reminders", now)
		if err != nil {
			return err
		}
		if !to.After(from) {
			return nil
		}
		from = latest(from, now) // a session already started needs no reminder
		// Sessions booked or moved since the last run to a time the window
		// had passed already (at short notice) are taken too.
		lastRun := from.Add(-s.c.SessionReminderLead)
		var rows []reminderSessionRow
		if err := tx.Table("coaching_sessions AS s").
			Select("s.id, s.practice_id, s.client_id, s.starts_at, s.ends_at, s.location, s.version, s.updated_at, "+
				"c.name AS client_name, c.timezone, c.user_id AS client_user_id, cu.email AS client_email, c.status AS client_status, "+
				"co.id AS coach_id, co.name AS coach_name, co.email AS coach_email").
			Joins("JOIN clients c ON c.practice_id = s.practice_id AND c.id = s.client_id").
			Joins("JOIN users co ON co.id = s.coach_id").
			Joins("LEFT JOIN users cu ON cu.id = c.user_id").
			Where("s.status = 'scheduled' AND ((s.starts_at > ? AND s.starts_at <= ?) OR (s.starts_at > ? AND s.starts_at <= ? AND s.updated_at >= ?))",
				from, to, now, from, lastRun).
			Order("s.starts_at, s.id").Find(&rows).Error; err != nil {
			return err
		}
		var users []uuid.UUID
		for _, r := range rows {
			users = append(users, r.CoachID)
			if r.ClientUserID != nil {
				users = append(users, *r.ClientUserID)
			}
		}
		prefsOf, err := loadPreferencesOf(tx, users)
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		add := func(userID uuid.UUID, loc *time.Location, msg jobs.EmailArgs, startsAt time.Time) {
			p := prefsOf(userID)
			if !p.SessionReminders {
				return
			}
			opts := &river.InsertOpts{}
			if at := quietUntil(now, loc, p); at.After(now) {
				// Deferred past quiet hours, but not past an hour before the session.
				opts.ScheduledAt = earliest(at, startsAt.Add(-time.Hour))
				if !opts.ScheduledAt.After(now) {
					opts.ScheduledAt = time.Time{}
				}
			}
			params = append(params, river.InsertManyParams{Args: msg, InsertOpts: opts})
		}
		for _, r := range rows {
			loc := date.Zone(r.Timezone)
			ics := sessionEvent(r)
			if r.ClientUserID != nil && r.ClientEmail != nil && r.ClientStatus == "active" {
				add(*r.ClientUserID, loc, s.sessionReminder(*r.ClientUserID, *r.ClientEmail, r, "your coach "+r.CoachName, loc, ics), r.StartsAt)
			}
			// The coach reads the time in their own zone, and their own
			// quiet hours hold it back.
			coachLoc := prefsOf(r.CoachID).Zone()
			add(r.CoachID, coachLoc, s.sessionReminder(r.CoachID, r.CoachEmail, r, r.ClientName, coachLoc, ics), r.StartsAt)
		}
		if _, err := jobs.InsertEmails(ctx, s.c.Store, tx, params); err != nil {
			return err
		}
		return saveCursor(tx, "session_reminders", to)
	})
}

// sessionEvent is the session as the calendar feed shows it (same UID, so
// a calendar app merges the two).
func sessionEvent(r reminderSessionRow) mail.Attachment {
	cal := sessions.Calendar{Name: "Tandem", Events: []sessions.Event{{
		UID: r.ID.String() + "@tandem", Start: r.StartsAt, End: r.EndsAt, Summary: "Coaching session",
		Location: r.Location, Sequence: r.Version - 1, Modified: r.UpdatedAt,
	}}}
	return mail.Attachment{Name: "session.ics", ContentType: "text/calendar; charset=utf-8; method=PUBLISH", Data: cal.Render()}
}

// sessionReminder renders one reminder of r to userID at email; with names
// the other person.
func (s *Service) sessionReminder(userID uuid.UUID, email string, r reminderSessionRow, with string, loc *time.Location, ics mail.Attachment) jobs.EmailArgs {
	local := r.StartsAt.In(loc)
	var b strings.Builder
	fmt.Fprintf(&b, "Your coaching session with %s starts %s (%s), %s UTC.\n",
		with, local.Format("Monday 2 January at 15:04"), loc.String(), r.StartsAt.UTC().Format("15:04"))
	if r.Location != nil {
		fmt.Fprintf(&b, "Where: %s\n", *r.Location)
	}
	b.WriteString("\nThe attached event adds it to your calendar.\n")
	headers, link := s.UnsubscribeHeaders(userID, KindSessionReminders)
	if link != "" {
		fmt.Fprintf(&b, "\nStop session reminders: %s\n", link)
	}
	return jobs.EmailArgs{
		Key:     jobs.Key("session-reminder", r.ID, userID, r.StartsAt),
		To:      email,
		Subject: "Reminder: coaching session " + local.Format("Mon 2 Jan 15:04"),
		Text:    b.String(), Headers: headers, Attachments: []mail.Attachment{ics},
		About: jobs.About{PracticeID: r.PracticeID, ClientID: r.ClientID, UserID: userID},
	}
}

// loadPreferencesOf reads the preferences of users in one statement.
func loadPreferencesOf(tx *gorm.DB, users []uuid.UUID) (func(uuid.UUID) Preferences, error) {
	byUser := map[uuid.UUID]Preferences{}
	if len(users) > 0 {
		var rows []preferencesRow
		if err := tx.Where("user_id IN ?", users).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			byUser[r.UserID] = toPreferences(r)
		}
	}
	return func(id uuid.UUID) Preferences {
		if p, ok := byUser[id]; ok {
			return p
		}
		return Defaults
	}, nil
}

// quietUntil is when mail to someone with p may go out, at or after now.
func quietUntil(now time.Time, loc *time.Location, p Preferences) time.Time {
	local := now.In(loc)
	if p.Quiet == nil || !p.Quiet.Contains(local) {
		return now
	}
	return p.Quiet.EndAfter(local).UTC()
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
