// Package goals is where purpose becomes progress: a client's goals, why
// they matter, dated progress entries, and the action steps towards them.
package goals

import (
	"log/slog"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the goals service needs.
type Config struct {
	Store *store.Store
	Clock clock.Clock
	Log   *slog.Logger
}

// Service runs goal and action-step operations; each is one transaction.
type Service struct{ c Config }

// NewService returns the goals service.
func NewService(c Config) *Service { return &Service{c: c} }
