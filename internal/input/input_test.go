package input

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/date"
)

func check(t *testing.T, name string, f apperr.Fields, wantErr bool) {
	t.Helper()
	if (len(f) > 0) != wantErr {
		t.Errorf("%s: field errors %v, want error %v", name, f, wantErr)
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantErr bool
	}{
		{"  Ada Lovelace ", false},
		{strings.Repeat("é", 200), false}, // characters, not bytes
		{strings.Repeat("é", 201), true},
		{"", true},
		{"   ", true},
		{"Ada\nBcc: x@example.com", true},
		{"bell\a", true},
		{"tab\there", true},
		{"del\u007f", true},
		{"c1\u0085middle", true},
	} {
		var f apperr.Fields
		got := Line(tc.in, "name", 200, &f)
		check(t, tc.in, f, tc.wantErr)
		if !tc.wantErr && got != strings.TrimSpace(tc.in) {
			t.Errorf("Line(%q) = %q", tc.in, got)
		}
	}
}

func TestTextAllowsLineBreaks(t *testing.T) {
	var f apperr.Fields
	if got := Text("first line\n\tsecond line\r\n", "agenda", 100, &f); got != "first line\n\tsecond line" || len(f) > 0 {
		t.Fatalf("Text = %q, %v", got, f)
	}
	Text("escape \x1b[31m", "agenda", 100, &f)
	check(t, "escape", f, true)
}

func TestOptionalBlankIsNoValue(t *testing.T) {
	var f apperr.Fields
	blank, absent := "  ", (*string)(nil)
	if OptionalLine(&blank, "phone", 40, &f) != nil || OptionalText(absent, "details", 40, &f) != nil ||
		OptionalEmail(&blank, "email", &f) != nil || len(f) > 0 {
		t.Fatal("blank or absent optional input is not treated as no value")
	}
	long := strings.Repeat("x", 41)
	if OptionalLine(&long, "phone", 40, &f) == nil || len(f) != 1 {
		t.Fatalf("an over-long optional value passed: %v", f)
	}
}

func TestEmail(t *testing.T) {
	var f apperr.Fields
	if got := Email(" Ada@Example.COM ", "email", &f); got != "ada@example.com" || len(f) > 0 {
		t.Fatalf("Email = %q, %v", got, f)
	}
	for _, bad := range []string{"ada", "ada@", "Ada <ada@example.com>", "a b@example.com", strings.Repeat("a", 250) + "@x.io"} {
		var f apperr.Fields
		Email(bad, "email", &f)
		check(t, bad, f, true)
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in      float64
		wantErr bool
	}{
		{0, false},
		{-1e12, false},
		{1e12, false},
		{123.456, false},
		{1e12 + 1, true},
		{-1e308, true},
		{math.Inf(1), true},
		{math.NaN(), true},
	} {
		var f apperr.Fields
		Number(tc.in, "value", 1e12, &f)
		check(t, fmt.Sprint(tc.in), f, tc.wantErr)
		if tc.wantErr && f[0].Message != "must be a number from -1000000000000 to 1000000000000" {
			t.Errorf("message %q", f[0].Message)
		}
	}
}

func TestDate(t *testing.T) {
	for _, tc := range []struct {
		in      date.Date
		wantErr bool
	}{
		{date.Earliest, false},
		{date.Latest, false},
		{date.Date{Year: 2026, Month: 3, Day: 1}, false},
		{date.Date{Year: 0, Month: 1, Day: 1}, true},
		{date.Earliest.AddDays(-1), true},
		{date.Latest.AddDays(1), true},
		{date.Date{Year: 9999, Month: 12, Day: 31}, true},
	} {
		var f apperr.Fields
		Date(tc.in, "due_date", &f)
		check(t, tc.in.String(), f, tc.wantErr)
	}
	var f apperr.Fields
	if OptionalDate(nil, "due_date", &f) != nil || len(f) > 0 {
		t.Error("an absent date is no error")
	}
}
