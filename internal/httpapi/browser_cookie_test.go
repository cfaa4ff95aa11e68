package httpapi_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The origin of the test service's requests (httptest's Host).
const sameOrigin = "https://example.com"

// browserHeaders are what Tandem's own page sends to the cookie operations.
func browserHeaders(cookie string) map[string]string {
	h := map[string]string{"X-Tandem-CSRF": "1", "Origin": sameOrigin}
	if cookie != "" {
		h["Cookie"] = "__Host-tandem_refresh=" + cookie
	}
	return h
}

func (env *testEnv) browserLogin(email, password string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/browser/login",
		body: map[string]string{"email": email, "password": password}, headers: browserHeaders("")})
}

func (env *testEnv) browserRefresh(cookie string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/browser/refresh", headers: browserHeaders(cookie)})
}

// refreshCookieOf returns the value of the refresh cookie r sets, checking
// the attributes a browser session depends on.
func refreshCookieOf(t *testing.T, r response) *http.Cookie {
	t.Helper()
	cookies := (&http.Response{Header: r.Header}).Cookies()
	if len(cookies) != 1 || cookies[0].Name != "__Host-tandem_refresh" {
		t.Fatalf("Set-Cookie = %q, want one __Host-tandem_refresh", r.Header.Values("Set-Cookie"))
	}
	c := cookies[0]
	raw := r.Header.Get("Set-Cookie")
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("cookie attributes: %q, want HttpOnly; Secure; SameSite=Strict; Path=/ and no Domain", raw)
	}
	return c
}

func TestBrowserLoginSetsRefreshCookie(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("ada@example.com")

	r := env.browserLogin("ada@example.com", goodPassword).want(t, http.StatusOK)
	c := refreshCookieOf(t, r)
	if c.Value == "" || c.MaxAge <= 0 {
		t.Fatalf("cookie %q sets no token", r.Header.Get("Set-Cookie"))
	}
	var body map[string]any
	r.decode(t, &body)
	if _, leaked := body["refresh_token"]; leaked {
		t.Error("the browser login's body carries the refresh token, which belongs only in the HttpOnly cookie")
	}
	access, _ := body["access_token"].(string)
	env.me(access).want(t, http.StatusOK)
	// The cookie's token is an ordinary refresh token underneath.
	if strings.Contains(string(r.Body), c.Value) {
		t.Error("the body repeats the cookie's token")
	}

	// A wrong password sets nothing.
	bad := env.browserLogin("ada@example.com", "not the password")
	bad.problem(t, http.StatusUnauthorized)
	if got := bad.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("a refused login sets %q", got)
	}
}

func TestBrowserRefreshRotatesCookie(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("ada@example.com")
	first := refreshCookieOf(t, env.browserLogin("ada@example.com", goodPassword).want(t, http.StatusOK))

	r := env.browserRefresh(first.Value).want(t, http.StatusOK)
	second := refreshCookieOf(t, r)
	if second.Value == first.Value || second.Value == "" {
		t.Fatal("refresh did not rotate the cookie's token")
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	r.decode(t, &body)
	env.me(body.AccessToken).want(t, http.StatusOK)

	// Replaying the spent cookie is reuse: the whole family is revoked and
	// the cookie cleared.
	reused := env.browserRefresh(first.Value)
	reused.problem(t, http.StatusUnauthorized)
	if cleared := refreshCookieOf(t, reused); cleared.Value != "" || cleared.MaxAge >= 0 {
		t.Errorf("reuse leaves the cookie: %q", reused.Header.Get("Set-Cookie"))
	}
	env.browserRefresh(second.Value).problem(t, http.StatusUnauthorized)
	env.me(body.AccessToken).problem(t, http.StatusUnauthorized)

	// No cookie, no body: not signed in.
	env.browserRefresh("").problem(t, http.StatusUnauthorized)
}

func TestBrowserRefreshAdoptsTokenFromBody(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	pair := env.register("ada@example.com") // as an invitation's acceptance returns one

	r := env.do(request{method: "POST", path: "/api/v1/auth/browser/refresh", headers: browserHeaders(""),
		body: map[string]string{"refresh_token": pair.RefreshToken}}).want(t, http.StatusOK)
	adopted := refreshCookieOf(t, r)
	if adopted.Value == pair.RefreshToken {
		t.Error("the adopted token was not rotated: script saw it")
	}
	env.refresh(pair.RefreshToken).problem(t, http.StatusUnauthorized) // spent by the adoption
}

func TestBrowserLogoutClearsCookie(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("ada@example.com")
	c := refreshCookieOf(t, env.browserLogin("ada@example.com", goodPassword).want(t, http.StatusOK))

	r := env.do(request{method: "POST", path: "/api/v1/auth/browser/logout", headers: browserHeaders(c.Value)}).
		want(t, http.StatusNoContent)
	if cleared := refreshCookieOf(t, r); cleared.Value != "" || cleared.MaxAge >= 0 {
		t.Errorf("logout leaves the cookie: %q", r.Header.Get("Set-Cookie"))
	}
	env.browserRefresh(c.Value).problem(t, http.StatusUnauthorized)
	// Signing out a browser with no session is fine too.
	env.do(request{method: "POST", path: "/api/v1/auth/browser/logout", headers: browserHeaders("")}).want(t, http.StatusNoContent)
}

func TestBrowserCookieOperationsRefuseCrossSiteRequests(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("ada@example.com")
	c := refreshCookieOf(t, env.browserLogin("ada@example.com", goodPassword).want(t, http.StatusOK))

	cases := []struct {
		name    string
		headers map[string]string
	}{
		{"no custom header", map[string]string{"Origin": sameOrigin}},
		{"custom header with another value", map[string]string{"X-Tandem-CSRF": "yes", "Origin": sameOrigin}},
		{"no Origin", map[string]string{"X-Tandem-CSRF": "1"}},
		{"another site's Origin", map[string]string{"X-Tandem-CSRF": "1", "Origin": "https://evil.example"}},
		{"a look-alike Origin", map[string]string{"X-Tandem-CSRF": "1", "Origin": "https://example.com.evil.example"}},
		{"opaque Origin", map[string]string{"X-Tandem-CSRF": "1", "Origin": "null"}},
	}
	for _, tc := range cases {
		for _, op := range []string{"login", "refresh", "logout"} {
			h := map[string]string{"Cookie": "__Host-tandem_refresh=" + c.Value}
			for k, v := range tc.headers {
				h[k] = v
			}
			var body any
			if op == "login" {
				body = map[string]string{"email": "ada@example.com", "password": goodPassword}
			}
			r := env.do(request{method: "POST", path: "/api/v1/auth/browser/" + op, body: body, headers: h})
			p := r.problem(t, http.StatusForbidden)
			if !strings.HasSuffix(p.Type, "csrf_refused") {
				t.Errorf("%s, %s: problem type %q, want csrf_refused", tc.name, op, p.Type)
			}
			if got := r.Header.Values("Set-Cookie"); len(got) != 0 {
				t.Errorf("%s, %s: a refused request sets %q", tc.name, op, got)
			}
		}
	}
	// None of the refusals spent or ended the session.
	refreshCookieOf(t, env.browserRefresh(c.Value).want(t, http.StatusOK))

	// The configured base URL is an allowed Origin too (behind a proxy
	// that rewrites Host).
	env.do(request{method: "POST", path: "/api/v1/auth/browser/login", headers: map[string]string{"X-Tandem-CSRF": "1", "Origin": "https://tandem.example"},
		body: map[string]string{"email": "ada@example.com", "password": goodPassword}}).want(t, http.StatusOK)
}

func TestBearerStillWorksBesideCookies(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	pair := env.register("ada@example.com")
	r := env.login("ada@example.com", goodPassword).want(t, http.StatusOK)
	if got := r.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("the programs' login sets a cookie: %q", got)
	}
	env.me(pair.AccessToken).want(t, http.StatusOK)
	env.refresh(pair.RefreshToken).tokens(t, http.StatusOK)
}

// The page resuming its session learns who is signed in from the refresh
// itself: the same document GET /me answers, for staff and for a client.
func TestBrowserSessionSaysWhoIsSignedIn(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	clientRec, _ := env.portalClient(owner.AccessToken, "maya@example.com", "Europe/Berlin")

	for _, email := range []string{"ada@example.com", "maya@example.com"} {
		login := env.browserLogin(email, goodPassword).want(t, http.StatusOK)
		refreshed := env.browserRefresh(refreshCookieOf(t, login).Value).want(t, http.StatusOK)
		for name, r := range map[string]response{"login": login, "refresh": refreshed} {
			var body struct {
				AccessToken string         `json:"access_token"`
				Me          map[string]any `json:"me"`
			}
			r.decode(t, &body)
			var me map[string]any
			env.me(body.AccessToken).want(t, http.StatusOK).decode(t, &me)
			if !reflect.DeepEqual(body.Me, me) {
				t.Errorf("%s: browser %s says me = %v, GET /me says %v", email, name, body.Me, me)
			}
		}
	}
	var client struct {
		Me struct {
			ClientID string   `json:"client_id"`
			Roles    []string `json:"roles"`
		} `json:"me"`
	}
	login := env.browserLogin("maya@example.com", goodPassword).want(t, http.StatusOK)
	env.browserRefresh(refreshCookieOf(t, login).Value).want(t, http.StatusOK).decode(t, &client)
	if client.Me.ClientID != clientRec.ID || !slices.Equal(client.Me.Roles, []string{"client"}) {
		t.Errorf("the client's refresh says %+v, want client_id %s and the client role", client.Me, clientRec.ID)
	}
}
