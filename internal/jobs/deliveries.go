package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/store"
)

// The delivery log: one row per e-mail queued, written in the transaction
// that queues it and kept up to date by the worker that sends it. It holds
// what the e-mail is about, to whom, and how sending it went; never the
// message. Its key is the e-mail's idempotency key, kept for as long as the
// row: an e-mail whose key is logged is not queued again, even once River
// has forgotten the job that sent it.

// Delivery states.
const (
	DeliveryQueued   = "queued"   // waiting for its first attempt (or its time)
	DeliveryRetrying = "retrying" // an attempt failed; it will be tried again
	DeliverySent     = "sent"     // the mail server accepted it
	DeliveryFailed   = "failed"   // every attempt failed; given up
)

// About names what an e-mail is about, for the delivery log: the practice
// and the client it concerns and the recipient's account, each where there
// is one (an e-mail about someone's own account names no practice). Staff
// read their practice's e-mails (a coach those about their own clients and
// to themselves); everyone reads the e-mails sent to them.
type About struct {
	PracticeID uuid.UUID `json:"practice_id,omitzero"`
	ClientID   uuid.UUID `json:"client_id,omitzero"`
	UserID     uuid.UUID `json:"user_id,omitzero"`
}

// DeliveryRow is one logged e-mail.
type DeliveryRow struct {
	ID         uuid.UUID
	Key        string
	Kind       string
	PracticeID *uuid.UUID
	ClientID   *uuid.UUID
	UserID     *uuid.UUID
	Recipient  string
	Status     string
	Attempts   int
	LastError  *string
	SendAfter  time.Time
	SentAt     *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// TableName maps DeliveryRow to its table.
func (DeliveryRow) TableName() string { return "mail_deliveries" }

// KindOf is the kind of e-mail a key names: its part before the first colon
// ("consent-revoked" of "consent-revoked:<id>").
func KindOf(key string) string {
	kind, _, _ := strings.Cut(key, ":")
	return kind
}

// maxErrorLen bounds a logged error: enough for a mail server's answer.
const maxErrorLen = 500

// InsertEmails queues e-mail jobs (params' Args are EmailArgs) in tx, the
// transaction of the change that causes them, and logs each. An e-mail
// whose key is logged already, by this call or any before, is not queued
// again. It reports, for each, whether it was queued. Two statements
// however many there are: one writes the log, one the jobs.
func InsertEmails(ctx context.Context, st *store.Store, tx *gorm.DB, params []river.InsertManyParams) ([]bool, error) {
	if len(params) == 0 {
		return nil, nil
	}
	now := time.Now().UTC()
	rows := make([]DeliveryRow, len(params))
	for i, p := range params {
		args, ok := p.Args.(EmailArgs)
		if !ok {
			return nil, fmt.Errorf("jobs: InsertEmails given a %s job", p.Args.Kind())
		}
		if args.Key == "" {
			return nil, fmt.Errorf("e-mail %q has no idempotency key", args.Subject)
		}
		sendAfter := now
		if p.InsertOpts != nil && p.InsertOpts.ScheduledAt.After(now) {
			sendAfter = p.InsertOpts.ScheduledAt.UTC()
		}
		rows[i] = DeliveryRow{ID: uuid.Must(uuid.NewV7()), Key: args.Key, Kind: KindOf(args.Key),
			PracticeID: nonNil(args.PracticeID), ClientID: nonNil(args.ClientID), UserID: nonNil(args.UserID),
			Recipient: args.To, Status: DeliveryQueued, SendAfter: sendAfter, CreatedAt: now, UpdatedAt: now}
	}
	if err := resolveRecipients(tx, rows); err != nil {
		return nil, err
	}
	logged, err := logDeliveries(tx, rows)
	if err != nil {
		return nil, err
	}
	isNew := make(map[string]bool, len(logged))
	for _, k := range logged {
		isNew[k] = true
	}
	queued := make([]bool, len(params))
	fresh := make([]river.InsertManyParams, 0, len(logged))
	for i, p := range params {
		// The same key twice in one call: the first is queued.
		if k := rows[i].Key; isNew[k] {
			queued[i], isNew[k] = true, false
			fresh = append(fresh, p)
		}
	}
	if _, err := st.InsertJobs(ctx, tx, fresh); err != nil {
		return nil, err
	}
	return queued, nil
}

// resolveRecipients names the account of each row's recipient that the
// caller did not name, where the address is one (in one statement, only
// when some row needs it): the log shows a person the e-mails sent to their
// account, not every e-mail their address ever received.
func resolveRecipients(tx *gorm.DB, rows []DeliveryRow) error {
	var emails []string
	for _, r := range rows {
		if r.UserID == nil {
			emails = append(emails, strings.ToLower(r.Recipient))
		}
	}
	if len(emails) == 0 {
		return nil
	}
	var users []struct {
		ID    uuid.UUID
		Email string
	}
	if err := tx.Table("users").Select("id, email").Where("email IN ?", emails).Scan(&users).Error; err != nil {
		return err
	}
	byEmail := make(map[string]uuid.UUID, len(users))
	for _, u := range users {
		byEmail[u.Email] = u.ID
	}
	for i, r := range rows {
		if id, ok := byEmail[strings.ToLower(r.Recipient)]; ok && r.UserID == nil {
			rows[i].UserID = &id
		}
	}
	return nil
}

// deliveryColumns are the log's columns as logDeliveries writes them.
const deliveryColumns = "id, key, kind, practice_id, client_id, user_id, recipient, status, attempts, send_after, created_at, updated_at"

// logDeliveries writes rows whose keys are not logged yet, in one
// statement, and returns the keys it wrote.
func logDeliveries(tx *gorm.DB, rows []DeliveryRow) ([]string, error) {
	var sql strings.Builder
	sql.WriteString("INSERT INTO mail_deliveries (" + deliveryColumns + ") VALUES ")
	args := make([]any, 0, len(rows)*12)
	for i, r := range rows {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, r.ID, r.Key, r.Kind, r.PracticeID, r.ClientID, r.UserID, r.Recipient, r.Status, r.Attempts,
			r.SendAfter, r.CreatedAt, r.UpdatedAt)
	}
	sql.WriteString(" ON CONFLICT (key) DO NOTHING RETURNING key")
	var logged []string
	if err := tx.Raw(sql.String(), args...).Scan(&logged).Error; err != nil {
		return nil, fmt.Errorf("log %d e-mails: %w", len(rows), err)
	}
	return logged, nil
}

func nonNil(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// recordAttempt writes how an attempt at the e-mail keyed key went.
func recordAttempt(ctx context.Context, st *store.Store, key string, attempt int, sendErr error, final bool) error {
	now := time.Now().UTC()
	set := map[string]any{"attempts": attempt, "updated_at": now}
	switch {
	case sendErr == nil:
		set["status"], set["sent_at"], set["last_error"] = DeliverySent, now, nil
	case final:
		set["status"], set["last_error"] = DeliveryFailed, truncate(sendErr.Error(), maxErrorLen)
	default:
		set["status"], set["last_error"] = DeliveryRetrying, truncate(sendErr.Error(), maxErrorLen)
	}
	return st.DB.WithContext(ctx).Model(&DeliveryRow{}).Where("key = ?", key).Updates(set).Error
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n]
}

// PurgeDeliveries deletes the log's rows created before cutoff, at most
// batch at a time, and reports how many it deleted.
func PurgeDeliveries(ctx context.Context, st *store.Store, cutoff time.Time, batch int) (int64, error) {
	var total int64
	for {
		res := st.DB.WithContext(ctx).Exec(
			`DELETE FROM mail_deliveries WHERE id IN (SELECT id FROM mail_deliveries WHERE created_at < ? LIMIT ?)`,
			cutoff.UTC(), batch)
		if res.Error != nil {
			return total, res.Error
		}
		total += res.RowsAffected
		if res.RowsAffected < int64(batch) {
			return total, nil
		}
	}
}
