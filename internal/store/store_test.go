package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/jobs"
	"github.com/tandem-coach/tandem/internal/notify"
	"github.com/tandem-coach/tandem/internal/sessions"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/store/storetest"
	"github.com/tandem-coach/tandem/internal/webhooks"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// allModels is every GORM row type of the service.
func allModels() []any {
	models := append(append(account.Models(), clients.Models()...), goals.Models()...)
	models = append(append(models, sessions.Models()...), consent.Models()...)
	models = append(models, webhooks.Models()...)
	models = append(models, notify.Models()...)
	models = append(models, &jobs.DeliveryRow{})
	return append(models, &audit.Event{})
}

// naturalKeys are the tables keyed by something other than a UUID id: a
// consent text is known by the version clients sign; a person has one row
// of notification preferences and one digest schedule; a reminder task's
// cursor is known by the task's name.
var naturalKeys = map[string]string{"consent_templates": "version",
	"notification_preferences": "user_id", "digest_schedule": "user_id", "notify_cursors": "name"}

// TestSchemaMatchesModels proves the migrated schema has a column for every
// field of every model, so no query can hit a missing column at run time.
func TestSchemaMatchesModels(t *testing.T) {
	st := storetest.Open(t)
	for _, model := range allModels() {
		stmt := &gorm.Statement{DB: st.DB}
		if err := stmt.Parse(model); err != nil {
			t.Fatalf("parse %T: %v", model, err)
		}
		table := stmt.Schema.Table
		if !st.DB.Migrator().HasTable(table) {
			t.Errorf("%T: table %s does not exist", model, table)
			continue
		}
		cols, err := st.DB.Migrator().ColumnTypes(model)
		if err != nil {
			t.Fatalf("columns of %s: %v", table, err)
		}
		have := map[string]bool{}
		for _, c := range cols {
			have[c.Name()] = true
		}
		for _, f := range stmt.Schema.Fields {
			if f.DBName == "" || f.IgnoreMigration {
				continue
			}
			if !have[f.DBName] {
				t.Errorf("%T.%s: table %s has no column %s", model, f.Name, table, f.DBName)
			}
		}
		key := "id"
		if k, ok := naturalKeys[table]; ok {
			key = k
		}
		if len(stmt.Schema.PrimaryFields) != 1 || stmt.Schema.PrimaryFields[0].DBName != key {
			t.Errorf("%T: primary key must be %s", model, key)
		}
	}
}

// TestTenantTablesCarryPracticeID checks the rule that every tenant row
// names its practice.
func TestTenantTablesCarryPracticeID(t *testing.T) {
	st := storetest.Open(t)
	global := map[string]bool{"users": true, "auth_sessions": true, "refresh_tokens": true, "practices": true,
		"consent_templates": true, "email_tokens": true, "mfa_recovery_codes": true, "mfa_challenges": true,
		// A person's notification preferences and digest schedule hold in
		// every practice they belong to; the reminder tasks' cursors are the
		// service's own.
		"notification_preferences": true, "digest_schedule": true, "notify_cursors": true}
	for _, model := range allModels() {
		stmt := &gorm.Statement{DB: st.DB}
		if err := stmt.Parse(model); err != nil {
			t.Fatal(err)
		}
		if global[stmt.Schema.Table] {
			continue
		}
		if stmt.Schema.LookUpField("practice_id") == nil {
			t.Errorf("tenant table %s has no practice_id", stmt.Schema.Table)
		}
	}
}

func TestMigrateDownAndUpAgain(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	status, err := st.MigrateStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range status {
		if !m.Applied {
			t.Fatalf("migration %d not applied after Open", m.Version)
		}
	}
	for range status {
		if err := st.MigrateDown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if st.DB.Migrator().HasTable("practices") {
		t.Fatal("practices still exists after migrating all the way down")
	}
	n, err := st.MigrateUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(status) {
		t.Fatalf("re-applied %d migrations, want %d", n, len(status))
	}
	if n, err := st.MigrateUp(ctx); err != nil || n != 0 {
		t.Fatalf("second up applied %d (err %v), want 0", n, err)
	}
}

func TestAuditEventsAreAppendOnly(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	pid := uuid.Must(uuid.NewV7())
	if err := st.DB.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'P', 1, ?, ?)", pid, now, now).Error; err != nil {
		t.Fatal(err)
	}
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		return audit.Record(ctx, tx, audit.Entry{PracticeID: pid, Action: "practice.updated", RecordType: "practice", RecordID: pid, At: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DB.Exec("UPDATE audit_events SET action = 'forged'").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update of an audit event: err = %v, want append-only refusal", err)
	}
	if err := st.DB.Exec("DELETE FROM audit_events").Error; err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("delete of an audit event: err = %v, want append-only refusal", err)
	}
	var n int64
	st.DB.Table("audit_events").Where("action = 'practice.updated'").Count(&n)
	if n != 1 {
		t.Fatalf("audit events = %d, want the 1 written", n)
	}
}

func TestTxRollsBackOnError(t *testing.T) {
	st := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	pid := uuid.Must(uuid.NewV7())
	err := st.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'P', 1, ?, ?)", pid, now, now).Error; err != nil {
			return err
		}
		// A second row with the same primary key fails the transaction.
		return tx.Exec("INSERT INTO practices (id, name, version, created_at, updated_at) VALUES (?, 'P', 1, ?, ?)", pid, now, now).Error
	})
	if err == nil || !store.IsUniqueViolation(err) {
		t.Fatalf("err = %v, want a unique violation", err)
	}
	var n int64
	st.DB.Table("practices").Where("id = ?", pid).Count(&n)
	if n != 0 {
		t.Fatal("the first insert survived a rolled-back transaction")
	}
}

// TestSQLiteSettings opens the embedded database directly, whichever
// dialect the rest of the suite runs on.
func TestSQLiteSettings(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{SQLitePath: filepath.Join(t.TempDir(), "sub", "tandem.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	var mode string
	var fk, timeout int
	st.DB.Raw("PRAGMA journal_mode").Scan(&mode)
	st.DB.Raw("PRAGMA foreign_keys").Scan(&fk)
	st.DB.Raw("PRAGMA busy_timeout").Scan(&timeout)
	if mode != "wal" || fk != 1 || timeout < 1000 {
		t.Fatalf("journal_mode=%s foreign_keys=%d busy_timeout=%d; want wal, 1, >=1000", mode, fk, timeout)
	}
	// Foreign keys are enforced.
	err = st.DB.Exec("INSERT INTO memberships (id, practice_id, user_id, role, created_at) VALUES (?, ?, ?, 'coach', ?)",
		uuid.NewString(), uuid.NewString(), uuid.NewString(), time.Now().UTC()).Error
	if err == nil {
		t.Fatal("a membership of a missing practice was accepted")
	}
}
