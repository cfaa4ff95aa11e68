package dashboard

import (
	"bytes"
	"cmp"
	"slices"
	"sort"
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

// rank works out every client's overdue steps in its own time zone, sorts
// the clients in dashboard order and sums the totals.
func rank(now time.Time, clientRows []clientRow) ([]ranked, Totals) {
	out := make([]ranked, len(clientRows))
	// Zones are loaded once per name: time.LoadLocation reads the zone
	// database on every call.
	shiftIn := map[string]int{}
	utcToday := date.Today(now, time.UTC)
	t := Totals{Clients: len(clientRows)}
	for i, c := range clientRows {
		shift, ok := shiftIn[c.Timezone]
		if !ok {
			shift = dayShift(date.Today(now, loadLocation(c.Timezone)), utcToday)
			shiftIn[c.Timezone] = shift
		}
		r := ranked{ID: c.ID, Name: c.Name, Open: c.Open, Overdue: c.overdue(shift), DoneRecently: c.DoneRecently}
		out[i] = r
		t.OpenSteps += r.Open
		t.OverdueSteps += r.Overdue
		t.CompletedStepsRecent += r.DoneRecently
		if r.Overdue > 0 {
			t.ClientsWithOverdueSteps++
		}
	}
	slices.SortFunc(out, func(a, b ranked) int { return a.key().compare(b.key()) })
	return out, t
}

// pageAfter returns the clients of sorted that come after the request's
// cursor, at most Limit of them, and the cursor of the next page (nil on
// the last). The cursor is a position, not a client: a client that moved
// since, or is gone, does not shift the page.
func pageAfter(sorted []ranked, r Request) ([]ranked, *string) {
	start := 0
	if r.After != nil {
		after := r.After.resolve(sorted)
		start = sort.Search(len(sorted), func(i int) bool { return sorted[i].key().compare(after) > 0 })
	}
	end := min(start+max(r.Limit, 0), len(sorted))
	rows := sorted[start:end]
	if end == len(sorted) || len(rows) == 0 {
		return rows, nil
	}
	c := Cursor(rows[len(rows)-1].key())
	return rows, &c
}

// resolve returns k with the whole name of the client it points at when
// its cursor had to cut the name (see cursorNameBytes) and the client still
// has a name that begins so. Otherwise the names that begin with the cut
// one sort after it, so a page may repeat a client, never skip one.
func (k Key) resolve(sorted []ranked) Key {
	if len(k.Name) < cursorNameBytes {
		return k
	}
	for _, r := range sorted {
		if r.ID == k.ID && strings.HasPrefix(r.Name, k.Name) {
			k.Name = r.Name
			break
		}
	}
	return k
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
