package account

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/input"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
)

// Invitation is an invitation to join a practice, with the link that
// accepts it. The link holds the token, which is stored only as a hash.
type Invitation struct {
	ID        uuid.UUID
	Email     string
	Role      auth.Role
	ExpiresAt time.Time
	AcceptURL string
}

// AcceptPath is where the web app's acceptance page lives; the token follows
// in the URL fragment so it never reaches server or proxy logs.
const AcceptPath = "/accept-invitation"

func (s *Service) acceptURL(token string) string {
	return s.baseURL + AcceptPath + "#token=" + token
}

// InviteCoach invites a coach by e-mail. Only the owner may. The e-mail is
// sent after the invitation is committed; if it fails, the owner still has
// the link to share by hand.
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
		var members int64
		if err := tx.Table("memberships AS m").Joins("JOIN users u ON u.id = m.user_id").
			Where("m.practice_id = ? AND u.email = ?", pid, email).Count(&members).Error; err != nil {
			return err
		}
		if members > 0 {
			return apperr.Validation(apperr.FieldError{Field: "email", Message: "already belongs to a member of this practice"})
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
		return audit.Record(ctx, tx, audit.Entry{PracticeID: pid, Actor: a.UserID, Action: "invitation.created",
			RecordType: "invitation", RecordID: inv.ID, At: now})
	})
	if err != nil {
		return Invitation{}, err
	}

	out := Invitation{ID: inv.ID, Email: inv.Email, Role: auth.Role(inv.Role), ExpiresAt: inv.ExpiresAt, AcceptURL: s.acceptURL(token)}
	msg := tmail.Message{
		To:      email,
		Subject: fmt.Sprintf("%s invites you to coach with %s on Tandem", inviterName, practiceName),
		Text: fmt.Sprintf("Hello,\n\n%s has invited you to join %s on Tandem as a coach.\n\n"+
			"Accept the invitation here (the link works once and expires on %s):\n\n%s\n\n"+
			"If you did not expect this e-mail, you can ignore it.\n",
			inviterName, practiceName, inv.ExpiresAt.Format("2 January 2006 15:04 MST"), out.AcceptURL),
	}
	if err := s.mailer.Send(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "invitation e-mail failed; the owner can share the link by hand",
			slog.String("invitation_id", inv.ID.String()), slog.String("error", err.Error()))
	}
	return out, nil
}

// Acceptance is what an invitee sends. Name is needed only for a new account.
type Acceptance struct {
	Token    string
	Name     *string
	Password string
}

// Invitee is a person accepting an invitation, checked before the
// transaction that links them: a new account's password is already hashed,
// an existing account's password already verified (both are slow).
type Invitee struct {
	Email      string
	existingID uuid.UUID
	name, hash string
}

// PrepareInvitee checks who is accepting an invitation sent to email: a new
// person needs a name and an acceptable password; a person who already has
// an account must give its password.
func (s *Service) PrepareInvitee(ctx context.Context, email string, name *string, password string) (Invitee, error) {
	var existing userRow
	err := s.db.DB.WithContext(ctx).Where("email = ?", email).Take(&existing).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return Invitee{}, err
	}
	if err == nil {
		// Checking an existing account's password is a sign-in: it spends
		// the account's login budget, or an invitation (which anyone can
		// create for any address) would be a password oracle.
		if err := s.limitAccount("login:" + email); err != nil {
			return Invitee{}, err
		}
		if !auth.VerifyPasswordOrDummy(existing.PasswordHash, password) {
			return Invitee{}, apperr.New(apperr.Unauthenticated,
				"An account with this e-mail already exists; enter its password to accept.")
		}
		return Invitee{Email: email, existingID: existing.ID}, nil
	}
	var fields apperr.Fields
	in := Invitee{Email: email}
	if name == nil {
		fields.Add("name", "is required for a new account")
	} else {
		in.name = input.Line(*name, "name", 200, &fields)
	}
	checkNewPassword(password, &fields)
	if err := fields.Err(); err != nil {
		return Invitee{}, err
	}
	if in.hash, err = auth.HashPassword(password); err != nil {
		return Invitee{}, err
	}
	return in, nil
}

// EnsureUser returns the invitee's user ID, creating the account in tx when
// the invitee is new.
func (s *Service) EnsureUser(tx *gorm.DB, in Invitee) (uuid.UUID, error) {
	if in.existingID != uuid.Nil {
		return in.existingID, nil
	}
	now := s.clock.Now()
	u := userRow{ID: newID(), Email: in.Email, Name: in.name, PasswordHash: in.hash, CreatedAt: now, UpdatedAt: now}
	if err := tx.Create(&u).Error; err != nil {
		if store.IsUniqueViolation(err) {
			return uuid.Nil, apperr.New(apperr.Conflict, "An account with this e-mail was just created; try again.")
		}
		return uuid.Nil, err
	}
	return u.ID, nil
}

// StartSession signs the user in to practiceID, in tx.
func (s *Service) StartSession(tx *gorm.DB, userID, practiceID uuid.UUID) (TokenPair, error) {
	return s.startSession(tx, userID, &practiceID)
}

// StartPracticelessSession signs the user in, in tx, to no practice: the
// session of a therapist, who reaches clients only through the consents
// naming them, never through a membership. Authenticate gives such a session
// no practice and no roles.
func (s *Service) StartPracticelessSession(tx *gorm.DB, userID uuid.UUID) (TokenPair, error) {
	return s.startSession(tx, userID, nil)
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
	invitee, err := s.PrepareInvitee(ctx, inv.Email, in.Name, in.Password)
	if err != nil {
		return TokenPair{}, err
	}

	var pair TokenPair
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		userID, err := s.EnsureUser(tx, invitee)
		if err != nil {
			return err
		}
		// Spend the invitation first, conditionally, so two concurrent
		// acceptances cannot both succeed.
		spent := tx.Model(&invitationRow{}).Where("id = ? AND accepted_at IS NULL AND expires_at > ?", inv.ID, now).
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
		pair, err = s.startSession(tx, userID, &inv.PracticeID)
		return err
	})
	return pair, err
}

// ErrNoSuchInvitation is returned for a token that names no coach invitation.
var ErrNoSuchInvitation = apperr.New(apperr.NotFound, "Invitation not found.")

func (s *Service) checkUsable(inv invitationRow) error {
	switch {
	case inv.AcceptedAt != nil:
		return apperr.New(apperr.Gone, "This invitation has already been used.")
	case !s.clock.Now().Before(inv.ExpiresAt):
		return apperr.New(apperr.Gone, "This invitation has expired; ask for a new one.")
	}
	return nil
}
