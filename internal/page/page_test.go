package page_test

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/page"
)

func ptr[T any](v T) *T { return &v }

// fieldNames returns the fields err reports, or fails when err is not a
// validation error.
func fieldNames(t *testing.T, err error) []string {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid {
		t.Fatalf("error = %v, want an apperr validation error", err)
	}
	var names []string
	for _, f := range e.Fields {
		names = append(names, f.Field)
	}
	return names
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		name      string
		limit     *int
		wantLimit int
		wantErr   bool
	}{
		{"absent", nil, page.DefaultLimit, false},
		{"one", ptr(1), 1, false},
		{"fifty", ptr(50), 50, false},
		{"maximum", ptr(200), 200, false},
		{"zero", ptr(0), 0, true},
		{"negative", ptr(-1), 0, true},
		{"above maximum", ptr(201), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := page.Parse(tt.limit, nil)
			if tt.wantErr {
				if got := fieldNames(t, err); !slices.Equal(got, []string{"limit"}) {
					t.Errorf("field errors on %v, want [limit]", got)
				}
				e, _ := apperr.As(err)
				if msg := e.Fields[0].Message; msg != "must be between 1 and 200" {
					t.Errorf("message = %q", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if r.Limit != tt.wantLimit || r.After != uuid.Nil {
				t.Errorf("Parse = %+v, want limit %d from the first row", r, tt.wantLimit)
			}
		})
	}
	if page.DefaultLimit != 50 {
		t.Errorf("DefaultLimit = %d, want 50", page.DefaultLimit)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, id := range []uuid.UUID{uuid.New(), uuid.Must(uuid.NewV7()), uuid.Max} {
		c := page.Cursor(id)
		if strings.ContainsAny(c, "+/=") {
			t.Errorf("cursor %q is not URL-safe", c)
		}
		r, err := page.Parse(nil, &c)
		if err != nil {
			t.Fatalf("Parse(Cursor(%s)): %v", id, err)
		}
		if r.After != id || r.Limit != page.DefaultLimit {
			t.Errorf("Parse(Cursor(%s)) = %+v, want After %s, limit %d", id, r, id, page.DefaultLimit)
		}
	}
	// An empty cursor is the first page.
	r, err := page.Parse(ptr(10), ptr(""))
	if err != nil || r.After != uuid.Nil || r.Limit != 10 {
		t.Errorf("Parse(10, \"\") = %+v, %v; want the first page of 10", r, err)
	}
}

func TestParseBadCursor(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	id := uuid.New()
	tests := []struct {
		name   string
		cursor string
	}{
		{"not base64", "!!!"},
		{"base64 of text", enc([]byte("hello, this is not a cursor"))},
		{"base64 of v1 and not a UUID", enc([]byte("v1:not-a-uuid"))},
		{"v1 and nothing", enc([]byte("v1:"))},
		{"UUID without prefix", enc([]byte(id.String()))},
		{"other version", enc([]byte("v2:" + id.String()))},
		{"UUID with trailing text", enc([]byte("v1:" + id.String() + "x"))},
		{"standard base64 with padding", base64.StdEncoding.EncodeToString([]byte("v1:" + id.String() + "."))},
		{"good cursor with a character cut", page.Cursor(id)[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := page.Parse(nil, &tt.cursor)
			if got := fieldNames(t, err); !slices.Equal(got, []string{"cursor"}) {
				t.Errorf("Parse(%q): field errors on %v, want [cursor]", tt.cursor, got)
			}
			e, _ := apperr.As(err)
			if msg := e.Fields[0].Message; msg != "is not a cursor this API returned" {
				t.Errorf("message = %q", msg)
			}
		})
	}
}

func TestParseReportsEveryField(t *testing.T) {
	_, err := page.Parse(ptr(500), ptr("!!!"))
	if got := fieldNames(t, err); !slices.Equal(got, []string{"limit", "cursor"}) {
		t.Errorf("field errors on %v, want [limit cursor]", got)
	}
}

type row struct {
	ID   uuid.UUID
	Name string
}

func rowID(r row) uuid.UUID { return r.ID }

func TestTrim(t *testing.T) {
	rows := make([]row, 4)
	for i := range rows {
		rows[i] = row{ID: uuid.New(), Name: string(rune('a' + i))}
	}
	const limit = 3
	tests := []struct {
		name      string
		rows      []row
		wantRows  int
		wantAfter *uuid.UUID // nil: last page
	}{
		{"none", nil, 0, nil},
		{"fewer than limit", rows[:2], 2, nil},
		{"equal to limit", rows[:3], 3, nil},
		{"one more than limit", rows, 3, &rows[2].ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next := page.Trim(tt.rows, limit, rowID)
			if !slices.Equal(got, rows[:tt.wantRows]) {
				t.Errorf("rows = %v, want the first %d", got, tt.wantRows)
			}
			switch {
			case tt.wantAfter == nil && next != nil:
				t.Errorf("next cursor %q on the last page, want none", *next)
			case tt.wantAfter != nil && next == nil:
				t.Error("no next cursor, want one")
			case tt.wantAfter != nil:
				if *next != page.Cursor(*tt.wantAfter) {
					t.Errorf("next cursor %q, want the cursor after the last row kept", *next)
				}
				r, err := page.Parse(nil, next)
				if err != nil || r.After != *tt.wantAfter {
					t.Errorf("next cursor parses to %v, %v; want %s", r.After, err, *tt.wantAfter)
				}
			}
		})
	}
}
