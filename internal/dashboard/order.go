package dashboard

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/date"
)

// ranked is one client's step counts, which decide its place in the order.
type ranked struct {
	ID           uuid.UUID
	Name         string
	Open         int
	Overdue      int
	DoneRecently int
}

func (r ranked) key() Key { return Key{Overdue: r.Overdue, Name: r.Name, ID: r.ID} }

// compare orders keys as the dashboard does: overdue steps, most first,
// then name (byte-wise, the same on every database), then ID.
func (k Key) compare(o Key) int {
	if c := cmp.Compare(o.Overdue, k.Overdue); c != 0 {
		return c
	}
	if c := strings.Compare(k.Name, o.Name); c != 0 {
		return c
	}
	return bytes.Compare(k.ID[:], o.ID[:])
}

// zoneShifts is, for each time zone, its today's distance from UTC's in
// days (see dayShift).
func zoneShifts(now time.Time, zones []string) map[string]int {
	utcToday := date.Today(now, time.UTC)
	out := make(map[string]int, len(zones))
	for _, z := range zones {
		out[z] = dayShift(date.Today(now, loadLocation(z)), utcToday)
	}
	return out
}

// pageOf reads loadPage's rows: the page's clients in dashboard order, the
// totals, and the cursor of the next page (nil on the last). rows holds at
// most limit+1 clients; the one past limit only tells that there is more.
func pageOf(rows []pageRow, limit int) ([]ranked, Totals, *string) {
	if len(rows) == 0 {
		return nil, Totals{}, nil // no row only when the query failed
	}
	var out []ranked
	for _, r := range rows {
		if r.ID.Valid {
			out = append(out, ranked{ID: r.ID.UUID, Name: r.Name.String, Open: int(r.Open.Int64),
				Overdue: int(r.Overdue.Int64), DoneRecently: int(r.Done.Int64)})
		}
	}
	// The page's order inside the statement does not survive its join to
	// the totals: it is restored here, on at most limit+1 rows.
	slices.SortFunc(out, func(a, b ranked) int { return a.key().compare(b.key()) })
	if len(out) <= limit {
		return out, rows[0].Totals, nil
	}
	out = out[:limit]
	c := Cursor(out[len(out)-1].key())
	return out, rows[0].Totals, &c
}

// dayShift is clientToday minus utcToday in days; every time zone's today
// is within a day of UTC's.
func dayShift(clientToday, utcToday date.Date) int {
	switch {
	case clientToday.Before(utcToday):
		return -1
	case utcToday.Before(clientToday):
		return 1
	}
	return 0
}

// loadLocation is the client's time zone, UTC when it no longer loads.
func loadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
