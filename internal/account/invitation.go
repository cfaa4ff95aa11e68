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
	email = normalizeEmail(email, "email", &fields)
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

// AcceptInvitation spends an invitation: it creates the account (or, for an
// address that already has one, checks its password), adds the membership,
// and starts a session in the inviting practice — in one transaction.
func (s *Service) AcceptInvitation(ctx context.Context, in Acceptance) (TokenPair, error) {
	hash := auth.HashOpaqueToken(in.Token)
	db := s.db.DB.WithContext(ctx)
	var inv invitationRow
	if err := db.Where("token_hash = ?", hash).Take(&inv).Error; err != nil {
		return TokenPair{}, notFoundIfMissing(err, "Invitation")
	}
	if err := s.checkUsable(inv); err != nil {
		return TokenPair{}, err
	}

	// Hash or verify the password before the transaction: it is slow work.
	var existing userRow
	err := db.Where("email = ?", inv.Email).Take(&existing).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return TokenPair{}, err
	}
	newUser := err != nil
	var hashed, name string
	if newUser {
		var fields apperr.Fields
		if in.Name == nil {
			fields.Add("name", "is required for a new account")
		} else {
			name = cleanName(*in.Name, "name", &fields)
		}
		checkNewPassword(in.Password, &fields)
		if err := fields.Err(); err != nil {
			return TokenPair{}, err
		}
		if hashed, err = auth.HashPassword(in.Password); err != nil {
			return TokenPair{}, err
		}
	} else {
		// Checking an existing account's password is a sign-in: it spends
		// the account's login budget, or an invitation (which anyone can
		// create for any address) would be a password oracle.
		if err := s.limitAccount("login:" + inv.Email); err != nil {
			return TokenPair{}, err
		}
		if !auth.VerifyPasswordOrDummy(existing.PasswordHash, in.Password) {
			return TokenPair{}, apperr.New(apperr.Unauthenticated,
				"An account with this e-mail already exists; enter its password to accept.")
		}
	}

	var pair TokenPair
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		userID := existing.ID
		if newUser {
			u := userRow{ID: newID(), Email: inv.Email, Name: name, PasswordHash: hashed, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&u).Error; err != nil {
				if store.IsUniqueViolation(err) {
					return apperr.New(apperr.Conflict, "An account with this e-mail was just created; try again.")
				}
				return err
			}
			userID = u.ID
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
		var err error
		pair, err = s.startSession(tx, userID, &inv.PracticeID)
		return err
	})
	return pair, err
}

func (s *Service) checkUsable(inv invitationRow) error {
	switch {
	case inv.AcceptedAt != nil:
		return apperr.New(apperr.Gone, "This invitation has already been used.")
	case !s.clock.Now().Before(inv.ExpiresAt):
		return apperr.New(apperr.Gone, "This invitation has expired; ask for a new one.")
	}
	return nil
}
