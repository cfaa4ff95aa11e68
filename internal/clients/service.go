// Package clients is the coaching relationship's anchor: the people a
// practice coaches, who coaches them, and their portal accounts.
package clients

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/limits"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/webhooks"
)

// Client statuses.
const (
	StatusActive   = "active"
	StatusPaused   = "paused"
	StatusArchived = "archived"
)

// Portal account states.
const (
	PortalNone    = "none"
	PortalInvited = "invited"
	PortalActive  = "active"
)

// Client is a coached person as callers see them.
type Client struct {
	ID        uuid.UUID
	CoachID   uuid.UUID
	Name      string
	Email     *string
	Phone     *string
	Timezone  string
	Status    string
	Portal    string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ETag is the client's HTTP entity tag: its version, and the state of their
// portal account, which invitations change rather than the record.
func (c Client) ETag() string { return store.ETag(c.Version, c.Portal) }

// matchedVersion applies an If-Match to the client as the actor sees them
// and returns the version a change must find (store.AnyVersion without one).
func (s *Service) matchedVersion(tx *gorm.DB, a auth.Actor, id uuid.UUID, ifMatch *string) (int64, error) {
	if ifMatch == nil {
		return store.AnyVersion, nil
	}
	c, err := s.load(tx, a, id)
	if err != nil {
		return 0, err
	}
	return c.Version, store.CheckIfMatch(ifMatch, c.ETag())
}

// Config is what the clients service needs.
type Config struct {
	Store    *store.Store
	Accounts *account.Service
	// Mailer is unused: the portal invitation is a job (package jobs).
	//
	// Deprecated: leave it out.
	Mailer        tmail.Mailer
	Clock         clock.Clock
	Log           *slog.Logger
	BaseURL       string
	InvitationTTL time.Duration
	// Limits bounds the practice's active clients; nil: no limit.
	Limits limits.Checker
}

// Service runs client operations; each is one transaction.
type Service struct{ c Config }

// NewService returns the clients service.
func NewService(c Config) *Service { return &Service{c: c} }

// selectClient reads a client with its portal state.
func (s *Service) selectClient(q *gorm.DB) *gorm.DB {
	return q.Select(`clients.*, CASE WHEN clients.user_id IS NOT NULL THEN 'active'
		WHEN EXISTS (SELECT 1 FROM client_invitations i WHERE i.practice_id = clients.practice_id AND i.client_id = clients.id
			AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?) THEN 'invited'
		ELSE 'none' END AS portal`, s.c.Clock.Now())
}

func toClient(r clientRow) Client {
	return Client{ID: r.ID, CoachID: r.CoachID, Name: r.Name, Email: r.Email, Phone: r.Phone, Timezone: r.Timezone,
		Status: r.Status, Portal: r.Portal, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func (s *Service) load(db *gorm.DB, a auth.Actor, id uuid.UUID) (Client, error) {
	var r clientRow
	err := s.selectClient(Scope(db.Table("clients"), a)).Where("clients.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Client{}, ErrNotFound
	}
	if err != nil {
		return Client{}, err
	}
	return toClient(r), nil
}

// Get returns a client the actor may see.
func (s *Service) Get(ctx context.Context, a auth.Actor, id uuid.UUID) (Client, error) {
	return s.load(s.c.Store.DB.WithContext(ctx), a, id)
}

// List returns the clients the actor coaches (all, for the owner), oldest
// first. Archived clients appear only when status asks for them.
func (s *Service) List(ctx context.Context, a auth.Actor, status *string, pr page.Request) ([]Client, *string, error) {
	q := Scope(s.c.Store.DB.WithContext(ctx).Table("clients"), a)
	if status != nil {
		q = q.Where("clients.status = ?", *status)
	} else {
		q = q.Where("clients.status <> ?", StatusArchived)
	}
	if pr.After != uuid.Nil {
		q = q.Where("clients.id > ?", pr.After)
	}
	var rows []clientRow
	if err := s.selectClient(q).Order("clients.id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r clientRow) uuid.UUID { return r.ID })
	out := make([]Client, len(rows))
	for i, r := range rows {
		out[i] = toClient(r)
	}
	return out, next, nil
}

// NewClient is what a coach sends to add a client.
type NewClient struct {
	Name     string
	Email    *string
	Phone    *string
	Timezone *string
	CoachID  *uuid.UUID
}

// Create adds a client. A coach's client is theirs; the owner may assign
// any owner or coach of the practice.
func (s *Service) Create(ctx context.Context, a auth.Actor, in NewClient) (Client, error) {
	if !CanManage(a) {
		return Client{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may add clients.")
	}
	var fields apperr.Fields
	row := clientRow{ID: newID(), PracticeID: a.PracticeID, CoachID: a.UserID, Status: StatusActive, Version: 1}
	row.Name = input.Line(in.Name, "name", 200, &fields)
	row.Email = input.OptionalEmail(in.Email, "email", &fields)
	row.Phone = input.OptionalLine(in.Phone, "phone", 40, &fields)
	row.Timezone = "UTC"
	if in.Timezone != nil {
		row.Timezone = checkTimezone(*in.Timezone, &fields)
	}
	if in.CoachID != nil && *in.CoachID != a.UserID {
		if !a.Has(auth.RoleOwner) {
			return Client{}, apperr.New(apperr.Forbidden, "Only the practice owner may assign a client to another coach.")
		}
		row.CoachID = *in.CoachID
	}
	if err := fields.Err(); err != nil {
		return Client{}, err
	}
	var out Client
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		if err := requireCoach(tx, a.PracticeID, row.CoachID); err != nil {
			return err
		}
		if err := limits.Allow(ctx, s.c.Limits, tx, a.PracticeID, limits.ActiveClients); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		row.CreatedAt, row.UpdatedAt = now, now
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "client.created", row.ID, now); err != nil {
			return err
		}
		// To the practice's webhook endpoints: IDs and status, never who the client is.
		if err := webhooks.Emit(ctx, s.c.Store, tx, webhooks.Event{Type: webhooks.ClientCreated, PracticeID: a.PracticeID, At: now,
			Data: map[string]any{"client_id": row.ID, "coach_id": row.CoachID, "status": row.Status}}); err != nil {
			return err
		}
		var err error
		out, err = s.load(tx, a, row.ID)
		return err
	})
	return out, err
}

// requireCoach checks that userID is an owner or coach of the practice.
func requireCoach(tx *gorm.DB, practiceID, userID uuid.UUID) error {
	var n int64
	if err := tx.Table("memberships").Where("practice_id = ? AND user_id = ?", practiceID, userID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return apperr.Validation(apperr.FieldError{Field: "coach_id", Message: "is not a coach of this practice"})
	}
	return nil
}

// Change is a partial update of a client.
type Change struct {
	Name     patch.Field[string]
	Email    patch.Field[string]
	Phone    patch.Field[string]
	Timezone patch.Field[string]
	CoachID  patch.Field[uuid.UUID]
	Status   patch.Field[string] // active or paused; active also restores an archived client
	IfMatch  *string
}

// Update changes a client's record. Staff only; reassigning is for the owner.
func (s *Service) Update(ctx context.Context, a auth.Actor, id uuid.UUID, c Change) (Client, error) {
	if !CanManage(a) {
		return Client{}, apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may change a client's record.")
	}
	var fields apperr.Fields
	set := map[string]any{}
	if c.Name.Set {
		set["name"] = input.Line(deref(c.Name.Value), "name", 200, &fields)
	}
	if c.Email.Set {
		set["email"] = input.OptionalEmail(c.Email.Value, "email", &fields)
	}
	if c.Phone.Set {
		set["phone"] = input.OptionalLine(c.Phone.Value, "phone", 40, &fields)
	}
	if c.Timezone.Set {
		set["timezone"] = checkTimezone(deref(c.Timezone.Value), &fields)
	}
	if c.Status.Set {
		st := deref(c.Status.Value)
		if st != StatusActive && st != StatusPaused {
			fields.Add("status", "must be active or paused; archive with DELETE")
		}
		set["status"] = st
		set["archived_at"] = nil
	}
	if c.CoachID.Set {
		set["coach_id"] = deref(c.CoachID.Value)
	}
	if err := fields.Err(); err != nil {
		return Client{}, err
	}
	if len(set) == 0 {
		return Client{}, apperr.Validation(apperr.FieldError{Field: "body", Message: "names no field to change"})
	}
	var out Client
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := Visible(tx, a, id); err != nil {
			return err
		}
		version, err := s.matchedVersion(tx, a, id, c.IfMatch)
		if err != nil {
			return err
		}
		if c.Status.Set && deref(c.Status.Value) == StatusActive {
			// Making a paused client active again adds one to the
			// practice's active clients, as creating one does.
			var current string
			if err := tx.Model(&clientRow{}).Where("practice_id = ? AND id = ?", a.PracticeID, id).Pluck("status", &current).Error; err != nil {
				return err
			}
			if current != StatusActive {
				if err := limits.Allow(ctx, s.c.Limits, tx, a.PracticeID, limits.ActiveClients); err != nil {
					return err
				}
			}
		}
		if c.CoachID.Set {
			// Checked once the client is known to be visible: a client the
			// actor may not see is 404 whatever the body asks, never 403.
			if !a.Has(auth.RoleOwner) {
				return apperr.New(apperr.Forbidden, "Only the practice owner may reassign a client.")
			}
			if err := requireCoach(tx, a.PracticeID, deref(c.CoachID.Value)); err != nil {
				return err
			}
		}
		now := s.c.Clock.Now()
		if err := store.UpdateVersioned(tx, &clientRow{}, a.PracticeID, id, version, set, now); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, a, "client.updated", id, now); err != nil {
			return err
		}
		out, err = s.load(tx, a, id)
		return err
	})
	return out, err
}

// Archive hides a client from lists and ends their portal access. Nothing
// is deleted.
func (s *Service) Archive(ctx context.Context, a auth.Actor, id uuid.UUID, ifMatch *string) error {
	if !CanManage(a) {
		return apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may archive a client.")
	}
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := Visible(tx, a, id); err != nil {
			return err
		}
		version, err := s.matchedVersion(tx, a, id, ifMatch)
		if err != nil {
			return err
		}
		now := s.c.Clock.Now()
		if err := store.UpdateVersioned(tx, &clientRow{}, a.PracticeID, id, version, map[string]any{"status": StatusArchived, "archived_at": now}, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "client.archived", id, now)
	})
}

func (s *Service) audit(ctx context.Context, tx *gorm.DB, a auth.Actor, action string, id uuid.UUID, now time.Time) error {
	return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: action,
		RecordType: "client", RecordID: id, At: now})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func checkTimezone(tz string, fields *apperr.Fields) string {
	tz, ok := date.ValidZone(tz)
	if !ok {
		fields.Add("timezone", date.ZoneMessage)
	}
	return tz
}
