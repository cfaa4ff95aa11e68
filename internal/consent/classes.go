package consent

import (
	"slices"
	"strings"
)

// Class is a kind of client data a consent may share.
type Class string

// The data classes. Private session notes, other clients' data, billing and
// practice data are not classes: no consent can share them.
const (
	Goals             Class = "goals"
	ActionSteps       Class = "action_steps"
	SessionAttendance Class = "session_attendance"
	SessionSummaries  Class = "session_summaries"
	CoordinationNotes Class = "coordination_notes"
)

// AllClasses lists every class, in the canonical order.
var AllClasses = []Class{Goals, ActionSteps, SessionAttendance, SessionSummaries, CoordinationNotes}

// Valid reports whether c is a known class.
func (c Class) Valid() bool { return slices.Contains(AllClasses, c) }

// Classes is a set of classes.
type Classes []Class

// Has reports whether the set includes c.
func (cs Classes) Has(c Class) bool { return slices.Contains(cs, c) }

// encode stores a set as sorted, comma-separated text.
func (cs Classes) encode() string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ",")
}

func decodeClasses(s string) Classes {
	var cs Classes
	for _, part := range strings.Split(s, ",") {
		if part != "" {
			cs = append(cs, Class(part))
		}
	}
	return cs
}
