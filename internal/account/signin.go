package account

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/reqinfo"
)

// SignIn is the outcome of a correct password: tokens, or, when the account
// has MFA on and no code came with the password, a challenge to complete.
type SignIn struct {
	Tokens    *TokenPair
	Challenge *Challenge
}

// Challenge is the second step of a sign-in with MFA.
type Challenge struct {
	Token     string
	ExpiresIn time.Duration
}

// Login checks e-mail and password and starts a session in the user's
// practice (their oldest membership). An unknown e-mail and a wrong password
// get the same answer after the same work. Failures back off (see
// checkBackoff); a correct password is never refused for an earlier
// stranger's failures from an address the user has signed in from before.
func (s *Service) Login(ctx context.Context, email, password string, totpCode *string) (SignIn, error) {
	var fields apperr.Fields
	email = input.Email(email, "email", &fields)
	if password == "" {
		fields.Add("password", "is required")
	}
	if err := fields.Err(); err != nil {
		return SignIn{}, err
	}
	u, err := s.userByEmail(s.db.DB.WithContext(ctx), email)
	if err != nil {
		return SignIn{}, err
	}
	keys := s.loginKeys(ctx, email)
	if err := s.checkBackoff(ctx, u.ID, keys); err != nil {
		return SignIn{}, err
	}
	if !auth.VerifyPasswordOrDummy(u.PasswordHash, password) {
		s.failed(keys)
		return SignIn{}, errBadCredentials
	}
	s.succeeded(keys)

	if u.TOTPEnabledAt != nil && totpCode == nil {
		ch, err := s.newChallenge(ctx, u.ID)
		if err != nil {
			return SignIn{}, err
		}
		return SignIn{Challenge: &ch}, nil
	}
	var pair TokenPair
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		method := auth.MethodPassword
		if u.TOTPEnabledAt != nil {
			if method, err = s.secondFactor(tx, u.ID, *totpCode); err != nil {
				return err
			}
		}
		practiceID, err := homePractice(tx, u.ID)
		if err != nil {
			return err
		}
		pair, err = s.startSession(ctx, tx, u.ID, practiceID, method)
		return err
	})
	if err != nil {
		return SignIn{}, err
	}
	return SignIn{Tokens: &pair}, nil
}

// userByEmail returns the account holding email, or a zero row when none
// does (replaced accounts hold a tombstone address, never a real one).
func (s *Service) userByEmail(db *gorm.DB, email string) (userRow, error) {
	var u userRow
	err := db.Where("email = ? AND replaced_at IS NULL", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return userRow{}, nil
	}
	return u, err
}

// backoffKeys name a sign-in's failure counters: the account's, from any
// address, and the account's from this address.
type backoffKeys struct{ account, device, ip string }

func (s *Service) loginKeys(ctx context.Context, email string) backoffKeys {
	ip := reqinfo.From(ctx).IP
	return backoffKeys{account: "login:" + email, device: "login:" + email + "|" + ip, ip: ip}
}

// checkBackoff refuses an attempt while its address, or the account, is
// backing off after failures. The account-wide wait is short and capped, and
// it does not apply from an address the user signed in from in the last 30
// days: a stranger's failures elsewhere can never keep the owner out.
func (s *Service) checkBackoff(ctx context.Context, userID uuid.UUID, k backoffKeys) error {
	if wait := s.deviceBackoff.Wait(k.device); wait > 0 {
		return tooManyFailures(wait)
	}
	wait := s.accountBackoff.Wait(k.account)
	if wait == 0 {
		return nil
	}
	if userID != uuid.Nil {
		known, err := s.knownAddress(ctx, userID, k.ip)
		if err != nil {
			return err
		}
		if known {
			return nil
		}
	}
	return tooManyFailures(wait)
}

func (s *Service) failed(k backoffKeys) {
	s.deviceBackoff.Fail(k.device)
	s.accountBackoff.Fail(k.account)
}

func (s *Service) succeeded(k backoffKeys) {
	s.deviceBackoff.Reset(k.device)
	s.accountBackoff.Reset(k.account)
}

// knownAddress reports whether the user signed in from ip in the last 30 days.
func (s *Service) knownAddress(ctx context.Context, userID uuid.UUID, ip string) (bool, error) {
	if ip == "" {
		return false, nil
	}
	var n int64
	err := s.db.DB.WithContext(ctx).Model(&sessionRow{}).
		Where("user_id = ? AND ip = ? AND created_at > ?", userID, ip, s.clock.Now().Add(-30*24*time.Hour)).
		Limit(1).Count(&n).Error
	return n > 0, err
}

func tooManyFailures(wait time.Duration) error {
	return &apperr.Error{Code: apperr.TooManyRequests, Reason: "backoff",
		Message: "Too many failed attempts; wait a little and try again.", RetryAfter: wait}
}

// homePractice is the practice a login lands in: the oldest membership as
// owner or coach, otherwise the oldest practice where the user is a client
// (archived or not: an archived client still controls their consents).
func homePractice(tx *gorm.DB, userID uuid.UUID) (*uuid.UUID, error) {
	var ids []uuid.UUID
	if err := tx.Model(&membershipRow{}).Where("user_id = ?", userID).Order("created_at, id").Limit(1).
		Pluck("practice_id", &ids).Error; err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		if err := tx.Table("clients").Where("user_id = ?", userID).
			Order("CASE WHEN status = 'archived' THEN 1 ELSE 0 END, created_at, id").Limit(1).
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
// thief and the user must log in again. Guessing a 256-bit token is futile,
// so only the per-address budget of the HTTP layer limits refreshes.
func (s *Service) Refresh(ctx context.Context, token string) (TokenPair, error) {
	hash := auth.HashOpaqueToken(token)
	info := reqinfo.From(ctx)
	var pair TokenPair
	var reused *sessionRow
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		reused = nil // store.Tx may run this again
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
		if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) {
			return errBadRefresh
		}
		spent := tx.Model(&refreshTokenRow{}).Where("id = ? AND used_at IS NULL", rt.ID).Update("used_at", now)
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 { // already used: reuse detected
			reused = &sess
			return revokeSessions(tx.Where("id = ?", sess.ID), now, "refresh token reuse")
		}
		if err := tx.Model(&sessionRow{}).Where("id = ?", sess.ID).
			Updates(map[string]any{"last_used_at": now, "ip": info.IP, "user_agent": info.UserAgent}).Error; err != nil {
			return err
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
		return revokeSessions(tx.Where("id = ?", rt.SessionID), s.clock.Now(), "logout")
	})
}

// revokeSessions revokes the live sessions that scope selects.
func revokeSessions(scope *gorm.DB, now time.Time, reason string) error {
	return scope.Model(&sessionRow{}).Where("revoked_at IS NULL").
		Updates(map[string]any{"revoked_at": now, "revoke_reason": reason}).Error
}

// Authenticate verifies an access token and loads the Actor: the session
// must still be live (not logged out, not revoked for reuse, not past its
// lifetime), and the roles are read fresh from the practice's memberships,
// with what the authorization rules need to know of the account: a proven
// address, the practice's MFA requirement, an archived client record, and
// when the session last proved who the user is.
func (s *Service) Authenticate(ctx context.Context, accessToken string) (auth.Actor, error) {
	unauthenticated := apperr.New(apperr.Unauthenticated, "The access token is missing, invalid or expired.")
	userID, sessionID, err := s.tokens.Verify(accessToken)
	if err != nil {
		return auth.Actor{}, unauthenticated
	}
	db := s.db.DB.WithContext(ctx)
	var sess struct {
		PracticeID      *uuid.UUID
		AuthTime        time.Time
		AuthMethod      string
		EmailVerifiedAt *time.Time
		TOTPEnabledAt   *time.Time `gorm:"column:totp_enabled_at"`
	}
	err = db.Table("auth_sessions AS s").Joins("JOIN users u ON u.id = s.user_id").
		Select("s.practice_id, s.auth_time, s.auth_method, u.email_verified_at, u.totp_enabled_at").
		Where("s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?", sessionID, userID, s.clock.Now()).
		Take(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return auth.Actor{}, unauthenticated
	}
	if err != nil {
		return auth.Actor{}, err
	}
	actor := auth.Actor{UserID: userID, SessionID: sessionID, EmailVerified: sess.EmailVerifiedAt != nil,
		AuthTime: sess.AuthTime, AuthMethod: sess.AuthMethod}
	if sess.PracticeID == nil {
		return actor, nil
	}
	var roles []struct {
		Role       string
		RequireMFA bool `gorm:"column:require_mfa"`
	}
	if err := db.Table("memberships AS m").Joins("JOIN practices p ON p.id = m.practice_id").
		Select("m.role, p.require_mfa").Where("m.user_id = ? AND m.practice_id = ?", userID, *sess.PracticeID).
		Scan(&roles).Error; err != nil {
		return auth.Actor{}, err
	}
	for _, r := range roles {
		actor.Roles = append(actor.Roles, auth.Role(r.Role))
		if r.RequireMFA && sess.TOTPEnabledAt == nil {
			actor.MFAEnrolmentRequired = true
		}
	}
	if len(roles) == 0 {
		// Not staff: perhaps a client with a portal account. An archived
		// client keeps control of their consents, and only that.
		var linked []struct {
			ID     uuid.UUID
			Status string
		}
		if err := db.Table("clients").Select("id, status").Where("user_id = ? AND practice_id = ?", userID, *sess.PracticeID).
			Limit(1).Scan(&linked).Error; err != nil {
			return auth.Actor{}, err
		}
		if len(linked) == 1 {
			actor.Roles = []auth.Role{auth.RoleClient}
			actor.ClientID = linked[0].ID
			actor.ClientArchived = linked[0].Status == "archived"
		}
	}
	if len(actor.Roles) > 0 {
		actor.PracticeID = *sess.PracticeID
	}
	return actor, nil
}
