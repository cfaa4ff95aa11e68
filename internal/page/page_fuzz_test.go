package page_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/page"
)

// cursorSeeds are cursors of both kinds, valid and damaged, for both targets.
func cursorSeeds() []string {
	id := uuid.MustParse("0190a6c4-5a3e-7b2c-9d1e-2f3a4b5c6d7e")
	timed := page.TimedCursor(page.Key{At: time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC), ID: id})
	byID := page.Cursor(id)
	return []string{
		"", byID, timed, page.Cursor(uuid.Nil), page.TimedCursor(page.Key{At: time.Unix(0, 0), ID: id}),
		byID[:len(byID)-1], byID + "A", byID + "=", timed[:len(timed)-2], "v1:" + id.String(), "not a cursor", "%%%%",
	}
}

// FuzzParse checks the ID-ordered cursor: a client pages through a list by
// sending back the cursor it was given, so a cursor the API accepts must
// name exactly one position — the one that encodes back to that cursor —
// and a limit it accepts must be one it can serve.
func FuzzParse(f *testing.F) {
	for i, c := range cursorSeeds() {
		f.Add(c, int64(i*20-1))
	}
	f.Fuzz(func(t *testing.T, cursor string, limit int64) {
		l := int(limit)
		r, err := page.Parse(&l, &cursor)
		if err != nil {
			return
		}
		if r.Limit < 1 || r.Limit > page.MaxLimit {
			t.Fatalf("Parse accepted limit %d", r.Limit)
		}
		if cursor == "" {
			if r.After != uuid.Nil {
				t.Fatalf("an empty cursor decoded to %s, not the first page", r.After)
			}
			return
		}
		if got := page.Cursor(r.After); got != cursor {
			t.Fatalf("cursor %q decoded to %s, which encodes to %q", cursor, r.After, got)
		}
		if _, err := page.ParseTimed(nil, &cursor); err == nil {
			t.Fatalf("cursor %q is accepted by both ParseTimed and Parse", cursor)
		}
	})
}

// FuzzParseTimed is FuzzParse for the time-ordered cursor of session lists.
func FuzzParseTimed(f *testing.F) {
	for i, c := range cursorSeeds() {
		f.Add(c, int64(i*20-1))
	}
	f.Fuzz(func(t *testing.T, cursor string, limit int64) {
		l := int(limit)
		r, err := page.ParseTimed(&l, &cursor)
		if err != nil {
			return
		}
		if r.Limit < 1 || r.Limit > page.MaxLimit {
			t.Fatalf("ParseTimed accepted limit %d", r.Limit)
		}
		if cursor == "" {
			if r.After != nil {
				t.Fatalf("an empty cursor decoded to %+v, not the first page", *r.After)
			}
			return
		}
		if r.After == nil {
			t.Fatalf("cursor %q was accepted but decoded to no position", cursor)
		}
		if got := page.TimedCursor(*r.After); got != cursor {
			t.Fatalf("cursor %q decoded to %+v, which encodes to %q", cursor, *r.After, got)
		}
	})
}
