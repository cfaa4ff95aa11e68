package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestProblemDocuments(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	coach := env.addCoach(owner.AccessToken, "ben@example.com")
	spent := env.invite(owner.AccessToken, "cleo@example.com")
	env.accept(spent.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	env.e.GET("/boom", func(echo.Context) error {
		panic("pq: syntax error in SELECT secret FROM users WHERE password_hash = '$argon2id$v=19$...'")
	})

	tests := []struct {
		name   string
		req    request
		status int
		typ    string   // the problem type's last segment
		fields []string // fields the problem must list
	}{
		{name: "malformed JSON", status: 400, typ: "invalid", fields: []string{"body"},
			req: request{method: "POST", path: "/api/v1/auth/login", body: `{"email": "ada@example.com",`}},
		{name: "schema violation", status: 400, typ: "invalid",
			fields: []string{"practice_name", "name", "email", "password", "practice_id"},
			req: request{method: "POST", path: "/api/v1/auth/register",
				body: map[string]any{"practice_name": "", "name": 42, "email": []string{"a@b.c"}, "practice_id": "x"}}},
		{name: "service validation", status: 400, typ: "invalid", fields: []string{"email", "password"},
			req: request{method: "POST", path: "/api/v1/auth/register", body: registration("not-an-email", "short")}},
		{name: "bad query parameter", status: 400, typ: "invalid", fields: []string{"limit"},
			req: request{method: "GET", path: "/api/v1/practice/members?limit=0", token: owner.AccessToken}},
		{name: "no credentials", status: 401, typ: "unauthenticated",
			req: request{method: "GET", path: "/api/v1/me"}},
		{name: "wrong password", status: 401, typ: "unauthenticated",
			req: request{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "ada@example.com", "password": "nope nope nope"}}},
		{name: "coach changes practice", status: 403, typ: "forbidden",
			req: request{method: "PATCH", path: "/api/v1/practice", token: coach.AccessToken, body: map[string]string{"name": "Mine"}}},
		{name: "unknown path under the API", status: 404, typ: "not_found",
			req: request{method: "GET", path: "/api/v1/no-such-thing"}},
		{name: "unknown path outside the API", status: 404, typ: "not_found",
			req: request{method: "GET", path: "/docs/no-such-thing"}}, // elsewhere the web app answers (webapp_test.go)
		{name: "unknown invitation", status: 404, typ: "not_found",
			req: request{method: "POST", path: "/api/v1/invitations/accept", body: acceptance("unknown")}},
		{name: "method not allowed", status: 405, typ: "method_not_allowed",
			req: request{method: "DELETE", path: "/api/v1/me", token: owner.AccessToken}},
		{name: "TOTP confirmed before enrolment", status: 409, typ: "conflict",
			req: request{method: "POST", path: "/api/v1/me/mfa/totp/confirm", token: owner.AccessToken, body: map[string]string{"code": "123456"}}},
		{name: "spent invitation", status: 410, typ: "gone",
			req: request{method: "POST", path: "/api/v1/invitations/accept", body: acceptance(spent.token(t))}},
		{name: "body over 1 MiB", status: 413, typ: "too_large",
			req: request{method: "POST", path: "/api/v1/auth/register",
				body: `{"practice_name":"` + strings.Repeat("a", 1<<20) + `"}`}},
		{name: "text/plain body", status: 415, typ: "unsupported_media_type",
			req: request{method: "POST", path: "/api/v1/auth/login", headers: map[string]string{"Content-Type": "text/plain"},
				body: `{"email":"ada@example.com","password":"a long and quiet river"}`}},
		{name: "body without content type", status: 415, typ: "unsupported_media_type",
			req: request{method: "POST", path: "/api/v1/auth/login", headers: map[string]string{"Content-Type": ""},
				body: `{"email":"ada@example.com","password":"a long and quiet river"}`}},
		{name: "panic", status: 500, typ: "internal",
			req: request{method: "GET", path: "/boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(tt.req)
			p := r.problem(t, tt.status)
			if want := "https://tandem.invalid/problems/" + tt.typ; p.Type != want {
				t.Errorf("type = %q, want %q", p.Type, want)
			}
			if p.Title != http.StatusText(tt.status) {
				t.Errorf("title = %q, want %q", p.Title, http.StatusText(tt.status))
			}
			if p.RequestID != r.Header.Get("X-Request-ID") {
				t.Errorf("request_id = %q, X-Request-ID = %q", p.RequestID, r.Header.Get("X-Request-ID"))
			}
			for _, f := range tt.fields {
				if !hasFieldError(p, f) {
					t.Errorf("errors = %+v, want one for %q", p.Errors, f)
				}
			}
			if len(tt.fields) == 0 && len(p.Errors) != 0 {
				t.Errorf("unexpected field errors %+v", p.Errors)
			}
			if bytes.Contains(r.Body, []byte("$argon2id")) {
				t.Errorf("a password hash in the response: %s", r.Body)
			}
		})
	}

	t.Run("internal details stay in the log", func(t *testing.T) {
		r := env.do(request{method: "GET", path: "/boom"})
		p := r.problem(t, http.StatusInternalServerError)
		for _, secret := range []string{"SELECT", "secret", "password_hash", "pq:", "panic", "goroutine"} {
			if bytes.Contains(r.Body, []byte(secret)) {
				t.Errorf("the 500 body reveals %q: %s", secret, r.Body)
			}
		}
		logs := env.logs.String()
		if !strings.Contains(logs, p.RequestID) || !strings.Contains(logs, "SELECT secret FROM users") {
			t.Errorf("the log lacks the request ID %s or the cause", p.RequestID)
		}
	})

	t.Run("the caller's request ID is kept", func(t *testing.T) {
		r := env.do(request{method: "GET", path: "/api/v1/me", headers: map[string]string{"X-Request-ID": "trace-42.a_b"}})
		if p := r.problem(t, http.StatusUnauthorized); p.RequestID != "trace-42.a_b" {
			t.Fatalf("request_id = %q", p.RequestID)
		}
		r = env.do(request{method: "GET", path: "/api/v1/me", headers: map[string]string{"X-Request-ID": "bad id\r\n<script>"}})
		if p := r.problem(t, http.StatusUnauthorized); p.RequestID == "" || strings.ContainsAny(p.RequestID, " <") {
			t.Fatalf("request_id = %q", p.RequestID)
		}
	})

	t.Run("a secret token is not echoed", func(t *testing.T) {
		r := env.do(request{method: "POST", path: "/api/v1/invitations/accept", body: acceptance(spent.token(t))})
		r.problem(t, http.StatusGone)
		if bytes.Contains(r.Body, []byte(spent.token(t))) {
			t.Fatalf("the token is in the problem: %s", r.Body)
		}
	})
}

// acceptance is a new coach's acceptance of the invitation with token.
func acceptance(token string) map[string]string {
	return map[string]string{"token": token, "name": "Ben Coach", "password": goodPassword}
}

func TestTooManyRequestsProblem(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var r response
	for i := 0; i < 100; i++ { // the default sign-in budget is 30 per 10 minutes
		r = env.do(request{method: "POST", path: "/api/v1/auth/login", remote: "203.0.113.9:1",
			body: map[string]string{"email": fmt.Sprintf("guess-%d@example.com", i), "password": goodPassword}})
		if r.Code != http.StatusUnauthorized {
			break
		}
	}
	r.limited(t)
	if p := r.problem(t, http.StatusTooManyRequests); p.Type != "https://tandem.invalid/problems/too_many_requests" {
		t.Fatalf("type = %q", p.Type)
	}
}

// TestNoPasswordHashLeaves walks every operation and checks no response and
// no log line ever carries a password hash.
func TestNoPasswordHashLeaves(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	coach := env.addCoach(owner.AccessToken, "ben@example.com")
	inv := env.invite(owner.AccessToken, "cleo@example.com")

	var bodies [][]byte
	for _, req := range []request{
		{method: "GET", path: "/api/v1/me", token: owner.AccessToken},
		{method: "GET", path: "/api/v1/me", token: coach.AccessToken},
		{method: "GET", path: "/api/v1/practice", token: owner.AccessToken},
		{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken, body: map[string]string{"name": "Renamed"}},
		{method: "GET", path: "/api/v1/practice/members", token: owner.AccessToken},
		{method: "GET", path: "/api/v1/practice/members?limit=1", token: coach.AccessToken},
		{method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken, body: map[string]string{"email": "dan@example.com"}},
		{method: "POST", path: "/api/v1/invitations/accept", body: acceptance(inv.token(t))},
		{method: "GET", path: "/api/v1/practice/invitations", token: owner.AccessToken},
		{method: "POST", path: "/api/v1/auth/reauth", token: owner.AccessToken, body: map[string]string{"password": goodPassword}},
		{method: "POST", path: "/api/v1/auth/reauth", token: owner.AccessToken, body: map[string]string{"password": "wrong password!"}},
		{method: "GET", path: "/api/v1/me/sessions", token: owner.AccessToken},
		{method: "PUT", path: "/api/v1/me/password", token: coach.AccessToken,
			body: map[string]string{"current_password": goodPassword, "new_password": goodPassword}},
		{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": "cleo@example.com"}},
		{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "cleo@example.com", "password": goodPassword}},
		{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "cleo@example.com", "password": "wrong password!"}},
		{method: "POST", path: "/api/v1/auth/register", body: registration("ada@example.com", goodPassword)},
		{method: "POST", path: "/api/v1/auth/refresh", body: map[string]string{"refresh_token": owner.RefreshToken}},
		{method: "GET", path: "/metrics"},
	} {
		r := env.do(req)
		if r.Code >= 500 {
			t.Errorf("%s %s: %d %s", req.method, req.path, r.Code, r.Body)
		}
		bodies = append(bodies, r.Body)
	}
	for _, b := range append(bodies, []byte(env.logs.String())) {
		if bytes.Contains(b, []byte("$argon2id")) {
			t.Fatalf("a password hash left the service: %s", b)
		}
	}

	// Nor does the log hold any other secret that passed through.
	logs := env.logs.String()
	for name, secret := range map[string]string{
		"password": goodPassword, "owner's refresh token": owner.RefreshToken, "owner's access token": owner.AccessToken,
		"coach's refresh token": coach.RefreshToken, "invitation token": inv.token(t),
		"password reset token": env.mailToken("cleo@example.com"),
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

// TestWeakETagNeverMatches: If-Match compares strongly (RFC 9110), so a weak
// tag of the current version is a stale precondition.
func TestWeakETagNeverMatches(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("weak@example.com")
	r := env.do(request{method: "GET", path: "/api/v1/practice", token: owner.AccessToken}).want(t, http.StatusOK)
	etag := r.Header.Get("ETag")
	env.do(request{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken,
		headers: map[string]string{"If-Match": "W/" + etag}, body: map[string]string{"name": "Renamed"}}).problem(t, http.StatusPreconditionFailed)
	env.do(request{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken,
		headers: map[string]string{"If-Match": etag}, body: map[string]string{"name": "Renamed"}}).want(t, http.StatusOK)
}

// TestOnlyApplicationJSONBodies: other JSON media types are not part of the
// contract and get 415, and no JSON string may carry a NUL.
func TestOnlyApplicationJSONBodies(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, ct := range []string{"application/merge-patch+json", "application/problem+json", "text/json"} {
		env.do(request{method: "POST", path: "/api/v1/auth/login", body: `{"email":"a@example.com","password":"x"}`,
			headers: map[string]string{"Content-Type": ct}}).problem(t, http.StatusUnsupportedMediaType)
	}
	// Media types compare case-insensitively (RFC 9110 §8.3.1).
	owner := env.register("case@example.com")
	for _, ct := range []string{"APPLICATION/JSON", "Application/Json; Charset=UTF-8", "application/json;charset=utf-8"} {
		env.do(request{method: "POST", path: "/api/v1/clients", token: owner.AccessToken, body: `{"name":"Casey"}`,
			headers: map[string]string{"Content-Type": ct}}).want(t, http.StatusCreated)
	}
	p := env.do(request{method: "POST", path: "/api/v1/auth/register",
		body: `{"practice_name":"P\u0000","name":"N","email":"nul@example.com","password":"a long and quiet river"}`}).
		problem(t, http.StatusBadRequest)
	if len(p.Errors) != 1 || p.Errors[0].Field != "body" {
		t.Fatalf("errors = %+v", p.Errors)
	}
	env.login("nul@example.com", "a long and quiet river").problem(t, http.StatusUnauthorized)
}
