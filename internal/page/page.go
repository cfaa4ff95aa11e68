// Package page implements keyset pagination: a page is the next Limit rows
// after the last ID the caller saw, ordered by ID (UUIDv7, so by creation).
package page

import (
	"encoding/base64"
	"strings"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// Limits on page size.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Request asks for one page.
type Request struct {
	Limit int
	After uuid.UUID // uuid.Nil: the first page
}

const cursorPrefix = "v1:"

// Parse turns the API's limit and cursor into a Request, with field errors.
func Parse(limit *int, cursor *string) (Request, error) {
	r := Request{Limit: DefaultLimit}
	var fields apperr.Fields
	if limit != nil {
		if *limit < 1 || *limit > MaxLimit {
			fields.Add("limit", "must be between 1 and 200")
		}
		r.Limit = *limit
	}
	if cursor != nil && *cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*cursor)
		id, perr := uuid.Parse(strings.TrimPrefix(string(raw), cursorPrefix))
		// Only the exact cursor this API returned: no second spelling of it.
		if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) || perr != nil || Cursor(id) != *cursor {
			fields.Add("cursor", "is not a cursor this API returned")
		}
		r.After = id
	}
	return r, fields.Err()
}

// Cursor encodes the position after id.
func Cursor(id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + id.String()))
}

// Trim cuts a result fetched with Limit+1 rows to Limit and returns the
// cursor for the next page, or nil on the last page.
func Trim[T any](rows []T, limit int, id func(T) uuid.UUID) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	c := Cursor(id(rows[limit-1]))
	return rows, &c
}
