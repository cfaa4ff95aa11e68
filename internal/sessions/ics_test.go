package sessions

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the DST tests must not depend on the host's zone files
	"unicode/utf8"
)

func TestEscapeText(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{`back\slash`, `back\\slash`},
		{"a;b,c", `a\;b\,c`},
		{"line one\nline two", `line one\nline two`},
		{"windows\r\nbreak", `windows\nbreak`},
		{"old mac\rbreak", `old mac\nbreak`},
		{"bell\x07 and del\x7f dropped, tab\tkept", "bell and del dropped\\, tab\tkept"},
		{`Zoom: https://zoom.example/j/1?pwd=a;b`, `Zoom: https://zoom.example/j/1?pwd=a\;b`},
		{"Café, Straße", `Café\, Straße`},
	} {
		if got := escapeText(tc.in); got != tc.want {
			t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// unfold undoes RFC 5545 folding and checks every physical line on the way.
func unfold(t *testing.T, doc string) []string {
	t.Helper()
	if !strings.HasSuffix(doc, "\r\n") {
		t.Fatalf("document does not end with CRLF: %q", doc)
	}
	var lines []string
	for _, phys := range strings.Split(strings.TrimSuffix(doc, "\r\n"), "\r\n") {
		if strings.ContainsAny(phys, "\r\n") {
			t.Fatalf("bare CR or LF in line %q", phys)
		}
		if len(phys) > maxLineOctets {
			t.Fatalf("line of %d octets: %q", len(phys), phys)
		}
		if !utf8.ValidString(phys) {
			t.Fatalf("line splits a UTF-8 character: %q", phys)
		}
		if strings.HasPrefix(phys, " ") {
			if len(lines) == 0 {
				t.Fatal("document starts with a continuation line")
			}
			lines[len(lines)-1] += phys[1:]
			continue
		}
		lines = append(lines, phys)
	}
	return lines
}

func TestFoldingAt75OctetsKeepsUTF8Whole(t *testing.T) {
	for _, summary := range []string{
		strings.Repeat("a", 300),
		strings.Repeat("ü", 100),  // two octets each
		strings.Repeat("日本語", 40), // three octets each
		strings.Repeat("x🙂", 60),  // four-octet characters at every offset
		"Coaching session with " + strings.Repeat("Zoë ", 30),
	} {
		for pad := 0; pad < 4; pad++ { // shift where the boundaries fall
			name := strings.Repeat("p", pad) + summary
			doc := string(Calendar{Name: "n", Events: []Event{{UID: "u@tandem", Summary: name,
				Start: time.Now(), End: time.Now().Add(time.Hour), Modified: time.Now()}}}.Render())
			lines := unfold(t, doc)
			found := false
			for _, l := range lines {
				if l == "SUMMARY:"+escapeText(name) {
					found = true
				}
			}
			if !found {
				t.Fatalf("summary %q did not survive folding; lines %q", name, lines)
			}
		}
	}
}

func TestFoldExactBoundaries(t *testing.T) {
	var w icsWriter
	w.line(strings.Repeat("a", 75))
	w.line(strings.Repeat("b", 76))
	w.line(strings.Repeat("c", 75+74+1))
	want := strings.Repeat("a", 75) + "\r\n" +
		strings.Repeat("b", 75) + "\r\n b\r\n" +
		strings.Repeat("c", 75) + "\r\n " + strings.Repeat("c", 74) + "\r\n c\r\n"
	if got := w.buf.String(); got != want {
		t.Fatalf("folded\n%q\nwant\n%q", got, want)
	}
	// A two-octet character that would straddle octet 75 moves to the next line whole.
	w.buf.Reset()
	w.line(strings.Repeat("a", 74) + "é")
	if got, want := w.buf.String(), strings.Repeat("a", 74)+"\r\n é\r\n"; got != want {
		t.Fatalf("folded %q, want %q", got, want)
	}
}

func TestRenderIsAValidCalendar(t *testing.T) {
	stamp := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	loc := "Room 4; 2nd floor, Main St\\Annex"
	doc := string(Calendar{Name: "Tandem, sessions", Events: []Event{
		{UID: "a@tandem", Start: stamp.Add(48 * time.Hour), End: stamp.Add(49 * time.Hour), Summary: "Coaching session with Ada",
			Location: &loc, Sequence: 2, Modified: stamp},
		{UID: "b@tandem", Start: stamp.Add(48 * time.Hour), End: stamp.Add(49 * time.Hour), Summary: "Coaching session with Ben",
			Cancelled: true, Modified: stamp.Add(90 * time.Second)},
	}}.Render())
	if strings.Count(doc, "\r\n") != strings.Count(doc, "\n") {
		t.Fatal("a line ends without CR")
	}
	lines := unfold(t, doc)
	for _, want := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:" + icsProductID, "CALSCALE:GREGORIAN",
		`X-WR-CALNAME:Tandem\, sessions`, "BEGIN:VEVENT", "UID:a@tandem", "DTSTAMP:20260301T120000Z",
		"LAST-MODIFIED:20260301T120000Z", "DTSTART:20260303T120000Z", "DTEND:20260303T130000Z", "SEQUENCE:2",
		"SUMMARY:Coaching session with Ada", `LOCATION:Room 4\; 2nd floor\, Main St\\Annex`, "STATUS:CONFIRMED",
		"TRANSP:OPAQUE", "DTSTAMP:20260301T120130Z", "STATUS:CANCELLED", "TRANSP:TRANSPARENT", "END:VEVENT", "END:VCALENDAR"} {
		if !contains(lines, want) {
			t.Errorf("no line %q in\n%s", want, doc)
		}
	}
	if lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		t.Errorf("calendar not enclosed: first %q, last %q", lines[0], lines[len(lines)-1])
	}
	if strings.Count(doc, "BEGIN:VEVENT") != 2 || strings.Count(doc, "LOCATION:") != 1 {
		t.Errorf("want two events and one location:\n%s", doc)
	}
}

// TestTimesAreUTCAcrossDaylightSaving renders sessions on the days clocks
// change; each must come out as the right UTC instant, whatever zone the
// time was expressed in.
func TestTimesAreUTCAcrossDaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name               string
		start              time.Time
		minutes            int
		wantStart, wantEnd string
	}{
		// Berlin springs forward at 02:00 CET on 2026-03-29 to 03:00 CEST.
		{name: "Berlin before the change, ending after it", start: time.Date(2026, 3, 29, 1, 30, 0, 0, berlin), minutes: 60,
			wantStart: "20260329T003000Z", wantEnd: "20260329T013000Z"},
		{name: "Berlin after the change", start: time.Date(2026, 3, 29, 10, 0, 0, 0, berlin), minutes: 50,
			wantStart: "20260329T080000Z", wantEnd: "20260329T085000Z"},
		{name: "Berlin the day before", start: time.Date(2026, 3, 28, 10, 0, 0, 0, berlin), minutes: 60,
			wantStart: "20260328T090000Z", wantEnd: "20260328T100000Z"},
		// New York springs forward at 02:00 EST on 2026-03-08 to 03:00 EDT…
		{name: "New York before the change, ending after it", start: time.Date(2026, 3, 8, 1, 30, 0, 0, newYork), minutes: 60,
			wantStart: "20260308T063000Z", wantEnd: "20260308T073000Z"},
		{name: "New York after the change", start: time.Date(2026, 3, 8, 9, 0, 0, 0, newYork), minutes: 60,
			wantStart: "20260308T130000Z", wantEnd: "20260308T140000Z"},
		// …and falls back at 02:00 EDT on 2026-11-01 to 01:00 EST.
		{name: "New York falling back", start: time.Date(2026, 11, 1, 0, 30, 0, 0, newYork), minutes: 120,
			wantStart: "20261101T043000Z", wantEnd: "20261101T063000Z"},
		{name: "an offset, not a zone", start: time.Date(2026, 3, 29, 9, 0, 0, 0, time.FixedZone("", 3600)), minutes: 60,
			wantStart: "20260329T080000Z", wantEnd: "20260329T090000Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			end := endOf(tc.start, tc.minutes)
			doc := string(Calendar{Events: []Event{{UID: "x@tandem", Start: tc.start, End: end, Modified: tc.start}}}.Render())
			lines := unfold(t, doc)
			if !contains(lines, "DTSTART:"+tc.wantStart) || !contains(lines, "DTEND:"+tc.wantEnd) {
				t.Fatalf("want DTSTART:%s and DTEND:%s in\n%s", tc.wantStart, tc.wantEnd, doc)
			}
		})
	}
}

func contains(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}
