package sessions

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Calendar is an iCalendar (RFC 5545) document of sessions, as a calendar
// app subscribes to it. Rendering depends on nothing but its fields, so an
// unchanged calendar renders to the same bytes every time.
type Calendar struct {
	Name   string // shown by calendar apps (X-WR-CALNAME)
	Events []Event
}

// Event is one VEVENT. Times are instants; they are written in UTC, so they
// mean the same moment in every time zone and across daylight-saving changes.
type Event struct {
	UID       string
	Start     time.Time
	End       time.Time
	Summary   string
	Location  *string
	Cancelled bool
	Sequence  int64 // bumps with each change, so apps replace their copy
	// Modified is the session's last change: the event's DTSTAMP and
	// LAST-MODIFIED. Not the time of rendering, which would make every
	// fetch of an unchanged feed look like a change.
	Modified time.Time
}

// icsProductID identifies Tandem as the calendar's producer.
const icsProductID = "-//Tandem//Coaching sessions//EN"

// maxLineOctets is RFC 5545's limit on a content line, without its CRLF.
const maxLineOctets = 75

// Render writes the calendar: CRLF line endings, lines folded at 75 octets,
// text values escaped.
func (c Calendar) Render() []byte {
	var w icsWriter
	w.prop("BEGIN", "VCALENDAR")
	w.prop("VERSION", "2.0")
	w.prop("PRODID", icsProductID)
	w.prop("CALSCALE", "GREGORIAN")
	w.prop("METHOD", "PUBLISH")
	w.prop("X-WR-CALNAME", escapeText(c.Name))
	// Hints for how often subscribed apps should fetch the feed again.
	w.prop("REFRESH-INTERVAL;VALUE=DURATION", "PT1H")
	w.prop("X-PUBLISHED-TTL", "PT1H")
	for _, e := range c.Events {
		w.prop("BEGIN", "VEVENT")
		w.prop("UID", escapeText(e.UID))
		// With METHOD:PUBLISH, DTSTAMP is when this instance of the event
		// was created (RFC 5545 §3.8.7.2); the event is made from the
		// session as it was last changed, so that is its stamp.
		w.prop("DTSTAMP", icsTime(e.Modified))
		w.prop("DTSTART", icsTime(e.Start))
		w.prop("DTEND", icsTime(e.End))
		w.prop("SEQUENCE", strconv.FormatInt(e.Sequence, 10))
		w.prop("LAST-MODIFIED", icsTime(e.Modified))
		w.prop("SUMMARY", escapeText(e.Summary))
		if e.Location != nil {
			w.prop("LOCATION", escapeText(*e.Location))
		}
		// A cancelled session stays on the calendar, struck through by most
		// apps, but no longer blocks the time: free/busy lookups and
		// scheduling assistants see the slot as free.
		if e.Cancelled {
			w.prop("STATUS", "CANCELLED")
			w.prop("TRANSP", "TRANSPARENT")
		} else {
			w.prop("STATUS", "CONFIRMED")
			w.prop("TRANSP", "OPAQUE")
		}
		w.prop("END", "VEVENT")
	}
	w.prop("END", "VCALENDAR")
	return w.buf.Bytes()
}

// icsTime is a DATE-TIME in UTC ("form #2" of RFC 5545 §3.3.5).
func icsTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// escapeText escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon
// and comma get a backslash, every line break becomes \n, and the other
// control characters, which TEXT may not hold, are dropped.
func escapeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

type icsWriter struct{ buf bytes.Buffer }

func (w *icsWriter) prop(name, value string) { w.line(name + ":" + value) }

// line writes one content line, folded (RFC 5545 §3.1): no physical line is
// longer than 75 octets, each continuation starts with a space, and a
// multi-octet UTF-8 character is never split between lines.
func (w *icsWriter) line(l string) {
	limit := maxLineOctets
	width := 0
	for len(l) > 0 {
		r, size := utf8.DecodeRuneInString(l)
		if r == utf8.RuneError && size <= 1 {
			size = 1 // an invalid byte is kept whole; escapeText's input is valid UTF-8
		}
		if width+size > limit {
			w.buf.WriteString("\r\n ")
			limit = maxLineOctets - 1 // the leading space counts
			width = 0
		}
		w.buf.WriteString(l[:size])
		width += size
		l = l[size:]
	}
	w.buf.WriteString("\r\n")
}
