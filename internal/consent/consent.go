package consent

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/page"
)

// Consent is a consent or a consent request as callers see it. Status is
// the effective one: an active or pending consent past its expiry is
// expired.
type Consent struct {
	ID              uuid.UUID
	PracticeID      uuid.UUID
	ClientID        uuid.UUID
	CoachID         uuid.UUID
	Status          string
	TherapistName   string
	TherapistEmail  string
	TherapistUserID *uuid.UUID
	Classes         Classes
	Purpose         string
	ExpiresAt       time.Time
	TemplateVersion *int
	TemplateSHA256  *string
	Signature       *Signature // nil for a request
	RequestedBy     *uuid.UUID
	RequestID       *uuid.UUID
	SupersedesID    *uuid.UUID
	ActivatedAt     *time.Time
	DeclinedAt      *time.Time
	RevokedAt       *time.Time
	RevokeReason    *string
	CreatedAt       time.Time
	// InvitationExpiresAt is when a pending consent's invitation expires.
	InvitationExpiresAt *time.Time
}

// Signature is how and when the client signed.
type Signature struct {
	Name       string
	SignedAt   time.Time
	IP         string
	UserAgent  string
	AuthMethod string
	// AuthTime is when the signer last proved who they were (a sign-in or a
	// step-up within the 5 minutes before signing).
	AuthTime *time.Time
}

func toConsent(r consentRow, now time.Time) Consent {
	c := Consent{
		ID: r.ID, PracticeID: r.PracticeID, ClientID: r.ClientID, CoachID: r.CoachID, Status: effectiveStatus(r, now),
		TherapistName: r.TherapistName, TherapistEmail: r.TherapistEmail, TherapistUserID: r.TherapistUserID,
		Classes: decodeClasses(r.DataClasses), Purpose: r.Purpose, ExpiresAt: r.ExpiresAt,
		TemplateVersion: r.TemplateVersion, TemplateSHA256: r.TemplateSHA256,
		RequestedBy: r.RequestedBy, RequestID: r.RequestID, SupersedesID: r.SupersedesID,
		ActivatedAt: r.ActivatedAt, DeclinedAt: r.DeclinedAt, RevokedAt: r.RevokedAt, RevokeReason: r.RevokeReason,
		CreatedAt: r.CreatedAt,
	}
	if r.Status == StatusPending {
		c.InvitationExpiresAt = r.InvitationExpiresAt
	}
	if r.SignatureName != nil && r.SignedAt != nil {
		c.Signature = &Signature{Name: *r.SignatureName, SignedAt: *r.SignedAt, IP: deref(r.SignedIP),
			UserAgent: deref(r.SignedUserAgent), AuthMethod: deref(r.SignedAuthMethod), AuthTime: r.SignedAuthAt}
	}
	return c
}

// ErrNotFound answers for a consent the actor may not see, whether or not
// it exists.
var ErrNotFound = apperr.New(apperr.NotFound, "Consent not found.")

// visibleConsents limits a query on consents to those the actor may see:
// the consents of clients the actor sees (the client their own, a coach
// their clients', the owner the practice's), and those naming the actor as
// therapist. A therapist reaches a consent only by their user ID.
func visibleConsents(db *gorm.DB, a auth.Actor) *gorm.DB {
	seen := clients.Scope(db.Session(&gorm.Session{NewDB: true}).Table("clients"), a).Select("clients.id")
	return db.Model(&consentRow{}).Where("consents.therapist_user_id = ? OR consents.client_id IN (?)", a.UserID, seen)
}

// loadVisible reads a consent the actor may see.
func loadVisible(db *gorm.DB, a auth.Actor, id uuid.UUID) (consentRow, error) {
	var r consentRow
	err := visibleConsents(db, a).Where("consents.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return consentRow{}, ErrNotFound
	}
	return r, err
}

// Get returns a consent the actor may see: the client's, their coach's or
// the owner's, or the therapist's it names.
func (s *Service) Get(ctx context.Context, a auth.Actor, id uuid.UUID) (Consent, error) {
	r, err := loadVisible(s.c.Store.DB.WithContext(ctx), a, id)
	if err != nil {
		return Consent{}, err
	}
	return toConsent(r, s.c.Clock.Now()), nil
}

// List returns a client's consents and consent requests, oldest first, to
// the client and the staff who see the client.
func (s *Service) List(ctx context.Context, a auth.Actor, clientID uuid.UUID, pr page.Request) ([]Consent, *string, error) {
	db := s.c.Store.DB.WithContext(ctx)
	ref, err := clients.Visible(db, a, clientID)
	if err != nil {
		return nil, nil, err
	}
	q := db.Where("practice_id = ? AND client_id = ?", ref.PracticeID, ref.ID)
	if pr.After != uuid.Nil {
		q = q.Where("id > ?", pr.After)
	}
	var rows []consentRow
	if err := q.Order("id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r consentRow) uuid.UUID { return r.ID })
	now := s.c.Clock.Now()
	out := make([]Consent, len(rows))
	for i, r := range rows {
		out[i] = toConsent(r, now)
	}
	return out, next, nil
}
