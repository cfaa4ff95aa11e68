package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/notify"
)

// statuses is the expected status per actor, in the order of actorNames:
// anonymous, A-owner, A-coach, A-otherCoach, B-coach, A-client, A-otherClient, B-client.
type statuses [firstTherapist]int

// therapistStatuses is the expected status per therapist actor, in the order
// of actorNames: T-active, T-noclass, T-revoked, T-expired, T-declined,
// T-pending, T-otherclient, T-none.
type therapistStatuses [actorCount - firstTherapist]int

// every is the same status for every therapist.
func every(status int) therapistStatuses {
	var s therapistStatuses
	for i := range s {
		s[i] = status
	}
	return s
}

// noPracticeRole is what every therapist gets from a route whose rule
// (member, staff or owner) needs a role in a practice: a therapist holds
// none, so the rule answers 403 before any record is read.
var noPracticeRole = every(http.StatusForbidden)

// matrixRow is one operation of the spec run by every actor.
type matrixRow struct {
	method     string
	path       string // the spec's path template
	note       string // tells rows of one operation apart
	want       statuses
	therapists therapistStatuses
	headers    map[string]string
	// call returns the concrete path (under /api/v1) and body for one actor.
	// It may create fresh records, so that an earlier actor's success (a
	// delete, a completion) does not decide a later actor's outcome.
	call func(fx *authzFixture, who authzActor) (path string, body any)
	// after runs after each call, to undo a success the next actor must not see.
	after func(fx *authzFixture, who authzActor, r response)
	// shows is a mark that a success of an actor who sees the target client
	// must contain: proof that the leak check has something to find.
	shows func(fx *authzFixture) string
	// inspect checks the body of any actor's success further.
	inspect func(t *testing.T, fx *authzFixture, who authzActor, r response)
	// credentialInPath: the path itself is the credential (a calendar feed),
	// so whoever holds it reads its owner's calendar by design.
	credentialInPath bool
	// consentDecides: a therapist's 403 comes from the state of their
	// consent, and its problem type names why (consentRefusal).
	consentDecides bool
	// discloses: a therapist's success reads client data and writes exactly
	// one disclosure. Every other request, and every refusal, writes none.
	discloses bool
	// notFoundType: the problem type of the row's 404 when it is not
	// not_found (billing_disabled).
	notFoundType string
}

// expect is the status who must get.
func (r matrixRow) expect(who authzActor) int {
	if who.isTherapist() {
		return r.therapists[who-firstTherapist]
	}
	return r.want[who]
}

func (r matrixRow) name() string {
	if r.note != "" {
		return r.method + " " + r.path + " (" + r.note + ")"
	}
	return r.method + " " + r.path
}

func fixed(path string, body any) func(*authzFixture, authzActor) (string, any) {
	return func(*authzFixture, authzActor) (string, any) { return path, body }
}

// at fills a path format's %s with the ID of a record, looked up (or created) per call.
func at(format string, id func(*authzFixture) string, body any) func(*authzFixture, authzActor) (string, any) {
	return func(fx *authzFixture, _ authzActor) (string, any) { return fmt.Sprintf(format, id(fx)), body }
}

func targetClient(fx *authzFixture) string  { return fx.a.clientRec.ID }
func inviteeClient(fx *authzFixture) string { return fx.invitee.ID }
func targetSession(fx *authzFixture) string { return fx.session.ID }
func targetGoal(fx *authzFixture) string    { return fx.goal.ID }
func targetStep(fx *authzFixture) string    { return fx.step.ID }

// authzMatrix is every operation of the spec with the status each actor
// gets. Rows that succeed for some actors use valid bodies, so a status
// reflects authorization, not validation.
func authzMatrix() []matrixRow {
	return append([]matrixRow{
		// want: anonymous, A-owner, A-coach, A-otherCoach, B-coach, A-client, A-otherClient, B-client.
		// therapists: T-active, T-noclass, T-revoked, T-expired, T-declined, T-pending, T-otherclient, T-none.
		// Registering answers the same to everyone; each registers a new
		// address, which later rows prove and reset.
		{method: "POST", path: "/auth/register", want: statuses{202, 202, 202, 202, 202, 202, 202, 202}, therapists: every(202),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				email := fx.email("registered")
				fx.registered = append(fx.registered, email)
				return "/auth/register", map[string]any{"practice_name": "Practice of " + email, "name": "New Owner", "email": email, "password": goodPassword}
			},
			inspect: inspectNoSecret},
		{method: "POST", path: "/auth/login", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/auth/login", map[string]string{"email": "b-owner@example.com", "password": goodPassword})},
		// The browser variants: the same for everyone, as their programs' twins.
		{method: "POST", path: "/auth/browser/login", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			headers: browserHeaders(""),
			call:    fixed("/auth/browser/login", map[string]string{"email": "b-owner@example.com", "password": goodPassword})},
		{method: "POST", path: "/auth/browser/refresh", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			headers: browserHeaders(""),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/auth/browser/refresh", map[string]string{"refresh_token": fx.refreshToken()}
			}},
		{method: "POST", path: "/auth/browser/logout", want: statuses{204, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			headers: browserHeaders(""), call: fixed("/auth/browser/logout", nil)},
		{method: "POST", path: "/auth/login/mfa", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				token, code := fx.mfaChallenge()
				return "/auth/login/mfa", map[string]string{"mfa_token": token, "code": code}
			},
			after: func(fx *authzFixture, _ authzActor, r response) { fx.keepSession(r) }},
		{method: "POST", path: "/auth/refresh", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/auth/refresh", map[string]string{"refresh_token": fx.refreshToken()}
			},
			after: func(fx *authzFixture, _ authzActor, r response) { fx.keepSession(r) }},
		{method: "POST", path: "/auth/logout", want: statuses{204, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/auth/logout", map[string]string{"refresh_token": fx.refreshToken()}
			}},
		{method: "POST", path: "/auth/reauth", want: statuses{401, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: fixed("/auth/reauth", map[string]string{"password": goodPassword})},
		{method: "POST", path: "/auth/verify-email", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/auth/verify-email", map[string]string{"token": fx.emailedToken(fx.registeredAddress(&fx.verified))}
			}},
		// Everyone signed in has proven their address: nothing is sent.
		{method: "POST", path: "/auth/verify-email/resend", want: statuses{401, 202, 202, 202, 202, 202, 202, 202}, therapists: every(202),
			call: fixed("/auth/verify-email/resend", nil)},
		{method: "POST", path: "/auth/password-reset", want: statuses{202, 202, 202, 202, 202, 202, 202, 202}, therapists: every(202),
			call: fixed("/auth/password-reset", map[string]string{"email": "b-owner@example.com"}), inspect: inspectNoSecret},
		{method: "POST", path: "/auth/password-reset/confirm", want: statuses{204, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				email := fx.registeredAddress(&fx.reset)
				if email != "" {
					fx.env.do(request{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": email}}).
						want(fx.env.t, http.StatusAccepted)
				}
				return "/auth/password-reset/confirm", map[string]string{"token": fx.emailedToken(email), "password": goodPassword}
			}},
		{method: "POST", path: "/invitations/accept", want: statuses{201, 201, 201, 201, 201, 201, 201, 201}, therapists: every(201),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/invitations/accept", map[string]string{"token": fx.coachInvitation(), "name": "Invited Coach", "password": goodPassword}
			}},
		// Whoever holds a consent invitation's token may decline it: each
		// actor declines a fresh one.
		{method: "POST", path: "/invitations/decline", want: statuses{204, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/invitations/decline", map[string]string{"token": fx.share.pendingInvitation(fx.a.clientRec.ID, fx.email("declining"))}
			}},

		{method: "GET", path: "/me", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200), call: fixed("/me", nil)},
		// The same password again: the row changes nothing a later one sees
		// but the other sessions of each actor, which none uses.
		{method: "PUT", path: "/me/password", want: statuses{401, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: fixed("/me/password", map[string]string{"current_password": goodPassword, "new_password": goodPassword})},
		// Step-up: every actor signed in minutes ago, within the window.
		{method: "POST", path: "/me/email", want: statuses{401, 202, 202, 202, 202, 202, 202, 202}, therapists: every(202),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/me/email", map[string]string{"email": fx.email("moved")}
			}},
		// TOTP on, then off again, for every actor.
		{method: "POST", path: "/me/mfa/totp", want: statuses{401, 201, 201, 201, 201, 201, 201, 201}, therapists: every(201),
			call: fixed("/me/mfa/totp", nil),
			after: func(fx *authzFixture, who authzActor, r response) {
				if r.Code == http.StatusCreated {
					var e struct {
						Secret string `json:"secret"`
					}
					r.decode(fx.env.t, &e)
					fx.totpSecrets[who] = e.Secret
				}
			}},
		{method: "POST", path: "/me/mfa/totp/confirm", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, who authzActor) (string, any) {
				return "/me/mfa/totp/confirm", map[string]string{"code": fx.totpCode(fx.totpSecrets[who])}
			}},
		{method: "DELETE", path: "/me/mfa/totp", want: statuses{401, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: fixed("/me/mfa/totp", nil)},
		{method: "GET", path: "/me/sessions", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/me/sessions", nil), inspect: inspectOwnSessions},
		{method: "DELETE", path: "/me/sessions/{session_id}", note: "another user's session",
			want: statuses{401, 404, 404, 404, 404, 404, 404, 404}, therapists: every(404),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/me/sessions/" + fx.otherUsersSession(), nil
			}},
		{method: "DELETE", path: "/me/sessions/{session_id}", note: "a session of the caller's own",
			want: statuses{401, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: func(fx *authzFixture, who authzActor) (string, any) {
				return "/me/sessions/" + fx.ownFreshSession(who), nil
			}},
		{method: "DELETE", path: "/me/sessions", want: statuses{401, 204, 204, 204, 204, 204, 204, 204}, therapists: every(204),
			call: fixed("/me/sessions", nil)},
		{method: "GET", path: "/practice", want: statuses{401, 200, 200, 200, 200, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice", nil)},
		{method: "PATCH", path: "/practice", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice", map[string]string{"name": "Practice A, renamed"})},
		{method: "GET", path: "/practice/members", want: statuses{401, 200, 200, 200, 200, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/members", nil)},
		// The audit log is the owner's alone; another practice's owner
		// reads only their own (TestAuditEventsForTheOwner).
		{method: "GET", path: "/practice/audit-events", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/audit-events?record_type=client", nil), shows: targetClient},
		{method: "POST", path: "/practice/invitations", want: statuses{401, 201, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/practice/invitations", map[string]string{"email": fx.email("a-invited")}
			},
			inspect: inspectNoSecret},
		{method: "GET", path: "/practice/invitations", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/invitations", nil), inspect: inspectNoSecret},
		// Everyone signed in has their own preferences, and reaches no one else's.
		{method: "GET", path: "/me/notification-preferences", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/me/notification-preferences", nil)},
		{method: "PATCH", path: "/me/notification-preferences", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/me/notification-preferences", map[string]any{"digest_hour": 8})},
		// Staff read the practice's e-mail log (a coach only their own
		// clients'); everyone reads the e-mails sent to them, and no one else's.
		{method: "GET", path: "/practice/deliveries", want: statuses{401, 200, 200, 200, 200, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/deliveries", nil), shows: targetClient},
		{method: "GET", path: "/me/deliveries", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: fixed("/me/deliveries", nil)},
		// Public: the signed token decides whose mail it turns off, whoever sends it.
		{method: "POST", path: "/unsubscribe", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				tok, _ := fx.env.notify.UnsubscribeToken(uuid.MustParse(fx.aOtherCoachID), notify.KindWeeklySummary)
				return "/unsubscribe", map[string]string{"token": tok}
			}},
		{method: "POST", path: "/me/calendar-feed", want: statuses{401, 201, 201, 201, 201, 201, 201, 201}, therapists: noPracticeRole,
			call: fixed("/me/calendar-feed", nil),
			after: func(fx *authzFixture, who authzActor, r response) {
				if who == aCoach && r.Code == http.StatusCreated {
					// The coach's earlier feed is revoked: the feed rows below use the new one.
					var feed struct {
						URL string `json:"url"`
					}
					r.decode(fx.env.t, &feed)
					fx.feedPath = strings.TrimPrefix(feed.URL, fx.env.cfg.BaseURL)
					fx.markFeed(fx.feedPath)
				}
			}},

		// Webhooks are the owner's alone; the owner's call gets an endpoint of its own.
		{method: "GET", path: "/practice/webhooks", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/webhooks", nil), inspect: inspectNoWebhookSecret},
		{method: "POST", path: "/practice/webhooks", want: statuses{401, 201, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/webhooks", map[string]any{"url": matrixWebhookURL, "event_types": []string{"session.cancelled"}})},
		{method: "GET", path: "/practice/webhooks/{webhook_id}", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: matrixWebhookPath("", nil), inspect: inspectNoWebhookSecret},
		{method: "PATCH", path: "/practice/webhooks/{webhook_id}", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: matrixWebhookPath("", map[string]any{"enabled": false})},
		{method: "DELETE", path: "/practice/webhooks/{webhook_id}", want: statuses{401, 204, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: matrixWebhookPath("", nil)},
		{method: "GET", path: "/practice/webhooks/{webhook_id}/deliveries", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: matrixWebhookPath("/deliveries", nil)},
		{method: "POST", path: "/practice/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
			want: statuses{401, 202, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: func(fx *authzFixture, who authzActor) (string, any) {
				webhookID, deliveryID := matrixDelivery(fx, who)
				return "/practice/webhooks/" + webhookID + "/deliveries/" + deliveryID + "/replay", nil
			}},

		{method: "GET", path: "/clients", want: statuses{401, 200, 200, 200, 200, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/clients", nil), shows: targetClient},
		{method: "POST", path: "/clients", want: statuses{401, 201, 201, 201, 201, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/clients", map[string]string{"name": "Walk-in client"})},
		{method: "GET", path: "/clients/{client_id}", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/clients/%s", targetClient, nil),
			shows: targetClient},
		{method: "PATCH", path: "/clients/{client_id}", want: statuses{401, 200, 200, 404, 404, 403, 403, 403}, therapists: noPracticeRole,
			call: at("/clients/%s", targetClient, map[string]string{"phone": "+49 30 5550100"})},
		{method: "DELETE", path: "/clients/{client_id}", want: statuses{401, 204, 204, 404, 404, 403, 403, 403}, therapists: noPracticeRole,
			call: at("/clients/%s", targetClient, nil),
			after: func(fx *authzFixture, _ authzActor, r response) {
				if r.Code == http.StatusNoContent {
					fx.restoreTarget()
				}
			}},
		{method: "POST", path: "/clients/{client_id}/invitation", want: statuses{401, 201, 201, 404, 404, 403, 403, 403}, therapists: noPracticeRole,
			call: at("/clients/%s/invitation", inviteeClient, nil), inspect: inspectNoSecret},
		{method: "GET", path: "/clients/{client_id}/invitation", want: statuses{401, 200, 200, 404, 404, 403, 403, 403}, therapists: noPracticeRole,
			call: at("/clients/%s/invitation", targetClient, nil), shows: func(fx *authzFixture) string { return *fx.a.clientRec.Email },
			inspect: func(t *testing.T, fx *authzFixture, who authzActor, r response) {
				inspectNoSecret(t, fx, who, r)
				var inv struct {
					Status string `json:"status"`
				}
				if r.decode(t, &inv); inv.Status != "accepted" {
					t.Errorf("GET /clients/{client_id}/invitation as %s: status %q, want accepted: %s", who, inv.Status, r.Body)
				}
			}},

		{method: "GET", path: "/clients/{client_id}/goals", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/clients/%s/goals", targetClient, nil),
			shows: targetGoal},
		{method: "POST", path: "/clients/{client_id}/goals", want: statuses{401, 201, 201, 404, 404, 201, 404, 404}, therapists: noPracticeRole,
			call: at("/clients/%s/goals", targetClient, map[string]string{"title": "Read twelve books", "why": "Curiosity"})},
		{method: "GET", path: "/goals/{goal_id}", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/goals/%s", targetGoal, nil),
			shows: targetGoal},
		{method: "PATCH", path: "/goals/{goal_id}", want: statuses{401, 200, 200, 404, 404, 403, 404, 404}, therapists: noPracticeRole,
			call: at("/goals/%s", targetGoal, map[string]string{"description": descriptionText})},
		{method: "DELETE", path: "/goals/{goal_id}", want: statuses{401, 204, 204, 404, 404, 403, 404, 404}, therapists: noPracticeRole,
			call: at("/goals/%s", (*authzFixture).freshGoal, nil)},
		{method: "POST", path: "/goals/{goal_id}/progress", want: statuses{401, 201, 201, 404, 404, 201, 404, 404}, therapists: noPracticeRole,
			call: at("/goals/%s/progress", targetGoal, map[string]any{"value": 10})},
		// Whoever reads the goal reads its entries, notes included; a
		// therapist sees progress only as the shared view's share.
		{method: "GET", path: "/goals/{goal_id}/progress", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/goals/%s/progress", targetGoal, nil),
			shows: func(*authzFixture) string { return progressNoteText }},
		{method: "GET", path: "/goals/{goal_id}/action-steps", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/goals/%s/action-steps", targetGoal, nil),
			shows: targetStep},
		{method: "POST", path: "/goals/{goal_id}/action-steps", want: statuses{401, 201, 201, 404, 404, 201, 404, 404}, therapists: noPracticeRole,
			call: at("/goals/%s/action-steps", targetGoal, map[string]string{"title": "Buy running shoes"})},
		{method: "GET", path: "/clients/{client_id}/action-steps", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/clients/%s/action-steps", targetClient, nil),
			shows: targetStep},
		{method: "GET", path: "/action-steps/{step_id}", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/action-steps/%s", targetStep, nil),
			shows: targetStep},
		{method: "PATCH", path: "/action-steps/{step_id}", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call: at("/action-steps/%s", targetStep, map[string]string{"details": detailsText})},
		{method: "DELETE", path: "/action-steps/{step_id}", want: statuses{401, 204, 204, 404, 404, 403, 404, 404}, therapists: noPracticeRole,
			call: at("/action-steps/%s", (*authzFixture).freshStep, nil)},
		{method: "POST", path: "/action-steps/{step_id}/complete", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call: at("/action-steps/%s/complete", (*authzFixture).freshStep, map[string]string{"note": reflectionText})},
		{method: "POST", path: "/action-steps/{step_id}/reopen", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call: at("/action-steps/%s/reopen", (*authzFixture).freshDoneStep, nil)},

		{method: "GET", path: "/clients/{client_id}/sessions", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/clients/%s/sessions", targetClient, nil),
			shows: targetSession},
		{method: "POST", path: "/clients/{client_id}/sessions", want: statuses{401, 201, 201, 404, 404, 403, 403, 403}, therapists: noPracticeRole,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/clients/" + fx.a.clientRec.ID + "/sessions", map[string]any{"starts_at": fx.slot(), "duration_minutes": 45}
			}},
		{method: "GET", path: "/sessions", want: statuses{401, 200, 200, 200, 200, 200, 200, 200}, therapists: noPracticeRole,
			call: fixed("/sessions", nil), shows: targetSession},
		{method: "GET", path: "/sessions/{session_id}", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call:  at("/sessions/%s", targetSession, nil),
			shows: targetSession},
		{method: "PATCH", path: "/sessions/{session_id}", want: statuses{401, 200, 200, 404, 404, 403, 403, 403}, therapists: noPracticeRole,
			call: at("/sessions/%s", targetSession, map[string]string{"agenda": agendaText + " and rest days"})},
		{method: "GET", path: "/sessions/{session_id}/private-note", want: statuses{401, 200, 200, 404, 404, 403, 404, 404}, therapists: noPracticeRole,
			call:  at("/sessions/%s/private-note", targetSession, nil),
			shows: func(fx *authzFixture) string { return fx.noteText }},
		{method: "PUT", path: "/sessions/{session_id}/private-note", want: statuses{401, 200, 200, 404, 404, 403, 404, 404}, therapists: noPracticeRole,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/sessions/" + fx.session.ID + "/private-note", map[string]string{"body": fx.noteText}
			}},
		{method: "GET", path: "/calendar/{feed}", note: "A-coach's feed", want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return strings.TrimPrefix(fx.feedPath, "/api/v1"), nil
			},
			credentialInPath: true},
		{method: "GET", path: "/calendar/{feed}", note: "unknown feed", want: statuses{404, 404, 404, 404, 404, 404, 404, 404}, therapists: every(404),
			call: fixed("/calendar/"+strings.Repeat("A", 43)+".ics", nil)},
		{method: "GET", path: "/dashboard", want: statuses{401, 200, 200, 200, 200, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/dashboard", nil), shows: targetClient},
		// Billing is off in this service (no Stripe key): the owner gets
		// 404 billing_disabled; the rule refuses everyone else first.
		// TestBillingIsOwnerOnly runs the same rule with billing on.
		{method: "GET", path: "/billing/plans", want: statuses{401, 404, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/billing/plans", nil)},
		{method: "GET", path: "/billing/subscription", want: statuses{401, 404, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/billing/subscription", nil)},
		{method: "POST", path: "/billing/checkout-session", want: statuses{401, 404, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/billing/checkout-session", map[string]string{"plan_id": "solo"})},
		{method: "POST", path: "/billing/portal-session", want: statuses{401, 404, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/billing/portal-session", nil)},
		// Stripe's webhook takes no credentials but its signature, and
		// answers 404 billing_disabled to everyone while billing is off.
		{method: "POST", path: "/webhooks/stripe", want: statuses{404, 404, 404, 404, 404, 404, 404, 404}, therapists: every(404),
			headers: map[string]string{"Stripe-Signature": "t=1,v1=00"}, notFoundType: "billing_disabled",
			call: fixed("/webhooks/stripe", map[string]any{"id": "evt_matrix", "type": "invoice.paid", "created": 1})},
	}, append(consentRows(), privacyRows()...)...)
}

// inspectNoSecret checks that a response carries no e-mailed link: the
// links go only to the mailbox of the person they are for.
func inspectNoSecret(t *testing.T, _ *authzFixture, who authzActor, r response) {
	t.Helper()
	if bytes.Contains(r.Body, []byte("token")) || bytes.Contains(r.Body, []byte("accept_url")) {
		t.Errorf("a response to %s carries a link or token: %s", who, r.Body)
	}
}

// inspectOwnSessions checks that the list holds the caller's session, marked current, once.
func inspectOwnSessions(t *testing.T, _ *authzFixture, who authzActor, r response) {
	t.Helper()
	var list struct {
		Items []struct {
			Current bool `json:"current"`
		} `json:"items"`
	}
	r.decode(t, &list)
	current := 0
	for _, s := range list.Items {
		if s.Current {
			current++
		}
	}
	if current != 1 {
		t.Errorf("GET /me/sessions as %s: %d current sessions, want 1: %s", who, current, r.Body)
	}
}

// TestAuthzMatrixCoversEveryOperation fails for an operation of the spec
// without a matrix row, for a row of no operation, for a row without a
// status for every actor, and for a row whose statuses contradict the
// operation's declared x-tandem-auth rule.
func TestAuthzMatrixCoversEveryOperation(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]string{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			rules[method+" "+path] = fmt.Sprint(op.Extensions["x-tandem-auth"])
		}
	}
	covered := map[string]bool{}
	for _, row := range authzMatrix() {
		key := row.method + " " + row.path
		covered[key] = true
		rule, ok := rules[key]
		if !ok {
			t.Errorf("%s: no such operation in the spec", row.name())
			continue
		}
		checkRowAgainstRule(t, row, rule)
	}
	var missing []string
	for key := range rules {
		if !covered[key] {
			missing = append(missing, key)
		}
	}
	sort.Strings(missing)
	for _, key := range missing {
		t.Errorf("%s has no row in the authorization matrix", key)
	}
}

// checkRowAgainstRule checks the statuses the route-level rule decides alone,
// and that the row expects a status of every actor.
func checkRowAgainstRule(t *testing.T, row matrixRow, rule string) {
	t.Helper()
	for who := range actorCount {
		if row.expect(who) == 0 {
			t.Errorf("%s: no status for %s", row.name(), who)
		}
	}
	if public := rule == "public"; public != (row.want[anonymous] != http.StatusUnauthorized) {
		t.Errorf("%s: rule %s but anonymous expects %d", row.name(), rule, row.want[anonymous])
	}
	for who := anonymous + 1; who < actorCount; who++ {
		want := row.expect(who)
		// A therapist holds no role in any practice.
		forbidden := (rule == "staff" && (who.isClient() || who.isTherapist())) || (rule == "owner" && who != aOwner) ||
			(rule == "member" && who.isTherapist())
		if forbidden && want != http.StatusForbidden {
			t.Errorf("%s: rule %s but %s expects %d, not 403", row.name(), rule, who, want)
		}
		if want == http.StatusUnauthorized {
			t.Errorf("%s: %s is signed in but expects 401", row.name(), who)
		}
	}
	if (row.consentDecides || row.discloses) && rule != "authenticated" {
		t.Errorf("%s: a consent decides the row, but its rule %s turns therapists away first", row.name(), rule)
	}
}

// TestAuthzMatrix runs every operation with every actor and checks the
// status; that no success of an actor who may not see the target client
// carries any of the target's identifiers or texts, and no success of a
// therapist any text their consents do not share with them; that a
// therapist's refusal names its reason; that exactly a therapist's
// successful read of client data writes a disclosure; and that a refused
// write leaves the database as it was.
func TestAuthzMatrix(t *testing.T) {
	t.Parallel()
	env := newEnv(t, authzLimits)
	fx := newAuthzFixture(env)
	fx.addTherapists()
	rows := authzMatrix()
	for _, row := range rows {
		for who := range actorCount {
			fx.runMatrixCell(t, row, who)
		}
	}
	t.Logf("authorization matrix: %d rows × %d actors = %d requests", len(rows), actorCount, len(rows)*int(actorCount))
}

// runMatrixCell runs one operation as one actor and checks the outcome.
func (fx *authzFixture) runMatrixCell(t *testing.T, row matrixRow, who authzActor) {
	t.Helper()
	env := fx.env
	path, body := row.call(fx, who)
	want := row.expect(who)
	refused := want >= 400
	var before map[string]any
	if refused && row.method != http.MethodGet {
		before = fx.dbState()
	}
	// Count disclosures around every therapist request that passes the
	// route's rule (one it refuses reaches no handler) and every request of
	// a row that discloses.
	countDisclosures := row.discloses || (who.isTherapist() && row.therapists != noPracticeRole)
	var disclosed int64
	if countDisclosures {
		disclosed = env.rowCount("disclosures")
	}
	r := env.do(request{method: row.method, path: "/api/v1" + path, body: body, token: fx.token(who), headers: row.headers})
	if row.after != nil {
		row.after(fx, who, r)
	}
	if r.Code != want {
		t.Errorf("%s as %s: status %d, want %d; body %s", row.name(), who, r.Code, want, r.Body)
		return
	}
	if countDisclosures {
		wantNew := int64(0)
		if row.discloses && who.isTherapist() && !refused {
			wantNew = 1
		}
		if n := env.rowCount("disclosures") - disclosed; n != wantNew {
			t.Errorf("%s as %s: %d disclosures written, want %d", row.name(), who, n, wantNew)
		}
	}
	if !refused {
		fx.checkSuccess(t, row, who, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s as %s: %d with Content-Type %q, want a problem document", row.name(), who, r.Code, ct)
	}
	if who.isTherapist() {
		fx.checkTherapistRefusal(t, row, who, r)
	}
	if before != nil {
		expectUnchanged(t, row.name()+" as "+who.String(), before, fx.dbState())
	}
}

// checkSuccess checks a 2xx response of who: it holds no mark of the target
// client unless who may see them, never the private note unless who may
// read it, and, for a row with shows, the mark that proves the search works.
// A therapist's holds no marked text their consents do not share with them.
func (fx *authzFixture) checkSuccess(t *testing.T, row matrixRow, who authzActor, r response) {
	t.Helper()
	if row.inspect != nil {
		row.inspect(t, fx, who, r)
	}
	if who.isTherapist() {
		if !row.credentialInPath {
			fx.checkTherapistReads(t, row.name()+" as "+who.String(), who, r.Body)
		}
		return
	}
	if !who.seesTarget() && !row.credentialInPath {
		for _, mark := range fx.targetMarks {
			if bytes.Contains(r.Body, []byte(mark)) {
				t.Errorf("%s as %s: the response leaks the target's %q: %s", row.name(), who, mark, r.Body)
			}
		}
	}
	if !who.seesPrivateNote() && bytes.Contains(r.Body, []byte(fx.noteText)) {
		t.Errorf("%s as %s: the response leaks the private note: %s", row.name(), who, r.Body)
	}
	if row.shows != nil && who.seesTarget() {
		if mark := row.shows(fx); !bytes.Contains(r.Body, []byte(mark)) {
			t.Errorf("%s as %s: the response lacks %q, which it should show: %s", row.name(), who, mark, r.Body)
		}
	}
}

// massProbe is one body that tries to set a field the API does not let the
// caller set.
type massProbe struct {
	field string
	value any
}

// dbRow reads one row of table as column → value, every column included.
func (env *testEnv) dbRow(table, id string) map[string]any {
	env.t.Helper()
	rows, err := env.store.DB.Table(table).Where("id = ?", id).Rows()
	if err != nil {
		env.t.Fatalf("read %s %s: %v", table, id, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		env.t.Fatal(err)
	}
	if !rows.Next() {
		env.t.Fatalf("read %s %s: no such row (%v)", table, id, rows.Err())
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		env.t.Fatalf("read %s %s: %v", table, id, err)
	}
	row := make(map[string]any, len(cols))
	for i, col := range cols {
		if b, ok := vals[i].([]byte); ok {
			vals[i] = bytes.Clone(b) // the driver may reuse its buffer
		}
		row[col] = vals[i]
	}
	return row
}

// ownerColumn is the column that ties a row to its client or coach.
var ownerColumn = map[string]string{"clients": "coach_id", "goals": "client_id", "action_steps": "client_id", "coaching_sessions": "client_id"}

// TestAuthzMassAssignment sends valid bodies with one extra field each —
// an owner, tenant or timestamp the server sets, or an unknown field — and
// checks the request is refused and the database unchanged: no row created,
// and the target row's practice_id, client_id, coach_id and created_at (in
// fact every column) as before.
func TestAuthzMassAssignment(t *testing.T) {
	t.Parallel()
	env := newEnv(t, authzLimits)
	fx := newAuthzFixture(env)

	owned := []massProbe{
		{"practice_id", fx.bPracticeID},
		{"client_id", fx.a.otherRec.ID},
		{"created_at", "2020-01-01T00:00:00Z"},
		{"updated_at", "2020-01-01T00:00:00Z"},
		{"id", uuid.Must(uuid.NewV7()).String()},
		{"version", 99},
		{"created_by", fx.aOtherCoachID},
		{"user_id", fx.aOtherCoachID},
		{"is_admin", true},
	}
	coachProbe := massProbe{"coach_id", fx.aOtherCoachID}
	with := func(extra ...massProbe) []massProbe { return append(append([]massProbe{}, owned...), extra...) }

	target := fx.a.clientRec.ID
	for _, tt := range []struct {
		name, method, path, table, rowID string
		base                             map[string]any
		probes                           []massProbe
		actors                           []authzActor
	}{
		{"create client", "POST", "/clients", "clients", "", map[string]any{"name": "Probe"},
			with(massProbe{"status", "archived"}, massProbe{"portal", "active"}), []authzActor{aOwner, aCoach}},
		{"update client", "PATCH", "/clients/" + target, "clients", target, map[string]any{"name": "Probe"},
			with(massProbe{"status", "archived"}, massProbe{"portal", "active"}, massProbe{"archived_at", "2020-01-01T00:00:00Z"}), []authzActor{aOwner, aCoach}},
		{"create goal", "POST", "/clients/" + target + "/goals", "goals", "", map[string]any{"title": "Probe", "why": "Probe"},
			with(coachProbe, massProbe{"status", "done"}), []authzActor{aCoach, aClient}},
		{"update goal", "PATCH", "/goals/" + fx.goal.ID, "goals", fx.goal.ID, map[string]any{"title": "Probe"},
			with(coachProbe, massProbe{"status", "done"}), []authzActor{aCoach, aClient}},
		{"create step", "POST", "/goals/" + fx.goal.ID + "/action-steps", "action_steps", "", map[string]any{"title": "Probe"},
			with(coachProbe, massProbe{"status", "done"}, massProbe{"goal_id", fx.goal.ID}, massProbe{"completed_at", "2020-01-01T00:00:00Z"}),
			[]authzActor{aCoach, aClient}},
		{"update step", "PATCH", "/action-steps/" + fx.step.ID, "action_steps", fx.step.ID, map[string]any{"title": "Probe"},
			with(coachProbe, massProbe{"status", "done"}, massProbe{"goal_id", fx.freshGoal()}, massProbe{"completed_at", "2020-01-01T00:00:00Z"},
				massProbe{"reflection", "planted"}), []authzActor{aCoach, aClient}},
		{"schedule session", "POST", "/clients/" + target + "/sessions", "coaching_sessions", "",
			map[string]any{"starts_at": fx.slot(), "duration_minutes": 30},
			with(coachProbe, massProbe{"status", "completed"}, massProbe{"summary", "planted"}, massProbe{"ends_at", "2020-01-01T00:00:00Z"},
				massProbe{"private_note", "planted"}), []authzActor{aOwner, aCoach}},
		{"update session", "PATCH", "/sessions/" + fx.session.ID, "coaching_sessions", fx.session.ID, map[string]any{"agenda": "Probe"},
			with(coachProbe, massProbe{"ends_at", "2020-01-01T00:00:00Z"}, massProbe{"private_note", "planted"}), []authzActor{aOwner, aCoach}},
	} {
		var before map[string]any
		if tt.rowID != "" {
			before = env.dbRow(tt.table, tt.rowID)
			// The columns a probe aims at are among those compared.
			for _, col := range []string{"practice_id", "created_at", ownerColumn[tt.table]} {
				if _, ok := before[col]; !ok {
					t.Fatalf("%s: %s has no column %s", tt.name, tt.table, col)
				}
			}
		}
		count := env.rowCount(tt.table)
		for _, who := range tt.actors {
			for _, p := range tt.probes {
				body := clone(tt.base)
				body[p.field] = p.value
				name := fmt.Sprintf("%s as %s with %s", tt.name, who, p.field)
				r := env.do(request{method: tt.method, path: "/api/v1" + tt.path, body: body, token: fx.token(who)})
				if r.Code != http.StatusBadRequest {
					t.Errorf("%s: status %d, want 400; body %s", name, r.Code, r.Body)
				}
				if n := env.rowCount(tt.table); n != count {
					t.Errorf("%s: %s has %d rows, had %d", name, tt.table, n, count)
					count = n
				}
				if tt.rowID != "" {
					expectUnchanged(t, name, before, env.dbRow(tt.table, tt.rowID))
				}
			}
		}
	}
}

// TestAuthzMassAssignmentOfTheCoach checks that only the owner assigns a
// client's coach, and only a member of the practice: a coach's attempt is
// 403 and another practice's coach 400, with nothing changed.
func TestAuthzMassAssignmentOfTheCoach(t *testing.T) {
	t.Parallel()
	env := newEnv(t, authzLimits)
	fx := newAuthzFixture(env)
	target := fx.a.clientRec.ID
	bCoachID := env.userIDOf(fx.b.coach.AccessToken)
	before, clientsBefore := env.dbRow("clients", target), env.rowCount("clients")

	for _, tt := range []struct {
		name   string
		method string
		path   string
		who    authzActor
		body   map[string]any
		want   int
	}{
		{"a coach reassigns their client", "PATCH", "/clients/" + target, aCoach, map[string]any{"coach_id": fx.aOtherCoachID}, 403},
		{"a coach hands their client to another practice", "PATCH", "/clients/" + target, aCoach, map[string]any{"coach_id": bCoachID}, 403},
		{"a coach assigns a new client to a colleague", "POST", "/clients", aCoach, map[string]any{"name": "Probe", "coach_id": fx.aOtherCoachID}, 403},
		{"the owner assigns another practice's coach", "PATCH", "/clients/" + target, aOwner, map[string]any{"coach_id": bCoachID}, 400},
		{"the owner assigns a new client to another practice's coach", "POST", "/clients", aOwner, map[string]any{"name": "Probe", "coach_id": bCoachID}, 400},
		{"the owner assigns a client's portal account as coach", "PATCH", "/clients/" + target, aOwner,
			map[string]any{"coach_id": env.userIDOf(fx.a.client.AccessToken)}, 400},
		{"a coach archives by PATCH", "PATCH", "/clients/" + target, aCoach, map[string]any{"status": "archived"}, 400},
		{"the owner archives by PATCH", "PATCH", "/clients/" + target, aOwner, map[string]any{"status": "archived"}, 400},
		// A client the caller may not see is 404 whatever the body asks.
		{"another coach of the practice reassigns", "PATCH", "/clients/" + target, aOtherCoach, map[string]any{"coach_id": fx.aOtherCoachID}, 404},
		{"another practice's coach reassigns", "PATCH", "/clients/" + target, bCoach, map[string]any{"coach_id": bCoachID}, 404},
	} {
		r := env.do(request{method: tt.method, path: "/api/v1" + tt.path, body: tt.body, token: fx.token(tt.who)})
		if r.Code != tt.want {
			t.Errorf("%s: status %d, want %d; body %s", tt.name, r.Code, tt.want, r.Body)
		}
	}
	if n := env.rowCount("clients"); n != clientsBefore {
		t.Errorf("clients has %d rows after the probes, had %d", n, clientsBefore)
	}
	expectUnchanged(t, "the target client", before, env.dbRow("clients", target))
}

// expectUnchanged reports every entry of a row (or a database state) that
// changed.
func expectUnchanged(t *testing.T, name string, before, after map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !reflect.DeepEqual(before[k], after[k]) {
			t.Errorf("%s: %s changed from %v to %v", name, k, before[k], after[k])
		}
	}
}
