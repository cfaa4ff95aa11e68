package account

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// RecoveryCodeCount is how many one-time recovery codes an enrolment gives.
const RecoveryCodeCount = 10

// challengeTTL is how long the second step of a sign-in may take, and
// challengeFailures how many wrong codes it allows.
const (
	challengeTTL      = 5 * time.Minute
	challengeFailures = 5
)

// totpIssuer names Tandem in authenticator apps.
const totpIssuer = "Tandem"

// EnrolTOTP starts TOTP enrolment, which needs a fresh authentication: it
// stores a new secret, sealed, that signs nobody in until ConfirmTOTP.
func (s *Service) EnrolTOTP(ctx context.Context, a auth.Actor) (auth.TOTPEnrolment, error) {
	if err := s.requireFresh(a); err != nil {
		return auth.TOTPEnrolment{}, err
	}
	var out auth.TOTPEnrolment
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Where("id = ?", a.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.TOTPEnabledAt != nil {
			return apperr.New(apperr.Conflict, "Two-step sign-in is already on; turn it off first to enrol a new device.")
		}
		var err error
		if out, err = auth.NewTOTPEnrolment(totpIssuer, u.Email); err != nil {
			return err
		}
		return tx.Model(&userRow{}).Where("id = ?", u.ID).
			Updates(map[string]any{"totp_secret": s.sealSecret(u.ID, out.Secret), "totp_last_step": 0, "updated_at": s.clock.Now()}).Error
	})
	return out, err
}

// ConfirmTOTP turns TOTP on once the user shows a code from the enrolled
// secret, and returns the recovery codes, which are stored only as hashes.
func (s *Service) ConfirmTOTP(ctx context.Context, a auth.Actor, code string) ([]string, error) {
	codes, hashes, err := auth.NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Where("id = ?", a.UserID).Take(&u).Error; err != nil {
			return err
		}
		switch {
		case u.TOTPEnabledAt != nil:
			return apperr.New(apperr.Conflict, "Two-step sign-in is already on.")
		case len(u.TOTPSecret) == 0:
			return apperr.New(apperr.Conflict, "Start the enrolment first (POST /me/mfa/totp).")
		}
		if err := s.checkTOTP(tx, u, code); err != nil {
			return err
		}
		now := s.clock.Now()
		if err := tx.Model(&userRow{}).Where("id = ?", u.ID).
			Updates(map[string]any{"totp_enabled_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := tx.Where("user_id = ?", u.ID).Delete(&recoveryCodeRow{}).Error; err != nil {
			return err
		}
		for _, h := range hashes {
			if err := tx.Create(&recoveryCodeRow{ID: newID(), UserID: u.ID, CodeHash: h, CreatedAt: now}).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&sessionRow{}).Where("id = ?", a.SessionID).
			Updates(map[string]any{"auth_time": now, "auth_method": auth.MethodPasswordTOTP}).Error; err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("mfa-on", u.ID, newID()), Message: mfaMail(u.Email, true)})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTOTP turns TOTP off, which needs a fresh authentication, and drops
// the recovery codes. In a practice that requires MFA, its owners and
// coaches must enrol again before they can work.
func (s *Service) DisableTOTP(ctx context.Context, a auth.Actor) error {
	if err := s.requireFresh(a); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		res := tx.Model(&userRow{}).Where("id = ? AND totp_enabled_at IS NOT NULL", a.UserID).
			Updates(map[string]any{"totp_secret": nil, "totp_enabled_at": nil, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.Conflict, "Two-step sign-in is not on.")
		}
		if err := tx.Where("user_id = ?", a.UserID).Delete(&recoveryCodeRow{}).Error; err != nil {
			return err
		}
		var email string
		if err := tx.Model(&userRow{}).Where("id = ?", a.UserID).Pluck("email", &email).Error; err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("mfa-off", a.UserID, newID()), Message: mfaMail(email, false)})
	})
}

// newChallenge stores the second step of a sign-in whose password was right.
func (s *Service) newChallenge(ctx context.Context, userID uuid.UUID) (Challenge, error) {
	token, hash := auth.NewOpaqueToken()
	now := s.clock.Now()
	row := mfaChallengeRow{ID: newID(), UserID: userID, TokenHash: hash, ExpiresAt: now.Add(challengeTTL), CreatedAt: now}
	if err := s.db.DB.WithContext(ctx).Create(&row).Error; err != nil {
		return Challenge{}, err
	}
	return Challenge{Token: token, ExpiresIn: challengeTTL}, nil
}

var errChallengeOver = apperr.New(apperr.Unauthenticated, "This sign-in has expired or had too many wrong codes; log in again.")

// LoginMFA completes a sign-in with a TOTP code or a recovery code. The
// challenge is spent by success or by its fifth wrong code.
func (s *Service) LoginMFA(ctx context.Context, mfaToken, code string) (TokenPair, error) {
	var pair TokenPair
	var failure error
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		failure = nil // store.Tx may run this again
		now := s.clock.Now()
		var ch mfaChallengeRow
		err := tx.Where("token_hash = ?", auth.HashOpaqueToken(mfaToken)).Take(&ch).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errChallengeOver
		}
		if err != nil {
			return err
		}
		if ch.UsedAt != nil || !now.Before(ch.ExpiresAt) || ch.Failures >= challengeFailures {
			return errChallengeOver
		}
		method, err := s.secondFactor(tx, ch.UserID, code)
		if err != nil {
			if !apperr.Is(err, apperr.Unauthenticated) {
				return err
			}
			// Count the failure, and commit it: the wrong code is still refused.
			failure = err
			return tx.Model(&mfaChallengeRow{}).Where("id = ?", ch.ID).Update("failures", gorm.Expr("failures + 1")).Error
		}
		spent := tx.Model(&mfaChallengeRow{}).Where("id = ? AND used_at IS NULL", ch.ID).Update("used_at", now)
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 {
			return errChallengeOver
		}
		practiceID, err := homePractice(tx, ch.UserID)
		if err != nil {
			return err
		}
		pair, err = s.startSession(ctx, tx, ch.UserID, practiceID, method)
		return err
	})
	if err == nil && failure != nil {
		err = failure
	}
	return pair, err
}

// errWrongCode refuses a second factor: a TOTP code wrong, used already or
// older than the last used, or a recovery code unknown or spent. Like a
// wrong password it is a 401 of its own type, apart from a bad access
// token: sending the same code again after a refresh cannot help.
var errWrongCode = &apperr.Error{Code: apperr.Unauthenticated, Reason: "wrong_code", Message: "The code is wrong or was used already."}

// secondFactor checks a TOTP code or an unused recovery code of the user, in
// tx, spending it, and returns the sign-in method it amounts to. Failures
// back off per account.
func (s *Service) secondFactor(tx *gorm.DB, userID uuid.UUID, code string) (string, error) {
	key := "mfa:" + userID.String()
	// The counts are written outside tx: a failure counts even though the
	// sign-in it belongs to rolls back.
	ctx := tx.Statement.Context
	if wait, err := s.deviceBackoff.Wait(ctx, key); err != nil || wait > 0 {
		return "", cmp.Or(err, tooManyFailures(wait))
	}
	method, err := s.spendSecondFactor(tx, userID, code)
	if apperr.Is(err, apperr.Unauthenticated) {
		if _, ferr := s.deviceBackoff.Fail(ctx, key); ferr != nil {
			s.log.WarnContext(ctx, "could not count a failed second factor", slog.String("error", ferr.Error()))
		}
	} else if err == nil {
		if rerr := s.deviceBackoff.Reset(ctx, key); rerr != nil {
			s.log.WarnContext(ctx, "could not forget failed second factors", slog.String("error", rerr.Error()))
		}
	}
	return method, err
}

func (s *Service) spendSecondFactor(tx *gorm.DB, userID uuid.UUID, code string) (string, error) {
	if auth.LooksLikeRecoveryCode(code) {
		res := tx.Model(&recoveryCodeRow{}).Where("user_id = ? AND code_hash = ? AND used_at IS NULL", userID, auth.HashRecoveryCode(code)).
			Update("used_at", s.clock.Now())
		if res.Error != nil {
			return "", res.Error
		}
		if res.RowsAffected == 0 {
			return "", errWrongCode
		}
		return auth.MethodPasswordRecoveryCode, nil
	}
	var u userRow
	if err := tx.Where("id = ? AND totp_enabled_at IS NOT NULL", userID).Take(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return "", errWrongCode
		}
		return "", err
	}
	if err := s.checkTOTP(tx, u, code); err != nil {
		return "", err
	}
	return auth.MethodPasswordTOTP, nil
}

// checkTOTP verifies a code against the user's sealed secret and records its
// time step, conditionally, so that a code is never accepted twice (nor an
// older one after it), even by concurrent requests.
func (s *Service) checkTOTP(tx *gorm.DB, u userRow, code string) error {
	secret, err := s.openSecret(u.ID, u.TOTPSecret)
	if err != nil {
		return err
	}
	step, ok := auth.VerifyTOTP(secret, code, s.clock.Now(), u.TOTPLastStep)
	if !ok {
		return errWrongCode
	}
	res := tx.Model(&userRow{}).Where("id = ? AND totp_last_step < ?", u.ID, step).Update("totp_last_step", step)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errWrongCode
	}
	return nil
}

// Reauthenticate proves again who the actor is (step-up): the password, and
// a second factor when TOTP is on. The session's authentication time is then
// now.
func (s *Service) Reauthenticate(ctx context.Context, a auth.Actor, password string, code *string) error {
	if err := s.checkPassword(ctx, a, password); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Where("id = ?", a.UserID).Take(&u).Error; err != nil {
			return err
		}
		method := auth.MethodPassword
		if u.TOTPEnabledAt != nil {
			if code == nil {
				return apperr.Validation(apperr.FieldError{Field: "totp_code", Message: "is required: two-step sign-in is on"})
			}
			var err error
			if method, err = s.secondFactor(tx, u.ID, *code); err != nil {
				return err
			}
		}
		return tx.Model(&sessionRow{}).Where("id = ?", a.SessionID).
			Updates(map[string]any{"auth_time": s.clock.Now(), "auth_method": method}).Error
	})
}

// sealSecret seals a TOTP secret for storage, bound to its user: the key ID,
// a NUL byte, then the ciphertext.
func (s *Service) sealSecret(userID uuid.UUID, secret string) []byte {
	keyID, sealed := s.secrets.Seal([]byte(secret), secretAdditionalData(userID))
	return append(append([]byte(keyID), 0), sealed...)
}

func (s *Service) openSecret(userID uuid.UUID, stored []byte) (string, error) {
	keyID, sealed, ok := bytes.Cut(stored, []byte{0})
	if !ok {
		return "", errors.New("account: stored TOTP secret is malformed")
	}
	plain, err := s.secrets.Open(string(keyID), sealed, secretAdditionalData(userID))
	return string(plain), err
}

func secretAdditionalData(userID uuid.UUID) []byte { return []byte("totp:" + userID.String()) }

func mfaMail(to string, on bool) tmail.Message {
	if on {
		return tmail.Message{To: to, Subject: "Two-step sign-in is on for your Tandem account",
			Text: "Hello,\n\nTwo-step sign-in was just turned on for your Tandem account. Keep your recovery codes safe.\n\n" +
				"If this was not you, reset your password now.\n"}
	}
	return tmail.Message{To: to, Subject: "Two-step sign-in is off for your Tandem account",
		Text: "Hello,\n\nTwo-step sign-in was just turned off for your Tandem account.\n\n" +
			"If this was not you, reset your password now and turn it on again.\n"}
}
