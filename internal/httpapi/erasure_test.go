package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/store"
)

// textColumns lists every column of every table of the schema, read from
// the database's own catalogue, so that a table added later is scanned too.
func (env *testEnv) textColumns() map[string][]string {
	env.t.Helper()
	out := map[string][]string{}
	if env.store.Dialect == store.Postgres {
		var cols []struct{ TableName, ColumnName string }
		if err := env.store.DB.Raw(`SELECT c.table_name, c.column_name FROM information_schema.columns c
			JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`).Scan(&cols).Error; err != nil {
			env.t.Fatal(err)
		}
		for _, c := range cols {
			out[c.TableName] = append(out[c.TableName], c.ColumnName)
		}
		return out
	}
	var tables []string
	if err := env.store.DB.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).
		Scan(&tables).Error; err != nil {
		env.t.Fatal(err)
	}
	for _, table := range tables {
		var cols []struct{ Name string }
		if err := env.store.DB.Raw(`SELECT name FROM pragma_table_info(?)`, table).Scan(&cols).Error; err != nil {
			env.t.Fatal(err)
		}
		for _, c := range cols {
			out[table] = append(out[table], c.Name)
		}
	}
	return out
}

// findTexts returns, for each text found anywhere in the database (every
// column of every table, read as text), where.
func (env *testEnv) findTexts(texts []string) map[string][]string {
	env.t.Helper()
	found := map[string][]string{}
	tables := env.textColumns()
	if len(tables) < 30 {
		env.t.Fatalf("the catalogue lists %d tables: the scan would prove nothing", len(tables))
	}
	for table, cols := range tables {
		for _, col := range cols {
			for _, text := range texts {
				var n int64
				q := `SELECT count(*) FROM "` + table + `" WHERE CAST("` + col + `" AS TEXT) LIKE ?`
				if err := env.store.DB.Raw(q, "%"+text+"%").Scan(&n).Error; err != nil {
					env.t.Fatalf("scan %s.%s: %v", table, col, err)
				}
				if n > 0 {
					found[text] = append(found[text], table+"."+col)
				}
			}
		}
	}
	return found
}

// TestErasureLeavesNoPersonalData: a cancelled erasure changes nothing;
// a carried-out one revokes the client's live consents and tells their
// therapists, then leaves none of the client's name, e-mail, goals,
// reflections, summaries or notes in any column of any table, while the
// disclosure log still proves which therapist saw what, when.
func TestErasureLeavesNoPersonalData(t *testing.T) {
	t.Parallel()
	env := newEnv(t, authzLimits)
	fx := newAuthzFixture(env)
	fx.addTherapists()
	target := fx.a.clientRec.ID
	email := *fx.a.clientRec.Email
	personal := []string{targetName, email, "To trust my body again", "Run a half marathon", reflectionText, summaryText,
		fx.noteText, activeThreadText, revokedThreadText, detailsText, descriptionText, progressNoteText, agendaText, locationText}
	// What the test plants must be there to be found.
	before := env.findTexts(personal)
	sealed := map[string]bool{fx.noteText: true, activeThreadText: true, revokedThreadText: true}
	for _, text := range personal {
		if !sealed[text] && len(before[text]) == 0 {
			t.Fatalf("the fixture holds no %q: the scan would prove nothing", text)
		}
	}

	// The client asks, then cancels: nothing changes, even after the
	// cooling-off period and a run of the task.
	var req struct {
		Status string    `json:"status"`
		DueAt  time.Time `json:"due_at"`
	}
	env.do(request{method: "POST", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).
		want(t, http.StatusAccepted).decode(t, &req)
	if want := env.clock.Now().Add(14 * 24 * time.Hour); req.Status != "pending" || req.DueAt.Sub(want).Abs() > time.Second {
		t.Fatalf("erasure request: %+v, want pending, due in 14 days", req)
	}
	env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).want(t, http.StatusNoContent)
	env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).problem(t, http.StatusNotFound)
	state := fx.dbState()
	env.clock.Advance(15 * 24 * time.Hour)
	if err := env.privacy.RunDueErasures(t.Context()); err != nil {
		t.Fatal(err)
	}
	expectUnchanged(t, "a cancelled erasure", state, fx.dbState())

	// The owner records the client's request, signed in afresh.
	var owner tokenPair
	env.login(fx.actorEmail(aOwner), goodPassword).want(t, http.StatusOK).decode(t, &owner)
	env.do(request{method: "POST", path: "/api/v1/clients/" + target + "/erasure-request", token: owner.AccessToken}).
		want(t, http.StatusAccepted)
	disclosures := env.rowCount("disclosures")
	var whoSaw []string
	env.store.DB.Table("disclosures").Where("client_id = ?", target).Order("id").Pluck("therapist_user_id", &whoSaw)
	env.clock.Advance(13 * 24 * time.Hour)
	if err := env.privacy.RunDueErasures(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := env.rowCount("goals"); n == 0 {
		t.Fatal("erased before the cooling-off period ended")
	}
	env.clock.Advance(24*time.Hour + time.Minute)
	if err := env.privacy.RunDueErasures(t.Context()); err != nil {
		t.Fatal(err)
	}

	for text, where := range env.findTexts(personal) {
		t.Errorf("after erasure %q is still in %v", text, where)
	}
	// Who saw what stays provable, without content.
	var after []string
	env.store.DB.Table("disclosures").Where("client_id = ?", target).Order("id").Pluck("therapist_user_id", &after)
	if env.rowCount("disclosures") != disclosures || strings.Join(after, ",") != strings.Join(whoSaw, ",") || len(after) == 0 {
		t.Errorf("disclosures after erasure: %v, before %v", after, whoSaw)
	}
	var purposes []string
	env.store.DB.Table("disclosures").Where("client_id = ?", target).Distinct().Pluck("purpose", &purposes)
	if strings.Join(purposes, "") != "" {
		t.Errorf("disclosure purposes survive the erasure: %q", purposes)
	}
	row := env.dbRow("clients", target)
	if row["erased_at"] == nil || dbText(row["name"]) != "Erased client" {
		t.Errorf("the erased client's row: %v", row)
	}
	// The live consent is revoked and its therapist told, without the client's name.
	if st := dbText(env.dbRow("consents", fx.consentOf[tActive].String())["status"]); st != "revoked" {
		t.Errorf("the active consent is %s after erasure", st)
	}
	m := env.lastMail(therapistEmail(therapistNames[tActive]))
	if !strings.Contains(m.Text, "erased") || strings.Contains(m.Text, targetName) {
		t.Errorf("the therapist's notice: %q", m.Text)
	}
	// The client's account is gone with the record.
	env.login(email, goodPassword).problem(t, http.StatusUnauthorized)
	// Other clients keep everything.
	if env.rowCount("goals") == 0 {
		t.Error("the erasure took other clients' goals")
	}
}
