package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/jobs"
	tmail "github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
)

// Erasure request states.
const (
	ErasurePending   = "pending"
	ErasureCancelled = "cancelled"
	ErasureDone      = "done"
)

// ErasureRequest is a request to erase a client's record.
type ErasureRequest struct {
	ID          uuid.UUID
	PracticeID  uuid.UUID
	ClientID    uuid.UUID
	RequestedBy uuid.UUID
	Status      string
	RequestedAt time.Time
	DueAt       time.Time
	CancelledAt *time.Time
	ExecutedAt  *time.Time
	// ByClient: the client asked through the portal (otherwise the owner
	// recorded it on the client's word).
	ByClient bool `gorm:"-"`
	// ClientHasAccount: the client has a portal account, so may cancel it
	// themself (the owner always may).
	ClientHasAccount bool `gorm:"-"`
}

// TableName is the erasure requests table.
func (ErasureRequest) TableName() string { return "erasure_requests" }

// Refusals of erasure requests.
var (
	ErrNotClient = apperr.New(apperr.Forbidden,
		"Only a client can ask for their own record to be erased; the practice owner records a client's request with POST /clients/{client_id}/erasure-request.")
	ErrNoErasurePending = apperr.New(apperr.NotFound, "There is no pending erasure request.")
	ErrAlreadyErased    = apperr.New(apperr.Conflict, "This client's record has been erased already.")
)

// RequestErasure records a request to erase a client's record: the
// actor's own (clientID nil; clients only), or, for the owner, one of the
// practice's clients. It needs a fresh authentication. A request already
// pending is returned as it is.
func (s *Service) RequestErasure(ctx context.Context, a auth.Actor, clientID *uuid.UUID) (ErasureRequest, error) {
	// To the microsecond, as PostgreSQL keeps it: the answer matches a later read.
	now := s.c.Clock.Now().UTC().Truncate(time.Microsecond)
	if clientID == nil && !a.IsClient() {
		return ErasureRequest{}, ErrNotClient
	}
	if !a.FreshlyAuthenticated(now) {
		return ErasureRequest{}, account.ErrStepUp
	}
	var out ErasureRequest
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		id := a.ClientID
		if clientID != nil {
			id = *clientID
		}
		ref, err := clients.Visible(tx, a, id)
		if err != nil {
			return err
		}
		var erasedAt *time.Time
		var clientUser *uuid.UUID
		if err := tx.Table("clients").Where("practice_id = ? AND id = ?", ref.PracticeID, ref.ID).
			Select("erased_at, user_id").Row().Scan(&erasedAt, &clientUser); err != nil {
			return err
		}
		if erasedAt != nil {
			return ErrAlreadyErased
		}
		defer func() { out.describe(clientUser) }()
		err = tx.Where("practice_id = ? AND client_id = ? AND status = ?", ref.PracticeID, ref.ID, ErasurePending).Take(&out).Error
		if err == nil {
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		out = ErasureRequest{ID: uuid.Must(uuid.NewV7()), PracticeID: ref.PracticeID, ClientID: ref.ID, RequestedBy: a.UserID,
			Status: ErasurePending, RequestedAt: now, DueAt: now.Add(s.c.CoolingOff)}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: ref.PracticeID, Actor: a.UserID, Action: "erasure.requested",
			RecordType: "client", RecordID: ref.ID, At: now})
	})
	return out, err
}

// describe fills in who asked and who may cancel, from the client's
// portal account (nil without one).
func (r *ErasureRequest) describe(clientUser *uuid.UUID) {
	r.ClientHasAccount = clientUser != nil
	r.ByClient = clientUser != nil && *clientUser == r.RequestedBy
}

// PendingErasure returns the pending erasure request of the actor's own
// record (clientID nil; clients only), or, for staff, of one of the clients
// they see: the owner any of the practice's, a coach their own. None
// pending is ErrNoErasurePending.
func (s *Service) PendingErasure(ctx context.Context, a auth.Actor, clientID *uuid.UUID) (ErasureRequest, error) {
	if clientID == nil && !a.IsClient() {
		return ErasureRequest{}, ErrNotClient
	}
	id := a.ClientID
	if clientID != nil {
		id = *clientID
	}
	db := s.c.Store.DB.WithContext(ctx)
	ref, err := clients.Visible(db, a, id)
	if err != nil {
		return ErasureRequest{}, err
	}
	var row struct {
		ErasureRequest
		ClientUserID *uuid.UUID
	}
	err = db.Table("erasure_requests AS e").Select("e.*, c.user_id AS client_user_id").
		Joins("JOIN clients c ON c.practice_id = e.practice_id AND c.id = e.client_id").
		Where("e.practice_id = ? AND e.client_id = ? AND e.status = ?", ref.PracticeID, ref.ID, ErasurePending).
		Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErasureRequest{}, ErrNoErasurePending
	}
	if err != nil {
		return ErasureRequest{}, err
	}
	out := row.ErasureRequest
	out.describe(row.ClientUserID)
	return out, nil
}

// CancelErasure cancels a pending erasure request: the actor's own
// (clientID nil; clients only), or, for the owner, that of one of the
// practice's clients. Cancelling is the safe direction: it needs no fresh
// authentication.
func (s *Service) CancelErasure(ctx context.Context, a auth.Actor, clientID *uuid.UUID) error {
	if clientID == nil && !a.IsClient() {
		return ErrNotClient
	}
	now := s.c.Clock.Now().UTC()
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		id := a.ClientID
		if clientID != nil {
			id = *clientID
		}
		ref, err := clients.Visible(tx, a, id)
		if err != nil {
			return err
		}
		res := tx.Table("erasure_requests").Where("practice_id = ? AND client_id = ? AND status = ?", ref.PracticeID, ref.ID, ErasurePending).
			Updates(map[string]any{"status": ErasureCancelled, "cancelled_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNoErasurePending
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: ref.PracticeID, Actor: a.UserID, Action: "erasure.cancelled",
			RecordType: "client", RecordID: ref.ID, At: now})
	})
}

// RunDueErasures carries out every pending erasure whose cooling-off period
// has ended, each in its own transaction.
func (s *Service) RunDueErasures(ctx context.Context) error {
	now := s.c.Clock.Now().UTC()
	var due []ErasureRequest
	if err := s.c.Store.DB.WithContext(ctx).Where("status = ? AND due_at <= ?", ErasurePending, now).
		Order("due_at").Limit(100).Find(&due).Error; err != nil {
		return err
	}
	var errs []error
	for _, r := range due {
		err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
			res := tx.Table("erasure_requests").Where("id = ? AND status = ?", r.ID, ErasurePending).
				Updates(map[string]any{"status": ErasureDone, "executed_at": now})
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error // cancelled meanwhile, or done by another run
			}
			return s.erase(ctx, tx, r.PracticeID, r.ClientID, now)
		})
		if err != nil {
			s.c.Log.WarnContext(ctx, "erasure failed", slog.String("request_id", r.ID.String()), slog.String("error", err.Error()))
			errs = append(errs, err)
			continue
		}
		s.c.Log.InfoContext(ctx, "client record erased", slog.String("practice_id", r.PracticeID.String()),
			slog.String("client_id", r.ClientID.String()), slog.String("request_id", r.ID.String()))
	}
	return errors.Join(errs...)
}

// Erased is what stands in for erased names.
const (
	ErasedClientName = "Erased client"
	ErasedUserName   = "Erased user"
)

// erase deletes or irreversibly anonymises every piece of personal data of
// one client, in tx: consents still active are revoked and their
// therapists told first; what must stay to prove who saw what (the client
// row's ID, consents' IDs, classes and dates, the disclosure log, the audit
// events) stays without names, contact details, texts or IP addresses.
func (s *Service) erase(ctx context.Context, tx *gorm.DB, practiceID, clientID uuid.UUID, now time.Time) error {
	purge := uuid.Must(uuid.NewV7())
	if err := tx.Exec("INSERT INTO privacy_purges (id, reason) VALUES (?, 'erasure')", purge).Error; err != nil {
		return err
	}
	var c struct {
		UserID *uuid.UUID
		Email  *string
		Name   string
	}
	if err := tx.Table("clients").Select("user_id, email, name").Where("practice_id = ? AND id = ?", practiceID, clientID).
		Take(&c).Error; err != nil {
		return fmt.Errorf("load client: %w", err)
	}
	if err := s.revokeForErasure(ctx, tx, practiceID, clientID, now); err != nil {
		return err
	}
	scope := []any{practiceID, clientID}
	consentsOf := tx.Table("consents").Select("id").Where("practice_id = ? AND client_id = ?", scope...)
	goalsOf := tx.Table("goals").Select("id").Where("practice_id = ? AND client_id = ?", scope...)
	statements := []struct {
		sql  string
		args []any
	}{
		{"DELETE FROM therapist_invitations WHERE practice_id = ? AND consent_id IN (?)", []any{practiceID, consentsOf}},
		{"DELETE FROM coordination_notes WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM action_steps WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM goal_progress WHERE practice_id = ? AND goal_id IN (?)", []any{practiceID, goalsOf}},
		{"DELETE FROM goals WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM coaching_sessions WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM client_invitations WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM history_imports WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM export_chunks WHERE export_id IN (SELECT id FROM exports WHERE practice_id = ? AND client_id = ?)", scope},
		{"DELETE FROM exports WHERE practice_id = ? AND client_id = ?", scope},
		// The consent stays (the disclosures name it) without what the
		// client wrote or their signature; the signed text's version and
		// digest stay.
		{"UPDATE consents SET purpose = '', signature_name = CASE WHEN signature_name IS NULL THEN NULL ELSE '' END, " +
			"signed_ip = NULL, signed_user_agent = NULL, updated_at = ? WHERE practice_id = ? AND client_id = ?", []any{now, practiceID, clientID}},
		{"UPDATE disclosures SET purpose = '', request_id = '' WHERE practice_id = ? AND client_id = ?", scope},
		{"DELETE FROM webhook_deliveries WHERE practice_id = ? AND payload LIKE ?", []any{practiceID, "%" + clientID.String() + "%"}},
		{"UPDATE clients SET name = ?, email = NULL, phone = NULL, timezone = 'UTC', user_id = NULL, status = 'archived', " +
			"archived_at = COALESCE(archived_at, ?), erased_at = ?, version = version + 1, updated_at = ? WHERE practice_id = ? AND id = ?",
			[]any{ErasedClientName, now, now, now, practiceID, clientID}},
	}
	if c.UserID != nil {
		statements = append(statements, struct {
			sql  string
			args []any
		}{"UPDATE audit_events SET ip = '', request_id = '' WHERE practice_id = ? AND actor_user_id = ?", []any{practiceID, *c.UserID}})
	}
	for _, st := range statements {
		if err := tx.Exec(st.sql, st.args...).Error; err != nil {
			return fmt.Errorf("erase: %w", err)
		}
	}
	if c.Email != nil {
		if err := tx.Exec("DELETE FROM email_tokens WHERE email = ?", *c.Email).Error; err != nil {
			return err
		}
	}
	if c.UserID != nil {
		if err := s.eraseAccount(tx, practiceID, *c.UserID, now); err != nil {
			return err
		}
	}
	if err := s.forgetJobs(tx, c.Email, c.UserID, c.Name); err != nil {
		return err
	}
	if err := forgetDeliveries(tx, practiceID, clientID, c.Email, c.UserID); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Entry{PracticeID: practiceID, Action: "client.erased", RecordType: "client",
		RecordID: clientID, At: now}); err != nil {
		return err
	}
	return tx.Exec("DELETE FROM privacy_purges WHERE id = ?", purge).Error
}

// revokeForErasure revokes the client's live consents and tells each
// therapist, without naming the client: the e-mail outlives the erasure in
// the job queue for as long as it takes to send.
func (s *Service) revokeForErasure(ctx context.Context, tx *gorm.DB, practiceID, clientID uuid.UUID, now time.Time) error {
	var live []struct {
		ID             uuid.UUID
		Status         string
		TherapistEmail string
	}
	// The therapist is told at their account's address once they accepted,
	// at the address the client named before.
	if err := tx.Raw(`SELECT c.id, c.status, COALESCE(u.email, c.therapist_email) AS therapist_email
		FROM consents c LEFT JOIN users u ON u.id = c.therapist_user_id
		WHERE c.practice_id = ? AND c.client_id = ? AND c.status IN ('active', 'pending', 'requested')`, practiceID, clientID).
		Scan(&live).Error; err != nil {
		return err
	}
	for _, c := range live {
		if err := tx.Table("consents").Where("id = ?", c.ID).Updates(map[string]any{"status": "revoked", "revoked_at": now,
			"revoke_reason": "erasure", "updated_at": now}).Error; err != nil {
			return err
		}
		if c.Status == "requested" {
			continue // a coach's request: no therapist was ever told
		}
		if err := jobs.EnqueueMail(ctx, s.c.Store, tx, jobs.Mail{Key: jobs.Key("consent-erased", c.ID), Message: tmail.Message{
			To: c.TherapistEmail, Subject: "A consent to share coaching information with you has ended",
			Text: "Hello,\n\nA client who had consented to share coaching information with you through Tandem has asked " +
				"for their coaching record to be erased. Their consent (reference " + c.ID.String() + ") is revoked: " +
				"you can no longer see their information, and it has been deleted.\n",
		}}); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{PracticeID: practiceID, Action: "consent.revoked", RecordType: "consent",
			RecordID: c.ID, At: now}); err != nil {
			return err
		}
	}
	return nil
}

// eraseAccount erases the client's portal account, unless it is also
// someone's account elsewhere (a coach, or a client of another practice):
// then only this practice's traces go.
func (s *Service) eraseAccount(tx *gorm.DB, practiceID, userID uuid.UUID, now time.Time) error {
	if err := tx.Exec("DELETE FROM calendar_feeds WHERE practice_id = ? AND user_id = ?", practiceID, userID).Error; err != nil {
		return err
	}
	var others int64
	if err := tx.Raw("SELECT (SELECT count(*) FROM memberships WHERE user_id = ?) + (SELECT count(*) FROM clients WHERE user_id = ?)",
		userID, userID).Row().Scan(&others); err != nil {
		return err
	}
	if others > 0 {
		return nil
	}
	sessions := tx.Table("auth_sessions").Select("id").Where("user_id = ?", userID)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"DELETE FROM refresh_tokens WHERE session_id IN (?)", []any{sessions}},
		{"DELETE FROM auth_sessions WHERE user_id = ?", []any{userID}},
		{"DELETE FROM email_tokens WHERE user_id = ?", []any{userID}},
		{"DELETE FROM mfa_recovery_codes WHERE user_id = ?", []any{userID}},
		{"DELETE FROM mfa_challenges WHERE user_id = ?", []any{userID}},
		{"DELETE FROM notification_preferences WHERE user_id = ?", []any{userID}},
		{"DELETE FROM digest_schedule WHERE user_id = ?", []any{userID}},
		{"DELETE FROM calendar_feeds WHERE user_id = ?", []any{userID}},
		// The row stays, so that the audit events and consents that name
		// its ID still hold; nothing in it identifies anyone, and no
		// password opens it.
		{"UPDATE users SET name = ?, email = ?, password_hash = '!erased', totp_secret = NULL, totp_enabled_at = NULL, " +
			"email_verified_at = NULL, updated_at = ? WHERE id = ?",
			[]any{ErasedUserName, "erased-" + userID.String() + "@erased.invalid", now, userID}},
	} {
		if err := tx.Exec(q.sql, q.args...).Error; err != nil {
			return fmt.Errorf("erase account: %w", err)
		}
	}
	return nil
}

// forgetDeliveries deletes the e-mail delivery log's entries about the
// client and those to their address or account: the log names recipients,
// and an erased client's address is personal data like any other.
func forgetDeliveries(tx *gorm.DB, practiceID, clientID uuid.UUID, email *string, userID *uuid.UUID) error {
	q := tx.Where("practice_id = ? AND client_id = ?", practiceID, clientID)
	if email != nil && *email != "" {
		q = q.Or("recipient = ?", *email)
	}
	if userID != nil {
		q = q.Or("user_id = ?", *userID)
		if err := tx.Exec("DELETE FROM recent_writers WHERE user_id = ?", *userID).Error; err != nil {
			return fmt.Errorf("forget recent writes: %w", err)
		}
	}
	if err := q.Delete(&jobs.DeliveryRow{}).Error; err != nil {
		return fmt.Errorf("forget deliveries: %w", err)
	}
	return nil
}

// forgetJobs deletes from the job queue what mentions the client: e-mails
// to them not yet sent, and finished jobs (River keeps them a day) whose
// arguments name them. Running jobs are left alone.
func (s *Service) forgetJobs(tx *gorm.DB, email *string, userID *uuid.UUID, name string) error {
	args := "args::text"
	if s.c.Store.Dialect == store.SQLite {
		args = "json(args)"
	}
	var needles []string
	if email != nil && *email != "" {
		needles = append(needles, *email)
	}
	if userID != nil {
		needles = append(needles, userID.String())
	}
	for _, n := range needles {
		if err := tx.Exec("DELETE FROM river_job WHERE state <> 'running' AND "+args+" LIKE ?", "%"+n+"%").Error; err != nil {
			return fmt.Errorf("forget jobs: %w", err)
		}
	}
	if len(name) >= 3 {
		if err := tx.Exec("DELETE FROM river_job WHERE state IN ('completed', 'cancelled', 'discarded') AND "+args+" LIKE ?",
			"%"+name+"%").Error; err != nil {
			return fmt.Errorf("forget jobs: %w", err)
		}
	}
	return nil
}
