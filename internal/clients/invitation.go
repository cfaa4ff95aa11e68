package clients

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
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
)

// Invitation is a portal invitation as staff see it: when it was sent,
// accepted or expired. Its link goes only to the client's e-mail, so that
// nobody but the client can set their password.
type Invitation struct {
	ID         uuid.UUID
	Email      string
	Status     string
	SentAt     time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
}

func toInvitation(r invitationRow, now time.Time) Invitation {
	return Invitation{ID: r.ID, Email: r.Email, SentAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, AcceptedAt: r.AcceptedAt,
		Status: account.InvitationStatus(r.AcceptedAt, r.RevokedAt, r.ExpiresAt, now)}
}

// LatestInvitation returns the client's latest portal invitation, for the
// client's coach and the owner.
func (s *Service) LatestInvitation(ctx context.Context, a auth.Actor, clientID uuid.UUID) (Invitation, error) {
	if !CanManage(a) {
		return Invitation{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may see invitations.")
	}
	var inv invitationRow
	err := s.c.Store.DB.WithContext(ctx).Where("practice_id = ? AND client_id IN (?)", a.PracticeID,
		Scope(s.c.Store.DB.WithContext(ctx).Table("clients"), a).Where("clients.id = ?", clientID).Select("clients.id")).
		Order("id DESC").Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Invitation{}, apperr.New(apperr.NotFound, "This client has no portal invitation.")
	}
	if err != nil {
		return Invitation{}, err
	}
	return toInvitation(inv, s.c.Clock.Now()), nil
}

// Invite invites the client to the portal at their e-mail address, or
// invites them again: a new invitation revokes any unused earlier one. The
// e-mail is queued in the same transaction, and the link is only in it.
func (s *Service) Invite(ctx context.Context, a auth.Actor, clientID uuid.UUID) (Invitation, error) {
	if !CanManage(a) {
		return Invitation{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may invite a client.")
	}
	token, hash := auth.NewOpaqueToken()
	var inv invitationRow
	var clientName, coachName, practiceName string
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		var c clientRow
		if err := Scope(tx.Table("clients"), a).Where("clients.id = ?", clientID).Take(&c).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		switch {
		case c.UserID != nil:
			return apperr.New(apperr.Conflict, "This client already has a portal account.")
		case c.Status == StatusArchived:
			return apperr.New(apperr.Conflict, "This client is archived; restore them before inviting.")
		case c.Email == nil:
			return apperr.Validation(apperr.FieldError{Field: "email", Message: "the client has no e-mail address; add one first"})
		}
		now := s.c.Clock.Now()
		if err := s.c.Accounts.CheckInvitationQuota(tx, a.PracticeID, now); err != nil {
			return err
		}
		if err := tx.Model(&invitationRow{}).
			Where("practice_id = ? AND client_id = ? AND accepted_at IS NULL AND revoked_at IS NULL", a.PracticeID, clientID).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		inv = invitationRow{ID: newID(), PracticeID: a.PracticeID, ClientID: clientID, Email: *c.Email, TokenHash: hash,
			InvitedBy: a.UserID, ExpiresAt: now.Add(s.c.InvitationTTL), CreatedAt: now}
		if err := tx.Create(&inv).Error; err != nil {
			return err
		}
		clientName = c.Name
		if err := tx.Table("users").Where("id = ?", c.CoachID).Pluck("name", &coachName).Error; err != nil {
			return err
		}
		if err := tx.Table("practices").Where("id = ?", a.PracticeID).Pluck("name", &practiceName).Error; err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: "client.invited",
			RecordType: "client", RecordID: clientID, At: now}); err != nil {
			return err
		}
		return jobs.EnqueueMail(ctx, s.c.Store, tx, jobs.Mail{Key: jobs.Key("client-invitation", inv.ID),
			About:   jobs.About{PracticeID: a.PracticeID, ClientID: clientID},
			Message: portalInvitationMail(inv, clientName, coachName, practiceName, s.c.Accounts.AcceptURL(token))})
	})
	if err != nil {
		return Invitation{}, err
	}
	return toInvitation(inv, s.c.Clock.Now()), nil
}

// portalInvitationMail invites a client to the portal.
func portalInvitationMail(inv invitationRow, clientName, coachName, practiceName, acceptURL string) tmail.Message {
	return tmail.Message{
		To:      inv.Email,
		Subject: "Your coaching space on Tandem is ready",
		Text: fmt.Sprintf("Hello %s,\n\n%s of %s has invited you to Tandem, where you can see your sessions "+
			"and check off the action steps you agree on together.\n\n"+
			"Open this link to set your password (it works once and expires on %s):\n\n%s\n\n"+
			"You decide what is shared: nothing goes to anyone else without your consent.\n",
			clientName, coachName, practiceName, inv.ExpiresAt.Format("2 January 2006 15:04 MST"), acceptURL),
	}
}

// usableInvitation finds the portal invitation a token names and checks it
// can still be accepted: account.ErrNoSuchInvitation if the token names
// none, 410 if it is spent, replaced or expired.
func (s *Service) usableInvitation(ctx context.Context, token string) (invitationRow, error) {
	var inv invitationRow
	err := s.c.Store.DB.WithContext(ctx).Where("token_hash = ?", auth.HashOpaqueToken(token)).Take(&inv).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return inv, account.ErrNoSuchInvitation
	}
	if err != nil {
		return inv, err
	}
	switch now := s.c.Clock.Now(); {
	case inv.AcceptedAt != nil:
		return inv, apperr.New(apperr.Gone, "This invitation has already been used.")
	case inv.RevokedAt != nil:
		return inv, apperr.New(apperr.Gone, "This invitation was replaced by a newer one; use the latest e-mail.")
	case !now.Before(inv.ExpiresAt):
		return inv, apperr.New(apperr.Gone, "This invitation has expired; ask your coach for a new one.")
	}
	return inv, nil
}

// CheckInvitation says whether a token names a portal invitation that could
// still be accepted: nil if so, account.ErrNoSuchInvitation if it names
// none, 410 if it is spent, replaced or expired. It changes nothing.
func (s *Service) CheckInvitation(ctx context.Context, token string) error {
	_, err := s.usableInvitation(ctx, token)
	return err
}

// AcceptInvitation spends a portal invitation: it creates the account (or
// checks an existing account's password), links it to exactly that client
// record, and signs the client in — in one transaction.
// account.ErrNoSuchInvitation means the token is not a portal invitation.
func (s *Service) AcceptInvitation(ctx context.Context, in account.Acceptance) (account.TokenPair, error) {
	inv, err := s.usableInvitation(ctx, in.Token)
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
		userID, err := s.c.Accounts.EnsureUser(ctx, tx, invitee, in.TOTPCode, inv.PracticeID)
		if err != nil {
			return err
		}
		var staff int64
		if err := tx.Table("memberships").Where("practice_id = ? AND user_id = ?", inv.PracticeID, userID).Count(&staff).Error; err != nil {
			return err
		}
		if staff > 0 {
			return apperr.New(apperr.Conflict, "A member of the practice's team cannot also be its client.")
		}
		spent := tx.Model(&invitationRow{}).
			Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", inv.ID, now).
			Updates(map[string]any{"accepted_at": now, "accepted_by": userID})
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 {
			return apperr.New(apperr.Gone, "This invitation has already been used or has expired.")
		}
		linked := tx.Model(&clientRow{}).
			Where("practice_id = ? AND id = ? AND user_id IS NULL AND status <> ?", inv.PracticeID, inv.ClientID, StatusArchived).
			Updates(map[string]any{"user_id": userID, "updated_at": now, "version": gorm.Expr("version + 1")})
		if linked.Error != nil {
			if store.IsUniqueViolation(linked.Error) {
				return apperr.New(apperr.Conflict, "This account is already linked to another client of the practice.")
			}
			return linked.Error
		}
		if linked.RowsAffected == 0 {
			return apperr.New(apperr.Conflict, "This client record already has a portal account or is archived.")
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: inv.PracticeID, Actor: userID, Action: "client.portal_linked",
			RecordType: "client", RecordID: inv.ClientID, At: now}); err != nil {
			return err
		}
		pair, err = s.c.Accounts.StartSession(ctx, tx, userID, inv.PracticeID)
		return err
	})
	return pair, err
}
