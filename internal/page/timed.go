package page

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// TimedRequest asks for one page of rows ordered by a time, then by ID —
// for lists whose natural order is not creation order (sessions by start).
type TimedRequest struct {
	Limit int
	After *Key // nil: the first page
}

// Key is the position of one row in a time-ordered list.
type Key struct {
	At time.Time
	ID uuid.UUID
}

const timedCursorPrefix = "t1:"

// ParseTimed turns the API's limit and cursor into a TimedRequest, with
// field errors. A cursor of the ID-ordered kind is not accepted here.
func ParseTimed(limit *int, cursor *string) (TimedRequest, error) {
	r := TimedRequest{Limit: DefaultLimit}
	var fields apperr.Fields
	if limit != nil {
		if *limit < 1 || *limit > MaxLimit {
			fields.Add("limit", "must be between 1 and 200")
		}
		r.Limit = *limit
	}
	if cursor != nil && *cursor != "" {
		k, ok := decodeKey(*cursor)
		if !ok {
			fields.Add("cursor", "is not a cursor this API returned")
		} else {
			r.After = &k
		}
	}
	return r, fields.Err()
}

func decodeKey(cursor string) (Key, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return Key{}, false
	}
	rest, ok := strings.CutPrefix(string(raw), timedCursorPrefix)
	if !ok {
		return Key{}, false
	}
	nanos, id, ok := strings.Cut(rest, ",")
	if !ok {
		return Key{}, false
	}
	n, err := strconv.ParseInt(nanos, 10, 64)
	if err != nil {
		return Key{}, false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return Key{}, false
	}
	k := Key{At: time.Unix(0, n).UTC(), ID: u}
	// Only the exact cursor this API returned: no second spelling of it.
	return k, TimedCursor(k) == cursor
}

// TimedCursor encodes the position after k.
func TimedCursor(k Key) string {
	raw := timedCursorPrefix + strconv.FormatInt(k.At.UnixNano(), 10) + "," + k.ID.String()
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// TrimTimed cuts a result fetched with Limit+1 rows to Limit and returns the
// cursor for the next page, or nil on the last page.
func TrimTimed[T any](rows []T, limit int, key func(T) Key) ([]T, *string) {
	if len(rows) <= limit {
		return rows, nil
	}
	rows = rows[:limit]
	c := TimedCursor(key(rows[limit-1]))
	return rows, &c
}
