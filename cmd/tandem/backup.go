package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/store"
)

const backupUsage = `usage: tandem backup [--to FILE]

Writes a consistent copy of the SQLite database while Tandem keeps running
(VACUUM INTO: one snapshot, compact, synced to disk). FILE must not exist;
by default it is backups/tandem-<UTC time>.db in TANDEM_DATA_DIR. The copy
holds sealed notes but not the keys that open them: back up TANDEM_NOTE_KEYS
(or the development key file) apart from it.

On PostgreSQL, use pg_dump or point-in-time recovery instead (README.md,
"Backups").
`

const restoreUsage = `usage: tandem restore --from FILE

Replaces the SQLite database in TANDEM_DATA_DIR with the backup FILE, after
checking FILE's integrity. Stop Tandem first: restore refuses while another
process has the database open. The replaced database is kept beside it as
tandem.db.before-restore-<UTC time>. Start Tandem afterwards: it applies any
migrations the backup lacks.
`

// backup copies the SQLite database (see backupUsage).
func backup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	to := fs.String("to", "", "the file to write (must not exist)")
	if helped, err := parseFlags(fs, args, backupUsage, stdout, stderr); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, backupUsage)
		return fmt.Errorf("backup takes no arguments, got %q", fs.Arg(0))
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if cfg.UsesPostgres() {
		return store.ErrNotSQLite
	}
	if _, err := os.Stat(cfg.SQLitePath()); err != nil {
		return fmt.Errorf("no database to back up at %s: %w", cfg.SQLitePath(), err)
	}
	dst := *to
	if dst == "" {
		dir := filepath.Join(cfg.DataDir, "backups")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		dst = filepath.Join(dir, "tandem-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	st, err := openStore(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := st.Backup(ctx, dst); err != nil {
		return err
	}
	info, err := os.Stat(dst)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes in %v)\n", cfg.SQLitePath(), dst, info.Size(),
		time.Since(start).Round(time.Millisecond))
	return nil
}

// restore replaces the SQLite database with a backup (see restoreUsage).
func restore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "the backup to restore")
	if helped, err := parseFlags(fs, args, restoreUsage, stdout, stderr); helped || err != nil {
		return err
	}
	if *from == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, restoreUsage)
		return errors.New("restore: say which backup with --from FILE")
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if cfg.UsesPostgres() {
		return store.ErrNotSQLite
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return err
	}
	kept, err := store.Restore(ctx, *from, cfg.SQLitePath())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s from %s\n", cfg.SQLitePath(), *from)
	if kept != "" {
		fmt.Fprintf(stdout, "the database it replaced is kept as %s\n", kept)
	}
	return nil
}
