package webhooks

import (
	"time"

	"github.com/google/uuid"
)

// endpointRow is a webhook_endpoints row. SecretSealed is the signing
// secret sealed with the note keys, bound to the endpoint's ID.
type endpointRow struct {
	ID             uuid.UUID `gorm:"primaryKey"`
	PracticeID     uuid.UUID
	URL            string
	Description    *string
	EventTypes     string // space-separated, sorted
	SecretKeyID    string
	SecretSealed   []byte
	DisabledAt     *time.Time
	DisabledReason *string
	CreatedBy      uuid.UUID
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (endpointRow) TableName() string { return "webhook_endpoints" }

// deliveryRow is a webhook_deliveries row: one event for one endpoint.
type deliveryRow struct {
	ID            uuid.UUID `gorm:"primaryKey"`
	PracticeID    uuid.UUID
	EndpointID    uuid.UUID
	EventType     string
	Payload       string
	Status        string
	Attempts      int
	ResponseCode  *int
	LastError     *string
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any { return []any{&endpointRow{}, &deliveryRow{}} }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
