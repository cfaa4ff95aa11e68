package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/store"
)

// TestBackupUnderWriteLoadRestores takes backups of an SQLite database
// while four writers commit practices (a practice, its owner and the
// membership, in one transaction each), restores one into another data
// directory and checks it: intact, migrated, and holding whole
// transactions only, as many as had committed when it was taken at most.
func TestBackupUnderWriteLoadRestores(t *testing.T) {
	ctx := context.Background()
	dir, restored := t.TempDir(), t.TempDir()
	getenv := envFunc(map[string]string{"TANDEM_DATA_DIR": dir})
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"migrate", "up"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(dir, "tandem.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := st.Tx(ctx, writePractice); err != nil {
					t.Error(err)
					return
				}
				committed.Add(1)
			}
		})
	}
	for committed.Load() < 50 {
		time.Sleep(5 * time.Millisecond)
	}
	backupFile := filepath.Join(t.TempDir(), "backup.db")
	if err := run(ctx, []string{"backup", "--to", backupFile}, getenv, &out, &errOut); err != nil {
		t.Fatalf("backup under load: %v\n%s", err, errOut.String())
	}
	atBackupEnd := committed.Load()
	if err := run(ctx, []string{"backup", "--to", backupFile}, getenv, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "exists") {
		t.Errorf("a second backup to the same file: %v, want a refusal to overwrite", err)
	}
	close(stop)
	wg.Wait()

	// Restoring over the database Tandem has open is refused.
	if err := run(ctx, []string{"restore", "--from", backupFile}, getenv, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "in use") {
		t.Errorf("restore over an open database: %v, want a refusal", err)
	}

	out.Reset()
	restoredEnv := envFunc(map[string]string{"TANDEM_DATA_DIR": restored})
	if err := run(ctx, []string{"restore", "--from", backupFile}, restoredEnv, &out, &errOut); err != nil {
		t.Fatalf("restore: %v", err)
	}
	back, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(restored, "tandem.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if sc, err := back.CheckSchema(ctx); err != nil || len(sc.Pending) > 0 {
		t.Fatalf("the restored database's schema: %+v, %v", sc, err)
	}
	var practices, whole int64
	if err := back.DB.Raw("SELECT count(*) FROM practices").Scan(&practices).Error; err != nil {
		t.Fatal(err)
	}
	if err := back.DB.Raw(`SELECT count(*) FROM practices p JOIN memberships m ON m.practice_id = p.id AND m.role = 'owner'
		JOIN users u ON u.id = m.user_id`).Scan(&whole).Error; err != nil {
		t.Fatal(err)
	}
	if practices < 50 || practices > atBackupEnd || whole != practices {
		t.Fatalf("the backup holds %d practices, %d of them whole; want at least the 50 committed before it started, "+
			"at most the %d committed when it ended, all whole", practices, whole, atBackupEnd)
	}
	t.Logf("backup taken under load holds %d practices (%d committed when it ended, %d in all)",
		practices, atBackupEnd, committed.Load())
}

// writePractice commits a practice with its owner, as registration does.
func writePractice(tx *gorm.DB) error {
	now := time.Now().UTC()
	pid, uid := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	if err := tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
		pid, "Practice "+pid.String(), now, now).Error; err != nil {
		return err
	}
	if err := tx.Exec("INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		uid, fmt.Sprintf("%s@example.com", uid), "Owner", "x", now, now).Error; err != nil {
		return err
	}
	return tx.Exec("INSERT INTO memberships (id, practice_id, user_id, role, created_at) VALUES (?, ?, ?, 'owner', ?)",
		uuid.Must(uuid.NewV7()), pid, uid, now).Error
}

func envFunc(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}
