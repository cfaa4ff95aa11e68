package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The therapist actors of the authorization matrix and the rows of the
// consent, therapist and coordination operations.
//
// How each therapist's state comes about, as the consent module decides it:
//
//   - Every therapist has a verified account (shareFixture.therapist writes
//     it), as one who accepted an invitation has.
//   - T-active, T-noclass, T-revoked, T-expired, T-declined and T-otherclient
//     accepted the e-mailed invitation of their consent, which then names
//     their account and is active (consent.Service.AcceptInvitation links
//     the account that spends the invitation). shareFixture.consent writes
//     such consents straight into the table.
//   - T-revoked's consent is revoked by the client and T-declined's declined
//     by the therapist, both through the API; T-expired's expires when the
//     clock passes its expiry, its stored status still active.
//   - T-pending: a consent is pending until the therapist it names accepts
//     its invitation, whether or not they have an account. So the client
//     signs, through the API, for T-pending's address, and T-pending, who
//     has an account with that address, never spends the invitation. The
//     consent stays pending and unlinked: consent.Check and every consent
//     query find a therapist by therapist_user_id, never by e-mail, so the
//     address alone reaches nothing, and every consent route answers 404 as
//     for a therapist who never had a consent, not 403 consent_pending.

// targetClasses are the data classes of each therapist's consent of the
// target client (T-otherclient's is of A's other client, every class).
var targetClasses = map[authzActor][]string{
	tActive:   {"goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"},
	tNoClass:  {"goals", "action_steps", "session_attendance"},
	tRevoked:  {"goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"},
	tExpired:  {"goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"},
	tDeclined: {"goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"},
}

// namedByTargetConsent are the therapists a signed consent of the target
// client names by account, whatever its state: the consent document tells
// them who the client is.
var namedByTargetConsent = []authzActor{tActive, tNoClass, tRevoked, tExpired, tDeclined}

// activeNow are the therapists whose consent of the target client is active.
var activeNow = []authzActor{tActive, tNoClass}

// sharedWith lists the therapists who may read class of the target client's
// data now.
func sharedWith(class string) []authzActor {
	var out []authzActor
	for _, who := range activeNow {
		if slices.Contains(targetClasses[who], class) {
			out = append(out, who)
		}
	}
	return out
}

// consentRefusal is the problem type of the 403 a therapist gets where
// their consent decides.
var consentRefusal = map[authzActor]string{
	tNoClass:  "consent_class_not_granted",
	tRevoked:  "consent_revoked",
	tExpired:  "consent_expired",
	tDeclined: "consent_declined",
}

// therapist is a therapist actor's account.
func (fx *authzFixture) therapist(who authzActor) shareTherapist {
	return fx.therapists[who-firstTherapist]
}

// therapistNames name the therapist actors' accounts; shareFixture.therapist
// derives their e-mail from the name.
var therapistNames = map[authzActor]string{
	tActive: "Thera Active", tNoClass: "Thera Noclass", tRevoked: "Thera Revoked", tExpired: "Thera Expired",
	tDeclined: "Thera Declined", tPending: "Thera Pending", tOtherClient: "Thera Otherclient", tNone: "Thera None",
}

// addTherapists gives the fixture its therapist actors, their consents in
// every state and two coordination threads, each reached the way the
// product reaches it; and marks who among them may read what.
func (fx *authzFixture) addTherapists() {
	env := fx.env
	t := env.t
	t.Helper()
	fx.share = &shareFixture{env: env, p: fx.a, practiceID: uuid.MustParse(fx.aPracticeID), coachID: uuid.MustParse(fx.a.clientRec.CoachID)}
	target, other := fx.a.clientRec.ID, fx.a.otherRec.ID
	client, coach := fx.a.client.AccessToken, fx.a.coach.AccessToken
	fx.consentOf = map[authzActor]uuid.UUID{}

	// T-pending: named by a consent whose invitation they never accept (see
	// the top of this file).
	for who := firstTherapist; who < actorCount; who++ {
		fx.therapists[who-firstTherapist] = fx.share.therapist(therapistNames[who])
	}
	pending := env.grant(client, target, env.signedBody(fx.a, therapistEmail(therapistNames[tPending])))
	if pending.Status != "pending" || pending.InvitationExpiresAt == nil {
		t.Fatalf("a consent for a therapist with an account: %+v, want pending with an invitation", pending)
	}
	fx.consentOf[tPending] = uuid.MustParse(pending.ID)
	if row := env.dbRow("consents", pending.ID); dbText(row["status"]) != "pending" || row["therapist_user_id"] != nil {
		t.Fatalf("the pending consent names an account before its invitation was accepted: %v", row)
	}
	fx.bystander = fx.share.therapist("Thera Bystander")

	for _, who := range namedByTargetConsent {
		expires := env.clock.Now().Add(90 * 24 * time.Hour)
		if who == tExpired {
			expires = env.clock.Now().Add(time.Minute)
		}
		fx.consentOf[who] = fx.share.consentUntil(fx.therapist(who), target, "active", expires, targetClasses[who]...)
	}
	fx.consentOf[tOtherClient] = fx.share.consent(fx.therapist(tOtherClient), other, "active", targetClasses[tActive]...)

	// Two threads, each written while its consent was active.
	fx.share.postNote(coach, target, map[string]any{"body": activeThreadText, "therapist_id": fx.therapist(tActive).ID}).
		want(t, http.StatusCreated)
	fx.share.postNote(fx.token(tRevoked), target, map[string]any{"body": revokedThreadText}).want(t, http.StatusCreated)
	fx.share.postNote(coach, target, map[string]any{"body": revokedThreadText, "therapist_id": fx.therapist(tRevoked).ID}).
		want(t, http.StatusCreated)
	// Every therapist of the target read their view while it was theirs.
	for _, who := range namedByTargetConsent {
		fx.share.sharedView(fx.token(who), target).want(t, http.StatusOK)
	}
	env.consentAction(client, fx.consentOf[tRevoked].String(), "revoke").want(t, http.StatusOK)
	env.consentAction(fx.token(tDeclined), fx.consentOf[tDeclined].String(), "decline").want(t, http.StatusOK)
	// T-expired's consent lapses; the actors' access tokens (15 minutes) do not.
	env.clock.Advance(2 * time.Minute)

	otherGoal := env.createGoal(coach, other, map[string]any{"title": "OTHER-CLIENT-GOAL-7a40 Learn Spanish", "why": "Theirs alone"})

	for who, id := range fx.consentOf {
		switch who {
		case tPending:
			fx.mark(id.String())
		case tOtherClient:
			fx.markElsewhere([]authzActor{who}, id.String())
		default:
			fx.markFor([]authzActor{who}, id.String())
		}
	}
	for who := firstTherapist; who < actorCount; who++ {
		id := fx.therapist(who).ID.String()
		if slices.Contains(namedByTargetConsent, who) {
			fx.markFor([]authzActor{who}, id)
		} else {
			fx.markElsewhere([]authzActor{who}, id)
		}
	}
	fx.mark(fx.bystander.ID.String())
	fx.markFor([]authzActor{tActive}, activeThreadText)
	fx.mark(revokedThreadText)
	fx.markElsewhere([]authzActor{tOtherClient}, fx.a.otherRec.ID, fx.a.otherRec.Name, otherGoal.ID, otherGoal.Title)
	fx.markElsewhere(nil, fx.b.clientRec.ID, fx.b.clientRec.Name, fx.b.otherRec.ID, fx.b.otherRec.Name)
}

// checkTherapistReads fails for every marked text in body that who may not read.
func (fx *authzFixture) checkTherapistReads(t *testing.T, name string, who authzActor, body []byte) {
	t.Helper()
	for text, readers := range fx.readers {
		if !slices.Contains(readers, who) && bytes.Contains(body, []byte(text)) {
			t.Errorf("%s: the response leaks %q: %s", name, text, body)
		}
	}
}

// checkTherapistRefusal checks a therapist's refusal: its problem type, and
// that it leaks nothing. A 403 where the consent decides names the
// consent's state; any other 403 is the rule's plain forbidden.
func (fx *authzFixture) checkTherapistRefusal(t *testing.T, row matrixRow, who authzActor, r response) {
	t.Helper()
	name := row.name() + " as " + who.String()
	var p map[string]any
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Errorf("%s: %v: %s", name, err, r.Body)
		return
	}
	want := map[int]string{http.StatusForbidden: "forbidden", http.StatusNotFound: "not_found", http.StatusConflict: "conflict"}[r.Code]
	if r.Code == http.StatusForbidden && row.consentDecides {
		want = consentRefusal[who]
	}
	if r.Code == http.StatusNotFound && row.notFoundType != "" {
		want = row.notFoundType
	}
	if typ, _ := p["type"].(string); want == "" || !strings.HasSuffix(typ, "/problems/"+want) {
		t.Errorf("%s: %d with problem type %q, want …/problems/%s", name, r.Code, typ, want)
	}
	delete(p, "instance") // the path the caller sent
	rest, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	fx.checkTherapistReads(t, name, who, rest)
}

// consentOfTActive is T-active's consent of the target client.
func consentOfTActive(fx *authzFixture) string { return fx.consentOf[tActive].String() }

// ownConsent is a therapist's own consent (T-pending's names their e-mail
// but not their account); for T-none and everyone else, T-otherclient's
// consent of A's other client.
func (fx *authzFixture) ownConsent(who authzActor) string {
	if id, ok := fx.consentOf[who]; ok {
		return id.String()
	}
	return fx.consentOf[tOtherClient].String()
}

// consentToEnd is the consent who tries to revoke or decline. A therapist
// named by a consent of the target client tries their own, except that the
// active ones decline (and succeed on) a fresh consent of their own, so
// their main consent outlives the row. T-pending tries the pending consent.
// Everyone else tries a fresh consent of the target client to a
// bystander, so that the client's revocation decides no later actor's
// outcome.
func (fx *authzFixture) consentToEnd(who authzActor, action string) string {
	switch {
	case action == "decline" && slices.Contains(activeNow, who):
		id := fx.share.consent(fx.therapist(who), fx.a.clientRec.ID, "active", "goals")
		fx.markFor([]authzActor{who}, id.String())
		return id.String()
	case slices.Contains(namedByTargetConsent, who) || who == tPending:
		return fx.consentOf[who].String()
	}
	id := fx.share.consent(fx.bystander, fx.a.clientRec.ID, "active", "goals")
	fx.mark(id.String())
	return id.String()
}

// consentRequest is what a coach proposes: a consent without a signature.
func (fx *authzFixture) consentRequest() map[string]any {
	return map[string]any{"therapist_name": "Thea Rapist", "therapist_email": fx.email("requested-therapist"),
		"data_classes": []string{"goals"}, "purpose": consentPurpose,
		"expires_at": fx.env.clock.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
}

// consentRows are the rows of the consent, therapist and coordination
// operations. The rows that end consents come last, and end fresh ones.
func consentRows() []matrixRow {
	ownConsent := func(fx *authzFixture, who authzActor) (string, any) { return "/consents/" + fx.ownConsent(who), nil }
	ending := func(action string) func(*authzFixture, authzActor) (string, any) {
		return func(fx *authzFixture, who authzActor) (string, any) {
			return "/consents/" + fx.consentToEnd(who, action) + "/" + action, nil
		}
	}
	return []matrixRow{
		// want: anonymous, A-owner, A-coach, A-otherCoach, B-coach, A-client, A-otherClient, B-client.
		// therapists: T-active, T-noclass, T-revoked, T-expired, T-declined, T-pending, T-otherclient, T-none.
		{method: "GET", path: "/consent-templates/current", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/consent-templates/current", nil)},
		{method: "GET", path: "/clients/{client_id}/consents", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call: at("/clients/%s/consents", targetClient, nil), shows: consentOfTActive},
		{method: "POST", path: "/clients/{client_id}/consents", want: statuses{401, 201, 201, 404, 404, 201, 404, 404}, therapists: noPracticeRole,
			// Staff request, everyone else signs, each for a therapist with no account.
			call: func(fx *authzFixture, who authzActor) (string, any) {
				path := "/clients/" + fx.a.clientRec.ID + "/consents"
				if who.isStaff() {
					return path, fx.consentRequest()
				}
				return path, fx.env.signedBody(fx.a, fx.email("signed-therapist"))
			}},
		{method: "GET", path: "/consents/{consent_id}", note: "T-active's consent of the target client",
			want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: therapistStatuses{200, 404, 404, 404, 404, 404, 404, 404},
			call: at("/consents/%s", consentOfTActive, nil), shows: consentOfTActive},
		{method: "GET", path: "/consents/{consent_id}", note: "a therapist's own; A's other client's for the others",
			want: statuses{401, 200, 200, 404, 404, 404, 200, 404}, therapists: therapistStatuses{200, 200, 200, 200, 200, 404, 200, 404},
			call: ownConsent, shows: func(fx *authzFixture) string { return fx.consentOf[tOtherClient].String() }},
		{method: "GET", path: "/consents/{consent_id}", note: "as FHIR: a therapist's own; A's other client's for the others",
			want: statuses{401, 200, 200, 404, 404, 404, 200, 404}, therapists: therapistStatuses{200, 200, 200, 200, 200, 404, 200, 404},
			headers: map[string]string{"Accept": "application/fhir+json"},
			call:    ownConsent, shows: func(fx *authzFixture) string { return fx.consentOf[tOtherClient].String() },
			inspect: func(t *testing.T, _ *authzFixture, who authzActor, r response) {
				if ct := r.Header.Get("Content-Type"); ct != "application/fhir+json" {
					t.Errorf("FHIR consent as %s: Content-Type %q", who, ct)
				}
			}},

		{method: "GET", path: "/shared/clients", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/shared/clients", nil), inspect: inspectSharedClients},
		{method: "GET", path: "/shared/clients/{client_id}",
			want: statuses{401, 404, 404, 404, 404, 404, 404, 404}, therapists: therapistStatuses{200, 200, 403, 403, 403, 404, 404, 404},
			call: at("/shared/clients/%s", targetClient, nil), consentDecides: true, discloses: true, inspect: inspectSharedView},
		{method: "GET", path: "/clients/{client_id}/coordination-notes",
			want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: therapistStatuses{200, 403, 403, 403, 403, 404, 404, 404},
			call: at("/clients/%s/coordination-notes", targetClient, nil), consentDecides: true, discloses: true,
			// Those who see the client read every thread, T-active only their own.
			shows: func(*authzFixture) string { return revokedThreadText }, inspect: inspectThread},
		{method: "POST", path: "/clients/{client_id}/coordination-notes",
			want: statuses{401, 201, 201, 404, 404, 403, 404, 404}, therapists: therapistStatuses{201, 403, 403, 403, 403, 404, 404, 404},
			// With one therapist to coordinate with, a coach need not name them.
			call:           at("/clients/%s/coordination-notes", targetClient, map[string]string{"body": activeThreadText}),
			consentDecides: true, inspect: inspectThreadNote},
		{method: "GET", path: "/clients/{client_id}/disclosures", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call: at("/clients/%s/disclosures", targetClient, nil), shows: consentOfTActive},

		{method: "POST", path: "/consents/{consent_id}/revoke",
			want: statuses{401, 403, 403, 404, 404, 200, 404, 404}, therapists: therapistStatuses{403, 403, 403, 403, 403, 404, 404, 404},
			call: ending("revoke")},
		{method: "POST", path: "/consents/{consent_id}/decline",
			want: statuses{401, 403, 403, 404, 404, 403, 404, 404}, therapists: therapistStatuses{200, 200, 409, 409, 409, 404, 404, 404},
			call: ending("decline")},
	}
}

// inspectSharedClients checks that the list holds exactly the clients whose
// active consent names the caller.
func inspectSharedClients(t *testing.T, fx *authzFixture, who authzActor, r response) {
	t.Helper()
	var list shareClientListDoc
	r.decode(t, &list)
	got := []string{}
	for _, it := range list.Items {
		got = append(got, it.ClientID)
	}
	want := []string{}
	switch {
	case slices.Contains(activeNow, who):
		want = []string{fx.a.clientRec.ID}
	case who == tOtherClient:
		want = []string{fx.a.otherRec.ID}
	}
	if !slices.Equal(got, want) {
		t.Errorf("GET /shared/clients as %s: lists %v, want %v", who, got, want)
	}
}

// inspectSharedView checks that the view carries exactly the consented
// classes, a class outside the consent absent, not empty.
func inspectSharedView(t *testing.T, fx *authzFixture, who authzActor, r response) {
	t.Helper()
	keys := map[authzActor][]string{
		tActive:  {"action_steps", "goals", "session_summaries", "sessions"},
		tNoClass: {"action_steps", "goals", "sessions"},
	}[who]
	if got := progressKeys(t, r); !slices.Equal(got, keys) {
		t.Errorf("GET /shared/clients/{client_id} as %s: the view has %v, want exactly %v: %s", who, got, keys, r.Body)
	}
	for _, class := range targetClasses[who] {
		mark := map[string]string{"goals": fx.goal.ID, "action_steps": fx.doneStep.ID, "session_attendance": fx.session.ID,
			"session_summaries": summaryText}[class]
		if mark != "" && !bytes.Contains(r.Body, []byte(mark)) {
			t.Errorf("GET /shared/clients/{client_id} as %s: the view lacks %q of %s: %s", who, mark, class, r.Body)
		}
	}
}

// inspectThread checks that a therapist reads their own thread, and it.
func inspectThread(t *testing.T, fx *authzFixture, who authzActor, r response) {
	t.Helper()
	if !who.isTherapist() {
		return
	}
	var list shareNoteListDoc
	r.decode(t, &list)
	mine := fx.therapist(who).ID.String()
	for _, n := range list.Items {
		if n.TherapistID != mine {
			t.Errorf("coordination notes as %s: a note of %s's thread: %+v", who, n.TherapistID, n)
		}
	}
	if !bytes.Contains(r.Body, []byte(activeThreadText)) {
		t.Errorf("coordination notes as %s: their own thread is missing: %s", who, r.Body)
	}
}

// inspectThreadNote checks that every note written goes on T-active's thread.
func inspectThreadNote(t *testing.T, fx *authzFixture, who authzActor, r response) {
	t.Helper()
	var n shareNoteDoc
	r.decode(t, &n)
	if n.TherapistID != fx.therapist(tActive).ID.String() || n.ClientID != fx.a.clientRec.ID {
		t.Errorf("coordination note as %s: on %s's thread about %s, want T-active's about the target", who, n.TherapistID, n.ClientID)
	}
}
