package account

import (
	"context"
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
	"github.com/tandem-coach/tandem/internal/limits"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/store"
)

// Invitation statuses, as staff see them.
const (
	InvitationSent     = "sent"
	InvitationAccepted = "accepted"
	InvitationExpired  = "expired"
	InvitationReplaced = "replaced"
)

// InvitationStatus names where an invitation stands.
func InvitationStatus(acceptedAt, revokedAt *time.Time, expiresAt, now time.Time) string {
	switch {
	case acceptedAt != nil:
		return InvitationAccepted
	case revokedAt != nil:
		return InvitationReplaced
	case !now.Before(expiresAt):
		return InvitationExpired
	}
	return InvitationSent
}

// Invitation is an invitation to join a practice, as the owner sees it. Its
// link goes only to the invitee's e-mail.
type Invitation struct {
	ID         uuid.UUID
	Email      string
	Role       auth.Role
	Status     string
	SentAt     time.Time
	ExpiresAt  time.Time
	AcceptedAt *time.Time
}

func toInvitation(r invitationRow, now time.Time) Invitation {
	return Invitation{ID: r.ID, Email: r.Email, Role: auth.Role(r.Role), SentAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		AcceptedAt: r.AcceptedAt, Status: InvitationStatus(r.AcceptedAt, r.RevokedAt, r.ExpiresAt, now)}
}

// AcceptPath is where the web app's acceptance page lives; the token follows
// in the URL fragment so it never reaches server or proxy logs.
const AcceptPath = "/accept-invitation"

// AcceptURL is the link of an invitation e-mail.
func (s *Service) AcceptURL(token string) string { return s.linkURL(AcceptPath, token) }

// InviteCoach invites a coach by e-mail, or invites them again: a new
// invitation replaces the unused one. Only the owner may. The link goes out
// by e-mail only, queued in the same transaction.
func (s *Service) InviteCoach(ctx context.Context, a auth.Actor, email string) (Invitation, error) {
	pid, err := requirePractice(a)
	if err != nil {
		return Invitation{}, err
	}
	if !a.Has(auth.RoleOwner) {
		return Invitation{}, apperr.New(apperr.Forbidden, "Only the practice owner can invite coaches.")
	}
	var fields apperr.Fields
	email = input.Email(email, "email", &fields)
	if err := fields.Err(); err != nil {
		return Invitation{}, err
	}

	token, hash := auth.NewOpaqueToken()
	var inv invitationRow
	var practiceName, inviterName string
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		if err := s.CheckInvitationQuota(tx, pid, now); err != nil {
			return err
		}
		var members int64
		if err := tx.Table("memberships AS m").Joins("JOIN users u ON u.id = m.user_id").
			Where("m.practice_id = ? AND u.email = ?", pid, email).Count(&members).Error; err != nil {
			return err
		}
		if members > 0 {
			return apperr.Validation(apperr.FieldError{Field: "email", Message: "already belongs to a member of this practice"})
		}
		if err := tx.Model(&invitationRow{}).Where("practice_id = ? AND email = ? AND accepted_at IS NULL AND revoked_at IS NULL", pid, email).
			Update("revoked_at", now).Error; err != nil {
			return err
		}
		// Counted once the invitation it replaces is revoked: inviting the
		// same person again takes no second seat.
		if err := limits.Allow(ctx, s.limits, tx, pid, limits.Coaches); err != nil {
			return err
		}
		inv = invitationRow{ID: newID(), PracticeID: pid, Email: email, Role: string(auth.RoleCoach), TokenHash: hash,
			InvitedBy: a.UserID, ExpiresAt: now.Add(s.invitationTTL), CreatedAt: now}
		if err := tx.Create(&inv).Error; err != nil {
			return err
		}
		if err := tx.Model(&practiceRow{}).Where("id = ?", pid).Pluck("name", &practiceName).Error; err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ?", a.UserID).Pluck("name", &inviterName).Error; err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: pid, Actor: a.UserID, Action: "invitation.created",
			RecordType: "invitation", RecordID: inv.ID, At: now}); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, jobs.Mail{Key: jobs.Key("coach-invitation", inv.ID), About: jobs.About{PracticeID: inv.PracticeID}, Message: coachInvitationMail(email, inviterName, practiceName, inv.ExpiresAt, s.AcceptURL(token))})
	})
	if err != nil {
		return Invitation{}, err
	}
	return toInvitation(inv, s.clock.Now()), nil
}

// coachInvitationMail invites a coach to a practice.
func coachInvitationMail(email, inviterName, practiceName string, expires time.Time, acceptURL string) tmail.Message {
	return tmail.Message{
		To:      email,
		Subject: "You are invited to coach on Tandem",
		Text: fmt.Sprintf("Hello,\n\n%s has invited you to join %s on Tandem as a coach.\n\n"+
			"Accept the invitation here (the link works once and expires on %s):\n\n%s\n\n"+
			"If you did not expect this e-mail, you can ignore it.\n",
			inviterName, practiceName, expires.Format("2 January 2006 15:04 MST"), acceptURL),
	}
}

// ListInvitations lists the practice's coach invitations, newest first.
func (s *Service) ListInvitations(ctx context.Context, a auth.Actor, pr page.Request) ([]Invitation, *string, error) {
	pid, err := requirePractice(a)
	if err != nil {
		return nil, nil, err
	}
	q := s.db.DB.WithContext(ctx).Where("practice_id = ?", pid)
	if pr.After != uuid.Nil {
		q = q.Where("id < ?", pr.After)
	}
	var rows []invitationRow
	if err := q.Order("id DESC").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r invitationRow) uuid.UUID { return r.ID })
	now := s.clock.Now()
	out := make([]Invitation, len(rows))
	for i, r := range rows {
		out[i] = toInvitation(r, now)
	}
	return out, next, nil
}

// CheckInvitationQuota refuses, with 429, an invitation past the practice's
// daily cap of coach and portal invitations.
func (s *Service) CheckInvitationQuota(tx *gorm.DB, practiceID uuid.UUID, now time.Time) error {
	since := now.Add(-24 * time.Hour)
	var coaches, clients int64
	if err := tx.Model(&invitationRow{}).Where("practice_id = ? AND created_at > ?", practiceID, since).Count(&coaches).Error; err != nil {
		return err
	}
	if err := tx.Table("client_invitations").Where("practice_id = ? AND created_at > ?", practiceID, since).Count(&clients).Error; err != nil {
		return err
	}
	if coaches+clients >= int64(s.invitesPerDay) {
		return &apperr.Error{Code: apperr.TooManyRequests, Reason: "daily_limit",
			Message:    fmt.Sprintf("This practice has sent %d invitations in the last 24 hours, its daily limit; try again later.", s.invitesPerDay),
			RetryAfter: time.Hour}
	}
	return nil
}

// Acceptance is what an invitee sends. Name is needed only for a new account.
type Acceptance struct {
	Token    string
	Name     *string
	Password string
	TOTPCode *string
}

// Invitee is a person accepting an invitation sent to Email, checked before
// the transaction that links them: a new account's password is already
// hashed, an existing account's password already verified (both are slow).
// Holding the e-mailed token proves the address.
type Invitee struct {
	Email      string
	existingID uuid.UUID // a verified account that holds the address and whose password was given
	replaces   uuid.UUID // an unverified account that holds the address and is replaced
	name, hash string
}

// PrepareInvitee checks who is accepting an invitation sent to email. A
// verified account's holder gives its password (and, in the transaction, a
// TOTP code when MFA is on). Otherwise a name and an acceptable password
// create a new account; an unverified account holding the address is
// replaced, whatever password it had: whoever created it never proved the
// address, and must not share the account of the person who just did.
func (s *Service) PrepareInvitee(ctx context.Context, in Acceptance, email string) (Invitee, error) {
	existing, err := s.userByEmail(s.db.DB.WithContext(ctx), email)
	if err != nil {
		return Invitee{}, err
	}
	if existing.EmailVerifiedAt != nil {
		keys := s.loginKeys(ctx, email)
		if err := s.checkBackoff(ctx, existing.ID, keys); err != nil {
			return Invitee{}, err
		}
		if !auth.VerifyPasswordOrDummy(existing.PasswordHash, in.Password) {
			s.failed(ctx, keys)
			return Invitee{}, apperr.New(apperr.Unauthenticated,
				"This address already has an account; enter its password to accept (or reset it first).")
		}
		s.succeeded(ctx, keys)
		if existing.TOTPEnabledAt != nil && in.TOTPCode == nil {
			return Invitee{}, apperr.Validation(apperr.FieldError{Field: "totp_code",
				Message: "is required: two-step sign-in is on for this account"})
		}
		return Invitee{Email: email, existingID: existing.ID}, nil
	}
	var fields apperr.Fields
	out := Invitee{Email: email, replaces: existing.ID}
	if in.Name == nil {
		fields.Add("name", "is required for a new account")
	} else {
		out.name = input.Line(*in.Name, "name", 200, &fields)
	}
	checkNewPassword(in.Password, &fields)
	if err := fields.Err(); err != nil {
		return Invitee{}, err
	}
	if out.hash, err = auth.HashPassword(in.Password); err != nil {
		return Invitee{}, err
	}
	return out, nil
}

// EnsureUser returns the invitee's user ID, in tx: an existing verified
// account (checking its second factor), or a new one with a proven address,
// replacing an unverified holder of the address (audited in practiceID).
func (s *Service) EnsureUser(ctx context.Context, tx *gorm.DB, in Invitee, totpCode *string, practiceID uuid.UUID) (uuid.UUID, error) {
	now := s.clock.Now()
	if in.existingID != uuid.Nil {
		var u userRow
		if err := tx.Where("id = ? AND replaced_at IS NULL", in.existingID).Take(&u).Error; err != nil {
			return uuid.Nil, err
		}
		if u.TOTPEnabledAt != nil {
			if totpCode == nil {
				return uuid.Nil, apperr.Validation(apperr.FieldError{Field: "totp_code", Message: "is required: two-step sign-in is on for this account"})
			}
			if _, err := s.secondFactor(tx, u.ID, *totpCode); err != nil {
				return uuid.Nil, err
			}
		}
		return u.ID, nil
	}
	if in.replaces != uuid.Nil {
		if err := s.releaseAddress(ctx, tx, in.Email, practiceID); err != nil {
			return uuid.Nil, err
		}
	}
	u := userRow{ID: newID(), Email: in.Email, Name: in.name, PasswordHash: in.hash, EmailVerifiedAt: &now, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&u).Error; err != nil {
		if store.IsUniqueViolation(err) {
			return uuid.Nil, apperr.New(apperr.Conflict, "An account with this e-mail was just created; try again.")
		}
		return uuid.Nil, err
	}
	return u.ID, nil
}

// StartSession signs the user in to practiceID, in tx, right after they
// accepted an invitation with their password.
func (s *Service) StartSession(ctx context.Context, tx *gorm.DB, userID, practiceID uuid.UUID) (TokenPair, error) {
	return s.startSession(ctx, tx, userID, &practiceID, auth.MethodPassword)
}

// StartPracticelessSession signs the user in, in tx, to no practice: the
// session of a therapist, who reaches clients only through the consents
// naming them, never through a membership. Authenticate gives such a session
// no practice and no roles.
func (s *Service) StartPracticelessSession(ctx context.Context, tx *gorm.DB, userID uuid.UUID) (TokenPair, error) {
	return s.startSession(ctx, tx, userID, nil, auth.MethodPassword)
}

// AcceptInvitation spends a coach invitation: it creates the account (or, for
// an address that already has one, checks its password), adds the
// membership, and starts a session in the inviting practice — in one
// transaction. ErrNoSuchInvitation means the token is not a coach invitation.
func (s *Service) AcceptInvitation(ctx context.Context, in Acceptance) (TokenPair, error) {
	var inv invitationRow
	if err := s.db.DB.WithContext(ctx).Where("token_hash = ?", auth.HashOpaqueToken(in.Token)).Take(&inv).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return TokenPair{}, ErrNoSuchInvitation
		}
		return TokenPair{}, err
	}
	if err := s.checkUsable(inv); err != nil {
		return TokenPair{}, err
	}
	invitee, err := s.PrepareInvitee(ctx, in, inv.Email)
	if err != nil {
		return TokenPair{}, err
	}

	var pair TokenPair
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		userID, err := s.EnsureUser(ctx, tx, invitee, in.TOTPCode, inv.PracticeID)
		if err != nil {
			return err
		}
		// Spend the invitation first, conditionally, so two concurrent
		// acceptances cannot both succeed.
		spent := tx.Model(&invitationRow{}).Where("id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", inv.ID, now).
			Updates(map[string]any{"accepted_at": now, "accepted_by": userID})
		if spent.Error != nil {
			return spent.Error
		}
		if spent.RowsAffected == 0 {
			return apperr.New(apperr.Gone, "This invitation has already been used or has expired.")
		}
		m := membershipRow{ID: newID(), PracticeID: inv.PracticeID, UserID: userID, Role: inv.Role, CreatedAt: now}
		if err := tx.Create(&m).Error; err != nil {
			if store.IsUniqueViolation(err) {
				return apperr.New(apperr.Conflict, "This account is already a member of the practice.")
			}
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: inv.PracticeID, Actor: userID, Action: "invitation.accepted",
			RecordType: "invitation", RecordID: inv.ID, At: now}); err != nil {
			return err
		}
		pair, err = s.startSession(ctx, tx, userID, &inv.PracticeID, auth.MethodPassword)
		return err
	})
	return pair, err
}

// CheckInvitation says whether a token names a coach invitation that could
// still be accepted: nil if so, ErrNoSuchInvitation if it names none, 410
// if it is spent, replaced or expired. It changes nothing.
func (s *Service) CheckInvitation(ctx context.Context, token string) error {
	var inv invitationRow
	if err := s.db.DB.WithContext(ctx).Where("token_hash = ?", auth.HashOpaqueToken(token)).Take(&inv).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNoSuchInvitation
		}
		return err
	}
	return s.checkUsable(inv)
}

// ErrNoSuchInvitation is returned for a token that names no coach invitation.
var ErrNoSuchInvitation = apperr.New(apperr.NotFound, "Invitation not found.")

func (s *Service) checkUsable(inv invitationRow) error {
	switch {
	case inv.AcceptedAt != nil:
		return apperr.New(apperr.Gone, "This invitation has already been used.")
	case inv.RevokedAt != nil:
		return apperr.New(apperr.Gone, "This invitation was replaced by a newer one; use the latest e-mail.")
	case !s.clock.Now().Before(inv.ExpiresAt):
		return apperr.New(apperr.Gone, "This invitation has expired; ask for a new one.")
	}
	return nil
}
