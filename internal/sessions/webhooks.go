package sessions

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/webhooks"
)

// emit tells the practice's webhook endpoints that a session was scheduled
// or cancelled: its IDs and time, never its agenda, location, summary or
// note.
func (s *Service) emit(ctx context.Context, tx *gorm.DB, practiceID uuid.UUID, eventType string, sess Session) error {
	return webhooks.Emit(ctx, s.c.Store, tx, webhooks.Event{Type: eventType, PracticeID: practiceID, At: s.c.Clock.Now(),
		Data: map[string]any{"session_id": sess.ID, "client_id": sess.ClientID, "coach_id": sess.CoachID,
			"starts_at": sess.StartsAt.UTC(), "duration_minutes": sess.DurationMinutes}})
}
