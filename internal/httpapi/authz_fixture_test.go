package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"time"

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
	actorCount
)

var actorNames = [actorCount]string{"anonymous", "A-owner", "A-coach", "A-otherCoach", "B-coach", "A-client", "A-otherClient", "B-client"}

func (a authzActor) String() string { return actorNames[a] }

// seesTarget reports whether the actor may see the target client's records.
func (a authzActor) seesTarget() bool { return a == aOwner || a == aCoach || a == aClient }

// seesPrivateNote reports whether the actor may read the target session's private note.
func (a authzActor) seesPrivateNote() bool { return a == aOwner || a == aCoach }

// isClient reports whether the actor signs in as a portal client.
func (a authzActor) isClient() bool { return a == aClient || a == aOtherClient || a == bClient }

// authzFixture is practice A, with one of every coaching record for the
// target client, and practice B. Every identifier and text that only those
// who see the target client may read is collected in targetMarks, so any
// response can be searched for a leak.
type authzFixture struct {
	env  *testEnv
	a, b practiceFixture

	aPracticeID, bPracticeID string
	aOtherCoachID            string

	goal      goalDoc // with a metric
	progress  string  // a progress entry's ID
	step      stepDoc
	session   sessionDoc
	feedPath  string    // A-coach's calendar feed
	invitee   clientDoc // a client of A-coach with an e-mail and no portal account yet
	noteText  string    // the session's private note
	nextSlot  int       // days ahead of the next free session slot
	nextEmail int

	targetMarks []string
}

// authzLimits lift the sign-in rate limits: the matrix signs in dozens of
// times from one address, and rate limiting has its own tests.
var authzLimits = envOptions{
	ipLimit:      ratelimit.Rule{Burst: 10000, Per: time.Minute},
	accountLimit: ratelimit.Rule{Burst: 10000, Per: time.Minute},
}

func newAuthzFixture(env *testEnv) *authzFixture {
	env.t.Helper()
	fx := &authzFixture{env: env, nextSlot: 10, noteText: "PRIVATE-NOTE-7f3c only the coach may read this"}
	fx.a = env.practice("a")
	fx.b = env.practice("b")
	fx.aPracticeID = env.whoAmI(fx.a.owner.AccessToken).Practice.ID.String()
	fx.bPracticeID = env.whoAmI(fx.b.owner.AccessToken).Practice.ID.String()
	fx.aOtherCoachID = env.userIDOf(fx.a.otherCoach.AccessToken)

	target := fx.a.clientRec
	fx.mark(target.ID, target.Name, *target.Email)
	coach := fx.a.coach.AccessToken
	fx.goal = env.createGoal(coach, target.ID, map[string]any{"title": "Run a half marathon", "why": "To trust my body again",
		"metric": map[string]any{"unit": "km", "baseline": 5, "target": 21}})
	fx.mark(fx.goal.ID)
	var entry struct {
		ID string `json:"id"`
	}
	env.do(request{method: "POST", path: "/api/v1/goals/" + fx.goal.ID + "/progress", token: coach,
		body: map[string]any{"value": 8, "note": "First long run"}}).want(env.t, http.StatusCreated).decode(env.t, &entry)
	fx.progress = entry.ID
	fx.mark(fx.progress)
	fx.step = env.createStep(coach, fx.goal.ID, map[string]any{"title": "Run 10 km on Sunday"})
	fx.mark(fx.step.ID)
	fx.session, _ = env.scheduleSession(coach, target.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60, "agenda": "Training plan"})
	fx.mark(fx.session.ID)
	env.do(request{method: "PUT", path: "/api/v1/sessions/" + fx.session.ID + "/private-note", token: coach,
		body: map[string]string{"body": fx.noteText}}).want(env.t, http.StatusOK)
	fx.feedPath = env.feedPath(coach)
	fx.markFeed(fx.feedPath)

	fx.invitee = env.createClient(coach, map[string]any{"name": "Invitee of A's coach", "email": "a-invitee@example.com"})
	fx.mark(fx.invitee.ID, fx.invitee.Name, *fx.invitee.Email)
	return fx
}

// mark adds identifiers or texts that only those who see the target client may read.
func (fx *authzFixture) mark(marks ...string) { fx.targetMarks = append(fx.targetMarks, marks...) }

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
	fx.mark(g.ID)
	return g.ID
}

// freshStep is a new open step of the target client's goal.
func (fx *authzFixture) freshStep() string {
	s := fx.env.createStep(fx.a.coach.AccessToken, fx.goal.ID, map[string]any{"title": "Stretch after the run"})
	fx.mark(s.ID)
	return s.ID
}

// freshDoneStep is a new step of the target client's goal, completed by their coach.
func (fx *authzFixture) freshDoneStep() string {
	id := fx.freshStep()
	fx.env.completeStep(fx.a.coach.AccessToken, id, nil)
	return id
}

// refreshToken signs B's owner in afresh — someone with no tie to the target
// client — and returns the new refresh token.
func (fx *authzFixture) refreshToken() string {
	return fx.env.login("b-owner@example.com", goodPassword).tokens(fx.env.t, http.StatusOK).RefreshToken
}

// coachInvitation is a new, unused invitation into practice B.
func (fx *authzFixture) coachInvitation() string {
	return fx.env.invite(fx.b.owner.AccessToken, fx.email("b-invited")).token(fx.env.t)
}

// authzTables are the tables a request of the matrix may write.
var authzTables = []string{"practices", "users", "memberships", "invitations", "auth_sessions", "clients", "client_invitations",
	"goals", "goal_progress", "action_steps", "coaching_sessions", "calendar_feeds", "audit_events"}

// dbState is what a refused request must leave as it was: the row count of
// every table the API writes, and every column of the target client and of
// its goal, step and session.
func (fx *authzFixture) dbState() map[string]any {
	env := fx.env
	env.t.Helper()
	state := map[string]any{}
	for _, table := range authzTables {
		state["rows in "+table] = env.rowCount(table)
	}
	for table, id := range map[string]string{"clients": fx.a.clientRec.ID, "goals": fx.goal.ID,
		"action_steps": fx.step.ID, "coaching_sessions": fx.session.ID} {
		for col, v := range env.dbRow(table, id) {
			state[table+"."+col] = v
		}
	}
	return state
}

// restoreTarget sets the target client back to active after an archive.
func (fx *authzFixture) restoreTarget() {
	fx.env.do(request{method: "PATCH", path: "/api/v1/clients/" + fx.a.clientRec.ID, token: fx.a.owner.AccessToken,
		body: map[string]string{"status": "active"}}).want(fx.env.t, http.StatusOK)
}
