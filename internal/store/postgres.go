package store

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// connectTimeout bounds a new PostgreSQL connection (pgx's connect_timeout)
// unless the URL or PGCONNECT_TIMEOUT sets one.
const connectTimeout = 5 * time.Second

// statementTimeoutParam is the server setting that ends a statement that
// outlives the request it serves.
const statementTimeoutParam = "statement_timeout"

// postgresConfig parses the URL and adds what it leaves out: a connect
// timeout, and a statement_timeout slightly above the request timeout, so
// that the server stops work nobody waits for any more (a cancelled
// request closes its connection, but the server only notices when it
// answers). Settings the URL makes itself win. The second config is the
// same without the added statement_timeout, for migrations, which may
// rightly run longer than any request.
//
// With directURL, rawURL goes through a pooler in transaction mode
// (PgBouncer), where consecutive transactions of one client connection
// run on different server connections: the second config is directURL's,
// the first caches statement descriptions instead of preparing named
// statements (which would be missing on the next server connection), and
// sets no statement_timeout (PgBouncer refuses startup parameters it does
// not know, and could not keep one per client anyway).
func postgresConfig(rawURL, directURL string, requestTimeout time.Duration) (serve, migrate *pgx.ConnConfig, err error) {
	serve, err = pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if serve.ConnectTimeout == 0 {
		serve.ConnectTimeout = connectTimeout
	}
	if directURL != "" {
		if migrate, err = pgx.ParseConfig(directURL); err != nil {
			return nil, nil, err
		}
		if migrate.ConnectTimeout == 0 {
			migrate.ConnectTimeout = connectTimeout
		}
		if !strings.Contains(rawURL, "default_query_exec_mode") {
			serve.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
		}
		return serve, migrate, nil
	}
	migrate = serve.Copy()
	if _, ok := serve.RuntimeParams[statementTimeoutParam]; !ok && !strings.Contains(serve.RuntimeParams["options"], statementTimeoutParam) {
		limit := requestTimeout + time.Second
		serve.RuntimeParams[statementTimeoutParam] = strconv.FormatInt(limit.Milliseconds(), 10)
	}
	return serve, migrate, nil
}

// readRetryPool is the PostgreSQL pool GORM uses outside transactions. A
// read that fails because its pooled connection turned out dead (the
// server restarted, a proxy or the network dropped it) runs once more on a
// fresh connection. database/sql retries by itself only when the driver
// knows nothing was sent (driver.ErrBadConn); a query written to a socket
// the server already closed fails after sending. Writes are never repeated:
// they may have taken effect.
type readRetryPool struct {
	*sql.DB
}

// GetDBConn lets gorm.DB.DB return the pool.
func (p readRetryPool) GetDBConn() (*sql.DB, error) { return p.DB, nil }

// QueryContext runs a query, and a read a second time after a dead connection.
func (p readRetryPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := p.DB.QueryContext(ctx, query, args...)
	if err != nil && p.retryable(ctx, query, err) {
		return p.DB.QueryContext(ctx, query, args...)
	}
	return rows, err
}

// QueryRowContext is QueryContext for one row.
func (p readRetryPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	row := p.DB.QueryRowContext(ctx, query, args...)
	if err := row.Err(); err != nil && p.retryable(ctx, query, err) {
		return p.DB.QueryRowContext(ctx, query, args...)
	}
	return row
}

// retryable reports whether a failed query is a read that met a dead
// connection while the request still has time. It also empties the idle
// pool: what killed one connection (a restart, a failover, a reset
// network) has usually killed its idle siblings too, and the retry must not
// pick one of them.
func (p readRetryPool) retryable(ctx context.Context, query string, err error) bool {
	if ctx.Err() != nil || !isRead(query) || !deadConnection(err) {
		return false
	}
	p.DB.SetMaxIdleConns(0)
	p.DB.SetMaxIdleConns(maxIdleConns)
	return true
}

// deadConnection reports whether err says an established connection broke,
// as opposed to the server refusing the query, the query timing out, or no
// connection being made at all (which a second try would not change).
func deadConnection(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "57P01" || pg.Code == "57P02" // the backend was terminated
	}
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var op *net.OpError
	return errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.As(err, &op)
}

// isRead reports whether a statement only reads: GORM's queries outside a
// transaction are SELECTs, and INSERT ... RETURNING also arrives here.
func isRead(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n(")
	return len(q) >= 6 && strings.EqualFold(q[:6], "SELECT")
}
