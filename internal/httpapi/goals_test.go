package httpapi_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

type metricDoc struct {
	Unit     string  `json:"unit"`
	Baseline float64 `json:"baseline"`
	Target   float64 `json:"target"`
}

type goalDoc struct {
	ID              string     `json:"id"`
	ClientID        string     `json:"client_id"`
	Title           string     `json:"title"`
	Description     *string    `json:"description"`
	Why             string     `json:"why"`
	TargetDate      *string    `json:"target_date"`
	Status          string     `json:"status"`
	Metric          *metricDoc `json:"metric"`
	CurrentValue    *float64   `json:"current_value"`
	ProgressPercent float64    `json:"progress_percent"`
}

type stepDoc struct {
	ID               string     `json:"id"`
	GoalID           string     `json:"goal_id"`
	ClientID         string     `json:"client_id"`
	Title            string     `json:"title"`
	Details          *string    `json:"details"`
	DueDate          *string    `json:"due_date"`
	Recurrence       string     `json:"recurrence"`
	Status           string     `json:"status"`
	Overdue          bool       `json:"overdue"`
	CompletedAt      *time.Time `json:"completed_at"`
	Reflection       *string    `json:"reflection"`
	NextOccurrenceID *string    `json:"next_occurrence_id"`
}

type stepList struct {
	Items      []stepDoc `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

type goalList struct {
	Items      []goalDoc `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

func (env *testEnv) createGoal(token, clientID string, body map[string]any) goalDoc {
	env.t.Helper()
	var g goalDoc
	env.do(request{method: "POST", path: "/api/v1/clients/" + clientID + "/goals", token: token, body: body}).
		want(env.t, http.StatusCreated).decode(env.t, &g)
	return g
}

func (env *testEnv) getGoal(token, goalID string) goalDoc {
	env.t.Helper()
	var g goalDoc
	env.do(request{method: "GET", path: "/api/v1/goals/" + goalID, token: token}).want(env.t, http.StatusOK).decode(env.t, &g)
	return g
}

func (env *testEnv) createStep(token, goalID string, body map[string]any) stepDoc {
	env.t.Helper()
	var s stepDoc
	env.do(request{method: "POST", path: "/api/v1/goals/" + goalID + "/action-steps", token: token, body: body}).
		want(env.t, http.StatusCreated).decode(env.t, &s)
	return s
}

func (env *testEnv) getStep(token, stepID string) stepDoc {
	env.t.Helper()
	var s stepDoc
	env.do(request{method: "GET", path: "/api/v1/action-steps/" + stepID, token: token}).want(env.t, http.StatusOK).decode(env.t, &s)
	return s
}

func (env *testEnv) completeStep(token, stepID string, body any) stepDoc {
	env.t.Helper()
	var s stepDoc
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + stepID + "/complete", token: token, body: body}).
		want(env.t, http.StatusOK).decode(env.t, &s)
	return s
}

func (env *testEnv) listSteps(token, path string) stepList {
	env.t.Helper()
	var l stepList
	env.do(request{method: "GET", path: path, token: token}).want(env.t, http.StatusOK).decode(env.t, &l)
	return l
}

// auditCount counts the audit events with action.
func (env *testEnv) auditCount(action string) int64 {
	env.t.Helper()
	var n int64
	if err := env.store.DB.Table("audit_events").Where("action = ?", action).Count(&n).Error; err != nil {
		env.t.Fatal(err)
	}
	return n
}

// rowCount counts the rows of a table.
func (env *testEnv) rowCount(table string) int64 {
	env.t.Helper()
	var n int64
	if err := env.store.DB.Table(table).Count(&n).Error; err != nil {
		env.t.Fatal(err)
	}
	return n
}

// setClock moves the manual clock to t (forwards or back).
func (env *testEnv) setClock(t time.Time) { env.clock.Advance(t.Sub(env.clock.Now())) }

func ptr[T any](v T) *T { return &v }

func fieldNames(p problemDoc) map[string]bool {
	out := map[string]bool{}
	for _, e := range p.Errors {
		out[e.Field] = true
	}
	return out
}

func TestGoalLifecycleWithPurposeAndMetric(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken

	res := env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: coach, body: map[string]any{
		"title": "Run a half marathon", "description": "Spring race", "why": "To trust my body again",
		"target_date": "2026-06-01", "metric": map[string]any{"unit": "km", "baseline": 5, "target": 21},
	}}).want(t, http.StatusCreated)
	if !strings.HasPrefix(res.Header.Get("ETag"), `"1-`) {
		t.Fatalf("create ETag = %q, want version 1 with its progress digest", res.Header.Get("ETag"))
	}
	var g goalDoc
	res.decode(t, &g)
	if g.ClientID != f.clientRec.ID || g.Why != "To trust my body again" || g.Status != "active" ||
		g.TargetDate == nil || *g.TargetDate != "2026-06-01" || g.Metric == nil || g.Metric.Target != 21 ||
		g.CurrentValue != nil || g.ProgressPercent != 0 {
		t.Fatalf("created goal = %+v", g)
	}

	// The client sees their goal; the coach's PATCH with the ETag changes it.
	got := env.do(request{method: "GET", path: "/api/v1/goals/" + g.ID, token: f.client.AccessToken}).want(t, http.StatusOK)
	etag := got.Header.Get("ETag")
	res = env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: f.coach.AccessToken,
		headers: map[string]string{"If-Match": etag},
		body:    map[string]any{"title": "Run a half marathon in May", "description": nil}}).want(t, http.StatusOK)
	res.decode(t, &g)
	if g.Title != "Run a half marathon in May" || g.Description != nil || g.Why != "To trust my body again" || g.TargetDate == nil {
		t.Fatalf("after patch: %+v", g)
	}
	if res.Header.Get("ETag") == etag {
		t.Fatal("the ETag did not change with the goal")
	}

	// A metric whose target equals its baseline measures nothing.
	p := env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: coach,
		body: map[string]any{"metric": map[string]any{"unit": "km", "baseline": 5, "target": 5}}}).problem(t, http.StatusBadRequest)
	if !fieldNames(p)["metric.target"] {
		t.Fatalf("field errors = %+v", p.Errors)
	}
	p = env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: coach,
		body: map[string]any{"title": "  ", "why": " ", "metric": map[string]any{"unit": "x", "baseline": 1, "target": 1}}}).problem(t, http.StatusBadRequest)
	if fields := fieldNames(p); !fields["title"] || !fields["why"] || !fields["metric.target"] {
		t.Fatalf("field errors = %+v", p.Errors)
	}

	// Clearing the metric and the target date; achieving the goal.
	env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: coach,
		body: map[string]any{"metric": nil, "target_date": nil, "status": "achieved"}}).want(t, http.StatusOK).decode(t, &g)
	if g.Metric != nil || g.TargetDate != nil || g.Status != "achieved" {
		t.Fatalf("after clearing: %+v", g)
	}

	second := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Sleep by 11", "why": "Mornings matter"})
	var list goalList
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: f.owner.AccessToken}).
		want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 2 || list.NextCursor != nil {
		t.Fatalf("list = %+v", list)
	}
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/goals?status=active", token: coach}).
		want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != second.ID {
		t.Fatalf("active goals = %+v", list.Items)
	}

	env.do(request{method: "DELETE", path: "/api/v1/goals/" + second.ID, token: coach}).want(t, http.StatusNoContent)
	env.do(request{method: "GET", path: "/api/v1/goals/" + second.ID, token: coach}).problem(t, http.StatusNotFound)

	for action, want := range map[string]int64{"goal.created": 2, "goal.updated": 2, "goal.deleted": 1} {
		if n := env.auditCount(action); n != want {
			t.Errorf("%s audit events = %d, want %d", action, n, want)
		}
	}
}

func TestGoalProgressFromMetric(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.setClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	f := env.practice("p1")
	coach := f.coach.AccessToken
	// A decreasing metric: from 90 kg towards 80 kg.
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Lighter", "why": "Knees",
		"metric": map[string]any{"unit": "kg", "baseline": 90, "target": 80}})

	record := func(token string, body map[string]any) response {
		return env.do(request{method: "POST", path: "/api/v1/goals/" + g.ID + "/progress", token: token, body: body})
	}
	var entry struct {
		ID         string  `json:"id"`
		GoalID     string  `json:"goal_id"`
		RecordedOn string  `json:"recorded_on"`
		Value      float64 `json:"value"`
		Note       *string `json:"note"`
	}
	record(f.client.AccessToken, map[string]any{"value": 86, "note": "felt good"}).want(t, http.StatusCreated).decode(t, &entry)
	if entry.GoalID != g.ID || entry.RecordedOn != "2026-03-10" || entry.Value != 86 || entry.Note == nil {
		t.Fatalf("entry = %+v", entry)
	}
	if got := env.getGoal(coach, g.ID); got.ProgressPercent != 40 || got.CurrentValue == nil || *got.CurrentValue != 86 {
		t.Fatalf("after 86 kg: %+v", got)
	}
	// An entry dated earlier does not replace the latest one.
	record(coach, map[string]any{"value": 89, "recorded_on": "2026-03-01"}).want(t, http.StatusCreated)
	if got := env.getGoal(coach, g.ID); got.ProgressPercent != 40 {
		t.Fatalf("an older entry changed the progress: %+v", got)
	}
	// Beyond the target is 100, away from it is 0.
	record(coach, map[string]any{"value": 78}).want(t, http.StatusCreated)
	if got := env.getGoal(coach, g.ID); got.ProgressPercent != 100 {
		t.Fatalf("beyond target: %+v", got)
	}
	record(coach, map[string]any{"value": 93}).want(t, http.StatusCreated)
	if got := env.getGoal(coach, g.ID); got.ProgressPercent != 0 {
		t.Fatalf("away from target: %+v", got)
	}

	// Not in the future (of the client's calendar), not without a metric.
	p := record(coach, map[string]any{"value": 85, "recorded_on": "2026-03-12"}).problem(t, http.StatusBadRequest)
	if !fieldNames(p)["recorded_on"] {
		t.Fatalf("field errors = %+v", p.Errors)
	}
	plain := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Calm", "why": "Peace"})
	p = env.do(request{method: "POST", path: "/api/v1/goals/" + plain.ID + "/progress", token: coach,
		body: map[string]any{"value": 1}}).problem(t, http.StatusBadRequest)
	if !fieldNames(p)["value"] {
		t.Fatalf("field errors = %+v", p.Errors)
	}
	if n := env.auditCount("goal.progress_recorded"); n != 4 {
		t.Fatalf("progress audit events = %d, want 4", n)
	}
}

func TestGoalProgressFromSteps(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Write", "why": "Voice"})
	if g.ProgressPercent != 0 {
		t.Fatalf("a goal without steps: %v%%", g.ProgressPercent)
	}
	var steps []stepDoc
	for _, title := range []string{"Outline", "Draft", "Edit", "Publish"} {
		steps = append(steps, env.createStep(coach, g.ID, map[string]any{"title": title}))
	}
	env.completeStep(f.client.AccessToken, steps[0].ID, nil)
	env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + steps[1].ID, token: coach,
		body: map[string]any{"status": "skipped"}}).want(t, http.StatusOK)
	// One done, two open, one skipped (not counted): a third of the way.
	got := env.getGoal(coach, g.ID)
	if got.ProgressPercent < 33.33 || got.ProgressPercent > 33.34 {
		t.Fatalf("progress = %v, want 33.3", got.ProgressPercent)
	}
	env.completeStep(coach, steps[2].ID, map[string]any{})
	env.completeStep(coach, steps[3].ID, map[string]any{})
	var list goalList
	env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: coach}).want(t, http.StatusOK).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ProgressPercent != 100 {
		t.Fatalf("list = %+v", list.Items)
	}
}

func TestRecurringStepsCreateTheNextOccurrence(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.setClock(time.Date(2026, 2, 27, 9, 0, 0, 0, time.UTC))
	f := env.practice("p1") // the client lives in Europe/Berlin
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Habits", "why": "Consistency"})

	cases := []struct {
		name, recurrence string
		due              any
		wantNext         string
	}{
		{"daily across a month end", "daily", "2026-01-31", "2026-02-01"},
		{"weekly across a month end", "weekly", "2026-02-25", "2026-03-04"},
		{"daily across a year end", "daily", "2026-12-31", "2027-01-01"},
		{"daily without a due date starts from the client's today", "daily", nil, "2026-02-28"},
		{"weekly without a due date starts from the client's today", "weekly", nil, "2026-03-06"},
	}
	for _, c := range cases {
		body := map[string]any{"title": "Meditate", "details": "Ten minutes", "recurrence": c.recurrence}
		if c.due != nil {
			body["due_date"] = c.due
		}
		step := env.createStep(f.client.AccessToken, g.ID, body)
		done := env.completeStep(f.client.AccessToken, step.ID, map[string]any{"note": "calmer"})
		if done.Status != "done" || done.NextOccurrenceID == nil {
			t.Fatalf("%s: completed = %+v", c.name, done)
		}
		next := env.getStep(f.client.AccessToken, *done.NextOccurrenceID)
		if next.DueDate == nil || *next.DueDate != c.wantNext || next.Title != "Meditate" || next.Details == nil ||
			*next.Details != "Ten minutes" || next.Recurrence != c.recurrence || next.Status != "open" ||
			next.GoalID != g.ID || next.Reflection != nil || next.NextOccurrenceID != nil {
			t.Fatalf("%s: next occurrence = %+v", c.name, next)
		}
	}

	// Closing the same step again (after reopening it) keeps the one next occurrence.
	step := env.createStep(coach, g.ID, map[string]any{"title": "Walk", "due_date": "2026-02-27", "recurrence": "daily"})
	first := env.completeStep(coach, step.ID, nil)
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/reopen", token: coach}).want(t, http.StatusOK)
	again := env.completeStep(coach, step.ID, nil)
	if again.NextOccurrenceID == nil || *again.NextOccurrenceID != *first.NextOccurrenceID {
		t.Fatalf("second completion: next %v, first %v", again.NextOccurrenceID, first.NextOccurrenceID)
	}

	// Skipping a recurring occurrence rolls it forward too; a one-off step does not.
	var skipped stepDoc
	env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + *first.NextOccurrenceID, token: coach,
		body: map[string]any{"status": "skipped"}}).want(t, http.StatusOK).decode(t, &skipped)
	if skipped.NextOccurrenceID == nil || env.getStep(coach, *skipped.NextOccurrenceID).DueDate == nil ||
		*env.getStep(coach, *skipped.NextOccurrenceID).DueDate != "2026-03-01" {
		t.Fatalf("skipped occurrence = %+v", skipped)
	}
	once := env.createStep(coach, g.ID, map[string]any{"title": "Buy shoes"})
	if done := env.completeStep(coach, once.ID, nil); done.NextOccurrenceID != nil || done.Recurrence != "none" {
		t.Fatalf("a one-off step rolled forward: %+v", done)
	}
}

func TestOverdueFollowsTheClientsTimeZone(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	// 23:30 UTC on 1 March: already 2 March in Tokyo, still 1 March in Los Angeles.
	env.setClock(time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC))
	f := env.practice("p1")
	coach := f.coach.AccessToken
	tokyo := env.createClient(coach, map[string]any{"name": "Aiko", "timezone": "Asia/Tokyo"})
	la := env.createClient(coach, map[string]any{"name": "Lee", "timezone": "America/Los_Angeles"})

	for _, c := range []struct {
		client      clientDoc
		wantOverdue bool
	}{{tokyo, true}, {la, false}} {
		g := env.createGoal(coach, c.client.ID, map[string]any{"title": "Focus", "why": "Calm"})
		step := env.createStep(coach, g.ID, map[string]any{"title": "Plan the week", "due_date": "2026-03-01"})
		if step.Overdue != c.wantOverdue {
			t.Fatalf("%s: overdue = %v, want %v", c.client.Timezone, step.Overdue, c.wantOverdue)
		}
		l := env.listSteps(coach, "/api/v1/clients/"+c.client.ID+"/action-steps")
		if len(l.Items) != 1 || l.Items[0].Overdue != c.wantOverdue {
			t.Fatalf("%s: listed %+v", c.client.Timezone, l.Items)
		}
		if done := env.completeStep(coach, step.ID, nil); done.Overdue {
			t.Fatalf("%s: a done step is overdue", c.client.Timezone)
		}
	}
}

func TestClientStepFiltersAndPagination(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g1 := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "One", "why": "A"})
	g2 := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Two", "why": "B"})
	dues := []any{"2026-03-01", "2026-03-05", "2026-03-10", nil, "2026-02-20"}
	var ids []string
	for i, due := range dues {
		body := map[string]any{"title": "Step"}
		if due != nil {
			body["due_date"] = due
		}
		g := g1
		if i%2 == 1 {
			g = g2
		}
		ids = append(ids, env.createStep(coach, g.ID, body).ID)
	}
	env.completeStep(coach, ids[0], nil)
	env.completeStep(coach, ids[4], nil)
	// Another client's step never shows up in this client's list.
	other := env.createGoal(coach, f.otherRec.ID, map[string]any{"title": "Else", "why": "C"})
	env.createStep(coach, other.ID, map[string]any{"title": "Not yours", "due_date": "2026-01-01"})

	base := "/api/v1/clients/" + f.clientRec.ID + "/action-steps"
	idsOf := func(l stepList) []string {
		var out []string
		for _, s := range l.Items {
			out = append(out, s.ID)
		}
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", ids},
		{"?status=open", []string{ids[1], ids[2], ids[3]}},
		{"?status=done", []string{ids[0], ids[4]}},
		{"?status=skipped", nil},
		{"?due_before=2026-03-05", []string{ids[0], ids[4]}},
		{"?status=open&due_before=2026-03-11", []string{ids[1], ids[2]}},
	} {
		got := idsOf(env.listSteps(f.client.AccessToken, base+c.query))
		if len(got) != len(c.want) {
			t.Fatalf("%q: got %v, want %v", c.query, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Fatalf("%q: got %v, want %v", c.query, got, c.want)
			}
		}
	}
	env.do(request{method: "GET", path: base + "?due_before=tomorrow", token: coach}).problem(t, http.StatusBadRequest)
	env.do(request{method: "GET", path: base + "?status=late", token: coach}).problem(t, http.StatusBadRequest)

	// limit=2 walks every page once, in order.
	walk := func(path string) []string {
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%s: the cursor never ends", path)
			}
			q := "?limit=2"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			l := env.listSteps(coach, path+q)
			if len(l.Items) > 2 {
				t.Fatalf("%s: a page of %d", path, len(l.Items))
			}
			seen = append(seen, idsOf(l)...)
			if l.NextCursor == nil {
				return seen
			}
			cursor = *l.NextCursor
		}
	}
	all := walk(base)
	unique := map[string]bool{}
	for _, id := range all {
		unique[id] = true
	}
	if len(all) != len(ids) || len(unique) != len(ids) {
		t.Fatalf("walked %v, want each of %v once", all, ids)
	}
	for i := range all {
		if all[i] != ids[i] {
			t.Fatalf("walked %v, want %v", all, ids)
		}
	}
	if got := walk("/api/v1/goals/" + g1.ID + "/action-steps"); len(got) != 3 || got[0] != ids[0] || got[2] != ids[4] {
		t.Fatalf("goal steps walked %v", got)
	}

	// Goals paginate the same way.
	var goalIDs []string
	cursor := ""
	for {
		q := "?limit=1"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		var l goalList
		env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/goals" + q, token: coach}).want(t, http.StatusOK).decode(t, &l)
		for _, g := range l.Items {
			goalIDs = append(goalIDs, g.ID)
		}
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	if len(goalIDs) != 2 || goalIDs[0] != g1.ID || goalIDs[1] != g2.ID {
		t.Fatalf("goals walked %v", goalIDs)
	}
	env.do(request{method: "GET", path: base + "?limit=201", token: coach}).problem(t, http.StatusBadRequest)
	env.do(request{method: "GET", path: base + "?cursor=bogus", token: coach}).problem(t, http.StatusBadRequest)
}

func TestStaleIfMatchChangesNothing(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Read", "why": "Curiosity"})
	step := env.createStep(coach, g.ID, map[string]any{"title": "Chapter one", "details": "Before bed"})

	res := env.do(request{method: "GET", path: "/api/v1/action-steps/" + step.ID, token: f.client.AccessToken}).want(t, http.StatusOK)
	stale := res.Header.Get("ETag")
	res = env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, token: coach,
		headers: map[string]string{"If-Match": stale}, body: map[string]any{"title": "Chapter two"}}).want(t, http.StatusOK)
	fresh := res.Header.Get("ETag")
	if fresh == stale || fresh == "" {
		t.Fatalf("ETag %q after %q", fresh, stale)
	}
	updatesBefore := env.auditCount("action_step.updated")
	for _, body := range []map[string]any{{"title": "Chapter three"}, {"status": "skipped"}, {"details": nil}} {
		env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, token: f.client.AccessToken,
			headers: map[string]string{"If-Match": stale}, body: body}).problem(t, http.StatusPreconditionFailed)
	}
	got := env.getStep(coach, step.ID)
	if got.Title != "Chapter two" || got.Status != "open" || got.Details == nil {
		t.Fatalf("a stale PATCH changed the step: %+v", got)
	}
	if env.auditCount("action_step.updated") != updatesBefore {
		t.Fatal("a stale PATCH wrote an audit event")
	}

	res = env.do(request{method: "GET", path: "/api/v1/goals/" + g.ID, token: coach}).want(t, http.StatusOK)
	goalTag := res.Header.Get("ETag")
	env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: coach,
		headers: map[string]string{"If-Match": goalTag}, body: map[string]any{"why": "Wonder"}}).want(t, http.StatusOK)
	env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: coach,
		headers: map[string]string{"If-Match": goalTag}, body: map[string]any{"title": "Stale"}}).problem(t, http.StatusPreconditionFailed)
	if got := env.getGoal(coach, g.ID); got.Title != "Read" || got.Why != "Wonder" {
		t.Fatalf("a stale PATCH changed the goal: %+v", got)
	}
}

func TestStepPatchNullClearsAndAbsentKeeps(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Cook", "why": "Health"})
	step := env.createStep(coach, g.ID, map[string]any{"title": "Plan meals", "details": "Sunday", "due_date": "2026-04-05", "recurrence": "weekly"})

	patchStep := func(body any) stepDoc {
		var s stepDoc
		env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, token: f.client.AccessToken, body: body}).
			want(t, http.StatusOK).decode(t, &s)
		return s
	}
	s := patchStep(map[string]any{"title": "Plan meals for the week"})
	if s.Title != "Plan meals for the week" || s.Details == nil || *s.Details != "Sunday" || s.DueDate == nil || s.Recurrence != "weekly" {
		t.Fatalf("absent fields changed: %+v", s)
	}
	s = patchStep(map[string]any{"details": nil})
	if s.Details != nil || s.DueDate == nil || *s.DueDate != "2026-04-05" {
		t.Fatalf("after details null: %+v", s)
	}
	s = patchStep(map[string]any{"due_date": nil, "recurrence": "none"})
	if s.DueDate != nil || s.Details != nil || s.Recurrence != "none" || s.Title != "Plan meals for the week" {
		t.Fatalf("after due_date null: %+v", s)
	}
	stored := env.getStep(coach, step.ID)
	if stored.DueDate != nil || stored.Details != nil {
		t.Fatalf("stored step = %+v", stored)
	}
	p := env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, token: coach, body: map[string]any{"title": "   "}}).
		problem(t, http.StatusBadRequest)
	if !fieldNames(p)["title"] {
		t.Fatalf("field errors = %+v", p.Errors)
	}
	env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, token: coach, body: map[string]any{}}).problem(t, http.StatusBadRequest)
}

func TestClientCompletesOwnStepWithReflection(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	client := f.client.AccessToken
	g := env.createGoal(f.coach.AccessToken, f.clientRec.ID, map[string]any{"title": "Speak up", "why": "Be heard"})
	step := env.createStep(f.coach.AccessToken, g.ID, map[string]any{"title": "Ask one question in the meeting"})
	own := env.createStep(client, g.ID, map[string]any{"title": "Note what I wanted to say"})
	if own.ClientID != f.clientRec.ID || own.Status != "open" {
		t.Fatalf("client's own step = %+v", own)
	}

	l := env.listSteps(client, "/api/v1/clients/"+f.clientRec.ID+"/action-steps?status=open")
	if len(l.Items) != 2 {
		t.Fatalf("client's open steps = %+v", l.Items)
	}
	done := env.completeStep(client, step.ID, map[string]any{"note": "It was easier than I feared."})
	if done.Status != "done" || done.Reflection == nil || *done.Reflection != "It was easier than I feared." ||
		done.CompletedAt == nil || done.CompletedAt.Sub(env.clock.Now()).Abs() > time.Millisecond || done.Overdue {
		t.Fatalf("completed = %+v (now %v)", done, env.clock.Now())
	}
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/complete", token: client,
		body: map[string]any{"note": "again"}}).problem(t, http.StatusConflict)
	// A done step cannot be skipped without reopening it.
	p := env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, token: client,
		body: map[string]any{"status": "skipped"}}).problem(t, http.StatusBadRequest)
	if !fieldNames(p)["status"] {
		t.Fatalf("field errors = %+v", p.Errors)
	}

	var reopened stepDoc
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/reopen", token: client}).
		want(t, http.StatusOK).decode(t, &reopened)
	if reopened.Status != "open" || reopened.CompletedAt != nil {
		t.Fatalf("reopened = %+v", reopened)
	}
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/reopen", token: client}).problem(t, http.StatusConflict)

	env.do(request{method: "DELETE", path: "/api/v1/action-steps/" + own.ID, token: client}).want(t, http.StatusNoContent)
	env.do(request{method: "GET", path: "/api/v1/action-steps/" + own.ID, token: client}).problem(t, http.StatusNotFound)

	for action, want := range map[string]int64{
		"action_step.created": 2, "action_step.completed": 1, "action_step.reopened": 1, "action_step.deleted": 1,
	} {
		if n := env.auditCount(action); n != want {
			t.Errorf("%s audit events = %d, want %d", action, n, want)
		}
	}
}

func TestGoalsAndStepsStayWithinTheirClient(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	p2 := env.practice("p2")
	coach := f.coach.AccessToken
	// The other client's goal, with a step and a metric.
	g := env.createGoal(coach, f.otherRec.ID, map[string]any{"title": "Private", "why": "Mine",
		"metric": map[string]any{"unit": "pages", "baseline": 0, "target": 100}})
	step := env.createStep(f.otherClient.AccessToken, g.ID, map[string]any{"title": "Read ten pages", "details": "secret"})
	before := env.getStep(coach, step.ID)

	probes := []request{
		{method: "GET", path: "/api/v1/clients/" + f.otherRec.ID + "/goals"},
		{method: "POST", path: "/api/v1/clients/" + f.otherRec.ID + "/goals", body: map[string]any{"title": "x", "why": "y"}},
		{method: "GET", path: "/api/v1/goals/" + g.ID},
		{method: "PATCH", path: "/api/v1/goals/" + g.ID, body: map[string]any{"title": "Hijacked"}},
		{method: "DELETE", path: "/api/v1/goals/" + g.ID},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/progress", body: map[string]any{"value": 50}},
		{method: "GET", path: "/api/v1/goals/" + g.ID + "/action-steps"},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/action-steps", body: map[string]any{"title": "x"}},
		{method: "GET", path: "/api/v1/clients/" + f.otherRec.ID + "/action-steps"},
		{method: "GET", path: "/api/v1/action-steps/" + step.ID},
		{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, body: map[string]any{"title": "Hijacked"}},
		{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/complete", body: map[string]any{"note": "x"}},
		{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/reopen"},
		{method: "DELETE", path: "/api/v1/action-steps/" + step.ID},
	}
	actors := map[string]string{
		"the first client":          f.client.AccessToken,
		"a coach of another client": f.otherCoach.AccessToken,
		"another practice's owner":  p2.owner.AccessToken,
		"another practice's coach":  p2.coach.AccessToken,
		"another practice's client": p2.client.AccessToken,
	}
	for who, token := range actors {
		for _, r := range probes {
			r.token = token
			if res := env.do(r); res.Code != http.StatusNotFound {
				t.Errorf("%s: %s %s = %d, want 404; body %s", who, r.method, r.path, res.Code, res.Body)
			}
		}
	}
	after := env.getStep(coach, step.ID)
	if !reflect.DeepEqual(after, before) {
		t.Fatalf("the step changed: %+v, was %+v", after, before)
	}
	if got := env.getGoal(coach, g.ID); got.Title != "Private" || got.CurrentValue != nil {
		t.Fatalf("the goal changed: %+v", got)
	}
	if n := env.rowCount("goals"); n != 1 {
		t.Fatalf("goals = %d, want 1", n)
	}
	// The owner of the practice reaches everything.
	env.getGoal(f.owner.AccessToken, g.ID)
	env.getStep(f.owner.AccessToken, step.ID)
}

func TestMassAssignmentIsRejected(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	p2 := env.practice("p2")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Move", "why": "Energy"})
	step := env.createStep(coach, g.ID, map[string]any{"title": "Walk"})
	goalBefore, stepBefore := env.getGoal(coach, g.ID), env.getStep(coach, step.ID)
	goalsBefore, stepsBefore := env.rowCount("goals"), env.rowCount("action_steps")

	probes := []request{
		{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", body: map[string]any{"title": "x", "why": "y", "client_id": f.otherRec.ID}},
		{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", body: map[string]any{"title": "x", "why": "y", "practice_id": p2.clientRec.ID}},
		{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", body: map[string]any{"title": "x", "why": "y", "created_at": "2020-01-01T00:00:00Z"}},
		{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", body: map[string]any{"title": "x", "why": "y", "created_by": f.owner.AccessToken}},
		{method: "PATCH", path: "/api/v1/goals/" + g.ID, body: map[string]any{"client_id": f.otherRec.ID}},
		{method: "PATCH", path: "/api/v1/goals/" + g.ID, body: map[string]any{"title": "x", "version": 99}},
		{method: "PATCH", path: "/api/v1/goals/" + g.ID, body: map[string]any{"status": "done"}},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/action-steps", body: map[string]any{"title": "x", "goal_id": g.ID}},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/action-steps", body: map[string]any{"title": "x", "client_id": f.otherRec.ID}},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/action-steps", body: map[string]any{"title": "x", "status": "done"}},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/action-steps", body: map[string]any{"title": "x", "practice_id": p2.clientRec.ID}},
		{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, body: map[string]any{"status": "done"}},
		{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, body: map[string]any{"goal_id": g.ID}},
		{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, body: map[string]any{"completed_at": "2026-01-01T00:00:00Z"}},
		{method: "PATCH", path: "/api/v1/action-steps/" + step.ID, body: map[string]any{"reflection": "planted"}},
		{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/complete", body: map[string]any{"note": "x", "completed_at": "2020-01-01T00:00:00Z"}},
		{method: "POST", path: "/api/v1/goals/" + g.ID + "/progress", body: map[string]any{"value": 1, "goal_id": g.ID}},
	}
	for _, token := range []string{coach, f.client.AccessToken} {
		for _, r := range probes {
			r.token = token
			env.do(r).problem(t, http.StatusBadRequest)
		}
	}
	if env.rowCount("goals") != goalsBefore || env.rowCount("action_steps") != stepsBefore || env.rowCount("goal_progress") != 0 {
		t.Fatal("a rejected request wrote rows")
	}
	if got := env.getGoal(coach, g.ID); got.Title != goalBefore.Title || got.ClientID != goalBefore.ClientID || got.Status != goalBefore.Status {
		t.Fatalf("goal changed: %+v", got)
	}
	if got := env.getStep(coach, step.ID); !reflect.DeepEqual(got, stepBefore) {
		t.Fatalf("step changed: %+v", got)
	}
}

func TestDeletingAGoalRemovesItsStepsAndProgress(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Save", "why": "Freedom",
		"metric": map[string]any{"unit": "EUR", "baseline": 0, "target": 1000}})
	keep := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Keep", "why": "Stay"})
	kept := env.createStep(coach, keep.ID, map[string]any{"title": "Stays"})
	var steps []stepDoc
	for range 3 {
		steps = append(steps, env.createStep(coach, g.ID, map[string]any{"title": "Put aside", "recurrence": "weekly", "due_date": "2026-05-01"}))
	}
	env.completeStep(f.client.AccessToken, steps[0].ID, map[string]any{"note": "done"}) // adds a fourth, the next occurrence
	env.do(request{method: "POST", path: "/api/v1/goals/" + g.ID + "/progress", token: coach, body: map[string]any{"value": 100}}).want(t, http.StatusCreated)

	env.do(request{method: "DELETE", path: "/api/v1/goals/" + g.ID, token: coach}).want(t, http.StatusNoContent)
	env.do(request{method: "GET", path: "/api/v1/goals/" + g.ID, token: coach}).problem(t, http.StatusNotFound)
	for _, s := range steps {
		env.do(request{method: "GET", path: "/api/v1/action-steps/" + s.ID, token: coach}).problem(t, http.StatusNotFound)
	}
	if n := env.rowCount("action_steps"); n != 1 {
		t.Fatalf("action_steps rows = %d, want only the other goal's", n)
	}
	if n := env.rowCount("goal_progress"); n != 0 {
		t.Fatalf("goal_progress rows = %d", n)
	}
	env.getStep(coach, kept.ID)
	if n := env.auditCount("goal.deleted"); n != 1 {
		t.Fatalf("goal.deleted events = %d", n)
	}
	if n := env.auditCount("action_step.deleted"); n != 4 {
		t.Fatalf("action_step.deleted events = %d, want 4", n)
	}
	env.do(request{method: "DELETE", path: "/api/v1/goals/" + g.ID, token: coach}).problem(t, http.StatusNotFound)
}

func TestDeletingANextOccurrenceLetsTheStepRollForwardAgain(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Stretch", "why": "Back"})
	step := env.createStep(coach, g.ID, map[string]any{"title": "Stretch", "due_date": "2026-04-30", "recurrence": "daily"})
	first := env.completeStep(coach, step.ID, nil)
	env.do(request{method: "DELETE", path: "/api/v1/action-steps/" + *first.NextOccurrenceID, token: coach}).want(t, http.StatusNoContent)
	if got := env.getStep(coach, step.ID); got.NextOccurrenceID != nil {
		t.Fatalf("the step still points at a deleted occurrence: %+v", got)
	}
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + step.ID + "/reopen", token: coach}).want(t, http.StatusOK)
	again := env.completeStep(coach, step.ID, nil)
	if again.NextOccurrenceID == nil || *again.NextOccurrenceID == *first.NextOccurrenceID {
		t.Fatalf("no new occurrence: %+v", again)
	}
	if next := env.getStep(coach, *again.NextOccurrenceID); next.DueDate == nil || *next.DueDate != "2026-05-01" {
		t.Fatalf("next = %+v", next)
	}
}

// TestClientReshapesOnlyWhatTheySet: a client completes, reflects on and
// edits their steps, but a goal or step agreed with the coach is changed or
// deleted with the coach (403); what the client set themselves is theirs.
func TestClientReshapesOnlyWhatTheySet(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("reshape")
	client := "/api/v1/clients/" + f.clientRec.ID
	var coachGoal, ownGoal, coachStep, ownStep struct {
		ID string `json:"id"`
	}
	env.do(request{method: "POST", path: client + "/goals", token: f.coach.AccessToken,
		body: map[string]any{"title": "Coach's goal", "why": "agreed together"}}).want(t, http.StatusCreated).decode(t, &coachGoal)
	env.do(request{method: "POST", path: client + "/goals", token: f.client.AccessToken,
		body: map[string]any{"title": "My own goal", "why": "mine"}}).want(t, http.StatusCreated).decode(t, &ownGoal)
	env.do(request{method: "POST", path: "/api/v1/goals/" + coachGoal.ID + "/action-steps", token: f.coach.AccessToken,
		body: map[string]any{"title": "Coach's step"}}).want(t, http.StatusCreated).decode(t, &coachStep)
	env.do(request{method: "POST", path: "/api/v1/goals/" + coachGoal.ID + "/action-steps", token: f.client.AccessToken,
		body: map[string]any{"title": "My step"}}).want(t, http.StatusCreated).decode(t, &ownStep)

	env.do(request{method: "PATCH", path: "/api/v1/goals/" + coachGoal.ID, token: f.client.AccessToken,
		body: map[string]any{"title": "Changed behind the coach's back"}}).problem(t, http.StatusForbidden)
	env.do(request{method: "DELETE", path: "/api/v1/goals/" + coachGoal.ID, token: f.client.AccessToken}).problem(t, http.StatusForbidden)
	env.do(request{method: "DELETE", path: "/api/v1/action-steps/" + coachStep.ID, token: f.client.AccessToken}).problem(t, http.StatusForbidden)
	var title string
	env.store.DB.Table("goals").Where("id = ?", coachGoal.ID).Pluck("title", &title)
	if title != "Coach's goal" {
		t.Fatalf("the coach's goal changed to %q", title)
	}

	// Steps agreed with the coach are still the client's to edit and complete.
	env.do(request{method: "PATCH", path: "/api/v1/action-steps/" + coachStep.ID, token: f.client.AccessToken,
		body: map[string]any{"details": "after work"}}).want(t, http.StatusOK)
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + coachStep.ID + "/complete", token: f.client.AccessToken,
		body: map[string]any{"note": "done"}}).want(t, http.StatusOK)
	// What the client set themselves they may change and delete.
	env.do(request{method: "PATCH", path: "/api/v1/goals/" + ownGoal.ID, token: f.client.AccessToken,
		body: map[string]any{"title": "My renamed goal"}}).want(t, http.StatusOK)
	env.do(request{method: "DELETE", path: "/api/v1/action-steps/" + ownStep.ID, token: f.client.AccessToken}).want(t, http.StatusNoContent)
	env.do(request{method: "DELETE", path: "/api/v1/goals/" + ownGoal.ID, token: f.client.AccessToken}).want(t, http.StatusNoContent)
}
