package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/config"
)

func toAPIBillingPlan(p config.Plan) api.BillingPlan {
	return api.BillingPlan{Id: p.ID, Name: p.Name, Limits: api.BillingLimits{
		ActiveClients: p.Limits.ActiveClients, Coaches: p.Limits.Coaches, TherapistConnections: p.Limits.TherapistConnections}}
}

// ListBillingPlans lists the configured plans.
func (s *Server) ListBillingPlans(ctx context.Context, _ api.ListBillingPlansRequestObject) (api.ListBillingPlansResponseObject, error) {
	if _, err := actorFrom(ctx); err != nil {
		return nil, err
	}
	plans, err := s.billing.Plans()
	if err != nil {
		return nil, err
	}
	out := api.ListBillingPlans200JSONResponse{Items: make([]api.BillingPlan, len(plans))}
	for i, p := range plans {
		out.Items[i] = toAPIBillingPlan(p)
	}
	return out, nil
}

// GetBillingSubscription returns the practice's plan, state, limits and usage.
func (s *Server) GetBillingSubscription(ctx context.Context, _ api.GetBillingSubscriptionRequestObject) (api.GetBillingSubscriptionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := s.billing.Subscription(ctx, actor)
	if err != nil {
		return nil, err
	}
	return api.GetBillingSubscription200JSONResponse{
		Plan: toAPIBillingPlan(sub.Plan), Status: sub.Status, Access: api.BillingSubscriptionAccess(sub.Access),
		CurrentPeriodEnd: sub.CurrentPeriodEnd, TrialEnd: sub.TrialEnd, GraceEndsAt: sub.GraceEndsAt, HasCustomer: sub.HasCustomer,
		Usage: api.BillingUsage{ActiveClients: sub.Usage.ActiveClients, Coaches: sub.Usage.Coaches,
			TherapistConnections: sub.Usage.TherapistConnections},
	}, nil
}

// CreateCheckoutSession starts Stripe Checkout for a plan.
func (s *Server) CreateCheckoutSession(ctx context.Context, r api.CreateCheckoutSessionRequestObject) (api.CreateCheckoutSessionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	url, err := s.billing.Checkout(ctx, actor, r.Body.PlanId)
	if err != nil {
		return nil, err
	}
	return api.CreateCheckoutSession200JSONResponse{Url: url}, nil
}

// CreatePortalSession opens the Stripe customer portal.
func (s *Server) CreatePortalSession(ctx context.Context, _ api.CreatePortalSessionRequestObject) (api.CreatePortalSessionResponseObject, error) {
	actor, err := actorFrom(ctx)
	if err != nil {
		return nil, err
	}
	url, err := s.billing.Portal(ctx, actor)
	if err != nil {
		return nil, err
	}
	return api.CreatePortalSession200JSONResponse{Url: url}, nil
}

// ReceiveStripeWebhook verifies and applies a Stripe event. The signature
// covers the exact bytes Stripe sent, which keepRawBody kept aside before
// anything decoded them.
func (s *Server) ReceiveStripeWebhook(ctx context.Context, r api.ReceiveStripeWebhookRequestObject) (api.ReceiveStripeWebhookResponseObject, error) {
	raw, _ := ctx.Value(rawBodyKey{}).([]byte)
	if err := s.billing.HandleWebhook(ctx, raw, r.Params.StripeSignature); err != nil {
		return nil, err
	}
	return api.ReceiveStripeWebhook204Response{}, nil
}

type rawBodyKey struct{}

// keepRawBody puts the request body's exact bytes in the request context
// for a handler that verifies a signature over them.
func keepRawBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		raw, err := io.ReadAll(r.Body) // bounded by the body limit middleware
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		r.Body = io.NopCloser(bytes.NewReader(raw))
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), rawBodyKey{}, raw)))
		return next(c)
	}
}
