// Package notify is what Tandem tells people unasked: each person's
// notification preferences, and the reminders and digests built on them,
// queued as e-mail jobs (internal/jobs) in batches by periodic tasks.
package notify

import (
	"log/slog"
	"time"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the service needs.
type Config struct {
	Store *store.Store
	Clock clock.Clock
	Log   *slog.Logger
	// BaseURL is the public URL people open, for links in e-mails.
	BaseURL string
	// DigestBatch is how many people one transaction of the digest task
	// handles (zero: 500).
	DigestBatch int
	// SessionReminderLead is how long before a session its reminder goes
	// (zero: DefaultSessionReminderLead).
	SessionReminderLead time.Duration
	// Every is how often the periodic tasks look for what is due (zero:
	// DigestEvery).
	Every time.Duration
	// Keys sign the tokens of unsubscribe links (keys derived from them
	// do): the first signs, every one verifies. Without any, e-mails carry
	// no unsubscribe link.
	Keys []sealbox.Key
}

// Service owns notification preferences and the periodic reminders.
type Service struct {
	c    Config
	keys []tokenKey
}

// NewService returns the service.
func NewService(c Config) *Service {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	if c.DigestBatch <= 0 {
		c.DigestBatch = 500
	}
	if c.Every <= 0 {
		c.Every = DigestEvery
	}
	if c.SessionReminderLead <= 0 {
		c.SessionReminderLead = DefaultSessionReminderLead
	}
	return &Service{c: c, keys: deriveTokenKeys(c.Keys)}
}

// DigestEvery is how often the digest and reminder tasks run unless
// configured otherwise: every quarter hour, as some time zones are 30 or
// 45 minutes off the hour.
const DigestEvery = 15 * time.Minute

// Periodic returns the service's periodic tasks, for the job queue's
// runner (jobs.Options.Periodic).
func (s *Service) Periodic() []jobs.Periodic {
	return []jobs.Periodic{
		{Name: "digests", Every: s.c.Every, Timeout: 5 * time.Minute, Run: s.EnqueueDigests},
		{Name: "session_reminders", Every: s.c.Every, Timeout: 5 * time.Minute, Run: s.EnqueueSessionReminders},
		{Name: "consent_reminders", Every: s.c.Every, Timeout: 5 * time.Minute, Run: s.EnqueueConsentReminders},
		{Name: "weekly_summaries", Every: s.c.Every, Timeout: 5 * time.Minute, Run: s.EnqueueWeeklySummaries},
		{Name: "delivery_log_purge", Every: time.Hour, Timeout: 10 * time.Minute, Run: s.PurgeDeliveryLog},
	}
}

// Models are the package's row types, for the schema tests. Its tables are
// keyed by account, not by practice: a person's preferences and schedule
// hold in every practice they belong to.
func Models() []any { return []any{&preferencesRow{}, &scheduleRow{}, &cursorRow{}} }
