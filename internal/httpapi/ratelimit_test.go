package httpapi_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
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

// registerFrom registers a practice, proves its owner's address and signs
// the owner in, all from remote: a test of the sign-in budget sets up its
// account without spending the budget of the addresses it measures.
func (env *testEnv) registerFrom(remote, email string) tokenPair {
	env.t.Helper()
	env.do(request{method: "POST", path: "/api/v1/auth/register", remote: remote, body: registration(email, goodPassword)}).
		want(env.t, http.StatusAccepted)
	env.do(request{method: "POST", path: "/api/v1/auth/verify-email", remote: remote,
		body: map[string]string{"token": env.mailToken(email)}}).want(env.t, http.StatusOK)
	return env.loginFrom(remote, email, nil).tokens(env.t, http.StatusOK)
}

// setUpAddress is where the sign-in budget tests set up their accounts.
const setUpAddress = "192.0.2.200:1"

func TestLoginLimitedPerIP(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 3, Per: time.Minute}})
	env.registerFrom(setUpAddress, "ada@example.com")

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
		trustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
	})
	env.registerFrom(setUpAddress, "ada@example.com")
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

// backedOff checks r is a 429 of the failure back-off and returns its
// Retry-After in seconds.
func (r response) backedOff(t *testing.T) int {
	t.Helper()
	r.limited(t)
	if p := r.problem(t, http.StatusTooManyRequests); !strings.HasSuffix(p.Type, "/problems/backoff") {
		t.Fatalf("problem type = %q, want …/problems/backoff", p.Type)
	}
	secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
	return secs
}

// TestFailedLoginsBackOff: failures, not attempts, slow sign-ins down: an
// address that keeps failing waits longer and longer; an account that keeps
// failing from anywhere waits briefly, with a cap, from the addresses its
// owner never signed in from, and not at all from those they did.
func TestFailedLoginsBackOff(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{
		ipLimit:        ratelimit.Rule{Burst: 1000, Per: time.Minute},
		deviceBackoff:  ratelimit.BackoffRule{Free: 2, Base: time.Minute, Ceiling: 4 * time.Minute, Forget: time.Hour},
		accountBackoff: ratelimit.BackoffRule{Free: 3, Base: 10 * time.Second, Ceiling: 20 * time.Second, Forget: time.Hour},
	})
	env.register("ada@example.com")
	env.register("ben@example.com")
	wrong := func(remote, email string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/login", remote: remote,
			body: map[string]string{"email": email, "password": "a wrong guess"}})
	}

	// Signing in with the right password, however often, is never slowed.
	for i := range 12 {
		env.loginFrom(fmt.Sprintf("198.51.100.%d:1", 1+i%3), "ada@example.com", nil).want(t, http.StatusOK)
	}

	// One address: two failures are free, the third makes it wait, then
	// even the right password is refused from there, whatever the case.
	const attacker = "203.0.113.1:1"
	wrong(attacker, "ada@example.com").problem(t, http.StatusUnauthorized)
	wrong(attacker, "ADA@example.com").problem(t, http.StatusUnauthorized)
	wrong(attacker, "Ada@Example.com").problem(t, http.StatusUnauthorized)
	if secs := env.loginFrom(attacker, "ada@example.com", nil).backedOff(t); secs < 60 || secs > 61 {
		t.Fatalf("Retry-After = %d, want the minute of the first wait", secs)
	}
	env.loginFrom(attacker, "ben@example.com", nil).want(t, http.StatusOK) // another account from there is not slowed

	// The account: past three failures from anywhere, addresses its owner
	// never used wait, at most 20 s, and refused attempts are no failures.
	wrong("203.0.113.2:1", "ada@example.com").problem(t, http.StatusUnauthorized)
	for i := range 4 {
		secs := env.loginFrom(fmt.Sprintf("203.0.113.%d:1", 10+i), "ada@example.com", nil).backedOff(t)
		if secs > 21 { // the ceiling, rounded up
			t.Fatalf("a stranger's failures made the account wait %d s", secs)
		}
		env.clock.Advance(time.Duration(secs) * time.Second)
		wrong(fmt.Sprintf("203.0.113.%d:1", 20+i), "ada@example.com").problem(t, http.StatusUnauthorized)
	}
	env.loginFrom("203.0.113.30:1", "ada@example.com", nil).backedOff(t)
	// From an address they signed in from, the owner gets in at once, and
	// their success ends the account's wait.
	env.loginFrom("198.51.100.2:1", "ada@example.com", nil).want(t, http.StatusOK)
	env.loginFrom("203.0.113.30:1", "ada@example.com", nil).want(t, http.StatusOK)

	// The attacker's address waited long enough by now.
	env.clock.Advance(time.Minute)
	env.loginFrom(attacker, "ada@example.com", nil).want(t, http.StatusOK)
}

// TestSignInOperationsShareTheIPBudget: every operation that checks a
// secret without a session spends the address's sign-in budget.
func TestSignInOperationsShareTheIPBudget(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 4, Per: time.Minute}})
	const client = "203.0.113.7:5555"
	for _, r := range []request{
		{method: "POST", path: "/api/v1/auth/login/mfa", body: map[string]string{"mfa_token": "guessed", "code": "123456"}},
		{method: "POST", path: "/api/v1/auth/verify-email", body: map[string]string{"token": "guessed"}},
		{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": "ada@example.com"}},
		{method: "POST", path: "/api/v1/auth/password-reset/confirm", body: map[string]string{"token": "guessed", "password": goodPassword}},
	} {
		r.remote = client
		if got := env.do(r); got.Code == http.StatusTooManyRequests || got.Code >= 500 {
			t.Fatalf("%s: %d before the budget was spent; body %s", r.path, got.Code, got.Body)
		}
	}
	for _, r := range []request{
		{method: "POST", path: "/api/v1/auth/login/mfa", body: map[string]string{"mfa_token": "guessed", "code": "123456"}},
		{method: "POST", path: "/api/v1/auth/verify-email", body: map[string]string{"token": "guessed"}},
		{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": "ada@example.com"}},
		{method: "POST", path: "/api/v1/auth/password-reset/confirm", body: map[string]string{"token": "guessed", "password": goodPassword}},
		{method: "POST", path: "/api/v1/invitations/accept", body: map[string]string{"token": "guessed", "password": goodPassword}},
		{method: "POST", path: "/api/v1/invitations/decline", body: map[string]string{"token": "guessed"}},
		{method: "POST", path: "/api/v1/auth/register", body: registration("zoe@example.com", goodPassword)},
	} {
		r.remote = client
		env.do(r).limited(t)
	}
	env.do(request{method: "POST", path: "/api/v1/auth/verify-email", remote: "203.0.113.8:5555",
		body: map[string]string{"token": "guessed"}}).problem(t, http.StatusNotFound)
}

// TestRefreshLimitedPerIP: session refreshes have a per-IP budget of their
// own, apart from the sign-in attempts: a browser refreshes on every page
// load, and an office behind one address must still be able to sign in.
func TestRefreshLimitedPerIP(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 3, Per: time.Minute}, refreshLimit: ratelimit.Rule{Burst: 3, Per: time.Minute}})
	tp := env.registerFrom(setUpAddress, "ada@example.com")
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
	// Signing in from the same address still works: three attempts left.
	for range 3 {
		env.loginFrom(client, "ada@example.com", nil).want(t, http.StatusOK)
	}

	// The limited attempt did not spend the token.
	tp = refreshFrom("203.0.113.8:5555", tp.RefreshToken).tokens(t, http.StatusOK)
	env.clock.Advance(time.Minute)
	refreshFrom(client, tp.RefreshToken).tokens(t, http.StatusOK)
}
