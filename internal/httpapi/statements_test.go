package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"
)

// statementCounter counts the SQL statements the service sends while on.
type statementCounter struct {
	on, n atomic.Int64
}

// countStatements registers a counter on env's database for every kind of
// statement GORM runs.
func (env *testEnv) countStatements() *statementCounter {
	env.t.Helper()
	c := &statementCounter{}
	count := func(*gorm.DB) {
		if c.on.Load() == 1 {
			c.n.Add(1)
		}
	}
	cb := env.store.DB.Callback()
	for _, err := range []error{
		cb.Query().Register("test:statements_query", count),
		cb.Row().Register("test:statements_row", count),
		cb.Raw().Register("test:statements_raw", count),
		cb.Create().Register("test:statements_create", count),
		cb.Update().Register("test:statements_update", count),
		cb.Delete().Register("test:statements_delete", count),
	} {
		if err != nil {
			env.t.Fatal(err)
		}
	}
	return c
}

// during returns how many statements fn sent.
func (c *statementCounter) during(fn func()) int64 {
	c.n.Store(0)
	c.on.Store(1)
	fn()
	c.on.Store(0)
	return c.n.Load()
}

// TestAuthenticationIsOneStatement: whoever the caller is, finding out
// costs one round trip, and it is made on every request: nothing about a
// session is cached, so a sign-out bites on the very next request.
func TestAuthenticationIsOneStatement(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "a")
	th := fx.therapist("Theo")
	statements := env.countStatements()

	for name, token := range map[string]string{"owner": fx.p.owner.AccessToken, "coach": fx.p.coach.AccessToken,
		"client": fx.p.client.AccessToken, "therapist": th.Tokens.AccessToken} {
		var err error
		if n := statements.during(func() { _, err = env.accounts.Authenticate(context.Background(), token) }); n != 1 || err != nil {
			t.Errorf("authenticating the %s: %d statements, error %v; want 1, none", name, n, err)
		}
	}

	env.logout(fx.p.coach.RefreshToken).want(t, http.StatusNoContent)
	env.me(fx.p.coach.AccessToken).problem(t, http.StatusUnauthorized)
}

// TestStepListIsOneStatement: a client's step list costs one statement
// after authentication, whether the page is full or empty, and whether the
// client is visible or not.
func TestStepListIsOneStatement(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("s")
	coach := f.coach.AccessToken
	goal := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Move more", "why": "Energy for my children"})
	statements := env.countStatements()
	list := func(token, clientID string, status int) int64 {
		return statements.during(func() {
			env.do(request{method: "GET", path: "/api/v1/clients/" + clientID + "/action-steps?status=open", token: token}).want(t, status)
		})
	}

	if n := list(f.client.AccessToken, f.clientRec.ID, http.StatusOK); n != 2 {
		t.Errorf("an empty list: %d statements, want 2 (authentication and the list)", n)
	}
	for i := range 60 {
		env.createStep(coach, goal.ID, map[string]any{"title": fmt.Sprintf("Walk %d", i)})
	}
	if n := list(f.client.AccessToken, f.clientRec.ID, http.StatusOK); n != 2 {
		t.Errorf("a full page: %d statements, want 2", n)
	}
	if n := list(f.client.AccessToken, f.otherRec.ID, http.StatusNotFound); n != 2 {
		t.Errorf("another client's list: %d statements, want 2", n)
	}
	var page stepList
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/action-steps?status=open", token: f.client.AccessToken}).
		want(t, http.StatusOK).decode(t, &page)
	if len(page.Items) != 50 || page.NextCursor == nil {
		t.Fatalf("first page: %d steps, next %v", len(page.Items), page.NextCursor)
	}
	var rest stepList
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/action-steps?status=open&cursor=" + *page.NextCursor,
		token: f.client.AccessToken}).want(t, http.StatusOK).decode(t, &rest)
	if len(rest.Items) != 10 || rest.NextCursor != nil || rest.Items[0].ID <= page.Items[49].ID {
		t.Fatalf("second page: %d steps, next %v", len(rest.Items), rest.NextCursor)
	}
}
