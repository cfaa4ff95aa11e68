package webhooks

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/store"
)

// The event types a practice can subscribe an endpoint to.
const (
	ClientCreated       = "client.created"
	ActionStepCompleted = "action_step.completed"
	SessionScheduled    = "session.scheduled"
	SessionCancelled    = "session.cancelled"
	ConsentGranted      = "consent.granted"
	ConsentRevoked      = "consent.revoked"
)

// EventTypes lists every event type, in the order the API documents them.
var EventTypes = []string{ClientCreated, ActionStepCompleted, SessionScheduled, SessionCancelled, ConsentGranted, ConsentRevoked}

// Event is something that happened in a practice, as its endpoints receive
// it. Data carries IDs and minimal fields only: never notes, reflections,
// summaries, agendas or anything a consent shares.
type Event struct {
	Type       string
	PracticeID uuid.UUID
	At         time.Time
	Data       any
}

// payload is the body an endpoint receives, as the Standard Webhooks spec
// suggests: the type, when it happened, and the data.
type payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

// Emit records ev in tx, the transaction of the change it reports: a
// delivery and its job for every enabled endpoint of the practice that
// subscribed to ev's type. Both commit or roll back with the change.
func Emit(ctx context.Context, st *store.Store, tx *gorm.DB, ev Event) error {
	var endpoints []endpointRow
	if err := tx.WithContext(ctx).Select("id", "event_types").
		Where("practice_id = ? AND disabled_at IS NULL", ev.PracticeID).Order("id").Find(&endpoints).Error; err != nil {
		return err
	}
	var body []byte
	for _, ep := range endpoints {
		if !slices.Contains(strings.Fields(ep.EventTypes), ev.Type) {
			continue
		}
		if body == nil {
			var err error
			if body, err = json.Marshal(payload{Type: ev.Type, Timestamp: ev.At.UTC(), Data: ev.Data}); err != nil {
				return err
			}
		}
		d := deliveryRow{ID: newID(), PracticeID: ev.PracticeID, EndpointID: ep.ID, EventType: ev.Type,
			Payload: string(body), Status: StatusPending, CreatedAt: ev.At, UpdatedAt: ev.At}
		if err := tx.WithContext(ctx).Create(&d).Error; err != nil {
			return err
		}
		if err := enqueue(ctx, st, tx, d, ev.At); err != nil {
			return err
		}
	}
	return nil
}
