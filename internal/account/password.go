package account

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// RequestPasswordReset e-mails a single-use link that sets a new password,
// valid for 30 minutes, when the address has an account. The caller never
// learns whether it has: the answer, and the work before it, are the same.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	var fields apperr.Fields
	email = input.Email(email, "email", &fields)
	if err := fields.Err(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		u, err := s.userByEmail(tx, email)
		if err != nil || u.ID == nilID {
			return err
		}
		token, id, err := s.newEmailToken(tx, purposeReset, &u.ID, email, nil, resetTTL)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("password-reset", id), Message: resetMail(email, s.linkURL(ResetPath, token))})
	})
}

// ConfirmPasswordReset sets a new password with a reset link's token and
// revokes every session of the account. Using the link also proves the
// address.
func (s *Service) ConfirmPasswordReset(ctx context.Context, token, password string) error {
	var fields apperr.Fields
	checkNewPassword(password, &fields)
	if err := fields.Err(); err != nil {
		return err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		row, err := s.spendEmailToken(tx, token, purposeReset)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		res := tx.Model(&userRow{}).Where("id = ? AND email = ? AND replaced_at IS NULL", *row.UserID, row.Email).
			Updates(map[string]any{"password_hash": hash, "updated_at": now,
				"email_verified_at": gorm.Expr("COALESCE(email_verified_at, ?)", now)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.Gone, "The account no longer uses this address.")
		}
		if err := revokeSessions(tx.Where("user_id = ?", *row.UserID), now, "password reset"); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("password-changed", row.ID), Message: passwordChangedMail(row.Email)})
	})
}

// ChangePassword sets a new password, given the current one, and revokes the
// user's other sessions. Wrong current passwords back off like failed
// sign-ins. The session's authentication time stays as it was: the current
// password alone is not the step-up of an account with two-step sign-in.
func (s *Service) ChangePassword(ctx context.Context, a auth.Actor, current, next string) error {
	var fields apperr.Fields
	checkNewPassword(next, &fields)
	if err := fields.Err(); err != nil {
		return err
	}
	if err := s.checkPassword(ctx, a, current); err != nil {
		return err
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		if err := tx.Model(&userRow{}).Where("id = ?", a.UserID).
			Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		if err := revokeSessions(tx.Where("user_id = ? AND id <> ?", a.UserID, a.SessionID), now, "password changed"); err != nil {
			return err
		}
		var email string
		if err := tx.Model(&userRow{}).Where("id = ?", a.UserID).Pluck("email", &email).Error; err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("password-changed", a.UserID, newID()), Message: passwordChangedMail(email)})
	})
}

// errWrongPassword refuses an act whose password the actor got wrong. It is
// a 401 of its own type, apart from a missing or bad access token: the
// token was fine, so a client must not refresh its session and send the
// same password again, which would count twice towards the back-off.
var errWrongPassword = &apperr.Error{Code: apperr.Unauthenticated, Reason: "wrong_password", Message: "The password is wrong."}

// checkPassword verifies the actor's password, backing off on failures
// like a sign-in (keyed by the account, so a stolen access token cannot
// guess it quickly).
func (s *Service) checkPassword(ctx context.Context, a auth.Actor, password string) error {
	var u userRow
	if err := s.db.DB.WithContext(ctx).Where("id = ?", a.UserID).Take(&u).Error; err != nil {
		return err
	}
	keys := s.loginKeys(ctx, u.Email)
	if err := s.checkBackoff(ctx, u.ID, keys); err != nil {
		return err
	}
	if !auth.VerifyPasswordOrDummy(u.PasswordHash, password) {
		s.failed(ctx, keys)
		return errWrongPassword
	}
	s.succeeded(ctx, keys)
	return nil
}

func resetMail(to, link string) tmail.Message {
	return tmail.Message{To: to, Subject: "Reset your Tandem password",
		Text: fmt.Sprintf("Hello,\n\nTo choose a new password, open this link (it works once, within %d minutes):\n\n%s\n\n"+
			"Setting a new password signs you out everywhere.\n\n"+
			"If you did not ask for this, ignore this e-mail: your password stays as it is.\n", int(resetTTL.Minutes()), link)}
}

func passwordChangedMail(to string) tmail.Message {
	return tmail.Message{To: to, Subject: "Your Tandem password was changed",
		Text: "Hello,\n\nThe password of your Tandem account was just changed, and your other devices were signed out.\n\n" +
			"If this was not you, reset your password now from the sign-in page.\n"}
}
