package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// mountSmallDisk mounts a tmpfs of the given size (as mount's size option:
// "8m") for t, unmounted after everything else t set up afterwards is
// cleaned up (cleanups run last-registered first).
func mountSmallDisk(t *testing.T, size string) string {
	t.Helper()
	// Not t.TempDir: its parent is private to root, and PostgreSQL runs as
	// postgres.
	dir, err := os.MkdirTemp("", "tandem-small-disk-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount a %s tmpfs: %v: %s", size, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
		_ = os.Remove(dir)
	})
	return dir
}

// fillDisk writes a ballast file into dir until its file system is full,
// and returns the file's path: removing it frees the space.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

// TestFullDiskRefusesWritesAndRecoversWhenSpaceIsFreed: when the disk the
// database writes to fills up, a write is answered 503 storage_full with
// Retry-After (never a 500) and changes nothing; reads keep working; and
// once space is freed, writes work again without a restart, with every
// acknowledged write still there. On SQLite the whole database lives on
// the small disk; on PostgreSQL (a server of the test's own) the action
// steps' table is moved into a tablespace on it.
func TestFullDiskRefusesWritesAndRecoversWhenSpaceIsFreed(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small file system (tmpfs) for the database to fill needs root, as CI runs")
	}
	ctx := context.Background()
	small := mountSmallDisk(t, "16m")
	var st *store.Store
	var err error
	if onPostgres() {
		in := storetest.StartInstance(t)
		if st, err = store.Open(ctx, store.Options{PostgresURL: in.URL()}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		space := filepath.Join(small, "tablespace")
		if err := os.Mkdir(space, 0o700); err != nil {
			t.Fatal(err)
		}
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(space, uid, gid); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{
			fmt.Sprintf("CREATE TABLESPACE small LOCATION '%s'", space),
			"ALTER TABLE action_steps SET TABLESPACE small",
		} {
			if err := st.DB.Exec(stmt).Error; err != nil {
				t.Fatal(err)
			}
		}
	} else {
		if st, err = store.Open(ctx, store.Options{SQLitePath: filepath.Join(small, "tandem.db")}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
	}

	env := newEnv(t, envOptions{store: st})
	f := env.practice("full")
	goal := env.createGoal(f.coach.AccessToken, f.clientRec.ID, map[string]any{"title": "Keep going when the disk fills", "why": "To trust the record"})
	ballast := fillDisk(t, small)

	addStep := func(title string) response {
		return env.doWithin(request{method: http.MethodPost, path: "/api/v1/goals/" + goal.ID + "/action-steps",
			token: f.coach.AccessToken, body: map[string]any{"title": title}})
	}
	var acknowledged []string
	for i := 0; ; i++ {
		if i == 2000 {
			t.Fatal("2000 steps were stored on a full disk")
		}
		res := addStep(fmt.Sprintf("Step %d, with a title long enough to fill pages soon", i))
		if res.Code == http.StatusCreated {
			acknowledged = append(acknowledged, res.Header.Get("Location"))
			continue
		}
		p := res.retryLater(t, http.StatusServiceUnavailable)
		if p.Type != "https://tandem.invalid/problems/storage_full" {
			t.Fatalf("a write on a full disk: %s, want the storage_full problem", res.Body)
		}
		break
	}
	steps := env.listSteps(f.coach.AccessToken, "/api/v1/goals/"+goal.ID+"/action-steps?limit=200")
	if len(steps.Items) != min(len(acknowledged), 200) {
		t.Errorf("reading on a full disk: %d steps, want the %d acknowledged", len(steps.Items), len(acknowledged))
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if res := addStep("Written once space was freed"); res.Code != http.StatusCreated {
		t.Fatalf("after space was freed, adding a step: %d %s", res.Code, res.Body)
	}
	var stored int64
	if err := st.DB.Table("action_steps").Where("goal_id = ?", goal.ID).Count(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if want := int64(len(acknowledged) + 1); stored != want {
		t.Errorf("%d steps stored, want the %d acknowledged", stored, want)
	}
}
