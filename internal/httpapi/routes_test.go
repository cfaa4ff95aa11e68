package httpapi_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tandem-coach/tandem/internal/httpapi"
)

// TestEveryRouteDeclaresARule fails for any route served without a declared
// authorization rule.
func TestEveryRouteDeclaresARule(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	routes := env.e.Routes()
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	for _, r := range routes {
		if strings.HasPrefix(r.Name, "echo_") { // Echo's own not-found and method-not-allowed routes
			continue
		}
		if _, ok := env.e.RuleFor(r.Method, r.Path); !ok {
			t.Errorf("%s %s has no declared rule", r.Method, r.Path)
		}
	}
}

func TestDeclaredRules(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, tt := range []struct {
		method, path string
		want         httpapi.Rule
	}{
		{"POST", "/api/v1/auth/register", httpapi.RulePublic},
		{"POST", "/api/v1/auth/login", httpapi.RulePublic},
		{"POST", "/api/v1/auth/refresh", httpapi.RulePublic},
		{"POST", "/api/v1/auth/logout", httpapi.RulePublic},
		{"POST", "/api/v1/auth/login/mfa", httpapi.RulePublic},
		{"POST", "/api/v1/auth/reauth", httpapi.RuleAuthenticated},
		{"POST", "/api/v1/auth/verify-email", httpapi.RulePublic},
		{"POST", "/api/v1/auth/verify-email/resend", httpapi.RuleAuthenticated},
		{"POST", "/api/v1/auth/password-reset", httpapi.RulePublic},
		{"POST", "/api/v1/auth/password-reset/confirm", httpapi.RulePublic},
		{"POST", "/api/v1/invitations/accept", httpapi.RulePublic},
		{"POST", "/api/v1/invitations/decline", httpapi.RulePublic},
		{"GET", "/api/v1/me", httpapi.RuleAuthenticated},
		{"PUT", "/api/v1/me/password", httpapi.RuleAuthenticated},
		{"POST", "/api/v1/me/email", httpapi.RuleAuthenticated},
		{"POST", "/api/v1/me/mfa/totp", httpapi.RuleAuthenticated},
		{"DELETE", "/api/v1/me/mfa/totp", httpapi.RuleAuthenticated},
		{"POST", "/api/v1/me/mfa/totp/confirm", httpapi.RuleAuthenticated},
		{"GET", "/api/v1/me/sessions", httpapi.RuleAuthenticated},
		{"DELETE", "/api/v1/me/sessions", httpapi.RuleAuthenticated},
		{"DELETE", "/api/v1/me/sessions/:session_id", httpapi.RuleAuthenticated},
		{"GET", "/api/v1/me/notification-preferences", httpapi.RuleAuthenticated},
		{"PATCH", "/api/v1/me/notification-preferences", httpapi.RuleAuthenticated},
		{"GET", "/api/v1/practice", httpapi.RuleStaff},
		{"PATCH", "/api/v1/practice", httpapi.RuleOwner},
		{"GET", "/api/v1/practice/members", httpapi.RuleStaff},
		{"GET", "/api/v1/practice/audit-events", httpapi.RuleOwner},
		{"GET", "/api/v1/me/erasure-request", httpapi.RuleMember},
		{"GET", "/api/v1/clients/:client_id/erasure-request", httpapi.RuleStaff},
		{"POST", "/api/v1/practice/invitations", httpapi.RuleOwner},
		{"GET", "/api/v1/practice/invitations", httpapi.RuleOwner},
		{"GET", "/api/v1/practice/webhooks", httpapi.RuleOwner},
		{"POST", "/api/v1/practice/webhooks", httpapi.RuleOwner},
		{"GET", "/api/v1/practice/webhooks/:webhook_id", httpapi.RuleOwner},
		{"PATCH", "/api/v1/practice/webhooks/:webhook_id", httpapi.RuleOwner},
		{"DELETE", "/api/v1/practice/webhooks/:webhook_id", httpapi.RuleOwner},
		{"GET", "/api/v1/practice/webhooks/:webhook_id/deliveries", httpapi.RuleOwner},
		{"POST", "/api/v1/practice/webhooks/:webhook_id/deliveries/:delivery_id/replay", httpapi.RuleOwner},
		{"POST", "/api/v1/clients/:client_id/invitation", httpapi.RuleStaff},
		{"GET", "/api/v1/clients/:client_id/invitation", httpapi.RuleStaff},
		{"GET", "/api/v1/billing/plans", httpapi.RuleOwner},
		{"GET", "/api/v1/billing/subscription", httpapi.RuleOwner},
		{"POST", "/api/v1/billing/checkout-session", httpapi.RuleOwner},
		{"POST", "/api/v1/billing/portal-session", httpapi.RuleOwner},
		{"POST", "/api/v1/webhooks/stripe", httpapi.RulePublic},
		{"GET", "/healthz", httpapi.RulePublic},
		{"GET", "/readyz", httpapi.RulePublic},
		{"GET", "/metrics", httpapi.RulePublic},
	} {
		got, ok := env.e.RuleFor(tt.method, tt.path)
		if !ok || got != tt.want {
			t.Errorf("RuleFor(%s %s) = %q, %v; want %q", tt.method, tt.path, got, ok, tt.want)
		}
	}
	for _, gone := range []struct{ method, path string }{
		{"DELETE", "/api/v1/me"},
		// The token travels in the body now, never in a path.
		{"POST", "/api/v1/invitations/:token/accept"},
	} {
		if r, ok := env.e.RuleFor(gone.method, gone.path); ok {
			t.Errorf("RuleFor(%s %s) = %q for a route that does not exist", gone.method, gone.path, r)
		}
	}
}

// TestRulesAreEnforced runs each declared rule against callers without
// credentials, with a coach's and with an owner's token.
func TestRulesAreEnforced(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	coach := env.addCoach(owner.AccessToken, "ben@example.com")
	for _, tt := range []struct {
		method, path string
		body         any
		anon, c, o   int // status for no token, the coach and the owner
	}{
		{"GET", "/api/v1/me", nil, 401, 200, 200},
		{"GET", "/api/v1/practice", nil, 401, 200, 200},
		{"GET", "/api/v1/practice/members", nil, 401, 200, 200},
		{"PATCH", "/api/v1/practice", map[string]string{"name": "Renamed"}, 401, 403, 200},
		{"POST", "/api/v1/practice/invitations", map[string]string{"email": "new@example.com"}, 401, 403, 201},
		{"GET", "/api/v1/practice/invitations", nil, 401, 403, 200},
	} {
		for _, caller := range []struct {
			name, token string
			want        int
		}{{"anonymous", "", tt.anon}, {"coach", coach.AccessToken, tt.c}, {"owner", owner.AccessToken, tt.o}} {
			r := env.do(request{method: tt.method, path: tt.path, body: tt.body, token: caller.token})
			if r.Code != caller.want {
				t.Errorf("%s %s as %s: status %d, want %d; body %s", tt.method, tt.path, caller.name, r.Code, caller.want, r.Body)
			}
		}
	}
}

func TestOperationalEndpoints(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.do(request{method: "GET", path: "/healthz"}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/readyz"}).want(t, http.StatusOK)
	env.login("nobody@example.com", goodPassword).want(t, http.StatusUnauthorized)
	env.do(request{method: "GET", path: "/api/v1/no-such-thing/" + strings.Repeat("x", 20)}).want(t, http.StatusNotFound)

	r := env.do(request{method: "GET", path: "/metrics"}).want(t, http.StatusOK)
	metrics := string(r.Body)
	for _, re := range []string{
		`tandem_http_requests_total\{method="GET",route="/healthz",status="200"\} 1`,
		`tandem_http_requests_total\{method="GET",route="/readyz",status="200"\} 1`,
		`tandem_http_requests_total\{method="POST",route="/api/v1/auth/login",status="401"\} 1`,
		`tandem_http_requests_total\{method="GET",route="unmatched",status="404"\} 1`,
		`tandem_http_request_duration_seconds_bucket\{method="GET",route="/healthz",le="[^"]+"\}`,
	} {
		if !regexp.MustCompile(re).MatchString(metrics) {
			t.Errorf("metrics lack %s", re)
		}
	}
	if strings.Contains(metrics, "no-such-thing") {
		t.Error("a raw path became a metric label")
	}
}

func TestReadyzWhenTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	if err := env.store.Close(); err != nil {
		t.Fatal(err)
	}
	p := env.do(request{method: "GET", path: "/readyz"}).problem(t, http.StatusServiceUnavailable)
	if p.Type != "https://tandem.invalid/problems/unavailable" {
		t.Fatalf("type = %q", p.Type)
	}
	env.do(request{method: "GET", path: "/healthz"}).want(t, http.StatusOK) // liveness needs no database
}

// TestTenantIsolation checks that each caller sees and changes only the
// practice of their own session.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("ada@example.com")
	zoe := env.register("zoe@example.com")
	env.addCoach(ada.AccessToken, "ben@example.com")

	type practice struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	var a, z practice
	env.do(request{method: "GET", path: "/api/v1/practice", token: ada.AccessToken}).want(t, http.StatusOK).decode(t, &a)
	env.do(request{method: "PATCH", path: "/api/v1/practice", token: zoe.AccessToken,
		body: map[string]string{"name": "Zoe's"}}).want(t, http.StatusOK).decode(t, &z)
	if a.ID == z.ID {
		t.Fatal("two registrations share a practice")
	}
	var after practice
	env.do(request{method: "GET", path: "/api/v1/practice", token: ada.AccessToken}).want(t, http.StatusOK).decode(t, &after)
	if after != a {
		t.Fatalf("Zoe's update changed Ada's practice: %+v", after)
	}
	if got := env.memberEmails(zoe.AccessToken); len(got) != 1 || got[0] != "zoe@example.com:owner" {
		t.Fatalf("Zoe sees members %v", got)
	}
	// Zoe may invite Ada's coach to her own practice: a different tenant.
	env.invite(zoe.AccessToken, "ben@example.com")
}
