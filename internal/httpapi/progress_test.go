package httpapi_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"testing"
	"time"
)

type progressDoc struct {
	ID         string  `json:"id"`
	GoalID     string  `json:"goal_id"`
	RecordedOn string  `json:"recorded_on"`
	Value      float64 `json:"value"`
	Note       *string `json:"note"`
	CreatedAt  string  `json:"created_at"`
}

type progressList struct {
	Items      []progressDoc `json:"items"`
	NextCursor *string       `json:"next_cursor"`
}

func (env *testEnv) recordProgress(token, goalID string, body map[string]any) progressDoc {
	env.t.Helper()
	var e progressDoc
	env.do(request{method: "POST", path: "/api/v1/goals/" + goalID + "/progress", token: token, body: body}).
		want(env.t, http.StatusCreated).decode(env.t, &e)
	return e
}

func progressPath(goalID string, query url.Values) string {
	p := "/api/v1/goals/" + goalID + "/progress"
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}

// progressWalk reads every page of a goal's entries, limit at a time.
func (env *testEnv) progressWalk(token, goalID string, limit int) (pages int, all []progressDoc) {
	env.t.Helper()
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for {
		var l progressList
		env.do(request{method: "GET", path: progressPath(goalID, q), token: token}).want(env.t, http.StatusOK).decode(env.t, &l)
		pages++
		if len(l.Items) > limit {
			env.t.Fatalf("page %d holds %d entries, limit %d", pages, len(l.Items), limit)
		}
		all = append(all, l.Items...)
		if l.NextCursor == nil {
			return pages, all
		}
		if pages > 50 {
			env.t.Fatal("the pages do not end")
		}
		q.Set("cursor", *l.NextCursor)
	}
}

// TestProgressListOrderAndPaging: the entries come by the date they are for,
// then in the order they were recorded — a value back-dated later sorts
// before newer dates — and a walk with a small limit returns each entry
// exactly once, in the same order, whoever of the goal's readers walks it.
func TestProgressListOrderAndPaging(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	env.setClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	f := env.practice("p1")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Lighter", "why": "Knees",
		"metric": map[string]any{"unit": "kg", "baseline": 90, "target": 80}})

	// Recorded in this order; listed by date, then by recording.
	note := "after the holidays"
	recorded := []map[string]any{
		{"value": 86, "recorded_on": "2026-03-08"},
		{"value": 89, "recorded_on": "2026-03-01", "note": note},
		{"value": 85.5}, // today, 2026-03-10
		{"value": 87, "recorded_on": "2026-03-08"}, // a second value on the 8th
		{"value": 88.25, "recorded_on": "2026-03-05"},
	}
	ids := make([]string, len(recorded))
	for i, body := range recorded {
		token := coach
		if i%2 == 1 {
			token = f.client.AccessToken // the client records too
		}
		ids[i] = env.recordProgress(token, g.ID, body).ID
	}
	wantOrder := []string{ids[1], ids[4], ids[0], ids[3], ids[2]}
	wantValues := []float64{89, 88.25, 86, 87, 85.5}
	wantDates := []string{"2026-03-01", "2026-03-05", "2026-03-08", "2026-03-08", "2026-03-10"}

	var first progressList
	env.do(request{method: "GET", path: progressPath(g.ID, nil), token: coach}).want(t, http.StatusOK).decode(t, &first)
	if first.NextCursor != nil || len(first.Items) != len(recorded) {
		t.Fatalf("default page: %d entries, next %v", len(first.Items), first.NextCursor)
	}
	for i, e := range first.Items {
		if e.ID != wantOrder[i] || e.Value != wantValues[i] || e.RecordedOn != wantDates[i] || e.GoalID != g.ID {
			t.Fatalf("entry %d = %+v, want id %s %s %v", i, e, wantOrder[i], wantDates[i], wantValues[i])
		}
		if _, err := time.Parse(time.RFC3339, e.CreatedAt); err != nil {
			t.Fatalf("entry %d created_at %q: %v", i, e.CreatedAt, err)
		}
	}
	if n := first.Items[0].Note; n == nil || *n != note {
		t.Fatalf("the note of the first entry = %v, want %q", n, note)
	}
	if first.Items[1].Note != nil {
		t.Fatalf("an entry without a note has %q", *first.Items[1].Note)
	}

	for _, token := range []string{coach, f.owner.AccessToken, f.client.AccessToken} {
		for _, limit := range []int{1, 2, 4} {
			pages, all := env.progressWalk(token, g.ID, limit)
			var got []string
			for _, e := range all {
				got = append(got, e.ID)
			}
			if !reflect.DeepEqual(got, wantOrder) {
				t.Fatalf("walk with limit %d: %v, want %v", limit, got, wantOrder)
			}
			if want := (len(recorded) + limit - 1) / limit; pages != want {
				t.Fatalf("walk with limit %d took %d pages, want %d", limit, pages, want)
			}
		}
	}

	// Bounds and foreign cursors are field errors.
	for _, q := range []url.Values{{"limit": {"0"}}, {"limit": {"201"}}, {"cursor": {"bm90IGEgY3Vyc29y"}}} {
		env.do(request{method: "GET", path: progressPath(g.ID, q), token: coach}).problem(t, http.StatusBadRequest)
	}
	var steps stepList
	env.createStep(coach, g.ID, map[string]any{"title": "Walk"})
	env.createStep(coach, g.ID, map[string]any{"title": "Swim"})
	env.do(request{method: "GET", path: "/api/v1/goals/" + g.ID + "/action-steps?limit=1", token: coach}).
		want(t, http.StatusOK).decode(t, &steps)
	if steps.NextCursor == nil {
		t.Fatal("two steps fit on one page of one")
	}
	env.do(request{method: "GET", path: progressPath(g.ID, url.Values{"cursor": {*steps.NextCursor}}), token: coach}).
		problem(t, http.StatusBadRequest)
}

// TestProgressListWithoutMetric: a goal that was never measured has no
// entries (an empty page, not an error); one whose metric was cleared keeps
// what was recorded while it had one.
func TestProgressListWithoutMetric(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	plain := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Calm", "why": "Peace"})
	var l progressList
	env.do(request{method: "GET", path: progressPath(plain.ID, nil), token: f.client.AccessToken}).want(t, http.StatusOK).decode(t, &l)
	if l.Items == nil || len(l.Items) != 0 || l.NextCursor != nil {
		t.Fatalf("a goal without a metric: %+v", l)
	}

	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Run", "why": "Air",
		"metric": map[string]any{"unit": "km", "baseline": 0, "target": 10}})
	e := env.recordProgress(coach, g.ID, map[string]any{"value": 3})
	env.do(request{method: "PATCH", path: "/api/v1/goals/" + g.ID, token: coach, headers: map[string]string{"If-Match": "*"},
		body: map[string]any{"metric": nil}}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: progressPath(g.ID, nil), token: coach}).want(t, http.StatusOK).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].ID != e.ID {
		t.Fatalf("after the metric was cleared: %+v", l)
	}
}

// TestProgressListNotFound: a goal the caller may not see is 404 with a
// problem document — another practice's, another coach's client's, another
// client's, a deleted one — and the answer is the same as for a goal that
// never existed.
func TestProgressListNotFound(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a, b := env.practice("a"), env.practice("b")
	g := env.createGoal(a.coach.AccessToken, a.clientRec.ID, map[string]any{"title": "Lighter", "why": "Knees",
		"metric": map[string]any{"unit": "kg", "baseline": 90, "target": 80}})
	env.recordProgress(a.coach.AccessToken, g.ID, map[string]any{"value": 88, "note": "a private remark"})

	for name, token := range map[string]string{
		"other practice's owner":  b.owner.AccessToken,
		"other practice's coach":  b.coach.AccessToken,
		"other practice's client": b.client.AccessToken,
		"coach of other clients":  a.otherCoach.AccessToken,
		"another client":          a.otherClient.AccessToken,
	} {
		p := env.do(request{method: "GET", path: progressPath(g.ID, nil), token: token}).problem(t, http.StatusNotFound)
		if p.Detail == "" {
			t.Errorf("%s: a 404 without a detail: %+v", name, p)
		}
	}
	env.do(request{method: "GET", path: progressPath("0190a6c4-5a3e-7b2c-9d1e-2f3a4b5c6d7e", nil), token: a.coach.AccessToken}).
		problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: progressPath(g.ID, nil)}).problem(t, http.StatusUnauthorized)
	env.do(request{method: "DELETE", path: "/api/v1/goals/" + g.ID, token: a.coach.AccessToken, headers: map[string]string{"If-Match": "*"}}).
		want(t, http.StatusNoContent)
	env.do(request{method: "GET", path: progressPath(g.ID, nil), token: a.owner.AccessToken}).problem(t, http.StatusNotFound)
}

// TestProgressListIsOneStatement: a goal's entries cost one statement after
// authentication, for a full page, an empty one, and a goal the caller may
// not see.
func TestProgressListIsOneStatement(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("s")
	coach := f.coach.AccessToken
	g := env.createGoal(coach, f.clientRec.ID, map[string]any{"title": "Sleep", "why": "Patience",
		"metric": map[string]any{"unit": "hours", "baseline": 6, "target": 8}})
	statements := env.countStatements()
	list := func(token string, status int) int64 {
		return statements.during(func() {
			env.do(request{method: "GET", path: progressPath(g.ID, url.Values{"limit": {"3"}}), token: token}).want(t, status)
		})
	}
	if n := list(f.client.AccessToken, http.StatusOK); n != 2 {
		t.Errorf("an empty list: %d statements, want 2 (authentication and the list)", n)
	}
	for i := range 4 {
		env.recordProgress(coach, g.ID, map[string]any{"value": 6 + float64(i)/4})
	}
	if n := list(f.client.AccessToken, http.StatusOK); n != 2 {
		t.Errorf("a full page: %d statements, want 2", n)
	}
	if n := list(f.otherClient.AccessToken, http.StatusNotFound); n != 2 {
		t.Errorf("another client's goal: %d statements, want 2", n)
	}
}
