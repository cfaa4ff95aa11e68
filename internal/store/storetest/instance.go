package storetest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// pgBin is where Debian keeps PostgreSQL 15's server programs.
const pgBin = "/usr/lib/postgresql/15/bin"

// Instance is a PostgreSQL server of a test's own, in a temporary
// directory on a port of its own: a test may stop, crash or restart it,
// which it must never do to the shared server.
type Instance struct {
	t       testing.TB
	base    string
	dir     string
	port    int
	runAs   []string // runuser -u postgres --, when the test runs as root
	logPath string
}

// StartInstance initialises and starts a PostgreSQL server for t, stopped
// and removed after it. PostgreSQL refuses to run as root: as root, the
// server runs as the postgres user. Writes are durable (fsync on), as in
// production, so that a crash test means something.
func StartInstance(t testing.TB) *Instance {
	t.Helper()
	in := newInstance(t)
	in.run("initdb", "-D", in.dir, "-U", "postgres", "--auth=trust", "--no-instructions", "-E", "UTF8")
	in.configure("fsync = on\nmax_connections = 100\nshared_buffers = 32MB\n")
	in.Start()
	return in
}

// StartReplica makes a streaming replica of in (pg_basebackup, which
// writes standby.signal and the primary's address), on a port of its own,
// and starts it. It is stopped and removed after the test.
func (in *Instance) StartReplica() *Instance {
	in.t.Helper()
	r := newInstance(in.t)
	r.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(in.port), "-U", "postgres", "-D", r.dir,
		"-R", "-X", "stream", "-c", "fast")
	// The copy holds the primary's settings; the later lines win.
	r.configure("hot_standby = on\n")
	r.Start()
	return r
}

// newInstance prepares an instance's directory and port, and stops the
// server after the test.
func newInstance(t testing.TB) *Instance {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		t.Fatalf("PostgreSQL 15's server programs are not in %s: %v", pgBin, err)
	}
	// Not t.TempDir: its parent is private to this user, and the server
	// may run as another.
	base, err := os.MkdirTemp("", "tandem-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	in := &Instance{t: t, base: base, dir: filepath.Join(base, "data"), logPath: filepath.Join(base, "server.log")}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, and no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
		in.runAs = []string{"runuser", "-u", "postgres", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// Registered before the directory's removal, so it runs first.
	t.Cleanup(func() {
		_ = in.command("pg_ctl", "-D", in.dir, "-m", "immediate", "-w", "stop").Run()
	})
	return in
}

// configure appends the instance's own address and extra settings to its
// postgresql.conf.
func (in *Instance) configure(extra string) {
	in.t.Helper()
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n%s",
		in.port, in.base, extra)
	f, err := os.OpenFile(filepath.Join(in.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		in.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(conf); err != nil {
		in.t.Fatal(err)
	}
}

// URL is the instance's postgres database.
func (in *Instance) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", in.port)
}

// Start starts the server and waits until it accepts connections.
func (in *Instance) Start() {
	in.t.Helper()
	in.run("pg_ctl", "-D", in.dir, "-l", in.logPath, "-w", "-t", "60", "start")
}

// Crash stops the server at once, as a power cut or an OOM kill would
// (pg_ctl's immediate mode: no checkpoint, recovery from the WAL on the
// next start).
func (in *Instance) Crash() {
	in.t.Helper()
	in.run("pg_ctl", "-D", in.dir, "-m", "immediate", "-w", "stop")
}

func (in *Instance) command(name string, args ...string) *exec.Cmd {
	argv := append(append([]string{}, in.runAs...), filepath.Join(pgBin, name))
	argv = append(argv, args...)
	return exec.Command(argv[0], argv[1:]...)
}

func (in *Instance) run(name string, args ...string) {
	in.t.Helper()
	cmd := in.command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(in.logPath)
		in.t.Fatalf("%s %v (after %v): %v\n%s\nserver log:\n%s", name, args, time.Since(start), err, out.String(), log)
	}
}
