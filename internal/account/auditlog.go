package account

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/page"
)

// AuditEvent is one entry of the practice's audit log as the owner reads
// it: what happened to which record, when, from where, and who did it as
// they are known now. Audit events hold no content, so neither does this.
type AuditEvent struct {
	ID         uuid.UUID
	CreatedAt  time.Time
	Action     string
	RecordType string
	RecordID   *uuid.UUID
	Actor      *AuditActor // nil: Tandem itself
	IP         string
	RequestID  string
}

// AuditActor is the user behind an audit event. Name is nil when the
// account is gone; Role is their relationship to the practice now (owner,
// coach, client or therapist), nil when none is left.
type AuditActor struct {
	UserID uuid.UUID
	Name   *string
	Role   *string
}

// AuditFilter narrows the audit log; nil fields do not.
type AuditFilter struct {
	Action      *string
	RecordType  *string
	ActorUserID *uuid.UUID
	Since       *time.Time // inclusive
	Until       *time.Time // exclusive
}

// ErrAuditOwnerOnly answers an audit log asked for by anyone but the owner.
var ErrAuditOwnerOnly = apperr.New(apperr.Forbidden, "Only the practice owner reads the audit log.")

// auditRoleSQL is the actor's relationship to the event's practice now.
const auditRoleSQL = `COALESCE(m.role,
	CASE WHEN EXISTS (SELECT 1 FROM clients c WHERE c.practice_id = e.practice_id AND c.user_id = e.actor_user_id) THEN 'client'
	     WHEN EXISTS (SELECT 1 FROM consents k WHERE k.practice_id = e.practice_id AND k.therapist_user_id = e.actor_user_id) THEN 'therapist'
	END)`

// AuditEvents returns one page of the owner's practice's audit log, newest
// first, in one query.
func (s *Service) AuditEvents(ctx context.Context, a auth.Actor, f AuditFilter, pr page.Request) ([]AuditEvent, *string, error) {
	pid, err := requirePractice(a)
	if err != nil {
		return nil, nil, err
	}
	if !a.Has(auth.RoleOwner) {
		return nil, nil, ErrAuditOwnerOnly
	}
	if f.Since != nil && f.Until != nil && !f.Until.After(*f.Since) {
		var fields apperr.Fields
		fields.Add("until", "must be after since")
		return nil, nil, fields.Err()
	}
	q := s.db.DB.WithContext(ctx).Table("audit_events AS e").
		Select("e.id, e.created_at, e.action, e.record_type, e.record_id, e.actor_user_id, e.ip, e.request_id, "+
			"u.name AS actor_name, "+auditRoleSQL+" AS actor_role").
		Joins("LEFT JOIN users u ON u.id = e.actor_user_id").
		Joins("LEFT JOIN memberships m ON m.practice_id = e.practice_id AND m.user_id = e.actor_user_id").
		Where("e.practice_id = ?", pid)
	if f.Action != nil {
		q = q.Where("e.action = ?", *f.Action)
	}
	if f.RecordType != nil {
		q = q.Where("e.record_type = ?", *f.RecordType)
	}
	if f.ActorUserID != nil {
		q = q.Where("e.actor_user_id = ?", *f.ActorUserID)
	}
	if f.Since != nil {
		q = q.Where("e.created_at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("e.created_at < ?", f.Until.UTC())
	}
	if pr.After != uuid.Nil {
		q = q.Where("e.id < ?", pr.After)
	}
	type row struct {
		ID          uuid.UUID
		CreatedAt   time.Time
		Action      string
		RecordType  string
		RecordID    *uuid.UUID
		ActorUserID *uuid.UUID
		IP          string
		RequestID   string
		ActorName   *string
		ActorRole   *string
	}
	var rows []row
	if err := q.Order("e.id DESC").Limit(pr.Limit + 1).Scan(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r row) uuid.UUID { return r.ID })
	out := make([]AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = AuditEvent{ID: r.ID, CreatedAt: r.CreatedAt.UTC(), Action: r.Action, RecordType: r.RecordType, RecordID: r.RecordID,
			IP: r.IP, RequestID: r.RequestID}
		if r.ActorUserID != nil {
			out[i].Actor = &AuditActor{UserID: *r.ActorUserID, Name: r.ActorName, Role: r.ActorRole}
		}
	}
	return out, next, nil
}
