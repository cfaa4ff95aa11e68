package sessions

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// The reads in this file serve a therapist under a client's consent. They
// take no actor: the consent module authorizes the read (consent.Check) in
// the same transaction tx and passes the client the consent names. Each
// selects only the columns its data class shares: never the location, the
// agenda or the private note.

// Attendance is a session as the session_attendance class shares it: when,
// how long, and whether it took place.
type Attendance struct {
	ID              uuid.UUID
	StartsAt        time.Time
	DurationMinutes int
	Status          string
}

type attendanceRow struct {
	ID              uuid.UUID
	StartsAt        time.Time
	DurationMinutes int
	Status          string
}

// SharedAttendance reads every session of the client by start time, in one
// query.
func SharedAttendance(tx *gorm.DB, practiceID, clientID uuid.UUID) ([]Attendance, error) {
	var rows []attendanceRow
	err := tx.Table("coaching_sessions").
		Select("coaching_sessions.id, coaching_sessions.starts_at, coaching_sessions.duration_minutes, coaching_sessions.status").
		Where("coaching_sessions.practice_id = ? AND coaching_sessions.client_id = ?", practiceID, clientID).
		Order("coaching_sessions.starts_at, coaching_sessions.id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Attendance, len(rows))
	for i, r := range rows {
		out[i] = Attendance{ID: r.ID, StartsAt: r.StartsAt.UTC(), DurationMinutes: r.DurationMinutes, Status: r.Status}
	}
	return out, nil
}

// Summary is the shared summary of a completed session, as the
// session_summaries class shares it.
type Summary struct {
	SessionID uuid.UUID
	StartsAt  time.Time
	Summary   string
}

type summaryRow struct {
	ID       uuid.UUID
	StartsAt time.Time
	Summary  string
}

// SharedSummaries reads the non-blank shared summaries of the client's
// completed sessions by start time, in one query.
func SharedSummaries(tx *gorm.DB, practiceID, clientID uuid.UUID) ([]Summary, error) {
	var rows []summaryRow
	err := tx.Table("coaching_sessions").
		Select("coaching_sessions.id, coaching_sessions.starts_at, coaching_sessions.summary").
		Where("coaching_sessions.practice_id = ? AND coaching_sessions.client_id = ?", practiceID, clientID).
		Where("coaching_sessions.status = ? AND coaching_sessions.summary IS NOT NULL AND TRIM(coaching_sessions.summary) <> ''",
			StatusCompleted).
		Order("coaching_sessions.starts_at, coaching_sessions.id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]Summary, len(rows))
	for i, r := range rows {
		out[i] = Summary{SessionID: r.ID, StartsAt: r.StartsAt.UTC(), Summary: r.Summary}
	}
	return out, nil
}
