package store

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestPostgresConfig(t *testing.T) {
	tests := []struct {
		name          string
		url           string
		wantConnect   time.Duration
		wantStatement string // "" : not set by Tandem
	}{
		{"defaults added", "postgres://u@db.internal:5432/tandem?sslmode=disable", 5 * time.Second, "11000"},
		{"the URL's connect_timeout wins", "postgres://u@db/tandem?connect_timeout=2", 2 * time.Second, "11000"},
		{"the URL's statement_timeout wins", "postgres://u@db/tandem?statement_timeout=500", 5 * time.Second, "500"},
		{"options carrying statement_timeout win", "postgres://u@db/tandem?options=-c%20statement_timeout%3D7s", 5 * time.Second, ""},
		{"key/value form", "host=db user=u dbname=tandem", 5 * time.Second, "11000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve, migrate, err := postgresConfig(tt.url, "", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if serve.ConnectTimeout != tt.wantConnect || migrate.ConnectTimeout != tt.wantConnect {
				t.Errorf("connect timeout = %v / %v, want %v", serve.ConnectTimeout, migrate.ConnectTimeout, tt.wantConnect)
			}
			got, ok := serve.RuntimeParams[statementTimeoutParam]
			if (tt.wantStatement == "" && ok) || (tt.wantStatement != "" && got != tt.wantStatement) {
				t.Errorf("statement_timeout = %q (set %v), want %q", got, ok, tt.wantStatement)
			}
			// Migrations keep only what the URL says.
			userOwn := tt.wantStatement == "500"
			if _, ok := migrate.RuntimeParams[statementTimeoutParam]; ok != userOwn {
				t.Errorf("migration statement_timeout set = %v, want %v", ok, userOwn)
			}
		})
	}
}

// TestPostgresConfigBehindAPooler: with a direct URL beside it, the
// pooled URL prepares no named statements and sets no statement_timeout,
// and migrations use the direct URL.
func TestPostgresConfigBehindAPooler(t *testing.T) {
	serve, migrate, err := postgresConfig("postgres://u@pgbouncer:6432/tandem", "postgres://u@db:5432/tandem", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if serve.DefaultQueryExecMode != pgx.QueryExecModeCacheDescribe {
		t.Errorf("exec mode behind the pooler = %v, want cache_describe (no named prepared statements)", serve.DefaultQueryExecMode)
	}
	if _, ok := serve.RuntimeParams[statementTimeoutParam]; ok {
		t.Error("statement_timeout is sent to the pooler, which refuses it")
	}
	if migrate.Host != "db" || migrate.Port != 5432 || migrate.DefaultQueryExecMode != pgx.QueryExecModeCacheStatement {
		t.Errorf("migrations go to %s:%d in mode %v, want the direct db:5432 with prepared statements",
			migrate.Host, migrate.Port, migrate.DefaultQueryExecMode)
	}
	// A mode the URL chooses itself is kept.
	serve, _, err = postgresConfig("postgres://u@pgbouncer/tandem?default_query_exec_mode=simple_protocol", "postgres://u@db/tandem", time.Second)
	if err != nil || serve.DefaultQueryExecMode != pgx.QueryExecModeSimpleProtocol {
		t.Errorf("the URL's own mode: %v, %v", serve.DefaultQueryExecMode, err)
	}
}

func TestIsRead(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT * FROM "clients" WHERE id = $1`:                        true,
		"  select count(*) FROM goals":                                 true,
		"(SELECT 1) UNION (SELECT 2)":                                  true,
		`INSERT INTO "clients" ("id") VALUES ($1) RETURNING "version"`: false,
		`UPDATE "clients" SET name = $1`:                               false,
		"WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x":        false,
		"": false,
	} {
		if got := isRead(q); got != want {
			t.Errorf("isRead(%q) = %v, want %v", q, got, want)
		}
	}
}
