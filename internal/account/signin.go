package account

import (
	"cmp"
	"context"
	"database/sql"
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
		s.failed(ctx, keys)
		return SignIn{}, errBadCredentials
	}
	s.succeeded(ctx, keys)

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
	if wait, err := s.deviceBackoff.Wait(ctx, k.device); err != nil || wait > 0 {
		return cmp.Or(err, tooManyFailures(wait))
	}
	wait, err := s.accountBackoff.Wait(ctx, k.account)
	if err != nil || wait == 0 {
		return err
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

// failed counts a failed attempt against the address and the account. A
// count that cannot be written is logged: the attempt has failed anyway.
func (s *Service) failed(ctx context.Context, k backoffKeys) {
	_, err1 := s.deviceBackoff.Fail(ctx, k.device)
	_, err2 := s.accountBackoff.Fail(ctx, k.account)
	if err := errors.Join(err1, err2); err != nil {
		s.log.WarnContext(ctx, "could not count a failed sign-in", slog.String("error", err.Error()))
	}
}

// succeeded forgets the failures of the address and the account.
func (s *Service) succeeded(ctx context.Context, k backoffKeys) {
	if err := errors.Join(s.deviceBackoff.Reset(ctx, k.device), s.accountBackoff.Reset(ctx, k.account)); err != nil {
		s.log.WarnContext(ctx, "could not forget failed sign-ins", slog.String("error", err.Error()))
	}
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
	rows, err := s.db.DB.WithContext(ctx).Raw(authenticateSQL, sessionID, userID, s.clock.Now()).Rows()
	if err != nil {
		return auth.Actor{}, err
	}
	defer rows.Close()
	actor := auth.Actor{UserID: userID, SessionID: sessionID}
	var (
		found      bool
		practiceID *uuid.UUID
		client     *uuid.UUID
		archived   bool
	)
	for rows.Next() {
		var r authRow
		if err := rows.Scan(&r.PracticeID, &r.AuthTime, &r.AuthMethod, &r.EmailVerifiedAt, &r.TOTPEnabledAt,
			&r.Role, &r.RequireMFA, &r.ClientID, &r.ClientStatus); err != nil {
			return auth.Actor{}, err
		}
		found, practiceID = true, r.PracticeID
		actor.EmailVerified, actor.AuthTime, actor.AuthMethod = r.EmailVerifiedAt.Valid, r.AuthTime, r.AuthMethod
		if r.Role.Valid && !actor.Has(auth.Role(r.Role.String)) {
			actor.Roles = append(actor.Roles, auth.Role(r.Role.String))
			if r.RequireMFA.Valid && r.RequireMFA.Bool && !r.TOTPEnabledAt.Valid {
				actor.MFAEnrolmentRequired = true
			}
		}
		if r.ClientID != nil && client == nil {
			client, archived = r.ClientID, r.ClientStatus.String == "archived"
		}
	}
	if err := rows.Err(); err != nil {
		return auth.Actor{}, err
	}
	if !found {
		return auth.Actor{}, unauthenticated
	}
	if len(actor.Roles) == 0 && client != nil {
		// Not staff: a client with a portal account. An archived client
		// keeps control of their consents, and only that.
		actor.Roles = []auth.Role{auth.RoleClient}
		actor.ClientID, actor.ClientArchived = *client, archived
	}
	if len(actor.Roles) > 0 && practiceID != nil {
		actor.PracticeID = *practiceID
	}
	return actor, nil
}

// authenticateSQL reads, in one round trip, everything a request's actor is
// made of: the session (live only: not revoked, not expired, so a sign-out
// or a revocation bites on the very next request), the user's proven
// address and second factor, and the user's roles in the session's
// practice: a row per membership, with the practice's MFA rule, or else the
// client record the user's portal account is linked to. Nothing of it is
// cached between requests.
const authenticateSQL = `SELECT s.practice_id, s.auth_time, s.auth_method, u.email_verified_at, u.totp_enabled_at,
	m.role, p.require_mfa, c.id, c.status
FROM auth_sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN memberships m ON m.user_id = s.user_id AND m.practice_id = s.practice_id
LEFT JOIN practices p ON p.id = m.practice_id
LEFT JOIN clients c ON m.user_id IS NULL AND c.user_id = s.user_id AND c.practice_id = s.practice_id
WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ?
ORDER BY m.role, c.id`

// authRow is one row of authenticateSQL.
type authRow struct {
	PracticeID      *uuid.UUID
	AuthTime        time.Time
	AuthMethod      string
	EmailVerifiedAt sql.NullTime
	TOTPEnabledAt   sql.NullTime
	Role            sql.NullString
	RequireMFA      sql.NullBool
	ClientID        *uuid.UUID
	ClientStatus    sql.NullString
}
