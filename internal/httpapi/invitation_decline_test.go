package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/consent"
)

// declineToken posts a decline of the invitation the token names.
func (env *testEnv) declineToken(token string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/invitations/decline", body: map[string]string{"token": token}})
}

// TestDeclineInvitation has a therapist decline a consent straight from the
// e-mailed link: the consent ends declined, no account is made, the coach
// is told, and the token is spent for accepting and declining alike.
func TestDeclineInvitation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	users := env.rowCount("users")

	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	tok := env.mailToken("thea@therapy.example")
	env.declineToken(tok).want(t, http.StatusNoContent)

	var got grantDoc
	env.getConsent(f.client.AccessToken, c.ID).want(t, http.StatusOK).decode(t, &got)
	if got.Status != consent.StatusDeclined || got.DeclinedAt == nil {
		t.Fatalf("consent after the decline = %+v, want declined", got)
	}
	if n := env.rowCount("users"); n != users {
		t.Fatalf("%d users after the decline, want %d: declining makes no account", n, users)
	}
	if got := env.auditActions(c.ID); !slices.Equal(got, []string{"consent.signed", "consent.declined"}) {
		t.Fatalf("audit = %v", got)
	}
	if n := env.auditCount("therapist_invitation.declined"); n != 1 {
		t.Fatalf("%d therapist_invitation.declined events, want 1", n)
	}
	if m := env.lastMail("p-coach@example.com"); !strings.Contains(m.Subject, "declined") || !strings.Contains(m.Text, "Thea Rapist") {
		t.Fatalf("the coach's last e-mail = %q, want the decline", m.Subject)
	}

	// The token is spent: neither a second decline nor an acceptance works.
	env.declineToken(tok).problem(t, http.StatusGone)
	env.accept(tok, newTherapist).problem(t, http.StatusGone)
	env.login("thea@therapy.example", goodPassword).problem(t, http.StatusUnauthorized)

	// Accepted first, the invitation cannot be declined by its token: the
	// therapist declines from their account.
	accepted := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	tok = env.mailToken("thea@therapy.example")
	env.accept(tok, newTherapist).tokens(t, http.StatusCreated)
	env.declineToken(tok).problem(t, http.StatusGone)
	env.getConsent(f.client.AccessToken, accepted.ID).want(t, http.StatusOK).decode(t, &got)
	if got.Status != consent.StatusActive {
		t.Fatalf("accepted consent = %+v, want active", got)
	}

	// A consent the client revoked, or whose invitation expired, is gone.
	revoked := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "ruth@therapy.example"))
	tok = env.mailToken("ruth@therapy.example")
	env.consentAction(f.client.AccessToken, revoked.ID, "revoke").want(t, http.StatusOK)
	env.declineToken(tok).problem(t, http.StatusGone)
	env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "late@therapy.example"))
	tok = env.mailToken("late@therapy.example")
	env.clock.Advance(60 * 24 * time.Hour)
	env.declineToken(tok).problem(t, http.StatusGone)

	env.declineToken("no-such-token").problem(t, http.StatusNotFound)
}

// TestDeclineOtherInvitations: coach and portal invitations cannot be
// declined, and the refusal leaves them usable.
func TestDeclineOtherInvitations(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")
	coachInv := env.invite(owner.AccessToken, "ben@example.com")
	if p := env.declineToken(coachInv.token(t)).problem(t, http.StatusConflict); problemType(p) != "invitation_not_declinable" {
		t.Fatalf("problem type = %q", problemType(p))
	}
	coach := env.accept(coachInv.token(t), newCoach(goodPassword)).tokens(t, http.StatusCreated)
	env.declineToken(coachInv.token(t)).problem(t, http.StatusGone)

	c := env.createClient(coach.AccessToken, map[string]any{"name": "Cleo Client", "email": "cleo@example.com", "timezone": "Europe/Berlin"})
	env.do(request{method: "POST", path: "/api/v1/clients/" + c.ID + "/invitation", token: coach.AccessToken}).want(t, http.StatusCreated)
	tok := env.mailToken("cleo@example.com")
	if p := env.declineToken(tok).problem(t, http.StatusConflict); problemType(p) != "invitation_not_declinable" {
		t.Fatalf("problem type = %q", problemType(p))
	}
	env.accept(tok, map[string]string{"name": "Cleo Client", "password": goodPassword}).tokens(t, http.StatusCreated)
	env.declineToken(tok).problem(t, http.StatusGone)
}
