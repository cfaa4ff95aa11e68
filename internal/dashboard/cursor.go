package dashboard

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/page"
)

// Request asks for one page of the dashboard.
type Request struct {
	Limit int
	After *Key // nil: the first page
}

// Key is the position of one client in the dashboard's order: overdue
// steps, most first, then name, then ID.
type Key struct {
	Overdue int
	Name    string // at most cursorNameBytes bytes of the client's name
	ID      uuid.UUID
}

const cursorPrefix = "d1:"

// cursorNameBytes is how much of the name a cursor holds: with the prefix,
// the largest count and the ID it stays within the API's 200 characters.
// A longer name is cut; see Key.resolve.
const cursorNameBytes = 96

// ParseRequest turns the API's limit and cursor into a Request, with field
// errors. Only a cursor of this kind is accepted.
func ParseRequest(limit *int, cursor *string) (Request, error) {
	r := Request{Limit: page.DefaultLimit}
	var fields apperr.Fields
	if limit != nil {
		if *limit < 1 || *limit > page.MaxLimit {
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
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return Key{}, false
	}
	overdue, rest, ok := strings.Cut(rest, ",")
	if !ok {
		return Key{}, false
	}
	id, name, ok := strings.Cut(rest, ",")
	if !ok {
		return Key{}, false
	}
	n, err := strconv.Atoi(overdue)
	if err != nil || n < 0 || n > math.MaxInt32 {
		return Key{}, false
	}
	u, err := uuid.Parse(id)
	if err != nil {
		return Key{}, false
	}
	k := Key{Overdue: n, Name: name, ID: u}
	// Only the exact cursor this API returned: no second spelling of it.
	return k, Cursor(k) == cursor
}

// Cursor encodes the position after k.
func Cursor(k Key) string {
	name := k.Name
	if len(name) > cursorNameBytes {
		name = name[:cursorNameBytes]
	}
	raw := cursorPrefix + strconv.Itoa(k.Overdue) + "," + k.ID.String() + "," + name
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}
