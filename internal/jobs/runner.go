package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	// stays running before another process runs it again
	// (TANDEM_JOB_RESCUE_AFTER). River cannot tell a dead process's job
	// from a slow one, so it must exceed the longest timeout of any worker
	// here, by a margin (see MinRescueAfter); Start refuses a shorter one.
	// Zero: DefaultRescueAfter, or that minimum if it is longer.
	RescueAfter time.Duration
	// Register are the workers of modules this package cannot import
	// (they queue e-mail through it), such as webhook deliveries.
	Register []Registration
}

// Registration is a module's workers, and how long they may run.
type Registration struct {
	// Name says whose workers these are, in errors ("privacy export").
	Name string
	// Register adds the workers.
	Register func(*river.Workers)
	// LongestTimeout is the longest any of their attempts may run: the
	// greatest of their Timeout methods' answers.
	LongestTimeout time.Duration
}

// DefaultRescueAfter is Options.RescueAfter's default when every worker's
// timeout allows it.
const DefaultRescueAfter = 10 * time.Minute

// ErrRescueTooSoon: Options.RescueAfter is shorter than a worker's
// timeout and its margin (see MinRescueAfter).
var ErrRescueTooSoon = errors.New("jobs: rescue window too short")

// MinRescueAfter is the least rescue window for attempts that may run for
// timeout: the timeout and a margin of a tenth of it, at least a minute.
// When River cancels an attempt at its timeout the worker still has to
// notice and return, and River to record the outcome (its completer works
// in batches); a stuck horizon and an attempt's start are also stamped by
// different processes' clocks. A minute covers that for short attempts; a
// long one (an export) may be cancelled in the middle of a large write,
// which takes longer to give up, so the margin grows with it.
func MinRescueAfter(timeout time.Duration) time.Duration {
	return timeout + max(time.Minute, timeout/10)
}

// Runner works jobs until stopped.
type Runner struct {
	client      *river.Client[*sql.Tx]
	release     func()
	log         *slog.Logger
	rescueAfter time.Duration
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
	for _, r := range o.Register {
		if r.Register == nil {
			return nil, fmt.Errorf("jobs: the %s workers have no Register", r.Name)
		}
		r.Register(workers)
	}
	periodic, periodicWorker, err := periodicJobs(o.Periodic, log)
	if err != nil {
		return nil, err
	}
	river.AddWorker(workers, periodicWorker)
	rescueAfter, err := rescueWindow(o)
	if err != nil {
		return nil, err
	}
	cfg := &river.Config{
		Workers: workers,
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cmpOr(o.MaxWorkers, 10)}},
		Logger:  log.With(slog.String("component", "jobs")),
		// A job whose process died while working it (a SIGKILL during a
		// send) runs again after this; River's default is an hour.
		// rescueWindow keeps it past every worker's timeout, so a slow
		// attempt still running elsewhere is not run twice.
		RescueStuckJobsAfter: rescueAfter,
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
	return &Runner{client: client, release: release, log: log, rescueAfter: rescueAfter}, nil
}

// rescueWindow is the rescue window for o's workers: the configured one,
// which must be at least MinRescueAfter of the longest timeout, or
// without one DefaultRescueAfter or that minimum, whichever is longer.
func rescueWindow(o Options) (time.Duration, error) {
	longest, who := mailTimeout, "e-mail worker"
	for _, r := range o.Register {
		if r.LongestTimeout > longest {
			longest, who = r.LongestTimeout, r.Name+" worker"
		}
	}
	for _, p := range o.Periodic {
		if t := p.timeout(); t > longest {
			longest, who = t, fmt.Sprintf("periodic task %q", p.Name)
		}
	}
	least := MinRescueAfter(longest)
	if o.RescueAfter == 0 {
		return max(DefaultRescueAfter, least), nil
	}
	if o.RescueAfter < least {
		return 0, fmt.Errorf("%w: TANDEM_JOB_RESCUE_AFTER is %v, but the %s may run for %v: set it to at least %v, "+
			"or a slow attempt is run again while it still runs", ErrRescueTooSoon, o.RescueAfter, who, longest, least)
	}
	return o.RescueAfter, nil
}

// RescueAfter is how long a job stays running before it is run again (see
// Options.RescueAfter).
func (r *Runner) RescueAfter() time.Duration { return r.rescueAfter }

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
