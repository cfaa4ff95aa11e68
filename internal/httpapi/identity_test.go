package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// Regression tests for the identity findings: each reproduces an attack
// that used to work and asserts that it fails now.

// countRows counts the rows of table matching where.
func (env *testEnv) countRows(table, where string, args ...any) int64 {
	env.t.Helper()
	var n int64
	if err := env.store.DB.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		env.t.Fatal(err)
	}
	return n
}

// problemType returns the last segment of a problem document's type.
func problemType(p problemDoc) string {
	return p.Type[strings.LastIndex(p.Type, "/")+1:]
}

func (env *testEnv) sign(f practiceFixture, therapistEmail string) grantDoc {
	env.t.Helper()
	return env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, therapistEmail))
}

// TestPreRegisteredTherapistImpostorGetsNothing: someone registers with a
// therapist's address before the client names it. The consent stays
// pending, the impostor reads and writes nothing and no disclosure is
// written; the real therapist, holding the e-mailed link, replaces the
// impostor's unverified account and only they see the client.
func TestPreRegisteredTherapistImpostorGetsNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("imp")
	const address = "dr.real@clinic.example"
	impostor := env.registerUnverified(address)

	c := env.sign(f, address)
	if c.Status != "pending" {
		t.Fatalf("consent to an address with an unverified account is %q, want pending", c.Status)
	}
	for _, r := range []request{
		{method: "GET", path: "/api/v1/shared/clients"},
		{method: "GET", path: "/api/v1/shared/clients/" + f.clientRec.ID},
		{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/coordination-notes"},
		{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/coordination-notes", body: map[string]string{"body": "I am the therapist"}},
		{method: "POST", path: "/api/v1/consents/" + c.ID + "/decline"},
	} {
		r.token = impostor.AccessToken
		if got := env.do(r); got.Code < 400 {
			t.Errorf("impostor %s %s = %d, want refused; body %s", r.method, r.path, got.Code, got.Body)
		}
	}
	if n := env.countRows("disclosures", "client_id = ?", f.clientRec.ID); n != 0 {
		t.Fatalf("%d disclosures written for the impostor's attempts", n)
	}
	if n := env.countRows("coordination_notes", "client_id = ?", f.clientRec.ID); n != 0 {
		t.Fatalf("the impostor wrote %d coordination notes", n)
	}

	// The real therapist reads the link in their own mailbox.
	real := env.accept(env.mailToken(address), map[string]string{"name": "Dr Real", "password": "the doctor's own words"}).
		tokens(t, http.StatusCreated)
	env.do(request{method: "GET", path: "/api/v1/shared/clients/" + f.clientRec.ID, token: real.AccessToken}).want(t, http.StatusOK)
	env.me(impostor.AccessToken).problem(t, http.StatusUnauthorized)
	env.login(address, goodPassword).problem(t, http.StatusUnauthorized) // the impostor's password no longer opens anything
	if got := env.getConsentDoc(f.client.AccessToken, c.ID); got.Status != "active" {
		t.Fatalf("after the real therapist accepted, the consent is %q", got.Status)
	}
	// Audited in the practice of the consent, and in the impostor's own.
	practiceID := env.whoAmI(f.owner.AccessToken).Practice.ID
	if n := env.countRows("audit_events", "action = ? AND practice_id = ?", "account.replaced_unverified", practiceID); n != 1 {
		t.Fatalf("%d audit events for the replaced account in the consent's practice, want 1", n)
	}
}

func (env *testEnv) getConsentDoc(token, id string) grantDoc {
	env.t.Helper()
	var c grantDoc
	env.getConsent(token, id).want(env.t, http.StatusOK).decode(env.t, &c)
	return c
}

// TestConsentToATherapistWithAnAccountWaitsForTheirAcceptance: a therapist
// who already has a verified account is not linked at once; they accept the
// e-mailed invitation with their password.
func TestConsentToATherapistWithAnAccountWaitsForTheirAcceptance(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("known")
	const address = "thea@therapy.example"
	env.register(address) // Thea runs her own practice on Tandem: a verified account

	c := env.sign(f, address)
	if c.Status != "pending" || c.Signature == nil {
		t.Fatalf("consent = %+v, want pending and signed", c)
	}
	token := env.mailToken(address)
	env.accept(token, map[string]string{"password": "not her password at all"}).problem(t, http.StatusUnauthorized)
	thea := env.accept(token, map[string]string{"password": goodPassword}).tokens(t, http.StatusCreated)
	env.do(request{method: "GET", path: "/api/v1/shared/clients/" + f.clientRec.ID, token: thea.AccessToken}).want(t, http.StatusOK)
	env.accept(token, map[string]string{"password": goodPassword}).problem(t, http.StatusGone)
}

// TestStaffCannotObtainAClientsPortalToken: the invitation's link reaches
// only the client's mailbox; no staff response carries it.
func TestStaffCannotObtainAClientsPortalToken(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("owner@staff.example")
	coach := env.addCoach(owner.AccessToken, "coach@staff.example")
	c := env.createClient(coach.AccessToken, map[string]any{"name": "Maya Lind", "email": "maya@staff.example"})
	invited := env.do(request{method: "POST", path: "/api/v1/clients/" + c.ID + "/invitation", token: coach.AccessToken}).
		want(t, http.StatusCreated)
	token := env.mailToken("maya@staff.example")
	for _, r := range []response{
		invited,
		env.do(request{method: "GET", path: "/api/v1/clients/" + c.ID + "/invitation", token: coach.AccessToken}).want(t, http.StatusOK),
		env.do(request{method: "GET", path: "/api/v1/clients/" + c.ID + "/invitation", token: owner.AccessToken}).want(t, http.StatusOK),
		env.do(request{method: "GET", path: "/api/v1/clients/" + c.ID, token: coach.AccessToken}).want(t, http.StatusOK),
	} {
		if strings.Contains(string(r.Body), token) || strings.Contains(string(r.Body), "#token=") {
			t.Fatalf("a staff response carries the portal token: %s", r.Body)
		}
	}
	var inv struct {
		Status string    `json:"status"`
		SentAt time.Time `json:"sent_at"`
	}
	invited.decode(t, &inv)
	if inv.Status != "sent" || inv.SentAt.IsZero() {
		t.Fatalf("invitation = %s, want status sent with sent_at", invited.Body)
	}
	if strings.Contains(env.logs.String(), token) {
		t.Fatal("the portal token is in the log")
	}
	// The client, and only someone with the mailbox, accepts.
	env.accept(token, map[string]string{"name": "Maya Lind", "password": goodPassword}).tokens(t, http.StatusCreated)
	var after struct {
		Status string `json:"status"`
	}
	env.do(request{method: "GET", path: "/api/v1/clients/" + c.ID + "/invitation", token: coach.AccessToken}).
		want(t, http.StatusOK).decode(t, &after)
	if after.Status != "accepted" {
		t.Fatalf("after acceptance the invitation is %q", after.Status)
	}
}

// TestTheRealOwnerOfAnAddressCanAlwaysClaimIt: an early, unverified
// registration of someone else's address neither blocks their invitation
// nor their own registration.
func TestTheRealOwnerOfAnAddressCanAlwaysClaimIt(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	t.Run("portal invitation", func(t *testing.T) {
		squatter := env.registerUnverified("maya@claim.example")
		coach := env.register("coach@claim.example")
		c := env.createClient(coach.AccessToken, map[string]any{"name": "Maya", "email": "maya@claim.example"})
		env.do(request{method: "POST", path: "/api/v1/clients/" + c.ID + "/invitation", token: coach.AccessToken}).want(t, http.StatusCreated)
		maya := env.accept(env.mailToken("maya@claim.example"), map[string]string{"name": "Maya", "password": "maya's own quiet garden"}).
			tokens(t, http.StatusCreated)
		if me := env.whoAmIFull(maya.AccessToken); !me.EmailVerified || len(me.Roles) != 1 || me.Roles[0] != "client" {
			t.Fatalf("Maya = %+v, want a verified client", me)
		}
		env.me(squatter.AccessToken).problem(t, http.StatusUnauthorized)
		env.login("maya@claim.example", "maya's own quiet garden").want(t, http.StatusOK)
	})

	t.Run("registration", func(t *testing.T) {
		squatter := env.registerUnverified("olivia@claim.example")
		env.do(request{method: "POST", path: "/api/v1/auth/register", body: map[string]string{
			"practice_name": "Olivia's Practice", "name": "Olivia", "email": "olivia@claim.example", "password": "olivia rows at dawn",
		}}).want(t, http.StatusAccepted)
		env.verify(env.mailToken("olivia@claim.example"))
		env.me(squatter.AccessToken).problem(t, http.StatusUnauthorized)
		olivia := env.login("olivia@claim.example", "olivia rows at dawn").tokens(t, http.StatusOK)
		if me := env.whoAmIFull(olivia.AccessToken); !me.EmailVerified || me.Practice == nil || me.Practice.Name != "Olivia's Practice" {
			t.Fatalf("Olivia = %+v, want the verified owner of her practice", me)
		}
	})

	t.Run("forgotten password", func(t *testing.T) {
		env.registerUnverified("noor@claim.example")
		env.do(request{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": "noor@claim.example"}}).
			want(t, http.StatusAccepted)
		env.do(request{method: "POST", path: "/api/v1/auth/password-reset/confirm",
			body: map[string]string{"token": env.mailToken("noor@claim.example"), "password": "noor keeps her own key"}}).want(t, http.StatusNoContent)
		noor := env.login("noor@claim.example", "noor keeps her own key").tokens(t, http.StatusOK)
		if !env.whoAmIFull(noor.AccessToken).EmailVerified {
			t.Fatal("a used reset link proves the address")
		}
	})
}

type fullMe struct {
	Email                string   `json:"email"`
	EmailVerified        bool     `json:"email_verified"`
	MFAEnabled           bool     `json:"mfa_enabled"`
	MFAEnrolmentRequired bool     `json:"mfa_enrolment_required"`
	Roles                []string `json:"roles"`
	Practice             *struct {
		Name string `json:"name"`
	} `json:"practice"`
}

func (env *testEnv) whoAmIFull(token string) fullMe {
	env.t.Helper()
	var m fullMe
	env.me(token).want(env.t, http.StatusOK).decode(env.t, &m)
	return m
}

// TestAnUnverifiedAccountCannotInviteOrSign: until the link is used, the
// owner signs in but cannot invite; the link then works once.
func TestAnUnverifiedAccountCannotInviteOrSign(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.registerUnverified("fresh@verify.example")
	if env.whoAmIFull(owner.AccessToken).EmailVerified {
		t.Fatal("a registered address is verified before its link is used")
	}
	p := env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken,
		body: map[string]string{"email": "coach@verify.example"}}).problem(t, http.StatusForbidden)
	if problemType(p) != "email_unverified" {
		t.Fatalf("problem = %+v, want email_unverified", p)
	}
	c := env.createClient(owner.AccessToken, map[string]any{"name": "Kim", "email": "kim@verify.example"})
	env.do(request{method: "POST", path: "/api/v1/clients/" + c.ID + "/invitation", token: owner.AccessToken}).problem(t, http.StatusForbidden)

	token := env.mailToken("fresh@verify.example")
	env.verify(token)
	env.do(request{method: "POST", path: "/api/v1/auth/verify-email", body: map[string]string{"token": token}}).problem(t, http.StatusGone)
	env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken,
		body: map[string]string{"email": "coach@verify.example"}}).want(t, http.StatusCreated)

	// A link unused for 48 hours expires.
	env.registerUnverified("late@verify.example")
	lateToken := env.mailToken("late@verify.example")
	env.clock.Advance(49 * time.Hour)
	env.do(request{method: "POST", path: "/api/v1/auth/verify-email", body: map[string]string{"token": lateToken}}).problem(t, http.StatusGone)
	env.do(request{method: "POST", path: "/api/v1/auth/verify-email", body: map[string]string{"token": "never-sent"}}).problem(t, http.StatusNotFound)
}

// TestRegisterAndResetRevealNoAccount: the same status and body whether or
// not an address has an account; the owner of a taken address is told.
func TestRegisterAndResetRevealNoAccount(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("taken@enum.example")
	reg := func(email string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/register", body: map[string]string{
			"practice_name": "P", "name": "N", "email": email, "password": goodPassword}})
	}
	reset := func(email string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": email}})
	}
	for name, pair := range map[string][2]response{
		"register": {reg("taken@enum.example"), reg("free@enum.example")},
		"reset":    {reset("taken@enum.example"), reset("nobody@enum.example")},
	} {
		if pair[0].Code != http.StatusAccepted || pair[0].Code != pair[1].Code || string(pair[0].Body) != string(pair[1].Body) {
			t.Errorf("%s: %d %s vs %d %s, want the same 202", name, pair[0].Code, pair[0].Body, pair[1].Code, pair[1].Body)
		}
	}
	// The two e-mails to the taken address are separate jobs, sent in
	// either order.
	env.drainMail()
	var subjects []string
	for _, m := range env.mailbox.Messages() {
		if m.To == "taken@enum.example" {
			subjects = append(subjects, m.Subject)
		}
	}
	if !slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, "tried to sign up") }) ||
		!slices.ContainsFunc(subjects, func(s string) bool { return strings.Contains(s, "password") }) {
		t.Fatalf("the owner of the taken address got %q, want the register notice and the reset link", subjects)
	}
	if _, ok := env.mailbox.Latest("nobody@enum.example"); ok {
		t.Fatal("a reset for an unknown address sent an e-mail")
	}
}

// TestPasswordResetThroughMailpit: the link arrives over SMTP, works once,
// signs every device out, and expires after 30 minutes.
func TestPasswordResetThroughMailpit(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	env := newEnv(t, envOptions{smtpURL: mp.SMTPURL()})
	const address = "ada@reset.example"
	env.do(request{method: "POST", path: "/api/v1/auth/register", body: map[string]string{
		"practice_name": "Ada's", "name": "Ada", "email": address, "password": goodPassword}}).want(t, http.StatusAccepted)
	env.drainMail()
	env.verify(mailpitToken(t, mp, address, "Confirm"))
	device := env.login(address, goodPassword).tokens(t, http.StatusOK)

	reset := func() {
		env.do(request{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": address}}).want(t, http.StatusAccepted)
		env.drainMail()
	}
	reset()
	token := mailpitToken(t, mp, address, "Reset")
	confirm := func(tok, pw string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/password-reset/confirm", body: map[string]string{"token": tok, "password": pw}})
	}
	confirm(token, "password").problem(t, http.StatusBadRequest) // common passwords stay refused
	confirm(token, "a new and longer river").want(t, http.StatusNoContent)
	confirm(token, "yet another long river").problem(t, http.StatusGone)
	env.me(device.AccessToken).problem(t, http.StatusUnauthorized)
	env.login(address, goodPassword).problem(t, http.StatusUnauthorized)
	env.login(address, "a new and longer river").want(t, http.StatusOK)

	reset()
	expired := mailpitToken(t, mp, address, "Reset")
	env.clock.Advance(31 * time.Minute)
	confirm(expired, "a third long river today").problem(t, http.StatusGone)
}

// mailpitToken returns the link token of the newest message to address whose
// subject contains subject.
func mailpitToken(t *testing.T, mp *mailtest.Mailpit, address, subject string) string {
	t.Helper()
	for _, m := range mp.Messages(t) {
		if len(m.To) == 1 && m.To[0] == address && strings.Contains(m.Subject, subject) {
			_, rest, ok := strings.Cut(m.Text, "#token=")
			if !ok {
				t.Fatalf("message %q holds no link", m.Subject)
			}
			return strings.TrimRight(strings.Fields(rest)[0], ".")
		}
	}
	t.Fatalf("no message to %s about %q", address, subject)
	return ""
}

// TestAnArchivedClientKeepsControlOfTheirConsents: archiving suspends every
// consent (the therapist is refused with a clear reason), while the client
// can still sign in, see and revoke. Restoring resumes an unrevoked consent.
func TestAnArchivedClientKeepsControlOfTheirConsents(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("arch")
	c := env.sign(f, "thea@arch.example")
	thea := env.accept(env.mailToken("thea@arch.example"), newTherapist).tokens(t, http.StatusCreated)
	view := func() response {
		return env.do(request{method: "GET", path: "/api/v1/shared/clients/" + f.clientRec.ID, token: thea.AccessToken})
	}
	view().want(t, http.StatusOK)
	disclosed := env.countRows("disclosures", "client_id = ?", f.clientRec.ID)

	env.do(request{method: "DELETE", path: "/api/v1/clients/" + f.clientRec.ID, token: f.coach.AccessToken}).want(t, http.StatusNoContent)
	if p := view().problem(t, http.StatusForbidden); problemType(p) != "consent_suspended" {
		t.Fatalf("therapist view of an archived client: %+v, want consent_suspended", p)
	}
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/coordination-notes", token: thea.AccessToken,
		body: map[string]string{"body": "checking in"}}).problem(t, http.StatusForbidden)
	if n := env.countRows("disclosures", "client_id = ?", f.clientRec.ID); n != disclosed {
		t.Fatalf("refused reads wrote %d disclosures", n-disclosed)
	}

	// The archived client signs in again and keeps control.
	client := env.login(*f.clientRec.Email, goodPassword).tokens(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/consents", token: client.AccessToken}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/disclosures", token: client.AccessToken}).want(t, http.StatusOK)
	if p := env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: client.AccessToken}).
		problem(t, http.StatusForbidden); problemType(p) != "client_archived" {
		t.Fatalf("archived client reading goals: %+v", p)
	}

	// Restored, the consent resumes.
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + f.clientRec.ID, token: f.coach.AccessToken,
		body: map[string]string{"status": "active"}}).want(t, http.StatusOK)
	view().want(t, http.StatusOK)

	// Archived again, the client revokes with one plain request.
	env.do(request{method: "DELETE", path: "/api/v1/clients/" + f.clientRec.ID, token: f.coach.AccessToken}).want(t, http.StatusNoContent)
	env.clock.Advance(time.Hour) // long after any sign-in: revoking needs no step-up
	client = env.refreshed(client)
	f.coach, thea = env.refreshed(f.coach), env.refreshed(thea)
	env.consentAction(client.AccessToken, c.ID, "revoke").want(t, http.StatusOK)
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + f.clientRec.ID, token: f.coach.AccessToken,
		body: map[string]string{"status": "active"}}).want(t, http.StatusOK)
	if p := view().problem(t, http.StatusForbidden); problemType(p) != "consent_revoked" {
		t.Fatalf("after revocation and restore: %+v, want consent_revoked", p)
	}
}

// refreshed rotates tp's refresh token for a new access token, as a client
// app does after the access token expires.
func (env *testEnv) refreshed(tp tokenPair) tokenPair {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/auth/refresh", body: map[string]string{"refresh_token": tp.RefreshToken}}).
		tokens(env.t, http.StatusOK)
}

// TestAStrangerCannotKeepAnAccountLocked: failures from many addresses slow
// the account by at most a short, capped wait, and never refuse its owner
// from an address they signed in from before.
func TestAStrangerCannotKeepAnAccountLocked(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 1000, Per: time.Minute}})
	const address = "owner@lock.example"
	env.register(address)
	home := "198.51.100.7:1"
	env.do(request{method: "POST", path: "/api/v1/auth/login", remote: home,
		body: map[string]string{"email": address, "password": goodPassword}}).want(t, http.StatusOK)

	loginFrom := func(remote, password string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/login", remote: remote,
			body: map[string]string{"email": address, "password": password}})
	}
	var retry int
	for i := range 200 {
		r := loginFrom(fmt.Sprintf("203.0.%d.%d:1", i/250, i%250+1), "guess number "+fmt.Sprint(i))
		if r.Code == http.StatusTooManyRequests {
			fmt.Sscan(r.Header.Get("Retry-After"), &retry)
			if retry > 31 {
				t.Fatalf("a stranger's failures made the account wait %d s", retry)
			}
			continue
		}
		r.problem(t, http.StatusUnauthorized)
	}
	if retry == 0 {
		t.Fatal("200 failures from 200 addresses never slowed the account down")
	}
	// From home, the owner gets in at once; from a new address, after the
	// short wait at most.
	loginFrom(home, goodPassword).want(t, http.StatusOK)
	r := loginFrom("192.0.2.99:1", goodPassword)
	if r.Code == http.StatusTooManyRequests {
		env.clock.Advance(31 * time.Second)
		r = loginFrom("192.0.2.99:1", goodPassword)
	}
	r.want(t, http.StatusOK)

	// One address guessing on its own backs off further, up to minutes.
	for range 12 {
		loginFrom("203.0.113.200:1", "wrong again and again")
	}
	p := loginFrom("203.0.113.200:1", goodPassword).problem(t, http.StatusTooManyRequests)
	if problemType(p) != "backoff" {
		t.Fatalf("problem = %+v, want backoff", p)
	}
}

// TestDailyCapsOnInvitationsAndConsents: a practice cannot send invitations
// or record consents without limit.
func TestDailyCapsOnInvitationsAndConsents(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{invitationsPerDay: 3, consentsPerDay: 2})
	owner := env.register("owner@cap.example")
	for i := range 3 {
		env.invite(owner.AccessToken, fmt.Sprintf("coach%d@cap.example", i))
	}
	p := env.do(request{method: "POST", path: "/api/v1/practice/invitations", token: owner.AccessToken,
		body: map[string]string{"email": "coach9@cap.example"}}).problem(t, http.StatusTooManyRequests)
	if problemType(p) != "daily_limit" {
		t.Fatalf("problem = %+v", p)
	}
	env.clock.Advance(25 * time.Hour)
	owner = env.login("owner@cap.example", goodPassword).tokens(t, http.StatusOK)
	env.invite(owner.AccessToken, "coach9@cap.example")
	env.drainMail()
	for _, m := range env.mailbox.Messages() {
		if strings.Contains(m.Subject, "Practice of") || strings.Contains(m.Subject, "Owner ") {
			t.Fatalf("an invitation's subject carries text the sender chose: %q", m.Subject)
		}
	}
}

// TestStepUpGuardsSigningAndRecordsIt: signing needs an authentication of
// the last five minutes, which the signature records.
func TestStepUpGuardsSigningAndRecordsIt(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("step")
	env.clock.Advance(6 * time.Minute)
	f.client = env.refreshed(f.client) // a valid access token, an old authentication
	r := env.postConsent(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@step.example"))
	if p := r.problem(t, http.StatusUnauthorized); problemType(p) != "insufficient_user_authentication" ||
		!strings.Contains(r.Header.Get("WWW-Authenticate"), "insufficient_user_authentication") {
		t.Fatalf("stale signing: %+v, WWW-Authenticate %q", p, r.Header.Get("WWW-Authenticate"))
	}
	env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: f.client.AccessToken,
		body: map[string]string{"password": "wrong"}}).problem(t, http.StatusUnauthorized)
	env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: f.client.AccessToken,
		body: map[string]string{"password": goodPassword}}).want(t, http.StatusNoContent)
	reauthAt := env.clock.Now()
	var c struct {
		Signature struct {
			AuthMethod string    `json:"auth_method"`
			AuthTime   time.Time `json:"auth_time"`
		} `json:"signature"`
	}
	env.postConsent(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@step.example")).
		want(t, http.StatusCreated).decode(t, &c)
	if c.Signature.AuthMethod != "password" || c.Signature.AuthTime.Sub(reauthAt).Abs() > time.Second {
		t.Fatalf("signature = %+v, want method password at %v", c.Signature, reauthAt)
	}
}

// TestPendingConsentExpiresWithItsInvitation: a consent whose therapist
// never accepts does not stay pending forever.
func TestPendingConsentExpiresWithItsInvitation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("pend")
	c := env.sign(f, "slow@pend.example")
	token := env.mailToken("slow@pend.example")
	env.clock.Advance(env.cfg.InvitationTTL + time.Minute)
	f.client = env.refreshed(f.client)
	if got := env.getConsentDoc(f.client.AccessToken, c.ID); got.Status != "expired" {
		t.Fatalf("after the invitation expired the consent is %q", got.Status)
	}
	env.accept(token, newTherapist).problem(t, http.StatusGone)
	// An expired consent is final: it cannot be revoked any more either.
	env.consentAction(f.client.AccessToken, c.ID, "revoke").problem(t, http.StatusConflict)
}

// TestSignedInDevices: a user lists their sessions and signs one, or all
// others, out.
func TestSignedInDevices(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.register("ada@devices.example")
	login := func(ua string) tokenPair {
		return env.do(request{method: "POST", path: "/api/v1/auth/login", remote: "192.0.2.10:5", headers: map[string]string{"User-Agent": ua},
			body: map[string]string{"email": "ada@devices.example", "password": goodPassword}}).tokens(t, http.StatusOK)
	}
	laptop, phone, tablet := login("Laptop/1.0"), login("Phone/2.0"), login("Tablet/3.0")
	var list struct {
		Items []struct {
			ID        string `json:"id"`
			IP        string `json:"ip"`
			UserAgent string `json:"user_agent"`
			Current   bool   `json:"current"`
		} `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/me/sessions", token: laptop.AccessToken}).want(t, http.StatusOK).decode(t, &list)
	// register signed in twice before: five live sessions.
	if len(list.Items) != 5 || list.Items[0].UserAgent != "Tablet/3.0" || list.Items[0].IP != "192.0.2.10" {
		t.Fatalf("sessions = %+v, want 5, newest (tablet) first with its address", list.Items)
	}
	var phoneID string
	for _, s := range list.Items {
		if s.UserAgent == "Phone/2.0" {
			phoneID = s.ID
		}
		if s.Current != (s.UserAgent == "Laptop/1.0") {
			t.Fatalf("session %+v: only the laptop's is current", s)
		}
	}
	env.do(request{method: "DELETE", path: "/api/v1/me/sessions/" + phoneID, token: laptop.AccessToken}).want(t, http.StatusNoContent)
	env.me(phone.AccessToken).problem(t, http.StatusUnauthorized)
	env.me(tablet.AccessToken).want(t, http.StatusOK)

	// Another user's session is not found.
	other := env.register("ben@devices.example")
	env.do(request{method: "DELETE", path: "/api/v1/me/sessions/" + list.Items[0].ID, token: other.AccessToken}).problem(t, http.StatusNotFound)
	env.me(tablet.AccessToken).want(t, http.StatusOK)

	env.do(request{method: "DELETE", path: "/api/v1/me/sessions", token: laptop.AccessToken}).want(t, http.StatusNoContent)
	env.me(tablet.AccessToken).problem(t, http.StatusUnauthorized)
	env.me(laptop.AccessToken).want(t, http.StatusOK)
}

// TestChangingEmailProvesTheNewAddressAndTellsTheOld: the change needs a
// fresh authentication and happens only when the new address confirms it.
func TestChangingEmailProvesTheNewAddressAndTellsTheOld(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("ada@old.example")
	change := func(tp tokenPair) response {
		return env.do(request{method: "POST", path: "/api/v1/me/email", token: tp.AccessToken, body: map[string]string{"email": "ada@new.example"}})
	}
	change(ada).want(t, http.StatusAccepted)
	if m := env.lastMail("ada@old.example"); !strings.Contains(m.Text, "ada@new.example") {
		t.Fatalf("the old address was not told: %q", m.Subject)
	}
	if env.whoAmIFull(ada.AccessToken).Email != "ada@old.example" {
		t.Fatal("the address changed before the new one confirmed it")
	}
	env.verify(env.mailToken("ada@new.example"))
	if me := env.whoAmIFull(ada.AccessToken); me.Email != "ada@new.example" || !me.EmailVerified {
		t.Fatalf("after confirming: %+v", me)
	}
	env.login("ada@new.example", goodPassword).want(t, http.StatusOK)

	env.clock.Advance(10 * time.Minute)
	stale := env.refreshed(ada)
	env.do(request{method: "POST", path: "/api/v1/me/email", token: stale.AccessToken, body: map[string]string{"email": "ada@third.example"}}).
		problem(t, http.StatusUnauthorized)
}

// TestChangingPasswordSignsOtherDevicesOut needs the current password. A
// wrong one is a 401 of type wrong_password, told apart from a bad access
// token (type unauthenticated), which a client refreshes and retries. Both
// name the Bearer scheme, as every 401 must.
func TestChangingPasswordSignsOtherDevicesOut(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("ada@pw.example")
	other := env.login("ada@pw.example", goodPassword).tokens(t, http.StatusOK)
	changeWith := func(token, current, next string) response {
		return env.do(request{method: "PUT", path: "/api/v1/me/password", token: token,
			body: map[string]string{"current_password": current, "new_password": next}})
	}
	change := func(current, next string) response { return changeWith(ada.AccessToken, current, next) }

	wrong := change("not the password", "a brand new long river")
	if p := wrong.problem(t, http.StatusUnauthorized); !strings.HasSuffix(p.Type, "/wrong_password") ||
		!strings.HasPrefix(wrong.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Fatalf("wrong current password: type %q, WWW-Authenticate %q; want wrong_password with the Bearer scheme",
			p.Type, wrong.Header.Get("WWW-Authenticate"))
	}
	badToken := changeWith(ada.AccessToken+"x", goodPassword, "a brand new long river")
	if p := badToken.problem(t, http.StatusUnauthorized); problemType(p) != "unauthenticated" ||
		!strings.HasPrefix(badToken.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Fatalf("bad access token: type %q, WWW-Authenticate %q; want unauthenticated with a Bearer challenge",
			p.Type, badToken.Header.Get("WWW-Authenticate"))
	}
	change(goodPassword, "qwerty123").problem(t, http.StatusBadRequest)
	change(goodPassword, "a brand new long river").want(t, http.StatusNoContent)
	env.me(other.AccessToken).problem(t, http.StatusUnauthorized)
	env.me(ada.AccessToken).want(t, http.StatusOK)
	env.login("ada@pw.example", "a brand new long river").want(t, http.StatusOK)
}

// TestPasswordAloneIsNoStepUpWhenTOTPIsOn: changing the password with the
// current one must not make the session fresh enough to turn TOTP off or
// change the e-mail without a code.
func TestPasswordAloneIsNoStepUpWhenTOTPIsOn(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("ada@stepup.example")
	secret, _ := env.enrolTOTP(ada)
	env.clock.Advance(10 * time.Minute)
	ada = env.refreshed(ada)
	env.do(request{method: "PUT", path: "/api/v1/me/password", token: ada.AccessToken,
		body: map[string]string{"current_password": goodPassword, "new_password": "another long quiet river"}}).want(t, http.StatusNoContent)
	env.do(request{method: "DELETE", path: "/api/v1/me/mfa/totp", token: ada.AccessToken}).problem(t, http.StatusUnauthorized)
	if p := env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: ada.AccessToken,
		body: map[string]string{"password": goodPassword, "totp_code": env.totpCode(secret, 0)}}).
		problem(t, http.StatusUnauthorized); problemType(p) != "wrong_password" {
		t.Fatalf("step-up with the old password: type %q, want wrong_password", p.Type)
	}
	env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: ada.AccessToken,
		body: map[string]string{"password": "another long quiet river"}}).problem(t, http.StatusBadRequest)
	if p := env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: ada.AccessToken,
		body: map[string]string{"password": "another long quiet river", "totp_code": "000000"}}).
		problem(t, http.StatusUnauthorized); problemType(p) != "wrong_code" {
		t.Fatalf("step-up with a wrong code: type %q, want wrong_code", p.Type)
	}
	env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: ada.AccessToken,
		body: map[string]string{"password": "another long quiet river", "totp_code": env.totpCode(secret, 0)}}).want(t, http.StatusNoContent)
	env.do(request{method: "DELETE", path: "/api/v1/me/mfa/totp", token: ada.AccessToken}).want(t, http.StatusNoContent)
}

// enrolTOTP turns TOTP on for the holder of tp and returns the secret and
// the recovery codes.
func (env *testEnv) enrolTOTP(tp tokenPair) (string, []string) {
	env.t.Helper()
	var e struct {
		Secret     string `json:"secret"`
		OtpauthURI string `json:"otpauth_uri"`
		QRPNG      []byte `json:"qr_png"`
	}
	env.do(request{method: "POST", path: "/api/v1/me/mfa/totp", token: tp.AccessToken}).want(env.t, http.StatusCreated).decode(env.t, &e)
	if !strings.HasPrefix(e.OtpauthURI, "otpauth://totp/Tandem:") || len(e.QRPNG) < 100 {
		env.t.Fatalf("enrolment = %+v", e)
	}
	var codes struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	env.do(request{method: "POST", path: "/api/v1/me/mfa/totp/confirm", token: tp.AccessToken,
		body: map[string]string{"code": env.totpCode(e.Secret, 0)}}).want(env.t, http.StatusOK).decode(env.t, &codes)
	if len(codes.RecoveryCodes) != 10 {
		env.t.Fatalf("%d recovery codes, want 10", len(codes.RecoveryCodes))
	}
	return e.Secret, codes.RecoveryCodes
}

// totpCode is the code of secret for the time step offset steps from now.
func (env *testEnv) totpCode(secret string, offset int) string {
	env.t.Helper()
	code, err := totp.GenerateCode(secret, env.clock.Now().Add(time.Duration(offset)*30*time.Second))
	if err != nil {
		env.t.Fatal(err)
	}
	return code
}

// TestTOTPSignIn: with a controlled clock, a code of this window or the
// next or previous works once, a replayed one is refused, and a recovery
// code works once.
func TestTOTPSignIn(t *testing.T) {
	t.Parallel()
	// No back-off here: this test counts a challenge's own five failures.
	env := newEnv(t, envOptions{deviceBackoff: ratelimit.BackoffRule{Free: 1000, Base: time.Second, Ceiling: time.Second, Forget: time.Hour}})
	const address = "ada@mfa.example"
	ada := env.register(address)
	secret, recovery := env.enrolTOTP(ada)
	if !env.whoAmIFull(ada.AccessToken).MFAEnabled {
		t.Fatal("me does not say MFA is on")
	}
	challenge := func() string {
		var ch struct {
			MFAToken string `json:"mfa_token"`
		}
		env.login(address, goodPassword).want(t, http.StatusAccepted).decode(t, &ch)
		if ch.MFAToken == "" {
			t.Fatal("no mfa_token")
		}
		return ch.MFAToken
	}
	second := func(token, code string) response {
		return env.do(request{method: "POST", path: "/api/v1/auth/login/mfa", body: map[string]string{"mfa_token": token, "code": code}})
	}
	env.clock.Advance(2 * time.Minute) // past the step used to confirm

	ch := challenge()
	env.me(ch).problem(t, http.StatusUnauthorized) // a challenge is no access token
	if p := second(ch, "000000").problem(t, http.StatusUnauthorized); problemType(p) != "wrong_code" {
		t.Fatalf("a wrong code: type %q, want wrong_code", p.Type)
	}
	used := env.totpCode(secret, -1)
	second(ch, used).tokens(t, http.StatusOK) // the previous window still works
	second(ch, env.totpCode(secret, 0)).problem(t, http.StatusUnauthorized)
	second(challenge(), used).problem(t, http.StatusUnauthorized) // replayed
	second(challenge(), env.totpCode(secret, 1)).tokens(t, http.StatusOK)
	second(challenge(), env.totpCode(secret, 3)).problem(t, http.StatusUnauthorized) // too far ahead

	second(challenge(), recovery[0]).tokens(t, http.StatusOK)
	if p := second(challenge(), recovery[0]).problem(t, http.StatusUnauthorized); problemType(p) != "wrong_code" {
		t.Fatalf("a spent recovery code: type %q, want wrong_code", p.Type)
	}

	// Five wrong codes spend a challenge, well before it expires.
	ch = challenge()
	for range 5 {
		second(ch, "111111").problem(t, http.StatusUnauthorized)
	}
	env.clock.Advance(time.Minute)
	second(ch, env.totpCode(secret, 0)).problem(t, http.StatusUnauthorized)

	// The code may come with the password.
	env.clock.Advance(time.Minute)
	env.do(request{method: "POST", path: "/api/v1/auth/login", body: map[string]string{
		"email": address, "password": goodPassword, "totp_code": env.totpCode(secret, 0)}}).tokens(t, http.StatusOK)
}

// TestPracticeCanRequireMFA: once the owner requires it, a coach without
// MFA can reach only their account until they enrol.
func TestPracticeCanRequireMFA(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("owner@req.example")
	coach := env.addCoach(owner.AccessToken, "coach@req.example")
	require := func() response {
		return env.do(request{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken, body: map[string]bool{"require_mfa": true}})
	}
	require().problem(t, http.StatusConflict) // the owner enrols first
	env.enrolTOTP(owner)
	require().want(t, http.StatusOK)

	if p := env.do(request{method: "GET", path: "/api/v1/clients", token: coach.AccessToken}).problem(t, http.StatusForbidden); problemType(p) != "mfa_enrolment_required" {
		t.Fatalf("coach without MFA: %+v", p)
	}
	if !env.whoAmIFull(coach.AccessToken).MFAEnrolmentRequired {
		t.Fatal("me does not tell the coach to enrol")
	}
	env.enrolTOTP(coach)
	env.do(request{method: "GET", path: "/api/v1/clients", token: coach.AccessToken}).want(t, http.StatusOK)
}

// TestGuardsOnEveryRoute runs three identity states against every operation
// of the spec: an account whose e-mail is unproven (403 email_unverified
// exactly where x-tandem-verified is declared), a coach whose practice
// requires MFA they have not enabled (403 mfa_enrolment_required on every
// operation but their own account's, tagged auth), and a
// sign-in waiting for its second factor, whose challenge token opens
// nothing (401 everywhere).
func TestGuardsOnEveryRoute(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	unverified := env.registerUnverified("unverified@guards.example")
	owner := env.register("owner@guards.example")
	coach := env.addCoach(owner.AccessToken, "coach@guards.example")
	env.enrolTOTP(owner)
	env.do(request{method: "PATCH", path: "/api/v1/practice", token: owner.AccessToken, body: map[string]bool{"require_mfa": true}}).
		want(t, http.StatusOK)
	var ch struct {
		MFAToken string `json:"mfa_token"`
	}
	env.login("owner@guards.example", goodPassword).want(t, http.StatusAccepted).decode(t, &ch)

	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.Must(uuid.NewV7()).String()
	ops := 0
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			rule := fmt.Sprint(op.Extensions["x-tandem-auth"])
			if rule == "public" {
				continue
			}
			ops++
			url := "/api/v1" + pathParam.ReplaceAllString(path, id)
			verified := fmt.Sprint(op.Extensions["x-tandem-verified"]) == "true"
			name := method + " " + path

			r := env.do(request{method: method, path: url, token: unverified.AccessToken})
			switch got := problemTypeOf(r); {
			case verified && (r.Code != http.StatusForbidden || got != "email_unverified"):
				t.Errorf("%s as unverified: %d %s, want 403 email_unverified", name, r.Code, got)
			case !verified && got == "email_unverified":
				t.Errorf("%s as unverified: refused as unverified, but it declares no x-tandem-verified", name)
			}

			account := slices.Contains(op.Tags, "auth")
			r = env.do(request{method: method, path: url, token: coach.AccessToken})
			switch got := problemTypeOf(r); {
			case !account && (r.Code != http.StatusForbidden || got != "mfa_enrolment_required"):
				t.Errorf("%s as coach without required MFA: %d %s, want 403 mfa_enrolment_required", name, r.Code, got)
			case account && got == "mfa_enrolment_required":
				t.Errorf("%s is an account operation, but refuses a coach who must enrol", name)
			}

			if r := env.do(request{method: method, path: url, token: ch.MFAToken}); r.Code != http.StatusUnauthorized {
				t.Errorf("%s with an MFA challenge token: %d, want 401", name, r.Code)
			}
		}
	}
	if ops < 50 {
		t.Fatalf("only %d operations checked", ops)
	}
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// problemTypeOf is the last segment of a response's problem type, or "".
func problemTypeOf(r response) string {
	var p problemDoc
	if json.Unmarshal(r.Body, &p) != nil || p.Type == "" {
		return ""
	}
	return problemType(p)
}
