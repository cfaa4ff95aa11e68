package sessions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
)

// PrivateNote is the coach's private note on a session. Body is empty and
// UpdatedAt nil when none was written.
type PrivateNote struct {
	Body      string
	UpdatedAt *time.Time
}

// errNoteForbidden answers anyone who sees the session but is neither its
// coach nor the practice owner — the client above all.
var errNoteForbidden = apperr.New(apperr.Forbidden, "Only the session's coach and the practice owner may read or write its private note.")

// noteRow is the part of a session a private-note operation needs.
type noteRow struct {
	ID                    uuid.UUID
	CoachID               uuid.UUID
	PrivateNoteCiphertext []byte
	PrivateNoteKeyID      *string
	PrivateNoteUpdatedAt  *time.Time
}

// noteAccess loads the session's note columns for an actor who may read its
// note: 404 when the session is invisible to them, 403 when it is visible
// but the note is not theirs (a client; a coach who took the client over
// does not inherit the previous coach's notes).
func noteAccess(db *gorm.DB, a auth.Actor, id uuid.UUID) (noteRow, error) {
	var r noteRow
	err := visible(db, a).Select("coaching_sessions.id, coaching_sessions.coach_id, coaching_sessions.private_note_ciphertext, "+
		"coaching_sessions.private_note_key_id, coaching_sessions.private_note_updated_at").
		Where("coaching_sessions.id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return noteRow{}, ErrNotFound
	}
	if err != nil {
		return noteRow{}, err
	}
	if !a.Has(auth.RoleOwner) && !(a.Has(auth.RoleCoach) && r.CoachID == a.UserID) {
		return noteRow{}, errNoteForbidden
	}
	return r, nil
}

// noteAdditionalData binds a note's ciphertext to its session: moved to
// another row, it no longer opens.
func noteAdditionalData(sessionID uuid.UUID) []byte { return sessionID[:] }

// PrivateNote returns the session's private note.
func (s *Service) PrivateNote(ctx context.Context, a auth.Actor, id uuid.UUID) (PrivateNote, error) {
	r, err := noteAccess(s.c.Store.DB.WithContext(ctx), a, id)
	if err != nil {
		return PrivateNote{}, err
	}
	if r.PrivateNoteCiphertext == nil || r.PrivateNoteKeyID == nil {
		return PrivateNote{UpdatedAt: utc(r.PrivateNoteUpdatedAt)}, nil
	}
	plain, err := s.c.Notes.Open(*r.PrivateNoteKeyID, r.PrivateNoteCiphertext, noteAdditionalData(r.ID))
	if err != nil {
		return PrivateNote{}, fmt.Errorf("open private note of session %s: %w", r.ID, err)
	}
	return PrivateNote{Body: string(plain), UpdatedAt: utc(r.PrivateNoteUpdatedAt)}, nil
}

// WritePrivateNote replaces the session's private note, sealed with the
// note key; a blank body removes it. The audit event says that the note was
// written, never what it says.
func (s *Service) WritePrivateNote(ctx context.Context, a auth.Actor, id uuid.UUID, body string) (PrivateNote, error) {
	if !utf8.ValidString(body) || utf8.RuneCountInString(body) > maxNoteChars {
		return PrivateNote{}, apperr.Validation(apperr.FieldError{Field: "body", Message: fmt.Sprintf("must be at most %d characters", maxNoteChars)})
	}
	var out PrivateNote
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		r, err := noteAccess(tx, a, id)
		if err != nil {
			return err
		}
		// Microseconds: what PostgreSQL keeps, so the answer matches later reads.
		now := s.c.Clock.Now().Truncate(time.Microsecond)
		// The note is not part of the session's representation, so writing
		// it leaves the session's version (its ETag) and updated_at alone:
		// a client reading the session cannot tell that a note was written.
		set := map[string]any{"private_note_ciphertext": nil, "private_note_key_id": nil, "private_note_updated_at": now}
		if strings.TrimSpace(body) != "" {
			keyID, sealed := s.c.Notes.Seal([]byte(body), noteAdditionalData(r.ID))
			set["private_note_ciphertext"], set["private_note_key_id"] = sealed, keyID
			out.Body = body
		}
		if err := tx.Model(&sessionRow{}).Where("practice_id = ? AND id = ?", a.PracticeID, r.ID).UpdateColumns(set).Error; err != nil {
			return err
		}
		out.UpdatedAt = &now
		return s.audit(ctx, tx, a, "session.private_note_written", r.ID, now)
	})
	return out, err
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
