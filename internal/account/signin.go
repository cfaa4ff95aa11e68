package account

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
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/store"
)

// Registration is what a new practice owner sends.
type Registration struct {
	PracticeName string
	Name         string
	Email        string
	Password     string
}

// Register creates a practice, its owner and the owner's first session, all
// in one transaction: a crash leaves either all of them or none.
func (s *Service) Register(ctx context.Context, r Registration) (TokenPair, error) {
	var fields apperr.Fields
	practiceName := input.Line(r.PracticeName, "practice_name", 200, &fields)
	name := input.Line(r.Name, "name", 200, &fields)
	email := input.Email(r.Email, "email", &fields)
	checkNewPassword(r.Password, &fields)
	if err := fields.Err(); err != nil {
		return TokenPair{}, err
	}
	hash, err := auth.HashPassword(r.Password) // slow: outside the transaction
	if err != nil {
		return TokenPair{}, err
	}

	var pair TokenPair
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		p := practiceRow{ID: newID(), Name: practiceName, Version: 1, CreatedAt: now, UpdatedAt: now}
		u := userRow{ID: newID(), Email: email, Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		m := membershipRow{ID: newID(), PracticeID: p.ID, UserID: u.ID, Role: string(auth.RoleOwner), CreatedAt: now}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		if err := tx.Create(&u).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "An account with this e-mail already exists; log in instead.")
			}
			return err
		}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: p.ID, Actor: u.ID, Action: "practice.registered",
			RecordType: "practice", RecordID: p.ID, At: now}); err != nil {
			return err
		}
		pair, err = s.startSession(tx, u.ID, &p.ID)
		return err
	})
	return pair, err
}

// Login checks e-mail and password and starts a session in the user's
// practice (their oldest membership). An unknown e-mail and a wrong password
// get the same answer after the same work.
func (s *Service) Login(ctx context.Context, email, password string) (TokenPair, error) {
	var fields apperr.Fields
	email = input.Email(email, "email", &fields)
	if password == "" {
		fields.Add("password", "is required")
	}
	if err := fields.Err(); err != nil {
		return TokenPair{}, err
	}
	if err := s.limitAccount("login:" + email); err != nil {
		return TokenPair{}, err
	}

	var u userRow
	err := s.db.DB.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return TokenPair{}, err
	}
	if !auth.VerifyPasswordOrDummy(u.PasswordHash, password) {
		return TokenPair{}, errBadCredentials
	}

	var pair TokenPair
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		practiceID, err := homePractice(tx, u.ID)
		if err != nil {
			return err
		}
		pair, err = s.startSession(tx, u.ID, practiceID)
		return err
	})
	return pair, err
}

// homePractice is the practice a login lands in: the oldest membership as
// owner or coach, otherwise the oldest practice where the user is a client.
func homePractice(tx *gorm.DB, userID uuid.UUID) (*uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.Model(&membershipRow{}).Where("user_id = ?", userID).Order("created_at, id").Limit(1).
		Pluck("practice_id", &ids).Error; err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		if err := tx.Table("clients").Where("user_id = ? AND status <> 'archived'", userID).Order("created_at, id").Limit(1).
			Pluck("practice_id", &ids).Error; err != nil {
			return nil, err
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return &ids[0], nil
}

var errBadRefresh = apperr.New(apperr.Unauthenticated, "The refresh token is invalid, expired or revoked; log in again.")

// Refresh spends a refresh token and returns a new pair. A token that was
// already spent means it leaked: the whole session is revoked, and both the
// thief and the user must log in again.
func (s *Service) Refresh(ctx context.Context, token string) (TokenPair, error) {
	hash := auth.HashOpaqueToken(token)
	var pair TokenPair
	var reused *sessionRow
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		var rt refreshTokenRow
		if err := tx.Where("token_hash = ?", hash).Take(&rt).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errBadRefresh
			}
			return err
		}
		var sess sessionRow
		if err := tx.Where("id = ?", rt.SessionID).Take(&sess).Error; err != nil {
			return err
		}
		if err := s.limitAccount("refresh:" + sess.UserID.String()); err != nil {
			return err
		}
		if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) {
			return errBadRefresh
		}
		spent := tx.Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL", rt.ID).Update("used_at", now)
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 { // already used: reuse detected
			reused = &sess
			return revokeSession(tx, sess.ID, now, "refresh token reuse")
		}
		var err error
		pair, err = s.issueRefresh(tx, sess, now)
		return err
	})
	if err != nil {
		return TokenPair{}, err
	}
	if reused != nil {
		s.log.WarnContext(ctx, "refresh token reused; session revoked",
			slog.String("user_id", reused.UserID.String()), slog.String("session_id", reused.ID.String()))
		return TokenPair{}, errBadRefresh
	}
	return pair, nil
}

// Logout revokes the session the refresh token belongs to. An unknown or
// already revoked token is not an error: the outcome is the same.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash := auth.HashOpaqueToken(token)
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var rt refreshTokenRow
		if err := tx.Where("token_hash = ?", hash).Take(&rt).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		return revokeSession(tx, rt.SessionID, s.clock.Now(), "logout")
	})
}

func revokeSession(tx *gorm.DB, id uuid.UUID, now time.Time, reason string) error {
	return tx.Model(&sessionRow{}).Where("id = ? AND revoked_at IS NULL", id).
		Updates(map[string]any{"revoked_at": now, "revoke_reason": reason}).Error
}

// Authenticate verifies an access token and loads the Actor: the session
// must still be live (not logged out, not revoked for reuse, not past its
// lifetime), and the roles are read fresh from the practice's memberships.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (auth.Actor, error) {
	unauthenticated := apperr.New(apperr.Unauthenticated, "The access token is missing, invalid or expired.")
	userID, sessionID, err := s.tokens.Verify(accessToken)
	if err != nil {
		return auth.Actor{}, unauthenticated
	}
	db := s.db.DB.WithContext(ctx)
	var sess sessionRow
	err = db.Where("id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ?", sessionID, userID, s.clock.Now()).
		Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return auth.Actor{}, unauthenticated
	}
	if err != nil {
		return auth.Actor{}, err
	}
	actor := auth.Actor{UserID: userID, SessionID: sessionID}
	if sess.PracticeID == nil {
		return actor, nil
	}
	var roles []string
	if err := db.Model(&membershipRow{}).Where("user_id = ? AND practice_id = ?", userID, *sess.PracticeID).
		Pluck("role", &roles).Error; err != nil {
		return auth.Actor{}, err
	}
	for _, r := range roles {
		actor.Roles = append(actor.Roles, auth.Role(r))
	}
	if len(roles) == 0 {
		// Not staff: perhaps a client with a portal account. Archived
		// clients keep their data but lose portal access.
		var clientIDs []uuid.UUID
		if err := db.Table("clients").Where("user_id = ? AND practice_id = ? AND status <> 'archived'", userID, *sess.PracticeID).
			Limit(1).Pluck("id", &clientIDs).Error; err != nil {
			return auth.Actor{}, err
		}
		if len(clientIDs) == 1 {
			actor.Roles = []auth.Role{auth.RoleClient}
			actor.ClientID = clientIDs[0]
		}
	}
	if len(actor.Roles) > 0 {
		actor.PracticeID = *sess.PracticeID
	}
	return actor, nil
}
