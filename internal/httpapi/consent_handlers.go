package httpapi

import (
	"context"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/apperr"
)

// PLACEHOLDER: replaced by the real handlers of this area.
var errPendingConsent = apperr.New(apperr.Unavailable, "This endpoint is being built.")

// GetCurrentConsentTemplate is pending.
func (s *Server) GetCurrentConsentTemplate(ctx context.Context, r api.GetCurrentConsentTemplateRequestObject) (api.GetCurrentConsentTemplateResponseObject, error) {
	return nil, errPendingConsent
}

// ListConsents is pending.
func (s *Server) ListConsents(ctx context.Context, r api.ListConsentsRequestObject) (api.ListConsentsResponseObject, error) {
	return nil, errPendingConsent
}

// CreateConsent is pending.
func (s *Server) CreateConsent(ctx context.Context, r api.CreateConsentRequestObject) (api.CreateConsentResponseObject, error) {
	return nil, errPendingConsent
}

// GetConsent is pending.
func (s *Server) GetConsent(ctx context.Context, r api.GetConsentRequestObject) (api.GetConsentResponseObject, error) {
	return nil, errPendingConsent
}

// RevokeConsent is pending.
func (s *Server) RevokeConsent(ctx context.Context, r api.RevokeConsentRequestObject) (api.RevokeConsentResponseObject, error) {
	return nil, errPendingConsent
}

// DeclineConsent is pending.
func (s *Server) DeclineConsent(ctx context.Context, r api.DeclineConsentRequestObject) (api.DeclineConsentResponseObject, error) {
	return nil, errPendingConsent
}
