package notify

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/page"
)

// Delivery is one logged e-mail as people read it: what it was about, to
// whom, and how sending it went. Never the message.
type Delivery struct {
	ID        uuid.UUID
	Kind      string
	Recipient string
	ClientID  *uuid.UUID
	Status    string
	Attempts  int
	LastError *string
	SendAfter time.Time
	SentAt    *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

func toDelivery(r jobs.DeliveryRow) Delivery {
	return Delivery{ID: r.ID, Kind: r.Kind, Recipient: r.Recipient, ClientID: r.ClientID, Status: r.Status,
		Attempts: r.Attempts, LastError: r.LastError, SendAfter: r.SendAfter, SentAt: r.SentAt,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// DeliveryFilter narrows the practice's log.
type DeliveryFilter struct {
	ClientID *uuid.UUID
	Status   *string
}

// ErrStaffOnly answers a practice log asked for by someone not on staff.
var ErrStaffOnly = apperr.New(apperr.Forbidden, "Only the practice's owner and coaches read its delivery log.")

// PracticeDeliveries returns the practice's e-mails, newest first: every
// one for the owner; for a coach, those about their own clients and those
// sent to them. Authorization is part of the query.
func (s *Service) PracticeDeliveries(ctx context.Context, a auth.Actor, f DeliveryFilter, pr page.Request) ([]Delivery, *string, error) {
	if !a.IsStaff() {
		return nil, nil, ErrStaffOnly
	}
	q := s.c.Store.DB.WithContext(ctx).Model(&jobs.DeliveryRow{}).Where("mail_deliveries.practice_id = ?", a.PracticeID)
	if !a.Has(auth.RoleOwner) {
		q = q.Where("("+toMe+" OR mail_deliveries.client_id IN (?))", a.UserID, a.UserID,
			s.c.Store.DB.Table("clients").Select("id").Where("practice_id = ? AND coach_id = ?", a.PracticeID, a.UserID))
	}
	if f.ClientID != nil {
		q = q.Where("mail_deliveries.client_id = ?", *f.ClientID)
	}
	if f.Status != nil {
		q = q.Where("mail_deliveries.status = ?", *f.Status)
	}
	return deliveryPage(q, pr)
}

// MyDeliveries returns the e-mails sent to the caller, newest first,
// whichever practice they came from: to their account, or to the address
// they hold now (an invitation went out before there was an account; an
// address is the account's once verified: before that, only the e-mails
// sent to the account).
func (s *Service) MyDeliveries(ctx context.Context, a auth.Actor, pr page.Request) ([]Delivery, *string, error) {
	q := s.c.Store.DB.WithContext(ctx).Model(&jobs.DeliveryRow{})
	if a.EmailVerified {
		q = q.Where(toMe, a.UserID, a.UserID)
	} else {
		q = q.Where("mail_deliveries.user_id = ?", a.UserID)
	}
	out, next, err := deliveryPage(q, pr)
	// Which client an e-mail was about is the practice's to know: a
	// therapist invited to a consent is not told the client's record.
	for i := range out {
		out[i].ClientID = nil
	}
	return out, next, err
}

// toMe matches the e-mails sent to a user (the argument twice): to their
// account or to their current address.
const toMe = "(mail_deliveries.user_id = ? OR mail_deliveries.recipient = (SELECT email FROM users WHERE id = ?))"

func deliveryPage(q *gorm.DB, pr page.Request) ([]Delivery, *string, error) {
	if pr.After != uuid.Nil {
		q = q.Where("mail_deliveries.id < ?", pr.After)
	}
	var rows []jobs.DeliveryRow
	if err := q.Order("mail_deliveries.id DESC").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r jobs.DeliveryRow) uuid.UUID { return r.ID })
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = toDelivery(r)
	}
	return out, next, nil
}

// DeliveryLogRetention is how long the delivery log keeps an e-mail.
const DeliveryLogRetention = 180 * 24 * time.Hour

// PurgeDeliveryLog deletes the log's rows older than DeliveryLogRetention.
func (s *Service) PurgeDeliveryLog(ctx context.Context) error {
	n, err := jobs.PurgeDeliveries(ctx, s.c.Store, s.c.Clock.Now().Add(-DeliveryLogRetention), 1000)
	if n > 0 {
		s.c.Log.InfoContext(ctx, "delivery log purged", "rows", n)
	}
	return err
}
