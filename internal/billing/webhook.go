package billing

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// SignatureTolerance is how old a signed webhook may be: Stripe's default,
// the bound on replaying a captured delivery.
const SignatureTolerance = 300 * time.Second

var errBadSignature = &apperr.Error{Code: apperr.Invalid, Reason: "invalid_signature",
	Message: "The Stripe-Signature header does not verify this body with the endpoint's secret, or is older than 300 seconds."}

// eventRow is one stripe_events row.
type eventRow struct {
	ID         string `gorm:"primaryKey"`
	Type       string
	PracticeID *uuid.UUID
	Created    time.Time
	ReceivedAt time.Time
}

func (eventRow) TableName() string { return "stripe_events" }

// change is what one event tells of a practice's subscription.
type change struct {
	customer     string
	practiceHint uuid.UUID // client_reference_id or metadata: whose customer this is, when it is new
	subscription string
	plan         string // a plan ID, or ""
	status       string // "" leaves the status alone
	periodEnd    *time.Time
	trialEnd     *time.Time
	// onlyIfNew: the status applies only where no event has set one (a
	// completed checkout knows less than the subscription's own events).
	onlyIfNew bool
}

// HandleWebhook verifies a Stripe webhook delivery and applies its event.
// A delivery whose signature does not verify gets errBadSignature and
// changes nothing. The event is recorded by its ID in the transaction of
// its effect, so a second delivery has none; an event older than the state
// stored never overwrites it; an unknown type or an unknown customer is
// logged and answered with success, so Stripe stops retrying.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signature string) error {
	if !s.Enabled() {
		return ErrDisabled
	}
	ev, err := webhook.ConstructEventWithOptions(payload, signature, s.c.Stripe.WebhookSecret.Reveal(),
		webhook.ConstructEventOptions{Tolerance: SignatureTolerance, IgnoreAPIVersionMismatch: true})
	if err != nil {
		return errBadSignature
	}
	log := s.c.Log.With(slog.String("stripe_event", ev.ID), slog.String("type", string(ev.Type)))
	ch, known, err := s.changeOf(ev)
	if err != nil {
		log.WarnContext(ctx, "stripe event with an unreadable object: ignored", slog.String("error", err.Error()))
		known = false
	}
	created := time.Unix(ev.Created, 0).UTC()
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		row := eventRow{ID: ev.ID, Type: string(ev.Type), Created: created, ReceivedAt: now}
		if known {
			pid, ok, err := s.practiceOf(tx, ch)
			if err != nil {
				return err
			}
			if !ok {
				log.WarnContext(ctx, "stripe event for a customer of no practice: ignored", slog.String("customer", ch.customer))
				known = false
			} else {
				row.PracticeID = &pid
			}
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			log.InfoContext(ctx, "stripe event delivered again: no second effect")
			return nil
		}
		if !known {
			return nil
		}
		return s.apply(ctx, tx, *row.PracticeID, ch, created, ev.ID, string(ev.Type), now)
	})
}

// changeOf reads the event's object. known is false for types Tandem does
// not act on.
func (s *Service) changeOf(ev stripe.Event) (change, bool, error) {
	switch ev.Type {
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted":
		var sub stripe.Subscription
		if err := json.Unmarshal(ev.Data.Raw, &sub); err != nil {
			return change{}, false, err
		}
		ch := change{subscription: sub.ID, status: string(sub.Status), periodEnd: unixTime(sub.CurrentPeriodEnd),
			trialEnd: unixTime(sub.TrialEnd), practiceHint: parseID(sub.Metadata["practice_id"])}
		if sub.Customer != nil {
			ch.customer = sub.Customer.ID
		}
		if ev.Type == "customer.subscription.deleted" {
			ch.status = string(stripe.SubscriptionStatusCanceled)
		}
		if sub.Items != nil && len(sub.Items.Data) > 0 && sub.Items.Data[0].Price != nil {
			if p := s.c.Stripe.PlanByPrice(sub.Items.Data[0].Price.ID); p != nil {
				ch.plan = p.ID
			}
		}
		return ch, true, nil
	case "checkout.session.completed":
		var cs stripe.CheckoutSession
		if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil {
			return change{}, false, err
		}
		if cs.Mode != stripe.CheckoutSessionModeSubscription {
			return change{}, false, nil
		}
		ch := change{practiceHint: parseID(cs.ClientReferenceID), status: "active", onlyIfNew: true}
		if cs.Customer != nil {
			ch.customer = cs.Customer.ID
		}
		if cs.Subscription != nil {
			ch.subscription = cs.Subscription.ID
		}
		if p := s.c.Stripe.Plan(cs.Metadata["plan"]); p != nil {
			ch.plan = p.ID
		}
		return ch, true, nil
	case "invoice.paid", "invoice.payment_failed":
		var in stripe.Invoice
		if err := json.Unmarshal(ev.Data.Raw, &in); err != nil {
			return change{}, false, err
		}
		if in.Subscription == nil || in.Subscription.ID == "" {
			return change{}, false, nil // a one-off invoice: not the subscription's
		}
		ch := change{subscription: in.Subscription.ID, status: "active"}
		if ev.Type == "invoice.payment_failed" {
			ch.status = "past_due"
		}
		if in.Customer != nil {
			ch.customer = in.Customer.ID
		}
		return ch, true, nil
	}
	return change{}, false, nil
}

// practiceOf finds the practice the event is about: the one whose Stripe
// customer it names or, for a customer no practice has yet, the practice
// Tandem's own checkout named, if that practice has no customer yet.
func (s *Service) practiceOf(tx *gorm.DB, ch change) (uuid.UUID, bool, error) {
	if ch.customer == "" {
		return uuid.Nil, false, nil
	}
	var ids []uuid.UUID
	if err := tx.Model(&billingRow{}).Where("stripe_customer_id = ?", ch.customer).Pluck("practice_id", &ids).Error; err != nil {
		return uuid.Nil, false, err
	}
	if len(ids) == 1 {
		return ids[0], true, nil
	}
	if ch.practiceHint == uuid.Nil {
		return uuid.Nil, false, nil
	}
	var n int64
	if err := tx.Table("practices").Where("id = ?", ch.practiceHint).Count(&n).Error; err != nil || n == 0 {
		return uuid.Nil, false, err
	}
	row, _, err := load(tx, ch.practiceHint)
	if err != nil {
		return uuid.Nil, false, err
	}
	if row != nil && row.StripeCustomerID != nil && *row.StripeCustomerID != ch.customer {
		return uuid.Nil, false, nil
	}
	return ch.practiceHint, true, nil
}

// apply writes the change to the practice's row, unless a newer event set
// the state already. The comparison is part of the UPDATE, so two events
// applied at once still leave the newer one's state.
func (s *Service) apply(ctx context.Context, tx *gorm.DB, pid uuid.UUID, ch change, created time.Time, eventID, kind string, now time.Time) error {
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&billingRow{
		PracticeID: pid, Version: 1, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
		return err
	}
	// A customer and subscription are linked whatever the event's age.
	links := map[string]any{}
	if ch.customer != "" {
		links["stripe_customer_id"] = gorm.Expr("COALESCE(stripe_customer_id, ?)", ch.customer)
	}
	if ch.subscription != "" {
		links["stripe_subscription_id"] = gorm.Expr("COALESCE(stripe_subscription_id, ?)", ch.subscription)
	}
	if len(links) > 0 {
		if err := tx.Model(&billingRow{}).Where("practice_id = ?", pid).Updates(links).Error; err != nil {
			return err
		}
	}
	if ch.status == "" {
		return nil
	}
	set := map[string]any{"status": ch.status, "state_at": created, "updated_at": now, "version": gorm.Expr("version + 1")}
	if ch.subscription != "" {
		set["stripe_subscription_id"] = ch.subscription
	}
	if ch.plan != "" {
		set["plan"] = ch.plan
	}
	if ch.periodEnd != nil {
		set["current_period_end"] = *ch.periodEnd
	}
	if ch.trialEnd != nil {
		set["trial_end"] = *ch.trialEnd
	}
	switch ch.status {
	case "past_due", "unpaid":
		set["past_due_since"] = gorm.Expr("COALESCE(past_due_since, ?)", created)
	default:
		set["past_due_since"] = nil
	}
	q := tx.Model(&billingRow{}).Where("practice_id = ?", pid)
	if ch.onlyIfNew {
		q = q.Where("state_at IS NULL")
	} else {
		// Equal times: a cancellation is final, so it wins a tie.
		q = q.Where("state_at IS NULL OR state_at < ? OR (state_at = ? AND ? = 'canceled')", created, created, ch.status)
	}
	res := q.Updates(set)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		s.c.Log.InfoContext(ctx, "stripe event older than the state stored: no effect", slog.String("type", kind))
		return nil
	}
	if err := audit.Record(ctx, tx, audit.Entry{PracticeID: pid, Action: "billing." + ch.status, RecordType: "practice",
		RecordID: pid, At: now}); err != nil {
		return err
	}
	if kind == "invoice.payment_failed" {
		return s.mailPaymentFailed(ctx, tx, pid, eventID)
	}
	return nil
}

// mailPaymentFailed tells the practice's owner, in tx, that a payment
// failed and when the grace period ends.
func (s *Service) mailPaymentFailed(ctx context.Context, tx *gorm.DB, pid uuid.UUID, eventID string) error {
	var owners []string
	if err := tx.Table("memberships m").Joins("JOIN users u ON u.id = m.user_id").
		Where("m.practice_id = ? AND m.role = 'owner'", pid).Pluck("u.email", &owners).Error; err != nil {
		return err
	}
	row, created, err := load(tx, pid)
	if err != nil {
		return err
	}
	st := s.state(row, created, s.c.Clock.Now())
	until := "soon"
	if st.GraceEndsAt != nil {
		until = "on " + st.GraceEndsAt.UTC().Format("2 January 2006 at 15:04 UTC")
	}
	var msgs []jobs.Mail
	for _, to := range owners {
		msgs = append(msgs, jobs.Mail{Key: jobs.Key("billing-payment-failed", eventID, to), About: jobs.About{PracticeID: pid}, Message: tmail.Message{
			To:      to,
			Subject: "Tandem: a payment for your practice failed",
			Text: "Hello,\n\nStripe could not collect the latest payment for your practice's Tandem subscription.\n\n" +
				"Everything keeps working until the grace period ends " + until + ". After that your practice becomes " +
				"read-only for you and your coaches until the payment goes through; nothing is deleted, and your " +
				"clients keep using Tandem.\n\nUpdate the card in the billing portal: " + s.c.BaseURL + "/billing\n",
		}})
	}
	return jobs.EnqueueMail(ctx, s.c.Store, tx, msgs...)
}

func unixTime(sec int64) *time.Time {
	if sec == 0 {
		return nil
	}
	t := time.Unix(sec, 0).UTC()
	return &t
}

func parseID(s string) uuid.UUID {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil
	}
	return id
}
