package account

import (
	"time"

	"github.com/google/uuid"
)

// Database rows. They never leave this package: services return domain types.

type practiceRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	Name      string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (practiceRow) TableName() string { return "practices" }

type userRow struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (userRow) TableName() string { return "users" }

type membershipRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	UserID     uuid.UUID
	Role       string
	CreatedAt  time.Time
}

func (membershipRow) TableName() string { return "memberships" }

type invitationRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	Email      string
	Role       string
	TokenHash  []byte
	InvitedBy  uuid.UUID
	ExpiresAt  time.Time
	AcceptedAt *time.Time
	AcceptedBy *uuid.UUID
	CreatedAt  time.Time
}

func (invitationRow) TableName() string { return "invitations" }

// sessionRow is one sign-in: the family of refresh tokens since a login.
type sessionRow struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	UserID       uuid.UUID
	PracticeID   *uuid.UUID
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time
	RevokeReason *string
}

func (sessionRow) TableName() string { return "auth_sessions" }

type refreshTokenRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	SessionID uuid.UUID
	TokenHash []byte
	CreatedAt time.Time
	UsedAt    *time.Time
}

func (refreshTokenRow) TableName() string { return "refresh_tokens" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any {
	return []any{&practiceRow{}, &userRow{}, &membershipRow{}, &invitationRow{}, &sessionRow{}, &refreshTokenRow{}}
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
