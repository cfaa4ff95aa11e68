package httpapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// erasureDoc is an erasure request as the API shows it.
type erasureDoc struct {
	ID            string    `json:"id"`
	ClientID      string    `json:"client_id"`
	Status        string    `json:"status"`
	RequestedAt   time.Time `json:"requested_at"`
	RequestedBy   string    `json:"requested_by"`
	DueAt         time.Time `json:"due_at"`
	CancellableBy []string  `json:"cancellable_by"`
}

// TestErasureRequestReadBack: a pending erasure request can be read back by
// the client (GET /me/erasure-request) and by the staff who see the client
// (GET /clients/{client_id}/erasure-request), with who asked, when it is
// carried out and who may cancel; no one else reads it, and none pending
// is a 404 problem.
func TestErasureRequestReadBack(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a := env.practice("era")
	b := env.practice("erb")
	clientPath := "/api/v1/clients/" + a.clientRec.ID + "/erasure-request"
	get := func(token, path string) response {
		return env.do(request{method: "GET", path: path, token: token})
	}

	// Nothing pending: 404 problems for those who may see it.
	get(a.client.AccessToken, "/api/v1/me/erasure-request").problem(t, http.StatusNotFound)
	get(a.owner.AccessToken, clientPath).problem(t, http.StatusNotFound)
	get(a.coach.AccessToken, clientPath).problem(t, http.StatusNotFound)

	var asked erasureDoc
	env.do(request{method: "POST", path: "/api/v1/me/erasure-request", token: a.client.AccessToken}).
		want(t, http.StatusAccepted).decode(t, &asked)
	if asked.RequestedBy != "client" || !slices.Equal(asked.CancellableBy, []string{"client", "owner"}) {
		t.Errorf("the client's request: %+v", asked)
	}

	// The client and the staff who see the client read it back, the same.
	for name, r := range map[string]response{
		"the client":         get(a.client.AccessToken, "/api/v1/me/erasure-request"),
		"the owner":          get(a.owner.AccessToken, clientPath),
		"the client's coach": get(a.coach.AccessToken, clientPath),
	} {
		var got erasureDoc
		r.want(t, http.StatusOK).decode(t, &got)
		if got.ID != asked.ID || got.Status != "pending" || got.ClientID != a.clientRec.ID || got.RequestedBy != "client" ||
			!got.DueAt.Equal(asked.DueAt) || !got.RequestedAt.Equal(asked.RequestedAt) ||
			!slices.Equal(got.CancellableBy, []string{"client", "owner"}) {
			t.Errorf("%s reads %+v, want %+v", name, got, asked)
		}
		if want := env.clock.Now().Add(14 * 24 * time.Hour); got.DueAt.Sub(want).Abs() > time.Second {
			t.Errorf("%s reads due_at %s, want 14 days on", name, got.DueAt)
		}
	}
	// No one else: not another coach, another practice, another client.
	get(a.otherCoach.AccessToken, clientPath).problem(t, http.StatusNotFound)
	get(b.owner.AccessToken, clientPath).problem(t, http.StatusNotFound)
	get(b.coach.AccessToken, clientPath).problem(t, http.StatusNotFound)
	get(a.otherClient.AccessToken, "/api/v1/me/erasure-request").problem(t, http.StatusNotFound)
	get(a.client.AccessToken, clientPath).problem(t, http.StatusForbidden)
	get(a.owner.AccessToken, "/api/v1/me/erasure-request").problem(t, http.StatusForbidden)

	// Cancelled, it is gone for everyone.
	env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: a.client.AccessToken}).want(t, http.StatusNoContent)
	get(a.client.AccessToken, "/api/v1/me/erasure-request").problem(t, http.StatusNotFound)
	get(a.owner.AccessToken, clientPath).problem(t, http.StatusNotFound)

	// The owner records the request of a client without a portal account:
	// only the owner can cancel it.
	offline := env.createClient(a.owner.AccessToken, map[string]any{"name": "Offline Client", "timezone": "Europe/Berlin"})
	offlinePath := "/api/v1/clients/" + offline.ID + "/erasure-request"
	var recorded erasureDoc
	env.do(request{method: "POST", path: offlinePath, token: a.owner.AccessToken}).want(t, http.StatusAccepted).decode(t, &recorded)
	var got erasureDoc
	get(a.owner.AccessToken, offlinePath).want(t, http.StatusOK).decode(t, &got)
	if got.ID != recorded.ID || got.RequestedBy != "owner" || !slices.Equal(got.CancellableBy, []string{"owner"}) ||
		!slices.Equal(recorded.CancellableBy, []string{"owner"}) {
		t.Errorf("the owner's request: %+v, read back %+v", recorded, got)
	}
	// The owner's request for a portal client: the client may cancel it.
	env.do(request{method: "POST", path: clientPath, token: a.owner.AccessToken}).want(t, http.StatusAccepted)
	get(a.client.AccessToken, "/api/v1/me/erasure-request").want(t, http.StatusOK).decode(t, &got)
	if got.RequestedBy != "owner" || !slices.Equal(got.CancellableBy, []string{"client", "owner"}) {
		t.Errorf("the owner's request for a portal client, as the client reads it: %+v", got)
	}
}
