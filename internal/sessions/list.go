package sessions

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/page"
)

// ListForClient returns a client's sessions by start time (404 for a client
// the actor may not see).
func (s *Service) ListForClient(ctx context.Context, a auth.Actor, clientID uuid.UUID, pr page.TimedRequest) ([]Session, *string, error) {
	db := s.c.Store.DB.WithContext(ctx)
	if _, err := clients.Visible(db, a, clientID); err != nil {
		return nil, nil, err
	}
	return listPage(visible(db, a).Where("coaching_sessions.client_id = ?", clientID), pr)
}

// Window is an optional time window on the start of a session: From
// inclusive, To exclusive.
type Window struct {
	From *time.Time
	To   *time.Time
}

// ListMine returns the actor's sessions by start time: a coach's sessions as
// the coach, all of the practice's for the owner, a client's own.
func (s *Service) ListMine(ctx context.Context, a auth.Actor, w Window, pr page.TimedRequest) ([]Session, *string, error) {
	if w.From != nil && w.To != nil && !w.From.Before(*w.To) {
		return nil, nil, apperr.Validation(apperr.FieldError{Field: "to", Message: "must be after from"})
	}
	q := visible(s.c.Store.DB.WithContext(ctx), a)
	if a.IsStaff() && !a.Has(auth.RoleOwner) {
		q = q.Where("coaching_sessions.coach_id = ?", a.UserID)
	}
	if w.From != nil {
		q = q.Where("coaching_sessions.starts_at >= ?", w.From.UTC())
	}
	if w.To != nil {
		q = q.Where("coaching_sessions.starts_at < ?", w.To.UTC())
	}
	return listPage(q, pr)
}

// listPage reads one page of q in (starts_at, id) order, the order the API
// promises, with a keyset cursor on both columns.
func listPage(q *gorm.DB, pr page.TimedRequest) ([]Session, *string, error) {
	if k := pr.After; k != nil {
		at := k.At.UTC()
		q = q.Where("(coaching_sessions.starts_at > ? OR (coaching_sessions.starts_at = ? AND coaching_sessions.id > ?))", at, at, k.ID)
	}
	var rows []sessionRow
	if err := q.Select(publicColumns).Order("coaching_sessions.starts_at, coaching_sessions.id").
		Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.TrimTimed(rows, pr.Limit, func(r sessionRow) page.Key { return page.Key{At: r.StartsAt, ID: r.ID} })
	out := make([]Session, len(rows))
	for i, r := range rows {
		out[i] = toSession(r)
	}
	return out, next, nil
}
