package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/jobs"
)

// DefaultConsentsPerDay caps the consents and consent requests a practice
// records in 24 hours.
const DefaultConsentsPerDay = 50

// invitationExpiry is when a new consent's therapist invitation expires:
// after InvitationTTL, or with the consent if that comes first.
func (s *Service) invitationExpiry(r consentRow, now time.Time) time.Time {
	until := now.Add(s.c.InvitationTTL)
	if r.ExpiresAt.Before(until) {
		return r.ExpiresAt
	}
	return until
}

// inviteTherapist creates the single-use invitation of a pending consent's
// therapist, stored as a hash of its token, and returns the e-mail carrying
// its link (the only place the link ever appears) for the caller to queue.
func (s *Service) inviteTherapist(ctx context.Context, tx *gorm.DB, a auth.Actor, r consentRow, p Parties, now time.Time) (jobs.Mail, error) {
	token, hash := auth.NewOpaqueToken()
	inv := invitationRow{ID: newID(), PracticeID: r.PracticeID, ConsentID: r.ID, Email: r.TherapistEmail, TokenHash: hash,
		ExpiresAt: *r.InvitationExpiresAt, CreatedAt: now}
	if err := tx.Create(&inv).Error; err != nil {
		return jobs.Mail{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{PracticeID: r.PracticeID, Actor: a.UserID, Action: "therapist_invitation.created",
		RecordType: "therapist_invitation", RecordID: inv.ID, At: now}); err != nil {
		return jobs.Mail{}, err
	}
	return jobs.Mail{Key: jobs.Key("consent-invitation", inv.ID),
		Message: invitationMail(p, toConsent(r, now), s.c.Accounts.AcceptURL(token), inv.ExpiresAt)}, nil
}

// checkQuota refuses, with 429, a consent or request past the practice's
// daily cap.
func (s *Service) checkQuota(tx *gorm.DB, practiceID uuid.UUID) error {
	limit := s.c.ConsentsPerDay
	if limit == 0 {
		limit = DefaultConsentsPerDay
	}
	var n int64
	if err := tx.Model(&consentRow{}).Where("practice_id = ? AND created_at > ?", practiceID, s.c.Clock.Now().Add(-24*time.Hour)).
		Count(&n).Error; err != nil {
		return err
	}
	if n >= int64(limit) {
		return &apperr.Error{Code: apperr.TooManyRequests, Reason: "daily_limit",
			Message:    fmt.Sprintf("This practice has recorded %d consents in the last 24 hours, its daily limit; try again later.", limit),
			RetryAfter: time.Hour}
	}
	return nil
}

// unspent selects, by id and the time now, an invitation still neither
// accepted nor declined, and unexpired.
const unspent = "id = ? AND accepted_at IS NULL AND declined_at IS NULL AND expires_at > ?"

var errConsentNotPending = apperr.New(apperr.Gone,
	"The client revoked or replaced this consent, or it expired: the invitation no longer works.")

// usableInvitation finds the therapist's invitation a token names and its
// consent, and checks both can still be answered: the invitation unspent
// and unexpired, the consent pending.
func (s *Service) usableInvitation(ctx context.Context, token string) (invitationRow, consentRow, error) {
	db := s.c.Store.DB.WithContext(ctx)
	var inv invitationRow
	err := db.Where("token_hash = ?", auth.HashOpaqueToken(token)).Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return inv, consentRow{}, account.ErrNoSuchInvitation
	}
	if err != nil {
		return inv, consentRow{}, err
	}
	now := s.c.Clock.Now()
	switch {
	case inv.AcceptedAt != nil || inv.DeclinedAt != nil:
		return inv, consentRow{}, apperr.New(apperr.Gone, "This invitation has already been used.")
	case !now.Before(inv.ExpiresAt):
		return inv, consentRow{}, apperr.New(apperr.Gone, "This invitation has expired; ask the client to sign a new consent.")
	}
	var r consentRow
	if err := db.Where("practice_id = ? AND id = ?", inv.PracticeID, inv.ConsentID).Take(&r).Error; err != nil {
		return inv, r, err
	}
	if effectiveStatus(r, now) != StatusPending {
		return inv, r, errConsentNotPending
	}
	return inv, r, nil
}

// AcceptInvitation spends a therapist's invitation: it creates the account
// (or checks an existing account's password, and second factor), links it to
// the consent, which becomes active, and signs the therapist in to no
// practice — in one transaction. Holding the e-mailed token proves the
// address the consent names, so only its owner can activate the consent.
// account.ErrNoSuchInvitation means the token is not a therapist's
// invitation.
func (s *Service) AcceptInvitation(ctx context.Context, in account.Acceptance) (account.TokenPair, error) {
	inv, r, err := s.usableInvitation(ctx, in.Token)
	if err != nil {
		return account.TokenPair{}, err
	}
	invitee, err := s.c.Accounts.PrepareInvitee(ctx, in, inv.Email)
	if err != nil {
		return account.TokenPair{}, err
	}

	var pair account.TokenPair
	err = s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		userID, err := s.c.Accounts.EnsureUser(ctx, tx, invitee, in.TOTPCode, r.PracticeID)
		if err != nil {
			return err
		}
		// Spend the invitation first, conditionally, so that of two
		// concurrent acceptances exactly one succeeds.
		spent := tx.Model(&invitationRow{}).Where(unspent, inv.ID, now).
			Updates(map[string]any{"accepted_at": now, "accepted_by": userID})
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 {
			return apperr.New(apperr.Gone, "This invitation has already been used or has expired.")
		}
		linked := tx.Model(&consentRow{}).
			Where("practice_id = ? AND id = ? AND status = ? AND expires_at > ?", r.PracticeID, r.ID, StatusPending, now).
			Updates(map[string]any{"status": StatusActive, "therapist_user_id": userID, "activated_at": now, "updated_at": now})
		if linked.Error != nil {
			return linked.Error
		}
		if linked.RowsAffected == 0 {
			return errConsentNotPending
		}
		if err := tx.Where("practice_id = ? AND id = ?", r.PracticeID, r.ID).Take(&r).Error; err != nil {
			return err
		}
		if err := s.record(ctx, tx, r, userID, "consent.activated", now); err != nil {
			return err
		}
		parties, err := loadParties(tx, r)
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, r, jobs.Mail{Key: jobs.Key("consent-activated", r.ID),
			Message: activatedMail(parties, toConsent(r, now))}); err != nil {
			return err
		}
		pair, err = s.c.Accounts.StartPracticelessSession(ctx, tx, userID)
		return err
	})
	if err != nil {
		return account.TokenPair{}, err
	}
	return pair, nil
}

// DeclineInvitation spends a therapist's invitation without an account:
// the consent it invites to becomes declined, in one transaction, audited,
// and the client's coach is told by the same e-mail Decline queues. Holding
// the e-mailed token proves the address the consent names, as for
// acceptance; nothing about the therapist is stored beyond what the client
// already wrote. account.ErrNoSuchInvitation means the token is not a
// therapist's invitation.
func (s *Service) DeclineInvitation(ctx context.Context, token string) error {
	inv, r, err := s.usableInvitation(ctx, token)
	if err != nil {
		return err
	}
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		// A declined invitation is spent like an accepted one, by nobody,
		// and its consent declined. Conditional, so that of a decline and
		// an acceptance racing exactly one succeeds.
		spent := tx.Model(&invitationRow{}).Where(unspent, inv.ID, now).
			Updates(map[string]any{"declined_at": now})
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 {
			return apperr.New(apperr.Gone, "This invitation has already been used or has expired.")
		}
		declined := tx.Model(&consentRow{}).
			Where("practice_id = ? AND id = ? AND status = ? AND expires_at > ?", r.PracticeID, r.ID, StatusPending, now).
			Updates(map[string]any{"status": StatusDeclined, "declined_at": now, "updated_at": now})
		if declined.Error != nil {
			return declined.Error
		}
		if declined.RowsAffected == 0 {
			return errConsentNotPending
		}
		if err := tx.Where("practice_id = ? AND id = ?", r.PracticeID, r.ID).Take(&r).Error; err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: r.PracticeID, Action: "therapist_invitation.declined",
			RecordType: "therapist_invitation", RecordID: inv.ID, At: now}); err != nil {
			return err
		}
		// No account acts: the audit names none, and the event's IP and
		// request ID say where the decline came from.
		if err := s.record(ctx, tx, r, uuid.Nil, "consent.declined", now); err != nil {
			return err
		}
		parties, err := loadParties(tx, r)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, r, jobs.Mail{Key: jobs.Key("consent.declined", r.ID),
			Message: declinedMail(parties, toConsent(r, now))})
	})
}
