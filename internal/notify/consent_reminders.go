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

// A client is reminded 14 days and 1 day before a consent of theirs ends,
// with a link to renew it (a renewal is a new consent, which they sign
// again). Only the client: the therapist hears nothing about the client by
// mail, and the coach reads what is changing in the weekly summary.

// ConsentReminderLeads are how long before a consent ends its reminders go.
var ConsentReminderLeads = []time.Duration{14 * 24 * time.Hour, 24 * time.Hour}

// RenewConsentPath is the web app's page to renew a consent, by ID: the
// consent form, filled in from the consent that ends, to sign anew.
const RenewConsentPath = "/portal/consent/new?renew=%s"

// expiringConsentRow is a consent that ends within a reminder's window.
type expiringConsentRow struct {
	ID            uuid.UUID
	PracticeID    uuid.UUID
	ClientID      uuid.UUID
	TherapistName string
	ExpiresAt     time.Time
	ClientUserID  uuid.UUID
	ClientEmail   string
	ClientName    string
	Timezone      string
}

// EnqueueConsentReminders queues the reminders of the consents that came
// within 14 days, or 1 day, of their end since the last run, in one
// transaction of a constant number of statements.
func (s *Service) EnqueueConsentReminders(ctx context.Context) error {
	now := s.c.Clock.Now()
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		// The first run starts the watch: a consent already within a lead
		// of its end was just given or renewed, or was reminded of before.
		from, err := loadCursor(tx, "consent_reminders", now)
		if err != nil {
			return err
		}
		if !now.After(from) {
			return saveCursor(tx, "consent_reminders", now)
		}
		type due struct {
			row  expiringConsentRow
			lead time.Duration
		}
		var found []due
		var users []uuid.UUID
		for _, lead := range ConsentReminderLeads {
			var rows []expiringConsentRow
			if err := tx.Table("consents AS k").
				Select("k.id, k.practice_id, k.client_id, k.therapist_name, k.expires_at, c.user_id AS client_user_id, u.email AS client_email, "+
					"c.name AS client_name, c.timezone").
				Joins("JOIN clients c ON c.practice_id = k.practice_id AND c.id = k.client_id").
				Joins("JOIN users u ON u.id = c.user_id").
				Where("k.status IN ('active', 'pending') AND k.expires_at > ? AND k.expires_at <= ?", from.Add(lead), now.Add(lead)).
				Order("k.expires_at, k.id").Find(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				found = append(found, due{r, lead})
				users = append(users, r.ClientUserID)
			}
		}
		prefsOf, err := loadPreferencesOf(tx, users)
		if err != nil {
			return err
		}
		var params []river.InsertManyParams
		for _, d := range found {
			p := prefsOf(d.row.ClientUserID)
			if !p.ConsentReminders {
				continue
			}
			loc := date.Zone(d.row.Timezone)
			opts := &river.InsertOpts{}
			if at := quietUntil(now, loc, p); at.After(now) {
				opts.ScheduledAt = at
			}
			params = append(params, river.InsertManyParams{Args: s.consentReminder(d.row, d.lead, loc), InsertOpts: opts})
		}
		if _, err := jobs.InsertEmails(ctx, s.c.Store, tx, params); err != nil {
			return err
		}
		return saveCursor(tx, "consent_reminders", now)
	})
}

func (s *Service) consentReminder(r expiringConsentRow, lead time.Duration, loc *time.Location) jobs.EmailArgs {
	days := int(lead / (24 * time.Hour))
	ends := r.ExpiresAt.In(loc)
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\nyour consent for %s to see part of your coaching ends on %s (%s).\n",
		r.ClientName, r.TherapistName, ends.Format("Monday 2 January 2006 at 15:04"), loc.String())
	b.WriteString("When it ends, they see nothing more. To keep sharing, renew it: you read and sign it again.\n\n")
	fmt.Fprintf(&b, "Renew: %s"+RenewConsentPath+"\n", s.c.BaseURL, r.ID)
	b.WriteString("\nNothing to do if you want it to end.\n")
	headers, link := s.UnsubscribeHeaders(r.ClientUserID, KindConsentReminders)
	if link != "" {
		fmt.Fprintf(&b, "\nStop reminders before a consent ends: %s\n", link)
	}
	subject := fmt.Sprintf("Your consent for %s ends in %d days", r.TherapistName, days)
	if days == 1 {
		subject = fmt.Sprintf("Your consent for %s ends tomorrow", r.TherapistName)
	}
	return jobs.EmailArgs{
		Key: jobs.Key("consent-expiry", r.ID, days, r.ExpiresAt), To: r.ClientEmail, Subject: subject,
		Text: b.String(), Headers: headers,
		About: jobs.About{PracticeID: r.PracticeID, ClientID: r.ClientID, UserID: r.ClientUserID},
	}
}
