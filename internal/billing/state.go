package billing

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
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/limits"
)

// billingRow is one practice_billing row.
type billingRow struct {
	PracticeID           uuid.UUID `gorm:"primaryKey"`
	StripeCustomerID     *string
	StripeSubscriptionID *string
	Plan                 *string
	Status               *string
	CurrentPeriodEnd     *time.Time
	TrialEnd             *time.Time
	PastDueSince         *time.Time
	StateAt              *time.Time
	Version              int64
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

func (billingRow) TableName() string { return "practice_billing" }

// Subscription statuses beyond Stripe's own: a practice whose trial ended
// without a subscription.
const StatusTrialEnded = "trial_ended"

// Access is what the billing state lets the practice's staff do.
type Access string

// The accesses.
const (
	AccessFull     Access = "full"      // trialing or paid: everything within the plan's limits
	AccessGrace    Access = "grace"     // a payment failed: everything, until the grace period ends
	AccessReadOnly Access = "read_only" // lapsed: staff read, never write; nothing is deleted
)

// Usage is what a practice uses of its plan's limits.
type Usage struct {
	ActiveClients        int64
	Coaches              int64
	TherapistConnections int64
}

// Subscription is a practice's billing state as its owner sees it.
type Subscription struct {
	Plan             config.Plan
	Status           string
	Access           Access
	CurrentPeriodEnd *time.Time
	TrialEnd         *time.Time
	GraceEndsAt      *time.Time
	HasCustomer      bool
	Usage            Usage
}

// state derives the practice's plan, status and access from its row (nil
// when it has none) at now.
func (s *Service) state(row *billingRow, practiceCreated, now time.Time) Subscription {
	st := s.c.Stripe
	out := Subscription{Plan: *st.Plan(st.TrialPlan)}
	if row != nil {
		out.HasCustomer = row.StripeCustomerID != nil
		out.CurrentPeriodEnd, out.TrialEnd = row.CurrentPeriodEnd, row.TrialEnd
		if row.Plan != nil {
			if p := st.Plan(*row.Plan); p != nil {
				out.Plan = *p
			}
		}
	}
	status := ""
	if row != nil && row.Status != nil {
		status = *row.Status
	}
	switch status {
	case "active", "trialing":
		out.Status, out.Access = status, AccessFull
	case "past_due", "unpaid":
		out.Status = status
		since := now
		if row.PastDueSince != nil {
			since = *row.PastDueSince
		}
		end := since.Add(st.GracePeriod)
		out.GraceEndsAt = &end
		out.Access = AccessGrace
		if !now.Before(end) {
			out.Access = AccessReadOnly
		}
	case "canceled", "paused", "incomplete_expired":
		out.Status, out.Access = status, AccessReadOnly
	default: // never subscribed, or a first payment still incomplete: the trial
		end := practiceCreated.Add(time.Duration(st.TrialDays) * 24 * time.Hour)
		out.TrialEnd = &end
		out.Status, out.Access = "trialing", AccessFull
		if status == "incomplete" {
			out.Status = status
		}
		if !now.Before(end) {
			out.Status, out.Access = StatusTrialEnded, AccessReadOnly
		}
	}
	return out
}

// load reads the practice's row (nil when none) and creation time in tx.
func load(tx *gorm.DB, practiceID uuid.UUID) (*billingRow, time.Time, error) {
	var created struct{ CreatedAt time.Time }
	if err := tx.Table("practices").Select("created_at").Where("id = ?", practiceID).Take(&created).Error; err != nil {
		return nil, time.Time{}, err
	}
	var row billingRow
	err := tx.Where("practice_id = ?", practiceID).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, created.CreatedAt, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	return &row, created.CreatedAt, nil
}

// usage counts what the practice uses of each limit, in tx.
func usage(tx *gorm.DB, practiceID uuid.UUID, now time.Time) (Usage, error) {
	var u Usage
	if err := tx.Table("clients").Where("practice_id = ? AND status = 'active'", practiceID).Count(&u.ActiveClients).Error; err != nil {
		return u, err
	}
	var members, invited int64
	if err := tx.Table("memberships").Where("practice_id = ? AND role = 'coach'", practiceID).Count(&members).Error; err != nil {
		return u, err
	}
	// An invitation not yet accepted holds a seat: otherwise a practice
	// could invite past its limit and have every invitee accept.
	if err := tx.Table("invitations").Where("practice_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?",
		practiceID, now).Count(&invited).Error; err != nil {
		return u, err
	}
	u.Coaches = members + invited
	if err := tx.Table("consents").Where("practice_id = ? AND status IN ('pending', 'active') AND expires_at > ?", practiceID, now).
		Count(&u.TherapistConnections).Error; err != nil {
		return u, err
	}
	return u, nil
}

// Subscription returns the owner's practice's plan, state, limits and usage.
func (s *Service) Subscription(ctx context.Context, a auth.Actor) (Subscription, error) {
	if !s.Enabled() {
		return Subscription{}, ErrDisabled
	}
	if err := requireOwner(a); err != nil {
		return Subscription{}, err
	}
	var out Subscription
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		row, created, err := load(tx, a.PracticeID)
		if err != nil {
			return err
		}
		out = s.state(row, created, now)
		out.Usage, err = usage(tx, a.PracticeID, now)
		return err
	})
	return out, err
}

// Allow implements limits.Checker: in tx, the creation's transaction, it
// refuses one more of kind when the practice is read-only (but never a
// client's own therapist connection) or at its plan's limit. On PostgreSQL
// it locks the practice row first, so concurrent creations count one after
// the other; SQLite has a single writer already.
func (s *Service) Allow(ctx context.Context, tx *gorm.DB, practiceID uuid.UUID, kind limits.Kind) error {
	if !s.Enabled() {
		return nil
	}
	if isPostgres(tx) {
		var locked struct{ ID uuid.UUID }
		if err := tx.Table("practices").Select("id").Where("id = ?", practiceID).
			Clauses(clause.Locking{Strength: "UPDATE"}).Take(&locked).Error; err != nil {
			return err
		}
	}
	now := s.c.Clock.Now()
	row, created, err := load(tx, practiceID)
	if err != nil {
		return err
	}
	st := s.state(row, created, now)
	if st.Access == AccessReadOnly && kind != limits.TherapistConnections {
		return ErrReadOnly
	}
	var limit *int
	switch kind {
	case limits.ActiveClients:
		limit = st.Plan.Limits.ActiveClients
	case limits.Coaches:
		limit = st.Plan.Limits.Coaches
	case limits.TherapistConnections:
		limit = st.Plan.Limits.TherapistConnections
	}
	if limit == nil {
		return nil
	}
	u, err := usage(tx, practiceID, now)
	if err != nil {
		return err
	}
	used := map[limits.Kind]int64{limits.ActiveClients: u.ActiveClients, limits.Coaches: u.Coaches,
		limits.TherapistConnections: u.TherapistConnections}[kind]
	if used >= int64(*limit) {
		return &apperr.Error{Code: apperr.PaymentRequired, Reason: "plan_limit_reached",
			Message: fmt.Sprintf("The %s plan allows %d %s and the practice has %d: the owner can change the plan (POST /billing/checkout-session or /billing/portal-session).",
				st.Plan.Name, *limit, kindLabel(kind), used)}
	}
	return nil
}

func kindLabel(k limits.Kind) string {
	switch k {
	case limits.ActiveClients:
		return "active clients (active_clients)"
	case limits.Coaches:
		return "coaches, invited or joined (coaches)"
	default:
		return "therapist connections (therapist_connections)"
	}
}

// StaffMayWrite refuses a staff member's change while the practice is
// read-only. Reads, and what clients and therapists do for themselves, are
// never refused by billing.
func (s *Service) StaffMayWrite(ctx context.Context, practiceID uuid.UUID) error {
	if !s.Enabled() || practiceID == uuid.Nil {
		return nil
	}
	db := s.c.Store.DB.WithContext(ctx)
	row, created, err := load(db, practiceID)
	if err != nil {
		return err
	}
	if s.state(row, created, s.c.Clock.Now()).Access == AccessReadOnly {
		return ErrReadOnly
	}
	return nil
}
