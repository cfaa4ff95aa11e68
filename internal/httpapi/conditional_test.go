package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-coach/tandem/api"
)

// versionedFixture is one practice with one of each versioned record.
type versionedFixture struct {
	f                   practiceFixture
	goal, step, session string // IDs
	spare, doomed       string // a second step and a second goal, for deleting
	webhook, oldWebhook string // webhook endpoints, the second for deleting
}

func newVersionedFixture(env *testEnv) versionedFixture {
	env.t.Helper()
	vf := versionedFixture{f: env.practice("v")}
	coach := vf.f.coach.AccessToken
	vf.goal = env.createGoal(coach, vf.f.clientRec.ID, map[string]any{"title": "Sleep well", "why": "To think clearly"}).ID
	vf.step = env.createStep(coach, vf.goal, map[string]any{"title": "Lights out at eleven", "due_date": "2026-03-02"}).ID
	vf.spare = env.createStep(coach, vf.goal, map[string]any{"title": "No screens in bed"}).ID
	vf.doomed = env.createGoal(coach, vf.f.clientRec.ID, map[string]any{"title": "Run daily", "why": "Energy"}).ID
	s, _ := env.scheduleSession(coach, vf.f.clientRec.ID, map[string]any{"starts_at": env.sessionSlot(3, 9, 0, nil), "duration_minutes": 50})
	vf.session = s.ID
	vf.webhook = env.createWebhook(vf.f.owner.AccessToken, "http://127.0.0.1:9/hook", "client.created").ID
	vf.oldWebhook = env.createWebhook(vf.f.owner.AccessToken, "http://127.0.0.1:9/old", "client.created").ID
	return vf
}

// versionedChange is a change to a versioned record, and the token of
// someone allowed to make it. Each record is read back at path.
type versionedChange struct {
	method, path, token string
	body                any
}

func (vf versionedFixture) changes() map[string]versionedChange {
	coach, owner := vf.f.coach.AccessToken, vf.f.owner.AccessToken
	return map[string]versionedChange{
		"updatePractice":   {"PATCH", "/api/v1/practice", owner, map[string]any{"name": "Renamed"}},
		"updateClient":     {"PATCH", "/api/v1/clients/" + vf.f.clientRec.ID, coach, map[string]any{"phone": "+49 30 1234567"}},
		"archiveClient":    {"DELETE", "/api/v1/clients/" + vf.f.otherRec.ID, coach, nil},
		"updateGoal":       {"PATCH", "/api/v1/goals/" + vf.goal, coach, map[string]any{"title": "Sleep deeply"}},
		"deleteGoal":       {"DELETE", "/api/v1/goals/" + vf.doomed, coach, nil},
		"updateActionStep": {"PATCH", "/api/v1/action-steps/" + vf.step, coach, map[string]any{"title": "Lights out at half past ten"}},
		"deleteActionStep": {"DELETE", "/api/v1/action-steps/" + vf.spare, coach, nil},
		"updateSession":    {"PATCH", "/api/v1/sessions/" + vf.session, coach, map[string]any{"agenda": "Evening routine"}},
		"updateWebhook":    {"PATCH", "/api/v1/practice/webhooks/" + vf.webhook, owner, map[string]any{"description": "CRM"}},
		"deleteWebhook":    {"DELETE", "/api/v1/practice/webhooks/" + vf.oldWebhook, owner, nil},
		"updateNotificationPreferences": {"PATCH", "/api/v1/me/notification-preferences", coach,
			map[string]any{"digest_hour": 6}},
		"updateRetention": {"PATCH", "/api/v1/practice/retention", owner, map[string]any{"log_years": 10}},
	}
}

// requiredIfMatchOperations lists the operations whose spec requires If-Match.
func requiredIfMatchOperations(t *testing.T) []string {
	t.Helper()
	doc, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				if p.Value.In == "header" && p.Value.Name == "If-Match" && p.Value.Required {
					ids = append(ids, strings.ToLower(op.OperationID[:1])+op.OperationID[1:])
				}
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// TestIfMatchRequired: every change to a versioned record without If-Match
// is refused with 428 and changes nothing; the spec's list of such
// operations and this test's agree, so a new one cannot go untested.
func TestIfMatchRequired(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	vf := newVersionedFixture(env)
	changes := vf.changes()

	var tested []string
	for id := range changes {
		tested = append(tested, id)
	}
	slices.Sort(tested)
	if declared := requiredIfMatchOperations(t); !slices.Equal(declared, tested) {
		t.Fatalf("operations requiring If-Match: spec %v, tested %v", declared, tested)
	}

	for _, id := range tested {
		c := changes[id]
		before := env.do(request{method: "GET", path: c.path, token: c.token}).want(t, http.StatusOK)
		p := env.do(request{method: c.method, path: c.path, token: c.token, body: c.body,
			headers: map[string]string{"If-Match": ""}}).problem(t, http.StatusPreconditionRequired)
		if p.Type != "https://tandem.invalid/problems/precondition_required" || !strings.Contains(p.Detail, "If-Match") {
			t.Errorf("%s without If-Match: %+v", id, p)
		}
		after := env.do(request{method: "GET", path: c.path, token: c.token}).want(t, http.StatusOK)
		if after.Header.Get("ETag") != before.Header.Get("ETag") || string(after.Body) != string(before.Body) {
			t.Errorf("%s without If-Match changed the record: %s -> %s", id, before.Body, after.Body)
		}
	}

	// Authentication and visibility come first: no 428 tells a stranger
	// that a record exists.
	c := changes["updateGoal"]
	env.do(request{method: c.method, path: c.path, body: c.body, headers: map[string]string{"If-Match": ""}}).
		problem(t, http.StatusUnauthorized)
}

// TestIfMatchGuardsEveryChange: a change based on the current ETag succeeds
// and returns the next one; based on an older one, or a weak one, it is
// refused with 412 and changes nothing; * changes whatever is current.
func TestIfMatchGuardsEveryChange(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	vf := newVersionedFixture(env)

	for id, c := range vf.changes() {
		t.Run(id, func(t *testing.T) {
			read := func() response {
				return env.do(request{method: "GET", path: c.path, token: c.token}).want(t, http.StatusOK)
			}
			change := func(ifMatch string) response {
				return env.do(request{method: c.method, path: c.path, token: c.token, body: c.body,
					headers: map[string]string{"If-Match": ifMatch}})
			}
			first := read()
			old := first.Header.Get("ETag")
			if !strings.HasPrefix(old, `"`) || !strings.HasSuffix(old, `"`) {
				t.Fatalf("ETag %q is not a strong entity tag", old)
			}
			if c.method == "PATCH" {
				// Move the record on, so that old is stale.
				changed := change(old).want(t, http.StatusOK)
				if next := changed.Header.Get("ETag"); next == old || next != read().Header.Get("ETag") {
					t.Fatalf("ETag after the change = %q, read back %q, before %q", next, read().Header.Get("ETag"), old)
				}
			} else {
				old = `"999"`
			}
			current := read()
			for _, stale := range []string{old, "W/" + current.Header.Get("ETag"), "garbage"} {
				p := change(stale).problem(t, http.StatusPreconditionFailed)
				if p.Type != "https://tandem.invalid/problems/precondition_failed" {
					t.Fatalf("If-Match %s: type %q", stale, p.Type)
				}
				if got := read(); string(got.Body) != string(current.Body) {
					t.Fatalf("a change with If-Match %s changed the record: %s", stale, got.Body)
				}
			}
			want := http.StatusOK
			if c.method == "DELETE" {
				want = http.StatusNoContent
			}
			// A list naming the current tag matches.
			change(`"1-unknown", `+current.Header.Get("ETag")).want(t, want)
			if c.method == "PATCH" {
				change("*").want(t, http.StatusOK)
			}
		})
	}
}

// TestGoalETagFollowsProgress: a goal's progress changes with its steps,
// not its own row, and its ETag follows: a reader's copy is never called
// current when the progress shown has changed, and an edit decided on the
// old progress is refused.
func TestGoalETagFollowsProgress(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	vf := newVersionedFixture(env)
	coach := vf.f.coach.AccessToken
	path := "/api/v1/goals/" + vf.goal

	before := env.do(request{method: "GET", path: path, token: coach}).want(t, http.StatusOK)
	tag := before.Header.Get("ETag")
	env.completeStep(vf.f.client.AccessToken, vf.step, map[string]any{"note": "Slept at last"})

	after := env.do(request{method: "GET", path: path, token: coach, headers: map[string]string{"If-None-Match": tag}}).
		want(t, http.StatusOK)
	var g goalDoc
	after.decode(t, &g)
	if g.ProgressPercent == 0 || after.Header.Get("ETag") == tag {
		t.Fatalf("after a step was done: progress %v, ETag %q (was %q)", g.ProgressPercent, after.Header.Get("ETag"), tag)
	}
	env.do(request{method: "GET", path: path, token: coach, headers: map[string]string{"If-None-Match": after.Header.Get("ETag")}}).
		want(t, http.StatusNotModified)
	env.do(request{method: "PATCH", path: path, token: coach, body: map[string]any{"title": "Sleep deeply"},
		headers: map[string]string{"If-Match": tag}}).problem(t, http.StatusPreconditionFailed)
	env.do(request{method: "PATCH", path: path, token: coach, body: map[string]any{"title": "Sleep deeply"},
		headers: map[string]string{"If-Match": after.Header.Get("ETag")}}).want(t, http.StatusOK)
}

// TestConditionalReads: every successful read carries an ETag; sending it
// back in If-None-Match gets 304 without a body until the answer changes.
func TestConditionalReads(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	vf := newVersionedFixture(env)
	coach := vf.f.coach.AccessToken
	get := func(method, path, inm string) response {
		h := map[string]string{}
		if inm != "" {
			h["If-None-Match"] = inm
		}
		return env.do(request{method: method, path: path, token: coach, headers: h})
	}

	for _, path := range []string{"/api/v1/clients", "/api/v1/clients/" + vf.f.clientRec.ID, "/api/v1/dashboard",
		"/api/v1/goals/" + vf.goal + "/action-steps", "/api/v1/me", "/api/v1/sessions/" + vf.session} {
		full := get("GET", path, "").want(t, http.StatusOK)
		tag := full.Header.Get("ETag")
		if !strings.HasPrefix(tag, `"`) || len(full.Body) == 0 {
			t.Fatalf("GET %s: ETag %q, body %s", path, tag, full.Body)
		}
		for _, inm := range []string{tag, "W/" + tag, `"other", ` + tag, "*"} {
			nm := get("GET", path, inm).want(t, http.StatusNotModified)
			if len(nm.Body) != 0 || nm.Header.Get("ETag") != tag || nm.Header.Get("Content-Type") != "" {
				t.Fatalf("GET %s If-None-Match %s: ETag %q, Content-Type %q, body %q", path, inm,
					nm.Header.Get("ETag"), nm.Header.Get("Content-Type"), nm.Body)
			}
			if nm.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("304 Cache-Control = %q", nm.Header.Get("Cache-Control"))
			}
		}
		get("HEAD", path, tag).want(t, http.StatusNotModified)
		if again := get("GET", path, `"other"`).want(t, http.StatusOK); string(again.Body) != string(full.Body) {
			t.Fatalf("GET %s with a non-matching tag: %s, want %s", path, again.Body, full.Body)
		}
	}

	// A change shows: the old tag no longer matches.
	list := get("GET", "/api/v1/clients", "").want(t, http.StatusOK)
	env.createClient(coach, map[string]any{"name": "Dana"})
	if changed := get("GET", "/api/v1/clients", list.Header.Get("ETag")).want(t, http.StatusOK); changed.Header.Get("ETag") == list.Header.Get("ETag") {
		t.Fatal("the client list kept its ETag after a client was added")
	}
	// A refusal stays a refusal.
	get("GET", "/api/v1/clients/0190a6c4-5a3e-7b2c-9d1e-2f3a4b5c6d7e", "*").problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: "/api/v1/clients", headers: map[string]string{"If-None-Match": "*"}}).
		problem(t, http.StatusUnauthorized)
}

// TestNotModifiedStillDisclosed: a therapist's revalidated read is a view
// of the client's data like any other, so it is in the disclosure log.
func TestNotModifiedStillDisclosed(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "d")
	th := fx.therapist("tess")
	client := fx.p.clientRec.ID
	fx.consent(th, client, "active", "goals", "action_steps")

	count := func() int {
		var l struct {
			Items []any `json:"items"`
		}
		fx.disclosures(fx.p.client.AccessToken, client).want(t, http.StatusOK).decode(t, &l)
		return len(l.Items)
	}
	first := fx.sharedView(th.Tokens.AccessToken, client).want(t, http.StatusOK)
	n := count()
	env.do(request{method: "GET", path: "/api/v1/shared/clients/" + client, token: th.Tokens.AccessToken,
		headers: map[string]string{"If-None-Match": first.Header.Get("ETag")}}).want(t, http.StatusNotModified)
	if got := count(); got != n+1 {
		t.Fatalf("disclosures after a 304 read: %d, want %d", got, n+1)
	}
}

// TestCreatedLocation: a 201 names what it created in Location, and reading
// that URL gets it.
func TestCreatedLocation(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("l")
	coach := f.coach.AccessToken

	follow := func(created response, token string) {
		t.Helper()
		created.want(t, http.StatusCreated)
		loc := created.Header.Get("Location")
		if !strings.HasPrefix(loc, "/api/v1/") {
			t.Fatalf("Location = %q", loc)
		}
		read := env.do(request{method: "GET", path: loc, token: token}).want(t, http.StatusOK)
		var a, b struct {
			ID string `json:"id"`
		}
		created.decode(t, &a)
		read.decode(t, &b)
		if a.ID != "" && a.ID != b.ID {
			t.Fatalf("Location %s reads %s, created %s", loc, b.ID, a.ID)
		}
	}
	created := env.do(request{method: "POST", path: "/api/v1/clients", token: coach, body: map[string]any{"name": "Eve", "email": "eve@example.com"}})
	follow(created, coach)
	var eve clientDoc
	created.decode(t, &eve)
	follow(env.do(request{method: "POST", path: "/api/v1/clients/" + eve.ID + "/invitation", token: coach}), coach)
	accepted := env.accept(env.mailToken("eve@example.com"), map[string]string{"name": "Eve", "password": goodPassword})
	var tp tokenPair
	accepted.decode(t, &tp)
	follow(accepted, tp.AccessToken)

	goal := env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: coach,
		body: map[string]any{"title": "Speak up", "why": "My ideas matter"}})
	follow(goal, coach)
	var g goalDoc
	goal.decode(t, &g)
	follow(env.do(request{method: "POST", path: "/api/v1/goals/" + g.ID + "/action-steps", token: coach,
		body: map[string]any{"title": "One idea per meeting"}}), coach)
	follow(env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: coach,
		body: map[string]any{"starts_at": env.sessionSlot(2, 10, 0, nil), "duration_minutes": 45}}), coach)
	follow(env.postConsent(f.client.AccessToken, f.clientRec.ID, env.signedBody(f, "thea@example.com")), f.client.AccessToken)

	totp := env.do(request{method: "POST", path: "/api/v1/me/mfa/totp", token: coach}).want(t, http.StatusCreated)
	if loc := totp.Header.Get("Location"); loc != "/api/v1/me/mfa/totp" {
		t.Fatalf("TOTP enrolment Location = %q", loc)
	}
}
