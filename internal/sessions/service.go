// Package sessions is the coaching conversation: scheduling without double
// booking, the shared summary, the coach's private note (sealed at rest),
// and the calendar feed.
package sessions

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// Session statuses.
const (
	StatusScheduled = "scheduled"
	StatusCompleted = "completed"
	StatusCancelled = "cancelled"
	StatusNoShow    = "no_show"
)

// Session is a coaching conversation as callers see it. It never carries
// the private note, so no read of a session can leak it.
type Session struct {
	ID              uuid.UUID
	ClientID        uuid.UUID
	CoachID         uuid.UUID
	StartsAt        time.Time
	EndsAt          time.Time
	DurationMinutes int
	Location        *string
	Agenda          *string
	Status          string
	Summary         *string
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// ETag is the session's version as an HTTP entity tag.
func (s Session) ETag() string { return store.ETag(s.Version) }

// ErrNotFound is the answer for a session the actor may not see, whether or
// not it exists.
var ErrNotFound = apperr.New(apperr.NotFound, "Session not found.")

// Config is what the sessions service needs.
type Config struct {
	Store   *store.Store
	Clock   clock.Clock
	Log     *slog.Logger
	Notes   *sealbox.Box // seals private notes
	BaseURL string       // for calendar feed URLs
}

// Service runs session operations; each is one transaction.
type Service struct{ c Config }

// NewService returns the sessions service.
func NewService(c Config) *Service { return &Service{c: c} }

func toSession(r sessionRow) Session {
	return Session{
		ID: r.ID, ClientID: r.ClientID, CoachID: r.CoachID,
		StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(), DurationMinutes: r.DurationMinutes,
		Location: r.Location, Agenda: r.Agenda, Status: r.Status, Summary: r.Summary,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// visible limits a query on coaching_sessions to the sessions of the clients
// the actor may see (clients.Scope): all of the practice for the owner, a
// coach's own clients, a client's own record. Authorization is part of the
// query, never a check after loading.
func visible(db *gorm.DB, a auth.Actor) *gorm.DB {
	q := db.Table("coaching_sessions").
		Joins("JOIN clients ON clients.practice_id = coaching_sessions.practice_id AND clients.id = coaching_sessions.client_id").
		Where("coaching_sessions.practice_id = ?", a.PracticeID)
	return clients.Scope(q, a)
}

// load reads a session the actor may see, without its private note.
func load(db *gorm.DB, a auth.Actor, id uuid.UUID) (Session, error) {
	var r sessionRow
	err := visible(db, a).Select(publicColumns).Where("coaching_sessions.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, err
	}
	return toSession(r), nil
}

// Get returns a session the actor may see.
func (s *Service) Get(ctx context.Context, a auth.Actor, id uuid.UUID) (Session, error) {
	return load(s.c.Store.DB.WithContext(ctx), a, id)
}

func (s *Service) audit(ctx context.Context, tx *gorm.DB, a auth.Actor, action string, id uuid.UUID, now time.Time) error {
	return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: action,
		RecordType: "session", RecordID: id, At: now})
}
