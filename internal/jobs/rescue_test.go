package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestRescueWindowOutlastsEveryTimeout: the window a job stays running
// before it is run again exceeds the longest timeout of the workers
// started, by MinRescueAfter's margin. Without a configured window it is
// the default or that minimum; a configured window below the minimum stops
// the workers from starting, with an error that says what to set.
func TestRescueWindowOutlastsEveryTimeout(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t)
	priv := privacy.NewService(privacy.Config{Store: st})
	export := priv.Workers()
	run := func(context.Context) error { return nil }
	retention := jobs.Periodic{Name: "retention", Every: 6 * time.Hour, Timeout: time.Hour, Run: run}
	tests := []struct {
		name       string
		configured time.Duration
		register   []jobs.Registration
		periodic   []jobs.Periodic
		want       time.Duration
		wantErr    []string // in the error, when Start refuses
	}{
		{name: "e-mail only, default", want: jobs.DefaultRescueAfter},
		{name: "export, default", register: []jobs.Registration{export}, want: 33 * time.Minute},
		{name: "export, configured above", configured: 45 * time.Minute, register: []jobs.Registration{export},
			want: 45 * time.Minute},
		{name: "export, configured at the minimum", configured: 33 * time.Minute,
			register: []jobs.Registration{export}, want: 33 * time.Minute},
		{name: "export, configured at its timeout", configured: privacy.ExportTimeout,
			register: []jobs.Registration{export},
			wantErr:  []string{"TANDEM_JOB_RESCUE_AFTER is 30m0s", "privacy export worker may run for 30m0s", "at least 33m0s"}},
		{name: "export, configured default", configured: jobs.DefaultRescueAfter, register: []jobs.Registration{export},
			wantErr: []string{"TANDEM_JOB_RESCUE_AFTER is 10m0s", "privacy export worker", "at least 33m0s"}},
		// The privacy module as the service runs it: its periodic tasks stay
		// below the export, so a crashed process's e-mail waits 33 minutes.
		{name: "privacy module, default", register: []jobs.Registration{export}, periodic: priv.Periodic(),
			want: 33 * time.Minute},
		{name: "periodic task, default", register: []jobs.Registration{export}, periodic: []jobs.Periodic{retention},
			want: 66 * time.Minute},
		{name: "periodic task, configured below", configured: 45 * time.Minute, register: []jobs.Registration{export},
			periodic: []jobs.Periodic{retention},
			wantErr:  []string{"TANDEM_JOB_RESCUE_AFTER is 45m0s", `periodic task "retention" may run for 1h0m0s`, "at least 1h6m0s"}},
		{name: "e-mail, configured below", configured: time.Minute,
			wantErr: []string{"TANDEM_JOB_RESCUE_AFTER is 1m0s", "e-mail worker may run for 1m0s", "at least 2m0s"}},
	}
	for _, tt := range tests {
		r, err := jobs.Start(context.Background(), st, jobs.Options{Mailer: mail.LogMailer{Log: slog.New(slog.DiscardHandler)},
			RescueAfter: tt.configured, Register: tt.register, Periodic: tt.periodic})
		if tt.wantErr != nil {
			if err == nil {
				_ = r.Stop(context.Background())
				t.Errorf("%s: started with a rescue window of %v", tt.name, r.RescueAfter())
				continue
			}
			if !errors.Is(err, jobs.ErrRescueTooSoon) {
				t.Errorf("%s: %v, want ErrRescueTooSoon", tt.name, err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s: error %q does not say %q", tt.name, err, s)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := r.RescueAfter(); got != tt.want {
			t.Errorf("%s: rescue window %v, want %v", tt.name, got, tt.want)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := r.Stop(ctx); err != nil {
			t.Errorf("%s: stop: %v", tt.name, err)
		}
		cancel()
	}
}

// TestMinRescueAfter: the margin is a tenth of the timeout, at least a
// minute.
func TestMinRescueAfter(t *testing.T) {
	t.Parallel()
	for timeout, want := range map[time.Duration]time.Duration{
		10 * time.Second:      70 * time.Second,
		time.Minute:           2 * time.Minute,
		10 * time.Minute:      11 * time.Minute,
		privacy.ExportTimeout: 33 * time.Minute,
		time.Hour:             66 * time.Minute,
	} {
		if got := jobs.MinRescueAfter(timeout); got != want {
			t.Errorf("MinRescueAfter(%v) = %v, want %v", timeout, got, want)
		}
	}
}
