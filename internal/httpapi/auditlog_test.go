package httpapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// auditEventDoc is an audit event as the API shows it.
type auditEventDoc struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	Action     string    `json:"action"`
	RecordType string    `json:"record_type"`
	RecordID   *string   `json:"record_id"`
	Actor      *struct {
		UserID string  `json:"user_id"`
		Name   *string `json:"name"`
		Role   *string `json:"role"`
	} `json:"actor"`
	IP        string `json:"ip"`
	RequestID string `json:"request_id"`
}

// auditPages reads every page of the audit log at query, limit events a
// page, and checks the pages come newest first without repeats.
func (env *testEnv) auditPages(token string, query url.Values, limit int) (events []auditEventDoc, pages int) {
	env.t.Helper()
	query = cloneValues(query)
	query.Set("limit", strconv.Itoa(limit))
	seen := map[string]bool{}
	for {
		var page struct {
			Items      []auditEventDoc `json:"items"`
			NextCursor *string         `json:"next_cursor"`
		}
		env.do(request{method: "GET", path: "/api/v1/practice/audit-events?" + query.Encode(), token: token}).
			want(env.t, http.StatusOK).decode(env.t, &page)
		pages++
		if len(page.Items) > limit {
			env.t.Fatalf("page %d holds %d events, limit %d", pages, len(page.Items), limit)
		}
		for _, e := range page.Items {
			if seen[e.ID] {
				env.t.Fatalf("event %s on two pages", e.ID)
			}
			if n := len(events); n > 0 && events[n-1].ID <= e.ID {
				env.t.Fatalf("event %s after %s: not newest first", e.ID, events[n-1].ID)
			}
			seen[e.ID] = true
			events = append(events, e)
		}
		if page.NextCursor == nil {
			return events, pages
		}
		query.Set("cursor", *page.NextCursor)
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// userID is the ID of the user with the e-mail address.
func (env *testEnv) userID(email string) string {
	env.t.Helper()
	var id string
	if err := env.store.DB.Table("users").Where("email = ?", email).Select("id").Row().Scan(&id); err != nil {
		env.t.Fatalf("user %s: %v", email, err)
	}
	return id
}

// TestAuditEventsForTheOwner: the owner pages through the practice's audit
// log newest first, filters it by action, record type, actor and time, and
// reads each actor's name and role (none for Tandem itself); bad filters
// are 400 problems; another practice's owner sees none of it.
func TestAuditEventsForTheOwner(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	a := env.practice("aud")
	env.practice("bud")
	owner := a.owner.AccessToken
	ownerID, coachID := env.userID("aud-owner@example.com"), env.userID("aud-coach@example.com")
	clientUserID := env.userID("aud-client@example.com")

	// Earlier events, then an hour later, more.
	var early []string
	for i := range 3 {
		early = append(early, env.createClient(owner, map[string]any{"name": "Early " + strconv.Itoa(i), "timezone": "UTC"}).ID)
	}
	env.clock.Advance(time.Hour)
	// The tokens outlive the hour: sign in again.
	owner = env.login("aud-owner@example.com", goodPassword).tokens(t, http.StatusOK).AccessToken
	coach := env.login("aud-coach@example.com", goodPassword).tokens(t, http.StatusOK).AccessToken
	client := env.login("aud-client@example.com", goodPassword).tokens(t, http.StatusOK).AccessToken
	// The clock stands still between advances: the later events come a
	// millisecond after the cut, beyond any rounding of a stored time.
	cut := env.clock.Now()
	env.clock.Advance(time.Millisecond)
	var late []string
	for i := range 4 {
		late = append(late, env.createClient(coach, map[string]any{"name": "Late " + strconv.Itoa(i), "timezone": "UTC"}).ID)
	}
	env.do(request{method: "POST", path: "/api/v1/me/erasure-request", token: client}).want(t, http.StatusAccepted)
	env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: client}).want(t, http.StatusNoContent)

	// Everything, three a page, is what the table holds for the practice.
	var practiceID string
	if err := env.store.DB.Table("clients").Where("id = ?", a.clientRec.ID).Select("practice_id").Row().Scan(&practiceID); err != nil {
		t.Fatal(err)
	}
	var total int64
	env.store.DB.Table("audit_events").Where("practice_id = ?", practiceID).Count(&total)
	all, pages := env.auditPages(owner, nil, 3)
	if int64(len(all)) != total || pages < 3 || total < 15 {
		t.Fatalf("paged through %d events in %d pages; the practice has %d", len(all), pages, total)
	}
	byID := map[string]auditEventDoc{}
	for _, e := range all {
		byID[e.ID] = e
	}

	// Actors as they are now: the owner, the coach, the client.
	roles := map[string]string{ownerID: "owner", coachID: "coach", clientUserID: "client"}
	names := map[string]string{ownerID: "Owner aud-owner@example.com", coachID: "Coach aud-coach@example.com",
		clientUserID: "Client aud-client@example.com"}
	seenRole := map[string]bool{}
	for _, e := range all {
		if e.Actor == nil {
			continue
		}
		want, ok := roles[e.Actor.UserID]
		if !ok {
			continue
		}
		if e.Actor.Role == nil || *e.Actor.Role != want || e.Actor.Name == nil || *e.Actor.Name != names[e.Actor.UserID] {
			t.Errorf("event %s (%s): actor %+v, want %s %q", e.ID, e.Action, *e.Actor, want, names[e.Actor.UserID])
		}
		seenRole[want] = true
		if e.RequestID == "" || e.CreatedAt.IsZero() {
			t.Errorf("event %s (%s) lacks its request ID or time", e.ID, e.Action)
		}
	}
	if len(seenRole) != 3 {
		t.Errorf("the log shows actors of roles %v, want owner, coach and client", seenRole)
	}

	// Each filter, on its own and paged.
	check := func(name string, q url.Values, want func(auditEventDoc) bool) []auditEventDoc {
		t.Helper()
		got, _ := env.auditPages(owner, q, 2)
		n := 0
		for _, e := range all {
			if want(e) {
				n++
			}
		}
		for _, e := range got {
			if !want(e) {
				t.Errorf("%s: event %s (%s %s) does not match", name, e.ID, e.Action, e.RecordType)
			}
		}
		if len(got) != n || n == 0 {
			t.Errorf("%s: %d events, want %d (of %d)", name, len(got), n, len(all))
		}
		return got
	}
	created := check("action", url.Values{"action": {"client.created"}}, func(e auditEventDoc) bool { return e.Action == "client.created" })
	if len(created) != 2+len(early)+len(late) {
		t.Errorf("%d client.created events, want %d", len(created), 2+len(early)+len(late))
	}
	check("record_type", url.Values{"record_type": {"client"}}, func(e auditEventDoc) bool { return e.RecordType == "client" })
	check("actor_user_id", url.Values{"actor_user_id": {coachID}},
		func(e auditEventDoc) bool { return e.Actor != nil && e.Actor.UserID == coachID })
	since := check("since", url.Values{"since": {cut.UTC().Format(time.RFC3339Nano)}},
		func(e auditEventDoc) bool { return !e.CreatedAt.Before(cut) })
	until := check("until", url.Values{"until": {cut.UTC().Format(time.RFC3339Nano)}},
		func(e auditEventDoc) bool { return e.CreatedAt.Before(cut) })
	if len(since)+len(until) != len(all) {
		t.Errorf("since and until split %d events into %d and %d", len(all), len(since), len(until))
	}
	check("all together", url.Values{"action": {"client.created"}, "record_type": {"client"}, "actor_user_id": {coachID},
		"since": {cut.Format(time.RFC3339)}, "until": {cut.Add(time.Hour).Format(time.RFC3339)}},
		func(e auditEventDoc) bool {
			return e.Action == "client.created" && e.Actor != nil && e.Actor.UserID == coachID && !e.CreatedAt.Before(cut)
		})
	for _, id := range append(early, late...) {
		found := false
		for _, e := range created {
			found = found || (e.RecordID != nil && *e.RecordID == id)
		}
		if !found {
			t.Errorf("no client.created event for client %s", id)
		}
	}

	// Bad filters are 400 problems naming the field.
	for query, field := range map[string]string{
		"action=Client%20Created":                               "action",
		"record_type=client%3Bdrop":                             "record_type",
		"actor_user_id=not-a-uuid":                              "actor_user_id",
		"since=yesterday":                                       "since",
		"until=2026-13-01T00:00:00Z":                            "until",
		"since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z": "until",
		"since=2026-03-01T00:00:00Z&until=2026-03-01T00:00:00Z": "until",
		"limit=0":           "limit",
		"limit=201":         "limit",
		"cursor=not-cursor": "cursor",
	} {
		p := env.do(request{method: "GET", path: "/api/v1/practice/audit-events?" + query, token: owner}).problem(t, http.StatusBadRequest)
		if len(p.Errors) == 0 || !strings.Contains(p.Errors[0].Field, field) {
			t.Errorf("?%s: errors %+v, want one on %s", query, p.Errors, field)
		}
	}

	// Another practice's owner reads their own log only; the coach is refused.
	bOwner := env.login("bud-owner@example.com", goodPassword).tokens(t, http.StatusOK).AccessToken
	theirs, _ := env.auditPages(bOwner, nil, 200)
	var bTotal int64
	env.store.DB.Table("audit_events").Where("practice_id <> ?", practiceID).
		Where("practice_id = (SELECT practice_id FROM memberships WHERE user_id = ?)", env.userID("bud-owner@example.com")).Count(&bTotal)
	if int64(len(theirs)) != bTotal || bTotal == 0 {
		t.Errorf("B's owner reads %d events, B has %d", len(theirs), bTotal)
	}
	for _, e := range theirs {
		if _, ok := byID[e.ID]; ok {
			t.Errorf("B's owner reads A's event %s (%s)", e.ID, e.Action)
		}
	}
	for _, q := range []string{"actor_user_id=" + coachID, "action=client.created&record_type=client"} {
		got, _ := env.auditPages(bOwner, mustParseQuery(t, q), 50)
		for _, e := range got {
			if _, ok := byID[e.ID]; ok {
				t.Errorf("B's owner reads A's event %s with ?%s", e.ID, q)
			}
		}
	}
	env.do(request{method: "GET", path: "/api/v1/practice/audit-events", token: coach}).problem(t, http.StatusForbidden)
	env.do(request{method: "GET", path: "/api/v1/practice/audit-events", token: client}).problem(t, http.StatusForbidden)

	// Tandem's own acts have no actor: an erasure carried out.
	offline := env.createClient(owner, map[string]any{"name": "Offline Client", "timezone": "UTC"})
	env.do(request{method: "POST", path: "/api/v1/clients/" + offline.ID + "/erasure-request", token: owner}).want(t, http.StatusAccepted)
	env.clock.Advance(15 * 24 * time.Hour)
	if err := env.privacy.RunDueErasures(t.Context()); err != nil {
		t.Fatal(err)
	}
	owner = env.login("aud-owner@example.com", goodPassword).tokens(t, http.StatusOK).AccessToken
	erased, _ := env.auditPages(owner, url.Values{"action": {"client.erased"}}, 10)
	if len(erased) != 1 || erased[0].Actor != nil || erased[0].RecordID == nil || *erased[0].RecordID != offline.ID {
		t.Errorf("client.erased events: %+v", erased)
	}
}

func mustParseQuery(t *testing.T, q string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
