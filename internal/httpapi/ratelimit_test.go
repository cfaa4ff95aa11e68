package httpapi_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// loginFrom logs ada in from a remote address, with headers.
func (env *testEnv) loginFrom(remote, email string, headers map[string]string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/login", remote: remote, headers: headers,
		body: map[string]string{"email": email, "password": goodPassword}})
}

// limited checks r is a 429 problem with a usable Retry-After.
func (r response) limited(t *testing.T) {
	t.Helper()
	r.problem(t, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After = %q, want a positive number of seconds", r.Header.Get("Retry-After"))
	}
}

func xff(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

func TestLoginLimitedPerIP(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{
		ipLimit:      ratelimit.Rule{Burst: 3, Per: time.Minute},
		accountLimit: ratelimit.Rule{Burst: 100, Per: time.Minute},
	})
	env.register("ada@example.com")

	const attacker = "203.0.113.7:5555"
	for i := range 3 {
		// No trusted proxies: a forged X-Forwarded-For must not buy a fresh budget.
		env.loginFrom(attacker, "ada@example.com", xff(fmt.Sprintf("198.51.100.%d", i+1))).want(t, http.StatusOK)
	}
	env.loginFrom(attacker, "ada@example.com", xff("198.51.100.99")).limited(t)
	env.loginFrom(attacker, "ada@example.com", nil).limited(t)
	// A failed attempt is refused before the password is checked.
	env.do(request{method: "POST", path: "/api/v1/auth/login", remote: attacker,
		body: map[string]string{"email": "ada@example.com", "password": "wrong password"}}).limited(t)

	env.loginFrom("203.0.113.8:5555", "ada@example.com", nil).want(t, http.StatusOK)

	env.clock.Advance(time.Minute)
	env.loginFrom(attacker, "ada@example.com", nil).want(t, http.StatusOK)
}

func TestLimitBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{
		ipLimit:        ratelimit.Rule{Burst: 3, Per: time.Minute},
		accountLimit:   ratelimit.Rule{Burst: 100, Per: time.Minute},
		trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	env.register("ada@example.com")
	const proxy = "10.1.2.3:1234"

	for range 3 {
		env.loginFrom(proxy, "ada@example.com", xff("203.0.113.1")).want(t, http.StatusOK)
	}
	env.loginFrom(proxy, "ada@example.com", xff("203.0.113.1")).limited(t)
	// The client is the rightmost address the proxies did not add.
	env.loginFrom(proxy, "ada@example.com", xff("198.51.100.1, 203.0.113.1")).limited(t)
	env.loginFrom(proxy, "ada@example.com", xff("203.0.113.1, 10.9.9.9")).limited(t)

	// Another client behind the same proxy has its own budget.
	env.loginFrom(proxy, "ada@example.com", xff("203.0.113.2")).want(t, http.StatusOK)

	// From an untrusted peer, X-Forwarded-For is ignored: the peer is limited,
	// whatever it claims, and it cannot spend another client's budget.
	const untrusted = "198.51.100.9:4321"
	for i := range 3 {
		env.loginFrom(untrusted, "ada@example.com", xff(fmt.Sprintf("203.0.113.%d", 10+i))).want(t, http.StatusOK)
	}
	env.loginFrom(untrusted, "ada@example.com", xff("203.0.113.20")).limited(t)
	for range 2 {
		env.loginFrom(untrusted, "ada@example.com", xff("203.0.113.3")).limited(t)
	}
	env.loginFrom(proxy, "ada@example.com", xff("203.0.113.3")).want(t, http.StatusOK)
}

func TestLoginLimitedPerAccount(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{
		ipLimit:      ratelimit.Rule{Burst: 1000, Per: time.Minute},
		accountLimit: ratelimit.Rule{Burst: 3, Per: time.Minute},
	})
	env.register("ada@example.com")
	env.register("ben@example.com")

	env.do(request{method: "POST", path: "/api/v1/auth/login", remote: "203.0.113.1:1",
		body: map[string]string{"email": "ada@example.com", "password": "a wrong guess"}}).problem(t, http.StatusUnauthorized)
	env.loginFrom("203.0.113.2:1", "ada@example.com", nil).want(t, http.StatusOK)
	env.loginFrom("203.0.113.3:1", "ADA@example.com", nil).want(t, http.StatusOK)
	env.loginFrom("203.0.113.4:1", "ada@example.com", nil).limited(t)
	env.loginFrom("203.0.113.5:1", "Ada@Example.com", nil).limited(t)

	env.loginFrom("203.0.113.4:1", "ben@example.com", nil).want(t, http.StatusOK)

	env.clock.Advance(time.Minute)
	env.loginFrom("203.0.113.6:1", "ada@example.com", nil).want(t, http.StatusOK)
}

func TestRefreshLimitedPerIP(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{
		ipLimit:      ratelimit.Rule{Burst: 3, Per: time.Minute},
		accountLimit: ratelimit.Rule{Burst: 100, Per: time.Minute},
	})
	tp := env.register("ada@example.com")
	refreshFrom := func(remote, token string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/refresh", remote: remote,
			body: map[string]string{"refresh_token": token}})
	}

	const client = "203.0.113.7:5555"
	for range 3 {
		tp = refreshFrom(client, tp.RefreshToken).tokens(t, http.StatusOK)
	}
	refreshFrom(client, tp.RefreshToken).limited(t)
	refreshFrom(client, "guessed-token").limited(t)

	// The limited attempt did not spend the token.
	tp = refreshFrom("203.0.113.8:5555", tp.RefreshToken).tokens(t, http.StatusOK)
	env.clock.Advance(time.Minute)
	refreshFrom(client, tp.RefreshToken).tokens(t, http.StatusOK)
}
