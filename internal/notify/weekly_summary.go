package notify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/jobs"
)

// Every Monday at 07:00, local to each owner and coach (their own time
// zone, in their notification preferences), they get a summary of their
// own clients: who has overdue steps, the sessions of the week ahead, and
// the consents that end soon or changed in the week past. Only staff: no
// therapist is mailed anything about a client. With nothing to say it is
// not sent. The task runs every period and takes the staff whose local
// Monday morning came since its last run (notify_cursors remembers it);
// each summary is keyed by person, practice and local Monday, so neither a
// retried run nor a change of zone in the week sends a second one.

// summaryHour is the local hour of Monday at which weekly summaries go.
const summaryHour = 7

// summaryStaffRow is an owner or coach of a practice.
type summaryStaffRow struct {
	UserID       uuid.UUID
	PracticeID   uuid.UUID
	Email        string
	Name         string
	PracticeName string
}

// summaryOverdueRow counts one client's open steps due on one date.
type summaryOverdueRow struct {
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	ClientID   uuid.UUID
	ClientName string
	DueDate    date.Date
	Overdue    int
}

type summarySessionRow struct {
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	ClientName string
	StartsAt   time.Time
}

type summaryConsentRow struct {
	PracticeID    uuid.UUID
	CoachID       uuid.UUID
	ClientName    string
	TherapistName string
	Status        string
	ExpiresAt     time.Time
	ActivatedAt   *time.Time
	RevokedAt     *time.Time
}

// staffKey names one staff member in one practice.
type staffKey struct{ practice, user uuid.UUID }

// summaryDue is a staff member whose summary came due, with their zone.
type summaryDue struct {
	staff summaryStaffRow
	prefs Preferences
	loc   *time.Location
	slot  time.Time // their Monday summaryHour, local
	today date.Date // their local date now
}

// weekSlot is the Monday summaryHour:00 in loc at or before now. A DST
// change moves the UTC instant, not the local hour.
func weekSlot(now time.Time, loc *time.Location) time.Time {
	at := func(d date.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, summaryHour, 0, 0, 0, loc) }
	d := weekStart(date.Of(now.In(loc)))
	if slot := at(d); !slot.After(now) {
		return slot
	}
	return at(d.AddDays(-7))
}

// EnqueueWeeklySummaries queues the summaries of the staff whose local
// Monday morning came since the last run (and not more than DigestGrace
// ago), in one transaction of a constant number of statements.
func (s *Service) EnqueueWeeklySummaries(ctx context.Context) error {
	now := s.c.Clock.Now()
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		// The first run takes the mornings of the grace period.
		from, err := loadCursor(tx, "weekly_summary", now.Add(-DigestGrace))
		if err != nil {
			return err
		}
		if !now.After(from) {
			return nil
		}
		var staff []summaryStaffRow
		if err := tx.Table("memberships AS m").
			Select("m.user_id, m.practice_id, u.email, u.name, p.name AS practice_name").
			Joins("JOIN users u ON u.id = m.user_id").
			Joins("JOIN practices p ON p.id = m.practice_id").
			Order("m.practice_id, m.user_id").Find(&staff).Error; err != nil {
			return err
		}
		users := make([]uuid.UUID, len(staff))
		for i, m := range staff {
			users[i] = m.UserID
		}
		prefsOf, err := loadPreferencesOf(tx, users)
		if err != nil {
			return err
		}
		var due []summaryDue
		var coaches []uuid.UUID
		var earliestSlot, latestSlot time.Time
		var latestToday date.Date
		for _, m := range staff {
			p := prefsOf(m.UserID)
			loc := p.Zone()
			slot := weekSlot(now, loc)
			if !p.WeeklySummary || !slot.After(from) || now.Sub(slot) > DigestGrace {
				continue
			}
			d := summaryDue{staff: m, prefs: p, loc: loc, slot: slot, today: date.Of(now.In(loc))}
			if len(due) == 0 || slot.Before(earliestSlot) {
				earliestSlot = slot
			}
			if len(due) == 0 || slot.After(latestSlot) {
				latestSlot = slot
			}
			if len(due) == 0 || latestToday.Before(d.today) {
				latestToday = d.today
			}
			due = append(due, d)
			coaches = append(coaches, m.UserID)
		}
		if len(due) == 0 {
			return saveCursor(tx, "weekly_summary", now)
		}

		// What the summaries say, for every coach due, read once; each
		// coach's own week and local date sort it out below.
		var overdue []summaryOverdueRow
		if err := tx.Table("action_steps AS s").
			Select("c.practice_id, c.coach_id, c.id AS client_id, c.name AS client_name, s.due_date, COUNT(*) AS overdue").
			Joins("JOIN clients c ON c.practice_id = s.practice_id AND c.id = s.client_id").
			Where("s.status = 'open' AND s.due_date < ? AND c.status = 'active' AND c.coach_id IN ?", latestToday, coaches).
			Group("c.practice_id, c.coach_id, c.id, c.name, s.due_date").Order("c.name, c.id, s.due_date").Find(&overdue).Error; err != nil {
			return err
		}
		var upcoming []summarySessionRow
		if err := tx.Table("coaching_sessions AS s").
			Select("s.practice_id, s.coach_id, c.name AS client_name, s.starts_at").
			Joins("JOIN clients c ON c.practice_id = s.practice_id AND c.id = s.client_id").
			Where("s.status = 'scheduled' AND s.starts_at >= ? AND s.starts_at < ? AND s.coach_id IN ?", now, latestSlot.AddDate(0, 0, 7), coaches).
			Order("s.starts_at").Find(&upcoming).Error; err != nil {
			return err
		}
		var consents []summaryConsentRow
		weekBefore := earliestSlot.AddDate(0, 0, -7)
		if err := tx.Table("consents AS k").
			Select("k.practice_id, c.coach_id, c.name AS client_name, k.therapist_name, k.status, k.expires_at, k.activated_at, k.revoked_at").
			Joins("JOIN clients c ON c.practice_id = k.practice_id AND c.id = k.client_id").
			Where("((k.status IN ('active', 'pending') AND k.expires_at > ? AND k.expires_at <= ?) OR k.activated_at >= ? OR k.revoked_at >= ?) AND c.coach_id IN ?",
				now, now.AddDate(0, 0, 14), weekBefore, weekBefore, coaches).
			Order("k.expires_at").Find(&consents).Error; err != nil {
			return err
		}

		dueOf := map[staffKey]summaryDue{}
		for _, d := range due {
			dueOf[staffKey{d.staff.PracticeID, d.staff.UserID}] = d
		}
		lines := map[staffKey][]string{}
		add := func(k staffKey, section, line string) {
			if len(lines[k]) == 0 || !containsHeading(lines[k], section) {
				lines[k] = append(lines[k], "", section+":")
			}
			lines[k] = append(lines[k], "  - "+line)
		}
		for i := 0; i < len(overdue); {
			// The rows of one client, by due date: those before the
			// coach's local today are overdue.
			o, n := overdue[i], 0
			k := staffKey{o.PracticeID, o.CoachID}
			d, ok := dueOf[k]
			for ; i < len(overdue) && overdue[i].ClientID == o.ClientID && overdue[i].PracticeID == o.PracticeID; i++ {
				if ok && overdue[i].DueDate.Before(d.today) {
					n += overdue[i].Overdue
				}
			}
			if n > 0 {
				add(k, "Clients with overdue steps", fmt.Sprintf("%s: %d overdue", o.ClientName, n))
			}
		}
		for _, u := range upcoming {
			k := staffKey{u.PracticeID, u.CoachID}
			d, ok := dueOf[k]
			if !ok || !u.StartsAt.Before(d.slot.AddDate(0, 0, 7)) {
				continue
			}
			add(k, "Sessions this week", fmt.Sprintf("%s, %s %s", u.ClientName, u.StartsAt.In(d.loc).Format("Mon 2 Jan 15:04"), d.loc))
		}
		for _, c := range consents {
			k := staffKey{c.PracticeID, c.CoachID}
			d, ok := dueOf[k]
			if !ok {
				continue
			}
			since := d.slot.AddDate(0, 0, -7)
			var what string
			switch {
			case c.RevokedAt != nil && !c.RevokedAt.Before(since):
				what = "revoked"
			case c.ActivatedAt != nil && !c.ActivatedAt.Before(since) && c.Status == "active":
				what = "now active, ends " + c.ExpiresAt.In(d.loc).Format("Mon 2 Jan")
			case (c.Status == "active" || c.Status == "pending") && c.ExpiresAt.After(now) && !c.ExpiresAt.After(now.AddDate(0, 0, 14)):
				what = "ends " + c.ExpiresAt.In(d.loc).Format("Mon 2 Jan")
			default:
				continue
			}
			add(k, "Consents changing", fmt.Sprintf("%s's consent for %s: %s", c.ClientName, c.TherapistName, what))
		}

		var params []river.InsertManyParams
		for _, d := range due {
			body := lines[staffKey{d.staff.PracticeID, d.staff.UserID}]
			if len(body) == 0 {
				continue
			}
			opts := &river.InsertOpts{}
			if at := quietUntil(now, d.loc, d.prefs); at.After(now) {
				opts.ScheduledAt = at
			}
			params = append(params, river.InsertManyParams{Args: s.weeklySummary(d.staff, d.slot, body), InsertOpts: opts})
		}
		if _, err := jobs.InsertEmails(ctx, s.c.Store, tx, params); err != nil {
			return err
		}
		return saveCursor(tx, "weekly_summary", now)
	})
}

func containsHeading(lines []string, section string) bool {
	for _, l := range lines {
		if l == section+":" {
			return true
		}
	}
	return false
}

// weeklySummary renders m's summary of the week whose local Monday morning
// is slot; its key is that local Monday, whatever the zone.
func (s *Service) weeklySummary(m summaryStaffRow, slot time.Time, body []string) jobs.EmailArgs {
	var b strings.Builder
	fmt.Fprintf(&b, "Good morning, %s. Your week at %s:\n", m.Name, m.PracticeName)
	b.WriteString(strings.Join(body, "\n"))
	fmt.Fprintf(&b, "\n\nOpen Tandem: %s/\n", s.c.BaseURL)
	headers, link := s.UnsubscribeHeaders(m.UserID, KindWeeklySummary)
	if link != "" {
		fmt.Fprintf(&b, "\nStop weekly summaries: %s\n", link)
	}
	return jobs.EmailArgs{
		Key: jobs.Key("weekly-summary", m.UserID, m.PracticeID, date.Of(slot)), To: m.Email,
		Subject: "Your week at " + m.PracticeName + ", " + slot.Format("2 January"), Text: b.String(), Headers: headers,
		About: jobs.About{PracticeID: m.PracticeID, UserID: m.UserID},
	}
}
