package httpapi_test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the replica's own connection

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

// TestReadReplicaServesLaggingReadsAndEachUserTheirOwnWrites builds a real
// streaming replica (pg_basebackup of a PostgreSQL server of the test's
// own) and proves the routing: with the replica's replay paused, a coach
// who just added a client sees it on their dashboard (their reads go to
// the primary), while the owner, who wrote nothing lately, reads the
// replica's older dashboard; once the replica replays, the owner sees it
// too; and with the replica down, the owner's dashboard comes from the
// primary, without an error.
func TestReadReplicaServesLaggingReadsAndEachUserTheirOwnWrites(t *testing.T) {
	t.Parallel()
	if storetest.PostgresURL(t) == "" {
		t.Skip("a PostgreSQL replica test; it runs in the PostgreSQL pass (" + storetest.EnvPostgres + ")")
	}
	primary := storetest.StartInstance(t)
	replica := primary.StartReplica()
	ctx := context.Background()
	// A lag of a minute still serves: the test pauses the replica's replay
	// and must keep reading from it.
	st, err := store.Open(ctx, store.Options{PostgresURL: primary.URL(), PostgresReplicaURL: replica.URL(), ReplicaMaxLag: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	replicaSQL, err := sql.Open("pgx", replica.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = replicaSQL.Close() })
	// caughtUp waits until the replica has replayed all the primary wrote.
	caughtUp := func() {
		t.Helper()
		var target string
		if err := st.DB.Raw("SELECT pg_current_wal_lsn()::text").Scan(&target).Error; err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			var done bool
			if err := replicaSQL.QueryRow("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target).Scan(&done); err != nil {
				t.Fatal(err)
			}
			if done && st.ReplicaServes() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the replica did not catch up")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	env := newEnv(t, envOptions{store: st})
	owner := env.register("replica-owner@example.com")
	var me struct {
		ID string `json:"id"`
	}
	env.me(owner.AccessToken).want(t, http.StatusOK).decode(t, &me)
	ownerID := me.ID
	coach := env.addCoach(owner.AccessToken, "replica-coach@example.com")
	env.createClient(coach.AccessToken, map[string]any{"name": "Before the pause"})
	caughtUp()
	if _, err := replicaSQL.Exec("SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	// The owner's window of their own writes (the coach's invitation) has
	// passed: emptied here rather than waited for.
	if err := st.DB.Exec("DELETE FROM recent_writers WHERE user_id = ?", ownerID).Error; err != nil {
		t.Fatal(err)
	}

	env.createClient(coach.AccessToken, map[string]any{"name": "During the pause"})
	defer func() {
		if t.Failed() {
			t.Log(env.logs.String())
		}
	}()
	if got := env.dashboard(coach.AccessToken).Totals.Clients; got != 2 {
		t.Errorf("the coach who just added a client sees %d clients, want 2 (their own write)", got)
	}
	if got := env.dashboard(owner.AccessToken).Totals.Clients; got != 1 {
		t.Errorf("the owner sees %d clients while the replica's replay is paused, want the replica's 1", got)
	}

	if _, err := replicaSQL.Exec("SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	caughtUp()
	if got := env.dashboard(owner.AccessToken).Totals.Clients; got != 2 {
		t.Errorf("the owner sees %d clients once the replica replayed, want 2", got)
	}

	replica.Crash()
	env.do(request{method: "GET", path: "/api/v1/dashboard", token: owner.AccessToken}).want(t, http.StatusOK)
	if st.ReplicaServes() {
		t.Error("the replica is down, but still marked as serving")
	}
	if got := env.dashboard(owner.AccessToken).Totals.Clients; got != 2 {
		t.Errorf("with the replica down the owner sees %d clients, want 2 from the primary", got)
	}
}
