package consent

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/clients"
)

// Consent states. Expired is never stored: it is decided on every check.
const (
	StatusRequested = "requested"
	StatusPending   = "pending"
	StatusActive    = "active"
	StatusDeclined  = "declined"
	StatusRevoked   = "revoked"
	StatusExpired   = "expired"
)

// Grant is a therapist's active consent for one client, as found by Check.
type Grant struct {
	ConsentID       uuid.UUID
	PracticeID      uuid.UUID
	ClientID        uuid.UUID
	ClientName      string
	Classes         Classes
	Purpose         string
	TemplateVersion int
	ExpiresAt       time.Time
}

// effectiveStatus is a stored status with expiry applied: a consent expires
// at its expiry, and a pending one also when its therapist invitation
// expires unaccepted.
func effectiveStatus(r consentRow, now time.Time) string {
	if (r.Status == StatusActive || r.Status == StatusPending) && !now.Before(r.ExpiresAt) {
		return StatusExpired
	}
	if r.Status == StatusPending && r.InvitationExpiresAt != nil && !now.Before(*r.InvitationExpiresAt) {
		return StatusExpired
	}
	return r.Status
}

// Check decides whether the therapist may read class of the client's data
// right now. Call it in the same transaction as the read it guards, on every
// request: a revocation or expiry applies to the very next request, whatever
// the therapist's access token says. It answers 404 when the therapist never
// had a consent for this client (nothing leaks about who is a client), and
// 403 with a problem reason naming why otherwise. Pass an empty class to
// check only that a consent is active.
func Check(tx *gorm.DB, therapistID, clientID uuid.UUID, class Class, now time.Time) (Grant, error) {
	var rows []consentRow
	if err := tx.Where("therapist_user_id = ? AND client_id = ? AND status <> ?", therapistID, clientID, StatusRequested).
		Order("signed_at DESC, id DESC").Find(&rows).Error; err != nil {
		return Grant{}, err
	}
	if len(rows) == 0 {
		return Grant{}, ErrNoConsent
	}
	// Any active, unexpired consent that includes the class grants; several
	// may exist while a wider one supersedes a narrower one.
	var best *consentRow
	for i := range rows {
		if effectiveStatus(rows[i], now) != StatusActive {
			continue
		}
		if class == "" || decodeClasses(rows[i].DataClasses).Has(class) {
			best = &rows[i]
			break
		}
	}
	if best == nil {
		return Grant{}, refusal(rows[0], class, now)
	}
	var client struct{ Name, Status string }
	if err := tx.Table("clients").Select("name, status").Where("practice_id = ? AND id = ?", best.PracticeID, best.ClientID).
		Take(&client).Error; err != nil {
		return Grant{}, err
	}
	if client.Status == clients.StatusArchived {
		return Grant{}, errSuspended
	}
	return Grant{
		ConsentID: best.ID, PracticeID: best.PracticeID, ClientID: best.ClientID, ClientName: client.Name,
		Classes: decodeClasses(best.DataClasses), Purpose: best.Purpose, TemplateVersion: deref(best.TemplateVersion),
		ExpiresAt: best.ExpiresAt,
	}, nil
}

// errSuspended refuses a therapist while the client's record is archived:
// every consent of an archived client is suspended, and resumes only if the
// client is restored before it expires.
var errSuspended = &apperr.Error{Code: apperr.Forbidden, Reason: "consent_suspended",
	Message: "The client's coaching record is archived: their consents are suspended."}

// ErrNoConsent answers a therapist who never had a consent for the client.
var ErrNoConsent = apperr.New(apperr.NotFound, "Client not found.")

// refusal explains, from the newest consent, why access is refused.
func refusal(newest consentRow, class Class, now time.Time) error {
	switch effectiveStatus(newest, now) {
	case StatusRevoked:
		return &apperr.Error{Code: apperr.Forbidden, Reason: "consent_revoked", Message: "The client has revoked this consent."}
	case StatusExpired:
		return &apperr.Error{Code: apperr.Forbidden, Reason: "consent_expired", Message: "This consent has expired."}
	case StatusDeclined:
		return &apperr.Error{Code: apperr.Forbidden, Reason: "consent_declined", Message: "You declined this consent."}
	case StatusPending:
		return &apperr.Error{Code: apperr.Forbidden, Reason: "consent_pending", Message: "Accept the invitation to this consent first."}
	}
	return &apperr.Error{Code: apperr.Forbidden, Reason: "consent_class_not_granted",
		Message: "The client's consent does not include " + string(class) + "."}
}

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}
