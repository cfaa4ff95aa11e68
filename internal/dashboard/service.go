// Package dashboard is a coach's view of all their clients at a glance,
// computed with a constant number of queries however many clients there are.
package dashboard

import (
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/store"
)

// Config is what the dashboard needs.
type Config struct {
	Store *store.Store
	Clock clock.Clock
}

// Service builds dashboards.
type Service struct{ c Config }

// NewService returns the dashboard service.
func NewService(c Config) *Service { return &Service{c: c} }
