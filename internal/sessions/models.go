package sessions

import (
	"time"

	"github.com/google/uuid"
)

// sessionRow is one coaching_sessions row. The private note lives here only
// as ciphertext; the domain Session never carries it.
type sessionRow struct {
	ID                    uuid.UUID `gorm:"primaryKey"`
	PracticeID            uuid.UUID
	ClientID              uuid.UUID
	CoachID               uuid.UUID
	StartsAt              time.Time
	EndsAt                time.Time
	DurationMinutes       int
	Location              *string
	Agenda                *string
	Status                string
	Summary               *string
	PrivateNoteCiphertext []byte
	PrivateNoteKeyID      *string
	PrivateNoteUpdatedAt  *time.Time
	Version               int64
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

func (sessionRow) TableName() string { return "coaching_sessions" }

// publicColumns are the columns of a session everyone who sees it may read:
// every column but the private note's.
const publicColumns = "coaching_sessions.id, coaching_sessions.practice_id, coaching_sessions.client_id, " +
	"coaching_sessions.coach_id, coaching_sessions.starts_at, coaching_sessions.ends_at, " +
	"coaching_sessions.duration_minutes, coaching_sessions.location, coaching_sessions.agenda, " +
	"coaching_sessions.status, coaching_sessions.summary, coaching_sessions.version, " +
	"coaching_sessions.created_at, coaching_sessions.updated_at"

// feedRow is one calendar_feeds row: only the token's hash is stored.
type feedRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	UserID     uuid.UUID
	TokenHash  []byte
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

func (feedRow) TableName() string { return "calendar_feeds" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any { return []any{&sessionRow{}, &feedRow{}} }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
