package main

import (
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/date"
)

// Rows written straight into Tandem's tables, shaped as the migrations in
// internal/store/migrations define them (and as the benchmark seed in
// internal/httpapi/dashboard_seed_test.go writes them). They mirror the
// tables, not any service's Go types, so seeding thousands of clients takes
// seconds instead of thousands of API calls.

type practiceRow struct {
	ID        uuid.UUID
	Name      string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (practiceRow) TableName() string { return "practices" }

type userRow struct {
	ID              uuid.UUID
	Email           string
	Name            string
	PasswordHash    string
	EmailVerifiedAt *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (userRow) TableName() string { return "users" }

type membershipRow struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	UserID     uuid.UUID
	Role       string
	CreatedAt  time.Time
}

func (membershipRow) TableName() string { return "memberships" }

type clientRow struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	UserID     *uuid.UUID // the portal account, if any
	Name       string
	Email      *string
	Timezone   string
	Status     string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

func (clientRow) TableName() string { return "clients" }

type goalRow struct {
	ID             uuid.UUID
	PracticeID     uuid.UUID
	ClientID       uuid.UUID
	Title          string
	Why            string
	Status         string
	MetricUnit     *string
	MetricBaseline *float64
	MetricTarget   *float64
	CreatedBy      uuid.UUID
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (goalRow) TableName() string { return "goals" }

type progressRow struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	GoalID     uuid.UUID
	RecordedOn date.Date
	Value      float64
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
}

func (progressRow) TableName() string { return "goal_progress" }

type stepRow struct {
	ID          uuid.UUID
	PracticeID  uuid.UUID
	ClientID    uuid.UUID
	GoalID      uuid.UUID
	Title       string
	DueDate     *date.Date
	Recurrence  string
	Status      string
	CompletedAt *time.Time
	CreatedBy   uuid.UUID
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (stepRow) TableName() string { return "action_steps" }

type sessionRow struct {
	ID              uuid.UUID
	PracticeID      uuid.UUID
	ClientID        uuid.UUID
	CoachID         uuid.UUID
	StartsAt        time.Time
	EndsAt          time.Time
	DurationMinutes int
	Status          string
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (sessionRow) TableName() string { return "coaching_sessions" }

// consentRow is a signed consent that its therapist has accepted, as the
// consent module leaves it (see internal/consent/models.go).
type consentRow struct {
	ID               uuid.UUID
	PracticeID       uuid.UUID
	ClientID         uuid.UUID
	CoachID          uuid.UUID
	Status           string
	TherapistName    string
	TherapistEmail   string
	TherapistUserID  uuid.UUID
	DataClasses      string // comma-separated, sorted
	Purpose          string
	ExpiresAt        time.Time
	TemplateVersion  int
	TemplateSHA256   string `gorm:"column:template_sha256"`
	SignatureName    string
	SignedAt         time.Time
	SignedIP         string `gorm:"column:signed_ip"`
	SignedUserAgent  string
	SignedAuthMethod string
	SignedAuthAt     time.Time
	ActivatedAt      time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (consentRow) TableName() string { return "consents" }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func ptrTo[T any](v T) *T { return &v }
