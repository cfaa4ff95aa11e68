// Package consent is what sets Tandem apart: a client's signed, scoped,
// revocable permission for one therapist, enforced on every therapist
// request in the same transaction as the read, with every read disclosed to
// the client. Deny by default.
package consent

import (
	"context"
	"log/slog"
	"time"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/limits"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// LatestExpiry is the latest expiry a consent signed at now may have: 12
// calendar months later.
func LatestExpiry(now time.Time) time.Time { return now.UTC().AddDate(1, 0, 0) }

// Config is what the consent service needs.
type Config struct {
	Store         *store.Store
	Accounts      *account.Service
	Clock         clock.Clock
	Log           *slog.Logger
	Notes         *sealbox.Box // seals coordination notes
	BaseURL       string
	InvitationTTL time.Duration
	// ConsentsPerDay caps the consents and requests a practice records in
	// 24 hours; zero means DefaultConsentsPerDay.
	ConsentsPerDay int
	// Limits bounds the practice's therapist connections; nil: no limit.
	Limits limits.Checker
}

// Service runs consent operations; each is one transaction.
type Service struct{ c Config }

// NewService returns the consent service.
func NewService(c Config) *Service { return &Service{c: c} }

// Template is a consent text clients sign.
type Template struct {
	Version int
	Text    string
	SHA256  string
}

// CurrentTemplate returns the newest consent text.
func (s *Service) CurrentTemplate(ctx context.Context) (Template, error) {
	var r templateRow
	if err := s.c.Store.DB.WithContext(ctx).Order("version DESC").Take(&r).Error; err != nil {
		return Template{}, err
	}
	return Template{Version: r.Version, Text: r.Body, SHA256: r.SHA256}, nil
}
