package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/limits"
	"github.com/tandem-coach/tandem/internal/reqinfo"
)

// Revoke reasons.
const (
	ReasonRevokedByClient = "revoked by client"
	ReasonSuperseded      = "superseded"
)

// NewConsent is what the client signs, or what a coach requests. Pointers
// and the zero time are elements that were not sent.
type NewConsent struct {
	TherapistName   string
	TherapistEmail  string
	DataClasses     []string
	Purpose         string
	ExpiresAt       time.Time
	TemplateVersion *int
	TemplateSHA256  *string
	SignatureName   *string
	RequestID       *uuid.UUID
}

// signs reports whether the body carries any element of a signature.
func (in NewConsent) signs() bool {
	return in.TemplateVersion != nil || in.TemplateSHA256 != nil || in.SignatureName != nil
}

// grantee is the client a consent is about, as signing needs them.
type grantee struct {
	ID         uuid.UUID
	PracticeID uuid.UUID
	CoachID    uuid.UUID
	UserID     *uuid.UUID
	Name       string
	Email      *string
	Status     string
}

// lockGrantee reads a client the actor may see (the clients.Visible rule)
// and, on PostgreSQL, locks the row until the transaction ends, so that two
// signings for the same client cannot both miss the consent the other one
// supersedes. SQLite's single writer serialises them anyway.
func lockGrantee(tx *gorm.DB, a auth.Actor, id uuid.UUID) (grantee, error) {
	var g grantee
	err := clients.Scope(tx.Table("clients"), a).Where("clients.id = ?", id).
		Select("clients.id, clients.practice_id, clients.coach_id, clients.user_id, clients.name, clients.email, clients.status").
		Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "clients"}}).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return grantee{}, clients.ErrNotFound
	}
	return g, err
}

// ownEmails are the client's own addresses: the one on their record and
// their portal login. A consent cannot name the client as their therapist.
func (g grantee) ownEmails(tx *gorm.DB) ([]string, error) {
	var own []string
	if g.Email != nil {
		own = append(own, strings.ToLower(*g.Email))
	}
	if g.UserID != nil {
		var login []string
		if err := tx.Table("users").Where("id = ?", *g.UserID).Pluck("email", &login).Error; err != nil {
			return nil, err
		}
		own = append(own, login...)
	}
	return own, nil
}

// Create records the client's signed consent, or a coach's request for one.
//
// The client, signed in through the portal, freshly authenticated (within
// auth.StepUpWindow) and acting on their own record, signs: every element
// is required and checked, and each missing or invalid one is a field error
// of a single 400. The consent is pending until the therapist it names
// accepts the single-use invitation e-mailed to that address — also when
// they already have an account — and expires with the invitation. A signed
// consent supersedes any pending or active one of the client for the same
// therapist. A practice records at most ConsentsPerDay consents a day.
//
// The client's coach or the practice owner only requests: a request carries
// no signature, grants nothing, and waits for the client to sign or ignore
// it. Anyone else gets 404.
func (s *Service) Create(ctx context.Context, a auth.Actor, clientID uuid.UUID, in NewConsent) (Consent, error) {
	var out Consent
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		g, err := lockGrantee(tx, a, clientID)
		if err != nil {
			return err
		}
		if err := s.checkQuota(tx, g.PracticeID); err != nil {
			return err
		}
		switch {
		case a.IsClient() && a.ClientID == g.ID:
			out, err = s.sign(ctx, tx, a, g, in)
		case a.IsStaff():
			out, err = s.request(ctx, tx, a, g, in)
		default:
			err = clients.ErrNotFound
		}
		return err
	})
	if err != nil {
		return Consent{}, err
	}
	return out, nil
}

// sign writes the client's signed consent, supersedes the consent it
// replaces, invites the therapist, and queues the e-mails to the coach and
// the therapist in tx.
func (s *Service) sign(ctx context.Context, tx *gorm.DB, a auth.Actor, g grantee, in NewConsent) (Consent, error) {
	now := s.c.Clock.Now()
	if !a.FreshlyAuthenticated(now) {
		return Consent{}, account.ErrStepUp
	}
	var fields apperr.Fields
	row, err := checkElements(tx, g, in, now, &fields)
	if err != nil {
		return Consent{}, err
	}
	tpl, err := checkTemplate(tx, in, &fields)
	if err != nil {
		return Consent{}, err
	}
	signature := checkSignature(in.SignatureName, g.Name, &fields)
	if in.RequestID != nil {
		if err := checkRequest(tx, g, *in.RequestID, &fields); err != nil {
			return Consent{}, err
		}
	}
	if err := fields.Err(); err != nil {
		return Consent{}, err
	}

	info := reqinfo.From(ctx)
	row.Status = StatusPending
	row.TemplateVersion, row.TemplateSHA256 = &tpl.Version, &tpl.SHA256
	row.SignatureName, row.SignedAt = &signature, &now
	row.SignedIP, row.SignedUserAgent = &info.IP, &info.UserAgent
	row.SignedAuthMethod, row.SignedAuthAt = ptr(a.AuthMethod), ptr(a.AuthTime.UTC())
	row.RequestID = in.RequestID
	row.InvitationExpiresAt = ptr(s.invitationExpiry(row, now))

	replaced, err := s.supersede(ctx, tx, a, g, row.TherapistEmail, now)
	if err != nil {
		return Consent{}, err
	}
	if len(replaced) > 0 {
		row.SupersedesID = &replaced[len(replaced)-1]
	}
	// Counted once the consent this one replaces is revoked: widening a
	// consent is no new connection.
	if err := limits.Allow(ctx, s.c.Limits, tx, g.PracticeID, limits.TherapistConnections); err != nil {
		return Consent{}, err
	}
	if err := tx.Create(&row).Error; err != nil {
		return Consent{}, err
	}
	if err := s.record(ctx, tx, row, a.UserID, "consent.signed", now); err != nil {
		return Consent{}, err
	}
	if err := s.emitGranted(ctx, tx, row, now); err != nil {
		return Consent{}, err
	}

	out := toConsent(row, now)
	parties, err := loadParties(tx, row)
	if err != nil {
		return Consent{}, err
	}
	invitation, err := s.inviteTherapist(ctx, tx, a, row, parties, now)
	if err != nil {
		return Consent{}, err
	}
	signed := jobs.Mail{Key: jobs.Key("consent-signed", row.ID), Message: signedMail(parties, out, len(replaced) > 0)}
	return out, s.enqueue(ctx, tx, row, signed, invitation)
}

// supersede revokes the client's pending and active consents for the same
// therapist, oldest first, and returns their IDs. Only lifecycle columns
// change: what the client signed stays as signed.
func (s *Service) supersede(ctx context.Context, tx *gorm.DB, a auth.Actor, g grantee, email string, now time.Time) ([]uuid.UUID, error) {
	var old []consentRow
	if err := tx.Where("practice_id = ? AND client_id = ? AND therapist_email = ? AND status IN ? AND expires_at > ?",
		g.PracticeID, g.ID, email, []string{StatusPending, StatusActive}, now).Order("id").Find(&old).Error; err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, 0, len(old))
	for _, r := range old {
		// Conditional, so that a revocation or decline committed since the
		// read keeps its own time and reason.
		res := tx.Model(&consentRow{}).Where("practice_id = ? AND id = ? AND status IN ?", r.PracticeID, r.ID, []string{StatusPending, StatusActive}).
			Updates(map[string]any{"status": StatusRevoked, "revoked_at": now, "revoke_reason": ReasonSuperseded, "updated_at": now})
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		if err := s.record(ctx, tx, r, a.UserID, "consent.superseded", now); err != nil {
			return nil, err
		}
		if err := s.emitRevoked(ctx, tx, r, ReasonSuperseded, now); err != nil {
			return nil, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// request writes a coach's request for a consent. It names the therapist,
// classes, purpose and expiry the coach proposes; only the client's
// signature can turn it into a consent.
func (s *Service) request(ctx context.Context, tx *gorm.DB, a auth.Actor, g grantee, in NewConsent) (Consent, error) {
	if in.signs() {
		return Consent{}, apperr.New(apperr.Forbidden,
			"Only the client signs a consent; as their coach you may request one, which they can sign or ignore.")
	}
	if g.Status == clients.StatusArchived {
		return Consent{}, apperr.New(apperr.Conflict, "This client is archived; restore them before requesting a consent.")
	}
	now := s.c.Clock.Now()
	var fields apperr.Fields
	row, err := checkElements(tx, g, in, now, &fields)
	if err != nil {
		return Consent{}, err
	}
	if in.RequestID != nil {
		fields.Add("request_id", "only the client's signature answers a request")
	}
	if err := fields.Err(); err != nil {
		return Consent{}, err
	}
	row.Status = StatusRequested
	row.RequestedBy = &a.UserID
	if err := tx.Create(&row).Error; err != nil {
		return Consent{}, err
	}
	if err := s.record(ctx, tx, row, a.UserID, "consent.requested", now); err != nil {
		return Consent{}, err
	}
	return toConsent(row, now), nil
}

// checkElements checks what a consent and a request share — therapist,
// data classes, purpose and expiry — and returns the row they start.
func checkElements(tx *gorm.DB, g grantee, in NewConsent, now time.Time, f *apperr.Fields) (consentRow, error) {
	row := consentRow{ID: newID(), PracticeID: g.PracticeID, ClientID: g.ID, CoachID: g.CoachID, CreatedAt: now, UpdatedAt: now}
	row.TherapistName = input.Line(in.TherapistName, "therapist_name", 200, f)
	before := len(*f)
	row.TherapistEmail = input.Email(in.TherapistEmail, "therapist_email", f)
	if len(*f) == before {
		own, err := g.ownEmails(tx)
		if err != nil {
			return consentRow{}, err
		}
		if slices.Contains(own, row.TherapistEmail) {
			f.Add("therapist_email", "is the client's own address; name the therapist's")
		}
	}
	row.DataClasses = checkClasses(in.DataClasses, f).encode()
	row.Purpose = input.Text(in.Purpose, "purpose", 2000, f)
	row.ExpiresAt = checkExpiry(in.ExpiresAt, now, f)
	return row, nil
}

// checkClasses parses the data classes: at least one, each known, none twice.
func checkClasses(raw []string, f *apperr.Fields) Classes {
	if len(raw) == 0 {
		f.Add("data_classes", "must name at least one data class")
		return nil
	}
	var out Classes
	for _, r := range raw {
		c := Class(r)
		switch {
		case !c.Valid():
			f.Add("data_classes", fmt.Sprintf("must be among %s", joinClasses(AllClasses)))
			return nil
		case out.Has(c):
			f.Add("data_classes", "must name each data class once")
			return nil
		}
		out = append(out, c)
	}
	return out
}

func joinClasses(cs Classes) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return strings.Join(out, ", ")
}

// checkExpiry requires an expiry in the future and at most 12 calendar
// months away.
func checkExpiry(at, now time.Time, f *apperr.Fields) time.Time {
	switch {
	case at.IsZero():
		f.Add("expires_at", "is required")
	case !at.After(now):
		f.Add("expires_at", "must be in the future")
	case at.After(LatestExpiry(now)):
		f.Add("expires_at", "must be at most 12 months from now")
	}
	return at.UTC()
}

// checkTemplate requires the version and SHA-256 of the current consent
// text: the client signs the exact text they were shown, and only the
// current one. A stale version is a template_version error; a hash that is
// not the named version's text (the current one's when the version is
// unknown or missing) is a template_sha256 error.
func checkTemplate(tx *gorm.DB, in NewConsent, f *apperr.Fields) (Template, error) {
	var rows []templateRow
	if err := tx.Order("version DESC").Find(&rows).Error; err != nil {
		return Template{}, err
	}
	if len(rows) == 0 {
		return Template{}, errors.New("consent: no consent template is stored")
	}
	current := rows[0]
	shown := current
	switch {
	case in.TemplateVersion == nil:
		f.Add("template_version", "is required: the version of the consent text you were shown")
	case *in.TemplateVersion != current.Version:
		f.Add("template_version", fmt.Sprintf("is not the current consent text; read version %d and sign that", current.Version))
		if i := slices.IndexFunc(rows, func(r templateRow) bool { return r.Version == *in.TemplateVersion }); i >= 0 {
			shown = rows[i]
		}
	}
	switch sha := strings.ToLower(strings.TrimSpace(deref(in.TemplateSHA256))); {
	case sha == "":
		f.Add("template_sha256", "is required: the SHA-256 of the consent text you were shown")
	case sha != shown.SHA256:
		f.Add("template_sha256", "does not match the consent text; read it again and sign that")
	}
	return Template{Version: current.Version, Text: current.Body, SHA256: current.SHA256}, nil
}

// checkSignature requires the typed full name, which must be the client's
// name as recorded, ignoring case and spacing.
func checkSignature(raw *string, clientName string, f *apperr.Fields) string {
	if raw == nil || strings.TrimSpace(*raw) == "" {
		f.Add("signature_name", "is required: type your full name to sign")
		return ""
	}
	before := len(*f)
	name := input.Line(*raw, "signature_name", 200, f)
	if len(*f) == before && !sameName(name, clientName) {
		f.Add("signature_name", "must be your full name as your client record shows it")
	}
	return name
}

// sameName compares names regardless of case and of how many spaces
// separate their words.
func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// checkRequest requires id to be a coach's request for this client.
func checkRequest(tx *gorm.DB, g grantee, id uuid.UUID, f *apperr.Fields) error {
	var n int64
	if err := tx.Model(&consentRow{}).Where("practice_id = ? AND client_id = ? AND id = ? AND status = ?",
		g.PracticeID, g.ID, id, StatusRequested).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		f.Add("request_id", "is not a consent request for this client")
	}
	return nil
}

// record writes the audit event of a consent's transition.
func (s *Service) record(ctx context.Context, tx *gorm.DB, r consentRow, actor uuid.UUID, action string, now time.Time) error {
	return audit.Record(ctx, tx, audit.Entry{PracticeID: r.PracticeID, Actor: actor, Action: action,
		RecordType: "consent", RecordID: r.ID, At: now})
}

func ptr[T any](v T) *T { return &v }
