package httpapi_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Planted strings that no consent shares. Each names where it was planted,
// so a failure says what leaked.
var plantedSecrets = []string{
	"PLANTED-private-note-7f3a", "PLANTED-reflection-91c2", "PLANTED-goal-description-4b7e",
	"PLANTED-step-details-d0e5", "PLANTED-session-location-2a68", "PLANTED-session-agenda-c3f1",
}

// coachingRecord is what seedCoaching wrote for the fixture's client.
type coachingRecord struct {
	metricGoal, stepGoal     goalDoc
	doneStep, openStep       stepDoc
	heldSession, nextSession sessionDoc
	otherClientGoal          goalDoc
}

// seedCoaching writes, through the API, a coaching record for the client
// with something of every class and the planted secrets everywhere no
// consent reaches, and a goal of the other client.
func (fx *shareFixture) seedCoaching() coachingRecord {
	env, p := fx.env, fx.p
	env.t.Helper()
	coach, client := p.coach.AccessToken, p.clientRec.ID
	var rec coachingRecord
	rec.metricGoal = env.createGoal(coach, client, map[string]any{"title": "Run 10 km", "why": "To feel strong",
		"description": plantedSecrets[2], "target_date": "2031-06-30", "metric": map[string]any{"unit": "km", "baseline": 0, "target": 10}})
	env.do(request{method: "POST", path: "/api/v1/goals/" + rec.metricGoal.ID + "/progress", token: coach,
		body: map[string]any{"value": 4}}).want(env.t, http.StatusCreated)
	rec.stepGoal = env.createGoal(coach, client, map[string]any{"title": "Sleep better", "why": "To think clearly"})
	rec.doneStep = env.createStep(coach, rec.stepGoal.ID, map[string]any{"title": "Lights out at 23:00", "details": plantedSecrets[3]})
	rec.doneStep = env.completeStep(p.client.AccessToken, rec.doneStep.ID, map[string]any{"note": plantedSecrets[1]})
	rec.openStep = env.createStep(coach, rec.stepGoal.ID, map[string]any{"title": "No screens after 22:00", "due_date": "2031-01-15"})

	var etag string
	rec.heldSession, etag = env.scheduleSession(coach, client, map[string]any{"starts_at": env.sessionSlot(1, 9, 0, nil),
		"duration_minutes": 50, "location": plantedSecrets[4], "agenda": plantedSecrets[5]})
	env.patchSession(coach, rec.heldSession.ID, map[string]any{"status": "completed", "summary": "We planned the week."}, etag).
		want(env.t, http.StatusOK)
	env.do(request{method: "PUT", path: "/api/v1/sessions/" + rec.heldSession.ID + "/private-note", token: coach,
		body: map[string]any{"body": plantedSecrets[0]}}).want(env.t, http.StatusOK)
	rec.nextSession, _ = env.scheduleSession(coach, client, map[string]any{"starts_at": env.sessionSlot(8, 9, 0, nil), "duration_minutes": 30})

	rec.otherClientGoal = env.createGoal(coach, p.otherRec.ID, map[string]any{"title": "Other client's goal", "why": "Theirs alone"})
	return rec
}

// assertNoSecret fails when any planted secret or any of also is in text.
func assertNoSecret(t *testing.T, where, text string, also ...string) {
	t.Helper()
	for _, s := range append(slices.Clone(plantedSecrets), also...) {
		if strings.Contains(text, s) {
			t.Fatalf("%s holds %q: %s", where, s, text)
		}
	}
}

// progressKeys returns the data-class keys of a progress document.
func progressKeys(t *testing.T, r response) []string {
	t.Helper()
	var doc map[string]json.RawMessage
	r.decode(t, &doc)
	for _, base := range []string{"client_id", "name", "consent_id", "data_classes", "expires_at"} {
		if _, ok := doc[base]; !ok {
			t.Fatalf("progress lacks %s: %s", base, r.Body)
		}
		delete(doc, base)
	}
	return slices.Sorted(maps.Keys(doc))
}

func TestSharedViewShowsExactlyTheConsentedClasses(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	rec := fx.seedCoaching()
	client := fx.p.clientRec.ID

	for _, tc := range []struct {
		classes []string
		keys    []string
	}{
		{[]string{"goals", "action_steps"}, []string{"action_steps", "goals"}},
		{[]string{"goals"}, []string{"goals"}},
		{[]string{"session_attendance", "session_summaries"}, []string{"session_summaries", "sessions"}},
		{[]string{"coordination_notes"}, []string{}},
		{[]string{"goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"},
			[]string{"action_steps", "goals", "session_summaries", "sessions"}},
	} {
		name := strings.Join(tc.classes, "+")
		t.Run(name, func(t *testing.T) {
			th := fx.therapist("Therapist " + strings.ReplaceAll(name, "+", " "))
			consentID := fx.consent(th, client, "active", tc.classes...)
			r := fx.sharedView(th.Tokens.AccessToken, client).want(t, http.StatusOK)
			if got := progressKeys(t, r); !slices.Equal(got, tc.keys) {
				t.Fatalf("classes %v: the view has %v, want exactly %v: %s", tc.classes, got, tc.keys, r.Body)
			}
			var doc shareProgressDoc
			r.decode(t, &doc)
			if doc.ClientID != client || doc.Name != fx.p.clientRec.Name || doc.ConsentID != consentID.String() ||
				!slices.Equal(slices.Sorted(slices.Values(doc.DataClasses)), slices.Sorted(slices.Values(tc.classes))) {
				t.Fatalf("header of the view: %+v", doc)
			}
			assertNoSecret(t, "the view", string(r.Body), rec.otherClientGoal.ID, "Other client's goal")
		})
	}

	t.Run("content", func(t *testing.T) {
		th := fx.therapist("Therapist Content")
		fx.consent(th, client, "active", "goals", "action_steps", "session_attendance", "session_summaries")
		var doc shareProgressDoc
		fx.sharedView(th.Tokens.AccessToken, client).want(t, http.StatusOK).decode(t, &doc)

		if len(doc.Goals) != 2 {
			t.Fatalf("goals: %+v", doc.Goals)
		}
		g0, g1 := doc.Goals[0], doc.Goals[1]
		if g0.ID != rec.metricGoal.ID || g0.Title != "Run 10 km" || g0.Why != "To feel strong" || g0.Status != "active" ||
			g0.TargetDate == nil || *g0.TargetDate != "2031-06-30" || g0.ProgressPercent != 40 {
			t.Fatalf("metric goal: %+v", g0)
		}
		if g1.ID != rec.stepGoal.ID || g1.TargetDate != nil || g1.ProgressPercent != 50 {
			t.Fatalf("step goal (one of two steps done): %+v", g1)
		}

		if len(doc.ActionSteps) != 2 {
			t.Fatalf("steps: %+v", doc.ActionSteps)
		}
		done, open := doc.ActionSteps[0], doc.ActionSteps[1]
		if done.ID != rec.doneStep.ID || done.GoalID != rec.stepGoal.ID || done.Status != "done" || done.CompletedAt == nil ||
			!done.CompletedAt.Equal(*rec.doneStep.CompletedAt) || done.DueDate != nil {
			t.Fatalf("done step: %+v", done)
		}
		if open.ID != rec.openStep.ID || open.Status != "open" || open.CompletedAt != nil || open.DueDate == nil || *open.DueDate != "2031-01-15" {
			t.Fatalf("open step: %+v", open)
		}

		if len(doc.Sessions) != 2 || doc.Sessions[0].ID != rec.heldSession.ID || doc.Sessions[0].Status != "completed" ||
			doc.Sessions[0].DurationMinutes != 50 || !doc.Sessions[0].StartsAt.Equal(rec.heldSession.StartsAt) ||
			doc.Sessions[1].ID != rec.nextSession.ID || doc.Sessions[1].Status != "scheduled" {
			t.Fatalf("sessions: %+v", doc.Sessions)
		}
		// Only the completed session with a summary has one to share.
		if len(doc.SessionSummaries) != 1 || doc.SessionSummaries[0].SessionID != rec.heldSession.ID ||
			doc.SessionSummaries[0].Summary != "We planned the week." {
			t.Fatalf("summaries: %+v", doc.SessionSummaries)
		}
	})

	t.Run("a consented class with no data is an empty list", func(t *testing.T) {
		th := fx.therapist("Therapist Empty")
		fx.consent(th, fx.p.otherRec.ID, "active", "action_steps", "session_summaries")
		r := fx.sharedView(th.Tokens.AccessToken, fx.p.otherRec.ID).want(t, http.StatusOK)
		var doc map[string]json.RawMessage
		r.decode(t, &doc)
		if string(doc["action_steps"]) != "[]" || string(doc["session_summaries"]) != "[]" {
			t.Fatalf("empty classes must be [], not null or absent: %s", r.Body)
		}
	})
}

// refusals are the consent states that end a therapist's access, with how
// each comes about and the problem type it is answered with.
var refusals = []struct {
	name    string
	problem string
	apply   func(fx *shareFixture, consentID uuid.UUID)
}{
	{"revoked", "consent_revoked", func(fx *shareFixture, id uuid.UUID) { fx.setConsentStatus(id, "revoked") }},
	{"expired", "consent_expired", func(fx *shareFixture, id uuid.UUID) { fx.env.clock.Advance(2 * time.Minute) }},
	// No lifecycle sends an active consent back to declined or pending; the
	// point here is that the status is read on every request.
	{"declined", "consent_declined", func(fx *shareFixture, id uuid.UUID) { fx.setConsentStatus(id, "declined") }},
	{"pending", "consent_pending", func(fx *shareFixture, id uuid.UUID) { fx.setConsentStatus(id, "pending") }},
}

func TestTherapistIsRefusedOnTheVeryNextRequest(t *testing.T) {
	t.Parallel()
	for _, rf := range refusals {
		t.Run(rf.name, func(t *testing.T) {
			env := newEnv(t)
			fx := newShareFixture(env, "p1")
			client := fx.p.clientRec.ID
			th := fx.therapist("Therapist One")
			consentID := fx.consentUntil(th, client, "active", env.clock.Now().Add(2*time.Minute), "goals", "coordination_notes")
			token := th.Tokens.AccessToken

			fx.sharedView(token, client).want(t, http.StatusOK)
			fx.listNotes(token, client).want(t, http.StatusOK)
			fx.postNote(token, client, map[string]any{"body": "Before the change"}).want(t, http.StatusCreated)
			disclosed := env.rowCount("disclosures")

			rf.apply(fx, consentID)
			for what, r := range map[string]response{
				"view":       fx.sharedView(token, client),
				"notes":      fx.listNotes(token, client),
				"note write": fx.postNote(token, client, map[string]any{"body": "After the change"}),
			} {
				p := r.problem(t, http.StatusForbidden)
				if !strings.HasSuffix(p.Type, "/problems/"+rf.problem) {
					t.Fatalf("%s after %s: problem type %q, want …/problems/%s", what, rf.name, p.Type, rf.problem)
				}
			}
			if n := env.rowCount("disclosures"); n != disclosed {
				t.Fatalf("refused reads wrote disclosures: %d, then %d", disclosed, n)
			}
			if n := env.rowCount("coordination_notes"); n != 1 {
				t.Fatalf("coordination notes: %d, want only the one written before", n)
			}
			var list shareClientListDoc
			env.do(request{method: "GET", path: "/api/v1/shared/clients", token: token}).want(t, http.StatusOK).decode(t, &list)
			if len(list.Items) != 0 {
				t.Fatalf("a %s consent is still listed: %+v", rf.name, list.Items)
			}
		})
	}
}

func TestTherapistWithoutConsentFindsNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	client, other := fx.p.clientRec.ID, fx.p.otherRec.ID
	stranger := fx.therapist("Therapist Stranger")
	theirs := fx.therapist("Therapist Of Other")
	fx.consent(theirs, other, "active", "goals", "coordination_notes")
	asked := fx.therapist("Therapist Asked")
	fx.consent(asked, client, "requested", "goals", "coordination_notes") // a coach's request grants nothing

	for _, tc := range []struct {
		who   string
		token string
	}{
		{"a therapist with no consent", stranger.Tokens.AccessToken},
		{"the therapist of another client", theirs.Tokens.AccessToken},
		{"a therapist with a request only", asked.Tokens.AccessToken},
		{"the client's coach", fx.p.coach.AccessToken},
	} {
		fx.sharedView(tc.token, client).problem(t, http.StatusNotFound)
		fx.sharedView(tc.token, uuid.Must(uuid.NewV7()).String()).problem(t, http.StatusNotFound)
		if tc.who != "the client's coach" {
			fx.listNotes(tc.token, client).problem(t, http.StatusNotFound)
			fx.postNote(tc.token, client, map[string]any{"body": "Hello"}).problem(t, http.StatusNotFound)
		}
	}
	fx.sharedView(theirs.Tokens.AccessToken, other).want(t, http.StatusOK)
	if n := env.rowCount("coordination_notes"); n != 0 {
		t.Fatalf("coordination notes written: %d", n)
	}
}

func TestSharedClientsListsTheActiveConsentsNamingTheCaller(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	th := fx.therapist("Therapist One")
	someoneElse := fx.therapist("Therapist Two")
	a, b := fx.p.clientRec, fx.p.otherRec
	extra := []clientDoc{
		env.createClient(fx.p.coach.AccessToken, map[string]any{"name": "Revoked Client", "timezone": "UTC"}),
		env.createClient(fx.p.coach.AccessToken, map[string]any{"name": "Expired Client", "timezone": "UTC"}),
		env.createClient(fx.p.coach.AccessToken, map[string]any{"name": "Pending Client", "timezone": "UTC"}),
		env.createClient(fx.p.coach.AccessToken, map[string]any{"name": "Declined Client", "timezone": "UTC"}),
	}
	fx.consent(th, extra[0].ID, "revoked", "goals")
	fx.consentUntil(th, extra[1].ID, "active", env.clock.Now().Add(-time.Minute), "goals")
	fx.consent(th, extra[2].ID, "pending", "goals")
	fx.consent(th, extra[3].ID, "declined", "goals")
	fx.consent(someoneElse, extra[0].ID, "active", "goals")

	fx.consent(th, a.ID, "active", "goals")
	env.clock.Advance(time.Second)
	wider := fx.consent(th, a.ID, "active", "goals", "action_steps") // supersedes, signed later
	forB := fx.consent(th, b.ID, "active", "session_attendance")

	want := map[string]struct {
		name, consent string
		classes       []string
	}{
		a.ID: {a.Name, wider.String(), []string{"action_steps", "goals"}},
		b.ID: {b.Name, forB.String(), []string{"session_attendance"}},
	}
	var seen []string
	path := "/api/v1/shared/clients?limit=1"
	for range 3 {
		var page shareClientListDoc
		env.do(request{method: "GET", path: path, token: th.Tokens.AccessToken}).want(t, http.StatusOK).decode(t, &page)
		for _, it := range page.Items {
			w, ok := want[it.ClientID]
			if !ok || it.Name != w.name || it.ConsentID != w.consent || !slices.Equal(it.DataClasses, w.classes) {
				t.Fatalf("listed %+v, want one of %+v", it, want)
			}
			seen = append(seen, it.ClientID)
		}
		if page.NextCursor == nil {
			break
		}
		path = "/api/v1/shared/clients?limit=1&cursor=" + *page.NextCursor
	}
	if len(seen) != 2 || seen[0] == seen[1] {
		t.Fatalf("listed clients %v, want %s and %s once each", seen, a.ID, b.ID)
	}
	if n := env.rowCount("disclosures"); n != 0 {
		t.Fatalf("listing shared clients wrote %d disclosures; it reads no client data", n)
	}
}

func TestEveryTherapistReadIsDisclosed(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	client := fx.p.clientRec.ID
	th := fx.therapist("Therapist One")
	consentID := fx.consent(th, client, "active", "goals", "action_steps", "coordination_notes")

	const reads = 3
	var requestIDs []string
	for range reads {
		r := fx.sharedView(th.Tokens.AccessToken, client).want(t, http.StatusOK)
		requestIDs = append(requestIDs, r.Header.Get("X-Request-ID"))
	}
	r := fx.listNotes(th.Tokens.AccessToken, client).want(t, http.StatusOK)
	requestIDs = append(requestIDs, r.Header.Get("X-Request-ID"))
	// Reads by the client and the coach are not disclosures.
	fx.listNotes(fx.p.client.AccessToken, client).want(t, http.StatusOK)
	fx.listNotes(fx.p.coach.AccessToken, client).want(t, http.StatusOK)
	if n := env.rowCount("disclosures"); n != reads+1 {
		t.Fatalf("%d therapist reads wrote %d disclosures", reads+1, n)
	}

	for _, who := range []tokenPair{fx.p.client, fx.p.coach, fx.p.owner} {
		var all shareDisclosureListDoc
		fx.disclosures(who.AccessToken, client).want(t, http.StatusOK).decode(t, &all)
		if len(all.Items) != reads+1 || all.NextCursor != nil {
			t.Fatalf("disclosures: %+v", all)
		}
		for i, d := range all.Items {
			classes := []string{"action_steps", "goals"}
			if i == reads {
				classes = []string{"coordination_notes"}
			}
			if d.ClientID != client || d.ConsentID != consentID.String() || d.TherapistID != th.ID.String() ||
				d.TherapistName != "Therapist One" || !slices.Equal(d.DataClasses, classes) || d.TemplateVersion != 1 ||
				d.Purpose != "Coordinate care for Therapist One" || d.RequestID == "" || d.RequestID != requestIDs[i] ||
				d.DisclosedAt.IsZero() {
				t.Fatalf("disclosure %d: %+v (request %s)", i, d, requestIDs[i])
			}
		}
	}

	// Pages, oldest first.
	var first, second shareDisclosureListDoc
	env.do(request{method: "GET", path: "/api/v1/clients/" + client + "/disclosures?limit=2", token: fx.p.client.AccessToken}).
		want(t, http.StatusOK).decode(t, &first)
	if len(first.Items) != 2 || first.NextCursor == nil {
		t.Fatalf("first page: %+v", first)
	}
	env.do(request{method: "GET", path: "/api/v1/clients/" + client + "/disclosures?limit=2&cursor=" + *first.NextCursor,
		token: fx.p.client.AccessToken}).want(t, http.StatusOK).decode(t, &second)
	if len(second.Items) != 2 || second.NextCursor != nil || second.Items[0].ID <= first.Items[1].ID {
		t.Fatalf("second page: %+v after %+v", second, first)
	}

	// Nobody else sees them.
	fx.disclosures(fx.p.otherCoach.AccessToken, client).problem(t, http.StatusNotFound)
	fx.disclosures(fx.p.otherClient.AccessToken, client).problem(t, http.StatusNotFound)
	elsewhere := env.register("p2-owner@example.com")
	fx.disclosures(elsewhere.AccessToken, client).problem(t, http.StatusNotFound)
	fx.disclosures(th.Tokens.AccessToken, client).problem(t, http.StatusForbidden) // not a member of any practice
}

func TestPlantedSecretsNeverReachTheTherapist(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	rec := fx.seedCoaching()
	client := fx.p.clientRec.ID
	th := fx.therapist("Therapist One")
	fx.consent(th, client, "active", "goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes")
	fx.postNote(fx.p.coach.AccessToken, client, map[string]any{"body": "How was the week?"}).want(t, http.StatusCreated)

	token := th.Tokens.AccessToken
	for what, r := range map[string]response{
		"view":         fx.sharedView(token, client).want(t, http.StatusOK),
		"shared list":  env.do(request{method: "GET", path: "/api/v1/shared/clients", token: token}).want(t, http.StatusOK),
		"notes":        fx.listNotes(token, client).want(t, http.StatusOK),
		"own note":     fx.postNote(token, client, map[string]any{"body": "Fine, thanks."}).want(t, http.StatusCreated),
		"disclosures":  fx.disclosures(fx.p.client.AccessToken, client).want(t, http.StatusOK),
		"private note": env.do(request{method: "GET", path: "/api/v1/sessions/" + rec.heldSession.ID + "/private-note", token: token}),
		"session":      env.do(request{method: "GET", path: "/api/v1/sessions/" + rec.heldSession.ID, token: token}),
	} {
		assertNoSecret(t, what, string(r.Body))
	}
	var rows []map[string]any
	if err := env.store.DB.Table("disclosures").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("disclosures: %d, want 2", len(rows))
	}
	raw, _ := json.Marshal(rows)
	assertNoSecret(t, "the disclosures table", string(raw))
	assertNoSecret(t, "the log", env.logs.String())
}

func TestCoordinationNotesThreadBetweenCoachAndTherapist(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	client := fx.p.clientRec.ID
	coach, owner := fx.p.coach.AccessToken, fx.p.owner.AccessToken

	// Nobody to coordinate with yet: no consent, then one without the class.
	p := fx.postNote(coach, client, map[string]any{"body": "Hello?"}).problem(t, http.StatusConflict)
	narrow := fx.therapist("Therapist Narrow")
	fx.consent(narrow, client, "active", "goals")
	fx.postNote(coach, client, map[string]any{"body": "Hello?"}).problem(t, http.StatusConflict)
	for _, r := range []response{
		fx.listNotes(narrow.Tokens.AccessToken, client),
		fx.postNote(narrow.Tokens.AccessToken, client, map[string]any{"body": "May I?"}),
	} {
		if p = r.problem(t, http.StatusForbidden); !strings.HasSuffix(p.Type, "/problems/consent_class_not_granted") {
			t.Fatalf("therapist without coordination_notes: %+v", p)
		}
	}

	th := fx.therapist("Therapist One")
	consentID := fx.consent(th, client, "active", "goals", "coordination_notes")
	var fromCoach, fromTherapist, fromOwner shareNoteDoc
	fx.postNote(coach, client, map[string]any{"body": "  How is the new routine landing?\n"}).want(t, http.StatusCreated).decode(t, &fromCoach)
	fx.postNote(th.Tokens.AccessToken, client, map[string]any{"body": "Well; keep the evening steps small."}).
		want(t, http.StatusCreated).decode(t, &fromTherapist)
	fx.postNote(owner, client, map[string]any{"body": "Noted, thank you."}).want(t, http.StatusCreated).decode(t, &fromOwner)
	coachID := fx.coachID.String()
	if fromCoach.AuthorRole != "coach" || fromCoach.AuthorID != coachID || fromCoach.AuthorName != "Coach p1-coach@example.com" ||
		fromCoach.Body != "How is the new routine landing?" || fromCoach.TherapistID != th.ID.String() ||
		fromCoach.TherapistName != "Therapist One" || fromCoach.ClientID != client {
		t.Fatalf("coach's note: %+v", fromCoach)
	}
	if fromTherapist.AuthorRole != "therapist" || fromTherapist.AuthorID != th.ID.String() || fromTherapist.AuthorName != "Therapist One" {
		t.Fatalf("therapist's note: %+v", fromTherapist)
	}
	if fromOwner.AuthorRole != "owner" || fromOwner.AuthorName != "Owner p1-owner@example.com" {
		t.Fatalf("owner's note: %+v", fromOwner)
	}

	// Everyone on the thread, and the client, reads the same thread in order.
	for who, token := range map[string]string{"coach": coach, "owner": owner, "therapist": th.Tokens.AccessToken, "client": fx.p.client.AccessToken} {
		var list shareNoteListDoc
		fx.listNotes(token, client).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 3 || list.Items[0] != fromCoach || list.Items[1] != fromTherapist || list.Items[2] != fromOwner {
			t.Fatalf("%s reads %+v", who, list.Items)
		}
	}
	var paged shareNoteListDoc
	env.do(request{method: "GET", path: fx.notesPath(client) + "?limit=2", token: coach}).want(t, http.StatusOK).decode(t, &paged)
	if len(paged.Items) != 2 || paged.NextCursor == nil {
		t.Fatalf("first page: %+v", paged)
	}

	// The client reads but does not write; nobody else reaches the thread.
	fx.postNote(fx.p.client.AccessToken, client, map[string]any{"body": "Me too"}).problem(t, http.StatusForbidden)
	fx.listNotes(fx.p.otherCoach.AccessToken, client).problem(t, http.StatusNotFound)
	fx.postNote(fx.p.otherCoach.AccessToken, client, map[string]any{"body": "Hi"}).problem(t, http.StatusNotFound)
	fx.listNotes(fx.p.otherClient.AccessToken, client).problem(t, http.StatusNotFound)
	elsewhere := env.register("p2-owner@example.com")
	fx.listNotes(elsewhere.AccessToken, client).problem(t, http.StatusNotFound)

	// Bad bodies.
	for _, body := range []map[string]any{{"body": "   "}, {"body": strings.Repeat("x", 20001)}, {"body": "bell\a"}} {
		if p := fx.postNote(coach, client, body).problem(t, http.StatusBadRequest); !fieldNames(p)["body"] {
			t.Fatalf("body %q: %+v", body["body"], p)
		}
	}
	fx.postNote(th.Tokens.AccessToken, client, map[string]any{"body": "x", "therapist_id": narrow.ID}).problem(t, http.StatusBadRequest)

	// Sealed at rest, bound to the row.
	type rawNote struct {
		ID             string
		BodyCiphertext []byte
		BodyKeyID      string
		AuthorRole     string
		ConsentID      *string
	}
	var rows []rawNote
	if err := env.store.DB.Table("coordination_notes").Order("id").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows: %d", len(rows))
	}
	for i, plain := range []string{fromCoach.Body, fromTherapist.Body, fromOwner.Body} {
		r := rows[i]
		if len(r.BodyCiphertext) == 0 || r.BodyKeyID != "test-note-key" || r.ConsentID == nil || *r.ConsentID != consentID.String() ||
			strings.Contains(string(r.BodyCiphertext), plain) || strings.Contains(string(r.BodyCiphertext), "routine") {
			t.Fatalf("row %d is not sealed as it should be: %+v", i, r)
		}
	}
	if n := env.auditCount("coordination_note.written"); n != 3 {
		t.Fatalf("audit events: %d", n)
	}
	assertNoSecret(t, "the log", env.logs.String(), "routine", "evening steps")

	// Revoked: the thread closes for the therapist and for new staff notes.
	fx.setConsentStatus(consentID, "revoked")
	for _, r := range []response{
		fx.listNotes(th.Tokens.AccessToken, client),
		fx.postNote(th.Tokens.AccessToken, client, map[string]any{"body": "Still there?"}),
	} {
		if p := r.problem(t, http.StatusForbidden); !strings.HasSuffix(p.Type, "/problems/consent_revoked") {
			t.Fatalf("after revocation: %+v", p)
		}
	}
	fx.postNote(coach, client, map[string]any{"body": "Anyone?"}).problem(t, http.StatusConflict)
	fx.listNotes(fx.p.client.AccessToken, client).want(t, http.StatusOK) // the history stays the client's
}

func TestCoordinationThreadsAreSeparatePerTherapist(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	client := fx.p.clientRec.ID
	coach := fx.p.coach.AccessToken
	one, two := fx.therapist("Therapist One"), fx.therapist("Therapist Two")
	fx.consent(one, client, "active", "coordination_notes")
	fx.consent(two, client, "active", "coordination_notes", "goals")

	if p := fx.postNote(coach, client, map[string]any{"body": "To whom?"}).problem(t, http.StatusBadRequest); !fieldNames(p)["therapist_id"] {
		t.Fatalf("two therapists, none named: %+v", p)
	}
	stranger := fx.therapist("Therapist Stranger")
	fx.postNote(coach, client, map[string]any{"body": "To you", "therapist_id": stranger.ID}).problem(t, http.StatusConflict)
	fx.postNote(coach, client, map[string]any{"body": "For one", "therapist_id": one.ID}).want(t, http.StatusCreated)
	fx.postNote(coach, client, map[string]any{"body": "For two", "therapist_id": two.ID}).want(t, http.StatusCreated)
	fx.postNote(two.Tokens.AccessToken, client, map[string]any{"body": "From two"}).want(t, http.StatusCreated)

	bodies := func(token string) []string {
		var list shareNoteListDoc
		fx.listNotes(token, client).want(t, http.StatusOK).decode(t, &list)
		var out []string
		for _, n := range list.Items {
			out = append(out, n.Body)
		}
		return out
	}
	if got := bodies(one.Tokens.AccessToken); !slices.Equal(got, []string{"For one"}) {
		t.Fatalf("therapist one reads %v", got)
	}
	if got := bodies(two.Tokens.AccessToken); !slices.Equal(got, []string{"For two", "From two"}) {
		t.Fatalf("therapist two reads %v", got)
	}
	for _, token := range []string{coach, fx.p.client.AccessToken} {
		if got := bodies(token); !slices.Equal(got, []string{"For one", "For two", "From two"}) {
			t.Fatalf("coach or client reads %v", got)
		}
	}
}

// TestDisclosuresAndAuditEventsAreAppendOnly proves the database itself
// refuses to change or remove them, whatever the application asks.
func TestDisclosuresAndAuditEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	th := fx.therapist("Therapist One")
	fx.consent(th, fx.p.clientRec.ID, "active", "goals")
	fx.sharedView(th.Tokens.AccessToken, fx.p.clientRec.ID).want(t, http.StatusOK)

	for _, table := range []struct{ name, column string }{{"disclosures", "purpose"}, {"audit_events", "action"}} {
		before := env.rowCount(table.name)
		if before == 0 {
			t.Fatalf("%s is empty", table.name)
		}
		var snapshot []map[string]any
		if err := env.store.DB.Table(table.name).Order("id").Find(&snapshot).Error; err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{
			"UPDATE " + table.name + " SET " + table.column + " = 'rewritten'",
			"DELETE FROM " + table.name,
		} {
			err := env.store.DB.Exec(stmt).Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("%s: err = %v, want the database to refuse", stmt, err)
			}
			// Inside a transaction too, which then rolls back.
			err = env.store.DB.Transaction(func(tx *gorm.DB) error { return tx.Exec(stmt).Error })
			if err == nil {
				t.Fatalf("%s in a transaction succeeded", stmt)
			}
		}
		var after []map[string]any
		if err := env.store.DB.Table(table.name).Order("id").Find(&after).Error; err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(after)
		b, _ := json.Marshal(snapshot)
		if string(a) != string(b) {
			t.Fatalf("%s changed:\n%s\n%s", table.name, b, a)
		}
	}
}

// TestSharedViewQueryCountIsConstant counts the SQL statements of one
// therapist read with a little and with a lot of coaching data.
func TestSharedViewQueryCountIsConstant(t *testing.T) {
	t.Parallel()
	counts := map[int]int64{}
	for _, n := range []int{1, 12} {
		env := newEnv(t)
		fx := newShareFixture(env, "p1")
		coach, client := fx.p.coach.AccessToken, fx.p.clientRec.ID
		for i := range n {
			g := env.createGoal(coach, client, map[string]any{"title": "Goal", "why": "Why"})
			s := env.createStep(coach, g.ID, map[string]any{"title": "Step"})
			env.completeStep(coach, s.ID, nil)
			sess, etag := env.scheduleSession(coach, client, map[string]any{"starts_at": env.sessionSlot(1+i, 9, 0, nil), "duration_minutes": 30})
			env.patchSession(coach, sess.ID, map[string]any{"status": "completed", "summary": "Summary"}, etag).want(t, http.StatusOK)
		}
		th := fx.therapist("Therapist One")
		fx.consent(th, client, "active", "goals", "action_steps", "session_attendance", "session_summaries")

		var counting atomic.Bool
		var queries atomic.Int64
		count := func(*gorm.DB) {
			if counting.Load() {
				queries.Add(1)
			}
		}
		cb := env.store.DB.Callback()
		for _, err := range []error{
			cb.Query().Register("test:count_query", count),
			cb.Row().Register("test:count_row", count),
			cb.Raw().Register("test:count_raw", count),
			cb.Create().Register("test:count_create", count),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		counting.Store(true)
		var doc shareProgressDoc
		fx.sharedView(th.Tokens.AccessToken, client).want(t, http.StatusOK).decode(t, &doc)
		counting.Store(false)
		if len(doc.Goals) != n || len(doc.ActionSteps) != n || len(doc.Sessions) != n || len(doc.SessionSummaries) != n {
			t.Fatalf("view with %d of each: %+v", n, doc)
		}
		counts[n] = queries.Load()
	}
	if counts[1] == 0 || counts[1] != counts[12] {
		t.Fatalf("statements for one therapist read: %d with 1 of each record, %d with 12", counts[1], counts[12])
	}
	t.Logf("one therapist read costs %d statements, whatever the amount of data", counts[1])
}

// TestTherapistWhoRunsAPracticeReachesClientsOnlyThroughConsent: a user may
// hold several roles. An owner of one practice named as the therapist of
// another practice's client reaches that client through the consent alone.
func TestTherapistWhoRunsAPracticeReachesClientsOnlyThroughConsent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	client := fx.p.clientRec.ID
	tokens := env.register("therapist-owner@example.com")
	me := env.whoAmI(tokens.AccessToken)
	th := shareTherapist{ID: me.ID, Name: "Owner therapist-owner@example.com", Tokens: tokens}
	consentID := fx.consent(th, client, "active", "goals", "coordination_notes")

	fx.sharedView(tokens.AccessToken, client).want(t, http.StatusOK)
	fx.postNote(tokens.AccessToken, client, map[string]any{"body": "Hello from the therapist"}).want(t, http.StatusCreated)
	var list shareNoteListDoc
	fx.listNotes(tokens.AccessToken, client).want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].AuthorRole != "therapist" {
		t.Fatalf("notes: %+v", list.Items)
	}
	// Owning a practice opens nothing of another practice's client.
	env.do(request{method: "GET", path: "/api/v1/clients/" + client, token: tokens.AccessToken}).problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: "/api/v1/clients/" + client + "/goals", token: tokens.AccessToken}).problem(t, http.StatusNotFound)
	fx.disclosures(tokens.AccessToken, client).problem(t, http.StatusNotFound)

	fx.setConsentStatus(consentID, "revoked")
	fx.sharedView(tokens.AccessToken, client).problem(t, http.StatusForbidden)
	fx.listNotes(tokens.AccessToken, client).problem(t, http.StatusForbidden)
}

// TestCoordinationNoteCiphertextIsBoundToItsRow: a sealed body copied onto
// another note's row does not open there, and the failure shows no text.
func TestCoordinationNoteCiphertextIsBoundToItsRow(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "p1")
	client := fx.p.clientRec.ID
	fx.consent(fx.therapist("Therapist One"), client, "active", "coordination_notes")
	var first, second shareNoteDoc
	fx.postNote(fx.p.coach.AccessToken, client, map[string]any{"body": "First, private to its row"}).
		want(t, http.StatusCreated).decode(t, &first)
	fx.postNote(fx.p.coach.AccessToken, client, map[string]any{"body": "Second"}).want(t, http.StatusCreated).decode(t, &second)

	if err := env.store.DB.Exec(`UPDATE coordination_notes SET body_ciphertext =
		(SELECT body_ciphertext FROM coordination_notes WHERE id = ?) WHERE id = ?`, first.ID, second.ID).Error; err != nil {
		t.Fatal(err)
	}
	r := fx.listNotes(fx.p.coach.AccessToken, client)
	r.problem(t, http.StatusInternalServerError)
	assertNoSecret(t, "the answer", string(r.Body), "First, private")
	assertNoSecret(t, "the log", env.logs.String(), "First, private")
}
