package input

import (
	"strings"
	"testing"

	"github.com/tandem-coach/tandem/internal/apperr"
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
