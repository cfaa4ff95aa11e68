package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/ratelimit"
)

// The regression tests of issue 11's hostile values: each ran into a 500
// on PostgreSQL or SQLite before; every one is a 4xx now, or, for values
// stored before the bounds existed, a normal answer.

// TestMetricValuesAreBoundedAndProgressStaysFinite: a goal from -1e308 to
// 1e308 at 1e308 made its progress NaN, and every read of it — dashboard,
// goal list, the goal, the therapist's view — answered 500, the last one
// after writing its disclosure.
func TestMetricValuesAreBoundedAndProgressStaysFinite(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "b1")
	coach, client := fx.p.coach.AccessToken, fx.p.clientRec.ID
	goalsPath := "/api/v1/clients/" + client + "/goals"

	// The values of the finding are refused, each with its field.
	p := env.do(request{method: "POST", path: goalsPath, token: coach, body: map[string]any{
		"title": "Run", "why": "Health", "metric": map[string]any{"unit": "km", "baseline": -1e308, "target": 1e308}}}).
		problem(t, http.StatusBadRequest)
	if f := fieldNames(p); !f["metric.baseline"] || !f["metric.target"] {
		t.Fatalf("errors = %+v, want metric.baseline and metric.target", p.Errors)
	}

	// The bounds themselves are fine.
	g := env.createGoal(coach, client, map[string]any{"title": "Run", "why": "Health",
		"metric": map[string]any{"unit": "km", "baseline": -1e12, "target": 1e12}})
	progressPath := "/api/v1/goals/" + g.ID + "/progress"
	for _, v := range []float64{1e308, -1e308, 1e12 * 1.000001} {
		p := env.do(request{method: "POST", path: progressPath, token: coach, body: map[string]any{"value": v}}).
			problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "value") {
			t.Fatalf("progress %v: errors = %+v", v, p.Errors)
		}
	}
	env.do(request{method: "POST", path: progressPath, token: coach, body: map[string]any{"value": 1e12}}).
		want(t, http.StatusCreated)
	if got := env.getGoal(coach, g.ID).ProgressPercent; got != 100 {
		t.Fatalf("progress at the target = %v, want 100", got)
	}
	env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: coach,
		body: map[string]any{"metric": map[string]any{"unit": "km", "baseline": 0, "target": 2e12}}}).
		problem(t, http.StatusBadRequest)

	// A goal stored before the bounds, exactly as in the finding, reads
	// everywhere, at 100%.
	if err := env.store.DB.Exec("UPDATE goals SET metric_baseline = ?, metric_target = ? WHERE id = ?", -1e308, 1e308, g.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := env.store.DB.Exec("UPDATE goal_progress SET value = ? WHERE goal_id = ?", 1e308, g.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got := env.getGoal(coach, g.ID).ProgressPercent; got != 100 {
		t.Fatalf("progress of -1e308 to 1e308 at 1e308 = %v, want 100", got)
	}
	var list goalList
	env.do(request{method: "GET", path: goalsPath, token: fx.p.client.AccessToken}).want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ProgressPercent != 100 {
		t.Fatalf("goal list = %+v", list)
	}
	for _, who := range []tokenPair{fx.p.owner, fx.p.coach} {
		r := env.do(request{method: "GET", path: "/api/v1/dashboard", token: who.AccessToken}).want(t, http.StatusOK)
		if !strings.Contains(string(r.Body), `"progress_percent":100`) {
			t.Fatalf("dashboard: %s", r.Body)
		}
	}
	th := fx.therapist("Therapist Bounds")
	fx.consent(th, client, "active", "goals")
	before := env.rowCount("disclosures")
	r := fx.sharedView(th.Tokens.AccessToken, client).want(t, http.StatusOK)
	if !strings.Contains(string(r.Body), `"progress_percent":100`) {
		t.Fatalf("shared view: %s", r.Body)
	}
	if n := env.rowCount("disclosures"); n != before+1 {
		t.Fatalf("one therapist read wrote %d disclosures", n-before)
	}
}

// TestDatesOutOfRangeAreRefused: a date of year 0 answered 500 on
// PostgreSQL, which has no year 0. Every date is from 1900-01-01 to
// 2199-12-31, in the body, in a query and in a date-time.
func TestDatesOutOfRangeAreRefused(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("b2")
	coach, client := f.coach.AccessToken, f.clientRec.ID
	g := env.createGoal(coach, client, map[string]any{"title": "Read", "why": "Joy",
		"metric": map[string]any{"unit": "books", "baseline": 0, "target": 12}})
	s := env.createStep(coach, g.ID, map[string]any{"title": "Pick a book"})

	type call struct{ method, path, field string }
	calls := []call{
		{"POST", "/api/v1/clients/" + client + "/goals", "target_date"},
		{"PATCH", "/api/v1/goals/" + g.ID, "target_date"},
		{"POST", "/api/v1/goals/" + g.ID + "/action-steps", "due_date"},
		{"PATCH", "/api/v1/action-steps/" + s.ID, "due_date"},
		{"POST", "/api/v1/goals/" + g.ID + "/progress", "recorded_on"},
	}
	base := map[string]map[string]any{
		"target_date": {"title": "Later", "why": "Because"},
		"due_date":    {"title": "Step"},
		"recorded_on": {"value": 1},
	}
	for _, c := range calls {
		for _, bad := range []string{"0000-01-01", "0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31", "2026-02-30"} {
			body := with(clone(base[c.field]), c.field, bad)
			if c.method == "PATCH" {
				body = map[string]any{c.field: bad}
			}
			p := env.do(request{method: c.method, path: c.path, token: coach, body: body}).problem(t, http.StatusBadRequest)
			if !hasFieldError(p, c.field) {
				t.Fatalf("%s %s %s=%s: errors = %+v", c.method, c.path, c.field, bad, p.Errors)
			}
		}
	}
	for _, bad := range []string{"0000-01-01", "2200-01-01"} {
		p := env.do(request{method: "GET", path: "/api/v1/clients/" + client + "/action-steps?due_before=" + bad, token: coach}).
			problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "due_before") {
			t.Fatalf("due_before=%s: errors = %+v", bad, p.Errors)
		}
	}
	for _, bad := range []string{"0000-01-01T10:00:00Z", "2200-01-01T00:00:00Z", "2026-03-01T10:00:00.1234567891Z"} {
		p := env.do(request{method: "POST", path: "/api/v1/clients/" + client + "/sessions", token: coach,
			body: map[string]any{"starts_at": bad, "duration_minutes": 60}}).problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "starts_at") {
			t.Fatalf("starts_at=%s: errors = %+v", bad, p.Errors)
		}
		p = env.do(request{method: "GET", path: "/api/v1/sessions?from=" + url.QueryEscape(bad), token: coach}).
			problem(t, http.StatusBadRequest)
		if !hasFieldError(p, "from") {
			t.Fatalf("from=%s: errors = %+v", bad, p.Errors)
		}
	}

	// The first and the last day are fine.
	env.createGoal(coach, client, map[string]any{"title": "Far", "why": "Far", "target_date": "2199-12-31"})
	env.createStep(coach, g.ID, map[string]any{"title": "Old", "due_date": "1900-01-01"})
	env.do(request{method: "POST", path: "/api/v1/goals/" + g.ID + "/progress", token: coach,
		body: map[string]any{"value": 1, "recorded_on": "1900-01-01"}}).want(t, http.StatusCreated)
	env.listSteps(coach, "/api/v1/clients/"+client+"/action-steps?due_before=2199-12-31")
}

// TestRecurrenceEndsWithTheCalendar: completing a weekly step due
// 9999-12-31 answered 500 on SQLite — its next occurrence had no date. A
// recurring step whose next occurrence would fall after 2199-12-31 cannot
// be closed (409 to complete, 400 to skip), and nothing changes; one whose
// next occurrence is the last day rolls forward to it.
func TestRecurrenceEndsWithTheCalendar(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("b3")
	coach, client := f.coach.AccessToken, f.clientRec.ID
	g := env.createGoal(coach, client, map[string]any{"title": "Habit", "why": "Keep it"})

	weekly := env.createStep(coach, g.ID, map[string]any{"title": "Weekly", "due_date": "2199-12-31", "recurrence": "weekly"})
	p := env.do(request{method: "POST", path: "/api/v1/action-steps/" + weekly.ID + "/complete", token: coach}).
		problem(t, http.StatusConflict)
	if !strings.Contains(p.Detail, "2199-12-31") {
		t.Fatalf("detail = %q, want it to name the last date", p.Detail)
	}
	p = env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + weekly.ID, token: coach,
		body: map[string]any{"status": "skipped"}}).problem(t, http.StatusBadRequest)
	if !hasFieldError(p, "status") {
		t.Fatalf("skip: errors = %+v", p.Errors)
	}
	if s := env.getStep(coach, weekly.ID); s.Status != "open" || s.NextOccurrenceID != nil {
		t.Fatalf("a refused close changed the step: %+v", s)
	}

	daily := env.createStep(coach, g.ID, map[string]any{"title": "Daily", "due_date": "2199-12-30", "recurrence": "daily"})
	done := env.completeStep(coach, daily.ID, nil)
	if done.NextOccurrenceID == nil {
		t.Fatal("no next occurrence")
	}
	if next := env.getStep(coach, *done.NextOccurrenceID); next.DueDate == nil || *next.DueDate != "2199-12-31" {
		t.Fatalf("next occurrence = %+v", next)
	}

	// A step stored before the range existed, due on 9999-12-31.
	legacy := env.createStep(coach, g.ID, map[string]any{"title": "Legacy", "due_date": "2026-03-02", "recurrence": "weekly"})
	if err := env.store.DB.Exec("UPDATE action_steps SET due_date = ? WHERE id = ?", "9999-12-31", legacy.ID).Error; err != nil {
		t.Fatal(err)
	}
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + legacy.ID + "/complete", token: coach}).
		problem(t, http.StatusConflict)
	if s := env.getStep(coach, legacy.ID); s.Status != "open" || s.DueDate == nil || *s.DueDate != "9999-12-31" {
		t.Fatalf("legacy step = %+v", s)
	}
}

// TestSpecDeclaresEveryEdgeResponse checks the contract against what the
// edge does to every operation: any request may be refused for its body
// (400, 413, 415) or fail (500, 503); one that needs credentials may get
// 401; an operation behind a per-address limit answers 429, with
// Retry-After and RateLimit.
func TestSpecDeclaresEveryEdgeResponse(t *testing.T) {
	t.Parallel()
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, envOptions{ipLimit: ratelimit.Rule{Burst: 1, Per: time.Hour}, refreshLimit: ratelimit.Rule{Burst: 1, Per: time.Hour}})
	addresses := 0
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			declared := func(code string) bool { return op.Responses.Value(code) != nil }
			for _, code := range []string{"400", "413", "415", "500", "503"} {
				if !declared(code) {
					t.Errorf("%s %s does not declare %s", method, path, code)
				}
			}
			public := fmt.Sprint(op.Extensions["x-tandem-auth"]) == "public"
			if !public && !declared("401") {
				t.Errorf("%s %s needs credentials but does not declare 401", method, path)
			}
			if !public || strings.Contains(path, "{") {
				continue
			}
			// A public operation without a path parameter: does the
			// per-address limit (a budget of one here) apply to it?
			addresses++
			remote := fmt.Sprintf("203.0.113.%d:1234", addresses)
			var last response
			for range 2 {
				last = env.do(request{method: method, path: "/api/v1" + path, body: map[string]any{}, remote: remote})
			}
			if limited := last.Code == http.StatusTooManyRequests; limited != declared("429") {
				t.Errorf("%s %s: answered %d to a second request, declares 429: %v", method, path, last.Code, declared("429"))
			} else if limited && (last.Header.Get("Retry-After") == "" || !strings.HasPrefix(last.Header.Get("RateLimit"), `"per-address";r=0;t=`) ||
				!strings.HasPrefix(last.Header.Get("RateLimit-Policy"), `"per-address";q=`)) {
				t.Errorf("%s %s: 429 without Retry-After, RateLimit and RateLimit-Policy: %v", method, path, last.Header)
			}
		}
	}
	// The calendar feed has a budget of its own, sized for calendar apps.
	feed := "/api/v1/calendar/" + strings.Repeat("A", 43) + ".ics"
	var last response
	for i := 0; i < 1000 && last.Code != http.StatusTooManyRequests; i++ {
		last = env.do(request{method: "GET", path: feed, remote: "198.51.100.1:1234"})
	}
	if last.Code != http.StatusTooManyRequests || spec.Paths.Find("/calendar/{feed}").Get.Responses.Value("429") == nil {
		t.Fatalf("calendar feed: last answer %d; the spec must declare the 429", last.Code)
	}
}
