package sessions

import (
	"fmt"
	"time"

	"github.com/tandem-coach/tandem/internal/apperr"
)

// Limits on a session's fields (the API description states the same).
const (
	MinDuration      = 5
	MaxDuration      = 480
	maxLocationChars = 500
	maxAgendaChars   = 5000
	maxSummaryChars  = 20000
	maxNoteChars     = 20000
)

// earliestStart and latestStart bound a session's start to dates a calendar
// can mean; anything outside is a typo.
var (
	earliestStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	latestStart   = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkStart normalises a start time: UTC, whole seconds. Whole seconds keep
// PostgreSQL (microseconds) and SQLite (text) storing the very same instant,
// and UTC keeps SQLite's textual comparisons in time order.
func checkStart(t time.Time, fields *apperr.Fields) time.Time {
	t = t.UTC().Truncate(time.Second)
	if t.Before(earliestStart) || !t.Before(latestStart) {
		fields.Add("starts_at", "must be between the years 2000 and 2199")
	}
	return t
}

func checkDuration(minutes int, fields *apperr.Fields) int {
	if minutes < MinDuration || minutes > MaxDuration {
		fields.Add("duration_minutes", fmt.Sprintf("must be %d to %d minutes", MinDuration, MaxDuration))
	}
	return minutes
}

func endOf(start time.Time, minutes int) time.Time {
	return start.Add(time.Duration(minutes) * time.Minute)
}
