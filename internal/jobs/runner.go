package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
)

// Options configure the workers.
type Options struct {
	Mailer mail.Mailer
	Log    *slog.Logger
	// MaxWorkers is how many jobs run at once (zero: 10).
	MaxWorkers int
	// PollInterval is how often the queue is checked for jobs that no
	// notification announced (zero: River's default, one second). On SQLite,
	// which has no LISTEN/NOTIFY, it is how soon a new job starts.
	PollInterval time.Duration
	// Periodic are the tasks run on a schedule, once across every process
	// working this queue (see Periodic).
	Periodic []Periodic
	// RescueAfter is how long a job whose process died while working it
	// stays running before another process runs it again (zero: 10
	// minutes). It must be longer than any attempt takes (an e-mail's is
	// bounded to a minute), or a slow attempt still running elsewhere runs
	// twice.
	RescueAfter time.Duration
	// Register adds the workers of modules this package cannot import
	// (they queue e-mail through it), such as webhook deliveries.
	Register []func(*river.Workers)
}

// DefaultRescueAfter is Options.RescueAfter's default.
const DefaultRescueAfter = 10 * time.Minute

// Runner works jobs until stopped.
type Runner struct {
	client  *river.Client[*sql.Tx]
	release func()
	log     *slog.Logger
}

// Start begins working jobs from st's queue, until Stop. Ending ctx does not
// stop it (River would cancel the running jobs at once): shutdown is Stop's,
// which lets them finish.
func Start(ctx context.Context, st *store.Store, o Options) (*Runner, error) {
	if o.Mailer == nil {
		return nil, errors.New("jobs: no mailer")
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &emailWorker{mailer: o.Mailer, store: st, log: log})
	for _, register := range o.Register {
		register(workers)
	}
	periodic, periodicWorker, err := periodicJobs(o.Periodic, log)
	if err != nil {
		return nil, err
	}
	river.AddWorker(workers, periodicWorker)
	cfg := &river.Config{
		Workers: workers,
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cmpOr(o.MaxWorkers, 10)}},
		Logger:  log.With(slog.String("component", "jobs")),
		// A job whose process died while working it (a SIGKILL during a
		// send) runs again after this; River's default is an hour. It is
		// well past any attempt's timeout, so a job still running
		// elsewhere is not run twice.
		RescueStuckJobsAfter: cmp.Or(o.RescueAfter, DefaultRescueAfter),
		PeriodicJobs:         periodic,
	}
	if o.PollInterval > 0 {
		cfg.FetchPollInterval = o.PollInterval
		cfg.FetchCooldown = min(o.PollInterval, river.FetchCooldownDefault)
	}
	client, release, err := st.NewJobClient(cfg)
	if err != nil {
		return nil, err
	}
	if err := client.Start(context.WithoutCancel(ctx)); err != nil {
		release()
		return nil, err
	}
	return &Runner{client: client, release: release, log: log}, nil
}

// Stop stops fetching jobs and waits for those running to finish, until
// ctx ends; then it cancels them (River runs a cancelled job again later,
// as it does a job of a process that died).
func (r *Runner) Stop(ctx context.Context) error {
	defer r.release()
	err := r.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	r.log.Warn("jobs still running at the shutdown deadline: cancelling them")
	cancelCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(err, r.client.StopAndCancel(cancelCtx))
}

func cmpOr(v, fallback int) int {
	if v > 0 {
		return v
	}
	return fallback
}
