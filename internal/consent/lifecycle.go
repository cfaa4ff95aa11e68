package consent

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
)

var (
	errOnlyClientRevokes = apperr.New(apperr.Forbidden, "Only the client who granted a consent may revoke it.")
	errOnlyNamedDeclines = apperr.New(apperr.Forbidden, "Only the therapist a consent names may decline it.")
)

// ending is a transition from pending or active to a final state.
type ending struct {
	verb   string                 // past participle, for the 409 message
	may    func(consentRow) error // 403 unless the actor may end this consent
	set    func(now time.Time) map[string]any
	action string // the audit action
	// revoked, when set, is the reason a webhook event consent.revoked gives.
	revoked string
	mail    func(Parties, Consent) tmail.Message
}

// Revoke ends a pending or active consent at the client's word. It takes
// effect on the therapist's very next request; what they already viewed
// stays disclosed. Only the client who granted it may revoke it (others who
// see it get 403); an expired, revoked or declined consent, or a request,
// gets 409.
func (s *Service) Revoke(ctx context.Context, a auth.Actor, id uuid.UUID) (Consent, error) {
	return s.end(ctx, a, id, ending{
		verb: "revoked",
		may: func(r consentRow) error {
			if !a.IsClient() || a.ClientID != r.ClientID || a.PracticeID != r.PracticeID {
				return errOnlyClientRevokes
			}
			return nil
		},
		set: func(now time.Time) map[string]any {
			return map[string]any{"status": StatusRevoked, "revoked_at": now, "revoke_reason": ReasonRevokedByClient, "updated_at": now}
		},
		action:  "consent.revoked",
		revoked: ReasonRevokedByClient,
		mail:    revokedMail,
	})
}

// Decline lets the therapist a consent names refuse it. A pending consent
// names no account yet, so its therapist declines after accepting the
// invitation. The client and staff who see the consent get 403.
func (s *Service) Decline(ctx context.Context, a auth.Actor, id uuid.UUID) (Consent, error) {
	return s.end(ctx, a, id, ending{
		verb: "declined",
		may: func(r consentRow) error {
			if r.TherapistUserID == nil || *r.TherapistUserID != a.UserID {
				return errOnlyNamedDeclines
			}
			return nil
		},
		set: func(now time.Time) map[string]any {
			return map[string]any{"status": StatusDeclined, "declined_at": now, "updated_at": now}
		},
		action: "consent.declined",
		mail:   declinedMail,
	})
}

// end moves a consent the actor may see, and may end, from pending or
// active and unexpired to a final state, audits it, and queues the e-mail
// that tells the client's coach in the same transaction. The update is conditional, so of two concurrent
// ends exactly one wins and the other gets 409.
func (s *Service) end(ctx context.Context, a auth.Actor, id uuid.UUID, e ending) (Consent, error) {
	var out Consent
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := loadVisible(tx, a, id)
		if err != nil {
			return err
		}
		if err := e.may(r); err != nil {
			return err
		}
		now := s.c.Clock.Now()
		res := tx.Model(&consentRow{}).
			Where("practice_id = ? AND id = ? AND status IN ? AND expires_at > ?", r.PracticeID, r.ID, []string{StatusPending, StatusActive}, now).
			// A pending consent whose invitation expired has expired too.
			Where("status = ? OR invitation_expires_at IS NULL OR invitation_expires_at > ?", StatusActive, now).
			Updates(e.set(now))
		if res.Error != nil {
			return res.Error
		}
		if err := tx.Where("practice_id = ? AND id = ?", r.PracticeID, r.ID).Take(&r).Error; err != nil {
			return err
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.Conflict, fmt.Sprintf("This consent is %s; only a pending or active consent can be %s.",
				effectiveStatus(r, now), e.verb))
		}
		if err := s.record(ctx, tx, r, a.UserID, e.action, now); err != nil {
			return err
		}
		if e.revoked != "" {
			if err := s.emitRevoked(ctx, tx, r, e.revoked, now); err != nil {
				return err
			}
		}
		out = toConsent(r, now)
		p, err := loadParties(tx, r)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, tx, r, jobs.Mail{Key: jobs.Key(e.action, r.ID), Message: e.mail(p, out)})
	})
	if err != nil {
		return Consent{}, err
	}
	return out, nil
}
