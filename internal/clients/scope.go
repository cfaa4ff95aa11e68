package clients

import (
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/date"
)

// Scope limits q, a query that involves the clients table, to the clients
// the actor may see: every client of the practice for the owner, a coach's
// own clients, and a client's own record. Authorization is part of the
// query, never a check after loading.
func Scope(q *gorm.DB, a auth.Actor) *gorm.DB {
	q = q.Where("clients.practice_id = ?", a.PracticeID)
	switch {
	case a.Has(auth.RoleOwner):
		return q
	case a.Has(auth.RoleCoach):
		return q.Where("clients.coach_id = ?", a.UserID)
	case a.IsClient():
		return q.Where("clients.id = ?", a.ClientID)
	}
	return q.Where("1 = 0")
}

// Ref is what other modules need to know of a client they reach through it.
type Ref struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	Timezone   string
	Status     string
}

// Location is the client's time zone (UTC if it no longer loads).
func (r Ref) Location() *time.Location {
	return date.Zone(r.Timezone)
}

// ErrNotFound is the answer for a client the actor may not see, whether or
// not it exists: nothing leaks across practices or clients.
var ErrNotFound = apperr.New(apperr.NotFound, "Client not found.")

// Visible loads a client the actor may see, in db (a transaction or not).
func Visible(db *gorm.DB, a auth.Actor, id uuid.UUID) (Ref, error) {
	var r Ref
	err := Scope(db.Table("clients"), a).Where("clients.id = ?", id).
		Select("clients.id, clients.practice_id, clients.coach_id, clients.timezone, clients.status").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Ref{}, ErrNotFound
	}
	return r, err
}

// CanManage reports whether the actor may change the client's record
// itself (details, assignment, archive, invitation): staff only.
func CanManage(a auth.Actor) bool { return a.IsStaff() }
