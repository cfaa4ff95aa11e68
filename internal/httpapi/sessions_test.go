package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tandem-coach/tandem/internal/store"
)

type sessionDoc struct {
	ID              string    `json:"id"`
	ClientID        string    `json:"client_id"`
	CoachID         string    `json:"coach_id"`
	StartsAt        time.Time `json:"starts_at"`
	EndsAt          time.Time `json:"ends_at"`
	DurationMinutes int       `json:"duration_minutes"`
	Location        *string   `json:"location"`
	Agenda          *string   `json:"agenda"`
	Status          string    `json:"status"`
	Summary         *string   `json:"summary"`
}

type sessionListDoc struct {
	Items      []sessionDoc `json:"items"`
	NextCursor *string      `json:"next_cursor"`
}

type privateNoteDoc struct {
	Body      string     `json:"body"`
	UpdatedAt *time.Time `json:"updated_at"`
}

// sessionSlot is an RFC 3339 start time days ahead of the env's clock, at
// hour:minute UTC, in the given offset.
func (env *testEnv) sessionSlot(days, hour, minute int, offset *time.Location) string {
	now := env.clock.Now().UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), hour, minute, 0, 0, time.UTC).AddDate(0, 0, days)
	if offset == nil {
		offset = time.UTC
	}
	return t.In(offset).Format(time.RFC3339)
}

// scheduleSession books a session and returns it with its ETag.
func (env *testEnv) scheduleSession(token, clientID string, body map[string]any) (sessionDoc, string) {
	env.t.Helper()
	r := env.do(request{method: "POST", path: "/api/v1/clients/" + clientID + "/sessions", token: token, body: body}).
		want(env.t, http.StatusCreated)
	var s sessionDoc
	r.decode(env.t, &s)
	etag := r.Header.Get("ETag")
	if etag == "" {
		env.t.Fatal("scheduled session has no ETag")
	}
	return s, etag
}

func (env *testEnv) patchSession(token, id string, body any, ifMatch string) response {
	env.t.Helper()
	r := request{method: "PATCH", path: "/api/v1/sessions/" + id, token: token, body: body}
	if ifMatch != "" {
		r.headers = map[string]string{"If-Match": ifMatch}
	}
	return env.do(r)
}

func (env *testEnv) getSession(token, id string) (sessionDoc, string) {
	env.t.Helper()
	r := env.do(request{method: "GET", path: "/api/v1/sessions/" + id, token: token}).want(env.t, http.StatusOK)
	var s sessionDoc
	r.decode(env.t, &s)
	return s, r.Header.Get("ETag")
}

// userIDOf is the ID of the user holding token.
func (env *testEnv) userIDOf(token string) string {
	env.t.Helper()
	var m struct {
		ID string `json:"id"`
	}
	env.do(request{method: "GET", path: "/api/v1/me", token: token}).want(env.t, http.StatusOK).decode(env.t, &m)
	return m.ID
}

// sessionCount counts the coaching_sessions rows of the whole database.
func (env *testEnv) sessionCount() int64 {
	env.t.Helper()
	var n int64
	if err := env.store.DB.Table("coaching_sessions").Count(&n).Error; err != nil {
		env.t.Fatal(err)
	}
	return n
}

// auditActions lists the audit actions recorded for a record, oldest first.
func (env *testEnv) auditActions(recordID string) []string {
	env.t.Helper()
	var actions []string
	if err := env.store.DB.Table("audit_events").Where("record_id = ?", recordID).Order("id").Pluck("action", &actions).Error; err != nil {
		env.t.Fatal(err)
	}
	return actions
}

func TestScheduleSession(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coachID := env.userIDOf(f.coach.AccessToken)
	start := env.sessionSlot(2, 9, 0, time.FixedZone("", 3600)) // 10:00+01:00 = 09:00Z
	s, etag := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": start, "duration_minutes": 50, "location": "  https://meet.example/abc  ", "agenda": "Quarterly review",
	})
	wantStart, _ := time.Parse(time.RFC3339, start)
	if !s.StartsAt.Equal(wantStart) || s.StartsAt.Location() != time.UTC || !s.EndsAt.Equal(wantStart.Add(50*time.Minute)) {
		t.Fatalf("times: starts %v ends %v, want %v + 50m in UTC", s.StartsAt, s.EndsAt, wantStart)
	}
	if s.Status != "scheduled" || s.CoachID != coachID || s.ClientID != f.clientRec.ID || s.DurationMinutes != 50 ||
		s.Location == nil || *s.Location != "https://meet.example/abc" || s.Summary != nil {
		t.Fatalf("session = %+v", s)
	}
	got, getTag := env.getSession(f.coach.AccessToken, s.ID)
	if got.ID != s.ID || getTag != etag {
		t.Fatalf("GET = %+v with ETag %q, want ETag %q", got, getTag, etag)
	}
	if acts := env.auditActions(s.ID); len(acts) != 1 || acts[0] != "session.scheduled" {
		t.Fatalf("audit = %v", acts)
	}

	// The owner schedules with the client's coach, not with themself.
	byOwner, _ := env.scheduleSession(f.owner.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(3, 9, 0, nil), "duration_minutes": 60})
	if byOwner.CoachID != coachID {
		t.Fatalf("owner-scheduled session's coach = %s, want the client's coach %s", byOwner.CoachID, coachID)
	}
	// Reassigned, the client's next session is with the new coach; earlier ones keep theirs.
	otherCoachID := env.userIDOf(f.otherCoach.AccessToken)
	env.do(request{method: "PATCH", path: "/api/v1/clients/" + f.clientRec.ID, token: f.owner.AccessToken,
		body: map[string]any{"coach_id": otherCoachID}}).want(t, http.StatusOK)
	next, _ := env.scheduleSession(f.otherCoach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(4, 9, 0, nil), "duration_minutes": 60})
	if next.CoachID != otherCoachID {
		t.Fatalf("after reassignment the coach is %s, want %s", next.CoachID, otherCoachID)
	}
	if again, _ := env.getSession(f.owner.AccessToken, byOwner.ID); again.CoachID != coachID {
		t.Fatalf("reassignment moved an existing session to %s", again.CoachID)
	}

	// Bad input is a 400 naming every field; clients and archived clients cannot be booked.
	p := env.do(request{method: "POST", path: "/api/v1/clients/" + f.otherRec.ID + "/sessions", token: f.coach.AccessToken,
		body: map[string]any{"starts_at": "1999-12-31T10:00:00Z", "duration_minutes": 4}}).problem(t, http.StatusBadRequest)
	if fields := problemFields(p); !fields["duration_minutes"] {
		t.Fatalf("fields = %v", fields)
	}
	p = env.do(request{method: "POST", path: "/api/v1/clients/" + f.otherRec.ID + "/sessions", token: f.coach.AccessToken,
		body: map[string]any{"starts_at": "1999-12-31T10:00:00Z", "duration_minutes": 30}}).problem(t, http.StatusBadRequest)
	if fields := problemFields(p); !fields["starts_at"] {
		t.Fatalf("fields = %v", fields)
	}
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.otherRec.ID + "/sessions", token: f.otherClient.AccessToken,
		body: map[string]any{"starts_at": env.sessionSlot(5, 9, 0, nil), "duration_minutes": 30}}).problem(t, http.StatusForbidden)
	env.do(request{method: "DELETE", path: "/api/v1/clients/" + f.otherRec.ID, token: f.coach.AccessToken}).want(t, http.StatusNoContent)
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.otherRec.ID + "/sessions", token: f.coach.AccessToken,
		body: map[string]any{"starts_at": env.sessionSlot(5, 9, 0, nil), "duration_minutes": 30}}).problem(t, http.StatusConflict)
}

func problemFields(p problemDoc) map[string]bool {
	out := map[string]bool{}
	for _, e := range p.Errors {
		out[e.Field] = true
	}
	return out
}

func TestSessionStatusTransitions(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	day := 1
	fresh := func() string {
		day++
		s, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
			"starts_at": env.sessionSlot(day, 9, 0, nil), "duration_minutes": 60})
		return s.ID
	}
	setStatus := func(id, status string) response {
		return env.patchSession(f.coach.AccessToken, id, map[string]any{"status": status}, "")
	}
	for _, tc := range []struct {
		path []string // statuses to set in turn; the last is the one tested
		want int
	}{
		{[]string{"completed"}, http.StatusOK},
		{[]string{"cancelled"}, http.StatusOK},
		{[]string{"no_show"}, http.StatusOK},
		{[]string{"scheduled"}, http.StatusOK}, // no change
		{[]string{"cancelled", "scheduled"}, http.StatusOK},
		{[]string{"completed", "scheduled"}, http.StatusConflict},
		{[]string{"no_show", "scheduled"}, http.StatusConflict},
		{[]string{"completed", "cancelled"}, http.StatusConflict},
		{[]string{"completed", "no_show"}, http.StatusConflict},
		{[]string{"no_show", "completed"}, http.StatusConflict},
		{[]string{"cancelled", "completed"}, http.StatusConflict},
		{[]string{"postponed"}, http.StatusBadRequest},
	} {
		t.Run(strings.Join(tc.path, "→"), func(t *testing.T) {
			id := fresh()
			for _, st := range tc.path[:len(tc.path)-1] {
				setStatus(id, st).want(t, http.StatusOK)
			}
			last := tc.path[len(tc.path)-1]
			r := setStatus(id, last)
			if tc.want != http.StatusOK {
				r.problem(t, tc.want)
				return
			}
			var s sessionDoc
			r.want(t, http.StatusOK).decode(t, &s)
			if s.Status != last {
				t.Fatalf("status = %s, want %s", s.Status, last)
			}
			if acts := env.auditActions(id); len(acts) != len(tc.path)+1 || acts[len(acts)-1] != "session.updated" {
				t.Fatalf("audit = %v", acts)
			}
		})
	}
}

func TestRescheduleSession(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	s, etag := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})
	// Moving a session by less than its length overlaps only itself: allowed.
	newStart := env.sessionSlot(2, 9, 30, nil)
	r := env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"starts_at": newStart}, etag).want(t, http.StatusOK)
	var moved sessionDoc
	r.decode(t, &moved)
	want, _ := time.Parse(time.RFC3339, newStart)
	if !moved.StartsAt.Equal(want) || !moved.EndsAt.Equal(want.Add(time.Hour)) || r.Header.Get("ETag") == etag {
		t.Fatalf("moved = %+v, ETag %q (was %q)", moved, r.Header.Get("ETag"), etag)
	}
	// A new length moves the end.
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"duration_minutes": 90}, "").want(t, http.StatusOK).decode(t, &moved)
	if !moved.EndsAt.Equal(want.Add(90*time.Minute)) || moved.DurationMinutes != 90 {
		t.Fatalf("after new duration: %+v", moved)
	}
	if acts := env.auditActions(s.ID); len(acts) != 3 || acts[1] != "session.updated" || acts[2] != "session.updated" {
		t.Fatalf("audit = %v", acts)
	}
	// An empty change is refused.
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{}, "").problem(t, http.StatusBadRequest)
}

func TestDoubleBooking(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	coach := f.coach.AccessToken
	at := func(h, m int) string { return env.sessionSlot(2, h, m, nil) }
	book := func(token, clientID, start string, minutes int) response {
		return env.do(request{method: "POST", path: "/api/v1/clients/" + clientID + "/sessions", token: token,
			body: map[string]any{"starts_at": start, "duration_minutes": minutes}})
	}
	first, _ := env.scheduleSession(coach, f.clientRec.ID, map[string]any{"starts_at": at(10, 0), "duration_minutes": 60})

	conflicts := []struct {
		name     string
		clientID string
		start    string
		minutes  int
	}{
		{"same start", f.clientRec.ID, at(10, 0), 60},
		{"overlapping the end", f.clientRec.ID, at(10, 30), 60},
		{"overlapping the start", f.clientRec.ID, at(9, 30), 60},
		{"inside", f.clientRec.ID, at(10, 10), 10},
		{"around", f.clientRec.ID, at(9, 0), 180},
		{"another client of the same coach", f.otherRec.ID, at(10, 15), 30},
	}
	for _, tc := range conflicts {
		p := book(coach, tc.clientID, tc.start, tc.minutes).problem(t, http.StatusConflict)
		if !strings.HasSuffix(p.Type, "/conflict") || !strings.Contains(p.Detail, "overlaps") {
			t.Errorf("%s: problem = %+v", tc.name, p)
		}
	}
	if n := env.sessionCount(); n != 1 {
		t.Fatalf("%d sessions after refused bookings, want 1", n)
	}

	// Back to back is not double-booked, on either side.
	after, _ := env.scheduleSession(coach, f.otherRec.ID, map[string]any{"starts_at": at(11, 0), "duration_minutes": 30})
	env.scheduleSession(coach, f.otherRec.ID, map[string]any{"starts_at": at(9, 0), "duration_minutes": 60})
	// Another coach's session at the same time does not block.
	theirs := env.createClient(f.otherCoach.AccessToken, map[string]any{"name": "Their client"})
	env.scheduleSession(f.otherCoach.AccessToken, theirs.ID, map[string]any{"starts_at": at(10, 0), "duration_minutes": 60})

	// Rescheduling into a taken slot is refused and changes nothing.
	env.patchSession(coach, after.ID, map[string]any{"starts_at": at(10, 30)}, "").problem(t, http.StatusConflict)
	env.patchSession(coach, after.ID, map[string]any{"duration_minutes": 30, "starts_at": at(10, 59)}, "").problem(t, http.StatusConflict)
	if got, _ := env.getSession(coach, after.ID); !got.StartsAt.Equal(mustTime(t, at(11, 0))) {
		t.Fatalf("refused reschedule moved the session to %v", got.StartsAt)
	}

	// A cancelled session does not block; putting it back on the calendar re-checks.
	env.patchSession(coach, first.ID, map[string]any{"status": "cancelled"}, "").want(t, http.StatusOK)
	taken, _ := env.scheduleSession(coach, f.otherRec.ID, map[string]any{"starts_at": at(10, 15), "duration_minutes": 30})
	env.patchSession(coach, first.ID, map[string]any{"status": "scheduled"}, "").problem(t, http.StatusConflict)
	// Completed and no-show sessions do not block either.
	env.patchSession(coach, taken.ID, map[string]any{"status": "completed"}, "").want(t, http.StatusOK)
	env.patchSession(coach, first.ID, map[string]any{"status": "scheduled"}, "").want(t, http.StatusOK)
	// Moving a cancelled session needs no free slot; it is off the calendar.
	env.patchSession(coach, first.ID, map[string]any{"status": "cancelled"}, "").want(t, http.StatusOK)
	env.patchSession(coach, first.ID, map[string]any{"starts_at": at(11, 0)}, "").want(t, http.StatusOK)
	// But moving and restoring at once is checked at the new time.
	env.patchSession(coach, first.ID, map[string]any{"status": "scheduled", "starts_at": at(11, 15)}, "").problem(t, http.StatusConflict)
	env.patchSession(coach, first.ID, map[string]any{"status": "scheduled", "starts_at": at(12, 0)}, "").want(t, http.StatusOK)

	// On PostgreSQL the database itself refuses an overlap, whoever writes it.
	if env.store.Dialect == store.Postgres {
		err := env.store.DB.Exec(`INSERT INTO coaching_sessions (id, practice_id, client_id, coach_id, starts_at, ends_at,
			duration_minutes, status, created_at, updated_at)
			SELECT ?, practice_id, client_id, coach_id, starts_at, ends_at, duration_minutes, 'scheduled', created_at, updated_at
			FROM coaching_sessions WHERE id = ?`, uuid.NewString(), first.ID).Error
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.Code != "23P01" || pg.ConstraintName != "coaching_sessions_no_double_booking" {
			t.Fatalf("a raw overlapping insert gave %v, want the exclusion constraint's 23P01", err)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDoubleBookingUnderConcurrency books one slot from many requests at
// once: exactly one wins and the others get a 409, never a 500 — on
// PostgreSQL because the exclusion constraint decides, on SQLite because
// the single writer serialises check and insert.
func TestDoubleBookingUnderConcurrency(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	start := env.sessionSlot(3, 14, 0, nil)
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clientID := f.clientRec.ID
			if i%2 == 1 {
				clientID = f.otherRec.ID
			}
			codes[i] = env.do(request{method: "POST", path: "/api/v1/clients/" + clientID + "/sessions", token: f.coach.AccessToken,
				body: map[string]any{"starts_at": start, "duration_minutes": 45}}).Code
		}()
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Fatalf("codes = %v", codes)
		}
	}
	if won != 1 || env.sessionCount() != 1 {
		t.Fatalf("codes = %v, %d sessions; want exactly one booking", codes, env.sessionCount())
	}
}

func TestSessionIfMatch(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	s, etag := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60, "agenda": "first"})
	r := env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"agenda": "second"}, etag).want(t, http.StatusOK)
	fresh := r.Header.Get("ETag")
	if fresh == "" || fresh == etag {
		t.Fatalf("ETag after change = %q (was %q)", fresh, etag)
	}
	for _, stale := range []string{etag, `"99"`, "garbage"} {
		env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"agenda": "third", "status": "cancelled",
			"starts_at": env.sessionSlot(5, 9, 0, nil)}, stale).problem(t, http.StatusPreconditionFailed)
	}
	got, tag := env.getSession(f.coach.AccessToken, s.ID)
	if got.Agenda == nil || *got.Agenda != "second" || got.Status != "scheduled" || !got.StartsAt.Equal(s.StartsAt) || tag != fresh {
		t.Fatalf("a stale If-Match changed the session: %+v, ETag %q", got, tag)
	}
	if acts := env.auditActions(s.ID); len(acts) != 2 {
		t.Fatalf("audit = %v; refused changes must not be recorded", acts)
	}
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"agenda": "fourth"}, fresh).want(t, http.StatusOK)
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"agenda": "fifth"}, "*").want(t, http.StatusOK)
}

func TestSessionPatchNullClears(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	s, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60, "agenda": "Goals", "location": "Room 2"})
	var got sessionDoc
	env.patchSession(f.coach.AccessToken, s.ID, `{"agenda": null, "summary": "We agreed on three steps."}`, "").
		want(t, http.StatusOK).decode(t, &got)
	if got.Agenda != nil || got.Location == nil || *got.Location != "Room 2" || got.Summary == nil || *got.Summary != "We agreed on three steps." {
		t.Fatalf("after clearing agenda: %+v", got)
	}
	env.patchSession(f.coach.AccessToken, s.ID, `{"location": null, "summary": null}`, "").want(t, http.StatusOK).decode(t, &got)
	if got.Location != nil || got.Summary != nil || got.Agenda != nil {
		t.Fatalf("after clearing location and summary: %+v", got)
	}
	// The JSON answer says null, not a missing field.
	raw := env.do(request{method: "GET", path: "/api/v1/sessions/" + s.ID, token: f.coach.AccessToken}).want(t, http.StatusOK).Body
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"agenda", "location", "summary"} {
		if string(fields[k]) != "null" {
			t.Errorf("%s = %s, want null", k, fields[k])
		}
	}
	// Required fields cannot be nulled.
	env.patchSession(f.coach.AccessToken, s.ID, `{"starts_at": null}`, "").problem(t, http.StatusBadRequest)
	env.patchSession(f.coach.AccessToken, s.ID, `{"status": null}`, "").problem(t, http.StatusBadRequest)
}

func TestSessionMassAssignmentIsRefused(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	p2 := env.practice("p2")
	s, etag := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})
	otherCoachID := env.userIDOf(f.otherCoach.AccessToken)
	var p2Practice struct {
		Practice struct {
			ID string `json:"id"`
		} `json:"practice"`
	}
	env.do(request{method: "GET", path: "/api/v1/me", token: p2.owner.AccessToken}).want(t, http.StatusOK).decode(t, &p2Practice)
	probes := map[string]any{
		"coach_id":    otherCoachID,
		"client_id":   f.otherRec.ID,
		"practice_id": p2Practice.Practice.ID,
		"created_at":  "2020-01-01T00:00:00Z",
		"id":          "0190a4e6-0000-7000-8000-000000000001",
		"ends_at":     env.sessionSlot(9, 9, 0, nil),
		"version":     7,
	}
	for field, value := range probes {
		create := map[string]any{"starts_at": env.sessionSlot(3, 9, 0, nil), "duration_minutes": 60, field: value}
		p := env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: f.owner.AccessToken, body: create}).
			problem(t, http.StatusBadRequest)
		if !problemFields(p)[field] {
			t.Errorf("POST with %s: fields %v do not name it", field, problemFields(p))
		}
		p = env.patchSession(f.owner.AccessToken, s.ID, map[string]any{field: value, "agenda": "x"}, "").problem(t, http.StatusBadRequest)
		if !problemFields(p)[field] {
			t.Errorf("PATCH with %s: fields %v do not name it", field, problemFields(p))
		}
	}
	if n := env.sessionCount(); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	got, tag := env.getSession(f.coach.AccessToken, s.ID)
	if got != s || tag != etag {
		t.Fatalf("session changed: %+v (ETag %q), was %+v (ETag %q)", got, tag, s, etag)
	}
	var row struct {
		PracticeID string
		CoachID    string
		ClientID   string
	}
	if err := env.store.DB.Table("coaching_sessions").Select("practice_id, coach_id, client_id").Where("id = ?", s.ID).Take(&row).Error; err != nil {
		t.Fatal(err)
	}
	if row.PracticeID == p2Practice.Practice.ID || row.CoachID != s.CoachID || row.ClientID != f.clientRec.ID {
		t.Fatalf("row = %+v", row)
	}
}

func TestSessionVisibility(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	p2 := env.practice("p2")
	s, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"summary": "Shared with the client."}, "").want(t, http.StatusOK)
	path := "/api/v1/sessions/" + s.ID

	// The client reads their session with its shared summary, and cannot change it.
	got, _ := env.getSession(f.client.AccessToken, s.ID)
	if got.Summary == nil || *got.Summary != "Shared with the client." {
		t.Fatalf("client sees %+v", got)
	}
	env.getSession(f.owner.AccessToken, s.ID)
	env.patchSession(f.client.AccessToken, s.ID, map[string]any{"summary": "mine"}, "").problem(t, http.StatusForbidden)

	// Everyone else gets 404, whatever they try.
	for name, token := range map[string]string{
		"the other client": f.otherClient.AccessToken, "another coach": f.otherCoach.AccessToken,
		"another practice's owner": p2.owner.AccessToken, "another practice's coach": p2.coach.AccessToken,
		"another practice's client": p2.client.AccessToken,
	} {
		env.do(request{method: "GET", path: path, token: token}).problem(t, http.StatusNotFound)
		env.do(request{method: "GET", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: token}).problem(t, http.StatusNotFound)
		env.do(request{method: "GET", path: path + "/private-note", token: token}).problem(t, http.StatusNotFound)
		env.do(request{method: "PUT", path: path + "/private-note", token: token, body: map[string]string{"body": "x"}}).problem(t, http.StatusNotFound)
		if strings.Contains(name, "client") {
			continue // a client may not PATCH at all: 403 before any lookup
		}
		env.patchSession(token, s.ID, map[string]any{"agenda": "hijack"}, "").problem(t, http.StatusNotFound)
		env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/sessions", token: token,
			body: map[string]any{"starts_at": env.sessionSlot(4, 9, 0, nil), "duration_minutes": 30}}).problem(t, http.StatusNotFound)
	}
	if got, _ := env.getSession(f.coach.AccessToken, s.ID); got.Agenda != nil {
		t.Fatalf("agenda = %q", *got.Agenda)
	}
	if n := env.sessionCount(); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	env.do(request{method: "GET", path: path}).problem(t, http.StatusUnauthorized)
	env.do(request{method: "GET", path: "/api/v1/sessions/not-a-uuid", token: f.coach.AccessToken}).problem(t, http.StatusBadRequest)
}

func TestSessionLists(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	ownClient := env.createClient(f.owner.AccessToken, map[string]any{"name": "Owner's client"})
	// Booked out of time order, so that the lists' order is by start, not by creation.
	for _, day := range []int{5, 2, 4, 1, 3} {
		env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
			"starts_at": env.sessionSlot(day, 9, 0, nil), "duration_minutes": 60})
	}
	other, _ := env.scheduleSession(f.coach.AccessToken, f.otherRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 15, 0, nil), "duration_minutes": 60})
	env.scheduleSession(f.owner.AccessToken, ownClient.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})

	list := func(token, path string) []sessionDoc {
		t.Helper()
		var all []sessionDoc
		cursor := ""
		for pages := 0; ; pages++ {
			p := path
			sep := "?"
			if strings.Contains(p, "?") {
				sep = "&"
			}
			p += sep + "limit=2"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			var page sessionListDoc
			env.do(request{method: "GET", path: p, token: token}).want(t, http.StatusOK).decode(t, &page)
			if len(page.Items) > 2 || pages > 10 {
				t.Fatalf("page of %d items (page %d)", len(page.Items), pages)
			}
			all = append(all, page.Items...)
			if page.NextCursor == nil {
				return all
			}
			cursor = *page.NextCursor
		}
	}
	ids := func(list []sessionDoc) []string {
		var out []string
		for _, s := range list {
			out = append(out, s.ID)
		}
		return out
	}
	inOrder := func(name string, got []sessionDoc, want int) {
		t.Helper()
		if len(got) != want {
			t.Fatalf("%s: %d sessions %v, want %d", name, len(got), ids(got), want)
		}
		for i := 1; i < len(got); i++ {
			if got[i].StartsAt.Before(got[i-1].StartsAt) {
				t.Fatalf("%s: not by start: %v then %v", name, got[i-1].StartsAt, got[i].StartsAt)
			}
		}
	}
	inOrder("coach", list(f.coach.AccessToken, "/api/v1/sessions"), 6)
	inOrder("owner", list(f.owner.AccessToken, "/api/v1/sessions"), 7)
	clientList := list(f.client.AccessToken, "/api/v1/sessions")
	inOrder("client", clientList, 5)
	for _, s := range clientList {
		if s.ClientID != f.clientRec.ID {
			t.Fatalf("client sees session %+v", s)
		}
	}
	inOrder("other coach", list(f.otherCoach.AccessToken, "/api/v1/sessions"), 0)
	inOrder("client's sessions", list(f.coach.AccessToken, "/api/v1/clients/"+f.clientRec.ID+"/sessions"), 5)
	inOrder("client's sessions for the owner", list(f.owner.AccessToken, "/api/v1/clients/"+f.clientRec.ID+"/sessions"), 5)
	inOrder("client's own", list(f.client.AccessToken, "/api/v1/clients/"+f.clientRec.ID+"/sessions"), 5)
	if got := list(f.coach.AccessToken, "/api/v1/clients/"+f.otherRec.ID+"/sessions"); len(got) != 1 || got[0].ID != other.ID {
		t.Fatalf("other client's sessions = %v", ids(got))
	}

	// A window: from inclusive, to exclusive, on the start.
	from := url.QueryEscape(env.sessionSlot(2, 9, 0, nil))
	to := url.QueryEscape(env.sessionSlot(4, 9, 0, nil))
	window := list(f.owner.AccessToken, "/api/v1/sessions?from="+from+"&to="+to)
	inOrder("owner's window", window, 4) // day 2 (coach and owner, 9:00), day 2 15:00, day 3
	if window[0].StartsAt != window[1].StartsAt || !(window[0].ID < window[1].ID) {
		t.Fatalf("equal starts are not ordered by id: %v", ids(window))
	}
	if got := list(f.coach.AccessToken, "/api/v1/sessions?from="+from+"&to="+to); len(got) != 3 {
		t.Fatalf("coach's window = %v", ids(got))
	}
	env.do(request{method: "GET", path: "/api/v1/sessions?from=" + to + "&to=" + from, token: f.coach.AccessToken}).problem(t, http.StatusBadRequest)
	env.do(request{method: "GET", path: "/api/v1/sessions?limit=201", token: f.coach.AccessToken}).problem(t, http.StatusBadRequest)
	env.do(request{method: "GET", path: "/api/v1/sessions?cursor=bogus", token: f.coach.AccessToken}).problem(t, http.StatusBadRequest)
	env.do(request{method: "GET", path: "/api/v1/sessions?from=yesterday", token: f.coach.AccessToken}).problem(t, http.StatusBadRequest)
}

func TestPrivateNote(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	s, etag := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})
	notePath := "/api/v1/sessions/" + s.ID + "/private-note"

	var note privateNoteDoc
	env.do(request{method: "GET", path: notePath, token: f.coach.AccessToken}).want(t, http.StatusOK).decode(t, &note)
	if note.Body != "" || note.UpdatedAt != nil {
		t.Fatalf("unwritten note = %+v", note)
	}
	const text = "Seems anxious about the promotion; explore next time.\nÜmlauts & emoji 🙂 stay intact."
	env.do(request{method: "PUT", path: notePath, token: f.coach.AccessToken, body: map[string]string{"body": text}}).
		want(t, http.StatusOK).decode(t, &note)
	if note.Body != text || note.UpdatedAt == nil {
		t.Fatalf("written note = %+v", note)
	}
	for name, token := range map[string]string{"coach": f.coach.AccessToken, "owner": f.owner.AccessToken} {
		var got privateNoteDoc
		env.do(request{method: "GET", path: notePath, token: token}).want(t, http.StatusOK).decode(t, &got)
		if got.Body != text || got.UpdatedAt == nil || !got.UpdatedAt.Equal(*note.UpdatedAt) {
			t.Fatalf("%s reads %+v, want %+v", name, got, note)
		}
	}
	// The client sees the session, so the note is a 403 for them, not a 404.
	env.do(request{method: "GET", path: notePath, token: f.client.AccessToken}).problem(t, http.StatusForbidden)
	env.do(request{method: "PUT", path: notePath, token: f.client.AccessToken, body: map[string]string{"body": "x"}}).problem(t, http.StatusForbidden)
	env.do(request{method: "GET", path: notePath, token: f.otherCoach.AccessToken}).problem(t, http.StatusNotFound)
	// The owner may write it too.
	env.do(request{method: "PUT", path: notePath, token: f.owner.AccessToken, body: map[string]string{"body": text + " (owner)"}}).want(t, http.StatusOK)
	env.do(request{method: "PUT", path: notePath, token: f.coach.AccessToken, body: map[string]string{"body": text}}).want(t, http.StatusOK)

	// At rest the note is ciphertext bound to its session, beside its key's ID.
	var ciphertext []byte
	var keyID *string
	row := env.store.DB.Raw("SELECT private_note_ciphertext, private_note_key_id FROM coaching_sessions WHERE id = ?", s.ID).Row()
	if err := row.Scan(&ciphertext, &keyID); err != nil {
		t.Fatal(err)
	}
	if len(ciphertext) < len(text) || keyID == nil || *keyID != "test-note-key" {
		t.Fatalf("stored note: %d bytes, key %v", len(ciphertext), keyID)
	}
	for _, fragment := range []string{text, "anxious", "promotion", "Ümlauts"} {
		if bytes.Contains(ciphertext, []byte(fragment)) {
			t.Fatalf("the stored note holds %q in plain text", fragment)
		}
	}
	// Writing the note leaves the session's version alone, and is audited without its text.
	if _, tag := env.getSession(f.coach.AccessToken, s.ID); tag != etag {
		t.Fatalf("ETag %q after writing the note, want %q", tag, etag)
	}
	acts := env.auditActions(s.ID)
	if len(acts) != 4 || acts[1] != "session.private_note_written" || acts[3] != "session.private_note_written" {
		t.Fatalf("audit = %v", acts)
	}

	// A ciphertext moved to another session's row does not open there.
	moved, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(3, 9, 0, nil), "duration_minutes": 60})
	if err := env.store.DB.Exec("UPDATE coaching_sessions SET private_note_ciphertext = ?, private_note_key_id = ? WHERE id = ?",
		ciphertext, *keyID, moved.ID).Error; err != nil {
		t.Fatal(err)
	}
	r := env.do(request{method: "GET", path: "/api/v1/sessions/" + moved.ID + "/private-note", token: f.coach.AccessToken})
	if r.Code == http.StatusOK || bytes.Contains(r.Body, []byte("anxious")) {
		t.Fatalf("a moved note opened: %d %s", r.Code, r.Body)
	}

	// A blank body removes the note.
	env.do(request{method: "PUT", path: notePath, token: f.coach.AccessToken, body: map[string]string{"body": "  "}}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: notePath, token: f.coach.AccessToken}).want(t, http.StatusOK).decode(t, &note)
	if note.Body != "" || note.UpdatedAt == nil {
		t.Fatalf("removed note = %+v", note)
	}
	row = env.store.DB.Raw("SELECT private_note_ciphertext, private_note_key_id FROM coaching_sessions WHERE id = ?", s.ID).Row()
	if err := row.Scan(&ciphertext, &keyID); err != nil {
		t.Fatal(err)
	}
	if ciphertext != nil || keyID != nil {
		t.Fatalf("removed note left %d bytes, key %v", len(ciphertext), keyID)
	}
	env.do(request{method: "PUT", path: notePath, token: f.coach.AccessToken, body: map[string]any{"body": "x", "session_id": s.ID}}).
		problem(t, http.StatusBadRequest)
}

// TestPrivateNoteNeverLeaks plants a secret in a private note and looks for
// it everywhere else the session appears.
func TestPrivateNoteNeverLeaks(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	const secret = "PLANTED-SECRET-c0ffee-4711"
	s, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60, "location": "Room 1"})
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"summary": "The shared part."}, "").want(t, http.StatusOK)
	env.do(request{method: "PUT", path: "/api/v1/sessions/" + s.ID + "/private-note", token: f.coach.AccessToken,
		body: map[string]string{"body": "Private: " + secret}}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/sessions/" + s.ID + "/private-note", token: f.owner.AccessToken}).want(t, http.StatusOK)
	env.do(request{method: "GET", path: "/api/v1/sessions/" + s.ID + "/private-note", token: f.client.AccessToken}).problem(t, http.StatusForbidden)

	var seen [][]byte
	for _, token := range []string{f.coach.AccessToken, f.owner.AccessToken, f.client.AccessToken} {
		for _, path := range []string{"/api/v1/sessions/" + s.ID, "/api/v1/sessions", "/api/v1/clients/" + f.clientRec.ID + "/sessions"} {
			seen = append(seen, env.do(request{method: "GET", path: path, token: token}).want(t, http.StatusOK).Body)
		}
		var feed struct {
			URL string `json:"url"`
		}
		env.do(request{method: "POST", path: "/api/v1/me/calendar-feed", token: token}).want(t, http.StatusCreated).decode(t, &feed)
		seen = append(seen, env.do(request{method: "GET", path: strings.TrimPrefix(feed.URL, env.cfg.BaseURL)}).want(t, http.StatusOK).Body)
	}
	seen = append(seen, []byte(env.logs.String()))
	var audit []string
	if err := env.store.DB.Raw("SELECT action || ' ' || record_type || ' ' || COALESCE(ip, '') || ' ' || COALESCE(request_id, '') FROM audit_events").
		Scan(&audit).Error; err != nil {
		t.Fatal(err)
	}
	seen = append(seen, []byte(strings.Join(audit, "\n")))
	for i, b := range seen {
		if bytes.Contains(b, []byte(secret)) {
			t.Fatalf("the private note leaked (output %d): %s", i, b)
		}
	}
	if !bytes.Contains(seen[0], []byte("The shared part.")) {
		t.Fatal("the session read does not show the shared summary; the check above proves nothing")
	}
}

// feedPath asks for a new calendar feed and returns its path on the test server.
func (env *testEnv) feedPath(token string) string {
	env.t.Helper()
	var feed struct {
		URL string `json:"url"`
	}
	env.do(request{method: "POST", path: "/api/v1/me/calendar-feed", token: token}).want(env.t, http.StatusCreated).decode(env.t, &feed)
	path, ok := strings.CutPrefix(feed.URL, env.cfg.BaseURL+"/api/v1/calendar/")
	if !ok || !strings.HasSuffix(path, ".ics") || len(strings.TrimSuffix(path, ".ics")) != 43 {
		env.t.Fatalf("feed URL %q", feed.URL)
	}
	return "/api/v1/calendar/" + path
}

// unfoldICS joins folded lines and checks every line ends with CRLF.
func unfoldICS(t *testing.T, body []byte) []string {
	t.Helper()
	doc := string(body)
	if strings.Count(doc, "\n") != strings.Count(doc, "\r\n") || !strings.HasSuffix(doc, "\r\n") {
		t.Fatalf("lines do not end with CRLF: %q", doc)
	}
	return strings.Split(strings.ReplaceAll(strings.TrimSuffix(doc, "\r\n"), "\r\n ", ""), "\r\n")
}

// icsEvents splits a calendar into its events' properties.
func icsEvents(lines []string) []map[string]string {
	var events []map[string]string
	var cur map[string]string
	for _, l := range lines {
		switch {
		case l == "BEGIN:VEVENT":
			cur = map[string]string{}
		case l == "END:VEVENT":
			events = append(events, cur)
			cur = nil
		case cur != nil:
			name, value, _ := strings.Cut(l, ":")
			cur[name] = value
		}
	}
	return events
}

func TestCalendarFeed(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("p1")
	plusOne := time.FixedZone("", 3600)
	// 10:00+01:00 is 09:00 UTC.
	s, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, plusOne), "duration_minutes": 45,
		"location": "Room 4; 2nd floor, Main St", "agenda": "AGENDA-MARK"})
	env.patchSession(f.coach.AccessToken, s.ID, map[string]any{"summary": "SUMMARY-MARK"}, "").want(t, http.StatusOK)
	cancelled, _ := env.scheduleSession(f.coach.AccessToken, f.otherRec.ID, map[string]any{
		"starts_at": env.sessionSlot(3, 9, 0, nil), "duration_minutes": 60})
	env.patchSession(f.coach.AccessToken, cancelled.ID, map[string]any{"status": "cancelled"}, "").want(t, http.StatusOK)
	recent, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(-80, 9, 0, nil), "duration_minutes": 60})
	old, _ := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID, map[string]any{
		"starts_at": env.sessionSlot(-100, 9, 0, nil), "duration_minutes": 60})
	ownClient := env.createClient(f.owner.AccessToken, map[string]any{"name": "Owner's client"})
	owners, _ := env.scheduleSession(f.owner.AccessToken, ownClient.ID, map[string]any{
		"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})

	first := env.feedPath(f.coach.AccessToken)
	r := env.do(request{method: "GET", path: first}).want(t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "text/calendar; charset=utf-8" {
		t.Fatalf("Content-Type = %q", ct)
	}
	lines := unfoldICS(t, r.Body)
	for _, want := range []string{"BEGIN:VCALENDAR", "VERSION:2.0", "CALSCALE:GREGORIAN"} {
		if !icsHasLine(lines, want) {
			t.Fatalf("no %q in\n%s", want, r.Body)
		}
	}
	if !strings.HasPrefix(lines[0], "BEGIN:VCALENDAR") || lines[len(lines)-1] != "END:VCALENDAR" ||
		!icsHasPrefix(lines, "PRODID:") || !icsHasPrefix(lines, "X-WR-CALNAME:") {
		t.Fatalf("calendar frame wrong:\n%s", r.Body)
	}
	events := icsEvents(lines)
	byUID := map[string]map[string]string{}
	for _, e := range events {
		byUID[e["UID"]] = e
	}
	if len(events) != 3 || byUID[s.ID+"@tandem"] == nil || byUID[cancelled.ID+"@tandem"] == nil || byUID[recent.ID+"@tandem"] == nil {
		t.Fatalf("coach's feed has %d events %v; want the two upcoming and the one 80 days ago, not the one 100 days ago (%s) nor the owner's (%s)",
			len(events), byUID, old.ID, owners.ID)
	}
	e := byUID[s.ID+"@tandem"]
	wantStart := mustTime(t, env.sessionSlot(2, 9, 0, nil)).UTC()
	if e["DTSTART"] != wantStart.Format("20060102T150405Z") || e["DTEND"] != wantStart.Add(45*time.Minute).Format("20060102T150405Z") {
		t.Fatalf("times: DTSTART %s DTEND %s, want %s UTC", e["DTSTART"], e["DTEND"], wantStart)
	}
	if e["SUMMARY"] != "Coaching session with Client p1-client@example.com" || e["LOCATION"] != `Room 4\; 2nd floor\, Main St` ||
		e["STATUS"] != "CONFIRMED" || !strings.HasSuffix(e["DTSTAMP"], "Z") {
		t.Fatalf("event = %v", e)
	}
	if c := byUID[cancelled.ID+"@tandem"]; c["STATUS"] != "CANCELLED" || c["SUMMARY"] != "Coaching session with Client p1-client2@example.com" {
		t.Fatalf("cancelled event = %v", c)
	}
	if _, ok := byUID[cancelled.ID+"@tandem"]["LOCATION"]; ok {
		t.Fatal("an event without a location has a LOCATION")
	}
	for _, mark := range []string{"AGENDA-MARK", "SUMMARY-MARK"} {
		if bytes.Contains(r.Body, []byte(mark)) {
			t.Fatalf("the feed shows %s", mark)
		}
	}

	// Regenerating revokes the old URL.
	second := env.feedPath(f.coach.AccessToken)
	if second == first {
		t.Fatal("regenerating returned the same URL")
	}
	env.do(request{method: "GET", path: first}).problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: second}).want(t, http.StatusOK)

	// The client's feed: their own sessions, named after the coach.
	clientFeed := env.feedPath(f.client.AccessToken)
	events = icsEvents(unfoldICS(t, env.do(request{method: "GET", path: clientFeed}).want(t, http.StatusOK).Body))
	if len(events) != 2 {
		t.Fatalf("client's feed has %d events: %v", len(events), events)
	}
	for _, e := range events {
		if e["SUMMARY"] != "Coaching session with Coach p1-coach@example.com" {
			t.Fatalf("client's event = %v", e)
		}
	}
	// The owner's feed: only the sessions they hold as the coach.
	events = icsEvents(unfoldICS(t, env.do(request{method: "GET", path: env.feedPath(f.owner.AccessToken)}).want(t, http.StatusOK).Body))
	if len(events) != 1 || events[0]["UID"] != owners.ID+"@tandem" || events[0]["SUMMARY"] != "Coaching session with Owner's client" {
		t.Fatalf("owner's feed = %v", events)
	}
	// Another coach's feed is empty.
	events = icsEvents(unfoldICS(t, env.do(request{method: "GET", path: env.feedPath(f.otherCoach.AccessToken)}).want(t, http.StatusOK).Body))
	if len(events) != 0 {
		t.Fatalf("other coach's feed = %v", events)
	}
	// An archived client's feed stops working.
	otherFeed := env.feedPath(f.otherClient.AccessToken)
	env.do(request{method: "GET", path: otherFeed}).want(t, http.StatusOK)
	env.do(request{method: "DELETE", path: "/api/v1/clients/" + f.otherRec.ID, token: f.coach.AccessToken}).want(t, http.StatusNoContent)
	gone := env.do(request{method: "GET", path: otherFeed})
	gone.problem(t, http.StatusNotFound)
	if bytes.Contains(gone.Body, []byte(strings.TrimPrefix(otherFeed, "/api/v1/calendar/"))) {
		t.Fatalf("the problem document repeats the feed token: %s", gone.Body)
	}
	// Unknown and malformed feed names.
	env.do(request{method: "GET", path: "/api/v1/calendar/" + strings.Repeat("A", 43) + ".ics"}).problem(t, http.StatusNotFound)
	env.do(request{method: "GET", path: "/api/v1/calendar/short.ics"}).problem(t, http.StatusBadRequest)
	env.do(request{method: "POST", path: "/api/v1/me/calendar-feed"}).problem(t, http.StatusUnauthorized)

	// Only the token's hash is stored, and creating feeds is audited.
	var hashes [][]byte
	if err := env.store.DB.Table("calendar_feeds").Pluck("token_hash", &hashes).Error; err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSuffix(strings.TrimPrefix(second, "/api/v1/calendar/"), ".ics")
	for _, h := range hashes {
		if bytes.Contains(h, []byte(token)) || len(h) != 32 {
			t.Fatalf("calendar_feeds stores %q", h)
		}
	}
	if strings.Contains(env.logs.String(), token) {
		t.Fatal("the feed token is in the log")
	}
	var created int64
	if err := env.store.DB.Table("audit_events").Where("action = ?", "calendar_feed.created").Count(&created).Error; err != nil {
		t.Fatal(err)
	}
	if created != 6 {
		t.Fatalf("%d calendar_feed.created events, want 6", created)
	}
}

func icsHasPrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func icsHasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestWritingANoteLeavesTheSessionUnchanged: what a client can read of a
// session — its ETag and updated_at — must not reveal that the coach wrote
// a private note.
func TestWritingANoteLeavesTheSessionUnchanged(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("quiet")
	s, etag := env.scheduleSession(f.coach.AccessToken, f.clientRec.ID,
		map[string]any{"starts_at": env.sessionSlot(2, 9, 0, nil), "duration_minutes": 60})
	before := env.do(request{method: "GET", path: "/api/v1/sessions/" + s.ID, token: f.client.AccessToken}).want(t, http.StatusOK)
	env.clock.Advance(10 * time.Minute)
	env.do(request{method: "PUT", path: "/api/v1/sessions/" + s.ID + "/private-note", token: f.coach.AccessToken,
		body: map[string]any{"body": "observations"}}).want(t, http.StatusOK)
	after := env.do(request{method: "GET", path: "/api/v1/sessions/" + s.ID, token: f.client.AccessToken}).want(t, http.StatusOK)
	if after.Header.Get("ETag") != etag || string(after.Body) != string(before.Body) {
		t.Fatalf("the session changed when a note was written:\nbefore %s\nafter  %s", before.Body, after.Body)
	}
}
