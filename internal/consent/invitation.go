package consent

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

// inviteTherapist creates the single-use invitation of a pending consent's
// therapist, stored as a hash of its token, and returns the link that
// accepts it and the e-mail carrying the link. The invitation expires after
// InvitationTTL, or with the consent if that comes first.
func (s *Service) inviteTherapist(ctx context.Context, tx *gorm.DB, a auth.Actor, r consentRow, p Parties, now time.Time) (string, tmail.Message, error) {
	token, hash := auth.NewOpaqueToken()
	inv := invitationRow{ID: newID(), PracticeID: r.PracticeID, ConsentID: r.ID, Email: r.TherapistEmail, TokenHash: hash,
		ExpiresAt: now.Add(s.c.InvitationTTL), CreatedAt: now}
	if r.ExpiresAt.Before(inv.ExpiresAt) {
		inv.ExpiresAt = r.ExpiresAt
	}
	if err := tx.Create(&inv).Error; err != nil {
		return "", tmail.Message{}, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{PracticeID: r.PracticeID, Actor: a.UserID, Action: "therapist_invitation.created",
		RecordType: "therapist_invitation", RecordID: inv.ID, At: now}); err != nil {
		return "", tmail.Message{}, err
	}
	url := s.c.BaseURL + account.AcceptPath + "#token=" + token
	return url, invitationMail(p, toConsent(r, now), url, inv.ExpiresAt), nil
}

var errConsentNotPending = apperr.New(apperr.Gone,
	"The client revoked or replaced this consent, or it expired: the invitation no longer works.")

// AcceptInvitation spends a therapist's invitation: it creates the account
// (or checks an existing account's password), links it to the consent,
// which becomes active, and signs the therapist in to no practice — in one
// transaction. account.ErrNoSuchInvitation means the token is not a
// therapist's invitation.
func (s *Service) AcceptInvitation(ctx context.Context, in account.Acceptance) (account.TokenPair, error) {
	db := s.c.Store.DB.WithContext(ctx)
	var inv invitationRow
	err := db.Where("token_hash = ?", auth.HashOpaqueToken(in.Token)).Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return account.TokenPair{}, account.ErrNoSuchInvitation
	}
	if err != nil {
		return account.TokenPair{}, err
	}
	now := s.c.Clock.Now()
	switch {
	case inv.AcceptedAt != nil:
		return account.TokenPair{}, apperr.New(apperr.Gone, "This invitation has already been used.")
	case !now.Before(inv.ExpiresAt):
		return account.TokenPair{}, apperr.New(apperr.Gone, "This invitation has expired; ask the client to sign a new consent.")
	}
	var r consentRow
	if err := db.Where("practice_id = ? AND id = ?", inv.PracticeID, inv.ConsentID).Take(&r).Error; err != nil {
		return account.TokenPair{}, err
	}
	if effectiveStatus(r, now) != StatusPending {
		return account.TokenPair{}, errConsentNotPending
	}
	invitee, err := s.c.Accounts.PrepareInvitee(ctx, inv.Email, in.Name, in.Password)
	if err != nil {
		return account.TokenPair{}, err
	}

	var pair account.TokenPair
	var out Consent
	var parties Parties
	err = s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now()
		userID, err := s.c.Accounts.EnsureUser(tx, invitee)
		if err != nil {
			return err
		}
		// Spend the invitation first, conditionally, so that of two
		// concurrent acceptances exactly one succeeds.
		spent := tx.Model(&invitationRow{}).Where("id = ? AND accepted_at IS NULL AND expires_at > ?", inv.ID, now).
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
		out = toConsent(r, now)
		if parties, err = loadParties(tx, r); err != nil {
			return err
		}
		pair, err = s.c.Accounts.StartPracticelessSession(tx, userID)
		return err
	})
	if err != nil {
		return account.TokenPair{}, err
	}
	s.send(ctx, out.ID, []tmail.Message{activatedMail(parties, out)})
	return pair, nil
}
