package consent

import (
	"time"

	"github.com/google/uuid"
)

type templateRow struct {
	Version   int `gorm:"primaryKey"`
	Body      string
	SHA256    string `gorm:"column:sha256"`
	CreatedAt time.Time
}

func (templateRow) TableName() string { return "consent_templates" }

// consentRow is a consent or a consent request. The signed elements —
// therapist, classes, purpose, expiry, template, signature — never change
// once written; only the lifecycle columns do.
type consentRow struct {
	ID               uuid.UUID `gorm:"primaryKey"`
	PracticeID       uuid.UUID
	ClientID         uuid.UUID
	CoachID          uuid.UUID
	Status           string
	TherapistName    string
	TherapistEmail   string
	TherapistUserID  *uuid.UUID
	DataClasses      string // comma-separated, sorted
	Purpose          string
	ExpiresAt        time.Time
	TemplateVersion  *int
	TemplateSHA256   *string `gorm:"column:template_sha256"`
	SignatureName    *string
	SignedAt         *time.Time
	SignedIP         *string `gorm:"column:signed_ip"`
	SignedUserAgent  *string
	SignedAuthMethod *string
	SignedAuthAt     *time.Time
	RequestedBy      *uuid.UUID
	RequestID        *uuid.UUID
	SupersedesID     *uuid.UUID
	ActivatedAt      *time.Time
	DeclinedAt       *time.Time
	RevokedAt        *time.Time
	RevokeReason     *string
	// InvitationExpiresAt is when a pending consent's therapist invitation
	// expires; unaccepted by then, the consent has expired.
	InvitationExpiresAt *time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

func (consentRow) TableName() string { return "consents" }

type invitationRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	ConsentID  uuid.UUID
	Email      string
	TokenHash  []byte
	ExpiresAt  time.Time
	// AcceptedAt is when AcceptedBy accepted the invitation; DeclinedAt
	// when its therapist declined it without an account. Either spends
	// the token, and never both are set.
	AcceptedAt *time.Time
	AcceptedBy *uuid.UUID
	DeclinedAt *time.Time
	CreatedAt  time.Time
}

func (invitationRow) TableName() string { return "therapist_invitations" }

type disclosureRow struct {
	ID              uuid.UUID `gorm:"primaryKey"`
	PracticeID      uuid.UUID
	ClientID        uuid.UUID
	ConsentID       uuid.UUID
	TherapistUserID uuid.UUID
	DataClasses     string
	TemplateVersion int
	Purpose         string
	RequestID       string
	CreatedAt       time.Time
}

func (disclosureRow) TableName() string { return "disclosures" }

type noteRow struct {
	ID             uuid.UUID `gorm:"primaryKey"`
	PracticeID     uuid.UUID
	ClientID       uuid.UUID
	AuthorUserID   uuid.UUID
	AuthorRole     string
	ConsentID      *uuid.UUID
	BodyCiphertext []byte
	BodyKeyID      string
	CreatedAt      time.Time
}

func (noteRow) TableName() string { return "coordination_notes" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any {
	return []any{&templateRow{}, &consentRow{}, &invitationRow{}, &disclosureRow{}, &noteRow{}}
}

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
