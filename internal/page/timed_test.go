package page

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestTimedCursorRoundTrip(t *testing.T) {
	k := Key{At: time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC), ID: uuid.Must(uuid.NewV7())}
	c := TimedCursor(k)
	r, err := ParseTimed(nil, &c)
	if err != nil {
		t.Fatal(err)
	}
	if r.Limit != DefaultLimit || r.After == nil || !r.After.At.Equal(k.At) || r.After.ID != k.ID {
		t.Fatalf("parsed %+v, want %+v", r, k)
	}
}

func TestParseTimedRefusesForeignCursors(t *testing.T) {
	for _, c := range []string{"nonsense", Cursor(uuid.Must(uuid.NewV7())), "dDE6MTIz"} {
		if _, err := ParseTimed(nil, &c); err == nil {
			t.Errorf("cursor %q accepted", c)
		}
	}
	zero, big := 0, MaxLimit+1
	for _, l := range []*int{&zero, &big} {
		if _, err := ParseTimed(l, nil); err == nil {
			t.Errorf("limit %d accepted", *l)
		}
	}
}

func TestTrimTimed(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := []Key{{At: at, ID: uuid.Must(uuid.NewV7())}, {At: at, ID: uuid.Must(uuid.NewV7())}, {At: at.Add(time.Hour), ID: uuid.Must(uuid.NewV7())}}
	got, next := TrimTimed(rows, 2, func(k Key) Key { return k })
	if len(got) != 2 || next == nil {
		t.Fatalf("got %d rows, next %v", len(got), next)
	}
	r, err := ParseTimed(nil, next)
	if err != nil || r.After.ID != rows[1].ID {
		t.Fatalf("next cursor points at %+v (%v), want %v", r.After, err, rows[1].ID)
	}
	if _, next := TrimTimed(rows, 3, func(k Key) Key { return k }); next != nil {
		t.Fatal("a last page has a next cursor")
	}
}
