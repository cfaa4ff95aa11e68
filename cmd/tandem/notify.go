package main

import (
	"log/slog"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/notify"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
)

// newNotifier is the notification service: preferences and unsubscribe
// links for the API, and the periodic tasks (digests) for whichever
// process works the queue. Every such process registers them; River's
// leader election runs each once. Unsubscribe tokens are signed with keys
// derived from the note keys (the development one outside production), so
// that every process signs and checks them alike.
func newNotifier(cfg config.Config, st *store.Store, clk clock.Clock, log *slog.Logger) *notify.Service {
	keys := cfg.NoteKeys
	if len(keys) == 0 {
		key, _, err := sealbox.LoadOrCreateDevKey(cfg.DataDir)
		if err != nil {
			log.Warn("no key for unsubscribe links: e-mails go without them", slog.String("error", err.Error()))
		} else {
			keys = []sealbox.Key{key}
		}
	}
	return notify.NewService(notify.Config{Store: st, Clock: clk, Log: log, BaseURL: cfg.BaseURL, Keys: keys,
		SessionReminderLead: cfg.SessionReminderLead, Every: cfg.ReminderInterval})
}
