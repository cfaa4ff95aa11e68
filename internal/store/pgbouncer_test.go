package store_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestBehindPgBouncerInTransactionMode runs Tandem's store through a real
// PgBouncer (Debian's) in transaction pooling mode, with fewer server
// connections than clients, so that consecutive transactions of one
// client connection land on different server connections: migrations go
// to the database directly (they hold a session advisory lock), and
// concurrent transactions and reads with parameters of every kind work
// through the pooler, with no prepared statement missing or clashing.
func TestBehindPgBouncerInTransactionMode(t *testing.T) {
	direct := storetest.PostgresURL(t)
	if direct == "" {
		t.Skip("PgBouncer fronts PostgreSQL; set " + storetest.EnvPostgres)
	}
	pooled := startPgBouncer(t, direct)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{PostgresURL: pooled, PostgresDirectURL: direct})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}

	const writers, each = 12, 15
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				id := uuid.Must(uuid.NewV7())
				err := st.Tx(ctx, func(tx *gorm.DB) error {
					now := time.Now().UTC()
					if err := tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
						id, "Practice "+id.String(), now, now).Error; err != nil {
						return err
					}
					var name string
					if err := tx.Raw("SELECT name FROM practices WHERE id = ? AND created_at <= ?", id, now.Add(time.Second)).
						Scan(&name).Error; err != nil {
						return err
					}
					return tx.Exec("UPDATE practices SET version = version + 1, updated_at = ? WHERE id = ?", now, id).Error
				})
				if err != nil {
					t.Errorf("a transaction through PgBouncer: %v", err)
					return
				}
				var version int
				if err := st.DB.WithContext(ctx).Raw("SELECT version FROM practices WHERE id = ?", id).Scan(&version).Error; err != nil || version != 2 {
					t.Errorf("a read through PgBouncer: version %d, %v", version, err)
					return
				}
			}
		})
	}
	wg.Wait()
	var n int64
	if err := st.DB.Raw("SELECT count(*) FROM practices").Scan(&n).Error; err != nil || n != writers*each {
		t.Fatalf("%d practices (%v), want %d", n, err, writers*each)
	}
	if sc, err := st.CheckSchema(ctx); err != nil || !sc.Current() {
		t.Fatalf("schema through PgBouncer: %+v, %v", sc, err)
	}
}

// startPgBouncer runs PgBouncer in transaction mode in front of the
// database at direct, with 3 server connections for all clients, until t
// ends, and returns the URL that reaches the database through it.
func startPgBouncer(t *testing.T, direct string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if _, statErr := os.Stat("/usr/sbin/pgbouncer"); statErr != nil {
			t.Fatal("pgbouncer is not installed: run .ci/ensure-tools (make test does), or apt-get install pgbouncer")
		}
		bin = "/usr/sbin/pgbouncer"
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	// PgBouncer refuses to run as root; as root it is told to become the
	// postgres user, who must be able to read the configuration.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	user := u.User.Username()
	ini := fmt.Sprintf(`[databases]
tandem = host=%s port=%s dbname=%s user=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = any
pool_mode = transaction
default_pool_size = 3
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
`, u.Hostname(), u.Port(), filepath.Base(u.Path), user, port)
	conf := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(conf, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{conf}
	if os.Geteuid() == 0 {
		args = []string{"-u", "postgres", conf}
	}
	cmd := exec.Command(bin, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not listen on %s:\n%s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Sprintf("postgres://%s@%s/tandem?sslmode=disable", user, addr)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
