// Package webhooks tells a practice's other systems what happened in
// Tandem: the owner registers endpoints for event types, each event is
// recorded in the transaction of its change as one delivery per subscribed
// endpoint, and a job delivers it, signed per the Standard Webhooks spec,
// with exponential backoff for up to three days. An endpoint that keeps
// failing is disabled and the owner told by e-mail.
package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/page"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the webhooks service needs.
type Config struct {
	Store *store.Store
	// Secrets seals the signing secrets at rest (the note keys).
	Secrets *sealbox.Box
	Guard   Guard
	Clock   clock.Clock
	Log     *slog.Logger
}

// Service runs the owner's operations on endpoints and deliveries; each is
// one transaction.
type Service struct{ c Config }

// NewService returns the webhooks service.
func NewService(c Config) *Service { return &Service{c: c} }

// MaxEndpoints bounds a practice's endpoints.
const MaxEndpoints = 10

// maxDescriptionChars bounds an endpoint's description.
const maxDescriptionChars = 200

// Errors of the webhooks service.
var (
	ErrNotFound         = apperr.New(apperr.NotFound, "Webhook endpoint not found.")
	ErrDeliveryNotFound = apperr.New(apperr.NotFound, "Webhook delivery not found.")
	errOwnerOnly        = apperr.New(apperr.Forbidden, "Only the practice owner may do this.")
)

// Endpoint is a webhook endpoint as its owner sees it: never its secret.
type Endpoint struct {
	ID             uuid.UUID
	URL            string
	Description    *string
	EventTypes     []string
	Enabled        bool
	DisabledAt     *time.Time
	DisabledReason *string
	Version        int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// ETag is the endpoint's HTTP entity tag.
func (e Endpoint) ETag() string { return store.ETag(e.Version) }

func toEndpoint(r endpointRow) Endpoint {
	return Endpoint{ID: r.ID, URL: r.URL, Description: r.Description, EventTypes: strings.Fields(r.EventTypes),
		Enabled: r.DisabledAt == nil, DisabledAt: r.DisabledAt, DisabledReason: r.DisabledReason,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// endpointColumns are what reads of an endpoint select: never the secret.
var endpointColumns = []string{"id", "practice_id", "url", "description", "event_types", "disabled_at",
	"disabled_reason", "created_by", "version", "created_at", "updated_at"}

// owned scopes q to the endpoints of the actor's practice, which only its
// owner reaches.
func owned(q *gorm.DB, a auth.Actor) (*gorm.DB, error) {
	if !a.Has(auth.RoleOwner) || a.PracticeID == uuid.Nil {
		return nil, errOwnerOnly
	}
	return q.Where("webhook_endpoints.practice_id = ?", a.PracticeID), nil
}

func loadEndpoint(tx *gorm.DB, a auth.Actor, id uuid.UUID) (endpointRow, error) {
	q, err := owned(tx.Model(&endpointRow{}), a)
	if err != nil {
		return endpointRow{}, err
	}
	var r endpointRow
	err = q.Select(endpointColumns).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return endpointRow{}, ErrNotFound
	}
	return r, err
}

// checkEventTypes returns the event types, deduplicated and sorted as
// stored, with a field error for an unknown one or none.
func checkEventTypes(types []string, f *apperr.Fields) string {
	if len(types) == 0 {
		f.Add("event_types", "must name at least one event type")
		return ""
	}
	set := map[string]bool{}
	for _, t := range types {
		if !slices.Contains(EventTypes, t) {
			f.Add("event_types", "names an unknown event type "+quoteShort(t))
			return ""
		}
		set[t] = true
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return "\"" + s + "\""
}

// NewEndpoint is what an owner sends to register an endpoint.
type NewEndpoint struct {
	URL         string
	Description *string
	EventTypes  []string
}

// Create registers an endpoint and returns it with its signing secret, the
// only time the secret is shown.
func (s *Service) Create(ctx context.Context, a auth.Actor, in NewEndpoint) (Endpoint, string, error) {
	if _, err := owned(s.c.Store.DB, a); err != nil {
		return Endpoint{}, "", err
	}
	var fields apperr.Fields
	row := endpointRow{ID: newID(), PracticeID: a.PracticeID, CreatedBy: a.UserID, Version: 1}
	if msg := s.c.Guard.CheckURL(in.URL); msg != "" {
		fields.Add("url", msg)
	}
	row.URL = in.URL
	row.Description = input.OptionalLine(in.Description, "description", maxDescriptionChars, &fields)
	row.EventTypes = checkEventTypes(in.EventTypes, &fields)
	if err := fields.Err(); err != nil {
		return Endpoint{}, "", err
	}
	secret := newSecret()
	row.SecretKeyID, row.SecretSealed = s.c.Secrets.Seal([]byte(secret), row.ID[:])
	var out Endpoint
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&endpointRow{}).Where("practice_id = ?", a.PracticeID).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxEndpoints {
			return apperr.New(apperr.Conflict, "A practice has at most 10 webhook endpoints; delete one first.")
		}
		now := s.c.Clock.Now()
		row.CreatedAt, row.UpdatedAt = now, now
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out = toEndpoint(row)
		return s.audit(ctx, tx, a, "webhook.created", row.ID, now)
	})
	if err != nil {
		return Endpoint{}, "", err
	}
	return out, secret, nil
}

func (s *Service) audit(ctx context.Context, tx *gorm.DB, a auth.Actor, action string, id uuid.UUID, now time.Time) error {
	return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: action,
		RecordType: "webhook_endpoint", RecordID: id, At: now})
}

// Get returns one endpoint of the owner's practice.
func (s *Service) Get(ctx context.Context, a auth.Actor, id uuid.UUID) (Endpoint, error) {
	r, err := loadEndpoint(s.c.Store.DB.WithContext(ctx), a, id)
	if err != nil {
		return Endpoint{}, err
	}
	return toEndpoint(r), nil
}

// List returns the endpoints of the owner's practice, oldest first.
func (s *Service) List(ctx context.Context, a auth.Actor, pr page.Request) ([]Endpoint, *string, error) {
	q, err := owned(s.c.Store.DB.WithContext(ctx).Model(&endpointRow{}), a)
	if err != nil {
		return nil, nil, err
	}
	if pr.After != uuid.Nil {
		q = q.Where("id > ?", pr.After)
	}
	var rows []endpointRow
	if err := q.Select(endpointColumns).Order("id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r endpointRow) uuid.UUID { return r.ID })
	out := make([]Endpoint, len(rows))
	for i, r := range rows {
		out[i] = toEndpoint(r)
	}
	return out, next, nil
}

// Change is a partial update of an endpoint. Enabling a disabled endpoint
// clears why it was disabled; deliveries that failed meanwhile stay failed
// until replayed.
type Change struct {
	URL         patch.Field[string]
	Description patch.Field[string]
	EventTypes  patch.Field[[]string]
	Enabled     patch.Field[bool]
	IfMatch     *string
}

// Update changes an endpoint.
func (s *Service) Update(ctx context.Context, a auth.Actor, id uuid.UUID, c Change) (Endpoint, error) {
	if _, err := owned(s.c.Store.DB, a); err != nil {
		return Endpoint{}, err
	}
	var fields apperr.Fields
	set := map[string]any{}
	if c.URL.Set {
		u := deref(c.URL.Value)
		if msg := s.c.Guard.CheckURL(u); msg != "" {
			fields.Add("url", msg)
		}
		set["url"] = u
	}
	if c.Description.Set {
		set["description"] = input.OptionalLine(c.Description.Value, "description", maxDescriptionChars, &fields)
	}
	if c.EventTypes.Set {
		set["event_types"] = checkEventTypes(deref(c.EventTypes.Value), &fields)
	}
	if c.Enabled.Set && c.Enabled.Value == nil {
		fields.Add("enabled", "must be true or false")
	}
	if err := fields.Err(); err != nil {
		return Endpoint{}, err
	}
	var out Endpoint
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := loadEndpoint(tx, a, id)
		if err != nil {
			return err
		}
		if err := store.CheckIfMatch(c.IfMatch, toEndpoint(cur).ETag()); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		if c.Enabled.Set {
			switch enabled := *c.Enabled.Value; {
			case enabled && cur.DisabledAt != nil:
				set["disabled_at"], set["disabled_reason"] = nil, nil
			case !enabled && cur.DisabledAt == nil:
				set["disabled_at"], set["disabled_reason"] = now, "disabled by the owner"
			}
		}
		if len(set) > 0 {
			if err := store.UpdateVersioned(tx, &endpointRow{}, a.PracticeID, id, cur.Version, set, now); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, a, "webhook.updated", id, now); err != nil {
				return err
			}
		}
		r, err := loadEndpoint(tx, a, id)
		out = toEndpoint(r)
		return err
	})
	return out, err
}

// Delete removes an endpoint and its delivery log; deliveries not yet sent
// are not sent.
func (s *Service) Delete(ctx context.Context, a auth.Actor, id uuid.UUID, ifMatch *string) error {
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := loadEndpoint(tx, a, id)
		if err != nil {
			return err
		}
		if err := store.CheckIfMatch(ifMatch, toEndpoint(cur).ETag()); err != nil {
			return err
		}
		if err := tx.Where("practice_id = ? AND endpoint_id = ?", a.PracticeID, id).Delete(&deliveryRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("practice_id = ? AND id = ?", a.PracticeID, id).Delete(&endpointRow{}).Error; err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "webhook.deleted", id, s.c.Clock.Now())
	})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
