package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// KindPeriodic is the kind of the job that runs one periodic task once.
const KindPeriodic = "periodic"

// Periodic is a task that runs on a fixed schedule, once across every
// process working the queue: only the elected leader among them (River's
// leader election) enqueues it, and a run is unique by its task and slot,
// so a new leader taking over within a slot does not run it again.
type Periodic struct {
	// Name identifies the task; unique among the periodic tasks.
	Name string
	// Every is the period. Runs start at multiples of it since the Unix
	// epoch (UTC): every 5 minutes means at :00, :05, :10 and so on.
	Every time.Duration
	// Timeout bounds one run (zero: Every).
	Timeout time.Duration
	// Run does the work. It must be safe to run again for the same slot:
	// a run that failed is tried again, and a process that died during
	// one leaves it to be rescued.
	Run func(ctx context.Context) error
}

// PeriodicArgs is one run of a periodic task, for the slot it runs in.
type PeriodicArgs struct {
	Name string    `json:"name" river:"unique"`
	Slot time.Time `json:"slot" river:"unique"`
}

// Kind names the job kind.
func (PeriodicArgs) Kind() string { return KindPeriodic }

// periodicAttempts is how often one run is tried: the next slot runs the
// task again anyway.
const periodicAttempts = 3

// InsertOpts make a run unique by task and slot, whatever its state.
func (PeriodicArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: periodicAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// alignedSchedule runs at multiples of every since the Unix epoch.
type alignedSchedule struct{ every time.Duration }

// Next returns the first multiple of every after t.
func (s alignedSchedule) Next(t time.Time) time.Time {
	return t.UTC().Truncate(s.every).Add(s.every)
}

// periodicWorker runs the periodic tasks by name.
type periodicWorker struct {
	river.WorkerDefaults[PeriodicArgs]
	tasks map[string]Periodic
	log   *slog.Logger
}

func (w *periodicWorker) Timeout(job *river.Job[PeriodicArgs]) time.Duration {
	return w.tasks[job.Args.Name].timeout()
}

// timeout bounds one run: Timeout, or Every.
func (p Periodic) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return p.Every
}

// Work runs the task of the job's name; a task this process does not know
// (a newer release enqueued it) fails, to be tried by one that does.
func (w *periodicWorker) Work(ctx context.Context, job *river.Job[PeriodicArgs]) error {
	p, ok := w.tasks[job.Args.Name]
	if !ok {
		return fmt.Errorf("no periodic task %q in this process", job.Args.Name)
	}
	started := time.Now()
	err := p.Run(ctx)
	attrs := []any{slog.String("task", p.Name), slog.Time("slot", job.Args.Slot), slog.Int("attempt", job.Attempt),
		slog.Duration("took", time.Since(started))}
	if err != nil {
		w.log.WarnContext(ctx, "periodic task failed", append(attrs, slog.String("error", err.Error()))...)
		return err
	}
	w.log.DebugContext(ctx, "periodic task done", attrs...)
	return nil
}

// periodicJobs turns the tasks into River's periodic jobs and their worker.
func periodicJobs(tasks []Periodic, log *slog.Logger) ([]*river.PeriodicJob, *periodicWorker, error) {
	w := &periodicWorker{tasks: map[string]Periodic{}, log: log}
	var out []*river.PeriodicJob
	for _, p := range tasks {
		if p.Name == "" || p.Every <= 0 || p.Run == nil {
			return nil, nil, fmt.Errorf("jobs: periodic task %q needs a name, a period and a function", p.Name)
		}
		if _, dup := w.tasks[p.Name]; dup {
			return nil, nil, fmt.Errorf("jobs: two periodic tasks named %q", p.Name)
		}
		w.tasks[p.Name] = p
		every, name := p.Every, p.Name
		out = append(out, river.NewPeriodicJob(alignedSchedule{every: every},
			func() (river.JobArgs, *river.InsertOpts) {
				return PeriodicArgs{Name: name, Slot: time.Now().UTC().Truncate(every)}, nil
			},
			// A leader that starts mid-period runs the current slot's task
			// at once; the slot's uniqueness keeps it to one run.
			&river.PeriodicJobOpts{ID: name, RunOnStart: true}))
	}
	return out, w, nil
}
