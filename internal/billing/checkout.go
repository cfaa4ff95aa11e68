package billing

import (
	"context"

	"github.com/stripe/stripe-go/v76"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
)

// Checkout starts Stripe Checkout in subscription mode for planID and
// returns the URL to send the owner to. The practice's Stripe customer is
// created on its first checkout, once.
func (s *Service) Checkout(ctx context.Context, a auth.Actor, planID string) (string, error) {
	if !s.Enabled() {
		return "", ErrDisabled
	}
	if err := requireOwner(a); err != nil {
		return "", err
	}
	plan := s.c.Stripe.Plan(planID)
	if plan == nil {
		return "", apperr.Validation(apperr.FieldError{Field: "plan_id", Message: "is not one of the plans (GET /billing/plans)"})
	}
	customer, err := s.customer(ctx, a)
	if err != nil {
		return "", err
	}
	meta := map[string]string{"practice_id": a.PracticeID.String(), "plan": plan.ID}
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(customer),
		ClientReferenceID: stripe.String(a.PracticeID.String()),
		LineItems:         []*stripe.CheckoutSessionLineItemParams{{Price: stripe.String(plan.PriceID), Quantity: stripe.Int64(1)}},
		SuccessURL:        stripe.String(s.c.BaseURL + "/billing?checkout=success"),
		CancelURL:         stripe.String(s.c.BaseURL + "/billing?checkout=cancelled"),
		SubscriptionData:  &stripe.CheckoutSessionSubscriptionDataParams{Metadata: meta},
	}
	params.Metadata = meta
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	params.Context = ctx
	sess, err := s.stripe.CheckoutSessions.New(params)
	if err != nil {
		return "", stripeFailure(err)
	}
	return sess.URL, nil
}

// Portal opens a Stripe customer portal session (change plan, card, or
// cancel) and returns its URL.
func (s *Service) Portal(ctx context.Context, a auth.Actor) (string, error) {
	if !s.Enabled() {
		return "", ErrDisabled
	}
	if err := requireOwner(a); err != nil {
		return "", err
	}
	row, _, err := load(s.c.Store.DB.WithContext(ctx), a.PracticeID)
	if err != nil {
		return "", err
	}
	if row == nil || row.StripeCustomerID == nil {
		return "", errNoCustomer
	}
	params := &stripe.BillingPortalSessionParams{Customer: row.StripeCustomerID, ReturnURL: stripe.String(s.c.BaseURL + "/billing")}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	params.Context = ctx
	sess, err := s.stripe.BillingPortalSessions.New(params)
	if err != nil {
		return "", stripeFailure(err)
	}
	return sess.URL, nil
}

// customer returns the practice's Stripe customer ID, creating the customer
// the first time. It never creates two: within this process one request
// per practice at a time gets this far; across replicas the idempotency key
// (one per practice) makes Stripe answer every attempt with the same
// customer; and the ID is stored only where none is yet, so the first one
// stored is the one every later request uses. The Stripe call happens
// outside any transaction: no database lock waits on the network.
func (s *Service) customer(ctx context.Context, a auth.Actor) (string, error) {
	lock := s.lockFor(a.PracticeID)
	lock.Lock()
	defer lock.Unlock()

	var existing *string
	var name, email string
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		existing = nil
		row, _, err := load(tx, a.PracticeID)
		if err != nil {
			return err
		}
		if row != nil {
			existing = row.StripeCustomerID
		}
		var who struct{ PracticeName, Email string }
		if err := tx.Table("practices p").Select("p.name AS practice_name, u.email").
			Joins("JOIN users u ON u.id = ?", a.UserID).Where("p.id = ?", a.PracticeID).Take(&who).Error; err != nil {
			return err
		}
		name, email = who.PracticeName, who.Email
		return nil
	})
	if err != nil || existing != nil {
		return deref(existing), err
	}

	params := &stripe.CustomerParams{Name: stripe.String(name), Email: stripe.String(email)}
	params.AddMetadata("practice_id", a.PracticeID.String())
	params.SetIdempotencyKey("tandem-customer-" + a.PracticeID.String())
	sctx, cancel := withTimeout(ctx)
	defer cancel()
	params.Context = sctx
	c, err := s.stripe.Customers.New(params)
	if err != nil {
		return "", stripeFailure(err)
	}

	var stored string
	err = s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&billingRow{
			PracticeID: a.PracticeID, Version: 1, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			return err
		}
		res := tx.Model(&billingRow{}).Where("practice_id = ? AND stripe_customer_id IS NULL", a.PracticeID).
			Updates(map[string]any{"stripe_customer_id": c.ID, "updated_at": now, "version": gorm.Expr("version + 1")})
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Model(&billingRow{}).Where("practice_id = ?", a.PracticeID).Pluck("stripe_customer_id", &stored).Error; err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: "billing.customer_created",
			RecordType: "practice", RecordID: a.PracticeID, At: now})
	})
	return stored, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
