package httpapi_test

import (
	"net/http"
)

type clientDoc struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Email    *string `json:"email"`
	Phone    *string `json:"phone"`
	Timezone string  `json:"timezone"`
	CoachID  string  `json:"coach_id"`
	Status   string  `json:"status"`
	Portal   string  `json:"portal"`
}

// createClient adds a client as the staff member holding token.
func (env *testEnv) createClient(token string, body map[string]any) clientDoc {
	env.t.Helper()
	var c clientDoc
	env.do(request{method: "POST", path: "/api/v1/clients", token: token, body: body}).
		want(env.t, http.StatusCreated).decode(env.t, &c)
	return c
}

// portalClient adds a client with an e-mail, invites them to the portal and
// accepts, returning the client and the client's tokens.
func (env *testEnv) portalClient(staffToken, email, timezone string) (clientDoc, tokenPair) {
	env.t.Helper()
	c := env.createClient(staffToken, map[string]any{"name": "Client " + email, "email": email, "timezone": timezone})
	env.do(request{method: "POST", path: "/api/v1/clients/" + c.ID + "/invitation", token: staffToken}).
		want(env.t, http.StatusCreated)
	var tp tokenPair
	env.accept(env.mailToken(email), map[string]string{"name": "Client " + email, "password": goodPassword}).
		want(env.t, http.StatusCreated).decode(env.t, &tp)
	return c, tp
}

// practiceFixture is one practice with its cast: the owner, two coaches, and
// two portal clients of the first coach.
type practiceFixture struct {
	owner, coach, otherCoach tokenPair
	client, otherClient      tokenPair
	clientRec, otherRec      clientDoc
}

func (env *testEnv) practice(prefix string) practiceFixture {
	env.t.Helper()
	var f practiceFixture
	f.owner = env.register(prefix + "-owner@example.com")
	f.coach = env.addCoach(f.owner.AccessToken, prefix+"-coach@example.com")
	f.otherCoach = env.addCoach(f.owner.AccessToken, prefix+"-coach2@example.com")
	f.clientRec, f.client = env.portalClient(f.coach.AccessToken, prefix+"-client@example.com", "Europe/Berlin")
	f.otherRec, f.otherClient = env.portalClient(f.coach.AccessToken, prefix+"-client2@example.com", "America/New_York")
	return f
}
