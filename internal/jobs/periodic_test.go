package jobs_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestPeriodicTaskRunsOnceAcrossProcesses: two processes working one
// queue, both of which know the task, run each slot of it once: only the
// leader enqueues it, and a slot's run is unique.
func TestPeriodicTaskRunsOnceAcrossProcesses(t *testing.T) {
	t.Parallel()
	open := database(t)
	var runs atomic.Int64
	done := make(chan struct{}, 2)
	task := jobs.Periodic{Name: "count", Every: 24 * time.Hour, Run: func(context.Context) error {
		runs.Add(1)
		done <- struct{}{}
		return nil
	}}
	var stores []*store.Store
	var runners []*jobs.Runner
	for range 2 {
		st := open()
		r, err := jobs.Start(context.Background(), st, jobs.Options{
			Mailer: mail.LogMailer{Log: slog.New(slog.DiscardHandler)}, PollInterval: 10 * time.Millisecond,
			Periodic: []jobs.Periodic{task},
		})
		if err != nil {
			t.Fatal(err)
		}
		stores, runners = append(stores, st), append(runners, r)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the periodic task never ran")
	}
	// Stopping the leader hands leadership to the other process, which
	// enqueues the task on taking over: the slot's run exists already.
	for _, r := range runners {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the task ran %d times, want once", n)
	}
	var jobsOfTask int64
	if err := stores[0].DB.Raw("SELECT count(*) FROM river_job WHERE kind = ?", jobs.KindPeriodic).Scan(&jobsOfTask).Error; err != nil {
		t.Fatal(err)
	}
	if jobsOfTask != 1 {
		t.Fatalf("%d periodic jobs queued, want 1", jobsOfTask)
	}
}

// TestPeriodicTasksAreChecked: a task without a name, period or function,
// or two of one name, stop the workers from starting.
func TestPeriodicTasksAreChecked(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	run := func(context.Context) error { return nil }
	for name, tasks := range map[string][]jobs.Periodic{
		"no period": {{Name: "a", Run: run}},
		"no name":   {{Every: time.Minute, Run: run}},
		"no func":   {{Name: "a", Every: time.Minute}},
		"twice":     {{Name: "a", Every: time.Minute, Run: run}, {Name: "a", Every: time.Hour, Run: run}},
	} {
		if _, err := jobs.Start(context.Background(), st, jobs.Options{Mailer: mail.LogMailer{}, Periodic: tasks}); err == nil {
			t.Errorf("%s: started", name)
		}
	}
}
