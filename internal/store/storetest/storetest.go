// Package storetest gives each test a fresh, migrated database: a SQLite
// file in the test's temporary directory by default, or, when
// TANDEM_TEST_DATABASE_URL points at a PostgreSQL server, a new database
// copied from a migrated template that the package's TestMain creates and
// drops.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the database/sql driver for admin statements
	"gorm.io/gorm/logger"

	"github.com/tandem-coach/tandem/internal/store"
)

// EnvPostgres names the variable that selects PostgreSQL for tests.
const EnvPostgres = "TANDEM_TEST_DATABASE_URL"

var (
	mainCalled bool
	template   struct {
		once sync.Once
		name string
		err  error
	}
)

// Main runs a package's tests and drops the package's template database
// afterwards. Call it from TestMain in every package that uses Open.
func Main(m *testing.M) {
	mainCalled = true
	code := m.Run()
	if template.name != "" {
		if err := adminExec("DROP DATABASE IF EXISTS " + quoteIdent(template.name) + " WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "storetest: drop template:", err)
		}
	}
	os.Exit(code)
}

// Options adjust the store a test gets.
type Options struct {
	GormLogger logger.Interface
	// RequestTimeout is passed on to store.Options: the database's own
	// time limits follow from it.
	RequestTimeout time.Duration
}

// Open returns a fresh, migrated store for t, closed and removed after it.
func Open(t testing.TB) *store.Store {
	return OpenWith(t, Options{})
}

// OpenWith is Open with options.
func OpenWith(t testing.TB, opts Options) *store.Store {
	t.Helper()
	st, _ := open(t, opts, false)
	return st
}

// OpenProxied is OpenWith, but on PostgreSQL the store reaches the server
// through a Proxy the test controls, to make the database hang, drop
// connections or refuse them. On SQLite, which has no connection to break,
// the Proxy is nil.
func OpenProxied(t testing.TB, opts Options) (*store.Store, *Proxy) {
	t.Helper()
	return open(t, opts, true)
}

func open(t testing.TB, opts Options, proxied bool) (*store.Store, *Proxy) {
	t.Helper()
	ctx := context.Background()
	adminURL := os.Getenv(EnvPostgres)
	if adminURL == "" {
		path := filepath.Join(t.TempDir(), "tandem.db")
		st, err := store.Open(ctx, store.Options{SQLitePath: path, GormLogger: opts.GormLogger, RequestTimeout: opts.RequestTimeout})
		if err != nil {
			t.Fatalf("open sqlite: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if _, err := st.MigrateUp(ctx); err != nil {
			t.Fatalf("migrate sqlite: %v", err)
		}
		return st, nil
	}
	if !mainCalled {
		t.Fatal("storetest: call storetest.Main(m) from this package's TestMain")
	}
	template.once.Do(func() { template.name, template.err = createTemplate(ctx) })
	if template.err != nil {
		t.Fatalf("postgres template: %v", template.err)
	}
	name := "tandem_test_" + randomSuffix()
	if err := adminExec("CREATE DATABASE " + quoteIdent(name) + " TEMPLATE " + quoteIdent(template.name)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec("DROP DATABASE IF EXISTS " + quoteIdent(name) + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	dbURL := withDatabase(adminURL, name)
	var proxy *Proxy
	if proxied {
		proxy = NewProxy(t, hostPort(t, dbURL))
		dbURL = withHost(dbURL, proxy.Addr())
	}
	st, err := store.Open(ctx, store.Options{PostgresURL: dbURL, GormLogger: opts.GormLogger, RequestTimeout: opts.RequestTimeout})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, proxy
}

// PostgresURL returns the URL of a fresh, empty, unmigrated PostgreSQL
// database dropped after t, or "" when tests run on SQLite.
func PostgresURL(t testing.TB) string {
	t.Helper()
	adminURL := os.Getenv(EnvPostgres)
	if adminURL == "" {
		return ""
	}
	name := "tandem_test_" + randomSuffix()
	if err := adminExec("CREATE DATABASE " + quoteIdent(name)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if err := adminExec("DROP DATABASE IF EXISTS " + quoteIdent(name) + " WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return withDatabase(adminURL, name)
}

func createTemplate(ctx context.Context) (string, error) {
	name := "tandem_tmpl_" + randomSuffix()
	if err := adminExec("CREATE DATABASE " + quoteIdent(name)); err != nil {
		return "", err
	}
	st, err := store.Open(ctx, store.Options{PostgresURL: withDatabase(os.Getenv(EnvPostgres), name)})
	if err != nil {
		return name, err
	}
	defer st.Close()
	if _, err := st.MigrateUp(ctx); err != nil {
		return name, err
	}
	return name, nil
}

func adminExec(stmt string) error {
	db, err := sql.Open("pgx", os.Getenv(EnvPostgres))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec(stmt)
	return err
}

// hostPort is the server address of a postgres:// URL.
func hostPort(t testing.TB, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil || u.Hostname() == "" {
		t.Fatalf("storetest: %s must be a postgres:// URL with a host to proxy", EnvPostgres)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func withHost(rawURL, hostPort string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Host = hostPort
	return u.String()
}

func withDatabase(rawURL, name string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
