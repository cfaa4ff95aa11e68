package httpapi

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/goals"
)

// stepListResponse is a page of action steps, the list clients open most
// often. It is encoded by hand, byte for byte as encoding/json encodes
// api.ActionStepList (TestStepListJSONMatchesEncodingJSON and
// FuzzStepListJSON hold it to that): encoding/json reaches each nullable and
// date field through its MarshalJSON, then scans that method's output again
// to check and compact it, and that was a fifth of the list's CPU time.
type stepListResponse struct {
	steps []goals.Step
	next  *string
}

func (r stepListResponse) VisitListClientActionStepsResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r stepListResponse) VisitListGoalActionStepsResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (r stepListResponse) write(w http.ResponseWriter) error {
	body := appendStepList(make([]byte, 0, 512*len(r.steps)+64), r.steps, r.next)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(append(body, '\n')) // json.Encoder ends with a newline
	return err
}

var (
	_ api.ListClientActionStepsResponseObject = stepListResponse{}
	_ api.ListGoalActionStepsResponseObject   = stepListResponse{}
)

// appendStepList appends the JSON of api.ActionStepList{Items: steps,
// NextCursor: next}, its fields in the struct's order.
func appendStepList(b []byte, steps []goals.Step, next *string) []byte {
	b = append(b, `{"items":[`...)
	for i, s := range steps {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStep(b, s)
	}
	b = append(b, `],"next_cursor":`...)
	if next == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *next)
	}
	return append(b, '}')
}

// appendStep appends the JSON of toAPIStep(s).
func appendStep(b []byte, s goals.Step) []byte {
	b = append(b, `{"client_id":"`...)
	b = append(b, s.ClientID.String()...)
	b = append(b, `","completed_at":`...)
	b = appendTimeOrNull(b, s.CompletedAt)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, s.CreatedAt)
	b = append(b, `,"details":`...)
	b = appendStringOrNull(b, s.Details)
	b = append(b, `,"due_date":`...)
	if s.DueDate == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = append(b, s.DueDate.String()...)
		b = append(b, '"')
	}
	b = append(b, `,"goal_id":"`...)
	b = append(b, s.GoalID.String()...)
	b = append(b, `","id":"`...)
	b = append(b, s.ID.String()...)
	b = append(b, `","next_occurrence_id":`...)
	if s.NextOccurrenceID == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = append(b, s.NextOccurrenceID.String()...)
		b = append(b, '"')
	}
	b = append(b, `,"overdue":`...)
	b = strconv.AppendBool(b, s.Overdue)
	b = append(b, `,"recurrence":`...)
	b = appendJSONString(b, s.Recurrence)
	b = append(b, `,"reflection":`...)
	b = appendStringOrNull(b, s.Reflection)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, s.Status)
	b = append(b, `,"title":`...)
	b = appendJSONString(b, s.Title)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, s.UpdatedAt)
	return append(b, '}')
}

// appendTime appends t as time.Time.MarshalJSON writes it (RFC 3339 with
// the nanoseconds that are not zero). Stored times lie within years
// 1900–2199, where MarshalJSON never fails.
func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendTimeOrNull(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	return appendTime(b, *t)
}

func appendStringOrNull(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// with HTML escaping on (its default, and what the generated handlers use):
// quotes, backslashes and control characters escaped, <, > and & as \u003c,
// \u003e and \u0026, U+2028 and U+2029 escaped, and invalid UTF-8 replaced
// by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
