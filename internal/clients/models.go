package clients

import (
	"time"

	"github.com/google/uuid"
)

type clientRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	UserID     *uuid.UUID
	Name       string
	Email      *string
	Phone      *string
	Timezone   string
	Status     string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ArchivedAt *time.Time
	// Portal is computed by the query that reads a client (selectClient):
	// none, invited or active. It is not a column.
	Portal string `gorm:"->;-:migration"`
}

func (clientRow) TableName() string { return "clients" }

type invitationRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	ClientID   uuid.UUID
	Email      string
	TokenHash  []byte
	InvitedBy  uuid.UUID
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AcceptedBy *uuid.UUID
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

func (invitationRow) TableName() string { return "client_invitations" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any { return []any{&clientRow{}, &invitationRow{}} }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
