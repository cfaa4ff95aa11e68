package account

import (
	"time"

	"github.com/google/uuid"
)

// Database rows. They never leave this package: services return domain types.

type practiceRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	Name       string
	RequireMFA bool `gorm:"column:require_mfa"`
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (practiceRow) TableName() string { return "practices" }

type userRow struct {
	ID              uuid.UUID `gorm:"primaryKey"`
	Email           string
	Name            string
	PasswordHash    string
	EmailVerifiedAt *time.Time
	TOTPSecret      []byte     `gorm:"column:totp_secret"` // sealed with the note keys
	TOTPEnabledAt   *time.Time `gorm:"column:totp_enabled_at"`
	TOTPLastStep    int64      `gorm:"column:totp_last_step"`
	ReplacedAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
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
	RevokedAt  *time.Time
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
	LastUsedAt   time.Time
	IP           string
	UserAgent    string
	AuthTime     time.Time
	AuthMethod   string
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

// emailTokenRow is a single-use link sent by e-mail, stored as a hash.
type emailTokenRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	Purpose   string
	UserID    *uuid.UUID
	Email     string
	TokenHash []byte
	Payload   *string
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (emailTokenRow) TableName() string { return "email_tokens" }

type recoveryCodeRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	UserID    uuid.UUID
	CodeHash  []byte
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (recoveryCodeRow) TableName() string { return "mfa_recovery_codes" }

type mfaChallengeRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	UserID    uuid.UUID
	TokenHash []byte
	Failures  int
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

func (mfaChallengeRow) TableName() string { return "mfa_challenges" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any {
	return []any{&practiceRow{}, &userRow{}, &membershipRow{}, &invitationRow{}, &sessionRow{}, &refreshTokenRow{},
		&emailTokenRow{}, &recoveryCodeRow{}, &mfaChallengeRow{}}
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
