package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// What an e-mailed link is for.
const (
	purposeVerify       = "verify_email"
	purposeChangeEmail  = "change_email"
	purposeRegistration = "registration"
	purposeReset        = "password_reset"
)

// How long e-mailed links work.
const (
	verifyTTL = 48 * time.Hour
	resetTTL  = 30 * time.Minute
)

// Where the web app's pages for e-mailed links live (routes of web/app,
// which the server answers with the app); the token follows in the URL
// fragment, which browsers never send to a server.
const (
	VerifyPath = "/verify-email"
	ResetPath  = "/reset-password"
)

var nilID = uuid.Nil

func (s *Service) linkURL(path, token string) string {
	return s.baseURL + path + "#token=" + token
}

// newEmailToken stores a single-use link's hash, replacing the user's (or,
// with no user, the address's) unused links of the same purpose, and returns
// the token.
func (s *Service) newEmailToken(tx *gorm.DB, purpose string, userID *uuid.UUID, email string, payload *string, ttl time.Duration) (string, uuid.UUID, error) {
	now := s.clock.Now()
	earlier := tx.Model(&emailTokenRow{}).Where("purpose = ? AND used_at IS NULL", purpose)
	if userID != nil {
		earlier = earlier.Where("user_id = ?", *userID)
	} else {
		earlier = earlier.Where("user_id IS NULL AND email = ?", email)
	}
	if err := earlier.Update("expires_at", now).Error; err != nil {
		return "", uuid.Nil, err
	}
	token, hash := auth.NewOpaqueToken()
	row := emailTokenRow{ID: newID(), Purpose: purpose, UserID: userID, Email: email, TokenHash: hash, Payload: payload,
		ExpiresAt: now.Add(ttl), CreatedAt: now}
	return token, row.ID, tx.Create(&row).Error
}

var errBadLink = apperr.New(apperr.NotFound, "This link is not valid; use the latest e-mail, or ask for a new link.")

// spendEmailToken marks a link of one of purposes used, in tx, and returns
// it: 404 for an unknown token, 410 for a used or expired one. Of two
// concurrent uses exactly one succeeds.
func (s *Service) spendEmailToken(tx *gorm.DB, token string, purposes ...string) (emailTokenRow, error) {
	var row emailTokenRow
	err := tx.Where("token_hash = ? AND purpose IN ?", auth.HashOpaqueToken(token), purposes).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return emailTokenRow{}, errBadLink
	}
	if err != nil {
		return emailTokenRow{}, err
	}
	now := s.clock.Now()
	spent := tx.Model(&emailTokenRow{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", row.ID, now).Update("used_at", now)
	if spent.Error != nil {
		return emailTokenRow{}, spent.Error
	}
	if spent.RowsAffected == 0 {
		return emailTokenRow{}, apperr.New(apperr.Gone, "This link has already been used or has expired; ask for a new one.")
	}
	return row, nil
}

// VerifyEmail uses an e-mailed link that proves an address: a new account's,
// a new address for an account, or a registration's whose address an
// unverified account holds (that account is replaced). It returns the
// proven address.
func (s *Service) VerifyEmail(ctx context.Context, token string) (string, error) {
	var email string
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		row, err := s.spendEmailToken(tx, token, purposeVerify, purposeChangeEmail, purposeRegistration)
		if err != nil {
			return err
		}
		now := s.clock.Now()
		email = row.Email
		switch row.Purpose {
		case purposeVerify:
			res := tx.Model(&userRow{}).Where("id = ? AND email = ? AND replaced_at IS NULL", *row.UserID, row.Email).
				Updates(map[string]any{"email_verified_at": gorm.Expr("COALESCE(email_verified_at, ?)", now), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.New(apperr.Gone, "The account no longer uses this address.")
			}
			return nil
		case purposeChangeEmail:
			if err := s.releaseAddress(ctx, tx, row.Email, uuid.Nil); err != nil {
				return err
			}
			res := tx.Model(&userRow{}).Where("id = ? AND replaced_at IS NULL", *row.UserID).
				Updates(map[string]any{"email": row.Email, "email_verified_at": now, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.New(apperr.Gone, "The account no longer exists.")
			}
			return nil
		default: // purposeRegistration
			var p registrationPayload
			if row.Payload == nil || json.Unmarshal([]byte(*row.Payload), &p) != nil {
				return errors.New("account: registration link without its registration")
			}
			u, err := s.createPracticeReplacing(ctx, tx, p, row.Email)
			if err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{PracticeID: u.practiceID, Actor: u.userID, Action: "account.email_verified",
				RecordType: "user", RecordID: u.userID, At: now})
		}
	})
	return email, err
}

type createdOwner struct{ userID, practiceID uuid.UUID }

// createPracticeReplacing completes a registration whose address an
// unverified account held: that account is replaced, and the new owner's
// address is proven by the link just used.
func (s *Service) createPracticeReplacing(ctx context.Context, tx *gorm.DB, p registrationPayload, email string) (createdOwner, error) {
	if err := s.releaseAddress(ctx, tx, email, uuid.Nil); err != nil {
		return createdOwner{}, err
	}
	u, practice, err := s.createPractice(ctx, tx, p.PracticeName, p.Name, email, p.PasswordHash, true)
	if err != nil {
		return createdOwner{}, err
	}
	return createdOwner{userID: u.ID, practiceID: practice.ID}, nil
}

// releaseAddress frees email for the person who just proved it: an
// unverified account holding it is replaced — its address becomes a
// tombstone, its password unusable, its sessions revoked — and the
// replacement is audited in auditPractice (when not nil) and every practice
// the old account belonged to. A verified account holding it is a 409:
// someone else proved the address first.
func (s *Service) releaseAddress(ctx context.Context, tx *gorm.DB, email string, auditPractice uuid.UUID) error {
	holder, err := s.userByEmail(tx, email)
	if err != nil || holder.ID == uuid.Nil {
		return err
	}
	if holder.EmailVerifiedAt != nil {
		return apperr.New(apperr.Conflict, "Another account has proven this address in the meantime.")
	}
	now := s.clock.Now()
	res := tx.Model(&userRow{}).Where("id = ? AND email_verified_at IS NULL AND replaced_at IS NULL", holder.ID).
		Updates(map[string]any{"email": fmt.Sprintf("replaced+%s@replaced.invalid", holder.ID), "password_hash": "",
			"totp_secret": nil, "totp_enabled_at": nil, "replaced_at": now, "updated_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return apperr.New(apperr.Conflict, "This address changed hands in the meantime; try again.")
	}
	if err := revokeSessions(tx.Where("user_id = ?", holder.ID), now, "account replaced by the address's owner"); err != nil {
		return err
	}
	var practices []uuid.UUID
	if err := tx.Model(&membershipRow{}).Where("user_id = ?", holder.ID).Pluck("practice_id", &practices).Error; err != nil {
		return err
	}
	if auditPractice != uuid.Nil {
		practices = append(practices, auditPractice)
	}
	for _, pid := range practices {
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: pid, Action: "account.replaced_unverified",
			RecordType: "user", RecordID: holder.ID, At: now}); err != nil {
			return err
		}
	}
	return nil
}

// ResendVerification e-mails a new verification link to the actor's
// unverified address (a few an hour at most). A proven address gets nothing.
func (s *Service) ResendVerification(ctx context.Context, a auth.Actor) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Where("id = ?", a.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.EmailVerifiedAt != nil {
			return nil
		}
		var recent int64
		if err := tx.Model(&emailTokenRow{}).Where("user_id = ? AND purpose = ? AND created_at > ?",
			u.ID, purposeVerify, s.clock.Now().Add(-time.Hour)).Count(&recent).Error; err != nil {
			return err
		}
		if recent >= 5 {
			return &apperr.Error{Code: apperr.TooManyRequests, Message: "Several links went out in the last hour; use the latest one.",
				RetryAfter: 10 * time.Minute}
		}
		token, id, err := s.newEmailToken(tx, purposeVerify, &u.ID, u.Email, nil, verifyTTL)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("verify-email", id), Message: verifyMail(u.Email, s.linkURL(VerifyPath, token))})
	})
}

// ChangeEmail starts a change of address, which needs a fresh
// authentication: a link goes to the new address (the change happens when
// it is used) and the old address is told. Whether the new address has an
// account is never revealed: its owner gets an e-mail either way.
func (s *Service) ChangeEmail(ctx context.Context, a auth.Actor, newEmail string) error {
	if err := s.requireFresh(a); err != nil {
		return err
	}
	var fields apperr.Fields
	newEmail = input.Email(newEmail, "email", &fields)
	if err := fields.Err(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Where("id = ?", a.UserID).Take(&u).Error; err != nil {
			return err
		}
		if u.Email == newEmail {
			return apperr.Validation(apperr.FieldError{Field: "email", Message: "is already your address"})
		}
		holder, err := s.userByEmail(tx, newEmail)
		if err != nil {
			return err
		}
		// Either way one job goes to each address: the answer takes as
		// long whether or not the new address has an account.
		occurrence := newID()
		toNew := jobs.Mail{Key: jobs.Key("change-email", occurrence), Message: addressTakenMail(newEmail)}
		if holder.EmailVerifiedAt == nil {
			token, _, err := s.newEmailToken(tx, purposeChangeEmail, &u.ID, newEmail, nil, verifyTTL)
			if err != nil {
				return err
			}
			toNew.Message = confirmNewAddressMail(newEmail, s.linkURL(VerifyPath, token))
		}
		return s.enqueue(ctx, tx, toNew,
			jobs.Mail{Key: jobs.Key("change-email-notice", occurrence), Message: addressChangeNoticeMail(u.Email, newEmail)})
	})
}

// ErrStepUp asks for a fresh authentication (RFC 9470's
// insufficient_user_authentication) before an act that matters.
var ErrStepUp = &apperr.Error{Code: apperr.Unauthenticated, Reason: "insufficient_user_authentication",
	Message: "Confirm it is you: sign in again or send your password to /auth/reauth, then retry within 5 minutes."}

func (s *Service) requireFresh(a auth.Actor) error {
	if !a.FreshlyAuthenticated(s.clock.Now()) {
		return ErrStepUp
	}
	return nil
}

func confirmNewAddressMail(to, link string) tmail.Message {
	return tmail.Message{To: to, Subject: "Confirm your new e-mail address for Tandem",
		Text: fmt.Sprintf("Hello,\n\nTo make this the e-mail address of your Tandem account, open this link "+
			"(it works once, within %d hours):\n\n%s\n\nIf you did not ask for this, ignore this e-mail.\n", int(verifyTTL.Hours()), link)}
}

func addressTakenMail(to string) tmail.Message {
	return tmail.Message{To: to, Subject: "Someone tried to use your address on Tandem",
		Text: "Hello,\n\nSomeone asked to move another Tandem account to this e-mail address. " +
			"It already belongs to your account, so nothing changed. You need not do anything.\n"}
}

func addressChangeNoticeMail(to, newEmail string) tmail.Message {
	return tmail.Message{To: to, Subject: "Your Tandem e-mail address is being changed",
		Text: fmt.Sprintf("Hello,\n\nSomeone signed in to your Tandem account asked to change its e-mail address to %s. "+
			"The change happens only when that address confirms it.\n\n"+
			"If this was not you, reset your password now and sign out your other devices.\n", newEmail)}
}
