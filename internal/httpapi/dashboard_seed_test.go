package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/date"
)

// Rows written straight into the coaching tables, so tests and benchmarks
// can seed hundreds of clients quickly. They mirror the tables, not any
// service's Go types.

type seedPracticeRow struct {
	ID        uuid.UUID
	Name      string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (seedPracticeRow) TableName() string { return "practices" }

type seedUser struct {
	ID           uuid.UUID
	Email        string
	Name         string
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (seedUser) TableName() string { return "users" }

type seedMembership struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	UserID     uuid.UUID
	Role       string
	CreatedAt  time.Time
}

func (seedMembership) TableName() string { return "memberships" }

type seedClient struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	Name       string
	Timezone   string
	Status     string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ArchivedAt *time.Time
}

func (seedClient) TableName() string { return "clients" }

type seedGoal struct {
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

func (seedGoal) TableName() string { return "goals" }

type seedProgress struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	GoalID     uuid.UUID
	RecordedOn date.Date
	Value      float64
	CreatedBy  uuid.UUID
	CreatedAt  time.Time
}

func (seedProgress) TableName() string { return "goal_progress" }

type seedStep struct {
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

func (seedStep) TableName() string { return "action_steps" }

type seedSession struct {
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

func (seedSession) TableName() string { return "coaching_sessions" }

func newSeedID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func ptrTo[T any](v T) *T { return &v }

// bulkPractice describes the data seedBulk writes for one practice's coach.
type bulkPractice struct {
	PracticeID uuid.UUID
	CoachID    uuid.UUID // the clients' coach, and the author of every row
	Clients    int
	Goals      int // per client; every other one has a metric with progress entries
	Steps      int // per goal: open, done and skipped, due around now
	Sessions   int // per client: half completed in the past, half scheduled ahead
	Now        time.Time
}

var seedZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago"}

// seedBulk writes a practice's clients with goals, progress, steps and
// sessions in batched multi-row INSERTs, and returns the client IDs.
func seedBulk(tb testing.TB, db *gorm.DB, p bulkPractice) []uuid.UUID {
	tb.Helper()
	now := p.Now.UTC()
	today := date.Today(now, time.UTC)
	var (
		clientRows   []seedClient
		goalRows     []seedGoal
		progressRows []seedProgress
		stepRows     []seedStep
		sessionRows  []seedSession
		ids          []uuid.UUID
	)
	for c := 0; c < p.Clients; c++ {
		cl := seedClient{ID: newSeedID(), PracticeID: p.PracticeID, CoachID: p.CoachID,
			Name: fmt.Sprintf("Bulk client %05d", c), Timezone: seedZones[c%len(seedZones)],
			Status: "active", Version: 1, CreatedAt: now, UpdatedAt: now}
		clientRows = append(clientRows, cl)
		ids = append(ids, cl.ID)
		for g := 0; g < p.Goals; g++ {
			goal := seedGoal{ID: newSeedID(), PracticeID: p.PracticeID, ClientID: cl.ID,
				Title: fmt.Sprintf("Goal %d", g), Why: "Because it matters", Status: "active",
				CreatedBy: p.CoachID, Version: 1, CreatedAt: now, UpdatedAt: now}
			if g%5 == 4 {
				goal.Status = "achieved"
			}
			if g%2 == 0 {
				goal.MetricUnit, goal.MetricBaseline, goal.MetricTarget = ptrTo("km"), ptrTo(0.0), ptrTo(10.0)
				for k := 0; k < 3; k++ {
					progressRows = append(progressRows, seedProgress{ID: newSeedID(), PracticeID: p.PracticeID,
						GoalID: goal.ID, RecordedOn: today.AddDays(-3 + k), Value: float64(2 * k),
						CreatedBy: p.CoachID, CreatedAt: now})
				}
			}
			goalRows = append(goalRows, goal)
			for s := 0; s < p.Steps; s++ {
				step := seedStep{ID: newSeedID(), PracticeID: p.PracticeID, ClientID: cl.ID, GoalID: goal.ID,
					Title: fmt.Sprintf("Step %d", s), DueDate: ptrTo(today.AddDays(s%9 - 4)), Recurrence: "none",
					Status: "open", CreatedBy: p.CoachID, Version: 1, CreatedAt: now, UpdatedAt: now}
				switch s % 10 {
				case 1, 4, 7, 8:
					step.Status = "done"
					step.CompletedAt = ptrTo(now.Add(-time.Duration(s) * 37 * time.Hour))
				case 9:
					step.Status = "skipped"
				}
				stepRows = append(stepRows, step)
			}
		}
		for k := 0; k < p.Sessions; k++ {
			sess := seedSession{ID: newSeedID(), PracticeID: p.PracticeID, ClientID: cl.ID, CoachID: p.CoachID,
				DurationMinutes: 50, Status: "completed", Version: 1, CreatedAt: now, UpdatedAt: now}
			if k%2 == 0 {
				sess.StartsAt = now.Add(-time.Duration(k+1) * 7 * 24 * time.Hour).Add(time.Duration(c) * time.Minute)
			} else {
				sess.Status = "scheduled"
				sess.StartsAt = now.Add(time.Duration(c*p.Sessions+k+24) * time.Hour) // never double-booked
			}
			sess.EndsAt = sess.StartsAt.Add(50 * time.Minute)
			sessionRows = append(sessionRows, sess)
		}
	}
	insertBatched(tb, db, clientRows)
	insertBatched(tb, db, goalRows)
	insertBatched(tb, db, progressRows)
	insertBatched(tb, db, stepRows)
	insertBatched(tb, db, sessionRows)
	return ids
}

// insertBatched writes rows in multi-row INSERTs of up to 1,000 rows.
func insertBatched[T any](tb testing.TB, db *gorm.DB, rows []T) {
	tb.Helper()
	if len(rows) == 0 {
		return
	}
	if err := db.CreateInBatches(rows, 1000).Error; err != nil {
		tb.Fatalf("seed %T: %v", rows, err)
	}
}

// seedPractice writes a practice whose owner coaches its clients, and
// returns the practice and owner IDs.
func seedPractice(tb testing.TB, db *gorm.DB, name string, now time.Time) (practiceID, ownerID uuid.UUID) {
	tb.Helper()
	practiceID, ownerID = newSeedID(), newSeedID()
	rows := []any{
		&seedPracticeRow{ID: practiceID, Name: name, Version: 1, CreatedAt: now, UpdatedAt: now},
		&seedUser{ID: ownerID, Email: fmt.Sprintf("owner-%s@example.com", ownerID), Name: "Owner of " + name,
			PasswordHash: "not-a-hash", CreatedAt: now, UpdatedAt: now},
		&seedMembership{ID: newSeedID(), PracticeID: practiceID, UserID: ownerID, Role: "owner", CreatedAt: now},
	}
	for _, r := range rows {
		if err := db.Create(r).Error; err != nil {
			tb.Fatalf("seed %T: %v", r, err)
		}
	}
	return practiceID, ownerID
}
