// Command tandem is the Tandem service: `tandem serve` runs it, `tandem
// worker` runs only its job queue's workers, `tandem migrate up|down|status`
// manages the database schema, `tandem keygen` makes a
// token signing key, `tandem healthcheck` probes a local server, and
// `tandem version` prints the build.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/billing"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/dashboard"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/httpapi"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/sessions"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/telemetry"
	"github.com/tandem-coach/tandem/internal/webhooks"
	_ "time/tzdata" // client time zones work in minimal containers too
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: tandem <command>

commands:
  serve                     run the HTTP service and, unless TANDEM_WORKERS=false, the
                            job queue's workers (migrates the database first)
  worker                    run only the job queue's workers (sending e-mail), no HTTP
  migrate up|down|status    manage the database schema
  keygen [signing|note]     print a new key: a token signing key for TANDEM_JWT_SIGNING_KEYS
                            (the default) or a note key for TANDEM_NOTE_KEYS
  backup [--to FILE]        copy the SQLite database while Tandem runs
  restore --from FILE       replace the SQLite database with a backup (Tandem stopped)
  healthcheck [--ready]     probe the local tandem serve, for a container's health check
  version                   print the version (also --version)
  help [command]            print this, or a command's usage (also <command> --help)

Configuration comes from TANDEM_* environment variables; see README.md.
`

const serveUsage = `usage: tandem serve [--addr host:port]

Runs the HTTP service and, unless TANDEM_WORKERS=false, the job queue's
workers, until SIGTERM or SIGINT; then finishes the requests and jobs in
flight within TANDEM_SHUTDOWN_TIMEOUT. Migrates the database first.

  --addr host:port   listen address (overrides TANDEM_LISTEN_ADDR)

Configuration comes from TANDEM_* environment variables; see README.md.
`

const migrateUsage = `usage: tandem migrate up|down|status

  up       apply every pending migration (serve and worker do this too)
  down     roll back the newest migration
  status   say which database it reads, and list the migrations, applied or
           pending; it never creates the SQLite database

The database is TANDEM_DATABASE_URL (PostgreSQL) or, without it, the SQLite
file in TANDEM_DATA_DIR (./data by default).
`

const keygenUsage = `usage: tandem keygen [signing|note]

Prints a new key as id:base64. signing (the default) is an Ed25519 token
signing key for TANDEM_JWT_SIGNING_KEYS; note is an AES-256 key for
TANDEM_NOTE_KEYS. Keep the output secret.
`

// commandUsage is each command's usage, for help and --help.
var commandUsage = map[string]string{
	"serve": serveUsage, "worker": workerUsage, "migrate": migrateUsage, "keygen": keygenUsage,
	"healthcheck": healthcheckUsage, "backup": backupUsage, "restore": restoreUsage,
}

// parseFlags parses a command's flags. --help or -h prints usage to stdout
// and reports helped; any other mistake prints usage to stderr and returns
// the error, which main prints once.
func parseFlags(fs *flag.FlagSet, args []string, usage string, stdout, stderr io.Writer) (helped bool, err error) {
	fs.SetOutput(io.Discard) // the flag package would print the error and usage too
	fs.Usage = func() {}
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return true, nil
	case err != nil:
		fmt.Fprint(stderr, usage)
		return false, fmt.Errorf("%s: %w", fs.Name(), err)
	}
	return false, nil
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tandem:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "worker":
		return worker(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args[1:], getenv, stdout, stderr)
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args[1:], getenv, stdout, stderr)
	case "backup":
		return backup(ctx, args[1:], getenv, stdout, stderr)
	case "restore":
		return restore(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "tandem", buildVersion())
		return nil
	case "help", "-h", "--help", "-help":
		if len(args) > 1 {
			if u, ok := commandUsage[args[1]]; ok {
				fmt.Fprint(stdout, u)
				return nil
			}
			fmt.Fprint(stderr, usage)
			return fmt.Errorf("no help for %q: not a command", args[1])
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// keygen prints a new key in the id:base64 form the configuration reads.
// IDs carry the date and a random suffix, so two keys never share one.
func keygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	if helped, err := parseFlags(fs, args, keygenUsage, stdout, stderr); helped || err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fmt.Fprint(stderr, keygenUsage)
		return fmt.Errorf("keygen takes one kind of key, got %q", fs.Args())
	}
	kind := "signing"
	if fs.NArg() == 1 {
		kind = fs.Arg(0)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	secret := make([]byte, 32) // an Ed25519 seed or an AES-256 key
	_, _ = rand.Read(secret)
	var prefix string
	switch kind {
	case "signing":
		prefix = "k"
	case "note":
		prefix = "n"
	default:
		fmt.Fprint(stderr, keygenUsage)
		return fmt.Errorf("unknown key kind %q (want signing or note)", kind)
	}
	fmt.Fprintf(stdout, "%s%s-%x:%s\n", prefix, time.Now().UTC().Format("20060102"), suffix, base64.StdEncoding.EncodeToString(secret))
	return nil
}

func buildVersion() string {
	if version != "dev" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

// newLogger writes JSON lines; a line logged inside a traced request names
// its trace_id and span_id.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(telemetry.LogHandler(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})))
}

// startTracing exports traces where the OTEL_* variables ask for it (see
// package telemetry), with a span for every request, job and statement. The
// function it returns exports what is still buffered; call it last.
func startTracing(ctx context.Context, getenv func(string) string, st *store.Store, log *slog.Logger) (telemetry.Tracing, func(), error) {
	tracing, err := telemetry.Setup(ctx, getenv, buildVersion())
	if err != nil || !tracing.Enabled() {
		return tracing, func() {}, err
	}
	stop := func() {
		flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(flushCtx); err != nil {
			log.Warn("could not export the last spans", slog.String("error", err.Error()))
		}
	}
	if err := st.Trace(tracing.Provider); err != nil {
		stop()
		return telemetry.Tracing{}, nil, err
	}
	log.Info("exporting traces over OTLP (OTEL_* variables)")
	return tracing, stop, nil
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	opts := store.Options{PostgresURL: cfg.DatabaseURL.Reveal(), PostgresDirectURL: cfg.DatabaseDirectURL.Reveal(),
		PostgresReplicaURL: cfg.DatabaseReplicaURL.Reveal(), ReplicaMaxLag: cfg.DatabaseReplicaMaxLag,
		Logger: log, RequestTimeout: cfg.RequestTimeout}
	if !cfg.UsesPostgres() {
		opts.SQLitePath = cfg.SQLitePath()
	}
	return store.Open(ctx, opts)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	if helped, err := parseFlags(fs, args, migrateUsage, stdout, stderr); helped || err != nil {
		return err
	}
	if fs.NArg() != 1 || !slices.Contains([]string{"up", "down", "status"}, fs.Arg(0)) {
		fmt.Fprint(stderr, migrateUsage)
		if fs.NArg() == 0 {
			return errors.New("migrate: say up, down or status")
		}
		return fmt.Errorf("migrate: unknown command %q (want up, down or status)", strings.Join(fs.Args(), " "))
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	cmd := fs.Arg(0)
	if cmd == "status" {
		fmt.Fprintln(stdout, "database:", cfg.DatabaseLabel())
		if !cfg.UsesPostgres() {
			if _, err := os.Stat(cfg.SQLitePath()); errors.Is(err, os.ErrNotExist) {
				// Opening it would create it: say so instead.
				fmt.Fprintln(stdout, "(it does not exist yet: `tandem migrate up` or `tandem serve` creates it)")
				list, err := store.Migrations(store.SQLite)
				if err != nil {
					return err
				}
				printMigrations(stdout, list)
				return nil
			}
		}
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	switch cmd {
	case "up":
		n, err := st.MigrateUp(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	case "down":
		if err := st.MigrateDown(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "rolled back the newest migration")
	case "status":
		list, err := st.MigrateStatus(ctx)
		if err != nil {
			return err
		}
		printMigrations(stdout, list)
	}
	return nil
}

// printMigrations lists migrations one a line: version, state, name.
func printMigrations(w io.Writer, list []store.MigrationStatus) {
	for _, m := range list {
		state := "pending"
		if m.Applied {
			state = "applied"
		}
		fmt.Fprintf(w, "%05d  %-8s %s\n", m.Version, state, m.Name)
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "", "listen address (overrides TANDEM_LISTEN_ADDR)")
	if helped, err := parseFlags(fs, args, serveUsage, stdout, stderr); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, serveUsage)
		return fmt.Errorf("serve takes no arguments, got %q", fs.Arg(0))
	}
	if *addr != "" {
		// The flag stands in for the variable, so it is validated and the
		// default base URL follows it.
		env := getenv
		getenv = func(k string) string {
			if k == "TANDEM_LISTEN_ADDR" {
				return *addr
			}
			return env(k)
		}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	log.Info("starting tandem", slog.String("version", buildVersion()), slog.Any("config", cfg))

	keys, err := signingKeys(cfg, log)
	if err != nil {
		return err
	}
	clk := clock.System{}
	tokens, err := auth.NewTokens(keys, cfg.JWTIssuer, cfg.JWTAudience, clk)
	if err != nil {
		return err
	}
	mailer, err := mail.New(cfg.SMTPURL.Reveal(), cfg.MailFrom, log)
	if err != nil {
		return err
	}
	var devMailbox *mail.Mailbox // keeps what would have been sent, for /dev/mailbox
	if cfg.SMTPURL == "" && !cfg.Production() && cfg.Workers {
		devMailbox = mail.NewMailbox(log, clk, 200)
		mailer = devMailbox
		log.Info("development mailbox at " + cfg.BaseURL + "/dev/mailbox")
	}

	st, err := openMigratedStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	tracing, stopTracing, err := startTracing(ctx, getenv, st, log)
	if err != nil {
		return err
	}
	defer stopTracing()
	noteBox, err := noteKeys(cfg, log)
	if err != nil {
		return err
	}
	notifier := newNotifier(cfg, st, clk, log)
	// Off without TANDEM_STRIPE_SECRET_KEY: then it limits nothing.
	bill := billing.NewService(billing.Config{Store: st, Stripe: cfg.Stripe, Clock: clk, Log: log, BaseURL: cfg.BaseURL})
	priv, err := newPrivacy(cfg, st, noteBox, keys, clk, log)
	if err != nil {
		return err
	}
	var runner *jobs.Runner
	if cfg.Workers {
		periodic := append(append(notifier.Periodic(), bill.Periodic()...), priv.Periodic()...)
		if runner, err = startWorkers(ctx, cfg, st, mailer, log, newDeliverer(cfg, st, noteBox, clk, log), priv, periodic); err != nil {
			return err
		}
	} else {
		log.Info("not working the job queue (TANDEM_WORKERS=false): run `tandem worker` beside this process")
	}

	accounts := account.NewService(account.Config{
		Store: st, Tokens: tokens, Clock: clk, Log: log, Secrets: noteBox,
		BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL, InvitationsPerDay: cfg.DailyInvitations, Limits: bill,
	})
	e, err := httpapi.New(httpapi.Deps{
		Config: cfg, Store: st, Log: log, Clock: clk,
		Accounts: accounts,
		Clients: clients.NewService(clients.Config{Store: st, Accounts: accounts, Clock: clk, Log: log,
			BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL, Limits: bill}),
		Goals:     goals.NewService(goals.Config{Store: st, Clock: clk, Log: log}),
		Sessions:  sessions.NewService(sessions.Config{Store: st, Clock: clk, Log: log, Notes: noteBox, BaseURL: cfg.BaseURL}),
		Dashboard: dashboard.NewService(dashboard.Config{Store: st, Clock: clk}),
		Consent: consent.NewService(consent.Config{Store: st, Accounts: accounts, Clock: clk, Log: log,
			Notes: noteBox, BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL, ConsentsPerDay: cfg.DailyConsents, Limits: bill}),
		Webhooks:   webhooks.NewService(webhooks.Config{Store: st, Secrets: noteBox, Guard: webhookGuard(cfg), Clock: clk, Log: log}),
		Notify:     notifier,
		Privacy:    priv,
		Billing:    bill,
		DevMailbox: devMailbox,
		Tracing:    tracing,
	})
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	log.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("base_url", cfg.BaseURL))
	servers := []*http.Server{srv}
	serveErr := make(chan error, 2)
	go func() { serveErr <- srv.Serve(ln) }()
	if cfg.OpsAddr != "" {
		opsLn, err := net.Listen("tcp", cfg.OpsAddr)
		if err != nil {
			_ = srv.Close()
			return fmt.Errorf("TANDEM_OPS_ADDR: %w", err)
		}
		ops := &http.Server{Handler: e.OpsHandler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		servers = append(servers, ops)
		log.Info("operators' endpoints (/metrics, /healthz, /readyz) listening", slog.String("addr", opsLn.Addr().String()))
		go func() { serveErr <- ops.Serve(opsLn) }()
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-serveErr:
		for _, s := range servers {
			_ = s.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight", slog.String("timeout", cfg.ShutdownTimeout.String()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	var shutdownErr error
	for _, s := range servers {
		shutdownErr = errors.Join(shutdownErr, s.Shutdown(shutdownCtx))
	}
	if runner != nil {
		// Then the jobs running, within what is left of the timeout.
		shutdownErr = errors.Join(shutdownErr, runner.Stop(shutdownCtx))
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	log.Info("stopped")
	return nil
}

// openMigratedStore opens the database and applies pending migrations
// (Tandem's and the job queue's), as every long-running command does.
func openMigratedStore(ctx context.Context, cfg config.Config, log *slog.Logger) (*store.Store, error) {
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	n, err := st.MigrateUp(ctx)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	log.Info("database ready", slog.String("dialect", string(st.Dialect)), slog.Int("migrations_applied", n))
	return st, nil
}

// startWorkers starts working the job queue. On SQLite, which has no
// LISTEN/NOTIFY, the queue is polled often enough that an e-mail leaves
// within a fraction of a second; on PostgreSQL new jobs are announced.
func startWorkers(ctx context.Context, cfg config.Config, st *store.Store, mailer mail.Mailer, log *slog.Logger,
	deliverer *webhooks.Deliverer, priv *privacy.Service, periodic []jobs.Periodic) (*jobs.Runner, error) {
	o := jobs.Options{Mailer: mailer, Log: log, Register: []jobs.Registration{deliverer.Workers(), priv.Workers()},
		Periodic: periodic, RescueAfter: cfg.JobRescueAfter}
	if st.Dialect == store.SQLite {
		o.PollInterval = 200 * time.Millisecond
	}
	r, err := jobs.Start(ctx, st, o)
	if err != nil {
		return nil, fmt.Errorf("start workers: %w", err)
	}
	log.Info("working the job queue", slog.String("rescue_after", r.RescueAfter().String()))
	return r, nil
}

// noteKeys returns the box that seals private notes: the configured keys, or
// outside production a development key kept in the data directory.
func noteKeys(cfg config.Config, log *slog.Logger) (*sealbox.Box, error) {
	if len(cfg.NoteKeys) > 0 {
		return sealbox.New(cfg.NoteKeys)
	}
	key, created, err := sealbox.LoadOrCreateDevKey(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("development note key: %w", err)
	}
	log.Warn("USING A DEVELOPMENT NOTE KEY — private notes are sealed with a key kept in the data directory. "+
		"Set TANDEM_NOTE_KEYS for any shared or production install, and back the key up: notes cannot be read without it.",
		slog.String("key_id", key.ID), slog.Bool("created", created))
	return sealbox.New([]sealbox.Key{key})
}

// signingKeys returns the configured keys, or outside production a
// development key kept in the data directory.
func signingKeys(cfg config.Config, log *slog.Logger) ([]auth.SigningKey, error) {
	if len(cfg.SigningKeys) > 0 {
		keys := make([]auth.SigningKey, len(cfg.SigningKeys))
		for i, k := range cfg.SigningKeys {
			keys[i] = auth.SigningKey{ID: k.ID, Key: k.PrivateKey()}
		}
		return keys, nil
	}
	key, created, err := auth.LoadOrCreateDevKey(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("development signing key: %w", err)
	}
	log.Warn("USING A DEVELOPMENT SIGNING KEY — tokens are signed with a key kept in the data directory. "+
		"Set TANDEM_JWT_SIGNING_KEYS (see `tandem keygen`) for any shared or production install.",
		slog.String("key_id", key.ID), slog.Bool("created", created))
	return []auth.SigningKey{key}, nil
}
