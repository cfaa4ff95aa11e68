// Package jobs is Tandem's durable work: jobs inserted in the transaction
// of the change that causes them (River, in Tandem's own database) and the
// workers that carry them out, in `tandem serve` or `tandem worker`.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
)

// KindEmail is the kind of the job that sends one e-mail.
const KindEmail = "email"

// MailAttempts is how often an e-mail is tried before its job is
// discarded: with River's backoff (attempt⁴ seconds and some jitter) the
// last try comes about half a day after the first.
const MailAttempts = 12

// EmailArgs is an e-mail job: the message exactly as it goes out, rendered
// when the change that causes it commits. It holds nothing secret beyond
// what the e-mail itself carries (a single-use link, where the mail is
// about one), and is never logged.
type EmailArgs struct {
	// Key identifies what the e-mail is about and which occurrence of it
	// (e.g. "consent-revoked:<consent id>"): a second job with the same
	// key is not inserted, so a duplicated insert sends one e-mail.
	Key     string            `json:"key" river:"unique"`
	To      string            `json:"to"`
	Subject string            `json:"subject"`
	Text    string            `json:"text"`
	HTML    string            `json:"html,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	// Attachments travel in the job as they go out (an iCalendar event).
	Attachments []mail.Attachment `json:"attachments,omitempty"`
	// About is what the delivery log files the e-mail under.
	About
}

// Kind names the job kind.
func (EmailArgs) Kind() string { return KindEmail }

// InsertOpts makes e-mail jobs unique by key, in every state but
// discarded and cancelled (River's default), and bounds their attempts.
func (EmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: MailAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func (a EmailArgs) message() mail.Message {
	return mail.Message{To: a.To, Subject: a.Subject, Text: a.Text, HTML: a.HTML, Headers: a.Headers, Attachments: a.Attachments}
}

// Mail is one e-mail to send, its idempotency key (see EmailArgs.Key) and
// what the delivery log files it under.
type Mail struct {
	Key string
	About
	mail.Message
}

// EnqueueMail inserts the jobs that send msgs in tx, the transaction of the
// change that causes them: they are sent only if it commits, and a crash
// after the commit loses none. Each is logged (see InsertEmails); one whose
// key was queued before is not queued again.
func EnqueueMail(ctx context.Context, st *store.Store, tx *gorm.DB, msgs ...Mail) error {
	params := make([]river.InsertManyParams, len(msgs))
	for i, m := range msgs {
		params[i] = river.InsertManyParams{Args: EmailArgs{Key: m.Key, To: m.To, Subject: m.Subject, Text: m.Text,
			HTML: m.HTML, Headers: m.Headers, Attachments: m.Attachments, About: m.About}}
	}
	_, err := InsertEmails(ctx, st, tx, params)
	return err
}

// Key builds an idempotency key from what an e-mail is about and the
// identifiers of its occurrence.
func Key(about string, occurrence ...any) string {
	parts := make([]string, 0, len(occurrence)+1)
	parts = append(parts, about)
	for _, o := range occurrence {
		switch v := o.(type) {
		case time.Time:
			parts = append(parts, v.UTC().Format(time.RFC3339Nano))
		default:
			parts = append(parts, fmt.Sprint(v))
		}
	}
	return strings.Join(parts, ":")
}

// emailWorker sends e-mail jobs.
type emailWorker struct {
	river.WorkerDefaults[EmailArgs]
	mailer mail.Mailer
	store  *store.Store
	log    *slog.Logger
}

// mailTimeout bounds one attempt; the SMTP client's own timeout is shorter.
const mailTimeout = time.Minute

func (w *emailWorker) Timeout(*river.Job[EmailArgs]) time.Duration { return mailTimeout }

// Work sends the e-mail. A failure is returned for River to try again
// later; after the last attempt the job is discarded and that is logged.
// Logs name the job and its key, never the message's text: it may hold a
// single-use link.
//
// Each attempt is written to the delivery log. Sending and logging are not
// one transaction (a mail server is not a database): a process that dies
// between the two sends the e-mail again when the job is rescued, and logs
// it then.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[EmailArgs]) error {
	err := w.mailer.Send(ctx, job.Args.message())
	final := err != nil && job.Attempt >= job.MaxAttempts
	if logErr := recordAttempt(ctx, w.store, job.Args.Key, job.Attempt, err, final); logErr != nil {
		// The e-mail's fate does not hang on its log line.
		w.log.WarnContext(ctx, "e-mail attempt not written to the delivery log", slog.Int64("job_id", job.ID),
			slog.String("key", job.Args.Key), slog.String("error", logErr.Error()))
	}
	if err == nil {
		return nil
	}
	attrs := []any{slog.Int64("job_id", job.ID), slog.String("key", job.Args.Key),
		slog.Int("attempt", job.Attempt), slog.Int("max_attempts", job.MaxAttempts), slog.String("error", err.Error())}
	if final {
		w.log.ErrorContext(ctx, "e-mail discarded after its last attempt", attrs...)
	} else {
		w.log.WarnContext(ctx, "e-mail attempt failed; it will be tried again", attrs...)
	}
	return err
}

// MailSettled waits until no e-mail job is waiting to be tried or being
// sent (a failed one waiting for its retry does not count), or until ctx
// ends. For the development mailbox and tests, which read what was sent
// right after the request that queued it.
func MailSettled(ctx context.Context, st *store.Store) error {
	for {
		var pending int64
		err := st.DB.WithContext(ctx).
			Raw("SELECT count(*) FROM river_job WHERE kind = ? AND state IN ('available', 'running', 'pending')", KindEmail).
			Scan(&pending).Error
		if err != nil || pending == 0 {
			return err
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
