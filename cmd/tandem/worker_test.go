package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestWorkerUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"worker", "--help"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("worker --help = %v", err)
	}
	if !strings.HasPrefix(out.String(), "usage: tandem worker") {
		t.Fatalf("worker --help printed %q", out.String())
	}
	if err := run(context.Background(), []string{"worker", "now"}, func(string) string { return "" }, &out, &errOut); err == nil {
		t.Fatal("worker with an argument succeeded")
	}
}

// TestWorkerSendsQueuedMailAndStopsOnSIGTERM runs `tandem worker` as a
// process: it delivers an e-mail queued in the database to a real SMTP
// server, once, and exits cleanly on SIGTERM.
func TestWorkerSendsQueuedMailAndStopsOnSIGTERM(t *testing.T) {
	mp := mailtest.Start(t)
	dataDir := t.TempDir()
	pgURL := storetest.PostgresURL(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=worker", "TANDEM_SMTP_URL="+mp.SMTPURL(),
		"TANDEM_DATA_DIR="+dataDir, "TANDEM_DATABASE_URL="+pgURL)
	log := &serverOutput{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(log.String(), "working the job queue") {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not start; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	opts := store.Options{PostgresURL: pgURL}
	if pgURL == "" {
		opts.SQLitePath = filepath.Join(dataDir, "tandem.db")
	}
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Tx(ctx, func(tx *gorm.DB) error {
		return jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: "worker-test",
			Message: mail.Message{To: "ada@example.com", Subject: "From the worker", Text: "Hello"}})
	}); err != nil {
		t.Fatal(err)
	}
	for len(mp.Messages(t)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the worker sent nothing; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("the worker exited with %v after SIGTERM; log:\n%s", err, log.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the worker did not stop after SIGTERM; log:\n%s", log.String())
	}
	if msgs := mp.Messages(t); len(msgs) != 1 || msgs[0].Subject != "From the worker" {
		t.Fatalf("mailpit holds %+v, want the one e-mail", msgs)
	}
	if !strings.Contains(log.String(), `"msg":"stopped"`) {
		t.Fatalf("no clean stop in the log:\n%s", log.String())
	}
	// Durations are logged as people read them, not in nanoseconds.
	if !strings.Contains(log.String(), `"timeout":"`) || strings.Contains(log.String(), `"timeout":2`) {
		t.Fatalf("the shutdown timeout is not logged as a duration:\n%s", log.String())
	}
}

// hangingSMTP accepts connections and never says a word, as a mail server
// that stalls: an e-mail job sending to it stays running.
func hangingSMTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "smtp://" + ln.Addr().String() + "?tls=none"
}

// startWorker runs `tandem worker` with env, until it is killed or t ends,
// and waits until it works the queue.
func startWorker(t *testing.T, env ...string) (*exec.Cmd, *serverOutput) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=worker"), env...)
	log := &serverOutput{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(log.String(), "working the job queue") {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not start; log:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, log
}

// TestWorkerKilledMidJobRunsItOnceAfterRestart: a worker SIGKILLed while
// it sends an e-mail (the mail server stalls) leaves the job running; a
// worker started afterwards rescues it once the rescue window has passed
// and sends it, once. The delivery log counts both attempts. The window
// outlasts the longest job timeout (an hour, with every module), so the
// test moves the killed attempt's start back past it rather than wait.
func TestWorkerKilledMidJobRunsItOnceAfterRestart(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	pgURL := storetest.PostgresURL(t)
	common := []string{"TANDEM_DATA_DIR=" + dataDir, "TANDEM_DATABASE_URL=" + pgURL}
	first, firstLog := startWorker(t, append(common, "TANDEM_SMTP_URL="+hangingSMTP(t))...)

	opts := store.Options{PostgresURL: pgURL}
	if pgURL == "" {
		opts.SQLitePath = filepath.Join(dataDir, "tandem.db")
	}
	st, err := store.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Tx(ctx, func(tx *gorm.DB) error {
		return jobs.EnqueueMail(ctx, st, tx, jobs.Mail{Key: "killed-mid-send",
			Message: mail.Message{To: "ada@example.com", Subject: "Sent once", Text: "Hello"}})
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var state string
		if err := st.DB.Raw("SELECT state FROM river_job WHERE kind = ?", jobs.KindEmail).Scan(&state).Error; err != nil {
			t.Fatal(err)
		}
		if state == "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is %q, never running; log:\n%s", state, firstLog.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	backdate := "UPDATE river_job SET attempted_at = attempted_at - interval '2 hours' WHERE kind = ?"
	if st.Dialect == store.SQLite {
		backdate = "UPDATE river_job SET attempted_at = datetime(attempted_at, '-2 hours') WHERE kind = ?"
	}
	if err := st.DB.Exec(backdate, jobs.KindEmail).Error; err != nil {
		t.Fatal(err)
	}

	mp := mailtest.Start(t)
	startWorker(t, append(common, "TANDEM_SMTP_URL="+mp.SMTPURL())...)
	deadline = time.Now().Add(4 * time.Minute)
	for mp.Count(t) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the rescued job was never sent")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // a duplicate would follow at once
	if n := mp.Count(t); n != 1 {
		t.Fatalf("mailpit holds %d messages, want 1", n)
	}
	var d jobs.DeliveryRow
	if err := st.DB.Where("key = ?", "killed-mid-send").Take(&d).Error; err != nil {
		t.Fatal(err)
	}
	if d.Status != jobs.DeliverySent || d.Attempts != 2 {
		t.Fatalf("delivery log: %s after %d attempts, want sent after 2 (the killed one and the rescue)", d.Status, d.Attempts)
	}
}
