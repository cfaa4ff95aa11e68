package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
)

// ErrNotSQLite is returned by Backup on PostgreSQL, which has its own tools
// (pg_dump, or continuous archiving for point-in-time recovery).
var ErrNotSQLite = errors.New("backup and restore copy the SQLite database; on PostgreSQL use pg_dump or point-in-time recovery")

// Backup writes a consistent copy of the SQLite database to dst, which
// must not exist, while the service keeps running: VACUUM INTO reads one
// snapshot, so writes committed meanwhile are all in the copy or all out
// of it, and the copy is compact. dst is synced to disk before Backup
// returns.
func (s *Store) Backup(ctx context.Context, dst string) error {
	if s.Dialect != SQLite {
		return ErrNotSQLite
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("%s exists: a backup never overwrites a file", dst)
	}
	// On the writer's connection: the readers are query_only, which
	// VACUUM INTO refuses. It only reads this database, in one snapshot,
	// so other processes keep writing meanwhile (WAL); in this process,
	// writes wait for it.
	if _, err := s.writer.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("backup: %w", err)
	}
	return syncFile(dst)
}

// Restore replaces the SQLite database at path with the backup src, after
// checking that src is an intact SQLite database. Run it with Tandem
// stopped: it refuses while another process holds the database. The
// database it replaces is kept beside it as path.before-restore-<time>.
func Restore(ctx context.Context, src, path string) (kept string, err error) {
	if err := checkIntact(ctx, src); err != nil {
		return "", fmt.Errorf("%s: %w", src, err)
	}
	if err := refuseWhileInUse(ctx, path); err != nil {
		return "", err
	}
	tmp := path + ".restoring"
	if err := copyFile(src, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		kept = path + ".before-restore-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(path, kept); err != nil {
			return "", err
		}
	}
	// The old database's write-ahead log belongs to it, not to the backup.
	for _, suffix := range []string{"-wal", "-shm"} {
		if kept == "" {
			break
		}
		if err := os.Rename(path+suffix, kept+suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return kept, err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return kept, err
	}
	return kept, syncDir(filepath.Dir(path))
}

// checkIntact opens path read-only and runs SQLite's integrity check.
func checkIntact(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := sql.Open(sqlite.DriverName, "file:"+url.PathEscape(path)+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if result != "ok" {
		return fmt.Errorf("the integrity check failed: %s", result)
	}
	return nil
}

// refuseWhileInUse fails when another process has the database at path
// open for writing: restoring under it would lose its writes, or worse.
func refuseWhileInUse(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	db, err := sql.Open(sqlite.DriverName, "file:"+url.PathEscape(path)+"?_pragma=busy_timeout(0)")
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// In WAL mode an exclusive lock on the database needs every other
	// connection closed.
	if _, err := conn.ExecContext(ctx, "PRAGMA locking_mode = EXCLUSIVE"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		return fmt.Errorf("%s is in use: stop Tandem before restoring (%w)", path, err)
	}
	_, err = conn.ExecContext(ctx, "ROLLBACK")
	return err
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
