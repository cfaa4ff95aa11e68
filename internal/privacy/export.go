package privacy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
)

// Export scopes: what an export covers.
const (
	// ScopeAccount is a user's own account, and for a client their own
	// record as they see it.
	ScopeAccount = "account"
	// ScopeClientSelf is a client's record as the client sees it.
	ScopeClientSelf = "client_self"
	// ScopeClientStaff is a client's record as their coach sees it: with
	// the sessions' private notes.
	ScopeClientStaff = "client_staff"
)

// Export states.
const (
	ExportPending    = "pending"
	ExportReady      = "ready"
	ExportDownloaded = "downloaded"
	ExportFailed     = "failed"
)

// Export is one export request and how far it is.
type Export struct {
	ID           uuid.UUID
	PracticeID   *uuid.UUID
	ClientID     *uuid.UUID
	RequestedBy  uuid.UUID
	Scope        string
	Status       string
	SizeBytes    *int64
	ExpiresAt    time.Time
	CreatedAt    time.Time
	ReadyAt      *time.Time
	DownloadedAt *time.Time
}

// exportRow is an exports row.
type exportRow struct {
	Export
	TokenHash []byte
}

func (exportRow) TableName() string { return "exports" }

// exportColumns are the columns of an Export (never the token hash).
var exportColumns = []string{"id", "practice_id", "client_id", "requested_by", "scope", "status", "size_bytes",
	"expires_at", "created_at", "ready_at", "downloaded_at"}

// KindBuildExport is the kind of the job that builds one export.
const KindBuildExport = "privacy_export"

// BuildExportArgs is the job that builds an export: which one, nothing more.
type BuildExportArgs struct {
	ExportID uuid.UUID `json:"export_id"`
}

// Kind names the job kind.
func (BuildExportArgs) Kind() string { return KindBuildExport }

// exportAttempts bounds the attempts at building one export; the last
// failure marks it failed.
const exportAttempts = 5

// InsertOpts bounds the attempts.
func (BuildExportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: exportAttempts}
}

// ExportsPerHour bounds the exports one person may ask for in an hour:
// each runs a job that reads a whole record.
const ExportsPerHour = 30

// DownloadPath is where a download link points, under the API's base path;
// the token follows it.
const DownloadPath = "/api/v1/export-downloads/"

// RequestExport starts an export, for a fresh authentication only: of the
// actor's own account (clientID nil), or of a client's record the actor
// may see. The job that builds it is inserted in the same transaction. It
// returns the export and the download token, which exists nowhere else.
func (s *Service) RequestExport(ctx context.Context, a auth.Actor, clientID *uuid.UUID) (Export, string, error) {
	now := s.c.Clock.Now()
	if !a.FreshlyAuthenticated(now) {
		return Export{}, "", account.ErrStepUp
	}
	token, hash := newToken()
	row := exportRow{Export: Export{ID: uuid.Must(uuid.NewV7()), RequestedBy: a.UserID, Status: ExportPending,
		ExpiresAt: now.Add(s.c.ExportTTL).UTC(), CreatedAt: now.UTC()}, TokenHash: hash}
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		var recent int64
		if err := tx.Table("exports").Where("requested_by = ? AND created_at > ?", a.UserID, now.Add(-time.Hour).UTC()).
			Count(&recent).Error; err != nil {
			return err
		}
		if recent >= ExportsPerHour {
			return &apperr.Error{Code: apperr.TooManyRequests, Reason: "export_limit", RetryAfter: time.Hour,
				Message: "You asked for many exports in the last hour; use one of those, or try again later."}
		}
		switch {
		case clientID != nil:
			ref, err := clients.Visible(tx, a, *clientID)
			if err != nil {
				return err
			}
			row.PracticeID, row.ClientID = &ref.PracticeID, &ref.ID
			row.Scope = ScopeClientSelf
			if a.IsStaff() {
				row.Scope = ScopeClientStaff
			}
		default:
			row.Scope = ScopeAccount
			if a.PracticeID != uuid.Nil {
				row.PracticeID = &a.PracticeID
			}
			if a.IsClient() {
				row.ClientID = &a.ClientID
			}
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := s.auditExport(ctx, tx, row.Export, "export.requested", now); err != nil {
			return err
		}
		_, err := s.c.Store.InsertJob(ctx, tx, BuildExportArgs{ExportID: row.ID}, nil)
		return err
	})
	if err != nil {
		return Export{}, "", err
	}
	return row.Export, token, nil
}

// auditExport records an export event in the practice the export is of;
// an export of an account of no practice has no practice log to go in.
func (s *Service) auditExport(ctx context.Context, tx *gorm.DB, e Export, action string, at time.Time) error {
	if e.PracticeID == nil {
		return nil
	}
	entry := audit.Entry{PracticeID: *e.PracticeID, Actor: e.RequestedBy, Action: action, RecordType: "user", RecordID: e.RequestedBy, At: at}
	if e.ClientID != nil {
		entry.RecordType, entry.RecordID = "client", *e.ClientID
	}
	return audit.Record(ctx, tx, entry)
}

// ErrExportNotFound answers for an export the actor did not ask for.
var ErrExportNotFound = apperr.New(apperr.NotFound, "Export not found.")

// ExportStatus returns an export the actor asked for.
func (s *Service) ExportStatus(ctx context.Context, a auth.Actor, id uuid.UUID) (Export, error) {
	var e Export
	err := s.c.Store.DB.WithContext(ctx).Table("exports").Select(exportColumns).
		Where("id = ? AND requested_by = ?", id, a.UserID).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Export{}, ErrExportNotFound
	}
	return e, err
}

// Refusals of a download link.
var (
	ErrLinkUnknown  = apperr.New(apperr.NotFound, "This download link is not valid.")
	ErrLinkNotReady = apperr.New(apperr.Conflict, "The export is still being built; try the same link again in a moment.")
	ErrLinkSpent    = apperr.New(apperr.Gone, "This download link was used already or has expired; ask for a new export.")
	ErrExportFailed = apperr.New(apperr.Gone, "This export could not be built; ask for a new one.")
)

// Download spends a download link and returns the export and a reader of
// its archive. The link is spent in its own transaction, before a byte is
// sent: a download cut off half-way needs a new export.
func (s *Service) Download(ctx context.Context, token string) (Export, *ArchiveReader, error) {
	hash, ok := tokenHash(token)
	if !ok {
		return Export{}, nil, ErrLinkUnknown
	}
	now := s.c.Clock.Now()
	var e Export
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		err := tx.Table("exports").Select(exportColumns).Where("token_hash = ?", hash).Take(&e).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrLinkUnknown
		}
		if err != nil {
			return err
		}
		switch {
		case e.Status == ExportDownloaded || !now.Before(e.ExpiresAt):
			return ErrLinkSpent
		case e.Status == ExportFailed:
			return ErrExportFailed
		case e.Status == ExportPending:
			return ErrLinkNotReady
		}
		res := tx.Table("exports").Where("id = ? AND status = ?", e.ID, ExportReady).
			Updates(map[string]any{"status": ExportDownloaded, "downloaded_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrLinkSpent // another request spent it first
		}
		e.Status, e.DownloadedAt = ExportDownloaded, &now
		return s.auditExport(ctx, tx, e, "export.downloaded", now)
	})
	if err != nil {
		return Export{}, nil, err
	}
	return e, newArchiveReader(ctx, s.c.Store, e.ID), nil
}

// CleanUpExports deletes the archives that can no longer be downloaded:
// downloaded over an hour ago, or expired. The export rows stay, without
// their archive, as a record that the export was made.
func (s *Service) CleanUpExports(ctx context.Context) error {
	now := s.c.Clock.Now().UTC()
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		stale := tx.Table("exports").Select("id").
			Where("(status = ? AND downloaded_at < ?) OR expires_at < ?", ExportDownloaded, now.Add(-time.Hour), now)
		return tx.Exec("DELETE FROM export_chunks WHERE export_id IN (?)", stale).Error
	})
}

// newToken returns a download token and its SHA-256, which is all the
// database keeps.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:]
}

func tokenHash(token string) ([]byte, bool) {
	if len(token) != 43 {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return nil, false
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:], true
}

// DownloadURL is the absolute download link of a token.
func (s *Service) DownloadURL(token string) string {
	return strings.TrimSuffix(s.c.BaseURL, "/") + DownloadPath + token
}
