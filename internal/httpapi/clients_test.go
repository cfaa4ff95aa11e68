package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestClientPortalLifecycle(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	if f.clientRec.Timezone != "Europe/Berlin" || f.clientRec.Status != "active" {
		t.Fatalf("client = %+v", f.clientRec)
	}
	var me struct {
		Roles []string `json:"roles"`
	}
	env.do(request{method: "GET", path: "/api/v1/me", token: f.client.AccessToken}).want(t, http.StatusOK).decode(t, &me)
	if len(me.Roles) != 1 || me.Roles[0] != "client" {
		t.Fatalf("client roles = %v", me.Roles)
	}
	// The client sees their own record, not the other client's, and cannot list clients.
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID, token: f.client.AccessToken}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.otherRec.ID, token: f.client.AccessToken}).problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: "/api/v1/clients", token: f.client.AccessToken}).problem(t, http.StatusForbidden)
	// The other coach does not see the first coach's clients; the owner does.
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID, token: f.otherCoach.AccessToken}).problem(t, http.StatusNotFound)
	var list struct {
		Items []clientDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/clients", token: f.owner.AccessToken}).want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].Portal != "active" {
		t.Fatalf("owner's list = %+v", list.Items)
	}
	// Archive hides, and ends portal access but to the client's consents.
	env.do(request{method: "DELETE", path: "/api/v1/clients/" + f.otherRec.ID, token: f.coach.AccessToken}).want(t, http.StatusNoContent)
	env.do(request{method: "GET", path: "/api/v1/clients", token: f.owner.AccessToken}).want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 {
		t.Fatalf("archived client still listed: %+v", list.Items)
	}
	env.do(request{method: "GET", path: "/api/v1/clients?status=archived", token: f.owner.AccessToken}).want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != f.otherRec.ID {
		t.Fatalf("archived list = %+v", list.Items)
	}
	env.do(request{method: "GET", path: "/api/v1/me", token: f.otherClient.AccessToken}).want(t, http.StatusOK).decode(t, &me)
	if len(me.Roles) != 1 || me.Roles[0] != "client" {
		t.Fatalf("an archived client has roles %v, want client, to keep control of their consents", me.Roles)
	}
	for _, path := range []string{"/clients/" + f.otherRec.ID, "/clients/" + f.otherRec.ID + "/goals", "/sessions"} {
		p := env.do(request{method: "GET", path: "/api/v1" + path, token: f.otherClient.AccessToken}).problem(t, http.StatusForbidden)
		if !strings.HasSuffix(p.Type, "/problems/client_archived") {
			t.Fatalf("archived client GET %s: %+v, want client_archived", path, p)
		}
	}
	for _, path := range []string{"/clients/" + f.otherRec.ID + "/consents", "/clients/" + f.otherRec.ID + "/disclosures"} {
		env.do(request{method: "GET", path: "/api/v1" + path, token: f.otherClient.AccessToken}).want(t, http.StatusOK)
	}
}
