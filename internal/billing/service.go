// Package billing is a practice's subscription with Stripe: the plans and
// their limits from configuration, the trial a new practice starts on,
// Checkout and the customer portal, the webhook that keeps the
// subscription's state, and the entitlement checks the services that create
// clients, coaches and therapist connections run in their transactions.
// With billing off (no Stripe key) nothing is limited and every billing
// operation answers ErrDisabled.
package billing

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/limits"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the billing service needs.
type Config struct {
	Store   *store.Store
	Stripe  config.Stripe
	Clock   clock.Clock
	Log     *slog.Logger
	BaseURL string // Checkout and the portal return here
}

// Service is billing. A nil-safe Checker: with billing off it allows everything.
type Service struct {
	c      Config
	stripe *client.API // nil with billing off
	// customerLocks serializes, per practice, the creation of its Stripe
	// customer within this process; the idempotency key covers replicas.
	customerLocks sync.Map // uuid.UUID -> *sync.Mutex
}

var _ limits.Checker = (*Service)(nil)

// Errors of billing, each with its own problem type.
var (
	ErrDisabled = &apperr.Error{Code: apperr.NotFound, Reason: "billing_disabled",
		Message: "Billing is not enabled on this Tandem server: no plan limits apply."}
	ErrReadOnly = &apperr.Error{Code: apperr.PaymentRequired, Reason: "billing_read_only",
		Message: "The practice's subscription has lapsed: it is read-only for its owner and coaches until the owner renews it (GET /billing/subscription)."}
	errNoCustomer = &apperr.Error{Code: apperr.Conflict, Reason: "no_subscription",
		Message: "The practice has no Stripe customer yet: subscribe first (POST /billing/checkout-session)."}
	errStripe = &apperr.Error{Code: apperr.Unavailable, Reason: "stripe_unavailable",
		Message: "Stripe did not answer as expected; try again shortly."}
)

// stripeTimeout bounds each call to Stripe.
const stripeTimeout = 20 * time.Second

// NewService returns the billing service.
func NewService(c Config) *Service {
	s := &Service{c: c}
	if !c.Stripe.Enabled() {
		return s
	}
	bc := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: stripeTimeout},
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull}, // its logs may quote requests
		MaxNetworkRetries: stripe.Int64(2),                                // safe: creations carry idempotency keys
	}
	if c.Stripe.APIURL != "" {
		bc.URL = stripe.String(c.Stripe.APIURL)
	}
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, bc)
	s.stripe = client.New(c.Stripe.SecretKey.Reveal(), &stripe.Backends{API: backend, Connect: backend, Uploads: backend})
	return s
}

// Enabled reports whether billing is on.
func (s *Service) Enabled() bool { return s != nil && s.stripe != nil }

// Plans lists the configured plans.
func (s *Service) Plans() ([]config.Plan, error) {
	if !s.Enabled() {
		return nil, ErrDisabled
	}
	return s.c.Stripe.Plans, nil
}

// requireOwner checks the actor owns a practice; the route's rule says so
// already, the service says it again.
func requireOwner(a auth.Actor) error {
	if a.PracticeID == uuid.Nil || !a.Has(auth.RoleOwner) {
		return apperr.New(apperr.Forbidden, "Only the practice owner may manage billing.")
	}
	return nil
}

func (s *Service) lockFor(practiceID uuid.UUID) *sync.Mutex {
	m, _ := s.customerLocks.LoadOrStore(practiceID, &sync.Mutex{})
	return m.(*sync.Mutex)
}

func isPostgres(tx *gorm.DB) bool { return tx.Dialector.Name() == "postgres" }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func stripeFailure(err error) error {
	e := *errStripe
	e.Err = err
	return &e
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, stripeTimeout)
}
