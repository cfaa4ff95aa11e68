// Package sessions is the coaching conversation: scheduling without double
// booking, the shared summary, the coach's private note (sealed at rest),
// and the calendar feed.
package sessions

import (
	"log/slog"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the sessions service needs.
type Config struct {
	Store   *store.Store
	Clock   clock.Clock
	Log     *slog.Logger
	Notes   *sealbox.Box // seals private notes
	BaseURL string       // for calendar feed URLs
}

// Service runs session operations; each is one transaction.
type Service struct{ c Config }

// NewService returns the sessions service.
func NewService(c Config) *Service { return &Service{c: c} }
