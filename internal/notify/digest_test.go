package notify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/date"
	"github.com/tandem-coach/tandem/internal/notify"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// zones24 are 24 time zones, one for each hour of offset from UTC-11 to
// UTC+12 on 1 December (several keep DST in their summer).
var zones24 = []string{
	"Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
	"America/Chicago", "America/New_York", "America/Halifax", "America/Sao_Paulo", "Atlantic/South_Georgia",
	"Atlantic/Azores", "Europe/London", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai",
	"Asia/Karachi", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane",
	"Pacific/Noumea", "Pacific/Tarawa",
}

// seedClients adds one practice with n portal clients spread over zones24,
// each with one open step overdue on the day of now, in batches of rows.
// It returns the clients' account IDs.
func seedClients(tb testing.TB, st *store.Store, n int, now time.Time) []uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	practice, coach := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	due := date.Of(now.UTC()).AddDays(-3)
	users := make([]uuid.UUID, n)
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'Bench', 1, ?, ?)", practice, now, now).Error; err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, 'coach@bench.example', 'Coach', 'x', ?, ?)", coach, now, now).Error; err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO memberships (id, practice_id, user_id, role, created_at) VALUES (?, ?, ?, 'coach', ?)", uuid.Must(uuid.NewV7()), practice, coach, now).Error; err != nil {
			return err
		}
		const chunk = 500
		for lo := 0; lo < n; lo += chunk {
			hi := min(lo+chunk, n)
			var us, cs, gs, ss []map[string]any
			for i := lo; i < hi; i++ {
				u, c, g := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
				users[i] = u
				us = append(us, map[string]any{"id": u, "email": fmt.Sprintf("client%05d@bench.example", i), "name": fmt.Sprintf("Client %d", i),
					"password_hash": "x", "created_at": now, "updated_at": now, "email_verified_at": now})
				cs = append(cs, map[string]any{"id": c, "practice_id": practice, "coach_id": coach, "user_id": u, "name": fmt.Sprintf("Client %d", i),
					"timezone": zones24[i%len(zones24)], "status": "active", "version": 1, "created_at": now, "updated_at": now})
				gs = append(gs, map[string]any{"id": g, "practice_id": practice, "client_id": c, "title": "Goal", "why": "Why", "status": "active",
					"created_by": coach, "version": 1, "created_at": now, "updated_at": now})
				ss = append(ss, map[string]any{"id": uuid.Must(uuid.NewV7()), "practice_id": practice, "client_id": c, "goal_id": g,
					"title": "Step", "due_date": due, "recurrence": "none", "status": "open", "created_by": coach, "version": 1,
					"created_at": now, "updated_at": now})
			}
			for table, rows := range map[string][]map[string]any{"users": us} {
				if err := tx.Table(table).Create(rows).Error; err != nil {
					return err
				}
			}
			for _, tr := range []struct {
				table string
				rows  []map[string]any
			}{{"clients", cs}, {"goals", gs}, {"action_steps", ss}} {
				if err := tx.Table(tr.table).Create(tr.rows).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if st.Dialect == store.Postgres {
		// As autovacuum would soon after: the planner needs statistics.
		if err := st.DB.Exec("ANALYZE").Error; err != nil {
			tb.Fatal(err)
		}
	}
	return users
}

// countStatements counts the statements GORM sends on st while on is set.
// River's insert of a batch's e-mail jobs (one statement) goes around GORM
// and is not counted.
func countStatements(tb testing.TB, st *store.Store) (on *atomic.Bool, n *atomic.Int64) {
	tb.Helper()
	on, n = &atomic.Bool{}, &atomic.Int64{}
	count := func(*gorm.DB) {
		if on.Load() {
			n.Add(1)
		}
	}
	cb := st.DB.Callback()
	for _, err := range []error{
		cb.Query().Register("test:count_query", count),
		cb.Row().Register("test:count_row", count),
		cb.Raw().Register("test:count_raw", count),
		cb.Create().Register("test:count_create", count),
		cb.Update().Register("test:count_update", count),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return on, n
}

// steadyState runs the digest task hourly for the day before at, as the
// periodic task would, so that at at only the clients whose digest hour
// just came are due.
func steadyState(tb testing.TB, svc *notify.Service, clk *clock.Manual, at time.Time) {
	tb.Helper()
	clk.Advance(at.Add(-24 * time.Hour).Sub(clk.Now()))
	for clk.Now().Before(at) {
		if _, err := svc.RunDigests(context.Background()); err != nil {
			tb.Fatal(err)
		}
		clk.Advance(time.Hour)
	}
}

// TestDigestBatchesCostAConstantNumberOfStatements: a batch costs the same
// statements whatever its size and however many clients there are; a run
// costs one more to schedule new clients.
func TestDigestBatchesCostAConstantNumberOfStatements(t *testing.T) {
	t.Parallel()
	// 12:00 UTC on 1 December is 07:00 in New York, one of the 24 zones.
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ clients, batch int }{{240, 10}, {240, 3}, {48, 100}} {
		st := storetest.Open(t)
		seedClients(t, st, tc.clients, at)
		clk := clock.NewManual(at.Add(-48 * time.Hour))
		// The day before in large batches (the schedules are all in the
		// database), then the hour measured in batches of tc.batch.
		steadyState(t, notify.NewService(notify.Config{Store: st, Clock: clk, BaseURL: "https://tandem.example"}), clk, at)
		svc := notify.NewService(notify.Config{Store: st, Clock: clk, BaseURL: "https://tandem.example", DigestBatch: tc.batch})
		on, n := countStatements(t, st)
		on.Store(true)
		s, err := svc.RunDigests(context.Background())
		on.Store(false)
		if err != nil {
			t.Fatal(err)
		}
		due := tc.clients / len(zones24)
		if s.Enqueued != due || s.Due != due {
			t.Fatalf("%d clients: %+v, want the %d of New York", tc.clients, s, due)
		}
		// Each batch reads the due schedules, their recipients,
		// preferences and steps, logs its digests (River's insert of
		// their jobs goes around GORM, uncounted) and writes the
		// schedules back; a run whose last batch was full reads once
		// more to find none left.
		want := int64(1 + 6*((due+tc.batch-1)/tc.batch))
		if due%tc.batch == 0 {
			want++
		}
		if n.Load() != want {
			t.Fatalf("%d clients in batches of %d: %d statements, want %d", tc.clients, tc.batch, n.Load(), want)
		}
	}
}

// BenchmarkEnqueueHourOfDigests seeds 10,000 clients over 24 time zones
// and measures one run of the digest task at an hour when the clients of
// one zone (1/24 of them) are due. Run it on PostgreSQL (README,
// Performance).
func BenchmarkEnqueueHourOfDigests(b *testing.B) {
	const clients = 10_000
	at := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	st := storetest.Open(b)
	seeded := time.Now()
	seedClients(b, st, clients, at)
	b.Logf("seeded %d clients in %v", clients, time.Since(seeded).Round(time.Millisecond))
	clk := clock.NewManual(at.Add(-48 * time.Hour))
	svc := notify.NewService(notify.Config{Store: st, Clock: clk, BaseURL: "https://tandem.example"})
	steadyState(b, svc, clk, at)
	on, n := countStatements(b, st)
	var statements, digests int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each iteration is the next hour: the next zone's clients are due.
		on.Store(true)
		s, err := svc.RunDigests(context.Background())
		on.Store(false)
		if err != nil {
			b.Fatal(err)
		}
		if s.Enqueued < clients/len(zones24) {
			b.Fatalf("enqueued %d digests, want %d", s.Enqueued, clients/len(zones24))
		}
		digests += int64(s.Enqueued)
		b.StopTimer()
		clk.Advance(time.Hour)
		b.StartTimer()
	}
	statements = n.Load()
	b.ReportMetric(float64(statements)/float64(b.N), "statements/run")
	b.ReportMetric(float64(digests)/float64(b.N), "digests/run")
}
