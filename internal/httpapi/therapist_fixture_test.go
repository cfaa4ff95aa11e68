package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/auth"
)

// shareTherapist is a therapist: a user with no practice, who reaches client
// data only through the consents naming them.
type shareTherapist struct {
	ID     uuid.UUID
	Name   string
	Tokens tokenPair
}

// shareFixture is one practice (owner, two coaches, two portal clients of
// the first coach) and the consents its clients give therapists, written
// straight into the consents table.
type shareFixture struct {
	env        *testEnv
	p          practiceFixture
	practiceID uuid.UUID
	coachID    uuid.UUID
}

func newShareFixture(env *testEnv, prefix string) *shareFixture {
	env.t.Helper()
	fx := &shareFixture{env: env, p: env.practice(prefix)}
	fx.practiceID = env.whoAmI(fx.p.owner.AccessToken).Practice.ID
	fx.coachID = uuid.MustParse(fx.p.clientRec.CoachID)
	return fx
}

// therapist creates a user with no membership and signs them in. Their
// address is proven, as that of a therapist who accepted an invitation.
func (fx *shareFixture) therapist(name string) shareTherapist {
	env := fx.env
	env.t.Helper()
	hash, err := auth.HashPassword(goodPassword)
	if err != nil {
		env.t.Fatal(err)
	}
	id, now := uuid.Must(uuid.NewV7()), env.clock.Now().UTC()
	if err := env.store.DB.Exec(`INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, therapistEmail(name), name, hash, now, now, now).Error; err != nil {
		env.t.Fatal(err)
	}
	th := shareTherapist{ID: id, Name: name, Tokens: env.login(therapistEmail(name), goodPassword).tokens(env.t, http.StatusOK)}
	if me := env.whoAmI(th.Tokens.AccessToken); me.ID != id || me.Practice.ID != uuid.Nil {
		env.t.Fatalf("therapist signed in as %+v, want user %s in no practice", me, id)
	}
	return th
}

// therapistEmail is the address of the therapist fixture named name.
func therapistEmail(name string) string {
	return strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@therapy.example"
}

// consent writes a signed consent of the client for the therapist, with the
// status given, expiring in 90 days, and returns its ID. Every status names
// the therapist's account, as a consent does once its therapist accepted
// the invitation.
func (fx *shareFixture) consent(th shareTherapist, clientID, status string, classes ...string) uuid.UUID {
	return fx.consentUntil(th, clientID, status, fx.env.clock.Now().Add(90*24*time.Hour), classes...)
}

func (fx *shareFixture) consentUntil(th shareTherapist, clientID, status string, expires time.Time, classes ...string) uuid.UUID {
	env := fx.env
	env.t.Helper()
	id, now := uuid.Must(uuid.NewV7()), env.clock.Now().UTC()
	classes = slices.Sorted(slices.Values(classes)) // stored sorted, as the consent module writes them
	err := env.store.DB.Exec(`INSERT INTO consents (id, practice_id, client_id, coach_id, status, therapist_name, therapist_email,
		therapist_user_id, data_classes, purpose, expires_at, template_version, template_sha256, signature_name, signed_at,
		signed_ip, signed_user_agent, signed_auth_method, activated_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 'Client Signature', ?, '192.0.2.1', 'test', 'password', ?, ?, ?)`,
		id, fx.practiceID, clientID, fx.coachID, status, th.Name, strings.ToLower(th.ID.String())+"@therapy.example",
		th.ID, strings.Join(classes, ","), "Coordinate care for "+th.Name, expires.UTC(),
		"a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8", now, now, now, now).Error
	if err != nil {
		env.t.Fatal(err)
	}
	return id
}

// pendingInvitation writes a signed consent of the client for a therapist
// at email who has not answered yet, with its e-mailed invitation, as
// signing writes them, and returns the invitation's token.
func (fx *shareFixture) pendingInvitation(clientID, email string) string {
	env := fx.env
	env.t.Helper()
	id, now := uuid.Must(uuid.NewV7()), env.clock.Now().UTC()
	until := now.Add(7 * 24 * time.Hour)
	err := env.store.DB.Exec(`INSERT INTO consents (id, practice_id, client_id, coach_id, status, therapist_name, therapist_email,
		data_classes, purpose, expires_at, template_version, template_sha256, signature_name, signed_at,
		signed_ip, signed_user_agent, signed_auth_method, invitation_expires_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'pending', 'Pat Ending', ?, 'goals', 'Coordinate care', ?, 1, ?, 'Client Signature', ?,
		'192.0.2.1', 'test', 'password', ?, ?, ?)`,
		id, fx.practiceID, clientID, fx.coachID, email, now.Add(90*24*time.Hour),
		"a3fc32fb832e362369e2555eba5353f990b93cac8e77ed8b0f32de505743fcb8", now, until, now, now).Error
	if err != nil {
		env.t.Fatal(err)
	}
	token, hash := auth.NewOpaqueToken()
	if err := env.store.DB.Exec(`INSERT INTO therapist_invitations (id, practice_id, consent_id, email, token_hash, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()), fx.practiceID, id, email, hash, until, now).Error; err != nil {
		env.t.Fatal(err)
	}
	return token
}

// setConsentStatus changes a consent's status behind the API's back, as a
// lifecycle transition would.
func (fx *shareFixture) setConsentStatus(id uuid.UUID, status string) {
	fx.env.t.Helper()
	if err := fx.env.store.DB.Exec("UPDATE consents SET status = ?, updated_at = ? WHERE id = ?",
		status, fx.env.clock.Now().UTC(), id).Error; err != nil {
		fx.env.t.Fatal(err)
	}
}

// sharedView reads the therapist's view of a client.
func (fx *shareFixture) sharedView(token, clientID string) response {
	return fx.env.do(request{method: "GET", path: "/api/v1/shared/clients/" + clientID, token: token})
}

func (fx *shareFixture) notesPath(clientID string) string {
	return "/api/v1/clients/" + clientID + "/coordination-notes"
}

func (fx *shareFixture) listNotes(token, clientID string) response {
	return fx.env.do(request{method: "GET", path: fx.notesPath(clientID), token: token})
}

func (fx *shareFixture) postNote(token, clientID string, body map[string]any) response {
	return fx.env.do(request{method: "POST", path: fx.notesPath(clientID), token: token, body: body})
}

func (fx *shareFixture) disclosures(token, clientID string) response {
	return fx.env.do(request{method: "GET", path: "/api/v1/clients/" + clientID + "/disclosures", token: token})
}

type shareClientListDoc struct {
	Items []struct {
		ClientID    string    `json:"client_id"`
		Name        string    `json:"name"`
		ConsentID   string    `json:"consent_id"`
		DataClasses []string  `json:"data_classes"`
		ExpiresAt   time.Time `json:"expires_at"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type shareProgressDoc struct {
	ClientID    string   `json:"client_id"`
	Name        string   `json:"name"`
	ConsentID   string   `json:"consent_id"`
	DataClasses []string `json:"data_classes"`
	Goals       []struct {
		ID              string  `json:"id"`
		Title           string  `json:"title"`
		Why             string  `json:"why"`
		Status          string  `json:"status"`
		TargetDate      *string `json:"target_date"`
		ProgressPercent float64 `json:"progress_percent"`
	} `json:"goals"`
	ActionSteps []struct {
		ID          string     `json:"id"`
		GoalID      string     `json:"goal_id"`
		Title       string     `json:"title"`
		Status      string     `json:"status"`
		DueDate     *string    `json:"due_date"`
		CompletedAt *time.Time `json:"completed_at"`
	} `json:"action_steps"`
	Sessions []struct {
		ID              string    `json:"id"`
		StartsAt        time.Time `json:"starts_at"`
		DurationMinutes int       `json:"duration_minutes"`
		Status          string    `json:"status"`
	} `json:"sessions"`
	SessionSummaries []struct {
		SessionID string    `json:"session_id"`
		StartsAt  time.Time `json:"starts_at"`
		Summary   string    `json:"summary"`
	} `json:"session_summaries"`
}

type shareDisclosureListDoc struct {
	Items []struct {
		ID              string    `json:"id"`
		ClientID        string    `json:"client_id"`
		ConsentID       string    `json:"consent_id"`
		TherapistID     string    `json:"therapist_id"`
		TherapistName   string    `json:"therapist_name"`
		DataClasses     []string  `json:"data_classes"`
		TemplateVersion int       `json:"template_version"`
		Purpose         string    `json:"purpose"`
		RequestID       string    `json:"request_id"`
		DisclosedAt     time.Time `json:"disclosed_at"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

type shareNoteDoc struct {
	ID            string    `json:"id"`
	ClientID      string    `json:"client_id"`
	TherapistID   string    `json:"therapist_id"`
	TherapistName string    `json:"therapist_name"`
	AuthorID      string    `json:"author_id"`
	AuthorName    string    `json:"author_name"`
	AuthorRole    string    `json:"author_role"`
	Body          string    `json:"body"`
	CreatedAt     time.Time `json:"created_at"`
}

type shareNoteListDoc struct {
	Items      []shareNoteDoc `json:"items"`
	NextCursor *string        `json:"next_cursor"`
}
