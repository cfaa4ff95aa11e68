package main

import (
	"fmt"
	"log/slog"

	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// newPrivacy is the privacy service: exports, erasure requests, retention
// settings and portable history for the API, and for whichever process
// works the queue the export builder and the periodic tasks (due erasures,
// retention, clean-up). The note keys open private and coordination notes
// for exports. History bundles are signed with keys derived from the token
// signing keys (signing may be nil where no bundle is signed: the worker).
func newPrivacy(cfg config.Config, st *store.Store, notes *sealbox.Box, signing []auth.SigningKey, clk clock.Clock,
	log *slog.Logger) (*privacy.Service, error) {
	trusted, err := privacy.ParseTrustedKeys(cfg.HistoryTrustedKeys)
	if err != nil {
		return nil, err
	}
	var bundleKeys []privacy.BundleKey
	for _, k := range signing {
		bk, err := privacy.DeriveBundleKey(k.ID, k.Key)
		if err != nil {
			return nil, fmt.Errorf("derive history bundle key: %w", err)
		}
		bundleKeys = append(bundleKeys, bk)
	}
	return privacy.NewService(privacy.Config{Store: st, Clock: clk, Log: log, Notes: notes, BaseURL: cfg.BaseURL,
		CoolingOff: cfg.ErasureCoolingOff, BundleKeys: bundleKeys, TrustedKeys: trusted}), nil
}
