package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/tandem-coach/tandem/internal/billing"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/mail"
)

const workerUsage = `usage: tandem worker

Runs the job queue's workers (they send e-mail), without the HTTP service,
until SIGTERM or SIGINT; then lets running jobs finish within
TANDEM_SHUTDOWN_TIMEOUT. Migrates the database first, as serve does.
Configuration comes from the same TANDEM_* variables as serve.

The periodic tasks (digests, reminders, due erasures, retention) run here too: however many
workers and serve processes work the queue, one of them, the elected
leader, enqueues each run.
`

// worker runs the job queue's workers only, so that a deployment can scale
// them apart from the API (whose replicas then set TANDEM_WORKERS=false).
func worker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	if helped, err := parseFlags(fs, args, workerUsage, stdout, stderr); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, workerUsage)
		return fmt.Errorf("worker takes no arguments, got %q", fs.Arg(0))
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	log.Info("starting tandem worker", slog.String("version", buildVersion()), slog.Any("config", cfg))
	// Without SMTP, e-mails are logged (recipient and subject only): the
	// development mailbox lives in the serving process.
	mailer, err := mail.New(cfg.SMTPURL.Reveal(), cfg.MailFrom, log)
	if err != nil {
		return err
	}
	st, err := openMigratedStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	_, stopTracing, err := startTracing(ctx, getenv, st, log)
	if err != nil {
		return err
	}
	defer stopTracing()

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// The note keys open the webhook signing secrets.
	noteBox, err := noteKeys(cfg, log)
	if err != nil {
		return err
	}
	bill := billing.NewService(billing.Config{Store: st, Stripe: cfg.Stripe, Clock: clock.System{}, Log: log, BaseURL: cfg.BaseURL})
	priv, err := newPrivacy(cfg, st, noteBox, nil, clock.System{}, log)
	if err != nil {
		return err
	}
	periodic := append(append(newNotifier(cfg, st, clock.System{}, log).Periodic(), bill.Periodic()...), priv.Periodic()...)
	runner, err := startWorkers(ctx, cfg, st, mailer, log, newDeliverer(cfg, st, noteBox, clock.System{}, log), priv, periodic)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down: finishing running jobs", slog.String("timeout", cfg.ShutdownTimeout.String()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := runner.Stop(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
