package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// The kinds of database failure that are no fault of the request: the HTTP
// layer answers them with 409 or 503 and Retry-After, never 500. Classify
// marks an error with one of them; errors.Is tells which.
var (
	// ErrUnavailable: the database could not be reached or did not answer
	// in time. It is down, refused or dropped the connection, or the
	// request's deadline passed while it worked.
	ErrUnavailable = errors.New("database unavailable")
	// ErrBusy: another writer held a lock for longer than the busy
	// timeout (SQLite's SQLITE_BUSY, PostgreSQL's lock_not_available).
	ErrBusy = errors.New("database busy")
	// ErrContention: the transaction collided with concurrent ones (a
	// deadlock or a serialization failure) on every attempt Tx made.
	ErrContention = errors.New("transaction collided with concurrent transactions")
	// ErrFull: the disk (or tablespace) the database writes to is full.
	// Nothing was changed; reads still work, and writes work again as soon
	// as the operator frees space, without a restart.
	ErrFull = errors.New("database storage full")
)

// sqlStateKinds names the PostgreSQL SQLSTATEs that are no fault of the
// request. Class 08 (connection_exception) is ErrUnavailable as well.
var sqlStateKinds = map[string]error{
	"40001": ErrContention,  // serialization_failure: running it again can succeed
	"40P01": ErrContention,  // deadlock_detected: likewise
	"55P03": ErrBusy,        // lock_not_available (lock_timeout)
	"57014": ErrUnavailable, // query_canceled: statement_timeout, or a cancelled request
	"53100": ErrFull,        // disk_full
	"53300": ErrUnavailable, // too_many_connections
	"57P01": ErrUnavailable, // admin_shutdown
	"57P02": ErrUnavailable, // crash_shutdown
	"57P03": ErrUnavailable, // cannot_connect_now: starting up
}

// Classify returns err marked with the kind of failure it is (ErrContention,
// ErrBusy or ErrUnavailable, wrapping both the kind and err), or err itself
// when it is none of them or is marked already.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || errors.Is(err, ErrBusy) || errors.Is(err, ErrContention) || errors.Is(err, ErrFull) {
		return err
	}
	if kind := kindOf(err); kind != nil {
		return fmt.Errorf("%w: %w", kind, err)
	}
	return err
}

func kindOf(err error) error {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		if strings.HasPrefix(pg.Code, "08") {
			return ErrUnavailable
		}
		return sqlStateKinds[pg.Code]
	}
	// SQLite's errors (glebarez/go-sqlite) carry the result code; its low
	// byte is the primary code, whatever the extended code.
	var lite interface{ Code() int }
	if errors.As(err, &lite) {
		switch lite.Code() & 0xff {
		case 5, 6: // SQLITE_BUSY (also BUSY_SNAPSHOT, 517), SQLITE_LOCKED
			return ErrBusy
		case 9: // SQLITE_INTERRUPT: a context ended the statement
			return ErrUnavailable
		case 13: // SQLITE_FULL: the disk, or the file system's quota, is full
			return ErrFull
		}
	}
	if lostConnection(err) {
		return ErrUnavailable
	}
	return nil
}

// lostConnection reports whether err says the connection to the database
// could not be made, broke, or timed out.
func lostConnection(err error) bool {
	var connect *pgconn.ConnectError
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, io.ErrUnexpectedEOF),
		pgconn.Timeout(err),
		errors.As(err, &connect), errors.As(err, &op), errors.As(err, &dns):
		return true
	}
	return false
}
