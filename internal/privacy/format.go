package privacy

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/date"
)

// FormatVersion names the export format. Each JSON document in an archive
// is {"schema": FormatVersion + "/<type>", "items": [...]}, with the items
// below; api/export-format.md describes them. A change that removes or
// renames a field is a new version.
const FormatVersion = "tandem-export/1"

// Day is a calendar date in an export: "YYYY-MM-DD", or null.
type Day struct {
	date.Date
	Valid bool
}

// Scan reads a date column.
func (d *Day) Scan(src any) error {
	if src == nil {
		*d = Day{}
		return nil
	}
	d.Valid = true
	return d.Date.Scan(src)
}

// MarshalJSON writes the date as YYYY-MM-DD.
func (d Day) MarshalJSON() ([]byte, error) {
	if !d.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(d.Date.String())
}

// ClientItem is client.json's item: the client's record.
type ClientItem struct {
	ID         uuid.UUID  `json:"id"`
	Name       string     `json:"name"`
	Email      *string    `json:"email"`
	Phone      *string    `json:"phone"`
	Timezone   string     `json:"timezone"`
	Status     string     `json:"status"`
	CreatedAt  time.Time  `json:"created_at"`
	ArchivedAt *time.Time `json:"archived_at"`
}

// GoalItem is goals.json's item.
type GoalItem struct {
	ID             uuid.UUID `json:"id"`
	Title          string    `json:"title"`
	Description    *string   `json:"description"`
	Why            string    `json:"why"`
	TargetDate     Day       `json:"target_date"`
	Status         string    `json:"status"`
	MetricUnit     *string   `json:"metric_unit"`
	MetricBaseline *float64  `json:"metric_baseline"`
	MetricTarget   *float64  `json:"metric_target"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// ProgressItem is goal_progress.json's item.
type ProgressItem struct {
	ID         uuid.UUID `json:"id"`
	GoalID     uuid.UUID `json:"goal_id"`
	RecordedOn Day       `json:"recorded_on"`
	Value      float64   `json:"value"`
	Note       *string   `json:"note"`
	CreatedAt  time.Time `json:"created_at"`
}

// StepItem is action_steps.json's item.
type StepItem struct {
	ID          uuid.UUID  `json:"id"`
	GoalID      uuid.UUID  `json:"goal_id"`
	Title       string     `json:"title"`
	Details     *string    `json:"details"`
	DueDate     Day        `json:"due_date"`
	Recurrence  string     `json:"recurrence"`
	Status      string     `json:"status"`
	CompletedAt *time.Time `json:"completed_at"`
	Reflection  *string    `json:"reflection"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// SessionItem is sessions.json's item: never the private note.
type SessionItem struct {
	ID              uuid.UUID `json:"id"`
	StartsAt        time.Time `json:"starts_at"`
	DurationMinutes int       `json:"duration_minutes"`
	Location        *string   `json:"location"`
	Agenda          *string   `json:"agenda"`
	Status          string    `json:"status"`
	Summary         *string   `json:"summary"`
	CreatedAt       time.Time `json:"created_at"`
}

// PrivateNoteItem is private_notes.json's item, in staff exports only.
type PrivateNoteItem struct {
	SessionID uuid.UUID  `json:"session_id"`
	Body      string     `json:"body"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// ConsentItem is consents.json's item, with the exact text signed.
type ConsentItem struct {
	ID               uuid.UUID  `json:"id"`
	Status           string     `json:"status"`
	TherapistName    string     `json:"therapist_name"`
	TherapistEmail   string     `json:"therapist_email"`
	DataClasses      string     `json:"data_classes"`
	Purpose          string     `json:"purpose"`
	ExpiresAt        time.Time  `json:"expires_at"`
	TemplateVersion  *int       `json:"template_version"`
	TemplateSHA256   *string    `json:"template_sha256"`
	SignedText       *string    `json:"signed_text"`
	SignatureName    *string    `json:"signature_name"`
	SignedAt         *time.Time `json:"signed_at"`
	SignedAuthMethod *string    `json:"signed_auth_method"`
	ActivatedAt      *time.Time `json:"activated_at"`
	DeclinedAt       *time.Time `json:"declined_at"`
	RevokedAt        *time.Time `json:"revoked_at"`
	CreatedAt        time.Time  `json:"created_at"`
}

// DisclosureItem is disclosures.json's item: one read by a therapist.
type DisclosureItem struct {
	ID            uuid.UUID `json:"id"`
	ConsentID     uuid.UUID `json:"consent_id"`
	TherapistName string    `json:"therapist_name"`
	DataClasses   string    `json:"data_classes"`
	Purpose       string    `json:"purpose"`
	CreatedAt     time.Time `json:"created_at"`
}

// HistoryImportItem is history_imports.json's item: a history the client
// brought from an earlier practice, as it was signed there.
type HistoryImportItem struct {
	ID            uuid.UUID       `json:"id"`
	Issuer        string          `json:"issuer"`
	KeyID         string          `json:"key_id"`
	PracticeName  *string         `json:"practice_name"`
	IssuedAt      time.Time       `json:"issued_at"`
	ImportedAt    time.Time       `json:"imported_at"`
	PayloadSHA256 string          `json:"payload_sha256"`
	History       json.RawMessage `json:"history"`
}

// CoordinationNoteItem is coordination_notes.json's item.
type CoordinationNoteItem struct {
	ID         uuid.UUID  `json:"id"`
	AuthorName string     `json:"author_name"`
	AuthorRole string     `json:"author_role"`
	ConsentID  *uuid.UUID `json:"consent_id"`
	Body       string     `json:"body"`
	CreatedAt  time.Time  `json:"created_at"`
}

// AccountItem is account.json's item: the user's own account.
type AccountItem struct {
	ID              uuid.UUID  `json:"id"`
	Name            string     `json:"name"`
	Email           string     `json:"email"`
	EmailVerifiedAt *time.Time `json:"email_verified_at"`
	MFAEnabledAt    *time.Time `json:"mfa_enabled_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

// MembershipItem is memberships.json's item: a role in a practice.
type MembershipItem struct {
	PracticeID   uuid.UUID `json:"practice_id"`
	PracticeName string    `json:"practice_name"`
	Role         string    `json:"role"`
	CreatedAt    time.Time `json:"created_at"`
}

// SignInItem is sign_in_sessions.json's item: one sign-in of the account.
type SignInItem struct {
	ID         uuid.UUID  `json:"id"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"user_agent"`
	AuthMethod string     `json:"auth_method"`
}

// Manifest is manifest.json: what the archive is, and the SHA-256 of every
// other file in it, so that a signature over the manifest covers them all.
type Manifest struct {
	Format      string         `json:"format"`
	Instance    string         `json:"instance"`
	ExportID    uuid.UUID      `json:"export_id"`
	Scope       string         `json:"scope"`
	ClientID    *uuid.UUID     `json:"client_id"`
	GeneratedAt time.Time      `json:"generated_at"`
	Files       []ManifestFile `json:"files"`
}

// ManifestFile is one file of the archive.
type ManifestFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}
