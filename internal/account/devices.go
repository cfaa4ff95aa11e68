package account

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/page"
)

// SignInInfo is one signed-in device of a user.
type SignInInfo struct {
	ID         uuid.UUID
	CreatedAt  time.Time
	LastUsedAt time.Time
	IP         string
	UserAgent  string
	Current    bool
}

// ListSignIns lists the actor's live sessions, newest first: where and when
// each signed in, and when it last signed in or refreshed its tokens.
func (s *Service) ListSignIns(ctx context.Context, a auth.Actor, pr page.Request) ([]SignInInfo, *string, error) {
	q := s.db.DB.WithContext(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", a.UserID, s.clock.Now())
	if pr.After != uuid.Nil {
		q = q.Where("id < ?", pr.After)
	}
	var rows []sessionRow
	if err := q.Order("id DESC").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r sessionRow) uuid.UUID { return r.ID })
	out := make([]SignInInfo, len(rows))
	for i, r := range rows {
		out[i] = SignInInfo{ID: r.ID, CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, IP: r.IP, UserAgent: r.UserAgent,
			Current: r.ID == a.SessionID}
	}
	return out, next, nil
}

// RevokeSignIn signs one of the actor's devices out (this one included).
// Another user's session is not found.
func (s *Service) RevokeSignIn(ctx context.Context, a auth.Actor, id uuid.UUID) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&sessionRow{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, a.UserID).
			Updates(map[string]any{"revoked_at": s.clock.Now(), "revoke_reason": "signed out by the user"})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.NotFound, "Session not found.")
		}
		return nil
	})
}

// RevokeOtherSignIns signs out every device of the actor but this one.
func (s *Service) RevokeOtherSignIns(ctx context.Context, a auth.Actor) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		return revokeSessions(tx.Where("user_id = ? AND id <> ?", a.UserID, a.SessionID), s.clock.Now(), "signed out by the user")
	})
}
