package sessions_test

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tandem-coach/tandem/internal/sessions"
)

// FuzzRender checks the calendar feed a client subscribes to, whatever the
// coach typed into a session: every line ends in CRLF and is folded at 75
// octets without splitting a character; the typed text can neither add,
// drop nor reorder a property; it reaches the calendar app as it was typed;
// and an unchanged calendar renders to the same bytes.
func FuzzRender(f *testing.F) {
	f.Add("Sessions with Ada", "0190a6c4-5a3e-7b2c-9d1e-2f3a4b5c6d7e@tandem", "Coaching", "Zoom: https://zoom.example/j/1?pwd=a;b",
		true, false, int64(4_000_000_000), int64(60), int64(0), int64(3_999_000_000))
	f.Add("Ada", "uid", "x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:injected", "a\nLOCATION:b", true, true,
		int64(0), int64(30), int64(7), int64(0))
	f.Add("", "", strings.Repeat("é", 40), strings.Repeat("a", 74)+"€", true, false,
		int64(1), int64(1), int64(1), int64(1))
	f.Add("Café, Straße; \\ done", "a;b,c", "tab\tkept, bell\x07 and del\x7f dropped, old mac\rbreak", "", false, false,
		int64(-2_000_000_000), int64(45), int64(1<<40), int64(9_000_000_000))
	f.Add("\xff\xfe invalid", "\x00", "\\n is not a line break", "\u2028\u0085", true, true,
		int64(9_000_000_000), int64(1440), int64(-1), int64(-1))
	f.Fuzz(func(t *testing.T, name, uid, summary, location string, hasLocation, cancelled bool, start, minutes, seq, modified int64) {
		startAt := supportedTime(start)
		ev := sessions.Event{UID: uid, Start: startAt, End: startAt.Add(time.Duration(1+(minutes%(24*60)+24*60)%(24*60)) * time.Minute),
			Summary: summary, Cancelled: cancelled, Sequence: seq, Modified: supportedTime(modified)}
		if hasLocation {
			ev.Location = &location
		}
		cal := sessions.Calendar{Name: name, Events: []sessions.Event{ev}}
		out := cal.Render()
		if again := cal.Render(); !bytes.Equal(out, again) {
			t.Fatalf("rendering the same calendar twice gave different bytes:\n%q\n%q", out, again)
		}
		lines := unfoldChecked(t, out)

		// The same calendar with harmless text has the same properties in the same order.
		plain := ev
		plain.UID, plain.Summary = "x", "x"
		if hasLocation {
			x := "x"
			plain.Location = &x
		}
		want := propertyNames(unfoldChecked(t, sessions.Calendar{Name: "x", Events: []sessions.Event{plain}}.Render()))
		if got := propertyNames(lines); !slices.Equal(got, want) {
			t.Fatalf("the text changed the calendar's properties:\ngot  %q\nwant %q\ndocument %q", got, want, out)
		}

		// Each typed text arrives whole, as typed.
		typed := map[string]string{"X-WR-CALNAME": name, "UID": uid, "SUMMARY": summary}
		if hasLocation {
			typed["LOCATION"] = location
		}
		for _, l := range lines {
			prop, value, _ := strings.Cut(l, ":")
			text, ok := typed[prop]
			if !ok {
				if timeProperties[prop] && !icsDateTime.MatchString(value) {
					t.Fatalf("%s:%s is not a UTC date-time", prop, value)
				}
				continue
			}
			shown, err := unescapeText(value)
			if err != nil {
				t.Fatalf("%s value %q: %v", prop, value, err)
			}
			if plainText(text) && shown != lineBreaksAsLF.Replace(text) {
				t.Fatalf("%s %q reaches the calendar as %q", prop, text, shown)
			}
			if i := strings.IndexFunc(shown, forbiddenInText); i >= 0 {
				t.Fatalf("%s value %q holds control character %q", prop, value, shown[i])
			}
		}
	})
}

// supportedTime maps any number to an instant from 1900 to 2199, the range
// of dates Tandem supports, to the second.
func supportedTime(n int64) time.Time {
	from := time.Date(1900, time.January, 1, 0, 0, 0, 0, time.UTC).Unix()
	span := time.Date(2200, time.January, 1, 0, 0, 0, 0, time.UTC).Unix() - from
	return time.Unix(from+((n%span)+span)%span, 0).UTC()
}

var (
	timeProperties = map[string]bool{"DTSTAMP": true, "DTSTART": true, "DTEND": true, "LAST-MODIFIED": true}
	icsDateTime    = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z$`)
)

// unfoldChecked checks every physical line of doc and returns its logical
// lines (RFC 5545 §3.1).
func unfoldChecked(t *testing.T, doc []byte) []string {
	t.Helper()
	if !utf8.Valid(doc) {
		t.Fatalf("the document is not valid UTF-8: %q", doc)
	}
	s := string(doc)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("the document does not end with CRLF: %q", s)
	}
	var lines [][]string // each logical line as its physical parts; joined once, as long texts fold many times
	for _, phys := range strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n") {
		if strings.ContainsAny(phys, "\r\n") {
			t.Fatalf("a bare CR or LF in line %q", phys)
		}
		if len(phys) > 75 {
			t.Fatalf("a line of %d octets: %q", len(phys), phys)
		}
		if !utf8.ValidString(phys) {
			t.Fatalf("a fold splits a UTF-8 character: %q", phys)
		}
		if rest, ok := strings.CutPrefix(phys, " "); ok {
			if len(lines) == 0 {
				t.Fatal("the document starts with a continuation line")
			}
			lines[len(lines)-1] = append(lines[len(lines)-1], rest)
			continue
		}
		if phys == "" {
			t.Fatalf("an empty line in %q", s)
		}
		lines = append(lines, []string{phys})
	}
	logical := make([]string, len(lines))
	for i, parts := range lines {
		logical[i] = strings.Join(parts, "")
	}
	return logical
}

// propertyNames returns each logical line's name, with BEGIN and END
// values, which name components.
func propertyNames(lines []string) []string {
	names := make([]string, len(lines))
	for i, l := range lines {
		name := l[:strings.IndexAny(l+":", ":;")]
		if name == "BEGIN" || name == "END" {
			name = l
		}
		names[i] = name
	}
	return names
}

// unescapeText reads a TEXT value (RFC 5545 §3.3.11) as a calendar app
// shows it; an unescaped comma or semicolon would split it into several.
func unescapeText(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ',', ';':
			return "", fmt.Errorf("unescaped %q at %d", c, i)
		case '\\':
			if i+1 == len(v) {
				return "", errors.New("a trailing backslash")
			}
			i++
			switch v[i] {
			case '\\', ',', ';':
				b.WriteByte(v[i])
			case 'n', 'N':
				b.WriteByte('\n')
			default:
				return "", fmt.Errorf("an invalid escape \\%c", v[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// lineBreaksAsLF turns CRLF and CR, which no TEXT value may hold, into LF,
// which TEXT escapes as \n.
var lineBreaksAsLF = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// forbiddenInText reports the control characters RFC 5545 keeps out of
// TEXT (§3.3.11: CONTROL), line breaks aside, which are escaped.
func forbiddenInText(r rune) bool { return (r < 0x20 || r == 0x7f) && r != '\n' && r != '\t' }

// plainText reports whether a calendar can show s as it is: valid UTF-8
// with no control characters other than tab and line breaks.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(lineBreaksAsLF.Replace(s), forbiddenInText)
}
