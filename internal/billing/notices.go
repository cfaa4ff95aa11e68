package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// Owners are told ahead of the practice becoming read-only for its staff,
// and when it does: a trial about to end, a grace period about to end, and
// the change itself. Each notice is keyed by its practice and the
// occurrence it is about (the trial's end, the failed payment that started
// the grace period, the cancellation), so the periodic task that finds them
// sends each once, however often it runs.
const (
	// trialWarning and graceWarning are how long before the end the
	// warning goes out.
	trialWarning = 3 * 24 * time.Hour
	graceWarning = 2 * 24 * time.Hour
	// noticeLookback bounds how long after a change its notice may still
	// go out: a server that was down for a day still tells the owner, and
	// one first started on an old database does not mail every practice
	// that lapsed years ago.
	noticeLookback = 7 * 24 * time.Hour
	// NoticesEvery is how often the task looks.
	NoticesEvery = 15 * time.Minute
)

// Periodic returns billing's periodic task (none with billing off), for
// the job queue's runner.
func (s *Service) Periodic() []jobs.Periodic {
	if !s.Enabled() {
		return nil
	}
	return []jobs.Periodic{{Name: "billing_notices", Every: NoticesEvery, Timeout: 5 * time.Minute, Run: s.SendNotices}}
}

// noticeRow is a practice whose billing state may call for a notice.
type noticeRow struct {
	PracticeID   uuid.UUID
	PracticeName string
	CreatedAt    time.Time
	Status       *string
	PastDueSince *time.Time
	StateAt      *time.Time
}

// notice is one e-mail to a practice's owners.
type notice struct {
	practiceID uuid.UUID
	key        string
	subject    string
	text       string
}

// SendNotices queues the notices due now, in one transaction of three
// statements and the jobs' insert.
func (s *Service) SendNotices(ctx context.Context) error {
	if !s.Enabled() {
		return nil
	}
	now := s.c.Clock.Now()
	trial := time.Duration(s.c.Stripe.TrialDays) * 24 * time.Hour
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		var rows []noticeRow
		err := tx.Table("practices AS p").
			Select("p.id AS practice_id, p.name AS practice_name, p.created_at, b.status, b.past_due_since, b.state_at").
			Joins("LEFT JOIN practice_billing b ON b.practice_id = p.id").
			Where("(b.status IN ('past_due', 'unpaid') AND b.past_due_since > ?)"+
				" OR (b.status IN ('canceled', 'paused', 'incomplete_expired') AND b.state_at > ?)"+
				" OR ((b.status IS NULL OR b.status = 'incomplete') AND p.created_at > ? AND p.created_at <= ?)",
				now.Add(-s.c.Stripe.GracePeriod-noticeLookback), now.Add(-noticeLookback),
				now.Add(-trial-noticeLookback), now.Add(-trial+trialWarning)).
			Order("p.id").Find(&rows).Error
		if err != nil {
			return err
		}
		var notices []notice
		for _, r := range rows {
			if n, ok := s.noticeFor(r, now); ok {
				notices = append(notices, n)
			}
		}
		if len(notices) == 0 {
			return nil
		}
		ids := make([]uuid.UUID, len(notices))
		for i, n := range notices {
			ids[i] = n.practiceID
		}
		var owners []struct {
			PracticeID uuid.UUID
			UserID     uuid.UUID
			Email      string
		}
		if err := tx.Table("memberships AS m").Select("m.practice_id, u.id AS user_id, u.email").
			Joins("JOIN users u ON u.id = m.user_id").
			Where("m.practice_id IN ? AND m.role = 'owner'", ids).Order("m.practice_id, u.email").Scan(&owners).Error; err != nil {
			return err
		}
		var msgs []jobs.Mail
		for _, n := range notices {
			for _, o := range owners {
				if o.PracticeID != n.practiceID {
					continue
				}
				msgs = append(msgs, jobs.Mail{Key: n.key + ":" + o.UserID.String(),
					About:   jobs.About{PracticeID: n.practiceID, UserID: o.UserID},
					Message: tmail.Message{To: o.Email, Subject: n.subject, Text: n.text}})
			}
		}
		return jobs.EnqueueMail(ctx, s.c.Store, tx, msgs...)
	})
}

// noticeFor is the notice r's state calls for at now, if any.
func (s *Service) noticeFor(r noticeRow, now time.Time) (notice, bool) {
	sub := s.state(&billingRow{PracticeID: r.PracticeID, Status: r.Status, PastDueSince: r.PastDueSince}, r.CreatedAt, now)
	billingURL := s.c.BaseURL + "/billing"
	n := notice{practiceID: r.PracticeID}
	const readOnly = "Your practice %s on Tandem is now read-only for you and your coaches: you can read everything, " +
		"but not add or change anything until the subscription is paid. Nothing is deleted, and your clients keep " +
		"using Tandem: they complete their steps, manage their consents and export their data as before.\n\n"
	switch {
	case sub.Status == "past_due" || sub.Status == "unpaid":
		if r.PastDueSince == nil || sub.GraceEndsAt == nil {
			return notice{}, false
		}
		if sub.Access == AccessReadOnly {
			n.key = jobs.Key("billing-read-only", r.PracticeID, *r.PastDueSince)
			n.subject = "Tandem: your practice is read-only until the payment goes through"
			n.text = fmt.Sprintf(readOnly, r.PracticeName) + "Update the card in the billing portal: " + billingURL + "\n"
			return n, true
		}
		if sub.GraceEndsAt.Sub(now) > graceWarning {
			return notice{}, false
		}
		n.key = jobs.Key("billing-grace-ending", r.PracticeID, *r.PastDueSince)
		n.subject = "Tandem: your practice becomes read-only on " + sub.GraceEndsAt.UTC().Format("2 January")
		n.text = fmt.Sprintf("Stripe still could not collect the payment for %s's Tandem subscription. On %s your "+
			"practice becomes read-only for you and your coaches until it goes through; nothing is deleted.\n\n"+
			"Update the card in the billing portal: %s\n", r.PracticeName, sub.GraceEndsAt.UTC().Format("2 January 2006 at 15:04 UTC"), billingURL)
		return n, true
	case sub.Status == StatusTrialEnded:
		n.key = jobs.Key("billing-read-only", r.PracticeID, *sub.TrialEnd)
		n.subject = "Tandem: your trial has ended"
		n.text = fmt.Sprintf(readOnly, r.PracticeName) + "Choose a plan to carry on: " + billingURL + "\n"
		return n, true
	case sub.Access == AccessReadOnly: // canceled, paused, incomplete_expired
		if r.StateAt == nil {
			return notice{}, false
		}
		n.key = jobs.Key("billing-read-only", r.PracticeID, *r.StateAt)
		n.subject = "Tandem: your subscription has ended"
		n.text = fmt.Sprintf(readOnly, r.PracticeName) + "Subscribe again at any time: " + billingURL + "\n"
		return n, true
	case sub.TrialEnd != nil && (r.Status == nil || *r.Status == "incomplete"):
		if sub.TrialEnd.Sub(now) > trialWarning {
			return notice{}, false
		}
		n.key = jobs.Key("billing-trial-ending", r.PracticeID, *sub.TrialEnd)
		n.subject = "Tandem: your trial ends on " + sub.TrialEnd.UTC().Format("2 January")
		n.text = fmt.Sprintf("The trial of %s on Tandem ends on %s. Choose a plan before then to keep adding and "+
			"changing records; after it, the practice is read-only for you and your coaches until you subscribe, "+
			"and nothing is deleted.\n\nChoose a plan: %s\n", r.PracticeName, sub.TrialEnd.UTC().Format("2 January 2006 at 15:04 UTC"), billingURL)
		return n, true
	}
	return notice{}, false
}
