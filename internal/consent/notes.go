package consent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/audit"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/input"
	"github.com/tandem-coach/tandem/internal/page"
)

// MaxNoteChars is the longest coordination note.
const MaxNoteChars = 20000

// Authors of coordination notes.
const (
	AuthorOwner     = "owner"
	AuthorCoach     = "coach"
	AuthorTherapist = "therapist"
)

// CoordinationNote is a message between a client's coaches and one of the
// client's consented therapists. Every note is on the thread of one
// therapist, reached through the consent it was written under: a therapist
// reads only their own thread, so nothing one therapist writes reaches
// another.
type CoordinationNote struct {
	ID            uuid.UUID
	ClientID      uuid.UUID
	TherapistID   uuid.UUID
	TherapistName string // as the client named them in the consent
	AuthorID      uuid.UUID
	AuthorName    string
	AuthorRole    string
	Body          string
	CreatedAt     time.Time
}

// NewCoordinationNote is a note to write. TherapistID names the thread a
// coach writes on; it may be left out when one therapist coordinates.
type NewCoordinationNote struct {
	Body        string
	TherapistID *uuid.UUID
}

var (
	errClientReadsThread = apperr.New(apperr.Forbidden,
		"Your coach and your therapist write in this thread; you can read it.")
	errNobodyToCoordinate = apperr.New(apperr.Conflict,
		"No therapist has an active consent with coordination notes for this client, so there is nobody to coordinate with.")
)

// noteAdditionalData binds a note's ciphertext to its row: moved to another
// row, it no longer opens.
func noteAdditionalData(id uuid.UUID) []byte { return id[:] }

// CoordinationNotes lists a client's coordination notes, oldest first. The
// client and the staff who see the client read every thread. A therapist
// reads their own thread while a consent with coordination_notes is active,
// checked in the transaction of the read, and the read is disclosed to the
// client. Anyone else gets 404.
func (s *Service) CoordinationNotes(ctx context.Context, a auth.Actor, clientID uuid.UUID, pr page.Request) ([]CoordinationNote, *string, error) {
	var out []CoordinationNote
	var next *string
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		ref, err := clients.Visible(tx, a, clientID)
		if err == nil {
			out, next, err = s.readNotes(tx, ref.PracticeID, ref.ID, uuid.Nil, pr)
			return err
		}
		if !errors.Is(err, clients.ErrNotFound) {
			return err
		}
		now := s.c.Clock.Now().UTC()
		g, err := Check(tx, a.UserID, clientID, CoordinationNotes, now)
		if err != nil {
			return err
		}
		if out, next, err = s.readNotes(tx, g.PracticeID, g.ClientID, a.UserID, pr); err != nil {
			return err
		}
		return disclose(ctx, tx, a.UserID, g, Classes{CoordinationNotes}, now)
	})
	return out, next, err
}

type noteListRow struct {
	ID              uuid.UUID
	ClientID        uuid.UUID
	AuthorUserID    uuid.UUID
	AuthorName      string
	AuthorRole      string
	TherapistUserID uuid.UUID
	TherapistName   string
	BodyCiphertext  []byte
	BodyKeyID       string
	CreatedAt       time.Time
}

// readNotes reads one page of the client's notes, only therapist's thread
// unless therapist is uuid.Nil, with their authors and threads in one query.
func (s *Service) readNotes(tx *gorm.DB, practiceID, clientID, therapist uuid.UUID, pr page.Request) ([]CoordinationNote, *string, error) {
	q := tx.Table("coordination_notes").
		Select("coordination_notes.id, coordination_notes.client_id, coordination_notes.author_user_id, "+
			"users.name AS author_name, coordination_notes.author_role, consents.therapist_user_id, consents.therapist_name, "+
			"coordination_notes.body_ciphertext, coordination_notes.body_key_id, coordination_notes.created_at").
		Joins("JOIN users ON users.id = coordination_notes.author_user_id").
		// Every note is written under a consent: its thread.
		Joins("JOIN consents ON consents.practice_id = coordination_notes.practice_id AND consents.id = coordination_notes.consent_id").
		Where("coordination_notes.practice_id = ? AND coordination_notes.client_id = ?", practiceID, clientID)
	if therapist != uuid.Nil {
		q = q.Where("consents.therapist_user_id = ?", therapist)
	}
	if pr.After != uuid.Nil {
		q = q.Where("coordination_notes.id > ?", pr.After)
	}
	var rows []noteListRow
	if err := q.Order("coordination_notes.id").Limit(pr.Limit + 1).Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	rows, next := page.Trim(rows, pr.Limit, func(r noteListRow) uuid.UUID { return r.ID })
	out := make([]CoordinationNote, len(rows))
	for i, r := range rows {
		body, err := s.c.Notes.Open(r.BodyKeyID, r.BodyCiphertext, noteAdditionalData(r.ID))
		if err != nil {
			return nil, nil, fmt.Errorf("open coordination note %s: %w", r.ID, err)
		}
		out[i] = CoordinationNote{ID: r.ID, ClientID: r.ClientID, TherapistID: r.TherapistUserID, TherapistName: r.TherapistName,
			AuthorID: r.AuthorUserID, AuthorName: r.AuthorName, AuthorRole: r.AuthorRole, Body: string(body),
			CreatedAt: r.CreatedAt.UTC()}
	}
	return out, next, nil
}

// thread is where a note goes: the practice, the consent it is written
// under, and the therapist that consent names.
type thread struct {
	PracticeID    uuid.UUID
	ConsentID     uuid.UUID
	TherapistID   uuid.UUID
	TherapistName string
}

// PostCoordinationNote writes a note, sealed at rest. A coach who sees the
// client writes on the thread of a therapist whose active consent includes
// coordination_notes (409 when there is none); the therapist writes on
// their own while theirs is active (403 with the reason otherwise); the
// client reads but does not write (403); anyone else gets 404.
func (s *Service) PostCoordinationNote(ctx context.Context, a auth.Actor, clientID uuid.UUID, in NewCoordinationNote) (CoordinationNote, error) {
	var fields apperr.Fields
	body := input.Text(in.Body, "body", MaxNoteChars, &fields)
	if err := fields.Err(); err != nil {
		return CoordinationNote{}, err
	}
	var out CoordinationNote
	err := s.c.Store.Tx(ctx, func(tx *gorm.DB) error {
		now := s.c.Clock.Now().UTC()
		th, role, err := noteThread(tx, a, clientID, in.TherapistID, now)
		// Microseconds: what PostgreSQL keeps, so the answer matches later reads.
		now = now.Truncate(time.Microsecond)
		if err != nil {
			return err
		}
		var authorName string
		if err := tx.Table("users").Where("id = ?", a.UserID).Pluck("name", &authorName).Error; err != nil {
			return err
		}
		row := noteRow{ID: newID(), PracticeID: th.PracticeID, ClientID: clientID, AuthorUserID: a.UserID,
			AuthorRole: role, ConsentID: &th.ConsentID, CreatedAt: now}
		row.BodyKeyID, row.BodyCiphertext = s.c.Notes.Seal([]byte(body), noteAdditionalData(row.ID))
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out = CoordinationNote{ID: row.ID, ClientID: clientID, TherapistID: th.TherapistID, TherapistName: th.TherapistName,
			AuthorID: a.UserID, AuthorName: authorName, AuthorRole: role, Body: body, CreatedAt: now}
		// The audit event says that a note was written, never what it says.
		return audit.Record(ctx, tx, audit.Entry{PracticeID: th.PracticeID, Actor: a.UserID,
			Action: "coordination_note.written", RecordType: "coordination_note", RecordID: row.ID, At: now})
	})
	return out, err
}

// noteThread decides, in tx, whether the actor may write on the client's
// coordination notes, on which thread and as whom.
func noteThread(tx *gorm.DB, a auth.Actor, clientID uuid.UUID, therapistID *uuid.UUID, now time.Time) (thread, string, error) {
	ref, err := clients.Visible(tx, a, clientID)
	switch {
	case err == nil && !a.IsStaff():
		return thread{}, "", errClientReadsThread
	case err == nil:
		th, err := staffThread(tx, ref, therapistID, now)
		role := AuthorCoach
		if a.Has(auth.RoleOwner) {
			role = AuthorOwner
		}
		return th, role, err
	case !errors.Is(err, clients.ErrNotFound):
		return thread{}, "", err
	}
	g, err := Check(tx, a.UserID, clientID, CoordinationNotes, now)
	if err != nil {
		return thread{}, "", err
	}
	if therapistID != nil && *therapistID != a.UserID {
		return thread{}, "", apperr.Validation(apperr.FieldError{Field: "therapist_id",
			Message: "a therapist writes on their own thread; leave it out"})
	}
	var name string
	if err := tx.Table("consents").Where("practice_id = ? AND id = ?", g.PracticeID, g.ConsentID).
		Pluck("therapist_name", &name).Error; err != nil {
		return thread{}, "", err
	}
	return thread{PracticeID: g.PracticeID, ConsentID: g.ConsentID, TherapistID: a.UserID, TherapistName: name},
		AuthorTherapist, nil
}

// staffThread finds the thread a coach writes on: the newest active consent
// with coordination_notes of the named therapist, or of the only therapist
// who has one.
func staffThread(tx *gorm.DB, ref clients.Ref, therapistID *uuid.UUID, now time.Time) (thread, error) {
	var rows []consentRow
	if err := tx.Where("practice_id = ? AND client_id = ? AND status = ? AND therapist_user_id IS NOT NULL",
		ref.PracticeID, ref.ID, StatusActive).Order("signed_at DESC, id DESC").Find(&rows).Error; err != nil {
		return thread{}, err
	}
	var threads []thread
	seen := map[uuid.UUID]bool{}
	for _, r := range rows {
		if effectiveStatus(r, now) != StatusActive || !decodeClasses(r.DataClasses).Has(CoordinationNotes) || seen[*r.TherapistUserID] {
			continue
		}
		seen[*r.TherapistUserID] = true
		threads = append(threads, thread{PracticeID: r.PracticeID, ConsentID: r.ID, TherapistID: *r.TherapistUserID,
			TherapistName: r.TherapistName})
	}
	if therapistID != nil {
		for _, th := range threads {
			if th.TherapistID == *therapistID {
				return th, nil
			}
		}
		return thread{}, apperr.New(apperr.Conflict,
			"This therapist has no active consent with coordination notes for this client, so there is nobody to coordinate with.")
	}
	switch len(threads) {
	case 0:
		return thread{}, errNobodyToCoordinate
	case 1:
		return threads[0], nil
	}
	return thread{}, apperr.Validation(apperr.FieldError{Field: "therapist_id",
		Message: "several therapists coordinate on this client; name the one you write to"})
}
