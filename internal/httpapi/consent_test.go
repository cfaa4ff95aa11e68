package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/mail/mailtest"
)

// grantDoc is a consent or consent request as the API returns it.
type grantDoc struct {
	ID              string    `json:"id"`
	ClientID        string    `json:"client_id"`
	CoachID         string    `json:"coach_id"`
	Status          string    `json:"status"`
	TherapistName   string    `json:"therapist_name"`
	TherapistEmail  string    `json:"therapist_email"`
	DataClasses     []string  `json:"data_classes"`
	Purpose         string    `json:"purpose"`
	ExpiresAt       time.Time `json:"expires_at"`
	TemplateVersion *int      `json:"template_version"`
	TemplateSHA256  *string   `json:"template_sha256"`
	Signature       *struct {
		Name       string     `json:"name"`
		SignedAt   time.Time  `json:"signed_at"`
		AuthMethod string     `json:"auth_method"`
		AuthTime   *time.Time `json:"auth_time"`
	} `json:"signature"`
	RequestID           *string    `json:"request_id"`
	SupersedesID        *string    `json:"supersedes_id"`
	InvitationExpiresAt *time.Time `json:"invitation_expires_at"`
	ActivatedAt         *time.Time `json:"activated_at"`
	DeclinedAt          *time.Time `json:"declined_at"`
	RevokedAt           *time.Time `json:"revoked_at"`
}

type templateDoc struct {
	Version int    `json:"version"`
	Text    string `json:"text"`
	SHA256  string `json:"sha256"`
}

func (env *testEnv) consentTemplate(token string) templateDoc {
	env.t.Helper()
	var tpl templateDoc
	env.do(request{method: "GET", path: "/api/v1/consent-templates/current", token: token}).
		want(env.t, http.StatusOK).decode(env.t, &tpl)
	return tpl
}

// addConsentTemplate stores a new version of the consent text, as a
// release would, which makes every earlier version stale.
func (env *testEnv) addConsentTemplate(version int, text string) templateDoc {
	env.t.Helper()
	sum := sha256.Sum256([]byte(text))
	tpl := templateDoc{Version: version, Text: text, SHA256: hex.EncodeToString(sum[:])}
	if err := env.store.DB.Exec("INSERT INTO consent_templates (version, body, sha256, created_at) VALUES (?, ?, ?, ?)",
		tpl.Version, tpl.Text, tpl.SHA256, env.clock.Now()).Error; err != nil {
		env.t.Fatal(err)
	}
	return tpl
}

const consentPurpose = "So that my therapist and my coach can coordinate my return to work."

// signedBody is a complete, valid consent of the fixture's client for the
// therapist at email, on the current consent text.
func (env *testEnv) signedBody(f practiceFixture, therapistEmail string) map[string]any {
	env.t.Helper()
	tpl := env.consentTemplate(f.client.AccessToken)
	return map[string]any{
		"therapist_name": "Thea Rapist", "therapist_email": therapistEmail,
		"data_classes": []string{"goals", "action_steps"}, "purpose": consentPurpose,
		"expires_at":       env.clock.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339),
		"template_version": tpl.Version, "template_sha256": tpl.SHA256,
		"signature_name": f.clientRec.Name,
	}
}

func (env *testEnv) postConsent(token, clientID string, body any) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/clients/" + clientID + "/consents", token: token, body: body,
		headers: map[string]string{"User-Agent": "consent-test/1.0"}})
}

// grant posts a consent (or request) that must be created.
func (env *testEnv) grant(token, clientID string, body any) grantDoc {
	env.t.Helper()
	var c grantDoc
	env.postConsent(token, clientID, body).want(env.t, http.StatusCreated).decode(env.t, &c)
	return c
}

func (env *testEnv) getConsent(token, id string) response {
	env.t.Helper()
	return env.do(request{method: "GET", path: "/api/v1/consents/" + id, token: token})
}

func (env *testEnv) consentAction(token, id, action string) response {
	env.t.Helper()
	return env.do(request{method: "POST", path: "/api/v1/consents/" + id + "/" + action, token: token})
}

// newTherapist is the acceptance of a therapist who has no account yet.
var newTherapist = map[string]string{"name": "Thea Rapist", "password": goodPassword}

// withPassword is the acceptance of an invitee who already has an account.
var withPassword = map[string]string{"password": goodPassword}

// therapistAccount gives the therapist at email an account the way a real
// therapist gets one: the fixture's other client signs a consent for them
// and they accept the invitation e-mailed to them. It returns their tokens
// and user ID.
func (env *testEnv) therapistAccount(f practiceFixture, email string) (tokenPair, string) {
	env.t.Helper()
	body := env.signedBody(f, email)
	body["signature_name"] = f.otherRec.Name
	if c := env.grant(f.otherClient.AccessToken, f.otherRec.ID, body); c.Status != consent.StatusPending || c.InvitationExpiresAt == nil {
		env.t.Fatalf("consent for a therapist = %+v, want pending with an invitation", c)
	}
	tp := env.accept(env.mailToken(email), newTherapist).tokens(env.t, http.StatusCreated)
	return tp, env.userIDOf(tp.AccessToken)
}

// roundClock moves the clock forward to the next whole second, so that
// times read back from PostgreSQL (which keeps microseconds) equal the
// clock's.
func (env *testEnv) roundClock() {
	env.setClock(env.clock.Now().Truncate(time.Second).Add(time.Second))
}

// mailsTo returns the messages mailpit received for address whose subject
// holds about, newest first, once the queue has tried every e-mail.
func (env *testEnv) mailsTo(mp *mailtest.Mailpit, address, about string) []mailtest.Message {
	env.t.Helper()
	env.drainMail()
	var out []mailtest.Message
	for _, m := range mp.Messages(env.t) {
		if slices.Contains(m.To, address) && strings.Contains(m.Subject, about) {
			out = append(out, m)
		}
	}
	return out
}

// lifecycleColumns are the only columns of a consent that change after it
// is signed.
var lifecycleColumns = []string{"status", "therapist_user_id", "activated_at", "declined_at", "revoked_at", "revoke_reason", "updated_at"}

// signedElements is a consent's row without its lifecycle columns.
func (env *testEnv) signedElements(id string) map[string]any {
	env.t.Helper()
	row := env.dbRow("consents", id)
	maps.DeleteFunc(row, func(k string, _ any) bool { return slices.Contains(lifecycleColumns, k) })
	return row
}

func TestConsentTemplateCurrent(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("ada@example.com")

	tpl := env.consentTemplate(owner.AccessToken)
	sum := sha256.Sum256([]byte(tpl.Text))
	if tpl.Version != 1 || tpl.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("template v%d sha256 %s, want version 1 and the SHA-256 of its text %x", tpl.Version, tpl.SHA256, sum)
	}
	text := strings.Join(strings.Fields(tpl.Text), " ")
	for _, must := range []string{"I may revoke it at any time", "Coaching is not therapy", "psychotherapy notes do not belong",
		"Signing is voluntary", "at the latest one year after I sign it"} {
		if !strings.Contains(text, must) {
			t.Errorf("the consent text does not say %q", must)
		}
	}
	env.do(request{method: "GET", path: "/api/v1/consent-templates/current"}).problem(t, http.StatusUnauthorized)

	v2 := env.addConsentTemplate(2, "A newer consent text.\n")
	if got := env.consentTemplate(owner.AccessToken); got != v2 {
		t.Fatalf("current template = %+v, want the newest %+v", got, v2)
	}
}

// TestConsentSignRejectsEachMissingOrInvalidElement sends the client's
// signature with one element missing or broken at a time: each is refused
// with a 400 naming exactly that field, and nothing is stored.
func TestConsentSignRejectsEachMissingOrInvalidElement(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	v1 := env.consentTemplate(f.client.AccessToken)
	current := env.addConsentTemplate(2, v1.Text+"\nVersion 2 adds this line.\n")
	now := env.clock.Now()

	set := func(k string, v any) func(map[string]any) { return func(b map[string]any) { b[k] = v } }
	drop := func(k string) func(map[string]any) { return func(b map[string]any) { delete(b, k) } }
	for _, tt := range []struct {
		name   string
		change func(map[string]any)
		field  string
	}{
		{"therapist_name missing", drop("therapist_name"), "therapist_name"},
		{"therapist_name blank", set("therapist_name", "   "), "therapist_name"},
		{"therapist_name on two lines", set("therapist_name", "Thea\nRapist"), "therapist_name"},
		{"therapist_email missing", drop("therapist_email"), "therapist_email"},
		{"therapist_email invalid", set("therapist_email", "thea at therapy"), "therapist_email"},
		{"therapist_email is the client's own", set("therapist_email", strings.ToUpper(*f.clientRec.Email)), "therapist_email"},
		{"data_classes missing", drop("data_classes"), "data_classes"},
		{"data_classes empty", set("data_classes", []string{}), "data_classes"},
		{"data_classes unknown", set("data_classes", []string{"goals", "billing"}), "data_classes.1"},
		{"data_classes private notes", set("data_classes", []string{"private_notes"}), "data_classes.0"},
		{"data_classes duplicate", set("data_classes", []string{"goals", "action_steps", "goals"}), "data_classes"},
		{"purpose missing", drop("purpose"), "purpose"},
		{"purpose blank", set("purpose", " \n "), "purpose"},
		{"expires_at missing", drop("expires_at"), "expires_at"},
		{"expires_at not a time", set("expires_at", "next spring"), "expires_at"},
		{"expires_at past", set("expires_at", now.Add(-time.Minute).Format(time.RFC3339)), "expires_at"},
		{"expires_at now", set("expires_at", now.Format(time.RFC3339Nano)), "expires_at"},
		{"expires_at over 12 months", set("expires_at", consent.LatestExpiry(now).Add(time.Hour).Format(time.RFC3339)), "expires_at"},
		{"template_version missing", drop("template_version"), "template_version"},
		{"template_version stale", func(b map[string]any) { b["template_version"], b["template_sha256"] = v1.Version, v1.SHA256 }, "template_version"},
		{"template_version unknown", set("template_version", 99), "template_version"},
		{"template_sha256 missing", drop("template_sha256"), "template_sha256"},
		{"template_sha256 wrong", set("template_sha256", strings.Repeat("0", 64)), "template_sha256"},
		{"template_sha256 of the stale text", set("template_sha256", v1.SHA256), "template_sha256"},
		{"signature_name missing", drop("signature_name"), "signature_name"},
		{"signature_name blank", set("signature_name", "  "), "signature_name"},
		{"signature_name mismatching", set("signature_name", "Somebody Else"), "signature_name"},
		{"request_id not a request", set("request_id", uuid.NewString()), "request_id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := env.signedBody(f, "thea@therapy.example")
			if body["template_version"] != current.Version {
				t.Fatalf("the valid body signs version %v, want the current %d", body["template_version"], current.Version)
			}
			tt.change(body)
			p := env.postConsent(f.client.AccessToken, f.clientRec.ID, body).problem(t, http.StatusBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Field != tt.field {
				t.Fatalf("errors = %+v, want exactly one, for %s", p.Errors, tt.field)
			}
			for _, table := range []string{"consents", "therapist_invitations"} {
				if n := env.rowCount(table); n != 0 {
					t.Fatalf("%d rows in %s after a refused consent", n, table)
				}
			}
			if n := env.auditCount("consent.signed"); n != 0 {
				t.Fatalf("%d consent.signed audit events after a refused consent", n)
			}
		})
	}

	// The body every row broke is valid; the signature may differ from the
	// record in case and spacing.
	body := env.signedBody(f, "thea@therapy.example")
	body["signature_name"] = "  " + strings.ToUpper(strings.ReplaceAll(f.clientRec.Name, " ", "   ")) + " "
	if c := env.grant(f.client.AccessToken, f.clientRec.ID, body); c.Status != consent.StatusPending || *c.TemplateVersion != 2 {
		t.Fatalf("consent = %+v, want pending on template 2", c)
	}
}

// TestConsentGrantInviteAccept follows a consent from the client's
// signature to the therapist's acceptance, with the e-mails read from a
// real SMTP server.
func TestConsentGrantInviteAccept(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	env := newEnv(t, envOptions{smtpURL: mp.SMTPURL()})
	f := env.practice("p")
	clientAuthAt := env.clock.Now() // the client signed in when they accepted the portal invitation
	env.roundClock()
	coachEmail, coachID := "p-coach@example.com", env.userIDOf(f.coach.AccessToken)
	signedAt := env.clock.Now()

	body := env.signedBody(f, "Thea@Therapy.example")
	body["data_classes"] = []string{"session_attendance", "goals"}
	created := env.postConsent(f.client.AccessToken, f.clientRec.ID, body).want(t, http.StatusCreated)
	var c grantDoc
	created.decode(t, &c)
	switch {
	case c.Status != consent.StatusPending || c.ActivatedAt != nil ||
		c.InvitationExpiresAt == nil || !c.InvitationExpiresAt.Equal(signedAt.Add(env.cfg.InvitationTTL)):
		t.Fatalf("consent = %+v, want pending, its invitation expiring in %v", c, env.cfg.InvitationTTL)
	case c.TherapistEmail != "thea@therapy.example" || c.TherapistName != "Thea Rapist" || c.CoachID != coachID || c.ClientID != f.clientRec.ID:
		t.Fatalf("consent = %+v, want the lower-cased therapist e-mail and the client's coach", c)
	case !slices.Equal(c.DataClasses, []string{"goals", "session_attendance"}) || c.Purpose != consentPurpose:
		t.Fatalf("consent = %+v, want the classes and purpose signed", c)
	case c.Signature == nil || c.Signature.Name != f.clientRec.Name || c.Signature.AuthMethod != "password" || !c.Signature.SignedAt.Equal(signedAt) ||
		c.Signature.AuthTime == nil || c.Signature.AuthTime.Sub(clientAuthAt).Abs() > time.Second:
		t.Fatalf("signature = %+v, want the client's name, signed now, by the password they signed in with at %v", c.Signature, clientAuthAt)
	case *c.TemplateVersion != 1 || *c.TemplateSHA256 != body["template_sha256"]:
		t.Fatalf("template = v%d %s, want the current one", *c.TemplateVersion, *c.TemplateSHA256)
	}
	row := env.dbRow("consents", c.ID)
	if row["signed_ip"] != "192.0.2.1" || row["signed_user_agent"] != "consent-test/1.0" {
		t.Fatalf("signed from %v with %v, want the request's IP and user agent", row["signed_ip"], row["signed_user_agent"])
	}

	// The link goes to the therapist's mailbox, and only there.
	invited := env.mailsTo(mp, "thea@therapy.example", "shares coaching information with you")
	if len(invited) != 1 || !strings.Contains(invited[0].Text, f.clientRec.Name) {
		t.Fatalf("therapist mails = %+v, want one invitation naming the client", invited)
	}
	token, ok := mail.ExtractToken(invited[0].Text)
	if !ok || !strings.Contains(invited[0].Text, "https://tandem.example/accept-invitation#token="+token) {
		t.Fatalf("the invitation holds no accept link:\n%s", invited[0].Text)
	}
	var hashes [][]byte
	if err := env.store.DB.Table("therapist_invitations").Where("consent_id = ?", c.ID).Pluck("token_hash", &hashes).Error; err != nil {
		t.Fatal(err)
	}
	if len(hashes) != 1 || strings.Contains(string(hashes[0]), token) {
		t.Fatal("want one invitation, stored as a hash of its token")
	}
	read := env.getConsent(f.client.AccessToken, c.ID).want(t, http.StatusOK)
	for _, r := range []response{created, read} {
		if strings.Contains(string(r.Body), token) || strings.Contains(string(r.Body), "#token=") {
			t.Fatalf("a response carries the therapist's link: %s", r.Body)
		}
	}
	var readDoc grantDoc
	read.decode(t, &readDoc)
	if readDoc.Status != consent.StatusPending || readDoc.InvitationExpiresAt == nil || !readDoc.InvitationExpiresAt.Equal(*c.InvitationExpiresAt) {
		t.Fatalf("read = %+v, want pending until the invitation expires", readDoc)
	}
	if signed := env.mailsTo(mp, coachEmail, "signed a consent"); len(signed) != 1 || !strings.Contains(signed[0].Text, "Thea Rapist") {
		t.Fatalf("coach mails = %+v, want one about the signature", signed)
	}
	if strings.Contains(invited[0].Text, consentPurpose) {
		t.Fatal("the invitation e-mail carries the client's purpose text")
	}

	// The therapist accepts with the link from the e-mail.
	env.clock.Advance(time.Hour)
	therapist := env.accept(token, newTherapist).tokens(t, http.StatusCreated)
	var me struct {
		Roles    []string `json:"roles"`
		Practice any      `json:"practice"`
	}
	env.me(therapist.AccessToken).want(t, http.StatusOK).decode(t, &me)
	if len(me.Roles) != 0 || me.Practice != nil {
		t.Fatalf("therapist me = %+v, want no practice and no roles", me)
	}
	var active grantDoc
	env.getConsent(therapist.AccessToken, c.ID).want(t, http.StatusOK).decode(t, &active)
	if active.Status != consent.StatusActive || active.ActivatedAt == nil || !active.ActivatedAt.Equal(env.clock.Now()) {
		t.Fatalf("consent after acceptance = %+v, want active since now", active)
	}
	therapistID := uuid.MustParse(env.userIDOf(therapist.AccessToken))
	clientID := uuid.MustParse(f.clientRec.ID)
	if g, err := consent.Check(env.store.DB, therapistID, clientID, consent.SessionAttendance, env.clock.Now()); err != nil || g.ConsentID.String() != c.ID {
		t.Fatalf("Check(session_attendance) = %+v, %v; want the consent", g, err)
	}
	if _, err := consent.Check(env.store.DB, therapistID, clientID, consent.SessionSummaries, env.clock.Now()); err == nil {
		t.Fatal("Check(session_summaries) granted a class the client did not consent to")
	}
	if accepted := env.mailsTo(mp, coachEmail, "accepted"); len(accepted) != 1 {
		t.Fatalf("coach mails = %+v, want one about the acceptance", accepted)
	}

	env.accept(token, withPassword).problem(t, http.StatusGone)
	if got := env.auditActions(c.ID); !slices.Equal(got, []string{"consent.signed", "consent.activated"}) {
		t.Fatalf("audit = %v", got)
	}
	if n := env.auditCount("therapist_invitation.created"); n != 1 {
		t.Fatalf("%d therapist_invitation.created events, want 1", n)
	}
	if logs := env.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, "e-mail failed") {
		t.Fatalf("the log holds the token or a failed e-mail:\n%s", logs)
	}
}

func TestConsentInvitationRefusals(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")

	// An unknown token is no invitation of any kind.
	env.accept(strings.Repeat("a", 43), newTherapist).problem(t, http.StatusNotFound)

	// An invitation expires after the invitation TTL, and the pending
	// consent with it.
	late := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "late@therapy.example"))
	lateToken := env.mailToken("late@therapy.example")
	env.clock.Advance(env.cfg.InvitationTTL)
	env.accept(lateToken, newTherapist).problem(t, http.StatusGone)
	f.client = env.login("p-client@example.com", goodPassword).tokens(t, http.StatusOK)
	var read grantDoc
	env.getConsent(f.client.AccessToken, late.ID).want(t, http.StatusOK).decode(t, &read)
	if read.Status != consent.StatusExpired {
		t.Fatalf("status after the invitation expired = %s, want expired", read.Status)
	}

	// A revoked consent's invitation no longer works, and no account is made.
	revoked := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "gone@therapy.example"))
	env.consentAction(f.client.AccessToken, revoked.ID, "revoke").want(t, http.StatusOK)
	env.accept(env.mailToken("gone@therapy.example"), newTherapist).problem(t, http.StatusGone)
	env.login("gone@therapy.example", goodPassword).problem(t, http.StatusUnauthorized)

	// An invitation never outlives its consent.
	body := env.signedBody(f, "brief@therapy.example")
	body["expires_at"] = env.clock.Now().Add(time.Hour).Format(time.RFC3339)
	brief := env.grant(f.client.AccessToken, f.clientRec.ID, body)
	if brief.InvitationExpiresAt == nil || !brief.InvitationExpiresAt.Equal(brief.ExpiresAt) {
		t.Fatalf("invitation_expires_at = %v, want the consent's expiry %v", brief.InvitationExpiresAt, brief.ExpiresAt)
	}
	briefToken := env.mailToken("brief@therapy.example")
	env.clock.Advance(2 * time.Hour)
	f.client = env.login("p-client@example.com", goodPassword).tokens(t, http.StatusOK)
	env.getConsent(f.client.AccessToken, brief.ID).want(t, http.StatusOK).decode(t, &read)
	if read.Status != consent.StatusExpired {
		t.Fatalf("status = %s, want expired", read.Status)
	}
	env.accept(briefToken, newTherapist).problem(t, http.StatusGone)
}

// TestConsentExistingTherapistAcceptsWithTheirAccount: a consent naming a
// therapist who already has an account waits, pending, for them to accept
// its e-mailed invitation with their password; it then names that account,
// and no second account is made.
func TestConsentExistingTherapistAcceptsWithTheirAccount(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	therapist, therapistID := env.therapistAccount(f, "thea@therapy.example")
	invitations, users := env.rowCount("therapist_invitations"), env.rowCount("users")

	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "THEA@therapy.example"))
	if c.Status != consent.StatusPending || c.InvitationExpiresAt == nil || c.ActivatedAt != nil {
		t.Fatalf("consent = %+v, want pending, with an invitation", c)
	}
	if n := env.rowCount("therapist_invitations"); n != invitations+1 {
		t.Fatalf("%d invitations, want %d", n, invitations+1)
	}
	if row := env.dbRow("consents", c.ID); row["therapist_user_id"] != nil {
		t.Fatalf("therapist_user_id = %v before the therapist accepted, want none", row["therapist_user_id"])
	}
	// Until they accept, the consent is out of the therapist's reach.
	env.getConsent(therapist.AccessToken, c.ID).problem(t, http.StatusNotFound)
	env.consentAction(therapist.AccessToken, c.ID, "decline").problem(t, http.StatusNotFound)
	if _, err := consent.Check(env.store.DB, uuid.MustParse(therapistID), uuid.MustParse(f.clientRec.ID), consent.Goals, env.clock.Now()); err == nil {
		t.Fatal("Check granted a consent the therapist has not accepted")
	}

	token := env.mailToken("thea@therapy.example")
	env.accept(token, map[string]string{"password": "not thea's password"}).problem(t, http.StatusUnauthorized)
	accepted := env.accept(token, withPassword).tokens(t, http.StatusCreated)
	if env.userIDOf(accepted.AccessToken) != therapistID || env.rowCount("users") != users {
		t.Fatal("accepting with the password made or used another account")
	}
	if row := env.dbRow("consents", c.ID); !strings.EqualFold(dbText(row["therapist_user_id"]), therapistID) {
		t.Fatalf("therapist_user_id = %v, want %s", row["therapist_user_id"], therapistID)
	}
	if got := env.auditActions(c.ID); !slices.Equal(got, []string{"consent.signed", "consent.activated"}) {
		t.Fatalf("audit = %v", got)
	}
	var active grantDoc
	env.getConsent(therapist.AccessToken, c.ID).want(t, http.StatusOK).decode(t, &active)
	if active.Status != consent.StatusActive || active.ActivatedAt == nil || active.InvitationExpiresAt != nil {
		t.Fatalf("consent after acceptance = %+v, want active", active)
	}
	if _, err := consent.Check(env.store.DB, uuid.MustParse(therapistID), uuid.MustParse(f.clientRec.ID), consent.Goals, env.clock.Now()); err != nil {
		t.Fatalf("Check = %v, want the active consent", err)
	}
}

// dbText renders a database value (a UUID is text on SQLite, bytes or
// text on PostgreSQL) as a string.
func dbText(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case string:
		return v
	case nil:
		return ""
	}
	return ""
}

func TestConsentRequestGrantsNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	therapist, therapistID := env.therapistAccount(f, "thea@therapy.example")

	ask := map[string]any{
		"therapist_name": "Thea Rapist", "therapist_email": "thea@therapy.example", "data_classes": []string{"goals"},
		"purpose": "Coordinate with the therapist.", "expires_at": env.clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339),
	}
	req := env.grant(f.coach.AccessToken, f.clientRec.ID, ask)
	if req.Status != consent.StatusRequested || req.Signature != nil || req.TemplateVersion != nil || req.InvitationExpiresAt != nil {
		t.Fatalf("request = %+v, want requested with no signature, template or invitation", req)
	}
	if row := env.dbRow("consents", req.ID); row["therapist_user_id"] != nil || !strings.EqualFold(dbText(row["requested_by"]), env.userIDOf(f.coach.AccessToken)) {
		t.Fatalf("request row = %v, want no therapist linked and requested_by the coach", row)
	}
	if _, err := consent.Check(env.store.DB, uuid.MustParse(therapistID), uuid.MustParse(f.clientRec.ID), "", env.clock.Now()); err != consent.ErrNoConsent {
		t.Fatalf("Check after a request = %v, want no consent", err)
	}
	env.getConsent(therapist.AccessToken, req.ID).problem(t, http.StatusNotFound)
	if got := env.auditActions(req.ID); !slices.Equal(got, []string{"consent.requested"}) {
		t.Fatalf("audit = %v", got)
	}

	// The owner may request too; another coach does not see the client;
	// nobody on staff may sign.
	env.grant(f.owner.AccessToken, f.clientRec.ID, ask)
	env.postConsent(f.otherCoach.AccessToken, f.clientRec.ID, ask).problem(t, http.StatusNotFound)
	env.postConsent(f.coach.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example")).problem(t, http.StatusForbidden)
	ask["expires_at"] = env.clock.Now().Add(-time.Hour).Format(time.RFC3339)
	if p := env.postConsent(f.coach.AccessToken, f.clientRec.ID, ask).problem(t, http.StatusBadRequest); !hasFieldError(p, "expires_at") {
		t.Fatalf("errors = %+v, want expires_at", p.Errors)
	}

	// The client sees the requests and answers one by signing.
	var list struct {
		Items []grantDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/consents", token: f.client.AccessToken}).
		want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 2 || list.Items[0].ID != req.ID || list.Items[0].Status != consent.StatusRequested {
		t.Fatalf("client's list = %+v, want both requests, oldest first", list.Items)
	}
	body := env.signedBody(f, "thea@therapy.example")
	body["request_id"] = req.ID
	signed := env.grant(f.client.AccessToken, f.clientRec.ID, body)
	if signed.RequestID == nil || *signed.RequestID != req.ID || signed.Status != consent.StatusPending {
		t.Fatalf("signed = %+v, want pending (until the therapist accepts), answering the request", signed)
	}
	var still grantDoc
	env.getConsent(f.coach.AccessToken, req.ID).want(t, http.StatusOK).decode(t, &still)
	if still.Status != consent.StatusRequested {
		t.Fatalf("request after signing = %s, want it kept as requested", still.Status)
	}
	// A client cannot sign for another client, nor answer another client's request.
	env.postConsent(f.otherClient.AccessToken, f.clientRec.ID, body).problem(t, http.StatusNotFound)
	other := env.signedBody(f, "thea@therapy.example")
	other["signature_name"], other["request_id"] = f.otherRec.Name, req.ID
	if p := env.postConsent(f.otherClient.AccessToken, f.otherRec.ID, other).problem(t, http.StatusBadRequest); len(p.Errors) != 1 || p.Errors[0].Field != "request_id" {
		t.Fatalf("errors = %+v, want request_id", p.Errors)
	}
}

func TestConsentSupersedes(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")

	first := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	firstToken := env.mailToken("thea@therapy.example")
	before := env.signedElements(first.ID)
	env.clock.Advance(time.Minute)
	wider := env.signedBody(f, "Thea@Therapy.Example")
	wider["data_classes"] = []string{"goals", "action_steps", "session_summaries"}
	second := env.grant(f.client.AccessToken, f.clientRec.ID, wider)
	secondToken := env.mailToken("thea@therapy.example")
	if second.SupersedesID == nil || *second.SupersedesID != first.ID || second.Status != consent.StatusPending {
		t.Fatalf("second = %+v, want pending, superseding %s", second, first.ID)
	}
	row := env.dbRow("consents", first.ID)
	if row["status"] != consent.StatusRevoked || row["revoke_reason"] != "superseded" || row["revoked_at"] == nil {
		t.Fatalf("first after supersede = %v, want revoked as superseded", row)
	}
	expectUnchanged(t, "superseded consent", before, env.signedElements(first.ID))
	if got := env.auditActions(first.ID); !slices.Equal(got, []string{"consent.signed", "consent.superseded"}) {
		t.Fatalf("audit of the first = %v", got)
	}

	// The first invitation died with its consent; the second one links.
	env.accept(firstToken, newTherapist).problem(t, http.StatusGone)
	therapist := env.accept(secondToken, newTherapist).tokens(t, http.StatusCreated)
	var active grantDoc
	env.getConsent(therapist.AccessToken, second.ID).want(t, http.StatusOK).decode(t, &active)
	if active.Status != consent.StatusActive || len(active.DataClasses) != 3 {
		t.Fatalf("second = %+v, want active with three classes", active)
	}
	env.getConsent(therapist.AccessToken, first.ID).problem(t, http.StatusNotFound)

	// An active consent is superseded too, and the new one waits for the
	// therapist's acceptance; another therapist's is not superseded.
	env.clock.Advance(time.Minute)
	other := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "other@therapy.example"))
	third := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	if third.SupersedesID == nil || *third.SupersedesID != second.ID || third.Status != consent.StatusPending {
		t.Fatalf("third = %+v, want pending, superseding %s", third, second.ID)
	}
	if row := env.dbRow("consents", second.ID); row["status"] != consent.StatusRevoked || row["revoke_reason"] != "superseded" {
		t.Fatalf("second after supersede = %v, want revoked as superseded", row)
	}
	env.accept(env.mailToken("thea@therapy.example"), withPassword).tokens(t, http.StatusCreated)
	env.getConsent(therapist.AccessToken, third.ID).want(t, http.StatusOK).decode(t, &active)
	if active.Status != consent.StatusActive {
		t.Fatalf("third after the therapist accepted = %+v, want active", active)
	}
	var untouched grantDoc
	env.getConsent(f.client.AccessToken, other.ID).want(t, http.StatusOK).decode(t, &untouched)
	if untouched.Status != consent.StatusPending {
		t.Fatalf("another therapist's consent = %s, want still pending", untouched.Status)
	}
}

func TestConsentRevoke(t *testing.T) {
	t.Parallel()
	mp := mailtest.Start(t)
	env := newEnv(t, envOptions{smtpURL: mp.SMTPURL()})
	f := env.practice("p")
	b := env.practice("b")
	env.roundClock()
	therapist, _ := env.therapistAccount(f, "thea@therapy.example")
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	env.accept(env.mailToken("thea@therapy.example"), withPassword).tokens(t, http.StatusCreated)
	before := env.signedElements(c.ID)

	for _, who := range []struct {
		name   string
		token  string
		status int
	}{
		{"coach", f.coach.AccessToken, http.StatusForbidden},
		{"owner", f.owner.AccessToken, http.StatusForbidden},
		{"therapist", therapist.AccessToken, http.StatusForbidden},
		{"other coach", f.otherCoach.AccessToken, http.StatusNotFound},
		{"other client", f.otherClient.AccessToken, http.StatusNotFound},
		{"other practice's owner", b.owner.AccessToken, http.StatusNotFound},
		{"other practice's client", b.client.AccessToken, http.StatusNotFound},
	} {
		env.consentAction(who.token, c.ID, "revoke").problem(t, who.status)
	}
	env.consentAction("", c.ID, "revoke").problem(t, http.StatusUnauthorized)

	env.clock.Advance(time.Minute)
	var revoked grantDoc
	env.consentAction(f.client.AccessToken, c.ID, "revoke").want(t, http.StatusOK).decode(t, &revoked)
	if revoked.Status != consent.StatusRevoked || revoked.RevokedAt == nil || !revoked.RevokedAt.Equal(env.clock.Now()) {
		t.Fatalf("revoked = %+v, want revoked now", revoked)
	}
	if row := env.dbRow("consents", c.ID); row["revoke_reason"] != "revoked by client" {
		t.Fatalf("revoke_reason = %v", row["revoke_reason"])
	}
	env.consentAction(f.client.AccessToken, c.ID, "revoke").problem(t, http.StatusConflict)
	expectUnchanged(t, "revoked consent", before, env.signedElements(c.ID))
	if _, err := consent.Check(env.store.DB, uuid.MustParse(env.userIDOf(therapist.AccessToken)), uuid.MustParse(f.clientRec.ID), consent.Goals, env.clock.Now()); err == nil {
		t.Fatal("Check granted a revoked consent")
	}
	if got := env.auditActions(c.ID); !slices.Equal(got, []string{"consent.signed", "consent.activated", "consent.revoked"}) {
		t.Fatalf("audit = %v", got)
	}
	if mails := env.mailsTo(mp, "p-coach@example.com", "revoked"); len(mails) != 1 || !strings.Contains(mails[0].Text, "Thea Rapist") {
		t.Fatalf("coach mails = %+v, want one about the revocation", mails)
	}
	if mails := env.mailsTo(mp, "p-coach@example.com", "signed a consent"); len(mails) != 2 {
		t.Fatalf("coach got %d signature mails, want 2 (one per client)", len(mails))
	}

	// Expired, declined and requested consents cannot be revoked.
	body := env.signedBody(f, "late@therapy.example")
	body["expires_at"] = env.clock.Now().Add(time.Hour).Format(time.RFC3339)
	expiring := env.grant(f.client.AccessToken, f.clientRec.ID, body)
	env.clock.Advance(time.Hour)
	f.client = env.login("p-client@example.com", goodPassword).tokens(t, http.StatusOK)
	f.coach = env.login("p-coach@example.com", goodPassword).tokens(t, http.StatusOK)
	therapist = env.login("thea@therapy.example", goodPassword).tokens(t, http.StatusOK)
	env.consentAction(f.client.AccessToken, expiring.ID, "revoke").problem(t, http.StatusConflict)
	declined := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	env.accept(env.mailToken("thea@therapy.example"), withPassword).tokens(t, http.StatusCreated)
	env.consentAction(therapist.AccessToken, declined.ID, "decline").want(t, http.StatusOK)
	env.consentAction(f.client.AccessToken, declined.ID, "revoke").problem(t, http.StatusConflict)
	ask := env.signedBody(f, "new@therapy.example")
	for _, k := range []string{"template_version", "template_sha256", "signature_name"} {
		delete(ask, k)
	}
	requested := env.grant(f.coach.AccessToken, f.clientRec.ID, ask)
	env.consentAction(f.client.AccessToken, requested.ID, "revoke").problem(t, http.StatusConflict)
}

func TestConsentDecline(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	therapist, _ := env.therapistAccount(f, "thea@therapy.example")
	stranger, _ := env.therapistAccount(f, "stranger@therapy.example")
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	// Pending, the consent names no account yet: the therapist declines
	// after accepting its invitation.
	env.consentAction(therapist.AccessToken, c.ID, "decline").problem(t, http.StatusNotFound)
	env.accept(env.mailToken("thea@therapy.example"), withPassword).tokens(t, http.StatusCreated)
	before := env.signedElements(c.ID)

	env.consentAction(f.client.AccessToken, c.ID, "decline").problem(t, http.StatusForbidden)
	env.consentAction(f.coach.AccessToken, c.ID, "decline").problem(t, http.StatusForbidden)
	env.consentAction(f.owner.AccessToken, c.ID, "decline").problem(t, http.StatusForbidden)
	env.consentAction(f.otherCoach.AccessToken, c.ID, "decline").problem(t, http.StatusNotFound)
	env.consentAction(stranger.AccessToken, c.ID, "decline").problem(t, http.StatusNotFound)

	var declined grantDoc
	env.consentAction(therapist.AccessToken, c.ID, "decline").want(t, http.StatusOK).decode(t, &declined)
	if declined.Status != consent.StatusDeclined || declined.DeclinedAt == nil {
		t.Fatalf("declined = %+v", declined)
	}
	env.consentAction(therapist.AccessToken, c.ID, "decline").problem(t, http.StatusConflict)
	expectUnchanged(t, "declined consent", before, env.signedElements(c.ID))
	if got := env.auditActions(c.ID); !slices.Equal(got, []string{"consent.signed", "consent.activated", "consent.declined"}) {
		t.Fatalf("audit = %v", got)
	}
	if _, err := consent.Check(env.store.DB, uuid.MustParse(env.userIDOf(therapist.AccessToken)), uuid.MustParse(f.clientRec.ID), "", env.clock.Now()); err == nil {
		t.Fatal("Check granted a declined consent")
	}
	// The pending consent of a therapist without an account is out of reach.
	pending := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "new@therapy.example"))
	env.consentAction(therapist.AccessToken, pending.ID, "decline").problem(t, http.StatusNotFound)
}

// TestConsentVisibility checks who reads a consent and a client's list of
// consents: the client, their coach and the owner, and the therapist named;
// nobody else learns the consent exists.
func TestConsentVisibility(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("a")
	b := env.practice("b")
	therapist, _ := env.therapistAccount(f, "thea@therapy.example")
	stranger, _ := env.therapistAccount(f, "stranger@therapy.example")
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	env.accept(env.mailToken("thea@therapy.example"), withPassword).tokens(t, http.StatusCreated)
	list := "/api/v1/clients/" + f.clientRec.ID + "/consents"

	for _, tt := range []struct {
		name       string
		token      string
		get, lists int
	}{
		{"client", f.client.AccessToken, 200, 200},
		{"coach", f.coach.AccessToken, 200, 200},
		{"owner", f.owner.AccessToken, 200, 200},
		{"therapist named", therapist.AccessToken, 200, 403},
		{"another therapist", stranger.AccessToken, 404, 403},
		{"another coach", f.otherCoach.AccessToken, 404, 404},
		{"another client", f.otherClient.AccessToken, 404, 404},
		{"other practice's owner", b.owner.AccessToken, 404, 404},
		{"other practice's coach", b.coach.AccessToken, 404, 404},
		{"other practice's client", b.client.AccessToken, 404, 404},
		{"anonymous", "", 401, 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := env.getConsent(tt.token, c.ID)
			if tt.get != http.StatusOK {
				r.problem(t, tt.get)
			} else {
				var got grantDoc
				r.want(t, http.StatusOK).decode(t, &got)
				if got.ID != c.ID || got.Status != consent.StatusActive {
					t.Fatalf("got %+v", got)
				}
			}
			fhir := env.do(request{method: "GET", path: "/api/v1/consents/" + c.ID, token: tt.token,
				headers: map[string]string{"Accept": "application/fhir+json"}})
			if fhir.Code != tt.get {
				t.Fatalf("FHIR read: status %d, want %d", fhir.Code, tt.get)
			}
			r = env.do(request{method: "GET", path: list, token: tt.token})
			if tt.lists != http.StatusOK {
				r.problem(t, tt.lists)
				return
			}
			var l struct {
				Items []grantDoc `json:"items"`
			}
			r.want(t, http.StatusOK).decode(t, &l)
			if len(l.Items) != 1 || l.Items[0].ID != c.ID {
				t.Fatalf("list = %+v", l.Items)
			}
		})
	}
	env.getConsent(f.client.AccessToken, uuid.NewString()).problem(t, http.StatusNotFound)
}

func TestConsentListPages(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	var want []string
	for _, email := range []string{"a@therapy.example", "b@therapy.example", "c@therapy.example"} {
		want = append(want, env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, email)).ID)
	}
	var got []string
	path := "/api/v1/clients/" + f.clientRec.ID + "/consents?limit=2"
	for range 3 {
		var l struct {
			Items      []grantDoc `json:"items"`
			NextCursor *string    `json:"next_cursor"`
		}
		env.do(request{method: "GET", path: path, token: f.coach.AccessToken}).want(t, http.StatusOK).decode(t, &l)
		for _, c := range l.Items {
			got = append(got, c.ID)
		}
		if l.NextCursor == nil {
			break
		}
		path = "/api/v1/clients/" + f.clientRec.ID + "/consents?limit=2&cursor=" + *l.NextCursor
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
}

// TestConsentFHIR reads a consent as a FHIR R4 Consent resource.
func TestConsentFHIR(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")
	env.roundClock()
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))

	fhirRead := func(token, accept string) response {
		return env.do(request{method: "GET", path: "/api/v1/consents/" + c.ID, token: token, headers: map[string]string{"Accept": accept}})
	}
	r := fhirRead(f.coach.AccessToken, "application/fhir+json")
	if ct := r.want(t, http.StatusOK).Header.Get("Content-Type"); ct != "application/fhir+json" {
		t.Fatalf("Content-Type = %q", ct)
	}
	var res struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Status       string `json:"status"`
		Scope        struct {
			Coding []struct{ System, Code string } `json:"coding"`
		} `json:"scope"`
		Category []struct {
			Coding []struct{ System, Code, Display string } `json:"coding"`
		} `json:"category"`
		Patient          struct{ Reference, Display string }   `json:"patient"`
		DateTime         time.Time                             `json:"dateTime"`
		Performer        []struct{ Reference string }          `json:"performer"`
		Organization     []struct{ Reference, Display string } `json:"organization"`
		Policy           []struct{ URI string }                `json:"policy"`
		SourceAttachment struct {
			Extension []struct {
				URL          string `json:"url"`
				ValueString  string `json:"valueString"`
				ValueInteger int    `json:"valueInteger"`
			} `json:"extension"`
		} `json:"sourceAttachment"`
		Provision struct {
			Type   string `json:"type"`
			Period struct {
				Start time.Time `json:"start"`
				End   time.Time `json:"end"`
			} `json:"period"`
			Actor []struct {
				Role struct {
					Coding []struct{ System, Code string } `json:"coding"`
				} `json:"role"`
				Reference struct {
					Reference  string                         `json:"reference"`
					Display    string                         `json:"display"`
					Identifier struct{ System, Value string } `json:"identifier"`
				} `json:"reference"`
			} `json:"actor"`
			Purpose []struct{ System, Code, Display string } `json:"purpose"`
			Class   []struct{ System, Code string }          `json:"class"`
		} `json:"provision"`
	}
	r.decode(t, &res)
	a := res.Provision.Actor
	switch {
	case res.ResourceType != "Consent" || res.ID != c.ID || res.Status != "proposed":
		t.Fatalf("resource %s/%s status %s, want Consent/%s proposed", res.ResourceType, res.ID, res.Status, c.ID)
	case len(res.Scope.Coding) != 1 || res.Scope.Coding[0].System != "http://terminology.hl7.org/CodeSystem/consentscope" || res.Scope.Coding[0].Code != "patient-privacy":
		t.Fatalf("scope = %+v", res.Scope)
	case len(res.Category) != 1 || res.Category[0].Coding[0].System != "http://loinc.org" || res.Category[0].Coding[0].Code != "59284-0":
		t.Fatalf("category = %+v", res.Category)
	case res.Patient.Reference != "#client" || res.Patient.Display != f.clientRec.Name:
		t.Fatalf("patient = %+v", res.Patient)
	case !res.DateTime.Equal(c.Signature.SignedAt) || !res.Provision.Period.Start.Equal(c.Signature.SignedAt) || !res.Provision.Period.End.Equal(c.ExpiresAt):
		t.Fatalf("dateTime %v, period %+v; want signed at %v until %v", res.DateTime, res.Provision.Period, c.Signature.SignedAt, c.ExpiresAt)
	case len(res.Performer) != 1 || res.Performer[0].Reference != "#client":
		t.Fatalf("performer = %+v", res.Performer)
	case len(res.Organization) != 1 || res.Organization[0].Display != "Practice of p-owner@example.com":
		t.Fatalf("organization = %+v", res.Organization)
	case len(res.Policy) != 1 || res.Policy[0].URI == "":
		t.Fatalf("policy = %+v", res.Policy)
	case len(res.SourceAttachment.Extension) != 2 || res.SourceAttachment.Extension[0].ValueInteger != 1 ||
		res.SourceAttachment.Extension[1].ValueString != *c.TemplateSHA256 || !strings.HasSuffix(res.SourceAttachment.Extension[1].URL, "consent-text-sha256"):
		t.Fatalf("sourceAttachment = %+v, want version 1 and the SHA-256 %s", res.SourceAttachment, *c.TemplateSHA256)
	case res.Provision.Type != "permit" || len(a) != 2:
		t.Fatalf("provision = %+v", res.Provision)
	case a[0].Role.Coding[0].Code != "IRCP" || a[0].Reference.Display != "Thea Rapist" || a[0].Reference.Reference != "#therapist":
		t.Fatalf("recipient = %+v", a[0])
	case a[1].Role.Coding[0].Code != "CST" || a[1].Reference.Display != "Coach p-coach@example.com" || a[1].Reference.Reference != "#coach":
		t.Fatalf("discloser = %+v", a[1])
	case len(res.Provision.Purpose) != 1 || res.Provision.Purpose[0].Code != "COC" ||
		res.Provision.Purpose[0].System != "http://terminology.hl7.org/CodeSystem/v3-ActReason" || res.Provision.Purpose[0].Display != "coordination of care":
		t.Fatalf("purpose = %+v", res.Provision.Purpose)
	case len(res.Provision.Class) != 2 || res.Provision.Class[0].Code != "action_steps" || res.Provision.Class[1].Code != "goals":
		t.Fatalf("class = %+v", res.Provision.Class)
	}

	// Plain JSON unless FHIR is asked for and preferred.
	for accept, fhir := range map[string]bool{
		"application/json": false, "*/*": false, "": false,
		"application/json, application/fhir+json;q=0.5":                  false,
		"application/fhir+json; fhirVersion=4.0, application/json;q=0.9": true,
		"application/fhir+json, */*":                                     true,
	} {
		ct := fhirRead(f.client.AccessToken, accept).want(t, http.StatusOK).Header.Get("Content-Type")
		if (ct == "application/fhir+json") != fhir {
			t.Errorf("Accept %q: Content-Type %q, want FHIR %v", accept, ct, fhir)
		}
	}

	env.consentAction(f.client.AccessToken, c.ID, "revoke").want(t, http.StatusOK)
	fhirRead(f.client.AccessToken, "application/fhir+json").want(t, http.StatusOK).decode(t, &res)
	if res.Status != "inactive" {
		t.Fatalf("revoked consent as FHIR: status %s, want inactive", res.Status)
	}
}

// race runs call n times at once and returns the statuses.
func race(n int, call func(i int) int) []int {
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { codes <- call(i) })
	}
	wg.Wait()
	close(codes)
	var out []int
	for c := range codes {
		out = append(out, c)
	}
	return out
}

// TestConsentConcurrentTransitions races signings, acceptances and
// revocations: each ends in one consistent state, never a 5xx.
func TestConsentConcurrentTransitions(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p")

	// Concurrent signings for one therapist each supersede the one before:
	// exactly one stays pending.
	raw, err := json.Marshal(env.signedBody(f, "thea@therapy.example"))
	if err != nil {
		t.Fatal(err)
	}
	codes := race(4, func(int) int { return env.postConsent(f.client.AccessToken, f.clientRec.ID, string(raw)).Code })
	if slices.ContainsFunc(codes, func(c int) bool { return c != http.StatusCreated }) {
		t.Fatalf("signings = %v, want all 201", codes)
	}
	var open []string
	if err := env.store.DB.Table("consents").Where("status IN ?", []string{"pending", "active"}).Pluck("id", &open).Error; err != nil {
		t.Fatal(err)
	}
	if len(open) != 1 {
		t.Fatalf("%d open consents for one therapist, want 1", len(open))
	}
	if n := env.auditCount("consent.superseded"); n != 3 {
		t.Fatalf("%d consent.superseded events, want 3", n)
	}

	// Concurrent acceptances of one invitation: exactly one wins.
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "ben@therapy.example"))
	tok := env.mailToken("ben@therapy.example")
	codes = race(4, func(i int) int {
		return env.do(request{method: "POST", path: "/api/v1/invitations/accept", remote: fmt.Sprintf("203.0.113.%d:1", i),
			body: `{"token":"` + tok + `","name":"Ben Rapist","password":"a long and quiet river"}`}).Code
	})
	if won := countOf(codes, http.StatusCreated); won != 1 || countOf(codes, http.StatusGone)+countOf(codes, http.StatusConflict) != 3 {
		t.Fatalf("acceptances = %v, want one 201 and the rest 409 or 410", codes)
	}

	// Concurrent revocations: exactly one wins, the rest find it revoked.
	codes = race(4, func(int) int { return env.consentAction(f.client.AccessToken, c.ID, "revoke").Code })
	if countOf(codes, http.StatusOK) != 1 || countOf(codes, http.StatusConflict) != 3 {
		t.Fatalf("revocations = %v, want one 200 and three 409", codes)
	}
	if n := env.auditCount("consent.revoked"); n != 1 {
		t.Fatalf("%d consent.revoked events, want 1", n)
	}
}

func countOf(codes []int, code int) int {
	n := 0
	for _, c := range codes {
		if c == code {
			n++
		}
	}
	return n
}

// TestConsentMailFailureIsNotFatal signs and revokes with an SMTP server that
// refuses connections: both succeed, and the failures are logged, to be
// tried again, without the link.
func TestConsentMailFailureIsNotFatal(t *testing.T) {
	t.Parallel()
	env := newEnv(t, envOptions{smtpURL: "smtp://127.0.0.1:1?tls=none"})
	f := env.practice("p")
	c := env.grant(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@therapy.example"))
	env.consentAction(f.client.AccessToken, c.ID, "revoke").want(t, http.StatusOK)
	env.drainMail()
	for _, key := range []string{"consent-signed:" + c.ID, "consent.revoked:" + c.ID, "consent-invitation:"} {
		if !strings.Contains(env.logs.String(), `"msg":"e-mail attempt failed; it will be tried again","job_id":`) ||
			!strings.Contains(env.logs.String(), `"key":"`+key) {
			t.Fatalf("no logged failure of the e-mail %s:\n%s", key, env.logs.String())
		}
	}
	if strings.Contains(env.logs.String(), env.mailToken("thea@therapy.example")) {
		t.Fatal("the invitation token is in the log")
	}
}
