package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/notify"
)

type preferencesDoc struct {
	DailyDigest       bool       `json:"daily_digest"`
	SessionReminders  bool       `json:"session_reminders"`
	ConsentReminders  bool       `json:"consent_reminders"`
	WeeklySummary     bool       `json:"weekly_summary"`
	DigestHour        int        `json:"digest_hour"`
	QuietHoursStart   *string    `json:"quiet_hours_start"`
	QuietHoursEnd     *string    `json:"quiet_hours_end"`
	WeeklyNudgeBudget int        `json:"weekly_nudge_budget"`
	UpdatedAt         *time.Time `json:"updated_at"`
}

const preferencesPath = "/api/v1/me/notification-preferences"

// TestNotificationPreferences: each person reads the defaults until they
// change something, changes what they name and nothing else, with the
// ETag of what they read, and every bad value is a field error.
func TestNotificationPreferences(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ada := env.register("ada@example.com")
	bob := env.register("bob@example.com")

	var got preferencesDoc
	r := env.do(request{method: "GET", path: preferencesPath, token: ada.AccessToken}).want(t, http.StatusOK)
	r.decode(t, &got)
	if want := (preferencesDoc{DailyDigest: true, SessionReminders: true, ConsentReminders: true, WeeklySummary: true,
		DigestHour: 7, WeeklyNudgeBudget: 7}); !equalPreferences(got, want) || got.UpdatedAt != nil {
		t.Fatalf("defaults = %+v", got)
	}
	etag := r.Header.Get("ETag")

	// Without If-Match: 428; with a stale one: 412; nothing changes.
	env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken, body: map[string]any{"digest_hour": 6},
		headers: map[string]string{"If-Match": ""}}).problem(t, http.StatusPreconditionRequired)
	env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken, body: map[string]any{"digest_hour": 6},
		headers: map[string]string{"If-Match": `"41"`}}).problem(t, http.StatusPreconditionFailed)

	r = env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken,
		body:    map[string]any{"digest_hour": 6, "session_reminders": false, "quiet_hours_start": "22:30", "quiet_hours_end": "07:15"},
		headers: map[string]string{"If-Match": etag}}).want(t, http.StatusOK)
	r.decode(t, &got)
	if got.DigestHour != 6 || got.SessionReminders || !got.DailyDigest || got.QuietHoursStart == nil || *got.QuietHoursStart != "22:30" ||
		*got.QuietHoursEnd != "07:15" || got.WeeklyNudgeBudget != 7 || got.UpdatedAt == nil {
		t.Fatalf("after the change: %+v", got)
	}
	newTag := r.Header.Get("ETag")
	if newTag == etag {
		t.Fatal("the ETag did not change with the preferences")
	}
	// The first ETag is stale now.
	env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken, body: map[string]any{"digest_hour": 9},
		headers: map[string]string{"If-Match": etag}}).problem(t, http.StatusPreconditionFailed)
	// A read answers the same tag, and 304 to it.
	env.do(request{method: "GET", path: preferencesPath, token: ada.AccessToken,
		headers: map[string]string{"If-None-Match": newTag}}).want(t, http.StatusNotModified)

	// Clearing quiet hours takes both fields.
	r = env.do(request{method: "PATCH", path: preferencesPath, token: ada.AccessToken,
		body: map[string]any{"quiet_hours_start": nil, "quiet_hours_end": nil}, headers: map[string]string{"If-Match": newTag}}).want(t, http.StatusOK)
	r.decode(t, &got)
	if got.QuietHoursStart != nil || got.QuietHoursEnd != nil || got.DigestHour != 6 {
		t.Fatalf("after clearing quiet hours: %+v", got)
	}

	// Bob's are his own: still the defaults.
	env.do(request{method: "GET", path: preferencesPath, token: bob.AccessToken}).want(t, http.StatusOK).decode(t, &got)
	if got.DigestHour != 7 || got.UpdatedAt != nil {
		t.Fatalf("bob's preferences changed with ada's: %+v", got)
	}

	for name, tc := range map[string]struct {
		body  any
		field string
	}{
		"hour past 23":           {map[string]any{"digest_hour": 24}, "digest_hour"},
		"negative hour":          {map[string]any{"digest_hour": -1}, "digest_hour"},
		"budget past the bound":  {map[string]any{"weekly_nudge_budget": 22}, "weekly_nudge_budget"},
		"quiet start alone":      {map[string]any{"quiet_hours_start": "22:00"}, "quiet_hours_end"},
		"quiet end cleared only": {map[string]any{"quiet_hours_start": "22:00", "quiet_hours_end": nil}, "quiet_hours_end"},
		"not a time":             {map[string]any{"quiet_hours_start": "24:00", "quiet_hours_end": "07:00"}, "quiet_hours_start"},
		"an empty span":          {map[string]any{"quiet_hours_start": "07:00", "quiet_hours_end": "07:00"}, "quiet_hours_end"},
		"not a boolean":          {map[string]any{"daily_digest": "yes"}, "daily_digest"},
		"null boolean":           {map[string]any{"daily_digest": nil}, "daily_digest"},
		"unknown field":          {map[string]any{"sms": true}, ""},
		"nothing to change":      {map[string]any{}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			p := env.do(request{method: "PATCH", path: preferencesPath, token: bob.AccessToken, body: tc.body}).problem(t, http.StatusBadRequest)
			if tc.field == "" {
				return
			}
			for _, f := range p.Errors {
				if f.Field == tc.field {
					return
				}
			}
			t.Fatalf("no error for %s: %+v", tc.field, p.Errors)
		})
	}
	env.do(request{method: "GET", path: preferencesPath, token: bob.AccessToken}).want(t, http.StatusOK).decode(t, &got)
	if got.DigestHour != 7 || got.UpdatedAt != nil {
		t.Fatalf("a refused change changed bob's preferences: %+v", got)
	}
}

func equalPreferences(a, b preferencesDoc) bool {
	a.UpdatedAt, b.UpdatedAt = nil, nil
	return a.DailyDigest == b.DailyDigest && a.SessionReminders == b.SessionReminders && a.ConsentReminders == b.ConsentReminders &&
		a.WeeklySummary == b.WeeklySummary && a.DigestHour == b.DigestHour && a.WeeklyNudgeBudget == b.WeeklyNudgeBudget &&
		(a.QuietHoursStart == nil) == (b.QuietHoursStart == nil) && (a.QuietHoursEnd == nil) == (b.QuietHoursEnd == nil)
}

// nextLocal is the next instant, at least a minute after the manual
// clock's now, whose local time in loc is hh:mm.
func (env *testEnv) nextLocal(loc *time.Location, hh, mm int) time.Time {
	now := env.clock.Now().Add(time.Minute).In(loc)
	at := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, loc)
	if at.Before(now) {
		at = time.Date(now.Year(), now.Month(), now.Day()+1, hh, mm, 0, 0, loc)
	}
	return at
}

// advanceTo moves the manual clock forward to nextLocal(loc, hh, mm).
// Access tokens issued before may have expired.
func (env *testEnv) advanceTo(loc *time.Location, hh, mm int) time.Time {
	env.t.Helper()
	at := env.nextLocal(loc, hh, mm)
	env.clock.Advance(at.Sub(env.clock.Now()))
	return at
}

// signIn signs a user in again, as after the clock moved past their token.
func (env *testEnv) signIn(email string) string {
	env.t.Helper()
	return env.login(email, goodPassword).tokens(env.t, http.StatusOK).AccessToken
}

// runDigests runs the periodic digest task once, now by the manual clock,
// and waits until the e-mails it queued were tried.
func (env *testEnv) runDigests() notify.DigestStats {
	env.t.Helper()
	stats, err := env.notify.RunDigests(context.Background())
	if err != nil {
		env.t.Fatal(err)
	}
	env.drainMail()
	return stats
}

// mailboxTo returns the e-mails sent to address whose subject starts with
// prefix, oldest first.
func (env *testEnv) mailboxTo(address, prefix string) []mail.Stored {
	env.t.Helper()
	env.drainMail()
	var out []mail.Stored
	for _, m := range slices.Backward(env.mailbox.Messages()) {
		if m.To == address && strings.HasPrefix(m.Subject, prefix) {
			out = append(out, m)
		}
	}
	return out
}

// TestMorningDigest: at the hour a client chose, in their time zone, the
// client gets one e-mail of the steps due today and overdue; a client with
// nothing due gets none; running the task again, or later that day, sends
// nothing more; changing the hour moves the next one.
func TestMorningDigest(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("digest-owner@example.com")
	nyc, nycTokens := env.portalClient(owner.AccessToken, "nia@example.com", "America/New_York")
	tokyo, _ := env.portalClient(owner.AccessToken, "taro@example.com", "Asia/Tokyo")
	newYork, _ := time.LoadLocation("America/New_York")

	today := env.nextLocal(newYork, 6, 50).In(newYork)
	day := func(offset int) string { return today.AddDate(0, 0, offset).Format("2006-01-02") }
	goal := env.createGoal(owner.AccessToken, nyc.ID, map[string]any{"title": "Run a half marathon", "why": "To feel strong"})
	env.createStep(owner.AccessToken, goal.ID, map[string]any{"title": "Buy running shoes", "due_date": day(0)})
	env.createStep(owner.AccessToken, goal.ID, map[string]any{"title": "Book a physio check", "due_date": day(-2)})
	env.createStep(owner.AccessToken, goal.ID, map[string]any{"title": "Run 10 km", "due_date": day(3)})
	done := env.createStep(owner.AccessToken, goal.ID, map[string]any{"title": "Warm up", "due_date": day(0)})
	env.do(request{method: "POST", path: "/api/v1/action-steps/" + done.ID + "/complete", token: nycTokens.AccessToken,
		body: map[string]any{}}).want(t, http.StatusOK)
	tokyoGoal := env.createGoal(owner.AccessToken, tokyo.ID, map[string]any{"title": "Learn to swim", "why": "Fun"})
	env.createStep(owner.AccessToken, tokyoGoal.ID, map[string]any{"title": "Swim a length", "due_date": day(30)})

	// Ten minutes before seven: nothing yet.
	env.advanceTo(newYork, 6, 50)
	if s := env.runDigests(); s.Enqueued != 0 {
		t.Fatalf("before the hour: %+v", s)
	}
	env.advanceTo(newYork, 7, 0)
	if s := env.runDigests(); s.Enqueued != 1 {
		t.Fatalf("at the hour: %+v, want one digest", s)
	}
	got := env.mailboxTo("nia@example.com", "Today:")
	if len(got) != 1 {
		t.Fatalf("%d digests to nia", len(got))
	}
	m := got[0]
	if m.Subject != "Today: 1 step due, 1 overdue" || !strings.Contains(m.Text, "Buy running shoes") ||
		!strings.Contains(m.Text, "Book a physio check") || !strings.Contains(m.Text, "due "+day(-2)) ||
		strings.Contains(m.Text, "Run 10 km") || strings.Contains(m.Text, "Warm up") {
		t.Fatalf("digest: %q\n%s", m.Subject, m.Text)
	}
	if n := len(env.mailboxTo("taro@example.com", "Today:")); n != 0 {
		t.Fatalf("taro, with nothing due, got %d digests", n)
	}

	// The same run again, and later that morning: nothing more. Even with
	// its schedule wound back, as a run that lost its record would find
	// it, the digest's key (kind, client, local date) keeps it to one.
	env.runDigests()
	if err := env.store.DB.Exec("UPDATE digest_schedule SET next_at = ?, last_date = NULL", env.clock.Now().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	if s := env.runDigests(); s.Due == 0 || s.Enqueued != 0 {
		t.Fatalf("the wound-back schedule: %+v, want it due and nothing enqueued", s)
	}
	env.clock.Advance(2 * time.Hour)
	env.runDigests()
	if n := len(env.mailboxTo("nia@example.com", "Today:")); n != 1 {
		t.Fatalf("nia got %d digests on one day, want 1", n)
	}

	// Nia moves her digest to 09:00: the next morning nothing comes at 07:00.
	env.do(request{method: "PATCH", path: preferencesPath, token: env.signIn("nia@example.com"), body: map[string]any{"digest_hour": 9}}).
		want(t, http.StatusOK)
	env.advanceTo(newYork, 7, 5)
	env.runDigests()
	if n := len(env.mailboxTo("nia@example.com", "Today:")); n != 1 {
		t.Fatalf("a digest came at the old hour (%d)", n)
	}
	env.advanceTo(newYork, 9, 0)
	env.runDigests()
	got = env.mailboxTo("nia@example.com", "Today:")
	if len(got) != 2 || got[1].Subject != "Today: 0 steps due, 2 overdue" {
		t.Fatalf("the next morning's digests: %d, %+v", len(got), got)
	}

	// Turned off: none.
	env.do(request{method: "PATCH", path: preferencesPath, token: env.signIn("nia@example.com"), body: map[string]any{"daily_digest": false}}).
		want(t, http.StatusOK)
	env.advanceTo(newYork, 9, 0)
	env.runDigests()
	if n := len(env.mailboxTo("nia@example.com", "Today:")); n != 2 {
		t.Fatalf("a digest came while turned off (%d)", n)
	}
}

// digestFor sets up a portal client in New York with a step due today,
// moves the clock to their digest and returns the digest.
func (env *testEnv) digestFor(ownerToken, email string) (clientDoc, mail.Stored) {
	env.t.Helper()
	newYork, _ := time.LoadLocation("America/New_York")
	c, _ := env.portalClient(ownerToken, email, "America/New_York")
	today := env.nextLocal(newYork, 7, 0).Format("2006-01-02")
	g := env.createGoal(ownerToken, c.ID, map[string]any{"title": "Sleep well", "why": "Energy"})
	env.createStep(ownerToken, g.ID, map[string]any{"title": "Lights out at 23:00", "due_date": today})
	env.advanceTo(newYork, 7, 0)
	env.runDigests()
	got := env.mailboxTo(email, "Today:")
	if len(got) == 0 {
		env.t.Fatalf("no digest to %s", email)
	}
	return c, got[len(got)-1]
}

// TestOneClickUnsubscribe: a digest carries an RFC 8058 one-click link;
// the mail client's POST to it, without signing in, turns digests off and
// says so; opening the page changes nothing; a forged or altered token is
// refused; and mail that the law or safety needs carries no such link.
func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("unsub-owner@example.com")
	_, m := env.digestFor(owner.AccessToken, "uma@example.com")

	if m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %q", m.Headers["List-Unsubscribe-Post"])
	}
	raw := m.Headers["List-Unsubscribe"]
	if !strings.HasPrefix(raw, "<https://tandem.example/unsubscribe?token=") || !strings.HasSuffix(raw, ">") {
		t.Fatalf("List-Unsubscribe = %q", raw)
	}
	link := strings.TrimSuffix(strings.TrimPrefix(raw, "<https://tandem.example"), ">")
	if !strings.Contains(m.Text, "https://tandem.example"+link) {
		t.Fatalf("the digest's text has no unsubscribe link:\n%s", m.Text)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("token")

	// The invitation that made uma a client is not unsubscribable.
	for _, inv := range env.mailboxTo("uma@example.com", "") {
		if inv.Subject != m.Subject && inv.Headers["List-Unsubscribe"] != "" {
			t.Fatalf("%q carries List-Unsubscribe", inv.Subject)
		}
	}

	digestOn := func() bool {
		var p preferencesDoc
		env.do(request{method: "GET", path: preferencesPath, token: env.signIn("uma@example.com")}).want(t, http.StatusOK).decode(t, &p)
		return p.DailyDigest
	}
	oneClick := func(link string) response {
		return env.do(request{method: "POST", path: link, body: "List-Unsubscribe=One-Click",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	}

	// Forged: another kind in the payload, a signature from elsewhere, garbage.
	payload, sig, _ := strings.Cut(token, ".")
	forged := []string{
		strings.Replace(token, payload[:4], "c2Vz", 1), // the payload altered
		payload + "." + strings.Repeat("A", len(sig)),  // a made-up signature
		"not-a-token", "",
	}
	for _, f := range forged {
		oneClick("/unsubscribe?token="+url.QueryEscape(f)).problem(t, http.StatusBadRequest)
		env.do(request{method: "POST", path: "/api/v1/unsubscribe", body: map[string]string{"token": f + "x"}}).problem(t, http.StatusBadRequest)
	}
	// Opening the page changes nothing.
	page := env.do(request{method: "GET", path: link}).want(t, http.StatusOK)
	if !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page.Body), "Turn these e-mails off") {
		t.Fatalf("page: %s %s", page.Header.Get("Content-Type"), page.Body)
	}
	if !digestOn() {
		t.Fatal("a forged token or opening the page turned digests off")
	}

	// The mail client's one-click POST, with no credentials.
	r := oneClick(link).want(t, http.StatusOK)
	if !strings.Contains(string(r.Body), "no longer receive the morning digest") {
		t.Fatalf("one-click answer: %s", r.Body)
	}
	if digestOn() {
		t.Fatal("digests still on after the one-click unsubscribe")
	}
	// Again, and from the page: the same answer, nothing more changes.
	oneClick(link).want(t, http.StatusOK)
	var done struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	}
	env.do(request{method: "POST", path: "/api/v1/unsubscribe", body: map[string]string{"token": token}}).
		want(t, http.StatusOK).decode(t, &done)
	if done.Kind != "daily_digest" || !strings.Contains(done.Message, "morning digest") {
		t.Fatalf("page answer: %+v", done)
	}

	// The next morning brings no digest.
	newYork, _ := time.LoadLocation("America/New_York")
	env.advanceTo(newYork, 7, 0)
	env.runDigests()
	if n := len(env.mailboxTo("uma@example.com", "Today:")); n != 1 {
		t.Fatalf("%d digests, want only the one before unsubscribing", n)
	}
	if strings.Contains(env.logs.String(), token) {
		t.Fatal("the unsubscribe token is in the log")
	}
}

// TestDigestQuietHoursBudgetAndDST runs the digest task every hour for
// eight days by the manual clock, over the start of US daylight time (14
// March 2027), for a client in New York with quiet hours until 07:30 and
// one in Tokyo with a budget of two digests a week. The New York digests
// are queued for 07:30 local, on both sides of the change, and none is
// dropped; Tokyo gets Monday's and Tuesday's, then the next Monday's.
func TestDigestQuietHoursBudgetAndDST(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("dst-owner@example.com")
	nina, ninaTokens := env.portalClient(owner.AccessToken, "nina@example.com", "America/New_York")
	kenji, kenjiTokens := env.portalClient(owner.AccessToken, "kenji@example.com", "Asia/Tokyo")
	for _, c := range []clientDoc{nina, kenji} {
		g := env.createGoal(owner.AccessToken, c.ID, map[string]any{"title": "Write a book", "why": "A story to tell"})
		env.createStep(owner.AccessToken, g.ID, map[string]any{"title": "Outline chapter one", "due_date": "2027-03-01"})
	}
	env.do(request{method: "PATCH", path: preferencesPath, token: ninaTokens.AccessToken,
		body: map[string]any{"quiet_hours_start": "21:00", "quiet_hours_end": "07:30"}}).want(t, http.StatusOK)
	env.do(request{method: "PATCH", path: preferencesPath, token: kenjiTokens.AccessToken,
		body: map[string]any{"weekly_nudge_budget": 2}}).want(t, http.StatusOK)

	start := time.Date(2027, 3, 7, 21, 0, 0, 0, time.UTC)
	env.clock.Advance(start.Sub(env.clock.Now()))
	for env.clock.Now().Before(time.Date(2027, 3, 15, 14, 0, 0, 0, time.UTC)) {
		env.runDigests()
		env.clock.Advance(time.Hour)
	}

	// Tokyo: 07:00 JST on Monday 8, Tuesday 9 and Monday 15 March.
	var kenjiDates []string
	for _, m := range env.mailboxTo("kenji@example.com", "Today:") {
		kenjiDates = append(kenjiDates, m.SentAt.In(mustLoad(t, "Asia/Tokyo")).Format("Mon 2 15:04"))
	}
	if want := []string{"Mon 8 07:00", "Tue 9 07:00", "Mon 15 07:00"}; !slices.Equal(kenjiDates, want) {
		t.Fatalf("kenji's digests: %v, want %v", kenjiDates, want)
	}

	// New York: none sent inside quiet hours; each waits for 07:30 local,
	// 12:30 UTC before the change and 11:30 UTC after it.
	if n := len(env.mailboxTo("nina@example.com", "Today:")); n != 0 {
		t.Fatalf("%d digests sent to nina inside her quiet hours", n)
	}
	var deferred []time.Time
	rows, err := env.store.DB.Raw("SELECT scheduled_at FROM river_job WHERE kind = 'email' AND state = 'scheduled' ORDER BY scheduled_at").Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		deferred = append(deferred, at.UTC())
	}
	var got []string
	for _, at := range deferred {
		got = append(got, at.Format("Jan 2 15:04Z"))
	}
	want := []string{"Mar 8 12:30Z", "Mar 9 12:30Z", "Mar 10 12:30Z", "Mar 11 12:30Z", "Mar 12 12:30Z", "Mar 13 12:30Z",
		"Mar 14 11:30Z", "Mar 15 11:30Z"}
	if !slices.Equal(got, want) {
		t.Fatalf("nina's digests are queued for %v, want %v", got, want)
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// runSessionReminders runs the periodic session reminder task once, now by
// the manual clock, and waits until the e-mails it queued were tried.
func (env *testEnv) runSessionReminders() {
	env.t.Helper()
	if err := env.notify.EnqueueSessionReminders(context.Background()); err != nil {
		env.t.Fatal(err)
	}
	env.drainMail()
}

// TestSessionReminder: a day before a session, its client and its coach
// each get one reminder with the session as an iCalendar event, and one
// only, however often the task runs; someone who turned session reminders
// off gets none.
func TestSessionReminder(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	owner := env.register("remind-owner@example.com")
	sam, _ := env.portalClient(owner.AccessToken, "sam@example.com", "Europe/Berlin")
	rita, ritaTokens := env.portalClient(owner.AccessToken, "rita@example.com", "America/New_York")
	env.do(request{method: "PATCH", path: preferencesPath, token: ritaTokens.AccessToken, body: map[string]any{"session_reminders": false}}).
		want(t, http.StatusOK)

	startsAt := env.clock.Now().Add(30 * time.Hour).Truncate(time.Minute)
	var session struct {
		ID string `json:"id"`
	}
	env.do(request{method: "POST", path: "/api/v1/clients/" + sam.ID + "/sessions", token: owner.AccessToken,
		body: map[string]any{"starts_at": startsAt.Format(time.RFC3339), "duration_minutes": 45, "location": "Room 4"}}).
		want(t, http.StatusCreated).decode(t, &session)

	env.runSessionReminders() // 30 hours ahead: not yet
	if n := len(env.mailboxTo("sam@example.com", "Reminder:")); n != 0 {
		t.Fatalf("%d reminders 30 hours ahead", n)
	}
	env.clock.Advance(6*time.Hour + time.Minute)
	env.runSessionReminders()
	env.clock.Advance(15 * time.Minute)
	env.runSessionReminders()
	env.runSessionReminders()

	for _, who := range []string{"sam@example.com", "remind-owner@example.com"} {
		got := env.mailboxTo(who, "Reminder:")
		if len(got) != 1 {
			t.Fatalf("%s got %d reminders, want 1", who, len(got))
		}
		m := got[0]
		if len(m.Attachments) != 1 || m.Attachments[0].Name != "session.ics" || !strings.HasPrefix(m.Attachments[0].ContentType, "text/calendar") {
			t.Fatalf("%s: attachments %+v", who, m.Attachments)
		}
		ics := string(m.Attachments[0].Data)
		for _, want := range []string{"BEGIN:VEVENT", "UID:" + session.ID + "@tandem", "DTSTART:" + startsAt.UTC().Format("20060102T150405Z"), "LOCATION:Room 4"} {
			if !strings.Contains(ics, want) {
				t.Fatalf("%s: the event lacks %q:\n%s", who, want, ics)
			}
		}
		if m.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
			t.Fatalf("%s: no one-click unsubscribe", who)
		}
	}
	sm := env.mailboxTo("sam@example.com", "Reminder:")[0]
	if want := startsAt.In(mustLoad(t, "Europe/Berlin")).Format("15:04"); !strings.Contains(sm.Text, want) || !strings.Contains(sm.Text, "Europe/Berlin") {
		t.Fatalf("sam's reminder does not give the local time %s:\n%s", want, sm.Text)
	}

	// A session booked at short notice, inside the window the task passed
	// already, is reminded of at its next run.
	soon := env.clock.Now().Add(5 * time.Hour).Truncate(time.Minute)
	env.do(request{method: "POST", path: "/api/v1/clients/" + sam.ID + "/sessions", token: env.signIn("remind-owner@example.com"),
		body: map[string]any{"starts_at": soon.Format(time.RFC3339), "duration_minutes": 30}}).want(t, http.StatusCreated)
	env.clock.Advance(15 * time.Minute)
	env.runSessionReminders()
	env.runSessionReminders()
	if n := len(env.mailboxTo("sam@example.com", "Reminder:")); n != 2 {
		t.Fatalf("sam got %d reminders after a session at short notice, want 2", n)
	}

	// Rita turned reminders off: her session brings her none, her coach one.
	ritaStart := env.clock.Now().Add(30 * time.Hour).Truncate(time.Minute)
	env.do(request{method: "POST", path: "/api/v1/clients/" + rita.ID + "/sessions", token: env.signIn("remind-owner@example.com"),
		body: map[string]any{"starts_at": ritaStart.Format(time.RFC3339), "duration_minutes": 30}}).want(t, http.StatusCreated)
	env.clock.Advance(6*time.Hour + time.Minute)
	env.runSessionReminders()
	if n := len(env.mailboxTo("rita@example.com", "Reminder:")); n != 0 {
		t.Fatalf("rita, who turned reminders off, got %d", n)
	}
	if n := len(env.mailboxTo("remind-owner@example.com", "Reminder:")); n != 3 {
		t.Fatalf("the coach got %d reminders, want 3", n)
	}
}

// TestConsentExpiryReminders: 14 days and 1 day before a consent ends, its
// client gets a reminder with a link to renew it, once each; a revoked
// consent brings none; and the therapist hears nothing by mail.
func TestConsentExpiryReminders(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "expiry")
	th := fx.therapist("Tess Thera")
	ends := env.clock.Now().Add(20 * 24 * time.Hour).Truncate(time.Minute)
	id := fx.consentUntil(th, fx.p.clientRec.ID, "active", ends, "goals")
	revoked := fx.consentUntil(th, fx.p.otherRec.ID, "active", ends, "goals")
	fx.setConsentStatus(revoked, "revoked")
	client, other := "expiry-client@example.com", "expiry-client2@example.com"

	run := func() {
		t.Helper()
		if err := env.notify.EnqueueConsentReminders(context.Background()); err != nil {
			t.Fatal(err)
		}
		env.drainMail()
	}
	run()
	env.clock.Advance(6*24*time.Hour + time.Hour) // 13 days 23 hours before the end
	run()
	run()
	got := env.mailboxTo(client, "Your consent")
	if len(got) != 1 || got[0].Subject != "Your consent for Tess Thera ends in 14 days" ||
		!strings.Contains(got[0].Text, "https://tandem.example/portal/consent/new?renew="+id.String()) {
		t.Fatalf("the 14-day reminder: %+v", got)
	}
	env.clock.Advance(13 * 24 * time.Hour) // 23 hours before the end
	run()
	got = env.mailboxTo(client, "Your consent")
	if len(got) != 2 || got[1].Subject != "Your consent for Tess Thera ends tomorrow" {
		t.Fatalf("reminders: %+v", got)
	}
	if n := len(env.mailboxTo(other, "Your consent")); n != 0 {
		t.Fatalf("%d reminders of a revoked consent", n)
	}
	if n := len(env.mailboxTo(therapistEmail("Tess Thera"), "")); n != 0 {
		t.Fatalf("the therapist got %d e-mails about the client", n)
	}
}

// TestWeeklySummary: on Monday morning each coach gets one summary of
// their own clients (overdue steps, the week's sessions, consents
// changing); a coach with nothing to say, and the therapist, get none.
func TestWeeklySummary(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	fx := newShareFixture(env, "weekly")
	th := fx.therapist("Wes Thera")
	now := env.clock.Now().UTC()
	monday := time.Date(now.Year(), now.Month(), now.Day(), 7, 0, 0, 0, time.UTC)
	for monday.Weekday() != time.Monday || !monday.After(now) {
		monday = monday.AddDate(0, 0, 1)
	}
	coach := fx.p.coach.AccessToken
	g := env.createGoal(coach, fx.p.clientRec.ID, map[string]any{"title": "Speak up in meetings", "why": "Be heard"})
	env.createStep(coach, g.ID, map[string]any{"title": "Prepare one point", "due_date": monday.AddDate(0, 0, -2).Format("2006-01-02")})
	env.do(request{method: "POST", path: "/api/v1/clients/" + fx.p.clientRec.ID + "/sessions", token: coach,
		body: map[string]any{"starts_at": monday.Add(51 * time.Hour).Format(time.RFC3339), "duration_minutes": 60}}).want(t, http.StatusCreated)
	fx.consentUntil(th, fx.p.clientRec.ID, "active", monday.AddDate(0, 0, 10), "goals")

	env.clock.Advance(monday.Add(time.Minute).Sub(env.clock.Now()))
	for range 2 {
		if err := env.notify.EnqueueWeeklySummaries(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	got := env.mailboxTo("weekly-coach@example.com", "Your week")
	if len(got) != 1 {
		t.Fatalf("the coach got %d summaries, want 1", len(got))
	}
	for _, want := range []string{"Clients with overdue steps:", "Client weekly-client@example.com: 1 overdue",
		"Sessions this week:", monday.Add(51 * time.Hour).Format("Mon 2 Jan 15:04"),
		"Consents changing:", "consent for Wes Thera: now active, ends " + monday.AddDate(0, 0, 10).Format("Mon 2 Jan")} {
		if !strings.Contains(got[0].Text, want) {
			t.Fatalf("the summary lacks %q:\n%s", want, got[0].Text)
		}
	}
	for _, nobody := range []string{"weekly-coach2@example.com", "weekly-owner@example.com"} {
		if n := len(env.mailboxTo(nobody, "Your week")); n != 0 {
			t.Fatalf("%s, with no clients, got a summary", nobody)
		}
	}
	if n := len(env.mailboxTo(therapistEmail("Wes Thera"), "")); n != 0 {
		t.Fatalf("the therapist got %d e-mails", n)
	}
}

// mailDeliveryDoc is an entry of an e-mail delivery log.
type mailDeliveryDoc struct {
	Kind      string  `json:"kind"`
	Recipient string  `json:"recipient"`
	ClientID  *string `json:"client_id"`
	Status    string  `json:"status"`
	Attempts  int     `json:"attempts"`
	SentAt    *string `json:"sent_at"`
}

func (env *testEnv) mailDeliveries(token, query string) []mailDeliveryDoc {
	env.t.Helper()
	var page struct {
		Items []mailDeliveryDoc `json:"items"`
	}
	env.do(request{method: "GET", path: "/api/v1" + query, token: token}).want(env.t, http.StatusOK).decode(env.t, &page)
	return page.Items
}

func kindsTo(list []mailDeliveryDoc) map[string]string {
	out := map[string]string{}
	for _, d := range list {
		out[d.Kind+" "+d.Recipient] = d.Status
	}
	return out
}

// TestDeliveryLogs: staff read the practice's e-mail log (the owner all of
// it, a coach their own clients' and their own mail), each person reads
// the e-mails sent to them (a client, also the invitation that made their
// account), and no log holds anything of an e-mail but its kind,
// recipient and fate.
func TestDeliveryLogs(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	f := env.practice("log")
	env.drainMail()

	owner := kindsTo(env.mailDeliveries(f.owner.AccessToken, "/practice/deliveries"))
	for _, want := range []string{"coach-invitation log-coach@example.com", "coach-invitation log-coach2@example.com",
		"client-invitation log-client@example.com", "client-invitation log-client2@example.com"} {
		if owner[want] != "sent" {
			t.Errorf("owner's log: %q is %q, want sent (log: %v)", want, owner[want], owner)
		}
	}
	// The owner's own account mail (address verification) belongs to no practice.
	for k := range owner {
		if strings.HasPrefix(k, "verify-email ") {
			t.Errorf("owner's practice log holds account mail %q", k)
		}
	}

	coach := kindsTo(env.mailDeliveries(f.coach.AccessToken, "/practice/deliveries"))
	if coach["client-invitation log-client@example.com"] != "sent" || coach["coach-invitation log-coach@example.com"] != "sent" {
		t.Errorf("coach's log misses their client's or their own mail: %v", coach)
	}
	if _, ok := coach["coach-invitation log-coach2@example.com"]; ok {
		t.Errorf("coach's log holds another coach's invitation: %v", coach)
	}
	other := kindsTo(env.mailDeliveries(f.otherCoach.AccessToken, "/practice/deliveries"))
	if len(other) != 1 || other["coach-invitation log-coach2@example.com"] != "sent" {
		t.Errorf("a coach without clients reads %v, want only their own invitation", other)
	}
	one := env.mailDeliveries(f.owner.AccessToken, "/practice/deliveries?client_id="+f.clientRec.ID+"&status=sent")
	if len(one) != 1 || one[0].Recipient != "log-client@example.com" || one[0].ClientID == nil || *one[0].ClientID != f.clientRec.ID {
		t.Errorf("filtered by client and status: %+v", one)
	}
	env.do(request{method: "GET", path: "/api/v1/practice/deliveries?status=bounced", token: f.owner.AccessToken}).
		problem(t, http.StatusBadRequest)
	env.do(request{method: "GET", path: "/api/v1/practice/deliveries", token: f.client.AccessToken}).
		problem(t, http.StatusForbidden)

	mine := env.mailDeliveries(f.client.AccessToken, "/me/deliveries")
	if len(mine) != 1 || mine[0].Kind != "client-invitation" || mine[0].Recipient != "log-client@example.com" ||
		mine[0].Attempts != 1 || mine[0].SentAt == nil || mine[0].ClientID != nil {
		t.Errorf("the client's own log: %+v, want their invitation", mine)
	}
	// A password reset is the client's own business, not the practice's.
	env.do(request{method: "POST", path: "/api/v1/auth/password-reset", body: map[string]string{"email": "log-client@example.com"}}).
		want(t, http.StatusAccepted)
	env.drainMail()
	if got := kindsTo(env.mailDeliveries(f.client.AccessToken, "/me/deliveries")); got["password-reset log-client@example.com"] != "sent" {
		t.Errorf("the client's log after a reset: %v", got)
	}
	if got := kindsTo(env.mailDeliveries(f.owner.AccessToken, "/practice/deliveries")); got["password-reset log-client@example.com"] != "" {
		t.Errorf("the practice's log holds the client's password reset: %v", got)
	}

	raw := env.do(request{method: "GET", path: "/api/v1/practice/deliveries", token: f.owner.AccessToken}).want(t, http.StatusOK)
	for _, secret := range []string{"token", "subject", "Subject", "text"} {
		if bytes.Contains(raw.Body, []byte(`"`+secret)) {
			t.Errorf("the log carries %q: %s", secret, raw.Body)
		}
	}
}
