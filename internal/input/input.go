// Package input checks what people type — names, titles, notes, e-mail
// addresses, dates, measured values — the same way everywhere, recording
// field errors so that one 400 lists every problem of a request.
package input

import (
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/date"
)

// Line checks single-line text (a name, a title): trimmed, 1 to max
// characters, no control characters — they could forge lines in e-mails
// and logs.
func Line(raw, field string, max int, f *apperr.Fields) string {
	v := strings.TrimSpace(raw)
	if n := utf8.RuneCountInString(v); n == 0 || n > max {
		f.Add(field, fmt.Sprintf("must be 1 to %d characters", max))
	} else if strings.ContainsFunc(v, unicode.IsControl) {
		f.Add(field, "must be one line without control characters")
	}
	return v
}

// Text checks multi-line text (a purpose, an agenda, a note): trimmed, 1 to
// max characters; tabs and line breaks are fine, other control characters
// are not.
func Text(raw, field string, max int, f *apperr.Fields) string {
	v := strings.TrimSpace(raw)
	if n := utf8.RuneCountInString(v); n == 0 || n > max {
		f.Add(field, fmt.Sprintf("must be 1 to %d characters", max))
	} else if strings.ContainsFunc(v, isForbiddenControl) {
		f.Add(field, "must not contain control characters")
	}
	return v
}

// OptionalLine is Line for an optional field: absent or blank is no value.
func OptionalLine(raw *string, field string, max int, f *apperr.Fields) *string {
	return optional(raw, field, max, f, Line)
}

// OptionalText is Text for an optional field: absent or blank is no value.
func OptionalText(raw *string, field string, max int, f *apperr.Fields) *string {
	return optional(raw, field, max, f, Text)
}

func optional(raw *string, field string, max int, f *apperr.Fields, check func(string, string, int, *apperr.Fields) string) *string {
	if raw == nil || strings.TrimSpace(*raw) == "" {
		return nil
	}
	v := check(*raw, field, max, f)
	return &v
}

func isForbiddenControl(r rune) bool {
	return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t'
}

// Email checks an e-mail address and returns it lower-cased: addresses are
// compared without regard to case.
func Email(raw, field string, f *apperr.Fields) string {
	email := strings.ToLower(strings.TrimSpace(raw))
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		f.Add(field, "must be a valid e-mail address")
	}
	return email
}

// OptionalEmail is Email for an optional field: absent or blank is no value.
func OptionalEmail(raw *string, field string, f *apperr.Fields) *string {
	if raw == nil || strings.TrimSpace(*raw) == "" {
		return nil
	}
	v := Email(*raw, field, f)
	return &v
}

// Number checks a measured value: finite and at most limit from zero. With
// every value so bounded, the difference of any two stays far from
// overflowing, so what is computed from them is finite too.
func Number(v float64, field string, limit float64, f *apperr.Fields) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > limit {
		l := strconv.FormatFloat(limit, 'f', -1, 64)
		f.Add(field, "must be a number from -"+l+" to "+l)
	}
	return v
}

// Date checks a calendar date is within the range every part of Tandem can
// store and compute with (date.Earliest to date.Latest).
func Date(d date.Date, field string, f *apperr.Fields) date.Date {
	if !d.InRange() {
		f.Add(field, date.RangeMessage)
	}
	return d
}

// OptionalDate is Date for an optional field: nil is no value.
func OptionalDate(d *date.Date, field string, f *apperr.Fields) *date.Date {
	if d != nil {
		Date(*d, field, f)
	}
	return d
}
