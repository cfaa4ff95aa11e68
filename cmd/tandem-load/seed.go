package main

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/store"
)

// password is every seeded user's password.
const password = "tandem-load-Passw0rd!"

// portalClients is how many of practice A's clients have a portal account
// (and a consent for the therapist): steps-open and shared-view spread
// their requests over them.
const portalClients = 4

// templateSHA256 is the SHA-256 of consent template version 1, which the
// migrations insert.
const templateSHA256 = "a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8"

// account is a seeded user who signs in.
type account struct {
	ID    uuid.UUID
	Email string
}

// portal is a client record with a portal account.
type portal struct {
	account
	ClientID uuid.UUID
}

// world is what seed wrote: the actors the scenarios sign in as and the
// records they name.
type world struct {
	PracticeA, PracticeB, PracticeC uuid.UUID
	OwnerA, CoachA, OwnerB          account
	Portals                         []portal // practice A's clients with portal accounts
	Therapist                       account  // consented by every portal client
	Completer                       portal   // practice C's client, who completes OpenSteps
	OpenSteps                       []uuid.UUID
	SessionsA                       []uuid.UUID // some of coach A's sessions, for the mix's notes
}

// seeder writes one database's rows. The password hash is computed once:
// argon2id is slow on purpose.
type seeder struct {
	db   *gorm.DB
	now  time.Time
	hash string
}

// seed writes the standard data set, all in one transaction:
//
//   - practice A: an owner, a coach and 200 clients of the coach, each with
//     10 goals (every other with a metric and 3 progress entries) of 10
//     action steps (6 open, 3 done, 1 skipped, due from 4 days ago to 4 days
//     ahead) and 4 sessions; portalClients of them have portal accounts and
//     an active consent for the therapist (goals and action steps);
//   - practice B: an owner, a coach and 2,000 clients with 2 goals of 5
//     steps and 2 sessions each;
//   - practice C: an owner who coaches one portal client with poolSize
//     open steps for step-complete, kept apart so that completing them
//     changes nothing the other scenarios read.
func seed(ctx context.Context, st *store.Store, poolSize int) (world, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return world{}, err
	}
	s := &seeder{now: time.Now().UTC().Truncate(time.Microsecond), hash: hash}
	var w world
	err = st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		s.db = tx
		return s.all(&w, poolSize)
	})
	return w, err
}

func (s *seeder) all(w *world, poolSize int) error {
	var err error
	// Practice A.
	if w.PracticeA, w.OwnerA, err = s.practice("Practice A", "owner-a@load.example"); err != nil {
		return err
	}
	if w.CoachA, err = s.member(w.PracticeA, "coach", "coach-a@load.example"); err != nil {
		return err
	}
	idsA, err := s.bulk(bulk{Practice: w.PracticeA, Coach: w.CoachA.ID, Name: "A", Clients: 200, Goals: 10, Steps: 10, Sessions: 4})
	if err != nil {
		return err
	}
	if err := s.db.Raw("SELECT id FROM coaching_sessions WHERE practice_id = ? ORDER BY id LIMIT 64", w.PracticeA).
		Scan(&w.SessionsA).Error; err != nil {
		return err
	}
	if w.Therapist, err = s.user("therapist@load.example", "Thea Therapist"); err != nil {
		return err
	}
	for i := range portalClients {
		p, err := s.portal(idsA[i], fmt.Sprintf("client-a%d@load.example", i))
		if err != nil {
			return err
		}
		if err := s.consent(w.PracticeA, p.ClientID, w.CoachA.ID, w.Therapist); err != nil {
			return err
		}
		w.Portals = append(w.Portals, p)
	}

	// Practice B.
	if w.PracticeB, w.OwnerB, err = s.practice("Practice B", "owner-b@load.example"); err != nil {
		return err
	}
	coachB, err := s.member(w.PracticeB, "coach", "coach-b@load.example")
	if err != nil {
		return err
	}
	if _, err := s.bulk(bulk{Practice: w.PracticeB, Coach: coachB.ID, Name: "B", Clients: 2000, Goals: 2, Steps: 5, Sessions: 2}); err != nil {
		return err
	}

	// Practice C: the pool of open steps.
	practiceC, ownerC, err := s.practice("Practice C", "owner-c@load.example")
	if err != nil {
		return err
	}
	w.PracticeC = practiceC
	idsC, err := s.bulk(bulk{Practice: practiceC, Coach: ownerC.ID, Name: "C", Clients: 1})
	if err != nil {
		return err
	}
	if w.Completer, err = s.portal(idsC[0], "client-c@load.example"); err != nil {
		return err
	}
	w.OpenSteps, err = s.openSteps(practiceC, idsC[0], ownerC.ID, poolSize)
	return err
}

// user writes a user with a proven address and the known password.
func (s *seeder) user(email, name string) (account, error) {
	u := userRow{ID: newID(), Email: email, Name: name, PasswordHash: s.hash, EmailVerifiedAt: &s.now,
		CreatedAt: s.now, UpdatedAt: s.now}
	return account{ID: u.ID, Email: email}, s.db.Create(&u).Error
}

// practice writes a practice and its owner.
func (s *seeder) practice(name, ownerEmail string) (uuid.UUID, account, error) {
	p := practiceRow{ID: newID(), Name: name, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
	if err := s.db.Create(&p).Error; err != nil {
		return uuid.Nil, account{}, err
	}
	owner, err := s.member(p.ID, "owner", ownerEmail)
	return p.ID, owner, err
}

// member writes a user with a role in the practice.
func (s *seeder) member(practiceID uuid.UUID, role, email string) (account, error) {
	u, err := s.user(email, "The "+role+" "+email)
	if err != nil {
		return account{}, err
	}
	m := membershipRow{ID: newID(), PracticeID: practiceID, UserID: u.ID, Role: role, CreatedAt: s.now}
	return u, s.db.Create(&m).Error
}

// portal gives a client a portal account, as an accepted invitation does.
func (s *seeder) portal(clientID uuid.UUID, email string) (portal, error) {
	u, err := s.user(email, "Client "+email)
	if err != nil {
		return portal{}, err
	}
	err = s.db.Model(&clientRow{}).Where("id = ?", clientID).
		Updates(map[string]any{"user_id": u.ID, "email": email}).Error
	return portal{account: u, ClientID: clientID}, err
}

// consent writes the client's active consent for the therapist to see
// goals and action steps, as the therapist_fixture_test.go fixture does.
func (s *seeder) consent(practiceID, clientID, coachID uuid.UUID, th account) error {
	c := consentRow{ID: newID(), PracticeID: practiceID, ClientID: clientID, CoachID: coachID, Status: "active",
		TherapistName: "Thea Therapist", TherapistEmail: th.Email, TherapistUserID: th.ID,
		DataClasses: "action_steps,goals", Purpose: "Coordinate care", ExpiresAt: s.now.Add(90 * 24 * time.Hour),
		TemplateVersion: 1, TemplateSHA256: templateSHA256, SignatureName: "Client Signature", SignedAt: s.now,
		SignedIP: "192.0.2.1", SignedUserAgent: "tandem-load", SignedAuthMethod: auth.MethodPassword,
		SignedAuthAt: s.now, ActivatedAt: s.now, CreatedAt: s.now, UpdatedAt: s.now}
	return s.db.Create(&c).Error
}

// bulk describes the clients bulk writes for one coach.
type bulk struct {
	Practice, Coach uuid.UUID
	Name            string // in client names
	Clients         int
	Goals           int // per client; every other one has a metric with progress entries
	Steps           int // per goal
	Sessions        int // per client: half completed in the past, half scheduled ahead
}

var zones = []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Kiritimati", "Pacific/Pago_Pago"}

// bulk writes a coach's clients with goals, progress, steps and sessions in
// multi-row INSERTs, and returns the client IDs.
func (s *seeder) bulk(b bulk) ([]uuid.UUID, error) {
	today := date.Today(s.now, time.UTC)
	var (
		clientRows   []clientRow
		goalRows     []goalRow
		progressRows []progressRow
		stepRows     []stepRow
		sessionRows  []sessionRow
		ids          []uuid.UUID
	)
	for c := range b.Clients {
		cl := clientRow{ID: newID(), PracticeID: b.Practice, CoachID: b.Coach, Name: fmt.Sprintf("Client %s%05d", b.Name, c),
			Timezone: zones[c%len(zones)], Status: "active", Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
		clientRows = append(clientRows, cl)
		ids = append(ids, cl.ID)
		for g := range b.Goals {
			goal := goalRow{ID: newID(), PracticeID: b.Practice, ClientID: cl.ID, Title: fmt.Sprintf("Goal %d", g),
				Why: "Because it matters", Status: "active", CreatedBy: b.Coach, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
			if g%5 == 4 {
				goal.Status = "achieved"
			}
			if g%2 == 0 {
				goal.MetricUnit, goal.MetricBaseline, goal.MetricTarget = ptrTo("km"), ptrTo(0.0), ptrTo(10.0)
				for k := range 3 {
					progressRows = append(progressRows, progressRow{ID: newID(), PracticeID: b.Practice, GoalID: goal.ID,
						RecordedOn: today.AddDays(-3 + k), Value: float64(2 * k), CreatedBy: b.Coach, CreatedAt: s.now})
				}
			}
			goalRows = append(goalRows, goal)
			for k := range b.Steps {
				step := stepRow{ID: newID(), PracticeID: b.Practice, ClientID: cl.ID, GoalID: goal.ID,
					Title: fmt.Sprintf("Step %d of goal %d", k, g), DueDate: ptrTo(today.AddDays(k%9 - 4)),
					Recurrence: "none", Status: "open", CreatedBy: b.Coach, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
				switch k % 10 {
				case 1, 4, 7:
					step.Status = "done"
					step.CompletedAt = ptrTo(s.now.Add(-time.Duration(k) * 37 * time.Hour))
				case 9:
					step.Status = "skipped"
				}
				stepRows = append(stepRows, step)
			}
		}
		for k := range b.Sessions {
			sess := sessionRow{ID: newID(), PracticeID: b.Practice, ClientID: cl.ID, CoachID: b.Coach,
				DurationMinutes: 50, Status: "completed", Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
			if k%2 == 0 {
				sess.StartsAt = s.now.Add(-time.Duration(k+1) * 7 * 24 * time.Hour).Add(time.Duration(c) * time.Minute)
			} else {
				sess.Status = "scheduled"
				sess.StartsAt = s.now.Add(time.Duration(c*b.Sessions+k+24) * time.Hour) // never double-booked
			}
			sess.EndsAt = sess.StartsAt.Add(50 * time.Minute)
			sessionRows = append(sessionRows, sess)
		}
	}
	if err := insert(s.db, clientRows); err != nil {
		return nil, err
	}
	if err := insert(s.db, goalRows); err != nil {
		return nil, err
	}
	if err := insert(s.db, progressRows); err != nil {
		return nil, err
	}
	if err := insert(s.db, stepRows); err != nil {
		return nil, err
	}
	return ids, insert(s.db, sessionRows)
}

// openSteps writes n open steps for the client, 100 to a goal, and
// returns their IDs.
func (s *seeder) openSteps(practiceID, clientID, coachID uuid.UUID, n int) ([]uuid.UUID, error) {
	today := date.Today(s.now, time.UTC)
	var (
		goals []goalRow
		steps []stepRow
		ids   []uuid.UUID
	)
	for k := range n {
		if k%100 == 0 {
			goals = append(goals, goalRow{ID: newID(), PracticeID: practiceID, ClientID: clientID,
				Title: fmt.Sprintf("Pool goal %d", k/100), Why: "Somewhere to complete steps", Status: "active",
				CreatedBy: coachID, Version: 1, CreatedAt: s.now, UpdatedAt: s.now})
		}
		st := stepRow{ID: newID(), PracticeID: practiceID, ClientID: clientID, GoalID: goals[len(goals)-1].ID,
			Title: fmt.Sprintf("Pool step %d", k), DueDate: ptrTo(today.AddDays(k%9 - 4)), Recurrence: "none",
			Status: "open", CreatedBy: coachID, Version: 1, CreatedAt: s.now, UpdatedAt: s.now}
		steps = append(steps, st)
		ids = append(ids, st.ID)
	}
	if err := insert(s.db, goals); err != nil {
		return nil, err
	}
	return ids, insert(s.db, steps)
}

// insert writes rows in multi-row INSERTs of up to 1,000 rows (at most 13
// columns each, within SQLite's 32,766 parameters).
func insert[T any](db *gorm.DB, rows []T) error {
	if len(rows) == 0 {
		return nil
	}
	if err := db.CreateInBatches(rows, 1000).Error; err != nil {
		return fmt.Errorf("seed %T: %w", rows, err)
	}
	return nil
}
