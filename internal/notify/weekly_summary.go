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

// Every Monday at 07:00 UTC each owner and coach gets a summary of their
// own clients: who has overdue steps, the sessions of the week ahead, and
// the consents that end soon or changed in the week past. Only staff: no
// therapist is mailed anything about a client. Staff have no time zone
// yet, so the summary keeps UTC; with nothing to say it is not sent.

// summaryHour is the UTC hour of Monday at which weekly summaries go.
const summaryHour = 7

// summaryStaffRow is an owner or coach of a practice.
type summaryStaffRow struct {
	UserID       uuid.UUID
	PracticeID   uuid.UUID
	Email        string
	Name         string
	PracticeName string
}

type summaryOverdueRow struct {
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	ClientName string
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

// weekSlot is the Monday 07:00 UTC at or before now.
func weekSlot(now time.Time) time.Time {
	d := weekStart(date.Of(now.UTC()))
	slot := time.Date(d.Year, d.Month, d.Day, summaryHour, 0, 0, 0, time.UTC)
	if slot.After(now) {
		slot = slot.AddDate(0, 0, -7)
	}
	return slot
}

// EnqueueWeeklySummaries queues this week's summaries, once: the first
// run after Monday 07:00 UTC does, in one transaction of a constant
// number of statements, and records the week as done.
func (s *Service) EnqueueWeeklySummaries(ctx context.Context) error {
	now := s.c.Clock.Now()
	slot := weekSlot(now)
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		done, err := loadCursor(tx, "weekly_summary", time.Time{})
		if err != nil {
			return err
		}
		if !slot.After(done) || now.Sub(slot) > DigestGrace {
			if slot.After(done) {
				return saveCursor(tx, "weekly_summary", slot) // too late this week
			}
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
		today := date.Of(now.UTC())
		var overdue []summaryOverdueRow
		if err := tx.Table("action_steps AS s").
			Select("c.practice_id, c.coach_id, c.name AS client_name, COUNT(*) AS overdue").
			Joins("JOIN clients c ON c.practice_id = s.practice_id AND c.id = s.client_id").
			Where("s.status = 'open' AND s.due_date < ? AND c.status = 'active'", today).
			Group("c.practice_id, c.coach_id, c.id, c.name").Order("c.name").Find(&overdue).Error; err != nil {
			return err
		}
		var upcoming []summarySessionRow
		if err := tx.Table("coaching_sessions AS s").
			Select("s.practice_id, s.coach_id, c.name AS client_name, s.starts_at").
			Joins("JOIN clients c ON c.practice_id = s.practice_id AND c.id = s.client_id").
			Where("s.status = 'scheduled' AND s.starts_at >= ? AND s.starts_at < ?", now, slot.AddDate(0, 0, 7)).
			Order("s.starts_at").Find(&upcoming).Error; err != nil {
			return err
		}
		var consents []summaryConsentRow
		if err := tx.Table("consents AS k").
			Select("k.practice_id, c.coach_id, c.name AS client_name, k.therapist_name, k.status, k.expires_at, k.activated_at, k.revoked_at").
			Joins("JOIN clients c ON c.practice_id = k.practice_id AND c.id = k.client_id").
			Where("(k.status IN ('active', 'pending') AND k.expires_at > ? AND k.expires_at <= ?) OR k.activated_at >= ? OR k.revoked_at >= ?",
				now, now.AddDate(0, 0, 14), slot.AddDate(0, 0, -7), slot.AddDate(0, 0, -7)).
			Order("k.expires_at").Find(&consents).Error; err != nil {
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

		lines := map[staffKey][]string{}
		add := func(k staffKey, section, line string) {
			if len(lines[k]) == 0 || !containsHeading(lines[k], section) {
				lines[k] = append(lines[k], "", section+":")
			}
			lines[k] = append(lines[k], "  - "+line)
		}
		for _, o := range overdue {
			add(staffKey{o.PracticeID, o.CoachID}, "Clients with overdue steps", fmt.Sprintf("%s: %d overdue", o.ClientName, o.Overdue))
		}
		for _, u := range upcoming {
			add(staffKey{u.PracticeID, u.CoachID}, "Sessions this week", fmt.Sprintf("%s, %s UTC", u.ClientName, u.StartsAt.UTC().Format("Mon 2 Jan 15:04")))
		}
		for _, c := range consents {
			var what string
			switch {
			case c.RevokedAt != nil && !c.RevokedAt.Before(slot.AddDate(0, 0, -7)):
				what = "revoked"
			case c.ActivatedAt != nil && !c.ActivatedAt.Before(slot.AddDate(0, 0, -7)) && c.Status == "active":
				what = "now active, ends " + c.ExpiresAt.UTC().Format("Mon 2 Jan")
			case c.Status == "active" || c.Status == "pending":
				what = "ends " + c.ExpiresAt.UTC().Format("Mon 2 Jan")
			default:
				continue
			}
			add(staffKey{c.PracticeID, c.CoachID}, "Consents changing", fmt.Sprintf("%s's consent for %s: %s", c.ClientName, c.TherapistName, what))
		}

		var params []river.InsertManyParams
		for _, m := range staff {
			body := lines[staffKey{m.PracticeID, m.UserID}]
			p := prefsOf(m.UserID)
			if len(body) == 0 || !p.WeeklySummary {
				continue
			}
			opts := &river.InsertOpts{}
			if at := quietUntil(now, time.UTC, p); at.After(now) {
				opts.ScheduledAt = at
			}
			params = append(params, river.InsertManyParams{Args: s.weeklySummary(m, slot, body), InsertOpts: opts})
		}
		if _, err := jobs.InsertEmails(ctx, s.c.Store, tx, params); err != nil {
			return err
		}
		return saveCursor(tx, "weekly_summary", slot)
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
