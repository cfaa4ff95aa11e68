package httpapi_test

import (
	"net/http"
	"testing"
	"time"
)

type retentionDoc struct {
	ArchivedClientYears *int       `json:"archived_client_years"`
	LogYears            int        `json:"log_years"`
	UpdatedAt           *time.Time `json:"updated_at"`
	LastRunAt           *time.Time `json:"last_run_at"`
	LastRun             *struct {
		ClientsErased      int64 `json:"clients_erased"`
		InvitationsPurged  int64 `json:"invitations_purged"`
		DisclosuresDeleted int64 `json:"disclosures_deleted"`
		AuditEventsDeleted int64 `json:"audit_events_deleted"`
	} `json:"last_run"`
}

// TestRetention runs the retention task with a controlled clock: an
// archived client is erased once the practice's years have passed since
// archiving and not before, an active client never; audit events older
// than the practice keeps them go; expired invitations and sign-ins are
// purged; and the owner sees what the last run did.
func TestRetention(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	p := env.practice("keep")
	owner := p.owner.AccessToken

	var got retentionDoc
	r := env.do(request{method: "GET", path: "/api/v1/practice/retention", token: owner}).want(t, http.StatusOK)
	r.decode(t, &got)
	if got.ArchivedClientYears == nil || *got.ArchivedClientYears != 7 || got.LogYears != 6 || got.UpdatedAt != nil || got.LastRun != nil {
		t.Fatalf("default retention: %s", r.Body)
	}
	// Stale or bad changes are refused.
	env.do(request{method: "PATCH", path: "/api/v1/practice/retention", token: owner, headers: map[string]string{"If-Match": `"9"`},
		body: map[string]any{"log_years": 2}}).problem(t, http.StatusPreconditionFailed)
	env.do(request{method: "PATCH", path: "/api/v1/practice/retention", token: owner, headers: map[string]string{"If-Match": r.Header.Get("ETag")},
		body: map[string]any{"log_years": 0}}).problem(t, http.StatusBadRequest)
	env.do(request{method: "PATCH", path: "/api/v1/practice/retention", token: owner, headers: map[string]string{"If-Match": r.Header.Get("ETag")},
		body: map[string]any{"archived_client_years": 2, "log_years": 3}}).want(t, http.StatusOK).decode(t, &got)
	if *got.ArchivedClientYears != 2 || got.LogYears != 3 || got.UpdatedAt == nil {
		t.Fatalf("updated retention: %+v", got)
	}

	// The other client is archived now; the first stays active.
	env.do(request{method: "DELETE", path: "/api/v1/clients/" + p.otherRec.ID, token: p.coach.AccessToken}).want(t, http.StatusNoContent)
	env.createGoal(p.coach.AccessToken, p.otherRec.ID, map[string]any{"title": "ARCHIVED-GOAL-19f2", "why": "Old"})
	env.createGoal(p.coach.AccessToken, p.clientRec.ID, map[string]any{"title": "ACTIVE-GOAL-4b1c", "why": "Now"})
	audits := env.rowCount("audit_events")

	// A year on, nothing of the archived client goes.
	env.clock.Advance(366 * 24 * time.Hour)
	if err := env.privacy.ApplyRetention(t.Context()); err != nil {
		t.Fatal(err)
	}
	if row := env.dbRow("clients", p.otherRec.ID); row["erased_at"] != nil {
		t.Fatal("an archived client erased a year after archiving, with two years' retention")
	}
	// Two years and a bit after archiving it is erased; three years after
	// the events, the audit log before then is gone.
	env.clock.Advance(2 * 366 * 24 * time.Hour)
	if err := env.privacy.ApplyRetention(t.Context()); err != nil {
		t.Fatal(err)
	}
	if row := env.dbRow("clients", p.otherRec.ID); row["erased_at"] == nil || dbText(row["name"]) != "Erased client" {
		t.Errorf("the archived client after its retention: %v", row)
	}
	if row := env.dbRow("clients", p.clientRec.ID); row["erased_at"] != nil {
		t.Error("retention erased an active client")
	}
	var titles []string
	env.store.DB.Table("goals").Pluck("title", &titles)
	if len(titles) != 1 || titles[0] != "ACTIVE-GOAL-4b1c" {
		t.Errorf("goals after retention: %v", titles)
	}
	if n := env.rowCount("audit_events"); n >= audits {
		t.Errorf("%d audit events after retention, %d before: none older than three years deleted", n, audits)
	}
	if n := env.rowCount("auth_sessions"); n != 0 {
		t.Errorf("%d expired sign-in sessions left", n)
	}

	// The owner signs in again and sees the last run.
	var fresh tokenPair
	env.login("keep-owner@example.com", goodPassword).want(t, http.StatusOK).decode(t, &fresh)
	env.do(request{method: "GET", path: "/api/v1/practice/retention", token: fresh.AccessToken}).want(t, http.StatusOK).decode(t, &got)
	if got.LastRunAt == nil || got.LastRun == nil || got.LastRun.ClientsErased != 1 || got.LastRun.AuditEventsDeleted == 0 {
		t.Errorf("the last run as the owner sees it: %+v %+v", got, got.LastRun)
	}
}
