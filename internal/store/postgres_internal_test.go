package store

import (
	"testing"
	"time"
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
			serve, migrate, err := postgresConfig(tt.url, 10*time.Second)
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
