package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/account"
)

// registration is a register body for email and password.
func registration(email, password string) map[string]any {
	return map[string]any{"practice_name": "Practice of " + email, "name": "Owner", "email": email, "password": password}
}

func (env *testEnv) refresh(refreshToken string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/refresh", body: map[string]string{"refresh_token": refreshToken}})
}

func (env *testEnv) logout(refreshToken string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/logout", body: map[string]string{"refresh_token": refreshToken}})
}

func (env *testEnv) me(accessToken string) response {
	env.t.Helper()
	return env.do(request{method: "GET", path: "/api/v1/me", token: accessToken})
}

// tokens decodes a token response and checks its shape.
func (r response) tokens(t *testing.T, status int) tokenPair {
	t.Helper()
	var tp tokenPair
	r.want(t, status).decode(t, &tp)
	if tp.AccessToken == "" || tp.RefreshToken == "" || tp.TokenType != "Bearer" || tp.ExpiresIn != 900 {
		t.Fatalf("token response = %s, want both tokens, token_type Bearer, expires_in 900", r.Body)
	}
	return tp
}

// hasFieldError reports whether p lists an error for field.
func hasFieldError(p problemDoc, field string) bool {
	for _, e := range p.Errors {
		if e.Field == field {
			return true
		}
	}
	return false
}

// emailVerified reports whether the holder of token has proven their address.
func (env *testEnv) emailVerified(token string) bool {
	env.t.Helper()
	var me struct {
		EmailVerified *bool `json:"email_verified"`
	}
	env.me(token).want(env.t, http.StatusOK).decode(env.t, &me)
	if me.EmailVerified == nil {
		env.t.Fatal("me has no email_verified")
	}
	return *me.EmailVerified
}

func TestRegister(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	created := env.do(request{method: "POST", path: "/api/v1/auth/register", body: registration("ada@example.com", goodPassword)}).
		want(t, http.StatusAccepted)
	var notice struct {
		Message string `json:"message"`
	}
	if created.decode(t, &notice); notice.Message == "" || strings.Contains(string(created.Body), "token") {
		t.Fatalf("register answered %s, want a notice and no tokens", created.Body)
	}
	// The owner signs in at once; the e-mailed link proves the address.
	owner := env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK)
	if env.emailVerified(owner.AccessToken) {
		t.Fatal("the address is verified before its link was used")
	}
	env.verify(env.mailToken("ada@example.com"))
	if !env.emailVerified(owner.AccessToken) {
		t.Fatal("the address is not verified after its link was used")
	}
	users, practices := env.rowCount("users"), env.rowCount("practices")

	tests := []struct {
		name   string
		body   any
		status int
		field  string // a field the problem must name, if any
	}{
		// Registering a taken address answers as for a free one, and
		// creates nothing: the owner is told by e-mail instead.
		{"same e-mail", registration("ada@example.com", goodPassword), http.StatusAccepted, ""},
		{"e-mail in upper case", registration("ADA@EXAMPLE.COM", goodPassword), http.StatusAccepted, ""},
		{"e-mail in mixed case", registration("Ada@Example.Com", goodPassword), http.StatusAccepted, ""},
		{"e-mail with spaces around", registration(" ada@example.com ", goodPassword), http.StatusAccepted, ""},
		{"short password", registration("ben@example.com", "short"), http.StatusBadRequest, "password"},
		{"empty password", registration("ben@example.com", ""), http.StatusBadRequest, "password"},
		{"common password", registration("ben@example.com", "password1"), http.StatusBadRequest, "password"},
		{"common password in capitals", registration("ben@example.com", "PASSWORD1"), http.StatusBadRequest, "password"},
		{"overlong password", registration("ben@example.com", strings.Repeat("x", 129)), http.StatusBadRequest, "password"},
		{"e-mail without @", registration("ben.example.com", goodPassword), http.StatusBadRequest, "email"},
		{"e-mail without domain", registration("ben@", goodPassword), http.StatusBadRequest, "email"},
		{"e-mail without local part", registration("@example.com", goodPassword), http.StatusBadRequest, "email"},
		{"e-mail with display name", registration("Ben <ben@example.com>", goodPassword), http.StatusBadRequest, "email"},
		{"e-mail with a space", registration("b en@example.com", goodPassword), http.StatusBadRequest, "email"},
		{"e-mail too short", registration("b@", goodPassword), http.StatusBadRequest, "email"},
		{"blank name", map[string]any{"practice_name": "P", "name": "   ", "email": "ben@example.com", "password": goodPassword},
			http.StatusBadRequest, "name"},
		{"missing practice name", map[string]any{"name": "Ben", "email": "ben@example.com", "password": goodPassword},
			http.StatusBadRequest, "practice_name"},
		{"unknown field practice_id", map[string]any{"practice_name": "P", "name": "Ben", "email": "ben@example.com",
			"password": goodPassword, "practice_id": "0190a0a0-0000-7000-8000-000000000000"}, http.StatusBadRequest, "practice_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.do(request{method: "POST", path: "/api/v1/auth/register", body: tt.body})
			if tt.status == http.StatusAccepted {
				if r.want(t, http.StatusAccepted); string(r.Body) != string(created.Body) {
					t.Fatalf("a taken address answers %s, a free one %s", r.Body, created.Body)
				}
				return
			}
			p := r.problem(t, tt.status)
			if tt.field != "" && !hasFieldError(p, tt.field) {
				t.Fatalf("errors = %+v, want one for %q", p.Errors, tt.field)
			}
		})
	}
	if u, p := env.rowCount("users"), env.rowCount("practices"); u != users || p != practices {
		t.Fatalf("%d users and %d practices after registering a taken address, want %d and %d", u, p, users, practices)
	}
	if m := env.lastMail("ada@example.com"); !strings.Contains(m.Subject, "tried to sign up") {
		t.Fatalf("the owner of the taken address got %q, want a notice of the attempt", m.Subject)
	}
	env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK)

	// None of the refused registrations created an account for ben.
	env.login("ben@example.com", goodPassword).problem(t, http.StatusUnauthorized)
	env.do(request{method: "POST", path: "/api/v1/auth/register", body: registration("ben@example.com", goodPassword)}).
		want(t, http.StatusAccepted)
	env.login("ben@example.com", goodPassword).tokens(t, http.StatusOK)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("ada@example.com")

	tp := env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK)
	env.me(tp.AccessToken).want(t, http.StatusOK)
	env.login("ADA@Example.com", goodPassword).tokens(t, http.StatusOK)

	wrongPassword := env.login("ada@example.com", goodPassword+"!").problem(t, http.StatusUnauthorized)
	unknownEmail := env.login("nobody@example.com", goodPassword).problem(t, http.StatusUnauthorized)
	if wrongPassword.Type != unknownEmail.Type || wrongPassword.Title != unknownEmail.Title ||
		wrongPassword.Detail != unknownEmail.Detail || len(wrongPassword.Errors) != 0 || len(unknownEmail.Errors) != 0 {
		t.Fatalf("wrong password %+v and unknown e-mail %+v must be indistinguishable", wrongPassword, unknownEmail)
	}
}

func TestMeRoles(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	coach := env.addCoach(owner.AccessToken, "ben@example.com")

	for _, tt := range []struct {
		name  string
		token string
		email string
		role  string
	}{
		{"owner", owner.AccessToken, "ada@example.com", "owner"},
		{"coach", coach.AccessToken, "ben@example.com", "coach"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var me struct {
				Email                string   `json:"email"`
				EmailVerified        bool     `json:"email_verified"`
				MFAEnabled           bool     `json:"mfa_enabled"`
				MFAEnrolmentRequired bool     `json:"mfa_enrolment_required"`
				Roles                []string `json:"roles"`
				Practice             struct {
					Name string `json:"name"`
				} `json:"practice"`
			}
			env.me(tt.token).want(t, http.StatusOK).decode(t, &me)
			if me.Email != tt.email || !slices.Equal(me.Roles, []string{tt.role}) || me.Practice.Name != "Practice of ada@example.com" {
				t.Fatalf("me = %+v, want %s with roles [%s]", me, tt.email, tt.role)
			}
			// Both proved their address: the owner with the link, the coach by accepting.
			if !me.EmailVerified || me.MFAEnabled || me.MFAEnrolmentRequired {
				t.Fatalf("me = %+v, want verified, without MFA and none required", me)
			}
		})
	}
	env.me("").problem(t, http.StatusUnauthorized)
}

// TestMeNamesTheClientRecord: a client's portal account finds its own
// record (its goals, steps and consents) through /me; staff have none.
func TestMeNamesTheClientRecord(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	client, portal := env.portalClient(owner.AccessToken, "maya@example.com", "Europe/Berlin")
	var me struct {
		ClientID *string  `json:"client_id"`
		Roles    []string `json:"roles"`
	}
	env.me(portal.AccessToken).want(t, http.StatusOK).decode(t, &me)
	if me.ClientID == nil || *me.ClientID != client.ID || !slices.Equal(me.Roles, []string{"client"}) {
		t.Fatalf("client's me = %+v, want client_id %s", me, client.ID)
	}
	me.ClientID = nil
	env.me(owner.AccessToken).want(t, http.StatusOK).decode(t, &me)
	if me.ClientID != nil {
		t.Fatalf("owner's me has client_id %s", *me.ClientID)
	}
}

func TestRefreshRotates(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	first := env.register("ada@example.com")

	second := env.refresh(first.RefreshToken).tokens(t, http.StatusOK)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("refresh returned the same tokens")
	}
	env.me(second.AccessToken).want(t, http.StatusOK)
	third := env.refresh(second.RefreshToken).tokens(t, http.StatusOK)
	env.me(third.AccessToken).want(t, http.StatusOK)

	// The first token is spent: presenting it again is reuse.
	env.refresh(first.RefreshToken).problem(t, http.StatusUnauthorized)
	env.refresh("not-a-token-we-issued").problem(t, http.StatusUnauthorized)
}

func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	stolen := env.register("ada@example.com")
	other := env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK) // a separate session

	rotated := env.refresh(stolen.RefreshToken).tokens(t, http.StatusOK)
	newest := env.refresh(rotated.RefreshToken).tokens(t, http.StatusOK)

	// Replaying a spent token revokes the whole family.
	env.refresh(stolen.RefreshToken).problem(t, http.StatusUnauthorized)

	env.refresh(newest.RefreshToken).problem(t, http.StatusUnauthorized)
	for name, access := range map[string]string{"first": stolen.AccessToken, "rotated": rotated.AccessToken, "newest": newest.AccessToken} {
		if r := env.me(access); r.Code != http.StatusUnauthorized {
			t.Errorf("access token %s of the revoked family: status %d, want 401", name, r.Code)
		}
	}
	if !strings.Contains(env.logs.String(), "refresh token reused") {
		t.Error("the reuse was not logged")
	}

	// The user's other session is untouched.
	env.me(other.AccessToken).want(t, http.StatusOK)
	env.refresh(other.RefreshToken).tokens(t, http.StatusOK)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tp := env.register("ada@example.com")
	other := env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK)

	env.logout(tp.RefreshToken).want(t, http.StatusNoContent)
	env.refresh(tp.RefreshToken).problem(t, http.StatusUnauthorized)
	env.me(tp.AccessToken).problem(t, http.StatusUnauthorized)
	env.logout(tp.RefreshToken).want(t, http.StatusNoContent) // again: same outcome

	env.logout("never-issued").want(t, http.StatusNoContent)
	env.me(other.AccessToken).want(t, http.StatusOK)
}

func TestSessionAbsoluteLifetime(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tp := env.register("ada@example.com")

	// Rotating keeps the session going, but only within its lifetime.
	env.clock.Advance(account.SessionLifetime - 10*time.Minute)
	tp = env.refresh(tp.RefreshToken).tokens(t, http.StatusOK)
	env.me(tp.AccessToken).want(t, http.StatusOK)

	// The access token is still within its 15 minutes, but the session is over.
	env.clock.Advance(10*time.Minute + time.Minute)
	env.me(tp.AccessToken).problem(t, http.StatusUnauthorized)
	env.refresh(tp.RefreshToken).problem(t, http.StatusUnauthorized)
}

func TestSessionExpiresAfter30Days(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tp := env.register("ada@example.com")
	env.clock.Advance(30*24*time.Hour + time.Minute)
	env.refresh(tp.RefreshToken).problem(t, http.StatusUnauthorized)
}

func TestAccessTokenExpires(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tp := env.register("ada@example.com")

	env.clock.Advance(15 * time.Minute) // expired, but within the 30 s leeway
	env.me(tp.AccessToken).want(t, http.StatusOK)
	env.clock.Advance(31 * time.Second)
	p := env.me(tp.AccessToken).problem(t, http.StatusUnauthorized)
	if p.Type != "https://tandem.invalid/problems/unauthenticated" {
		t.Fatalf("type = %q", p.Type)
	}

	// The refresh token still works and gives a fresh access token.
	fresh := env.refresh(tp.RefreshToken).tokens(t, http.StatusOK)
	env.me(fresh.AccessToken).want(t, http.StatusOK)
}

// TestConcurrentRefresh races refreshes of one token: exactly one succeeds,
// the rest are 401 (reuse), never a 5xx, and the family ends up revoked.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tp := env.register("ada@example.com")

	const n = 6
	type result struct {
		code int
		tp   tokenPair
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := env.do(request{method: "POST", path: "/api/v1/auth/refresh", remote: fmt.Sprintf("203.0.113.%d:1", i),
				body: `{"refresh_token":"` + tp.RefreshToken + `"}`})
			var out result
			out.code = r.Code
			if r.Code == http.StatusOK {
				_ = json.Unmarshal(r.Body, &out.tp)
			}
			results <- out
		})
	}
	wg.Wait()
	close(results)
	var won []tokenPair
	for r := range results {
		switch r.code {
		case http.StatusOK:
			won = append(won, r.tp)
		case http.StatusUnauthorized:
		default:
			t.Errorf("status %d, want 200 or 401", r.code)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d refreshes of one token succeeded, want exactly 1", len(won))
	}
	for _, w := range won { // the reuse revoked the winner's family too
		env.refresh(w.RefreshToken).problem(t, http.StatusUnauthorized)
		env.me(w.AccessToken).problem(t, http.StatusUnauthorized)
	}
}
