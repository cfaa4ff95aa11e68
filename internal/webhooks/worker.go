package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// Defaults of DelivererConfig.
const (
	DefaultAttemptTimeout = 10 * time.Second
	DefaultBackoff        = 30 * time.Second
	DefaultMaxBackoff     = 6 * time.Hour
	DefaultRetryWindow    = 72 * time.Hour
)

// DelivererConfig configures the delivery of webhooks.
type DelivererConfig struct {
	Store   *store.Store
	Secrets *sealbox.Box
	Guard   Guard
	Clock   clock.Clock
	Log     *slog.Logger
	// BaseURL is Tandem's public URL, for the e-mail to an owner whose
	// endpoint was disabled.
	BaseURL string
	// AttemptTimeout bounds one attempt, connection and answer (zero: 10s).
	AttemptTimeout time.Duration
	// Backoff is the wait before the first retry; it doubles with each
	// failed attempt up to MaxBackoff (zero: 30s and 6h).
	Backoff, MaxBackoff time.Duration
	// RetryWindow is how long a delivery is tried after its event (or its
	// replay); then it fails, and an endpoint with no success since is
	// disabled (zero: 72h).
	RetryWindow time.Duration
	// TLS, when set, configures the TLS of deliveries (tests trust their
	// receiver's certificate with it).
	TLS *tls.Config
}

// Deliverer sends deliveries: its worker runs in the job queue.
type Deliverer struct {
	c      DelivererConfig
	client *http.Client
}

// NewDeliverer returns the deliverer; Workers are its worker, for a queue.
func NewDeliverer(c DelivererConfig) *Deliverer {
	c.AttemptTimeout = cmpOr(c.AttemptTimeout, DefaultAttemptTimeout)
	c.Backoff = cmpOr(c.Backoff, DefaultBackoff)
	c.MaxBackoff = cmpOr(c.MaxBackoff, DefaultMaxBackoff)
	c.RetryWindow = cmpOr(c.RetryWindow, DefaultRetryWindow)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	transport := &http.Transport{
		Proxy:               nil, // a proxy would connect where the guard cannot see
		DialContext:         c.Guard.dialContext(c.AttemptTimeout),
		TLSClientConfig:     c.TLS,
		TLSHandshakeTimeout: c.AttemptTimeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{
		Transport: transport,
		// A redirect is an answer, not a new target: it counts as a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Deliverer{c: c, client: client}
}

func cmpOr(v, fallback time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return fallback
}

// Workers are the delivery worker, for a job queue.
func (d *Deliverer) Workers() jobs.Registration {
	return jobs.Registration{Name: "webhook delivery", LongestTimeout: d.jobTimeout(),
		Register: func(w *river.Workers) { river.AddWorker(w, &deliverWorker{d: d}) }}
}

// jobTimeout bounds a delivery job: the attempt, and recording it.
func (d *Deliverer) jobTimeout() time.Duration { return d.c.AttemptTimeout + 30*time.Second }

// delay is the wait after the attempt-th failed attempt: Backoff doubled
// for each attempt before, at most MaxBackoff.
func (d *Deliverer) delay(attempt int) time.Duration {
	wait := d.c.Backoff
	for i := 1; i < attempt && wait < d.c.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.c.MaxBackoff)
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	d *Deliverer
}

// Timeout bounds the whole job: the attempt, and recording it.
func (w *deliverWorker) Timeout(*river.Job[DeliverArgs]) time.Duration { return w.d.jobTimeout() }

// NextRetry is the exponential backoff (River counts time on its own clock).
func (w *deliverWorker) NextRetry(job *river.Job[DeliverArgs]) time.Time {
	return time.Now().Add(w.d.delay(job.Attempt))
}

// target is what one attempt sends, and where.
type target struct {
	delivery deliveryRow
	endpoint endpointRow
}

// errNothingToSend: the delivery is gone, done, or its endpoint disabled.
var errNothingToSend = errors.New("nothing to send")

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	d := w.d
	t, err := d.load(ctx, job.Args)
	if errors.Is(err, errNothingToSend) {
		return nil
	}
	if err != nil {
		return err
	}
	secret, err := d.c.Secrets.Open(t.endpoint.SecretKeyID, t.endpoint.SecretSealed, t.endpoint.ID[:])
	if err != nil {
		return fmt.Errorf("open the secret of webhook endpoint %s: %w", t.endpoint.ID, err)
	}
	code, sendErr := d.send(ctx, t, string(secret))
	giveUp, err := d.record(ctx, job, t, code, sendErr)
	if err != nil {
		return err
	}
	if sendErr == nil {
		return nil
	}
	attrs := []any{slog.String("delivery_id", t.delivery.ID.String()), slog.String("endpoint_id", t.endpoint.ID.String()),
		slog.Int("attempt", job.Attempt), slog.String("error", sendErr.Error())}
	if giveUp {
		d.c.Log.WarnContext(ctx, "webhook delivery failed for good", attrs...)
		return river.JobCancel(sendErr)
	}
	d.c.Log.InfoContext(ctx, "webhook delivery attempt failed; it will be tried again", attrs...)
	return sendErr
}

// load reads the delivery and its endpoint. A delivery whose endpoint is
// disabled fails without an attempt.
func (d *Deliverer) load(ctx context.Context, args DeliverArgs) (target, error) {
	var t target
	db := d.c.Store.DB.WithContext(ctx)
	err := db.Where("practice_id = ? AND id = ?", args.PracticeID, args.DeliveryID).Take(&t.delivery).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, errNothingToSend // deleted with its endpoint
	}
	if err != nil {
		return t, err
	}
	if t.delivery.Status != StatusPending {
		return t, errNothingToSend
	}
	err = db.Where("practice_id = ? AND id = ?", args.PracticeID, t.delivery.EndpointID).Take(&t.endpoint).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, errNothingToSend
	}
	if err != nil {
		return t, err
	}
	if t.endpoint.DisabledAt != nil {
		now := d.c.Clock.Now()
		err := d.c.Store.Tx(ctx, func(tx *gorm.DB) error {
			return tx.Model(&deliveryRow{}).Where("practice_id = ? AND id = ? AND status = ?", args.PracticeID, args.DeliveryID, StatusPending).
				Updates(map[string]any{"status": StatusFailed, "last_error": "the endpoint is disabled", "updated_at": now}).Error
		})
		if err != nil {
			return t, err
		}
		return t, errNothingToSend
	}
	return t, nil
}

// maxResponseBytes is how much of an answer is read (and thrown away), so
// that the connection can be reused.
const maxResponseBytes = 64 << 10

// send makes one attempt and returns the answer's status code (0 without
// one) and an error unless it was 2xx. Errors name what went wrong, never
// the URL (it may carry a token of the receiver's).
func (d *Deliverer) send(ctx context.Context, t target, secret string) (int, error) {
	body := []byte(t.delivery.Payload)
	ts := d.c.Clock.Now().Unix()
	id := t.delivery.ID.String()
	sig, err := Sign(secret, id, ts, body)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.c.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.endpoint.URL, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("the endpoint's URL is invalid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tandem-Webhooks/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := d.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case errors.Is(err, ErrRefusedAddress):
			return 0, fmt.Errorf("refused to connect: %w", err)
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			return 0, fmt.Errorf("no answer within %v", d.c.AttemptTimeout)
		}
		return 0, fmt.Errorf("could not deliver: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// maxErrorChars bounds the error a delivery records.
const maxErrorChars = 500

// record writes the attempt's outcome, in one transaction. A failure past
// the retry window (or River's last attempt) fails the delivery for good,
// and disables its endpoint when nothing was delivered to it since the
// event; the owners are e-mailed. It reports whether the delivery failed
// for good.
func (d *Deliverer) record(ctx context.Context, job *river.Job[DeliverArgs], t target, code int, sendErr error) (bool, error) {
	now := d.c.Clock.Now()
	set := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_attempt_at": now, "updated_at": now}
	if code != 0 {
		set["response_code"] = code
	} else {
		set["response_code"] = nil
	}
	giveUp := false
	if sendErr == nil {
		set["status"], set["delivered_at"], set["last_error"] = StatusSucceeded, now, nil
	} else {
		msg := sendErr.Error()
		if len(msg) > maxErrorChars {
			msg = msg[:maxErrorChars]
		}
		set["last_error"] = msg
		windowEnds := job.Args.Since.Add(d.c.RetryWindow)
		giveUp = job.Attempt >= job.MaxAttempts || now.Add(d.delay(job.Attempt)).After(windowEnds)
		if giveUp {
			set["status"] = StatusFailed
		}
	}
	err := d.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&deliveryRow{}).Where("practice_id = ? AND id = ? AND status = ?", t.delivery.PracticeID, t.delivery.ID, StatusPending).
			Updates(set)
		if res.Error != nil || res.RowsAffected == 0 || !giveUp {
			return res.Error
		}
		return d.disable(ctx, tx, t, job.Args.Since, now)
	})
	return giveUp, err
}

// disable disables t's endpoint unless something was delivered to it since
// since, and e-mails the practice's owners that it did.
func (d *Deliverer) disable(ctx context.Context, tx *gorm.DB, t target, since, now time.Time) error {
	ep := t.endpoint
	succeeded := tx.Model(&deliveryRow{}).Select("1").
		Where("practice_id = ? AND endpoint_id = ? AND status = ? AND delivered_at >= ?", ep.PracticeID, ep.ID, StatusSucceeded, since)
	res := tx.Model(&endpointRow{}).
		Where("practice_id = ? AND id = ? AND disabled_at IS NULL AND NOT EXISTS (?)", ep.PracticeID, ep.ID, succeeded).
		Updates(map[string]any{"disabled_at": now, "disabled_reason": "deliveries failed for " + humanDuration(d.c.RetryWindow),
			"version": gorm.Expr("version + 1"), "updated_at": now})
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	if err := audit.Record(ctx, tx, audit.Entry{PracticeID: ep.PracticeID, Action: "webhook.disabled",
		RecordType: "webhook_endpoint", RecordID: ep.ID, At: now}); err != nil {
		return err
	}
	var owners []string
	if err := tx.Table("memberships").Joins("JOIN users ON users.id = memberships.user_id").
		Where("memberships.practice_id = ? AND memberships.role = ?", ep.PracticeID, "owner").
		Order("users.email").Pluck("users.email", &owners).Error; err != nil {
		return err
	}
	host := ep.URL
	if u, err := url.Parse(ep.URL); err == nil {
		host = u.Host
	}
	msgs := make([]jobs.Mail, len(owners))
	for i, to := range owners {
		msgs[i] = jobs.Mail{Key: jobs.Key("webhook-disabled", ep.ID, now, to), About: jobs.About{PracticeID: ep.PracticeID}, Message: mail.Message{
			To:      to,
			Subject: "Tandem disabled a webhook endpoint of your practice",
			Text: "Tandem stopped sending events to your webhook endpoint at " + host + " (" + ep.ID.String() + "):\n" +
				"its deliveries kept failing for " + humanDuration(d.c.RetryWindow) + ".\n\n" +
				"When the endpoint works again, enable it (PATCH " + d.c.BaseURL + "/api/v1/practice/webhooks/" + ep.ID.String() +
				" with {\"enabled\": true}) and replay the failed deliveries from its delivery log.\n",
		}}
	}
	return jobs.EnqueueMail(ctx, d.c.Store, tx, msgs...)
}

// humanDuration says a retry window as people do: "3 days", or Go's
// notation for windows that are no whole number of days (tests).
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > day && d%day == 0:
		return strconv.Itoa(int(d/day)) + " days"
	}
	return d.String()
}
