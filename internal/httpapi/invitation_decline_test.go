package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/consent"
)

// declineToken posts a decline of the invitation the token names.
func (env *testEnv) declineToken(token string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/invitations/decline", body: map[string]string{"token": token}})
}

// storedInvitation is what the database holds of a therapist's invitation.
type storedInvitation struct {
	AcceptedAt *time.Time
	AcceptedBy *uuid.UUID
	DeclinedAt *time.Time
}

// therapistInvitation reads the stored state of the invitation to a
// consent; columns names the ones to read (before migration 00014 there
// is no declined_at).
func (env *testEnv) therapistInvitation(consentID string, columns ...string) storedInvitation {
	env.t.Helper()
	if len(columns) == 0 {
		columns = []string{"accepted_at", "accepted_by", "declined_at"}
	}
	var inv storedInvitation
	if err := env.store.DB.Table("therapist_invitations").Select(columns).Where("consent_id = ?", consentID).
		Take(&inv).Error; err != nil {
		env.t.Fatal(err)
	}
	return inv
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
	// The invitation is stored declined, not accepted by nobody.
	declined := env.therapistInvitation(c.ID)
	if declined.AcceptedAt != nil || declined.AcceptedBy != nil || declined.DeclinedAt == nil ||
		declined.DeclinedAt.Sub(env.clock.Now()).Abs() > time.Second {
		t.Fatalf("stored invitation = %+v, want declined now and not accepted", declined)
	}

	// The token is spent: neither a second decline nor an acceptance works,
	// and the refusals leave the invitation and its consent as they were.
	env.declineToken(tok).problem(t, http.StatusGone)
	env.accept(tok, newTherapist).problem(t, http.StatusGone)
	env.login("thea@therapy.example", goodPassword).problem(t, http.StatusUnauthorized)
	if inv := env.therapistInvitation(c.ID); inv.AcceptedAt != nil || inv.AcceptedBy != nil ||
		inv.DeclinedAt == nil || !inv.DeclinedAt.Equal(*declined.DeclinedAt) {
		t.Fatalf("invitation after the refusals = %+v, want %+v", inv, declined)
	}
	env.getConsent(f.client.AccessToken, c.ID).want(t, http.StatusOK).decode(t, &got)
	if got.Status != consent.StatusDeclined || got.ActivatedAt != nil {
		t.Fatalf("consent after the refusals = %+v, want declined, never active", got)
	}

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
	if inv := env.therapistInvitation(accepted.ID); inv.AcceptedAt == nil || inv.AcceptedBy == nil || inv.DeclinedAt != nil {
		t.Fatalf("stored invitation = %+v, want accepted by the therapist and not declined", inv)
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

// TestMigratingDeclinedInvitations: migration 14 gives declined
// invitations their own column. Rolled back, a declined invitation is
// stored as before it (accepted at the time it was declined, by nobody);
// migrated again, it is declined at that time and accepted never, an
// accepted invitation is left alone, and the token stays spent.
func TestMigratingDeclinedInvitations(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := context.Background()
	f := env.practice("p")
	declinedConsent := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	declinedToken := env.mailToken("thea@therapy.example")
	env.declineToken(declinedToken).want(t, http.StatusNoContent)
	acceptedConsent := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "ruth@therapy.example"))
	env.accept(env.mailToken("ruth@therapy.example"), newTherapist).tokens(t, http.StatusCreated)
	declined, accepted := env.therapistInvitation(declinedConsent.ID), env.therapistInvitation(acceptedConsent.ID)

	const declinedColumn = 14
	status, err := env.store.MigrateStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range status {
		if m.Version >= declinedColumn {
			if err := env.store.MigrateDown(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if env.store.DB.Migrator().HasColumn("therapist_invitations", "declined_at") {
		t.Fatalf("therapist_invitations.declined_at exists below migration %d", declinedColumn)
	}
	if old := env.therapistInvitation(declinedConsent.ID, "accepted_at", "accepted_by"); old.AcceptedAt == nil ||
		!old.AcceptedAt.Equal(*declined.DeclinedAt) || old.AcceptedBy != nil {
		t.Fatalf("declined invitation rolled back = %+v, want accepted at %v by nobody", old, declined.DeclinedAt)
	}

	if _, err := env.store.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	if got := env.therapistInvitation(declinedConsent.ID); got.AcceptedAt != nil || got.AcceptedBy != nil ||
		got.DeclinedAt == nil || !got.DeclinedAt.Equal(*declined.DeclinedAt) {
		t.Fatalf("declined invitation migrated again = %+v, want declined at %v", got, declined.DeclinedAt)
	}
	if got := env.therapistInvitation(acceptedConsent.ID); got.DeclinedAt != nil || got.AcceptedAt == nil ||
		!got.AcceptedAt.Equal(*accepted.AcceptedAt) || got.AcceptedBy == nil || *got.AcceptedBy != *accepted.AcceptedBy {
		t.Fatalf("accepted invitation migrated again = %+v, want %+v", got, accepted)
	}
	env.accept(declinedToken, newTherapist).problem(t, http.StatusGone)
	env.declineToken(declinedToken).problem(t, http.StatusGone)
}
