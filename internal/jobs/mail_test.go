package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// database is a migrated database that a test can open more than once, as
// processes after one another do: a SQLite file, or a PostgreSQL database
// of its own.
func database(t *testing.T) func() *store.Store {
	t.Helper()
	opts := store.Options{PostgresURL: storetest.PostgresURL(t)}
	if opts.PostgresURL == "" {
		opts.SQLitePath = filepath.Join(t.TempDir(), "tandem.db")
	}
	open := func() *store.Store {
		t.Helper()
		st, err := store.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	st := open()
	if _, err := st.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()
	return open
}

// smtpMailer sends to a running mailpit.
func smtpMailer(t testing.TB, mp *mailtest.Mailpit) mail.Mailer {
	t.Helper()
	m, err := mail.New(mp.SMTPURL(), "Tandem <no-reply@tandem.localhost>", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// work runs the job queue's workers on st until the test ends.
func work(t *testing.T, st *store.Store, mailer mail.Mailer, log *slog.Logger) *jobs.Runner {
	t.Helper()
	r, err := jobs.Start(context.Background(), st, jobs.Options{Mailer: mailer, Log: log, PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = r.Stop(ctx)
	})
	return r
}

// settle waits until the queue has tried every e-mail queued.
func settle(t *testing.T, st *store.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := jobs.MailSettled(ctx, st); err != nil {
		t.Fatalf("e-mail jobs still queued: %v", err)
	}
}

// received waits for mailpit to hold at least want messages (bounded), then
// a little longer, and returns how many it holds: a duplicate would arrive
// in that time.
func received(t *testing.T, mp *mailtest.Mailpit, want int) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(mp.Messages(t)) < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	return len(mp.Messages(t))
}

func countJobs(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var n int64
	if err := st.DB.Raw("SELECT count(*) FROM river_job WHERE kind = ?", jobs.KindEmail).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func insertPractice(tx *gorm.DB, id uuid.UUID) error {
	now := time.Now().UTC()
	return tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'P', 1, ?, ?)", id, now, now).Error
}

func message(to string) mail.Message {
	return mail.Message{To: to, Subject: "Hello", Text: "Open https://tandem.example/accept-invitation#token=secret-link-token"}
}

// TestMailJobCommitsAndRollsBackWithItsChange: a transaction that fails
// after queuing its e-mail leaves neither its change nor the job, and sends
// nothing; one that commits sends its e-mail once.
func TestMailJobCommitsAndRollsBackWithItsChange(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	st := storetest.Open(t)
	work(t, st, smtpMailer(t, mp), nil)
	ctx := context.Background()

	failed := uuid.Must(uuid.NewV7())
	boom := errors.New("a later step failed")
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		if err := insertPractice(tx, failed); err != nil {
			return err
		}
		if err := jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: jobs.Key("test", failed), Message: message("rolled@back.example")}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the failure", err)
	}
	if n := countJobs(t, st); n != 0 {
		t.Fatalf("%d e-mail jobs after the rollback, want 0", n)
	}

	done := uuid.Must(uuid.NewV7())
	if err := st.Tx(ctx, func(tx *gorm.DB) error {
		if err := insertPractice(tx, done); err != nil {
			return err
		}
		return jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: jobs.Key("test", done), Message: message("committed@example.com")})
	}); err != nil {
		t.Fatal(err)
	}
	if n := received(t, mp, 1); n != 1 {
		t.Fatalf("mailpit received %d messages, want the committed one", n)
	}
	got := mp.Messages(t)[0]
	if len(got.To) != 1 || got.To[0] != "committed@example.com" || !strings.Contains(got.Text, "#token=secret-link-token") {
		t.Fatalf("received %+v", got)
	}
}

// TestMailJobOutsideATransactionIsRefused: on SQLite's single writer an
// insert outside the open transaction would wait for it forever.
func TestMailJobOutsideATransactionIsRefused(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	err := jobs.EnqueueMail(context.Background(), st, st.DB, jobs.Mail{Key: "k", Message: message("x@example.com")})
	if !errors.Is(err, store.ErrNoTransaction) {
		t.Fatalf("EnqueueMail outside a transaction = %v, want ErrNoTransaction", err)
	}
}

// TestMailJobSurvivesARestart: a job queued by one process, which stops
// before working it, is delivered exactly once by the next.
func TestMailJobSurvivesARestart(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	open := database(t)
	ctx := context.Background()

	first := open()
	r := work(t, first, mail.LogMailer{Log: slog.New(slog.DiscardHandler)}, nil)
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := r.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if err := first.Tx(ctx, func(tx *gorm.DB) error {
		return jobs.EnqueueMail(ctx, first, tx, jobs.Mail{Key: "restart", Message: message("later@example.com")})
	}); err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(mp.Messages(t)); n != 0 {
		t.Fatalf("%d messages before any worker ran", n)
	}

	second := open()
	work(t, second, smtpMailer(t, mp), nil)
	if n := received(t, mp, 1); n != 1 {
		t.Fatalf("mailpit received %d messages after the restart, want 1", n)
	}
}

// TestDuplicateMailJobSendsOnce: the same key queued twice, in two
// transactions, is one job and one e-mail.
func TestDuplicateMailJobSendsOnce(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	st := storetest.Open(t)
	ctx := context.Background()
	var inserted []bool
	for range 2 {
		if err := st.Tx(ctx, func(tx *gorm.DB) error {
			ok, err := st.InsertJob(ctx, tx, jobs.EmailArgs{Key: "dup:1", To: "once@example.com", Subject: "Once", Text: "once"}, nil)
			inserted = append(inserted, ok)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(inserted) != 2 || !inserted[0] || inserted[1] {
		t.Fatalf("inserted = %v, want the first only", inserted)
	}
	work(t, st, smtpMailer(t, mp), nil)
	if n := received(t, mp, 1); n != 1 {
		t.Fatalf("mailpit received %d messages, want 1", n)
	}
	// Queued again after it was sent: still one.
	if err := st.Tx(ctx, func(tx *gorm.DB) error {
		return jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: "dup:1", Message: mail.Message{To: "once@example.com", Subject: "Once", Text: "once"}})
	}); err != nil {
		t.Fatal(err)
	}
	settle(t, st)
	if n := received(t, mp, 1); n != 1 {
		t.Fatalf("mailpit received %d messages after a late duplicate, want 1", n)
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestFailedMailIsDiscardedAfterItsLastAttempt: an e-mail the server keeps
// refusing is discarded after its last attempt, and that is logged without
// the message's text.
func TestFailedMailIsDiscardedAfterItsLastAttempt(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	var logs lockedBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	refusing, err := mail.New("smtp://127.0.0.1:1?tls=none", "Tandem <no-reply@tandem.localhost>", log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	msg := message("nobody@example.com")
	if err := st.Tx(ctx, func(tx *gorm.DB) error {
		_, err := st.InsertJob(ctx, tx, jobs.EmailArgs{Key: "doomed", To: msg.To, Subject: msg.Subject, Text: msg.Text},
			&river.InsertOpts{MaxAttempts: 1})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	work(t, st, refusing, log)
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "e-mail discarded after its last attempt") {
		if time.Now().After(deadline) {
			t.Fatalf("no discard logged:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// River records the discard just after the worker returns.
	var state string
	for state != "discarded" {
		if err := st.DB.Raw("SELECT state FROM river_job WHERE kind = ?", jobs.KindEmail).Scan(&state).Error; err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job state = %q, want discarded", state)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "secret-link-token") {
		t.Fatal("the message's link is in the log")
	}
}

// deliveryOf reads the delivery log's row for key.
func deliveryOf(t *testing.T, st *store.Store, key string) jobs.DeliveryRow {
	t.Helper()
	var row jobs.DeliveryRow
	if err := st.DB.Where("key = ?", key).Take(&row).Error; err != nil {
		t.Fatalf("delivery %s: %v", key, err)
	}
	return row
}

// waitDelivery waits until key's row has status.
func waitDelivery(t *testing.T, st *store.Store, key, status string) jobs.DeliveryRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		row := deliveryOf(t, st, key)
		if row.Status == status {
			return row
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s is %s after %d attempts, want %s", key, row.Status, row.Attempts, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeliveryLogFollowsEachAttempt: an e-mail is logged as queued when its
// change commits; a refused attempt is logged with the server's answer and
// tried again; the attempt that goes through is logged as sent. The log
// holds no part of the message.
func TestDeliveryLogFollowsEachAttempt(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	st := storetest.Open(t)
	ctx := context.Background()
	practice, client := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	key := jobs.Key("client-invitation", uuid.Must(uuid.NewV7()))
	if err := st.Tx(ctx, func(tx *gorm.DB) error {
		if err := insertPractice(tx, practice); err != nil {
			return err
		}
		return jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: key, About: jobs.About{PracticeID: practice, ClientID: client},
			Message: message("Retry@Example.com")})
	}); err != nil {
		t.Fatal(err)
	}
	row := deliveryOf(t, st, key)
	if row.Status != jobs.DeliveryQueued || row.Attempts != 0 || row.Kind != "client-invitation" ||
		row.Recipient != "Retry@Example.com" || row.PracticeID == nil || *row.PracticeID != practice ||
		row.ClientID == nil || *row.ClientID != client || row.UserID != nil {
		t.Fatalf("queued delivery = %+v", row)
	}

	mp.RefuseRecipients(t, 451)
	work(t, st, smtpMailer(t, mp), nil)
	row = waitDelivery(t, st, key, jobs.DeliveryRetrying)
	if row.Attempts != 1 || row.LastError == nil || !strings.Contains(*row.LastError, "451") || row.SentAt != nil {
		t.Fatalf("after a refused attempt: %+v", row)
	}
	mp.RefuseRecipients(t, 0)
	// River tries again about a second after the first attempt (attempt⁴ s).
	row = waitDelivery(t, st, key, jobs.DeliverySent)
	if row.Attempts != 2 || row.LastError != nil || row.SentAt == nil {
		t.Fatalf("after the attempt that went through: %+v", row)
	}
	if n := received(t, mp, 1); n != 1 {
		t.Fatalf("mailpit received %d messages, want 1", n)
	}
	var logged string
	if err := st.DB.Raw("SELECT key || kind || recipient || COALESCE(last_error, '') FROM mail_deliveries").Scan(&logged).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logged, "secret-link-token") || strings.Contains(logged, "Hello") {
		t.Fatalf("the delivery log holds the message: %q", logged)
	}
}

// TestLoggedKeyIsNeverQueuedAgain: once an e-mail's key is in the delivery
// log it is not queued again, even after River has deleted its finished
// job (which it does after a day): a periodic task that finds the same
// occurrence again sends nothing.
func TestLoggedKeyIsNeverQueuedAgain(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	st := storetest.Open(t)
	ctx := context.Background()
	work(t, st, smtpMailer(t, mp), nil)
	enqueue := func() {
		t.Helper()
		if err := st.Tx(ctx, func(tx *gorm.DB) error {
			return jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: "billing-grace-ending:p1", Message: message("owner@example.com")})
		}); err != nil {
			t.Fatal(err)
		}
	}
	enqueue()
	waitDelivery(t, st, "billing-grace-ending:p1", jobs.DeliverySent)
	settle(t, st)
	// What River's cleaner does to a completed job a day later.
	if err := st.DB.Exec("DELETE FROM river_job WHERE kind = ?", jobs.KindEmail).Error; err != nil {
		t.Fatal(err)
	}
	enqueue()
	if n := countJobs(t, st); n != 0 {
		t.Fatalf("%d e-mail jobs queued for a logged key, want 0", n)
	}
	if n := received(t, mp, 1); n != 1 {
		t.Fatalf("mailpit received %d messages, want 1", n)
	}
}
