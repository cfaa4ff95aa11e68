package webhooks

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/store"
)

// Delivery states.
const (
	StatusPending   = "pending"   // waiting for its next attempt
	StatusSucceeded = "succeeded" // the endpoint answered 2xx
	StatusFailed    = "failed"    // given up: retries ran out, or the endpoint was disabled
)

// Delivery is one event for one endpoint and how sending it went. It never
// carries the payload.
type Delivery struct {
	ID            uuid.UUID
	EventType     string
	Status        string
	Attempts      int
	ResponseCode  *int
	LastError     *string
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}

// ETag is the delivery's HTTP entity tag: its attempts and outcome.
func (d Delivery) ETag() string {
	return store.ETag(int64(d.Attempts), d.Status)
}

func toDelivery(r deliveryRow) Delivery {
	return Delivery{ID: r.ID, EventType: r.EventType, Status: r.Status, Attempts: r.Attempts, ResponseCode: r.ResponseCode,
		LastError: r.LastError, LastAttemptAt: r.LastAttemptAt, DeliveredAt: r.DeliveredAt, CreatedAt: r.CreatedAt}
}

// deliveryColumns are what the log selects: never the payload.
var deliveryColumns = []string{"id", "practice_id", "endpoint_id", "event_type", "status", "attempts", "response_code",
	"last_error", "last_attempt_at", "delivered_at", "created_at", "updated_at"}

// KindDeliver is the kind of the job that delivers one webhook.
const KindDeliver = "webhook_delivery"

// DeliverArgs is a delivery job: which delivery, nothing more. The payload
// and the secret stay in the database.
type DeliverArgs struct {
	PracticeID uuid.UUID `json:"practice_id"`
	DeliveryID uuid.UUID `json:"delivery_id"`
	// Since starts the retry window: when the event happened, or when the
	// owner replayed it.
	Since time.Time `json:"since"`
}

// Kind names the job kind.
func (DeliverArgs) Kind() string { return KindDeliver }

// maxJobAttempts bounds River's attempts of one delivery job; the retry
// window (Options.RetryWindow) ends it sooner.
const maxJobAttempts = 50

// InsertOpts bounds the job's attempts.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: maxJobAttempts}
}

// enqueue inserts the job that delivers d, in tx.
func enqueue(ctx context.Context, st *store.Store, tx *gorm.DB, d deliveryRow, since time.Time) error {
	_, err := st.InsertJob(ctx, tx, DeliverArgs{PracticeID: d.PracticeID, DeliveryID: d.ID, Since: since.UTC()}, nil)
	return err
}

// Deliveries returns an endpoint's delivery log, newest first.
func (s *Service) Deliveries(ctx context.Context, a auth.Actor, endpointID uuid.UUID, pr page.Request) ([]Delivery, *string, error) {
	db := s.c.Store.DB.WithContext(ctx)
	if _, err := loadEndpoint(db, a, endpointID); err != nil {
		return nil, nil, err
	}
	q := db.Model(&deliveryRow{}).Where("practice_id = ? AND endpoint_id = ?", a.PracticeID, endpointID)
	if pr.After != uuid.Nil {
		q = q.Where("id < ?", pr.After)
	}
	var rows []deliveryRow
	if err := q.Select(deliveryColumns).Order("id DESC").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r deliveryRow) uuid.UUID { return r.ID })
	out := make([]Delivery, len(rows))
	for i, r := range rows {
		out[i] = toDelivery(r)
	}
	return out, next, nil
}

// Replay sends a delivery again, with the same webhook-id (so a receiver
// that saw it already can tell), from a first attempt: its retries start
// over. A delivery still being tried, or one of a disabled endpoint, is
// not replayed.
func (s *Service) Replay(ctx context.Context, a auth.Actor, endpointID, deliveryID uuid.UUID) (Delivery, error) {
	var out Delivery
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		ep, err := loadEndpoint(tx, a, endpointID)
		if err != nil {
			return err
		}
		var d deliveryRow
		err = tx.Select(deliveryColumns).Where("practice_id = ? AND endpoint_id = ? AND id = ?", a.PracticeID, endpointID, deliveryID).
			Take(&d).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrDeliveryNotFound
		}
		if err != nil {
			return err
		}
		if ep.DisabledAt != nil {
			return apperr.New(apperr.Conflict, "This endpoint is disabled; enable it (PATCH enabled: true) before replaying.")
		}
		// Only a finished delivery moves back to pending, so two replays
		// at once queue one job.
		now := s.c.Clock.Now()
		res := tx.Model(&deliveryRow{}).Where("practice_id = ? AND id = ? AND status <> ?", a.PracticeID, deliveryID, StatusPending).
			Updates(map[string]any{"status": StatusPending, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.Conflict, "This delivery is still being tried; replay it once it has succeeded or failed.")
		}
		d.Status, d.UpdatedAt = StatusPending, now
		if err := enqueue(ctx, s.c.Store, tx, d, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "webhook.delivery_replayed", endpointID, now); err != nil {
			return err
		}
		out = toDelivery(d)
		return nil
	})
	return out, err
}
