package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestAcknowledgedWritesSurviveADatabaseCrash crashes a PostgreSQL server
// of the test's own (pg_ctl stop -m immediate: no checkpoint) under six
// concurrent writers, and starts it again. Meanwhile every failed write
// is ErrUnavailable (which the API answers 503 with Retry-After), the
// same store recovers without being reopened, and every write it
// acknowledged before the crash is there after it.
func TestAcknowledgedWritesSurviveADatabaseCrash(t *testing.T) {
	if storetest.PostgresURL(t) == "" {
		t.Skip("a PostgreSQL fault test; it runs in the PostgreSQL pass (" + storetest.EnvPostgres + ")")
	}
	in := storetest.StartInstance(t)
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{PostgresURL: in.URL(), RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		acked    []uuid.UUID
		failures atomic.Int64
		crashed  atomic.Bool
		after    atomic.Int64 // writes acknowledged once the server is back
		stop     = make(chan struct{})
		wg       sync.WaitGroup
	)
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := uuid.Must(uuid.NewV7())
				reqCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := st.Tx(reqCtx, func(tx *gorm.DB) error {
					now := time.Now().UTC()
					return tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, ?, 1, ?, ?)",
						id, "Practice "+id.String(), now, now).Error
				})
				cancel()
				if err != nil {
					failures.Add(1)
					if !errors.Is(err, store.ErrUnavailable) {
						t.Errorf("a write while the database was down: %v, want ErrUnavailable (503)", err)
					}
					time.Sleep(20 * time.Millisecond)
					continue
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
				if crashed.Load() {
					after.Add(1)
				}
			}
		})
	}
	waitFor := func(what string, done func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !done() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("200 writes before the crash", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 200 })
	in.Crash()
	crashed.Store(true)
	time.Sleep(300 * time.Millisecond) // the writers meet the dead server
	in.Start()
	waitFor("200 writes after the restart", func() bool { return after.Load() >= 200 })
	close(stop)
	wg.Wait()

	if failures.Load() == 0 {
		t.Fatal("no write failed while the server was down: the crash was not seen")
	}
	mu.Lock()
	defer mu.Unlock()
	var found int64
	if err := st.DB.Raw("SELECT count(*) FROM practices WHERE id IN ?", acked).Scan(&found).Error; err != nil {
		t.Fatal(err)
	}
	if found != int64(len(acked)) {
		t.Fatalf("%d writes were acknowledged, %d of them are in the database after the crash", len(acked), found)
	}
	t.Logf("%d writes acknowledged (%d after the restart), all there; %d failed while the server was down",
		len(acked), after.Load(), failures.Load())
}
