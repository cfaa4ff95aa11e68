package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// memberEmails lists the e-mails of the members the token's practice has.
func (env *testEnv) memberEmails(token string) []string {
	env.t.Helper()
	var list struct {
		Items []struct {
			Email string `json:"email"`
			Role  string `json:"role"`
		} `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice/members", token: token}).want(env.t, http.StatusOK).decode(env.t, &list)
	var out []string
	for _, m := range list.Items {
		out = append(out, m.Email+":"+m.Role)
	}
	return out
}

// invitationStatuses lists the e-mail and status of the coach invitations
// of the owner's practice, newest first.
func (env *testEnv) invitationStatuses(ownerToken string) []string {
	env.t.Helper()
	var list struct {
		Items []invitation `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/practice/invitations", token: ownerToken}).want(env.t, http.StatusOK).decode(env.t, &list)
	out := []string{}
	for _, inv := range list.Items {
		out = append(out, inv.Email+":"+inv.Status)
	}
	return out
}

func newCoach(password string) map[string]string {
	return map[string]string{"name": "Ben Coach", "password": password}
}

func TestInviteAndAccept(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")

	inv := env.invite(owner.AccessToken, "Ben@Example.com")
	if link := "https://tandem.example/accept-invitation#token=" + inv.token(t); !strings.Contains(env.lastMail("ben@example.com").Text, link) {
		t.Fatalf("the invitation e-mail does not hold the link %q", link)
	}
	if inv.Email != "ben@example.com" || inv.Role != "coach" || inv.Status != "sent" || inv.SentAt.Sub(env.clock.Now()).Abs() > time.Second {
		t.Fatalf("invitation = %+v, want ben as a coach, sent now", inv)
	}
	if got, want := inv.ExpiresAt, env.clock.Now().Add(168*time.Hour); got.Sub(want).Abs() > time.Second {
		t.Fatalf("expires_at = %v, want %v", got, want)
	}

	coach := env.accept(inv.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	env.do(request{method: "GET", path: "/api/v1/practice", token: coach.AccessToken}).want(t, http.StatusOK)
	env.do(request{method: "PATCH", path: "/api/v1/practice", token: coach.AccessToken,
		body: map[string]string{"name": "Ben's now"}}).problem(t, http.StatusForbidden)
	env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: coach.AccessToken,
		body: map[string]string{"email": "cleo@example.com"}}).problem(t, http.StatusForbidden)

	// The invitation is spent.
	env.accept(inv.token(t), newCoach(goodPassword)).problem(t, http.StatusGone)
	env.accept(inv.token(t), map[string]string{"password": goodPassword}).problem(t, http.StatusGone)

	// The coach can sign in and is listed; the owner sees the invitation accepted.
	env.login("ben@example.com", goodPassword).tokens(t, http.StatusOK)
	if got := env.memberEmails(owner.AccessToken); !slices.Equal(got, []string{"ada@example.com:owner", "ben@example.com:coach"}) {
		t.Fatalf("members = %v", got)
	}
	if got := env.invitationStatuses(owner.AccessToken); !slices.Equal(got, []string{"ben@example.com:accepted"}) {
		t.Fatalf("invitations = %v", got)
	}

	// Inviting a member again is a field error, whatever the case.
	for _, email := range []string{"ben@example.com", "BEN@example.com", "ada@example.com"} {
		p := env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken,
			body: map[string]string{"email": email}}).problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "email") {
			t.Fatalf("invite %s: errors = %+v, want one for email", email, p.Errors)
		}
	}
}

func TestInvitationRefusals(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")

	t.Run("expired", func(t *testing.T) {
		inv := env.invite(owner.AccessToken, "late@example.com")
		env.clock.Advance(168*time.Hour + time.Second)
		env.accept(inv.token(t), newCoach(goodPassword)).problem(t, http.StatusGone)
		env.login("late@example.com", goodPassword).problem(t, http.StatusUnauthorized)
		owner = env.login("ada@example.com", goodPassword).tokens(t, http.StatusOK) // the old access token expired
		if got := env.memberEmails(owner.AccessToken); len(got) != 1 {
			t.Fatalf("members = %v", got)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		env.accept("no-such-invitation", newCoach(goodPassword)).problem(t, http.StatusNotFound)
	})
	t.Run("weak password keeps the invitation usable", func(t *testing.T) {
		inv := env.invite(owner.AccessToken, "weak@example.com")
		for _, pw := range []string{"short", "password1"} {
			p := env.accept(inv.token(t), newCoach(pw)).problem(t, http.StatusBadRequest)
			if !hasFieldError(p, "password") {
				t.Fatalf("errors = %+v, want one for password", p.Errors)
			}
		}
		p := env.accept(inv.token(t), map[string]string{"password": goodPassword}).problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "name") {
			t.Fatalf("a new account without a name: errors = %+v, want one for name", p.Errors)
		}
		env.accept(inv.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	})
}

func TestExistingUserAcceptsInvitation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("ada@example.com")
	env.register("cleo@example.com") // owns another practice

	inv := env.invite(ada.AccessToken, "cleo@example.com")
	p := env.accept(inv.token(t), map[string]string{"password": "not cleo's password"}).problem(t, http.StatusUnauthorized)
	if len(p.Errors) != 0 {
		t.Fatalf("problem = %+v", p)
	}
	if got := env.memberEmails(ada.AccessToken); len(got) != 1 {
		t.Fatalf("a wrong password joined the practice: members = %v", got)
	}

	// Still unused: the right password joins. The name is ignored.
	joined := env.accept(inv.token(t), map[string]string{"name": "Someone Else", "password": goodPassword}).tokens(t, http.StatusCreated)
	var me struct {
		Name     string   `json:"name"`
		Roles    []string `json:"roles"`
		Practice struct {
			Name string `json:"name"`
		} `json:"practice"`
	}
	env.me(joined.AccessToken).want(t, http.StatusOK).decode(t, &me)
	if me.Name != "Owner cleo@example.com" || !slices.Equal(me.Roles, []string{"coach"}) || me.Practice.Name != "Practice of ada@example.com" {
		t.Fatalf("me = %+v, want Cleo as a coach of Ada's practice", me)
	}
	if got := env.memberEmails(ada.AccessToken); !slices.Equal(got, []string{"ada@example.com:owner", "cleo@example.com:coach"}) {
		t.Fatalf("members = %v", got)
	}
	env.accept(inv.token(t), map[string]string{"password": goodPassword}).problem(t, http.StatusGone)

	// Logging in still opens Cleo's own practice, where she is the owner.
	var own struct {
		Roles []string `json:"roles"`
	}
	env.me(env.login("cleo@example.com", goodPassword).tokens(t, http.StatusOK).AccessToken).decode(t, &own)
	if !slices.Equal(own.Roles, []string{"owner"}) {
		t.Fatalf("roles after login = %v", own.Roles)
	}
}

func TestInvitationEmail(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	env := newEnv(t, envOptions{smtpURL: mp.SMTPURL()})
	owner := env.register("ada@example.com")

	inv := env.invite(owner.AccessToken, "ben@example.com")
	var msgs []mailtest.Message
	for _, m := range mp.Messages(t) {
		if !slices.Equal(m.To, []string{"ada@example.com"}) { // but the owner's verification
			msgs = append(msgs, m)
		}
	}
	if len(msgs) != 1 {
		t.Fatalf("mailpit received %d messages besides the owner's verification, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if !slices.Equal(m.To, []string{"ben@example.com"}) {
		t.Fatalf("to = %v", m.To)
	}
	token, ok := mail.ExtractToken(m.Text)
	if !ok || !strings.Contains(m.Text, "https://tandem.example/accept-invitation#token="+token) || token != inv.token(t) {
		t.Fatalf("text does not hold the invitation's accept link:\n%s", m.Text)
	}
	// The link as delivered works.
	env.accept(token, newCoach(goodPassword)).tokens(t, http.StatusCreated)
	logs := env.logs.String()
	if strings.Contains(logs, inv.token(t)) {
		t.Fatal("the invitation token is in the log")
	}
	if strings.Contains(logs, "e-mail failed") {
		t.Fatalf("sending failed:\n%s", logs)
	}
}

func TestInvitationLoggedNotSent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")

	inv := env.invite(owner.AccessToken, "ben@example.com")
	env.accept(inv.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	env.accept(inv.token(t), newCoach(goodPassword)).problem(t, http.StatusGone)
	logs := env.logs.String()
	if !strings.Contains(logs, `"to":"ben@example.com"`) {
		t.Fatalf("the log mailer did not log the recipient:\n%s", logs)
	}
	if strings.Contains(logs, inv.token(t)) {
		t.Fatal("the invitation token is in the log")
	}
}

// TestAcceptanceSharesTheLoginBudget checks that accepting an invitation for
// an existing account, which checks that account's password, cannot be used
// to guess passwords past the per-account back-off of logins. Anyone can
// register a practice and invite any address, so without this the
// invitation would be a password oracle limited only per IP.
func TestAcceptanceSharesTheLoginBudget(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{
		ipLimit:        ratelimit.Rule{Burst: 1000, Per: time.Minute},
		accountBackoff: ratelimit.BackoffRule{Free: 2, Base: time.Minute, Ceiling: time.Minute, Forget: time.Hour},
	})
	env.register("victim@example.com") // from the default address, which the victim's account now knows
	attacker := env.register("mallory@example.com")
	inv := env.invite(attacker.AccessToken, "victim@example.com")

	guess := func(i int) response {
		return env.do(request{method: "POST", path: "/api/v1/invitations/accept", remote: fmt.Sprintf("203.0.113.%d:1", i),
			body: map[string]string{"token": inv.token(t), "password": fmt.Sprintf("guess number %d", i)}})
	}
	for i := range 3 {
		guess(i).problem(t, http.StatusUnauthorized)
	}
	if p := guess(3).problem(t, http.StatusTooManyRequests); !strings.HasSuffix(p.Type, "/problems/backoff") {
		t.Fatalf("problem = %+v, want backoff", p)
	}
	guess(4).limited(t)
	env.loginFrom("203.0.113.200:1", "victim@example.com", nil).limited(t)
	// From an address the victim signed in from before, the guesses do not keep them out.
	env.login("victim@example.com", goodPassword).tokens(t, http.StatusOK)

	env.clock.Advance(time.Minute)
	env.loginFrom("203.0.113.200:1", "victim@example.com", nil).tokens(t, http.StatusOK)
}

// TestInvitingAgainReplacesTheUnusedInvitation: only the newest link works,
// and no invitation makes anyone a member twice.
func TestInvitingAgainReplacesTheUnusedInvitation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	first := env.invite(owner.AccessToken, "ben@example.com")
	second := env.invite(owner.AccessToken, "ben@example.com")
	if first.ID == second.ID || first.token(t) == second.token(t) {
		t.Fatal("inviting again sent the same invitation")
	}

	p := env.accept(first.token(t), newCoach(goodPassword)).problem(t, http.StatusGone)
	if !strings.Contains(p.Detail, "replaced") {
		t.Fatalf("the replaced invitation answers %+v, want it to say it was replaced", p)
	}
	env.accept(second.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	if got := env.memberEmails(owner.AccessToken); len(got) != 2 {
		t.Fatalf("members = %v", got)
	}
	if got := env.invitationStatuses(owner.AccessToken); !slices.Equal(got, []string{"ben@example.com:accepted", "ben@example.com:replaced"}) {
		t.Fatalf("invitations = %v", got)
	}

	// A member who takes over an invited address cannot join a second time.
	third := env.invite(owner.AccessToken, "ben.new@example.com")
	ben := env.login("ben@example.com", goodPassword).tokens(t, http.StatusOK)
	env.do(request{method: "POST", path: "/api/v1/me/email", token: ben.AccessToken,
		body: map[string]string{"email": "ben.new@example.com"}}).want(t, http.StatusAccepted)
	env.verify(env.mailToken("ben.new@example.com"))
	env.accept(third.token(t), map[string]string{"password": goodPassword}).problem(t, http.StatusConflict)
	if got := env.memberEmails(owner.AccessToken); !slices.Equal(got, []string{"ada@example.com:owner", "ben.new@example.com:coach"}) {
		t.Fatalf("members = %v", got)
	}
}

// TestConcurrentAcceptance races several acceptances of one invitation:
// exactly one wins, the others are refused with a 4xx, never a 5xx.
func TestConcurrentAcceptance(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	env.register("cleo@example.com")

	for _, tt := range []struct {
		name, email, body string
	}{
		{"new account", "ben@example.com", `"name":"Ben","password":"a long and quiet river"`},
		{"existing account", "cleo@example.com", `"password":"a long and quiet river"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv := env.invite(owner.AccessToken, tt.email)
			body := `{"token":"` + inv.token(t) + `",` + tt.body + `}`
			const n = 4
			codes := make(chan int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					codes <- env.do(request{method: "POST", path: "/api/v1/invitations/accept",
						remote: fmt.Sprintf("203.0.113.%d:1", i), body: body}).Code
				})
			}
			wg.Wait()
			close(codes)
			var won []int
			for c := range codes {
				switch {
				case c == http.StatusCreated:
					won = append(won, c)
				case c == http.StatusConflict || c == http.StatusGone:
				default:
					t.Errorf("status %d, want 201, 409 or 410", c)
				}
			}
			if len(won) != 1 {
				t.Fatalf("%d acceptances won, want exactly 1", len(won))
			}
		})
	}
}
