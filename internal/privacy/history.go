package privacy

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
)

// Formats of the portable history.
const (
	HistoryFormat = "tandem-history/1"
	BundleFormat  = "tandem-history-bundle/1"
)

// HistoryGoal, HistoryStep and HistorySession are what travels of a
// client's record: nothing private to the coach.
type HistoryGoal struct {
	Title      string  `json:"title"`
	Why        string  `json:"why"`
	Status     string  `json:"status"`
	TargetDate *string `json:"target_date"`
}

// HistoryStep is an action step in a history.
type HistoryStep struct {
	Title       string     `json:"title"`
	Status      string     `json:"status"`
	DueDate     *string    `json:"due_date"`
	CompletedAt *time.Time `json:"completed_at"`
	Reflection  *string    `json:"reflection"`
}

// HistorySession is a session in a history: when, and its shared summary.
type HistorySession struct {
	StartsAt        time.Time `json:"starts_at"`
	DurationMinutes int       `json:"duration_minutes"`
	Status          string    `json:"status"`
	Summary         *string   `json:"summary"`
}

// History is the signed document (HistoryFormat).
type History struct {
	Format       string           `json:"format"`
	Issuer       string           `json:"issuer"`
	IssuedAt     time.Time        `json:"issued_at"`
	PracticeName string           `json:"practice_name"`
	Goals        []HistoryGoal    `json:"goals"`
	Steps        []HistoryStep    `json:"action_steps"`
	Sessions     []HistorySession `json:"sessions"`
}

// Bundle is a signed history (BundleFormat).
type Bundle struct {
	Format    string `json:"format"`
	Issuer    string `json:"issuer"`
	KeyID     string `json:"key_id"`
	Payload   string `json:"payload"`
	Signature string `json:"signature"`
}

// signedMessage is what a bundle's signature covers.
func signedMessage(payload []byte) []byte {
	return append([]byte(BundleFormat+"\n"), payload...)
}

// ErrNoBundleKeys answers when this instance has no key to sign with.
var ErrNoBundleKeys = apperr.New(apperr.NotFound, "This Tandem instance does not sign history bundles.")

// MaxBundlePayload is the longest payload a bundle may carry, base64url
// encoded: the import's limit (the spec's maxLength), so that every bundle
// issued can be imported.
const MaxBundlePayload = 10_000_000

// ErrHistoryTooLarge answers a history too large for one bundle.
var ErrHistoryTooLarge = &apperr.Error{Code: apperr.Conflict, Reason: "history_too_large",
	Message: "Your history is larger than one bundle can carry (10 MB); your data export holds all of it."}

// HistoryBundle returns the calling client's history, signed. It needs a
// fresh authentication, as an export does.
func (s *Service) HistoryBundle(ctx context.Context, a auth.Actor) (Bundle, error) {
	now := s.c.Clock.Now().UTC()
	if !a.IsClient() {
		return Bundle{}, ErrNotClient
	}
	if !a.FreshlyAuthenticated(now) {
		return Bundle{}, account.ErrStepUp
	}
	if len(s.c.BundleKeys) == 0 {
		return Bundle{}, ErrNoBundleKeys
	}
	h := History{Format: HistoryFormat, Issuer: s.c.BaseURL, IssuedAt: now,
		Goals: []HistoryGoal{}, Steps: []HistoryStep{}, Sessions: []HistorySession{}}
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		ref, err := clients.Visible(tx, a, a.ClientID)
		if err != nil {
			return err
		}
		args := []any{ref.PracticeID, ref.ID}
		if err := tx.Raw("SELECT name FROM practices WHERE id = ?", ref.PracticeID).Scan(&h.PracticeName).Error; err != nil {
			return err
		}
		if err := eachRow(tx, qGoals, args, func(g GoalItem) error {
			var target *string
			if g.TargetDate.Valid {
				t := g.TargetDate.String()
				target = &t
			}
			h.Goals = append(h.Goals, HistoryGoal{Title: g.Title, Why: g.Why, Status: g.Status, TargetDate: target})
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(tx, qSteps, args, func(st StepItem) error {
			var due *string
			if st.DueDate.Valid {
				d := st.DueDate.String()
				due = &d
			}
			h.Steps = append(h.Steps, HistoryStep{Title: st.Title, Status: st.Status, DueDate: due, CompletedAt: st.CompletedAt,
				Reflection: st.Reflection})
			return nil
		}); err != nil {
			return err
		}
		if err := eachRow(tx, qSessions, args, func(se SessionItem) error {
			h.Sessions = append(h.Sessions, HistorySession{StartsAt: se.StartsAt.UTC(), DurationMinutes: se.DurationMinutes,
				Status: se.Status, Summary: se.Summary})
			return nil
		}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: ref.PracticeID, Actor: a.UserID, Action: "history_bundle.issued",
			RecordType: "client", RecordID: ref.ID, At: now})
	})
	if err != nil {
		return Bundle{}, err
	}
	payload, err := json.Marshal(h)
	if err != nil {
		return Bundle{}, err
	}
	if base64.RawURLEncoding.EncodedLen(len(payload)) > MaxBundlePayload {
		return Bundle{}, ErrHistoryTooLarge
	}
	key := s.c.BundleKeys[0]
	return Bundle{Format: BundleFormat, Issuer: s.c.BaseURL, KeyID: key.ID,
		Payload:   base64.RawURLEncoding.EncodeToString(payload),
		Signature: base64.RawURLEncoding.EncodeToString(ed25519.Sign(key.Private, signedMessage(payload)))}, nil
}

// HistoryImport is an imported history, read-only.
type HistoryImport struct {
	ID         uuid.UUID
	ClientID   uuid.UUID
	Issuer     string
	KeyID      string
	ImportedAt time.Time
	History    History
}

type historyImportRow struct {
	ID            uuid.UUID
	PracticeID    uuid.UUID
	ClientID      uuid.UUID
	ImportedBy    uuid.UUID
	Issuer        string
	KeyID         string
	PracticeName  *string
	IssuedAt      time.Time
	Payload       string
	PayloadSHA256 string `gorm:"column:payload_sha256"`
	CreatedAt     time.Time
}

func (historyImportRow) TableName() string { return "history_imports" }

func toHistoryImport(r historyImportRow) (HistoryImport, error) {
	out := HistoryImport{ID: r.ID, ClientID: r.ClientID, Issuer: r.Issuer, KeyID: r.KeyID, ImportedAt: r.CreatedAt}
	return out, json.Unmarshal([]byte(r.Payload), &out.History)
}

// Refusals of imports.
var (
	ErrImportNotOwn   = apperr.New(apperr.Forbidden, "Only the client may import history into their record, or remove it.")
	ErrImportNotFound = apperr.New(apperr.NotFound, "Imported history not found.")
)

func badBundle(message string) error {
	return apperr.Validation(apperr.FieldError{Field: "signature", Message: message})
}

// verify checks a bundle's signature against this instance's keys and the
// trusted ones, and returns its history.
func (s *Service) verify(b Bundle) (History, []byte, error) {
	var pub ed25519.PublicKey
	for _, k := range s.c.BundleKeys {
		if k.ID == b.KeyID {
			pub = k.Private.Public().(ed25519.PublicKey)
		}
	}
	for _, k := range s.c.TrustedKeys {
		if pub == nil && k.ID == b.KeyID {
			pub = k.Public
		}
	}
	if pub == nil {
		return History{}, nil, badBundle("The bundle is signed with a key this Tandem instance does not trust; its operator can pin the issuer's key (TANDEM_HISTORY_TRUSTED_KEYS).")
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(b.Payload)
	sig, err2 := base64.RawURLEncoding.DecodeString(b.Signature)
	if err1 != nil || err2 != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, signedMessage(payload), sig) {
		return History{}, nil, badBundle("The signature does not verify: the bundle was altered, or not signed by its key.")
	}
	var h History
	if err := json.Unmarshal(payload, &h); err != nil || h.Format != HistoryFormat {
		return History{}, nil, badBundle("The signed payload is not a history document (" + HistoryFormat + ").")
	}
	return h, payload, nil
}

// ImportHistory stores a verified bundle as read-only history of the
// calling client's own record. Importing is the client's act alone: it is
// their consent to show that history to their coaches here.
func (s *Service) ImportHistory(ctx context.Context, a auth.Actor, clientID uuid.UUID, b Bundle) (HistoryImport, error) {
	now := s.c.Clock.Now().UTC()
	var out HistoryImport
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		ref, err := clients.Visible(tx, a, clientID)
		if err != nil {
			return err
		}
		if !a.IsClient() || a.ClientID != ref.ID {
			return ErrImportNotOwn
		}
		h, payload, err := s.verify(b)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(payload)
		row := historyImportRow{ID: uuid.Must(uuid.NewV7()), PracticeID: ref.PracticeID, ClientID: ref.ID, ImportedBy: a.UserID,
			Issuer: b.Issuer, KeyID: b.KeyID, IssuedAt: h.IssuedAt.UTC(), Payload: string(payload),
			PayloadSHA256: hex.EncodeToString(sum[:]), CreatedAt: now}
		if h.PracticeName != "" {
			row.PracticeName = &h.PracticeName
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if out, err = toHistoryImport(row); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: ref.PracticeID, Actor: a.UserID, Action: "history.imported",
			RecordType: "history_import", RecordID: row.ID, At: now})
	})
	return out, err
}

// HistoryImports lists a client's imported histories, newest first, for
// the client and the staff who see them.
func (s *Service) HistoryImports(ctx context.Context, a auth.Actor, clientID uuid.UUID) ([]HistoryImport, error) {
	db := s.c.Store.DB.WithContext(ctx)
	ref, err := clients.Visible(db, a, clientID)
	if err != nil {
		return nil, err
	}
	var rows []historyImportRow
	if err := db.Where("practice_id = ? AND client_id = ?", ref.PracticeID, ref.ID).Order("id DESC").Limit(1000).
		Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]HistoryImport, 0, len(rows))
	for _, r := range rows {
		h, err := toHistoryImport(r)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// DeleteHistoryImport removes an import; the client alone may.
func (s *Service) DeleteHistoryImport(ctx context.Context, a auth.Actor, clientID, importID uuid.UUID) error {
	now := s.c.Clock.Now().UTC()
	return s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		ref, err := clients.Visible(tx, a, clientID)
		if err != nil {
			return err
		}
		if !a.IsClient() || a.ClientID != ref.ID {
			return ErrImportNotOwn
		}
		res := tx.Exec("DELETE FROM history_imports WHERE practice_id = ? AND client_id = ? AND id = ?", ref.PracticeID, ref.ID, importID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrImportNotFound
		}
		return audit.Record(ctx, tx, audit.Entry{PracticeID: ref.PracticeID, Actor: a.UserID, Action: "history.removed",
			RecordType: "history_import", RecordID: importID, At: now})
	})
}
