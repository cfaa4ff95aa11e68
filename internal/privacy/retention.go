package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/patch"
	"github.com/tandem-coach/tandem/internal/store"
)

// Retention defaults: archived clients' records are erased seven years
// after archiving; disclosures and audit events are kept six years (the
// documentation retention HIPAA asks of covered entities).
const (
	DefaultArchivedClientYears = 7
	DefaultLogYears            = 6
)

// Retention is a practice's retention settings and what the retention
// task last did.
type Retention struct {
	// ArchivedClientYears: an archived client's record is erased this many
	// years after archiving; nil keeps it until erased on request.
	ArchivedClientYears *int
	// LogYears: disclosures and audit events older than this are deleted.
	LogYears  int
	Version   int64 // 0: the defaults, never changed
	UpdatedAt *time.Time
	LastRunAt *time.Time
	LastRun   *RetentionRun
}

// RetentionRun is what one run of the retention task did in a practice.
type RetentionRun struct {
	ClientsErased      int64 `json:"clients_erased"`
	InvitationsPurged  int64 `json:"invitations_purged"`
	DisclosuresDeleted int64 `json:"disclosures_deleted"`
	AuditEventsDeleted int64 `json:"audit_events_deleted"`
}

// ETag is the settings' entity tag: their version and the last run.
func (r Retention) ETag() string {
	last := ""
	if r.LastRunAt != nil {
		last = r.LastRunAt.UTC().Format(time.RFC3339Nano)
	}
	return store.ETag(r.Version, last)
}

type retentionRow struct {
	PracticeID          uuid.UUID `gorm:"primaryKey"`
	ArchivedClientYears *int
	LogYears            int
	Version             int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
	LastRunAt           *time.Time
	LastRunSummary      *string
}

func (retentionRow) TableName() string { return "retention_settings" }

func toRetention(r retentionRow) Retention {
	out := Retention{ArchivedClientYears: r.ArchivedClientYears, LogYears: r.LogYears, Version: r.Version, LastRunAt: r.LastRunAt}
	if r.Version > 0 {
		out.UpdatedAt = &r.UpdatedAt
	}
	if r.LastRunSummary != nil {
		var run RetentionRun
		if json.Unmarshal([]byte(*r.LastRunSummary), &run) == nil {
			out.LastRun = &run
		}
	}
	return out
}

func loadRetention(tx *gorm.DB, practiceID uuid.UUID) (retentionRow, error) {
	var r retentionRow
	err := tx.Where("practice_id = ?", practiceID).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		years := DefaultArchivedClientYears
		return retentionRow{PracticeID: practiceID, ArchivedClientYears: &years, LogYears: DefaultLogYears}, nil
	}
	return r, err
}

// RetentionSettings returns the actor's practice's settings (owner only:
// the route's rule).
func (s *Service) RetentionSettings(ctx context.Context, a auth.Actor) (Retention, error) {
	r, err := loadRetention(s.c.Store.DB.WithContext(ctx), a.PracticeID)
	return toRetention(r), err
}

// RetentionChange is a change to the settings.
type RetentionChange struct {
	ArchivedClientYears patch.Field[int] // Value nil: never
	LogYears            patch.Field[int]
	IfMatch             *string
}

// UpdateRetention changes the actor's practice's settings.
func (s *Service) UpdateRetention(ctx context.Context, a auth.Actor, c RetentionChange) (Retention, error) {
	var fields apperr.Fields
	if v := c.ArchivedClientYears.Value; c.ArchivedClientYears.Set && v != nil && (*v < 1 || *v > 50) {
		fields.Add("archived_client_years", "must be between 1 and 50, or null to keep archived records until erased on request")
	}
	if c.LogYears.Set && (c.LogYears.Value == nil || *c.LogYears.Value < 1 || *c.LogYears.Value > 100) {
		fields.Add("log_years", "must be between 1 and 100")
	}
	if err := fields.Err(); err != nil {
		return Retention{}, err
	}
	now := s.c.Clock.Now().UTC()
	var out Retention
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := loadRetention(tx, a.PracticeID)
		if err != nil {
			return err
		}
		if err := store.CheckIfMatch(c.IfMatch, toRetention(cur).ETag()); err != nil {
			return err
		}
		next := cur
		if c.ArchivedClientYears.Set {
			next.ArchivedClientYears = c.ArchivedClientYears.Value
		}
		if c.LogYears.Set {
			next.LogYears = *c.LogYears.Value
		}
		next.Version, next.UpdatedAt = cur.Version+1, now
		if cur.CreatedAt.IsZero() {
			next.CreatedAt = now
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&next)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return store.ErrStale
			}
		} else {
			res := tx.Model(&retentionRow{}).Where("practice_id = ? AND version = ?", a.PracticeID, cur.Version).
				Updates(map[string]any{"archived_client_years": next.ArchivedClientYears, "log_years": next.LogYears,
					"version": next.Version, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return store.ErrStale
			}
		}
		out = toRetention(next)
		return audit.Record(ctx, tx, audit.Entry{PracticeID: a.PracticeID, Actor: a.UserID, Action: "retention.updated",
			RecordType: "practice", RecordID: a.PracticeID, At: now})
	})
	return out, err
}

// ApplyRetention runs the retention rules: in every practice, archived
// clients' records past their retention are erased (each in its own
// transaction, as an erasure request would), expired invitations are
// purged, and disclosures and audit events older than the practice keeps
// them are deleted; across the service, expired sign-in sessions and
// one-time tokens are purged. What it did is logged and kept for the owner.
func (s *Service) ApplyRetention(ctx context.Context) error {
	now := s.c.Clock.Now().UTC()
	if err := s.purgeExpiredSessions(ctx, now); err != nil {
		return err
	}
	var practices []uuid.UUID
	if err := s.c.Store.DB.WithContext(ctx).Table("practices").Order("id").Pluck("id", &practices).Error; err != nil {
		return err
	}
	var errs []error
	for _, p := range practices {
		if err := s.applyRetention(ctx, p, now); err != nil {
			s.c.Log.WarnContext(ctx, "retention failed", slog.String("practice_id", p.String()), slog.String("error", err.Error()))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Service) applyRetention(ctx context.Context, practiceID uuid.UUID, now time.Time) error {
	db := s.c.Store.DB.WithContext(ctx)
	settings, err := loadRetention(db, practiceID)
	if err != nil {
		return err
	}
	var run RetentionRun
	if y := settings.ArchivedClientYears; y != nil {
		var due []uuid.UUID
		if err := db.Table("clients").Where("practice_id = ? AND status = 'archived' AND erased_at IS NULL AND archived_at < ?",
			practiceID, now.AddDate(-*y, 0, 0)).Order("id").Limit(500).Pluck("id", &due).Error; err != nil {
			return err
		}
		for _, clientID := range due {
			err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
				if err := tx.Table("erasure_requests").Where("practice_id = ? AND client_id = ? AND status = ?", practiceID, clientID, ErasurePending).
					Updates(map[string]any{"status": ErasureDone, "executed_at": now}).Error; err != nil {
					return err
				}
				return s.erase(ctx, tx, practiceID, clientID, now)
			})
			if err != nil {
				return fmt.Errorf("erase archived client %s: %w", clientID, err)
			}
			run.ClientsErased++
		}
	}
	logCutoff := now.AddDate(-settings.LogYears, 0, 0)
	err = s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		purge := uuid.Must(uuid.NewV7())
		if err := tx.Exec("INSERT INTO privacy_purges (id, reason) VALUES (?, 'retention')", purge).Error; err != nil {
			return err
		}
		for _, q := range []struct {
			n     *int64
			sql   string
			args  []any
			count bool
		}{
			{&run.InvitationsPurged, "DELETE FROM invitations WHERE practice_id = ? AND accepted_at IS NULL AND expires_at < ?", []any{practiceID, now}, true},
			{&run.InvitationsPurged, "DELETE FROM client_invitations WHERE practice_id = ? AND accepted_at IS NULL AND expires_at < ?", []any{practiceID, now}, true},
			{&run.DisclosuresDeleted, "DELETE FROM disclosures WHERE practice_id = ? AND created_at < ?", []any{practiceID, logCutoff}, true},
			{&run.AuditEventsDeleted, "DELETE FROM audit_events WHERE practice_id = ? AND created_at < ?", []any{practiceID, logCutoff}, true},
		} {
			res := tx.Exec(q.sql, q.args...)
			if res.Error != nil {
				return fmt.Errorf("retention: %w", res.Error)
			}
			*q.n += res.RowsAffected
		}
		if err := tx.Exec("DELETE FROM privacy_purges WHERE id = ?", purge).Error; err != nil {
			return err
		}
		summary, err := json.Marshal(run)
		if err != nil {
			return err
		}
		text := string(summary)
		row := retentionRow{PracticeID: practiceID, ArchivedClientYears: settings.ArchivedClientYears, LogYears: settings.LogYears,
			CreatedAt: now, UpdatedAt: now, LastRunAt: &now, LastRunSummary: &text}
		return tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "practice_id"}},
			DoUpdates: clause.Assignments(map[string]any{"last_run_at": now, "last_run_summary": text})}).Create(&row).Error
	})
	if err != nil {
		return err
	}
	s.c.Log.InfoContext(ctx, "retention applied", slog.String("practice_id", practiceID.String()),
		slog.Int64("clients_erased", run.ClientsErased), slog.Int64("invitations_purged", run.InvitationsPurged),
		slog.Int64("disclosures_deleted", run.DisclosuresDeleted), slog.Int64("audit_events_deleted", run.AuditEventsDeleted),
		slog.String("log_years", strconv.Itoa(settings.LogYears)))
	return nil
}

// purgeExpiredSessions deletes sign-in sessions (and their refresh
// tokens) a day after they expired, and one-time tokens and MFA
// challenges past their expiry.
func (s *Service) purgeExpiredSessions(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-24 * time.Hour)
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		expired := tx.Table("auth_sessions").Select("id").Where("expires_at < ?", cutoff)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"DELETE FROM refresh_tokens WHERE session_id IN (?)", []any{expired}},
			{"DELETE FROM auth_sessions WHERE expires_at < ?", []any{cutoff}},
			{"DELETE FROM email_tokens WHERE expires_at < ?", []any{cutoff}},
			{"DELETE FROM mfa_challenges WHERE expires_at < ?", []any{cutoff}},
		} {
			if err := tx.Exec(q.sql, q.args...).Error; err != nil {
				return fmt.Errorf("purge expired sessions: %w", err)
			}
		}
		return nil
	})
}
