package httpapi_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// statementLog records the SQL of every statement the service sends while
// on, with its arguments in place (as GORM logs it).
type statementLog struct {
	logger.Interface
	mu  sync.Mutex
	on  bool
	sql []string
}

func (l *statementLog) LogMode(logger.LogLevel) logger.Interface { return l }

func (l *statementLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		sql, _ := fc()
		l.sql = append(l.sql, sql)
	}
}

// during returns the statements fn sent.
func (l *statementLog) during(fn func()) []string {
	l.mu.Lock()
	l.on, l.sql = true, nil
	l.mu.Unlock()
	fn()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.on = false
	return l.sql
}

// TestHotQueriesUseIndexes: every read that a busy practice makes on each
// request (authentication, a client's open steps, the dashboard for the
// owner and for a coach with a cursor, and a therapist's shared view) finds
// its rows through an index, never by reading a whole table, on either
// database. On SQLite the plan must not SCAN a table; on PostgreSQL, with
// sequential scans priced out, it must not need one.
//
// Every table leads with practice_id in some index, so that rule alone
// would not see a read of a whole practice where one client's rows were
// meant. SQLite, which plans without statistics, plans the same whatever
// the data: its plans are kept in testdata/sqlite_plans.txt, and any change
// fails until the file is regenerated (TANDEM_UPDATE_PLANS=1) and the diff
// reviewed. A change of query or schema that loses an index is seen here
// before it is slow in production.
func TestHotQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p")
	fx.seedCoaching()
	th := fx.therapist("Theo")
	fx.consent(th, fx.p.clientRec.ID, "active", "goals", "action_steps", "session_attendance", "session_summaries")
	log := &statementLog{Interface: logger.Discard}
	db := env.store.DB
	db.Logger = log

	reads := map[string]func(){
		"a client's open steps": func() {
			env.do(request{method: "GET", path: "/api/v1/clients/" + fx.p.clientRec.ID + "/action-steps?status=open",
				token: fx.p.client.AccessToken}).want(t, http.StatusOK)
		},
		"the owner's dashboard": func() { env.dashboard(fx.p.owner.AccessToken) },
		"a coach's second dashboard page": func() {
			first := env.dashboardPage(fx.p.coach.AccessToken, map[string][]string{"limit": {"1"}})
			if first.NextCursor == nil {
				t.Fatal("the coach's dashboard has one page: no cursor to follow")
			}
			env.dashboardPage(fx.p.coach.AccessToken, map[string][]string{"limit": {"1"}, "cursor": {*first.NextCursor}})
		},
		"a therapist's shared view": func() {
			fx.sharedView(th.Tokens.AccessToken, fx.p.clientRec.ID).want(t, http.StatusOK)
		},
	}
	var golden strings.Builder
	for _, name := range slices.Sorted(maps.Keys(reads)) {
		statements := log.during(reads[name])
		fmt.Fprintf(&golden, "## %s\n", name)
		var checked int
		for _, sql := range statements {
			if !isRead(sql) {
				continue
			}
			checked++
			plan, scans := explain(t, db, sql)
			t.Logf("%s:\n%s\n%s", name, sql, plan)
			if len(scans) > 0 {
				t.Errorf("%s reads whole tables (%s) in:\n%s", name, strings.Join(scans, "; "), sql)
			}
			fmt.Fprintf(&golden, "\n%s\n%s", statementHead(sql), plan)
		}
		if checked == 0 {
			t.Errorf("%s: no read recorded", name)
		}
		golden.WriteString("\n")
	}
	if db.Dialector.Name() == "sqlite" {
		compareGolden(t, filepath.Join("testdata", "sqlite_plans.txt"), golden.String())
	}
}

// statementHead names a statement in the golden file by its first words,
// with its values masked: they vary from run to run, and so does what
// follows (the dashboard's time zones depend on the clock). The whole
// statement is in the test's log.
func statementHead(sql string) string {
	words := strings.Fields(sql)
	return literals.ReplaceAllString(strings.Join(words[:min(len(words), 8)], " "), "?") + " …"
}

// literals matches the values GORM writes into a logged statement.
var literals = regexp.MustCompile(`"[^"]*"|'[^']*'`)

// compareGolden fails unless the file at path holds got; with
// TANDEM_UPDATE_PLANS=1 it writes got there instead.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("TANDEM_UPDATE_PLANS") == "1" {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (TANDEM_UPDATE_PLANS=1 writes it)", err)
	}
	if string(want) != got {
		t.Errorf("the query plans differ from %s; if the change is meant, rerun with TANDEM_UPDATE_PLANS=1 and review the diff.\nnow:\n%s", path, got)
	}
}

// isRead reports whether sql is a query, not a change.
func isRead(sql string) bool {
	s := strings.ToUpper(strings.TrimSpace(sql))
	return strings.HasPrefix(s, "SELECT") || strings.HasPrefix(s, "WITH")
}

var (
	// sqliteDerived names the plan's own tables: subqueries and CTEs.
	sqliteDerived = regexp.MustCompile(`^(?:MATERIALIZE|CO-ROUTINE) (\S+)`)
	sqliteScan    = regexp.MustCompile(`^SCAN (\S+)`)
	postgresScan  = regexp.MustCompile(`Seq Scan on (\S+)`)
)

// explain returns the plan of sql and the tables it reads whole.
func explain(t *testing.T, db *gorm.DB, sql string) (string, []string) {
	t.Helper()
	var (
		scans []string
		out   strings.Builder
	)
	err := db.Transaction(func(tx *gorm.DB) error {
		if tx.Dialector.Name() == "postgres" {
			if err := tx.Exec("SET LOCAL enable_seqscan = off").Error; err != nil {
				return err
			}
			var lines []string
			if err := tx.Raw("EXPLAIN " + sql).Scan(&lines).Error; err != nil {
				return err
			}
			for _, l := range lines {
				fmt.Fprintln(&out, l)
				if m := postgresScan.FindStringSubmatch(l); m != nil {
					scans = append(scans, m[1])
				}
			}
			return nil
		}
		var plan []struct{ Detail string }
		if err := tx.Raw("EXPLAIN QUERY PLAN " + sql).Scan(&plan).Error; err != nil {
			return err
		}
		derived := map[string]bool{"CONSTANT": true}
		for _, p := range plan {
			fmt.Fprintln(&out, p.Detail)
			if m := sqliteDerived.FindStringSubmatch(p.Detail); m != nil {
				derived[m[1]] = true
			}
		}
		for _, p := range plan {
			if m := sqliteScan.FindStringSubmatch(p.Detail); m != nil && !derived[m[1]] {
				scans = append(scans, p.Detail)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("explaining %s: %v", sql, err)
	}
	return out.String(), scans
}
