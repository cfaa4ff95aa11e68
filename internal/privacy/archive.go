package privacy

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"html"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"gorm.io/gorm"
)

// exportWorker builds exports.
type exportWorker struct {
	river.WorkerDefaults[BuildExportArgs]
	s *Service
}

// ExportTimeout bounds one attempt at building an export; a very large
// record takes a while. The job queue's rescue window must exceed it.
const ExportTimeout = 30 * time.Minute

// Timeout bounds one attempt.
func (w *exportWorker) Timeout(*river.Job[BuildExportArgs]) time.Duration { return ExportTimeout }

// Work builds the export; after the last failed attempt it is marked failed.
func (w *exportWorker) Work(ctx context.Context, job *river.Job[BuildExportArgs]) error {
	err := w.s.BuildExport(ctx, job.Args.ExportID)
	if err != nil && job.Attempt >= exportAttempts {
		w.s.c.Log.WarnContext(ctx, "export failed", slog.String("export_id", job.Args.ExportID.String()), slog.String("error", err.Error()))
		_ = w.s.c.Store.DB.WithContext(ctx).Table("exports").Where("id = ? AND status = ?", job.Args.ExportID, ExportPending).
			Update("status", ExportFailed).Error
	}
	return err
}

// BuildExport writes the export's archive to the database, piece by piece,
// and marks it ready. It may run again for the same export: it starts by
// deleting what an earlier attempt left.
func (s *Service) BuildExport(ctx context.Context, id uuid.UUID) error {
	db := s.c.Store.DB.WithContext(ctx)
	var e Export
	err := db.Table("exports").Select(exportColumns).Where("id = ?", id).Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // erased meanwhile, with the record it was of
	}
	if err != nil {
		return fmt.Errorf("load export: %w", err)
	}
	if e.Status != ExportPending {
		return nil // built already, or given up
	}
	if err := db.Exec("DELETE FROM export_chunks WHERE export_id = ?", id).Error; err != nil {
		return err
	}
	cw := newChunkWriter(ctx, s.c.Store, id)
	if err := s.WriteArchive(ctx, cw, e); err != nil {
		return err
	}
	if err := cw.Close(); err != nil {
		return err
	}
	return db.Table("exports").Where("id = ? AND status = ?", id, ExportPending).
		Updates(map[string]any{"status": ExportReady, "ready_at": s.c.Clock.Now().UTC(), "size_bytes": cw.size}).Error
}

// WriteArchive writes the ZIP of export e to w, streaming: every record
// type is read row by row and written as it is read, so memory stays
// bounded however large the record.
func (s *Service) WriteArchive(ctx context.Context, w io.Writer, e Export) error {
	ar := &archive{s: s, db: s.c.Store.DB.WithContext(ctx), zw: zip.NewWriter(w), e: e}
	if err := ar.write(); err != nil {
		return err
	}
	return ar.zw.Close()
}

// archive is one ZIP being written.
type archive struct {
	s     *Service
	db    *gorm.DB
	zw    *zip.Writer
	e     Export
	files []ManifestFile
}

func (ar *archive) write() error {
	e := ar.e
	if e.Scope == ScopeAccount {
		if err := ar.account(); err != nil {
			return err
		}
	}
	if e.ClientID != nil && e.PracticeID != nil {
		if err := ar.client(*e.PracticeID, *e.ClientID, e.Scope == ScopeClientStaff); err != nil {
			return err
		}
	}
	m := Manifest{Format: FormatVersion, Instance: ar.s.c.BaseURL, ExportID: e.ID, Scope: e.Scope, ClientID: e.ClientID,
		GeneratedAt: ar.s.c.Clock.Now().UTC(), Files: ar.files}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	f, err := ar.zw.Create("manifest.json")
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	return err
}

// file adds a file to the archive, recording its digest for the manifest.
func (ar *archive) file(name string, write func(w io.Writer) error) error {
	f, err := ar.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: ar.s.c.Clock.Now().UTC()})
	if err != nil {
		return err
	}
	hw := &hashingWriter{w: f, h: sha256.New()}
	if err := write(hw); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ar.files = append(ar.files, ManifestFile{Name: name, SHA256: hex.EncodeToString(hw.h.Sum(nil)), Bytes: hw.n})
	return nil
}

type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (w *hashingWriter) Write(p []byte) (int, error) {
	w.h.Write(p)
	n, err := w.w.Write(p)
	w.n += int64(n)
	return n, err
}

// eachRow runs query and calls fn with every row scanned into a T, one at
// a time.
func eachRow[T any](db *gorm.DB, query string, args []any, fn func(T) error) error {
	rows, err := db.Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var item T
		if err := db.ScanRows(rows, &item); err != nil {
			return err
		}
		if err := fn(item); err != nil {
			return err
		}
	}
	return rows.Err()
}

// jsonDocument writes one JSON document of the items a query returns.
func jsonDocument[T any](ar *archive, name, typ, query string, args []any, convert func(T) (any, error)) error {
	return ar.file(name, func(w io.Writer) error {
		if _, err := fmt.Fprintf(w, "{\"schema\":%q,\"items\":[", FormatVersion+"/"+typ); err != nil {
			return err
		}
		first := true
		err := eachRow(ar.db, query, args, func(item T) error {
			var v any = item
			if convert != nil {
				var err error
				if v, err = convert(item); err != nil {
					return err
				}
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if !first {
				if _, err := w.Write([]byte(",\n")); err != nil {
					return err
				}
			}
			first = false
			_, err = w.Write(b)
			return err
		})
		if err != nil {
			return err
		}
		_, err = w.Write([]byte("]}\n"))
		return err
	})
}

// The queries of a client's record, each scoped by practice and client.
const (
	qClient = `SELECT id, name, email, phone, timezone, status, created_at, archived_at FROM clients
		WHERE practice_id = ? AND id = ?`
	qGoals = `SELECT id, title, description, why, target_date, status, metric_unit, metric_baseline, metric_target,
		created_at, updated_at FROM goals WHERE practice_id = ? AND client_id = ? ORDER BY id`
	qProgress = `SELECT p.id, p.goal_id, p.recorded_on, p.value, p.note, p.created_at FROM goal_progress p
		JOIN goals g ON g.practice_id = p.practice_id AND g.id = p.goal_id
		WHERE g.practice_id = ? AND g.client_id = ? ORDER BY p.id`
	qSteps = `SELECT id, goal_id, title, details, due_date, recurrence, status, completed_at, reflection, created_at, updated_at
		FROM action_steps WHERE practice_id = ? AND client_id = ? ORDER BY id`
	qSessions = `SELECT id, starts_at, duration_minutes, location, agenda, status, summary, created_at
		FROM coaching_sessions WHERE practice_id = ? AND client_id = ? ORDER BY starts_at, id`
	qPrivateNotes = `SELECT id, private_note_ciphertext, private_note_key_id, private_note_updated_at
		FROM coaching_sessions WHERE practice_id = ? AND client_id = ? AND private_note_ciphertext IS NOT NULL ORDER BY starts_at, id`
	qConsents = `SELECT c.id, c.status, c.therapist_name, c.therapist_email, c.data_classes, c.purpose, c.expires_at,
		c.template_version, c.template_sha256, t.body AS signed_text, c.signature_name, c.signed_at, c.signed_auth_method,
		c.activated_at, c.declined_at, c.revoked_at, c.created_at
		FROM consents c LEFT JOIN consent_templates t ON t.version = c.template_version
		WHERE c.practice_id = ? AND c.client_id = ? ORDER BY c.id`
	qDisclosures = `SELECT d.id, d.consent_id, u.name AS therapist_name, d.data_classes, d.purpose, d.created_at
		FROM disclosures d JOIN users u ON u.id = d.therapist_user_id
		WHERE d.practice_id = ? AND d.client_id = ? ORDER BY d.id`
	qHistoryImports = `SELECT id, issuer, key_id, practice_name, issued_at, payload, payload_sha256, created_at
		FROM history_imports WHERE practice_id = ? AND client_id = ? ORDER BY id`
	qCoordination = `SELECT n.id, u.name AS author_name, n.author_role, n.consent_id, n.body_ciphertext, n.body_key_id, n.created_at
		FROM coordination_notes n JOIN users u ON u.id = n.author_user_id
		WHERE n.practice_id = ? AND n.client_id = ? ORDER BY n.id`
)

type sealedNoteRow struct {
	ID                    uuid.UUID
	PrivateNoteCiphertext []byte
	PrivateNoteKeyID      string
	PrivateNoteUpdatedAt  *time.Time
}

type coordinationRow struct {
	ID             uuid.UUID
	AuthorName     string
	AuthorRole     string
	ConsentID      *uuid.UUID
	BodyCiphertext []byte
	BodyKeyID      string
	CreatedAt      time.Time
}

func toHistoryImportItem(r historyImportRow) (any, error) {
	if !json.Valid([]byte(r.Payload)) {
		return nil, fmt.Errorf("history import %s: the stored history is not JSON", r.ID)
	}
	return HistoryImportItem{ID: r.ID, Issuer: r.Issuer, KeyID: r.KeyID, PracticeName: r.PracticeName, IssuedAt: r.IssuedAt,
		ImportedAt: r.CreatedAt, PayloadSHA256: r.PayloadSHA256, History: json.RawMessage(r.Payload)}, nil
}

// client writes a client's record. Private notes only for staff; the
// coordination threads for both, as the client reads every thread.
func (ar *archive) client(practiceID, clientID uuid.UUID, staff bool) error {
	args := []any{practiceID, clientID}
	if err := jsonDocument[ClientItem](ar, "client.json", "client", qClient, args, nil); err != nil {
		return err
	}
	if err := jsonDocument[GoalItem](ar, "goals.json", "goal", qGoals, args, nil); err != nil {
		return err
	}
	if err := jsonDocument[ProgressItem](ar, "goal_progress.json", "goal_progress", qProgress, args, nil); err != nil {
		return err
	}
	if err := jsonDocument[StepItem](ar, "action_steps.json", "action_step", qSteps, args, nil); err != nil {
		return err
	}
	if err := jsonDocument[SessionItem](ar, "sessions.json", "session", qSessions, args, nil); err != nil {
		return err
	}
	if staff {
		if err := jsonDocument(ar, "private_notes.json", "private_note", qPrivateNotes, args, ar.openPrivateNote); err != nil {
			return err
		}
	}
	if err := jsonDocument[ConsentItem](ar, "consents.json", "consent", qConsents, args, nil); err != nil {
		return err
	}
	if err := jsonDocument[DisclosureItem](ar, "disclosures.json", "disclosure", qDisclosures, args, nil); err != nil {
		return err
	}
	if err := jsonDocument(ar, "history_imports.json", "history_import", qHistoryImports, args, toHistoryImportItem); err != nil {
		return err
	}
	if err := jsonDocument(ar, "coordination_notes.json", "coordination_note", qCoordination, args, ar.openCoordinationNote); err != nil {
		return err
	}
	return ar.file("summary.html", func(w io.Writer) error { return ar.summary(w, practiceID, clientID, staff) })
}

func (ar *archive) openPrivateNote(r sealedNoteRow) (any, error) {
	if ar.s.c.Notes == nil {
		return nil, fmt.Errorf("no note keys to open private notes")
	}
	body, err := ar.s.c.Notes.Open(r.PrivateNoteKeyID, r.PrivateNoteCiphertext, r.ID[:])
	if err != nil {
		return nil, fmt.Errorf("open private note of session %s: %w", r.ID, err)
	}
	return PrivateNoteItem{SessionID: r.ID, Body: string(body), UpdatedAt: r.PrivateNoteUpdatedAt}, nil
}

func (ar *archive) openCoordinationNote(r coordinationRow) (any, error) {
	if ar.s.c.Notes == nil {
		return nil, fmt.Errorf("no note keys to open coordination notes")
	}
	body, err := ar.s.c.Notes.Open(r.BodyKeyID, r.BodyCiphertext, r.ID[:])
	if err != nil {
		return nil, fmt.Errorf("open coordination note %s: %w", r.ID, err)
	}
	return CoordinationNoteItem{ID: r.ID, AuthorName: r.AuthorName, AuthorRole: r.AuthorRole, ConsentID: r.ConsentID,
		Body: string(body), CreatedAt: r.CreatedAt}, nil
}

// account writes the user's own account: their details, roles and sign-ins.
func (ar *archive) account() error {
	uid := []any{ar.e.RequestedBy}
	if err := jsonDocument[AccountItem](ar, "account.json", "account",
		`SELECT id, name, email, email_verified_at, totp_enabled_at AS mfa_enabled_at, created_at FROM users WHERE id = ?`, uid, nil); err != nil {
		return err
	}
	if err := jsonDocument[MembershipItem](ar, "memberships.json", "membership",
		`SELECT m.practice_id, p.name AS practice_name, m.role, m.created_at FROM memberships m
		 JOIN practices p ON p.id = m.practice_id WHERE m.user_id = ? ORDER BY m.created_at`, uid, nil); err != nil {
		return err
	}
	return jsonDocument[SignInItem](ar, "sign_in_sessions.json", "sign_in_session",
		`SELECT id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent, auth_method FROM auth_sessions
		 WHERE user_id = ? ORDER BY created_at`, uid, nil)
}

// summary writes the human-readable summary of a client's record.
func (ar *archive) summary(w io.Writer, practiceID, clientID uuid.UUID, staff bool) error {
	args := []any{practiceID, clientID}
	p := &htmlWriter{w: w}
	p.raw(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Your coaching record</title>` +
		`<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}` +
		`section{margin-bottom:2rem}li{margin-bottom:.5rem}.muted{color:#555}pre{white-space:pre-wrap}</style></head><body>`)
	err := eachRow(ar.db, qClient, args, func(c ClientItem) error {
		p.raw("<h1>Coaching record of ").text(c.Name).raw("</h1>")
		p.raw(`<p class="muted">Exported `).text(ar.s.c.Clock.Now().UTC().Format(time.RFC1123)).
			raw(". The JSON files beside this one hold the same data, machine-readable (format ").text(FormatVersion).raw(").</p>")
		return p.err
	})
	if err != nil {
		return err
	}
	p.raw("<section><h2>Goals</h2><ul>")
	if err := eachRow(ar.db, qGoals, args, func(g GoalItem) error {
		p.raw("<li><strong>").text(g.Title).raw("</strong> (").text(g.Status).raw(")<br>Why it matters: ").text(g.Why)
		if g.Description != nil {
			p.raw("<br>").text(*g.Description)
		}
		p.raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw("</ul></section><section><h2>Progress</h2><ul>")
	if err := eachRow(ar.db, qProgress, args, func(g ProgressItem) error {
		p.raw("<li>").text(g.RecordedOn.String()).raw(": ").text(fmt.Sprint(g.Value))
		if g.Note != nil {
			p.raw(" — ").text(*g.Note)
		}
		p.raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw("</ul></section><section><h2>Action steps</h2><ul>")
	if err := eachRow(ar.db, qSteps, args, func(s StepItem) error {
		p.raw("<li>").text(s.Title).raw(" (").text(s.Status)
		if s.DueDate.Valid {
			p.raw(", due ").text(s.DueDate.String())
		}
		p.raw(")")
		if s.Details != nil {
			p.raw("<br>").text(*s.Details)
		}
		if s.Reflection != nil {
			p.raw("<br>Reflection: ").text(*s.Reflection)
		}
		p.raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw("</ul></section><section><h2>Sessions</h2><ul>")
	if err := eachRow(ar.db, qSessions, args, func(s SessionItem) error {
		p.raw("<li>").text(s.StartsAt.UTC().Format("2006-01-02 15:04 UTC")).raw(", ").text(fmt.Sprint(s.DurationMinutes)).
			raw(" minutes (").text(s.Status).raw(")")
		if s.Summary != nil {
			p.raw("<br>Shared summary: ").text(*s.Summary)
		}
		p.raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	if staff {
		p.raw(`</ul></section><section><h2>Private session notes</h2><p class="muted">The coach's own notes; never shared with the client or a therapist.</p><ul>`)
		if err := eachRow(ar.db, qPrivateNotes, args, func(r sealedNoteRow) error {
			v, err := ar.openPrivateNote(r)
			if err != nil {
				return err
			}
			n := v.(PrivateNoteItem)
			p.raw("<li>Session ").text(n.SessionID.String()).raw(": ").text(n.Body).raw("</li>")
			return p.err
		}); err != nil {
			return err
		}
	}
	p.raw("</ul></section><section><h2>Consents to share with a therapist</h2><ul>")
	if err := eachRow(ar.db, qConsents, args, func(c ConsentItem) error {
		p.raw("<li><strong>").text(c.TherapistName).raw("</strong> &lt;").text(c.TherapistEmail).raw("&gt;, ").text(c.Status).
			raw("<br>Shares: ").text(strings.ReplaceAll(c.DataClasses, ",", ", ")).raw("<br>Purpose: ").text(c.Purpose).
			raw("<br>Until: ").text(c.ExpiresAt.UTC().Format("2006-01-02"))
		if c.SignatureName != nil && c.SignedAt != nil {
			p.raw("<br>Signed by ").text(*c.SignatureName).raw(" on ").text(c.SignedAt.UTC().Format(time.RFC1123))
		}
		if c.SignedText != nil {
			p.raw("<details><summary>The text signed</summary><pre>").text(*c.SignedText).raw("</pre></details>")
		}
		p.raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw("</ul></section><section><h2>Who viewed your data</h2><ul>")
	if err := eachRow(ar.db, qDisclosures, args, func(d DisclosureItem) error {
		p.raw("<li>").text(d.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")).raw(": ").text(d.TherapistName).
			raw(" viewed ").text(strings.ReplaceAll(d.DataClasses, ",", ", ")).raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw(`</ul></section><section><h2>History brought from earlier coaching</h2><p class="muted">Imported from a signed history; read-only.</p><ul>`)
	if err := eachRow(ar.db, qHistoryImports, args, func(r historyImportRow) error {
		var h History
		if err := json.Unmarshal([]byte(r.Payload), &h); err != nil {
			return fmt.Errorf("history import %s: %w", r.ID, err)
		}
		p.raw("<li><strong>").text(h.PracticeName).raw("</strong>, signed by ").text(r.Issuer).raw(" on ").
			text(h.IssuedAt.UTC().Format("2006-01-02")).raw("<ul>")
		for _, g := range h.Goals {
			p.raw("<li>Goal: ").text(g.Title).raw(" (").text(g.Status).raw(")<br>Why it matters: ").text(g.Why).raw("</li>")
		}
		for _, st := range h.Steps {
			p.raw("<li>Step: ").text(st.Title).raw(" (").text(st.Status).raw(")")
			if st.Reflection != nil {
				p.raw("<br>Reflection: ").text(*st.Reflection)
			}
			p.raw("</li>")
		}
		for _, se := range h.Sessions {
			p.raw("<li>Session ").text(se.StartsAt.UTC().Format("2006-01-02"))
			if se.Summary != nil {
				p.raw(": ").text(*se.Summary)
			}
			p.raw("</li>")
		}
		p.raw("</ul></li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw("</ul></section><section><h2>Coordination notes</h2><ul>")
	if err := eachRow(ar.db, qCoordination, args, func(r coordinationRow) error {
		v, err := ar.openCoordinationNote(r)
		if err != nil {
			return err
		}
		n := v.(CoordinationNoteItem)
		p.raw("<li>").text(n.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")).raw(", ").text(n.AuthorName).
			raw(" (").text(n.AuthorRole).raw("): ").text(n.Body).raw("</li>")
		return p.err
	}); err != nil {
		return err
	}
	p.raw("</ul></section></body></html>\n")
	return p.err
}

// htmlWriter writes HTML, escaping text, keeping the first error.
type htmlWriter struct {
	w   io.Writer
	err error
}

func (p *htmlWriter) raw(s string) *htmlWriter {
	if p.err == nil {
		_, p.err = io.WriteString(p.w, s)
	}
	return p
}

func (p *htmlWriter) text(s string) *htmlWriter { return p.raw(html.EscapeString(s)) }
