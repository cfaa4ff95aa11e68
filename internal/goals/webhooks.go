package goals

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/webhooks"
)

// emitCompleted tells the practice's webhook endpoints that an action step
// was completed: its IDs and when, never its title, details or the
// client's reflection.
func (s *Service) emitCompleted(ctx context.Context, tx *gorm.DB, practiceID uuid.UUID, st Step, now time.Time) error {
	return webhooks.Emit(ctx, s.c.Store, tx, webhooks.Event{Type: webhooks.ActionStepCompleted, PracticeID: practiceID, At: now,
		Data: map[string]any{"action_step_id": st.ID, "goal_id": st.GoalID, "client_id": st.ClientID, "completed_at": now.UTC()}})
}
