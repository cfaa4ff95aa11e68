package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestMain doubles as the tandem binary: with TANDEM_TEST_AS_BINARY set, the
// test executable runs `tandem` with the arguments in TANDEM_TEST_ARGS, so
// the crash test can start and SIGKILL a real server process.
func TestMain(m *testing.M) {
	if os.Getenv("TANDEM_TEST_AS_BINARY") == "1" {
		if err := run(context.Background(), strings.Fields(os.Getenv("TANDEM_TEST_ARGS")), os.Getenv, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "tandem:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	storetest.Main(m)
}

func TestVersionAndUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "tandem ") {
		t.Fatalf("version printed %q", out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errOut); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	if err := run(context.Background(), nil, func(string) string { return "" }, &out, &errOut); err == nil {
		t.Fatal("no command succeeded")
	}
}

// TestCommandLineHelpAndMistakes is the command line as a newcomer tries
// it: every command's --help prints its usage and succeeds, --version
// works, and a mistake prints the usage and one error, which main prints.
func TestCommandLineHelpAndMistakes(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"serve", "--help"}, {"serve", "-h"}, {"worker", "--help"}, {"migrate", "--help"},
		{"keygen", "--help"}, {"help", "serve"}, {"help", "migrate"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, noEnv, &out, &errOut); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		if !strings.HasPrefix(out.String(), "usage: tandem") || errOut.Len() != 0 {
			t.Errorf("%v: printed %q, and %q on stderr; want the usage on stdout only", args, out.String(), errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, noEnv, &out, &errOut); err != nil || !strings.HasPrefix(out.String(), "tandem ") {
		t.Errorf("--version: %v, printed %q", err, out.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--bogus"}, "serve: flag provided but not defined: -bogus"},
		{[]string{"serve", "extra"}, `serve takes no arguments, got "extra"`},
		{[]string{"migrate"}, "migrate: say up, down or status"},
		{[]string{"migrate", "sideways"}, `migrate: unknown command "sideways"`},
		{[]string{"keygen", "rsa"}, `unknown key kind "rsa"`},
		{[]string{"help", "frobnicate"}, `no help for "frobnicate"`},
		{[]string{"restore"}, "restore: say which backup with --from FILE"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, noEnv, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one saying %q", tc.args, err, tc.want)
		}
		// The usage goes to stderr, the error only once, by main.
		if !strings.HasPrefix(errOut.String(), "usage: tandem") || err != nil && strings.Contains(errOut.String(), err.Error()) {
			t.Errorf("%v: stderr %q; want the usage without the error", tc.args, errOut.String())
		}
	}
}

// TestMigrateStatusNeverCreatesTheDatabase: asking what would be applied
// says which database it read, and does not create an SQLite file.
func TestMigrateStatusNeverCreatesTheDatabase(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TANDEM_DATA_DIR": dir}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "status"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "tandem.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("migrate status created the database (%v)", err)
	}
	want := "database: sqlite:" + filepath.Join(dir, "tandem.db")
	if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "00001  pending") || strings.Contains(out.String(), "applied ") {
		t.Fatalf("migrate status printed:\n%s\nwant it to start with %q and list every migration pending", out.String(), want)
	}
	if err := run(context.Background(), []string{"migrate", "up"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "status"}, func(k string) string { return env[k] }, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), "00001  applied") || strings.Contains(out.String(), "pending") {
		t.Fatalf("migrate status after up printed:\n%s", out.String())
	}
}

func TestServeRefusesIncompleteProductionConfig(t *testing.T) {
	env := map[string]string{"TANDEM_ENV": "production", "TANDEM_DATA_DIR": t.TempDir()}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out, &errOut)
	if err == nil {
		t.Fatal("production started without its secrets")
	}
	for _, name := range []string{"TANDEM_DATABASE_URL", "TANDEM_JWT_SIGNING_KEYS", "TANDEM_SMTP_URL", "TANDEM_BASE_URL", "TANDEM_TRUSTED_PROXIES"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the refusal does not name %s:\n%v", name, err)
		}
	}
}

func TestMigrateCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"TANDEM_DATA_DIR": dir, "TANDEM_DATABASE_URL": storetest.PostgresURL(t)}
	getenv := func(k string) string { return env[k] }
	var out, errOut bytes.Buffer
	for _, args := range [][]string{{"migrate", "status"}, {"migrate", "up"}, {"migrate", "status"}, {"migrate", "down"}, {"migrate", "up"}} {
		out.Reset()
		if err := run(context.Background(), args, getenv, &out, &errOut); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errOut.String())
		}
	}
	if !strings.Contains(out.String(), "applied 1 migration") {
		t.Fatalf("the last migrate up printed %q", out.String())
	}
	if err := run(context.Background(), []string{"migrate", "sideways"}, getenv, &out, &errOut); err == nil {
		t.Fatal("migrate sideways succeeded")
	}
}

// TestSIGKILLDuringRegistrationsLosesNothing starts a real server process,
// registers practices from several clients at once, kills the process with
// SIGKILL in the middle, and then checks the database: every acknowledged
// registration is there whole, and no practice, user, membership or session
// exists half-made, nor an unverified owner without the link that verifies
// them. Each registration's e-mail is a job committed with it: the server
// runs without workers, so every e-mail is still queued at the kill, and a
// server started afterwards delivers each exactly once (to mailpit).
func TestSIGKILLDuringRegistrationsLosesNothing(t *testing.T) {
	dataDir := t.TempDir()
	pgURL := storetest.PostgresURL(t)
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		"TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=serve", "TANDEM_WORKERS=false",
		"TANDEM_DATA_DIR="+dataDir, "TANDEM_LISTEN_ADDR="+addr, "TANDEM_DATABASE_URL="+pgURL, "TANDEM_LOG_LEVEL=warn")
	serverLog := &serverOutput{}
	cmd.Stdout, cmd.Stderr = serverLog, serverLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	base := "http://" + addr
	waitHealthy(t, base, serverLog)

	var (
		mu    sync.Mutex
		acked []string
		wg    sync.WaitGroup
	)
	client := &http.Client{Timeout: 10 * time.Second}
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				email := fmt.Sprintf("owner-%d-%d@example.com", w, i)
				body, _ := json.Marshal(map[string]string{"practice_name": "P " + email, "name": "O", "email": email, "password": "a long and quiet river"})
				resp, err := client.Post(base+"/api/v1/auth/register", "application/json", bytes.NewReader(body))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					mu.Lock()
					acked = append(acked, email)
					mu.Unlock()
				}
			}
		}()
	}
	// Kill once registrations are flowing, while more are in flight.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 12 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	killed = true
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("no registration was acknowledged before the kill; server log:\n%s", serverLog.String())
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

	for _, email := range acked {
		var owners int64
		st.DB.Table("users u").Joins("JOIN memberships m ON m.user_id = u.id AND m.role = 'owner'").
			Where("u.email = ?", email).Count(&owners)
		if owners != 1 {
			t.Errorf("acknowledged registration %s lost after SIGKILL", email)
		}
	}
	orphans := map[string]string{
		"practice without exactly one owner": `SELECT count(*) FROM practices p WHERE (SELECT count(*) FROM memberships m WHERE m.practice_id = p.id AND m.role = 'owner') <> 1`,
		"user without a membership":          `SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)`,
		"session without a refresh token":    `SELECT count(*) FROM auth_sessions s WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.session_id = s.id)`,
		"practice without its audit event":   `SELECT count(*) FROM practices p WHERE NOT EXISTS (SELECT 1 FROM audit_events a WHERE a.practice_id = p.id)`,
		"unverified owner without the link that verifies them": `SELECT count(*) FROM users u WHERE u.email_verified_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM email_tokens e WHERE e.user_id = u.id AND e.purpose = 'verify_email')`,
	}
	for what, q := range orphans {
		var n int64
		if err := st.DB.Raw(q).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d %s after SIGKILL", n, what)
		}
	}
	var practices, mailJobs int64
	st.DB.Table("practices").Count(&practices)
	if err := st.DB.Raw("SELECT count(*) FROM river_job WHERE kind = 'email' AND state = 'available'").Scan(&mailJobs).Error; err != nil {
		t.Fatal(err)
	}
	if mailJobs != practices {
		t.Errorf("%d e-mail jobs queued for %d committed registrations, want one each", mailJobs, practices)
	}
	t.Logf("acknowledged %d registrations; %d practices committed", len(acked), practices)
	_ = st.Close()

	// A server started after the kill delivers every queued e-mail once.
	mp := mailtest.Start(t)
	restarted := exec.Command(os.Args[0], "-test.run=^$")
	restarted.Env = append(os.Environ(),
		"TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=serve", "TANDEM_SMTP_URL="+mp.SMTPURL(),
		"TANDEM_DATA_DIR="+dataDir, "TANDEM_LISTEN_ADDR="+freeAddr(t), "TANDEM_DATABASE_URL="+pgURL, "TANDEM_LOG_LEVEL=warn")
	restartLog := &serverOutput{}
	restarted.Stdout, restarted.Stderr = restartLog, restartLog
	if err := restarted.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = restarted.Process.Signal(syscall.SIGTERM)
		_ = restarted.Wait()
	}()
	deadline = time.Now().Add(60 * time.Second)
	for int64(len(mp.Messages(t))) < practices && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // time for a duplicate to arrive
	received := map[string]int{}
	for _, m := range mp.Messages(t) {
		for _, to := range m.To {
			received[to]++
		}
	}
	if int64(len(received)) != practices {
		t.Errorf("mailpit received e-mails for %d addresses, want the %d registrations; server log:\n%s", len(received), practices, restartLog.String())
	}
	for to, n := range received {
		if n != 1 {
			t.Errorf("%s received %d e-mails, want 1", to, n)
		}
	}
	for _, email := range acked {
		if received[email] != 1 {
			t.Errorf("acknowledged registration %s got %d e-mails, want 1", email, received[email])
		}
	}
}

// waitHealthy waits until the server at base is ready, printing its log if
// it never is.
func waitHealthy(t *testing.T, base string, log fmt.Stringer) {
	t.Helper()
	// Generous: a race-instrumented server on a busy 2-core machine may take
	// a while to migrate and start.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not become ready; log:\n%s", log.String())
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestKeygenMakesKeysTheConfigurationAccepts: both kinds of key load, and two
// keys never share an ID.
func TestKeygenMakesKeysTheConfigurationAccepts(t *testing.T) {
	gen := func(kind string) string {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"keygen", kind}, func(string) string { return "" }, &out, &out); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out.String())
	}
	s1, s2, n1, n2 := gen("signing"), gen("signing"), gen("note"), gen("note")
	env := map[string]string{"TANDEM_JWT_SIGNING_KEYS": s1 + "," + s2, "TANDEM_NOTE_KEYS": n1 + "," + n2}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.SigningKeys) != 2 || len(cfg.NoteKeys) != 2 || !strings.HasPrefix(n1, "n") || !strings.HasPrefix(s1, "k") {
		t.Fatalf("keys %v / %v", cfg.SigningKeys, cfg.NoteKeys)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"keygen", "gpg"}, func(string) string { return "" }, &out, &out); err == nil {
		t.Fatal("keygen gpg succeeded")
	}
}

// TestDevelopmentMailboxOnlyWithoutSMTP: a development server without SMTP
// keeps what it would have e-mailed at /dev/mailbox and says where at start;
// with SMTP configured there is no such page.
func TestDevelopmentMailboxOnlyWithoutSMTP(t *testing.T) {
	for _, tt := range []struct {
		name, smtpURL string
		want          int
	}{
		{"without SMTP", "", http.StatusOK},
		{"with SMTP", "smtp://127.0.0.1:1?tls=none", http.StatusNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := freeAddr(t)
			base := "http://" + addr
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(),
				"TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=serve", "TANDEM_ENV=development", "TANDEM_DATABASE_URL=",
				"TANDEM_DATA_DIR="+t.TempDir(), "TANDEM_LISTEN_ADDR="+addr, "TANDEM_SMTP_URL="+tt.smtpURL)
			serverLog := &serverOutput{}
			cmd.Stdout, cmd.Stderr = serverLog, serverLog
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				}
			})
			waitHealthy(t, base, serverLog)

			resp, err := http.Get(base + "/dev/mailbox.json")
			if err != nil {
				t.Fatal(err)
			}
			var list struct {
				Items []json.RawMessage `json:"items"`
			}
			decodeErr := json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET /dev/mailbox.json: status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusOK && (decodeErr != nil || list.Items == nil || len(list.Items) != 0 ||
				resp.Header.Get("Cache-Control") != "no-store") {
				t.Fatalf("GET /dev/mailbox.json: %+v, %v, Cache-Control %q", list, decodeErr, resp.Header.Get("Cache-Control"))
			}

			// Stop the server before reading its log: the process writes to it until then.
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			stopped = true
			announced := strings.Contains(serverLog.String(), "development mailbox at "+base+"/dev/mailbox")
			if announced != (tt.want == http.StatusOK) {
				t.Fatalf("the start-up log announces the mailbox: %v; log:\n%s", announced, serverLog.String())
			}
		})
	}
}

// TestOperatorsListenerAndHealthcheck: with TANDEM_OPS_ADDR, /metrics is on
// the operators' listener only, not on the public one, and `tandem
// healthcheck` (the container's health check) succeeds while the server
// runs and fails once it has stopped.
func TestOperatorsListenerAndHealthcheck(t *testing.T) {
	addr, opsAddr := freeAddr(t), freeAddr(t)
	env := []string{"TANDEM_ENV=development", "TANDEM_DATABASE_URL=", "TANDEM_DATA_DIR=" + t.TempDir(),
		"TANDEM_LISTEN_ADDR=" + addr, "TANDEM_OPS_ADDR=" + opsAddr, "TANDEM_WORKERS=false"}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "TANDEM_TEST_AS_BINARY=1", "TANDEM_TEST_ARGS=serve"), env...)
	serverLog := &serverOutput{}
	cmd.Stdout, cmd.Stderr = serverLog, serverLog
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	waitHealthy(t, "http://"+addr, serverLog)

	status := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status("http://" + addr + "/metrics"); got != http.StatusNotFound {
		t.Errorf("public /metrics: %d, want 404", got)
	}
	for _, path := range []string{"/metrics", "/healthz", "/readyz", "/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/cmdline"} {
		if got := status("http://" + opsAddr + path); got != http.StatusOK {
			t.Errorf("operators' %s: %d, want 200", path, got)
		}
	}
	if got := status("http://" + addr + "/debug/pprof/"); got != http.StatusNotFound {
		t.Errorf("public /debug/pprof/: %d, want 404", got)
	}

	getenv := func(k string) string {
		for _, kv := range env {
			if key, v, _ := strings.Cut(kv, "="); key == k {
				return v
			}
		}
		return ""
	}
	for _, args := range [][]string{{"healthcheck"}, {"healthcheck", "--ready"}} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, getenv, &out, &errOut); err != nil {
			t.Errorf("%v while serving: %v", args, err)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; log:\n%s", err, serverLog.String())
	}
	stopped = true
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"healthcheck"}, getenv, &out, &errOut); err == nil {
		t.Error("healthcheck succeeded with the server stopped")
	}
}
