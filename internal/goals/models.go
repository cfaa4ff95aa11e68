package goals

import (
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/date"
)

type goalRow struct {
	ID             uuid.UUID `gorm:"primaryKey"`
	PracticeID     uuid.UUID
	ClientID       uuid.UUID
	Title          string
	Description    *string
	Why            string
	TargetDate     *date.Date
	Status         string
	MetricUnit     *string
	MetricBaseline *float64
	MetricTarget   *float64
	CreatedBy      uuid.UUID
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// Computed by selectGoals, not columns: the latest progress value and
	// the goal's open and done step counts.
	CurrentValue *float64 `gorm:"->;-:migration"`
	StepsOpen    int64    `gorm:"->;-:migration"`
	StepsDone    int64    `gorm:"->;-:migration"`
}

func (goalRow) TableName() string { return "goals" }

type progressRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	PracticeID uuid.UUID
	GoalID     uuid.UUID
	RecordedOn date.Date
	Value      float64
	Note       *string
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
}

func (progressRow) TableName() string { return "goal_progress" }

type stepRow struct {
	ID               uuid.UUID `gorm:"primaryKey"`
	PracticeID       uuid.UUID
	ClientID         uuid.UUID
	GoalID           uuid.UUID
	Title            string
	Details          *string
	DueDate          *date.Date
	Recurrence       string
	Status           string
	CompletedAt      *time.Time
	Reflection       *string
	NextOccurrenceID *uuid.UUID
	CreatedBy        uuid.UUID
	Version          int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// ClientTimezone is read from the joined clients row (selectSteps): a
	// step is overdue by the client's calendar, not the server's.
	ClientTimezone string `gorm:"->;-:migration"`
}

func (stepRow) TableName() string { return "action_steps" }

// Models lists this package's row types, for the schema-matches-models test.
func Models() []any { return []any{&goalRow{}, &progressRow{}, &stepRow{}} }

func newID() uuid.UUID { return uuid.Must(uuid.NewV7()) }
