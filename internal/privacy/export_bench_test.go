package privacy_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/sealbox"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// seedClient writes a practice, its coach and one client with one goal and
// steps action steps, each with a reflection of about 200 bytes, straight
// into the database, and returns the practice and client IDs.
func seedClient(tb testing.TB, st *store.Store, steps int) (uuid.UUID, uuid.UUID, uuid.UUID) {
	tb.Helper()
	db := st.DB
	now := time.Now().UTC()
	practice, coach, client, goal := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(db.Exec(`INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'Bench practice', 1, ?, ?)`, practice, now, now).Error)
	must(db.Exec(`INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, 'Bench Coach', 'x', ?, ?)`,
		coach, "coach-"+coach.String()+"@example.com", now, now).Error)
	must(db.Exec(`INSERT INTO memberships (id, practice_id, user_id, role, created_at) VALUES (?, ?, ?, 'owner', ?)`,
		uuid.Must(uuid.NewV7()), practice, coach, now).Error)
	must(db.Exec(`INSERT INTO clients (id, practice_id, coach_id, name, timezone, status, created_at, updated_at)
		VALUES (?, ?, ?, 'Bench Client', 'UTC', 'active', ?, ?)`, client, practice, coach, now, now).Error)
	must(db.Exec(`INSERT INTO goals (id, practice_id, client_id, title, why, status, created_by, created_at, updated_at)
		VALUES (?, ?, ?, 'Run a marathon', 'Because I can', 'active', ?, ?, ?)`, goal, practice, client, coach, now, now).Error)
	reflection := strings.Repeat("It went better than I feared. ", 7)
	const batch = 400
	for done := 0; done < steps; done += batch {
		n := min(batch, steps-done)
		var sb strings.Builder
		sb.WriteString(`INSERT INTO action_steps (id, practice_id, client_id, goal_id, title, recurrence, status, completed_at,
			reflection, created_by, created_at, updated_at) VALUES `)
		args := make([]any, 0, n*11)
		for i := range n {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?, ?, ?, ?, ?, 'none', 'done', ?, ?, ?, ?, ?)")
			args = append(args, uuid.Must(uuid.NewV7()), practice, client, goal, fmt.Sprintf("Step %d: run 5 km", done+i),
				now, reflection, coach, now, now)
		}
		must(db.Exec(sb.String(), args...).Error)
	}
	return practice, client, coach
}

// peakHeap samples the live heap every millisecond while fn runs and
// returns the highest sample, in bytes, above the heap before fn began.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}

// BenchmarkExportSteps builds the staff export of a client with 5,000 and
// with 50,000 action steps into the database, as the export job does, and
// reports the archive's size and the peak of the live heap above where it
// started: flat, whatever the number of steps.
//
//	go test ./internal/privacy/ -run '^$' -bench ExportSteps -benchtime 3x
func BenchmarkExportSteps(b *testing.B) {
	for _, steps := range []int{5000, 50000} {
		b.Run(fmt.Sprintf("steps=%d", steps), func(b *testing.B) {
			st := storetest.Open(b)
			practice, client, coach := seedClient(b, st, steps)
			box, err := sealbox.New([]sealbox.Key{{ID: "bench", Secret: bytes.Repeat([]byte{1}, 32)}})
			if err != nil {
				b.Fatal(err)
			}
			svc := privacy.NewService(privacy.Config{Store: st, Clock: clock.System{}, Notes: box, BaseURL: "https://tandem.example"})
			var worst uint64
			var size int64
			b.ResetTimer()
			for range b.N {
				e := privacy.Export{ID: uuid.Must(uuid.NewV7()), PracticeID: &practice, ClientID: &client, RequestedBy: coach,
					Scope: privacy.ScopeClientStaff, Status: privacy.ExportPending, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
				if err := st.DB.Exec(`INSERT INTO exports (id, practice_id, client_id, requested_by, scope, status, token_hash, expires_at, created_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, practice, client, coach, e.Scope, e.Status, e.ID[:], e.ExpiresAt, e.CreatedAt).Error; err != nil {
					b.Fatal(err)
				}
				peak := peakHeap(func() {
					if err := svc.BuildExport(context.Background(), e.ID); err != nil {
						b.Fatal(err)
					}
				})
				worst = max(worst, peak)
				if err := st.DB.Raw("SELECT size_bytes FROM exports WHERE id = ?", e.ID).Scan(&size).Error; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(worst)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(size)/(1<<20), "archive-MiB")
		})
	}
}

// TestWriteArchiveStreams checks the archive of a client with many steps
// is complete: every step is in action_steps.json.
func TestWriteArchiveStreams(t *testing.T) {
	st := storetest.Open(t)
	practice, client, coach := seedClient(t, st, 2000)
	svc := privacy.NewService(privacy.Config{Store: st, Clock: clock.System{}})
	var buf bytes.Buffer
	e := privacy.Export{ID: uuid.Must(uuid.NewV7()), PracticeID: &practice, ClientID: &client, RequestedBy: coach, Scope: privacy.ScopeClientSelf}
	if err := svc.WriteArchive(t.Context(), &buf, e); err != nil {
		t.Fatal(err)
	}
	files := unzip(t, buf.Bytes())
	if n := strings.Count(files["action_steps.json"], `"reflection":`); n != 2000 {
		t.Errorf("action_steps.json holds %d steps, want 2000", n)
	}
	if n := strings.Count(files["summary.html"], "Reflection: "); n != 2000 {
		t.Errorf("summary.html holds %d reflections, want 2000", n)
	}
}
