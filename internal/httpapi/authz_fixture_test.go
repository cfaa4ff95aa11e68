package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// authzActor is one caller of the authorization matrix, named by its
// relationship to the target client: a client of practice A coached by A's
// coach.
type authzActor int

const (
	anonymous    authzActor = iota
	aOwner                  // the owner of practice A
	aCoach                  // the target client's coach
	aOtherCoach             // another coach of practice A
	bCoach                  // a coach of practice B
	aClient                 // the target client
	aOtherClient            // another client of practice A (also coached by aCoach)
	bClient                 // a client of practice B
	// The therapists: users of no practice, who reach client data only
	// through the consents naming them (see addTherapists).
	tActive      // the target client's active consent, every data class
	tNoClass     // the target client's active consent without session_summaries and coordination_notes
	tRevoked     // a consent the target client revoked
	tExpired     // a consent of the target client that expired
	tDeclined    // a consent of the target client the therapist declined
	tPending     // an account whose e-mail a pending consent of the target client names, not linked to it
	tOtherClient // an active consent of A's other client, every data class
	tNone        // no consent at all
	actorCount
)

// firstTherapist is the first therapist actor; anonymous and the members of
// practices A and B come before it.
const firstTherapist = tActive

var actorNames = [actorCount]string{"anonymous", "A-owner", "A-coach", "A-otherCoach", "B-coach", "A-client", "A-otherClient", "B-client",
	"T-active", "T-noclass", "T-revoked", "T-expired", "T-declined", "T-pending", "T-otherclient", "T-none"}

func (a authzActor) String() string { return actorNames[a] }

// seesTarget reports whether the actor, a member of a practice, may see the
// target client's records. What a therapist may read is decided per text:
// see authzFixture.readers.
func (a authzActor) seesTarget() bool { return a == aOwner || a == aCoach || a == aClient }

// seesPrivateNote reports whether the actor may read the target session's private note.
func (a authzActor) seesPrivateNote() bool { return a == aOwner || a == aCoach }

// isClient reports whether the actor signs in as a portal client.
func (a authzActor) isClient() bool { return a == aClient || a == aOtherClient || a == bClient }

// isStaff reports whether the actor is an owner or coach of a practice.
func (a authzActor) isStaff() bool {
	return a == aOwner || a == aCoach || a == aOtherCoach || a == bCoach
}

// isTherapist reports whether the actor is one of the therapists.
func (a authzActor) isTherapist() bool { return a >= firstTherapist && a < actorCount }

// authzFixture is practice A, with one of every coaching record for the
// target client, and practice B. Every identifier and text that only those
// who see the target client may read is collected in targetMarks, so any
// response can be searched for a leak; readers says which of those texts,
// and of some others, each therapist may read.
type authzFixture struct {
	env  *testEnv
	a, b practiceFixture

	aPracticeID, bPracticeID string
	aOtherCoachID            string

	goal        goalDoc // with a metric
	progress    string  // a progress entry's ID
	step        stepDoc
	doneStep    stepDoc // completed by the client, with a reflection
	session     sessionDoc
	heldSession sessionDoc // completed, with a shared summary
	feedPath    string     // A-coach's calendar feed
	invitee     clientDoc  // a client of A-coach with an e-mail and no portal account yet
	noteText    string     // the session's private note
	nextSlot    int        // days ahead of the next free session slot
	nextEmail   int
	// spareSessions are refresh tokens of sessions the matrix opened and no
	// longer needs: rotated by its refreshes, or opened by its MFA sign-ins.
	spareSessions []string

	// The identity rows' own accounts and secrets. registered are the
	// addresses the register row registered: the verify-email row proves
	// them, the password-reset confirmation row resets them, in order.
	registered      []string
	verified, reset int
	totpSecrets     map[authzActor]string // enrolled by the TOTP enrolment row, for its confirmation
	mfaLogins       []mfaLogin            // unused recovery codes of the MFA accounts, see mfaChallenge
	foreignSession  string                // a live session of B's owner, who is no actor

	// The therapist actors, set up by addTherapists for the matrix only.
	share      *shareFixture
	therapists [actorCount - firstTherapist]shareTherapist
	consentOf  map[authzActor]uuid.UUID // each therapist's consent; T-pending's names their e-mail only
	bystander  shareTherapist           // named by the fresh consents the revoke and decline rows end

	// ownerExportID is an export A-owner asked for (see privacyRows).
	ownerExportID string

	targetMarks []string
	// readers maps every marked text to the therapist actors who may read
	// it; a text none may read maps to nil.
	readers map[string][]authzActor
}

// Texts planted in the target client's record. None reaches a therapist
// under any consent, except the summary under session_summaries and the
// thread note under coordination_notes, and only to the therapist it is for.
const (
	reflectionText   = "REFLECTION-5e21 harder than I thought"
	locationText     = "LOCATION-8c4d Room 3, Kastanienallee 12"
	agendaText       = "AGENDA-1b9f Training plan"
	descriptionText  = "DESCRIPTION-3a77 Autumn race"
	detailsText      = "DETAILS-6d02 Slow pace"
	progressNoteText = "PROGRESS-NOTE-0e5c First long run"
	summaryText      = "SUMMARY-4f18 We planned the training week."
	// activeThreadText is on T-active's coordination thread; revokedThreadText
	// on T-revoked's, written while their consent was active.
	activeThreadText  = "THREAD-ACTIVE-9d3e Shall we move the check-in to Friday?"
	revokedThreadText = "THREAD-REVOKED-2c6a Notes for a thread that has ended."
	// targetName replaces the fixture's client name, which holds their e-mail.
	targetName = "Ada Target"
)

// authzLimits lift the sign-in rate limits: the matrix signs in dozens of
// times from one address, and rate limiting has its own tests.
var authzLimits = envOptions{ipLimit: ratelimit.Rule{Burst: 10000, Per: time.Minute}}

func newAuthzFixture(env *testEnv) *authzFixture {
	env.t.Helper()
	fx := &authzFixture{env: env, nextSlot: 10, noteText: "PRIVATE-NOTE-7f3c only the coach may read this", readers: map[string][]authzActor{},
		totpSecrets: map[authzActor]string{}}
	fx.a = env.practice("a")
	fx.b = env.practice("b")
	fx.aPracticeID = env.whoAmI(fx.a.owner.AccessToken).Practice.ID.String()
	fx.bPracticeID = env.whoAmI(fx.b.owner.AccessToken).Practice.ID.String()
	fx.aOtherCoachID = env.userIDOf(fx.a.otherCoach.AccessToken)
	coach := fx.a.coach.AccessToken

	// The fixture's name holds the client's e-mail, which no therapist may
	// read while some may read the name.
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + fx.a.clientRec.ID, token: coach,
		body: map[string]string{"name": targetName}}).want(env.t, http.StatusOK).decode(env.t, &fx.a.clientRec)
	target := fx.a.clientRec
	fx.markFor(namedByTargetConsent, target.ID, target.Name)
	fx.mark(*target.Email)
	fx.goal = env.createGoal(coach, target.ID, map[string]any{"title": "Run a half marathon", "why": "To trust my body again",
		"description": descriptionText, "metric": map[string]any{"unit": "km", "baseline": 5, "target": 21}})
	fx.markFor(sharedWith("goals"), fx.goal.ID)
	var entry struct {
		ID string `json:"id"`
	}
	env.do(request{method: "POST", path: "/api/v1/goals/" + fx.goal.ID + "/progress", token: coach,
		body: map[string]any{"value": 8, "note": progressNoteText}}).want(env.t, http.StatusCreated).decode(env.t, &entry)
	fx.progress = entry.ID
	fx.mark(fx.progress, progressNoteText, descriptionText)
	fx.step = env.createStep(coach, fx.goal.ID, map[string]any{"title": "Run 10 km on Sunday", "details": detailsText})
	fx.doneStep = env.createStep(coach, fx.goal.ID, map[string]any{"title": "Buy a running watch"})
	fx.doneStep = env.completeStep(fx.a.client.AccessToken, fx.doneStep.ID, map[string]any{"note": reflectionText})
	fx.markFor(sharedWith("action_steps"), fx.step.ID, fx.doneStep.ID)
	fx.mark(detailsText, reflectionText)
	fx.session, _ = env.scheduleSession(coach, target.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60, "location": locationText, "agenda": agendaText})
	var etag string
	fx.heldSession, etag = env.scheduleSession(coach, target.ID, map[string]any{
		"starts_at": env.sessionSlot(1, 9, 0, nil), "duration_minutes": 50, "location": locationText, "agenda": agendaText})
	env.patchSession(coach, fx.heldSession.ID, map[string]any{"status": "completed", "summary": summaryText}, etag).
		want(env.t, http.StatusOK)
	fx.markFor(sharedWith("session_attendance"), fx.session.ID, fx.heldSession.ID)
	fx.markFor(sharedWith("session_summaries"), summaryText)
	fx.mark(locationText, agendaText, fx.noteText)
	env.do(request{method: "PUT", path: "/api/v1/sessions/" + fx.session.ID + "/private-note", token: coach,
		body: map[string]string{"body": fx.noteText}}).want(env.t, http.StatusOK)
	fx.feedPath = env.feedPath(coach)
	fx.markFeed(fx.feedPath)

	fx.invitee = env.createClient(coach, map[string]any{"name": "Invitee of A's coach", "email": "a-invitee@example.com"})
	fx.mark(fx.invitee.ID, fx.invitee.Name, *fx.invitee.Email)
	return fx
}

// mark adds identifiers or texts that only those who see the target client
// may read, and no therapist.
func (fx *authzFixture) mark(marks ...string) { fx.markFor(nil, marks...) }

// markFor adds identifiers or texts that only those who see the target
// client may read, and, among the therapists, only readers.
func (fx *authzFixture) markFor(readers []authzActor, marks ...string) {
	fx.targetMarks = append(fx.targetMarks, marks...)
	fx.markElsewhere(readers, marks...)
}

// markElsewhere adds identifiers or texts that are not the target client's,
// which among the therapists only readers may read.
func (fx *authzFixture) markElsewhere(readers []authzActor, marks ...string) {
	for _, m := range marks {
		fx.readers[m] = readers
	}
}

// markFeed marks a calendar feed's token: the feed's URL is a credential.
func (fx *authzFixture) markFeed(path string) {
	fx.mark(strings.TrimSuffix(strings.TrimPrefix(path, "/api/v1/calendar/"), ".ics"))
}

// token is the actor's access token ("" for anonymous).
func (fx *authzFixture) token(a authzActor) string {
	switch a {
	case aOwner:
		return fx.a.owner.AccessToken
	case aCoach:
		return fx.a.coach.AccessToken
	case aOtherCoach:
		return fx.a.otherCoach.AccessToken
	case bCoach:
		return fx.b.coach.AccessToken
	case aClient:
		return fx.a.client.AccessToken
	case aOtherClient:
		return fx.a.otherClient.AccessToken
	case bClient:
		return fx.b.client.AccessToken
	}
	if a.isTherapist() {
		return fx.therapist(a).Tokens.AccessToken
	}
	return ""
}

// email returns an address no one has used yet.
func (fx *authzFixture) email(prefix string) string {
	fx.nextEmail++
	return fmt.Sprintf("%s-%d@example.com", prefix, fx.nextEmail)
}

// slot returns a session start on a day no other session of the fixture uses.
func (fx *authzFixture) slot() string {
	fx.nextSlot++
	return fx.env.sessionSlot(fx.nextSlot, 9, 0, nil)
}

// freshGoal is a new goal of the target client, set by their coach.
func (fx *authzFixture) freshGoal() string {
	g := fx.env.createGoal(fx.a.coach.AccessToken, fx.a.clientRec.ID, map[string]any{"title": "Sleep eight hours", "why": "Energy"})
	fx.markFor(sharedWith("goals"), g.ID)
	return g.ID
}

// freshStep is a new open step of the target client's goal.
func (fx *authzFixture) freshStep() string {
	s := fx.env.createStep(fx.a.coach.AccessToken, fx.goal.ID, map[string]any{"title": "Stretch after the run"})
	fx.markFor(sharedWith("action_steps"), s.ID)
	return s.ID
}

// freshDoneStep is a new step of the target client's goal, completed by their coach.
func (fx *authzFixture) freshDoneStep() string {
	id := fx.freshStep()
	fx.env.completeStep(fx.a.coach.AccessToken, id, nil)
	return id
}

// refreshToken is a live refresh token of someone with no tie to the
// target client: a spare session the matrix opened (see keepSession), or
// else B's owner signed in afresh.
func (fx *authzFixture) refreshToken() string {
	if n := len(fx.spareSessions); n > 0 {
		token := fx.spareSessions[n-1]
		fx.spareSessions = fx.spareSessions[:n-1]
		return token
	}
	return fx.env.login("b-owner@example.com", goodPassword).tokens(fx.env.t, http.StatusOK).RefreshToken
}

// keepSession keeps the refresh token of a session a successful response
// opened or rotated, for refreshToken: each sign-in it spares costs an
// Argon2 verification, and the matrix asks for a refresh token per actor on
// two rows.
func (fx *authzFixture) keepSession(r response) {
	if r.Code != http.StatusOK && r.Code != http.StatusCreated {
		return
	}
	var tp tokenPair
	r.decode(fx.env.t, &tp)
	fx.spareSessions = append(fx.spareSessions, tp.RefreshToken)
}

// actorEmail is the address the actor signs in with ("" for anonymous).
func (fx *authzFixture) actorEmail(a authzActor) string {
	switch a {
	case aOwner:
		return "a-owner@example.com"
	case aCoach:
		return "a-coach@example.com"
	case aOtherCoach:
		return "a-coach2@example.com"
	case bCoach:
		return "b-coach@example.com"
	case aClient:
		return "a-client@example.com"
	case aOtherClient:
		return "a-client2@example.com"
	case bClient:
		return "b-client@example.com"
	}
	if a.isTherapist() {
		return therapistEmail(therapistNames[a])
	}
	return ""
}

// sessionID is the ID of the session of tp, as its holder lists it.
func (fx *authzFixture) sessionID(tp tokenPair) string {
	env := fx.env
	env.t.Helper()
	var list struct {
		Items []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/me/sessions", token: tp.AccessToken}).want(env.t, http.StatusOK).decode(env.t, &list)
	for _, s := range list.Items {
		if s.Current {
			return s.ID
		}
	}
	env.t.Fatalf("no current session among %+v", list.Items)
	return ""
}

// ownFreshSession signs the actor in once more and returns the new
// session's ID, for the actor to end; for anonymous, B's owner's.
func (fx *authzFixture) ownFreshSession(who authzActor) string {
	if who == anonymous {
		return fx.otherUsersSession()
	}
	return fx.sessionID(fx.env.login(fx.actorEmail(who), goodPassword).tokens(fx.env.t, http.StatusOK))
}

// otherUsersSession is a live session of B's owner, who is none of the actors.
func (fx *authzFixture) otherUsersSession() string {
	if fx.foreignSession == "" {
		fx.foreignSession = fx.sessionID(fx.env.login("b-owner@example.com", goodPassword).tokens(fx.env.t, http.StatusOK))
	}
	return fx.foreignSession
}

// registeredAddress returns the next address the register row registered,
// counting with next; "" once there is none left.
func (fx *authzFixture) registeredAddress(next *int) string {
	if *next >= len(fx.registered) {
		return ""
	}
	*next++
	return fx.registered[*next-1]
}

// emailedToken is the link token of the newest e-mail to address, or a
// token no link has when there is no address.
func (fx *authzFixture) emailedToken(address string) string {
	if address == "" {
		return "no-such-link"
	}
	return fx.env.mailToken(address)
}

// mfaLogin is a recovery code of an account with TOTP on.
type mfaLogin struct{ email, code string }

// mfaChallenge signs an account with TOTP on in with its password, and
// returns the challenge and an unused recovery code to complete it. It
// enrols a new account when the codes run out.
func (fx *authzFixture) mfaChallenge() (token, code string) {
	env := fx.env
	env.t.Helper()
	if len(fx.mfaLogins) == 0 {
		email := fx.email("mfa")
		tp := env.register(email)
		var e struct {
			Secret string `json:"secret"`
		}
		env.do(request{method: "POST", path: "/api/v1/me/mfa/totp", token: tp.AccessToken}).want(env.t, http.StatusCreated).decode(env.t, &e)
		var codes struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		env.do(request{method: "POST", path: "/api/v1/me/mfa/totp/confirm", token: tp.AccessToken,
			body: map[string]string{"code": fx.totpCode(e.Secret)}}).want(env.t, http.StatusOK).decode(env.t, &codes)
		for _, c := range codes.RecoveryCodes {
			fx.mfaLogins = append(fx.mfaLogins, mfaLogin{email: email, code: c})
		}
	}
	next := fx.mfaLogins[0]
	fx.mfaLogins = fx.mfaLogins[1:]
	var ch struct {
		MFAToken string `json:"mfa_token"`
	}
	env.login(next.email, goodPassword).want(env.t, http.StatusAccepted).decode(env.t, &ch)
	return ch.MFAToken, next.code
}

// totpCode is secret's TOTP code now; a code no secret gives when secret is "".
func (fx *authzFixture) totpCode(secret string) string {
	if secret == "" {
		return "000000"
	}
	code, err := totp.GenerateCode(secret, fx.env.clock.Now())
	if err != nil {
		fx.env.t.Fatal(err)
	}
	return code
}

// coachInvitation is a new, unused invitation into practice B.
func (fx *authzFixture) coachInvitation() string {
	return fx.env.invite(fx.b.owner.AccessToken, fx.email("b-invited")).token(fx.env.t)
}

// authzTables are the tables a request of the matrix may write.
var authzTables = []string{"practices", "users", "memberships", "invitations", "auth_sessions", "clients", "client_invitations",
	"goals", "goal_progress", "action_steps", "coaching_sessions", "calendar_feeds", "audit_events",
	"consents", "therapist_invitations", "disclosures", "coordination_notes",
	"email_tokens", "mfa_recovery_codes", "mfa_challenges", "erasure_requests"}

// dbState is what a refused request must leave as it was: the row count of
// every table the API writes, every column of the target client and of its
// goal, step and session, and every column of the therapists' consents. The
// matrix reads it before and after every refused write, so it reads the
// counts in one query and the consents in another.
func (fx *authzFixture) dbState() map[string]any {
	env := fx.env
	env.t.Helper()
	state := map[string]any{}
	for table, n := range env.rowCounts(authzTables) {
		state["rows in "+table] = n
	}
	for table, id := range map[string]string{"clients": fx.a.clientRec.ID, "goals": fx.goal.ID,
		"action_steps": fx.step.ID, "coaching_sessions": fx.session.ID} {
		for col, v := range env.dbRow(table, id) {
			state[table+"."+col] = v
		}
	}
	if len(fx.consentOf) == 0 {
		return state
	}
	ids := make([]uuid.UUID, 0, len(fx.consentOf))
	for _, id := range fx.consentOf {
		ids = append(ids, id)
	}
	rows, err := env.store.DB.Table("consents").Where("id IN ?", ids).Rows()
	if err != nil {
		env.t.Fatalf("read consents: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		env.t.Fatal(err)
	}
	n := 0
	for ; rows.Next(); n++ {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			env.t.Fatalf("read consents: %v", err)
		}
		id := dbText(vals[slices.Index(cols, "id")])
		for i, col := range cols {
			if b, ok := vals[i].([]byte); ok {
				vals[i] = bytes.Clone(b) // the driver may reuse its buffer
			}
			state["consent "+id+"."+col] = vals[i]
		}
	}
	if err := rows.Err(); err != nil || n != len(ids) {
		env.t.Fatalf("read consents: %d of %d rows (%v)", n, len(ids), err)
	}
	return state
}

// rowCounts counts the rows of each table, in one query.
func (env *testEnv) rowCounts(tables []string) map[string]int64 {
	env.t.Helper()
	cols := make([]string, len(tables))
	for i, table := range tables {
		cols[i] = "(SELECT COUNT(*) FROM " + table + ")" // tables are this file's constants
	}
	vals := make([]int64, len(tables))
	ptrs := make([]any, len(tables))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := env.store.DB.Raw("SELECT " + strings.Join(cols, ", ")).Row().Scan(ptrs...); err != nil {
		env.t.Fatalf("count rows: %v", err)
	}
	out := make(map[string]int64, len(tables))
	for i, table := range tables {
		out[table] = vals[i]
	}
	return out
}

// restoreTarget sets the target client back to active after an archive.
func (fx *authzFixture) restoreTarget() {
	fx.env.do(request{method: "PATCH", path: "/api/v1/clients/" + fx.a.clientRec.ID, token: fx.a.owner.AccessToken,
		body: map[string]string{"status": "active"}}).want(fx.env.t, http.StatusOK)
}
