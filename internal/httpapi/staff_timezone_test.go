package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOwnTimezonePreference: everyone reads UTC until they choose a zone,
// a zone is changed like any other preference, and a name that is not an
// IANA zone is a 400 naming the field.
func TestOwnTimezonePreference(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("tz-ada@example.com")

	var got struct {
		Timezone string `json:"timezone"`
	}
	env.do(request{method: "GET", path: preferencesPath, token: ada.AccessToken}).want(t, http.StatusOK).decode(t, &got)
	if got.Timezone != "UTC" {
		t.Fatalf("default time zone %q, want UTC", got.Timezone)
	}
	env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken,
		body: map[string]any{"timezone": "Australia/Sydney"}}).want(t, http.StatusOK).decode(t, &got)
	if got.Timezone != "Australia/Sydney" {
		t.Fatalf("time zone after the change %q", got.Timezone)
	}
	for _, bad := range []string{"Mars/Olympus_Mons", "Local", "   "} {
		p := env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken,
			body: map[string]any{"timezone": bad}}).problem(t, http.StatusBadRequest)
		named := false
		for _, f := range p.Errors {
			named = named || f.Field == "timezone"
		}
		if !named {
			t.Fatalf("%q: no error for timezone: %+v", bad, p.Errors)
		}
	}
	env.do(request{method: "GET", path: preferencesPath, token: ada.AccessToken}).want(t, http.StatusOK).decode(t, &got)
	if got.Timezone != "Australia/Sydney" {
		t.Fatalf("a refused change changed the zone to %q", got.Timezone)
	}
}

// TestWeeklySummaryAtTheCoachsLocalMonday: a coach in Sydney gets the
// weekly summary at 07:00 on their own Monday, not at 07:00 UTC; moving to
// New York in that week, before New York's Monday morning, does not bring
// a second summary for the same week.
func TestWeeklySummaryAtTheCoachsLocalMonday(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "sydney")
	coachEmail := "sydney-coach@example.com"
	sydney, newYork := mustLoad(t, "Australia/Sydney"), mustLoad(t, "America/New_York")
	coach := fx.p.coach.AccessToken
	g := env.createGoal(coach, fx.p.clientRec.ID, map[string]any{"title": "Speak up in meetings", "why": "Be heard"})
	env.createStep(coach, g.ID, map[string]any{"title": "Prepare one point",
		"due_date": env.clock.Now().AddDate(0, 0, -3).Format("2006-01-02")})
	env.do(request{method: "PATCH", path: preferencesPath, token: coach,
		body: map[string]any{"timezone": "Australia/Sydney"}}).want(t, http.StatusOK)

	monday := env.nextLocal(sydney, 7, 0)
	for monday.Weekday() != time.Monday {
		monday = monday.AddDate(0, 0, 1)
	}
	run := func() {
		t.Helper()
		if err := env.notify.EnqueueWeeklySummaries(context.Background()); err != nil {
			t.Fatal(err)
		}
		env.drainMail()
	}
	summaries := func() int { return len(env.mailboxTo(coachEmail, "Your week")) }

	env.clock.Advance(monday.Add(-15 * time.Minute).Sub(env.clock.Now()))
	run()
	if n := summaries(); n != 0 {
		t.Fatalf("%d summaries before the coach's Monday morning", n)
	}
	env.clock.Advance(16 * time.Minute)
	run()
	run()
	got := env.mailboxTo(coachEmail, "Your week")
	if len(got) != 1 {
		t.Fatalf("the coach got %d summaries at 07:01 on their Monday, want 1", len(got))
	}
	if at := got[0].SentAt.In(sydney); at.Weekday() != time.Monday || at.Hour() != 7 {
		t.Fatalf("the summary went at %s in Sydney", at)
	}
	if !strings.Contains(got[0].Text, "1 overdue") {
		t.Fatalf("the summary lacks the overdue step:\n%s", got[0].Text)
	}

	// The coach moves to New York while it is still Monday 01:00 UTC,
	// before New York's Monday morning: that morning brings nothing new.
	utcMonday := time.Date(monday.Year(), monday.Month(), monday.Day(), 1, 0, 0, 0, time.UTC)
	env.clock.Advance(utcMonday.Sub(env.clock.Now()))
	env.do(request{method: "PATCH", path: preferencesPath, token: env.signIn(coachEmail),
		body: map[string]any{"timezone": "America/New_York"}}).want(t, http.StatusOK)
	nyMonday := time.Date(monday.Year(), monday.Month(), monday.Day(), 9, 0, 0, 0, newYork)
	for env.clock.Now().Before(nyMonday) {
		run()
		env.clock.Advance(time.Hour)
	}
	if n := summaries(); n != 1 {
		t.Fatalf("the coach got %d summaries in one week after changing zone, want 1", n)
	}
}

// TestStaffQuietHoursInTheirZone: a coach in New York with quiet hours
// 21:00–08:00 gets the reminder of a session that comes due at 02:50 New
// York time at 08:00 New York time, the end of their own quiet hours.
func TestStaffQuietHoursInTheirZone(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "nyquiet")
	coachEmail := "nyquiet-coach@example.com"
	newYork := mustLoad(t, "America/New_York")
	env.do(request{method: "PATCH", path: preferencesPath, token: fx.p.coach.AccessToken,
		body: map[string]any{"timezone": "America/New_York", "quiet_hours_start": "21:00", "quiet_hours_end": "08:00"}}).
		want(t, http.StatusOK)

	now := env.advanceTo(newYork, 2, 50)
	startsAt := now.Add(20 * time.Hour)
	env.do(request{method: "POST", path: "/api/v1/clients/" + fx.p.clientRec.ID + "/sessions", token: env.signIn(coachEmail),
		body: map[string]any{"starts_at": startsAt.UTC().Format(time.RFC3339), "duration_minutes": 45}}).want(t, http.StatusCreated)
	env.runSessionReminders()

	if n := len(env.mailboxTo(coachEmail, "Reminder:")); n != 0 {
		t.Fatalf("the coach got %d reminders inside their quiet hours", n)
	}
	var sendAfter []time.Time
	if err := env.store.DB.Table("mail_deliveries").Where("recipient = ? AND kind = ?", coachEmail, "session-reminder").
		Pluck("send_after", &sendAfter).Error; err != nil {
		t.Fatal(err)
	}
	want := time.Date(now.Year(), now.Month(), now.Day(), 8, 0, 0, 0, newYork)
	if len(sendAfter) != 1 || !sendAfter[0].Equal(want) {
		t.Fatalf("the coach's reminder waits until %v, want %s (08:00 in New York)", sendAfter, want.UTC())
	}
}
