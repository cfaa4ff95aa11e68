package main

import (
	"log/slog"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// newPrivacy is the privacy service: exports and erasure requests for the
// API, and for whichever process works the queue the export builder and
// the periodic tasks (due erasures, retention, clean-up). The note keys
// open private and coordination notes for exports.
func newPrivacy(cfg config.Config, st *store.Store, notes *sealbox.Box, clk clock.Clock, log *slog.Logger) *privacy.Service {
	return privacy.NewService(privacy.Config{Store: st, Clock: clk, Log: log, Notes: notes, BaseURL: cfg.BaseURL,
		CoolingOff: cfg.ErasureCoolingOff})
}
