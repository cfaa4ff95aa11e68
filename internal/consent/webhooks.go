package consent

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/webhooks"
)

// emitGranted tells the practice's webhook endpoints that the client
// signed a consent: its IDs, state and expiry, never what it shares, with
// whom or why.
func (s *Service) emitGranted(ctx context.Context, tx *gorm.DB, r consentRow, now time.Time) error {
	return webhooks.Emit(ctx, s.c.Store, tx, webhooks.Event{Type: webhooks.ConsentGranted, PracticeID: r.PracticeID, At: now,
		Data: map[string]any{"consent_id": r.ID, "client_id": r.ClientID, "status": r.Status, "expires_at": r.ExpiresAt.UTC()}})
}

// emitRevoked tells them that a consent was revoked: by the client, or
// superseded by a newer one (reason revoked_by_client or superseded).
func (s *Service) emitRevoked(ctx context.Context, tx *gorm.DB, r consentRow, reason string, now time.Time) error {
	return webhooks.Emit(ctx, s.c.Store, tx, webhooks.Event{Type: webhooks.ConsentRevoked, PracticeID: r.PracticeID, At: now,
		Data: map[string]any{"consent_id": r.ID, "client_id": r.ClientID, "reason": strings.ReplaceAll(reason, " ", "_")}})
}
