package dashboard

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

func TestCursorRoundTrip(t *testing.T) {
	id := uuid.Must(uuid.NewV7())
	long := strings.Repeat("é", 200) // 400 bytes: the cursor keeps 96
	for _, k := range []Key{
		{Overdue: 0, Name: "Ana", ID: id},
		{Overdue: 7, Name: "Smith, Jo", ID: uuid.Max},
		{Overdue: math.MaxInt32, Name: strings.Repeat("z", cursorNameBytes), ID: id},
		{Overdue: 3, Name: long, ID: id},
	} {
		c := Cursor(k)
		if strings.ContainsAny(c, "+/=") || len(c) > 200 {
			t.Errorf("cursor %q is not URL-safe or longer than the API's 200 characters", c)
		}
		r, err := ParseRequest(nil, &c)
		if err != nil {
			t.Fatalf("ParseRequest(Cursor(%+v)): %v", k, err)
		}
		want := k
		if len(want.Name) > cursorNameBytes {
			want.Name = want.Name[:cursorNameBytes]
		}
		if r.After == nil || *r.After != want || r.Limit != page.DefaultLimit {
			t.Errorf("ParseRequest(Cursor(%+v)) = %+v, want After %+v, limit %d", k, r, want, page.DefaultLimit)
		}
	}
	r, err := ParseRequest(ptr(200), ptr(""))
	if err != nil || r.After != nil || r.Limit != 200 {
		t.Errorf("ParseRequest(200, \"\") = %+v, %v; want the first page of 200", r, err)
	}
}

func TestParseRequestRefusesWhatItDidNotIssue(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	id := uuid.Must(uuid.NewV7())
	good := Cursor(Key{Overdue: 2, Name: "Ana", ID: id})
	for name, cursor := range map[string]string{
		"not base64":              "!!!",
		"base64 of text":          enc("hello"),
		"an ID-ordered cursor":    page.Cursor(id),
		"a time-ordered cursor":   page.TimedCursor(page.Key{At: time.Unix(0, 0), ID: id}),
		"another version":         enc("d2:2," + id.String() + ",Ana"),
		"no name":                 enc("d1:2," + id.String()),
		"no count":                enc("d1:" + id.String() + ",Ana"),
		"a negative count":        enc("d1:-1," + id.String() + ",Ana"),
		"a count with zeros":      enc("d1:02," + id.String() + ",Ana"),
		"a count with a sign":     enc("d1:+2," + id.String() + ",Ana"),
		"a count past int32":      enc("d1:" + strconv.Itoa(math.MaxInt32+1) + "," + id.String() + ",Ana"),
		"an upper-case ID":        enc("d1:2," + strings.ToUpper(id.String()) + ",Ana"),
		"a name longer than kept": enc("d1:2," + id.String() + "," + strings.Repeat("a", cursorNameBytes+1)),
		"padded":                  base64.URLEncoding.EncodeToString([]byte("d1:2," + id.String() + ",Anna")),
		"a character cut":         good[1:],
		"a character added":       good + "A",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseRequest(nil, &cursor)
			if got := fieldNames(t, err); !slices.Equal(got, []string{"cursor"}) {
				t.Fatalf("field errors on %v, want [cursor]", got)
			}
			e, _ := apperr.As(err)
			if msg := e.Fields[0].Message; msg != "is not a cursor this API returned" {
				t.Errorf("message = %q", msg)
			}
		})
	}
	_, err := ParseRequest(ptr(201), ptr("!!!"))
	if got := fieldNames(t, err); !slices.Equal(got, []string{"limit", "cursor"}) {
		t.Errorf("field errors on %v, want [limit cursor]", got)
	}
	for _, l := range []int{0, -1, page.MaxLimit + 1} {
		if _, err := ParseRequest(&l, nil); err == nil {
			t.Errorf("limit %d accepted", l)
		}
	}
}

// FuzzParseRequest: a cursor the dashboard accepts names exactly one
// position, the one that encodes back to that very cursor, and a limit it
// accepts is one it can serve.
func FuzzParseRequest(f *testing.F) {
	id := uuid.MustParse("0190a6c4-5a3e-7b2c-9d1e-2f3a4b5c6d7e")
	for i, c := range []string{"", Cursor(Key{Overdue: 3, Name: "Ana, B", ID: id}),
		Cursor(Key{Name: strings.Repeat("日", 100), ID: id}), page.Cursor(id), "d1:0,x,y", "%%%"} {
		f.Add(c, int64(i*40-1))
	}
	f.Fuzz(func(t *testing.T, cursor string, limit int64) {
		l := int(limit)
		r, err := ParseRequest(&l, &cursor)
		if err != nil {
			return
		}
		if r.Limit < 1 || r.Limit > page.MaxLimit {
			t.Fatalf("ParseRequest accepted limit %d", r.Limit)
		}
		if cursor == "" {
			if r.After != nil {
				t.Fatalf("an empty cursor decoded to %+v, not the first page", *r.After)
			}
			return
		}
		if r.After == nil || r.After.Overdue < 0 || len(r.After.Name) > cursorNameBytes {
			t.Fatalf("cursor %q decoded to %+v", cursor, r.After)
		}
		if got := Cursor(*r.After); got != cursor {
			t.Fatalf("cursor %q decoded to %+v, which encodes to %q", cursor, *r.After, got)
		}
	})
}
