package account

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/store"
)

// Practice is a tenant as callers see it.
type Practice struct {
	ID         uuid.UUID
	Name       string
	RequireMFA bool
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ETag is the practice's version as an HTTP entity tag.
func (p Practice) ETag() string { return store.ETag(p.Version) }

func toPractice(r practiceRow) Practice {
	return Practice{ID: r.ID, Name: r.Name, RequireMFA: r.RequireMFA, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// Me is the signed-in user with their roles in the session's practice.
type Me struct {
	UserID               uuid.UUID
	Name                 string
	Email                string
	EmailVerified        bool
	MFAEnabled           bool
	MFAEnrolmentRequired bool
	Practice             *Practice
	Roles                []auth.Role
	// ClientID is the client record of a client's portal account, or uuid.Nil.
	ClientID uuid.UUID
}

// Me returns the actor's own account.
func (s *Service) Me(ctx context.Context, a auth.Actor) (Me, error) {
	db := s.db.DB.WithContext(ctx)
	var u userRow
	if err := db.Where("id = ?", a.UserID).Take(&u).Error; err != nil {
		return Me{}, notFoundIfMissing(err, "Account")
	}
	me := Me{UserID: u.ID, Name: u.Name, Email: u.Email, Roles: a.Roles, EmailVerified: u.EmailVerifiedAt != nil,
		MFAEnabled: u.TOTPEnabledAt != nil, MFAEnrolmentRequired: a.MFAEnrolmentRequired, ClientID: a.ClientID}
	if a.PracticeID != uuid.Nil {
		var p practiceRow
		if err := db.Where("id = ?", a.PracticeID).Take(&p).Error; err != nil {
			return Me{}, err
		}
		pr := toPractice(p)
		me.Practice = &pr
	}
	return me, nil
}

// Practice returns the actor's practice.
func (s *Service) Practice(ctx context.Context, a auth.Actor) (Practice, error) {
	pid, err := requirePractice(a)
	if err != nil {
		return Practice{}, err
	}
	var p practiceRow
	if err := s.db.DB.WithContext(ctx).Where("id = ?", pid).Take(&p).Error; err != nil {
		return Practice{}, notFoundIfMissing(err, "Practice")
	}
	return toPractice(p), nil
}

// PracticeChange is a partial update: nil fields stay as they are.
type PracticeChange struct {
	Name       *string
	RequireMFA *bool
	// IfMatch, when set, is the ETag the change is based on.
	IfMatch *string
}

// UpdatePractice changes practice settings. Only the owner may.
func (s *Service) UpdatePractice(ctx context.Context, a auth.Actor, c PracticeChange) (Practice, error) {
	pid, err := requirePractice(a)
	if err != nil {
		return Practice{}, err
	}
	if !a.Has(auth.RoleOwner) {
		return Practice{}, apperr.New(apperr.Forbidden, "Only the practice owner can change practice settings.")
	}
	var fields apperr.Fields
	set := map[string]any{}
	if c.Name != nil {
		set["name"] = input.Line(*c.Name, "name", 200, &fields)
	}
	if c.RequireMFA != nil {
		set["require_mfa"] = *c.RequireMFA
	}
	if err := fields.Err(); err != nil {
		return Practice{}, err
	}
	if len(set) == 0 {
		return Practice{}, apperr.Validation(apperr.FieldError{Field: "body", Message: "names no field to change"})
	}
	var out practiceRow
	err = s.db.Tx(ctx, func(tx *gorm.DB) error {
		now := s.clock.Now()
		if c.RequireMFA != nil && *c.RequireMFA {
			var enabled int64
			if err := tx.Model(&userRow{}).Where("id = ? AND totp_enabled_at IS NOT NULL", a.UserID).Count(&enabled).Error; err != nil {
				return err
			}
			if enabled == 0 {
				return apperr.New(apperr.Conflict, "Turn on two-step sign-in for yourself before requiring it of the practice.")
			}
		}
		var cur practiceRow
		if err := tx.Where("id = ?", pid).Take(&cur).Error; err != nil {
			return err
		}
		if err := store.CheckIfMatch(c.IfMatch, toPractice(cur).ETag()); err != nil {
			return err
		}
		if err := store.ApplyVersioned(tx.Model(&practiceRow{}).Where("id = ?", pid), cur.Version, set, now); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: pid, Actor: a.UserID, Action: "practice.updated",
			RecordType: "practice", RecordID: pid, At: now}); err != nil {
			return err
		}
		return tx.Where("id = ?", pid).Take(&out).Error
	})
	if err != nil {
		return Practice{}, err
	}
	return toPractice(out), nil
}

// Member is a user's membership of a practice.
type Member struct {
	MembershipID uuid.UUID
	UserID       uuid.UUID
	Name         string
	Email        string
	Role         auth.Role
	JoinedAt     time.Time
}

// Members lists the practice's owner and coaches, oldest first.
func (s *Service) Members(ctx context.Context, a auth.Actor, pr page.Request) ([]Member, *string, error) {
	pid, err := requirePractice(a)
	if err != nil {
		return nil, nil, err
	}
	type row struct {
		ID        uuid.UUID
		UserID    uuid.UUID
		Name      string
		Email     string
		Role      string
		CreatedAt time.Time
	}
	var rows []row
	q := s.db.DB.WithContext(ctx).Table("memberships AS m").
		Select("m.id, m.user_id, u.name, u.email, m.role, m.created_at").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.practice_id = ?", pid)
	if pr.After != uuid.Nil {
		q = q.Where("m.id > ?", pr.After)
	}
	if err := q.Order("m.id").Limit(pr.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r row) uuid.UUID { return r.ID })
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = Member{MembershipID: r.ID, UserID: r.UserID, Name: r.Name, Email: r.Email, Role: auth.Role(r.Role), JoinedAt: r.CreatedAt}
	}
	return out, next, nil
}
