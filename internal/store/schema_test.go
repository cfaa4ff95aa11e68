package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
)

func TestCheckSchema(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	status, err := st.MigrateStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := st.CheckSchema(ctx)
	if err != nil || !sc.Current() || sc.Missing {
		t.Fatalf("migrated database: %+v, %v; want current", sc, err)
	}

	if err := st.MigrateDown(ctx); err != nil {
		t.Fatal(err)
	}
	newest := status[len(status)-1]
	sc, err = st.CheckSchema(ctx)
	if err != nil || sc.Current() || sc.Missing || len(sc.Pending) != 1 || sc.Pending[0].Version != newest.Version {
		t.Fatalf("one migration rolled back: %+v, %v; want migration %d pending", sc, err, newest.Version)
	}

	for range status[1:] {
		if err := st.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sc, err = st.CheckSchema(ctx)
	if err != nil || !sc.Missing || len(sc.Pending) != len(status) {
		t.Fatalf("every migration rolled back: %+v, %v; want the schema missing", sc, err)
	}
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if sc, err = st.CheckSchema(ctx); err != nil || !sc.Current() {
		t.Fatalf("migrated again: %+v, %v", sc, err)
	}
}

// TestCheckSchemaOfAnEmptyDatabase: a database goose never touched has no
// schema, and checking leaves it untouched.
func TestCheckSchemaOfAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	opts := store.Options{PostgresURL: storetest.PostgresURL(t)}
	if opts.PostgresURL == "" {
		opts.SQLitePath = filepath.Join(t.TempDir(), "empty.db")
	}
	st, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sc, err := st.CheckSchema(ctx)
	if err != nil || !sc.Missing || sc.Current() {
		t.Fatalf("empty database: %+v, %v; want the schema missing", sc, err)
	}
	if st.DB.Migrator().HasTable("goose_db_version") {
		t.Fatal("checking the schema created goose's version table")
	}
}

func TestCheckSchemaFailsWhenTheDatabaseDoesNot(t *testing.T) {
	st := storetest.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.CheckSchema(ctx); err == nil {
		t.Fatal("CheckSchema with an ended context succeeded; a database that does not answer must not look empty")
	}
}
