package main

import (
	"log/slog"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/webhooks"
)

// webhookGuard is what webhook endpoints may be. Production allows only
// https URLs to public addresses; development also allows http and the
// local networks (loopback and private ranges), so that a self-hosted
// install can post to its neighbours, but never link-local addresses.
func webhookGuard(cfg config.Config) webhooks.Guard {
	if cfg.Production() {
		return webhooks.Guard{HTTPSOnly: true}
	}
	return webhooks.Guard{Allow: webhooks.LocalNetworks}
}

// newDeliverer returns what delivers webhooks in the job queue's workers.
func newDeliverer(cfg config.Config, st *store.Store, secrets *sealbox.Box, clk clock.Clock, log *slog.Logger) *webhooks.Deliverer {
	return webhooks.NewDeliverer(webhooks.DelivererConfig{Store: st, Secrets: secrets, Guard: webhookGuard(cfg), Clock: clk,
		Log: log, BaseURL: cfg.BaseURL})
}
