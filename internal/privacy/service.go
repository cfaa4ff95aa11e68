// Package privacy carries out the rights a person has over their data:
// exports of an account or of a client's record (built by a job, fetched
// once through an expiring link), erasure of a client's record after a
// cooling-off period, and the retention of old records. It sits beside
// consent: it reads every coaching table, and decides nothing about who may
// see a client beyond what clients.Scope already decides.
package privacy

import (
	"log/slog"
	"time"

	"github.com/riverqueue/river"

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
	// Notes opens sealed private notes and coordination notes for exports.
	Notes *sealbox.Box
	// BaseURL is where the service is reached, for download links.
	BaseURL string
	// CoolingOff is how long an erasure request waits (default 14 days).
	CoolingOff time.Duration
	// ExportTTL is how long a download link works (default 24 hours).
	ExportTTL time.Duration
	// BundleKeys sign history bundles (the first) and are published; none:
	// no bundles.
	BundleKeys []BundleKey
	// TrustedKeys are other instances' bundle keys whose bundles are
	// accepted, besides this instance's own.
	TrustedKeys []TrustedKey
}

// Service is the privacy module.
type Service struct {
	c Config
}

// Defaults of the configuration.
const (
	DefaultCoolingOff = 14 * 24 * time.Hour
	DefaultExportTTL  = 24 * time.Hour
)

// NewService returns the privacy service.
func NewService(c Config) *Service {
	if c.CoolingOff <= 0 {
		c.CoolingOff = DefaultCoolingOff
	}
	if c.ExportTTL <= 0 {
		c.ExportTTL = DefaultExportTTL
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	return &Service{c: c}
}

// Workers are the privacy module's job workers: the export builder.
func (s *Service) Workers() jobs.Registration {
	return jobs.Registration{Name: "privacy export", LongestTimeout: ExportTimeout,
		Register: func(w *river.Workers) { river.AddWorker(w, &exportWorker{s: s}) }}
}

// Periodic are the privacy tasks: due erasures, retention, and the
// removal of exports no longer downloadable. Every process working the
// queue registers them; the elected leader runs each once per slot.
//
// Their timeouts stay below the export's (ExportTimeout), which sets the
// job rescue window and so how long a crashed process's e-mail waits: a
// retention run cut short (each erasure is a transaction of its own, 500
// clients a practice at most per run) goes on at the next one, and the
// clean-up is one DELETE.
func (s *Service) Periodic() []jobs.Periodic {
	return []jobs.Periodic{
		{Name: "privacy-erasures", Every: 15 * time.Minute, Run: s.RunDueErasures},
		{Name: "privacy-exports-cleanup", Every: time.Hour, Timeout: 10 * time.Minute, Run: s.CleanUpExports},
		{Name: "privacy-retention", Every: 6 * time.Hour, Timeout: 20 * time.Minute, Run: s.ApplyRetention},
	}
}
