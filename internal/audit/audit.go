// Package audit records who did what to which record, when and from where.
// Events are written in the same transaction as the change they describe and
// are append-only: the database rejects updates and deletes.
package audit

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/reqinfo"
)

// Event is one audit_events row.
type Event struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	PracticeID  uuid.UUID
	ActorUserID *uuid.UUID
	Action      string
	RecordType  string
	RecordID    *uuid.UUID
	IP          string
	RequestID   string
	CreatedAt   time.Time
}

// TableName is the audit table.
func (Event) TableName() string { return "audit_events" }

// Entry describes what happened. Never put note contents or secrets here.
type Entry struct {
	PracticeID uuid.UUID
	Actor      uuid.UUID // uuid.Nil for the system
	Action     string    // e.g. "practice.updated"
	RecordType string
	RecordID   uuid.UUID
	At         time.Time
}

// Record writes the entry in tx, adding the request's IP and ID from ctx.
func Record(ctx context.Context, tx *gorm.DB, e Entry) error {
	info := reqinfo.From(ctx)
	ev := Event{
		ID:         uuid.Must(uuid.NewV7()),
		PracticeID: e.PracticeID,
		Action:     e.Action,
		RecordType: e.RecordType,
		IP:         info.IP,
		RequestID:  info.RequestID,
		CreatedAt:  e.At.UTC(),
	}
	if e.Actor != uuid.Nil {
		ev.ActorUserID = &e.Actor
	}
	if e.RecordID != uuid.Nil {
		ev.RecordID = &e.RecordID
	}
	return tx.WithContext(ctx).Create(&ev).Error
}
