package httpapi_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-coach/tandem/internal/privacy"
)

type historyImportDoc struct {
	ID           string `json:"id"`
	Issuer       string `json:"issuer"`
	KeyID        string `json:"key_id"`
	PracticeName string `json:"practice_name"`
	Verified     bool   `json:"verified"`
	Goals        []struct {
		Title string `json:"title"`
		Why   string `json:"why"`
	} `json:"goals"`
	ActionSteps []struct {
		Title      string  `json:"title"`
		Reflection *string `json:"reflection"`
	} `json:"action_steps"`
	Sessions []struct {
		Summary *string `json:"summary"`
	} `json:"sessions"`
}

// signBundle signs a history document with key, as another instance would.
func signBundle(t *testing.T, key privacy.BundleKey, issuer string, h privacy.History) map[string]any {
	t.Helper()
	payload, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(key.Private, append([]byte("tandem-history-bundle/1\n"), payload...))
	return map[string]any{"format": "tandem-history-bundle/1", "issuer": issuer, "key_id": key.ID,
		"payload": base64.RawURLEncoding.EncodeToString(payload), "signature": base64.RawURLEncoding.EncodeToString(sig)}
}

// TestHistoryBundleTravels: a client's signed bundle verifies against the
// key published at /.well-known/tandem-keys.json; imported by the client
// into their record at another practice it shows, read-only and marked with
// its origin, to them and their new coach, without anything private to the
// old coach; a tampered bundle, or one signed by an untrusted key, is
// refused and stores nothing; the client removes the import at will.
func TestHistoryBundleTravels(t *testing.T) {
	t.Parallel()
	other := ed25519.NewKeyFromSeed([]byte(strings.Repeat("o", 32)))
	otherKey := privacy.BundleKey{ID: "hb-other-instance", Private: other}
	env := newEnv(t, envOptions{trustedKeys: []privacy.TrustedKey{{ID: otherKey.ID, Public: other.Public().(ed25519.PublicKey)}}})
	old := env.practice("old")
	coach := old.coach.AccessToken
	goal := env.createGoal(coach, old.clientRec.ID, map[string]any{"title": "Change careers", "why": "WHY-6c1e I want work that matters"})
	step := env.createStep(coach, goal.ID, map[string]any{"title": "Talk to three designers"})
	env.completeStep(old.client.AccessToken, step.ID, map[string]any{"note": "REFLECTION-71aa it was easier than I thought"})
	s, _ := env.scheduleSession(coach, old.clientRec.ID, map[string]any{"starts_at": env.sessionSlot(1, 9, 0, nil), "duration_minutes": 50})
	env.do(request{method: "PUT", path: "/api/v1/sessions/" + s.ID + "/private-note", token: coach,
		body: map[string]string{"body": "PRIVATE-0d3e for the old coach only"}}).want(t, http.StatusOK)

	var bundle map[string]any
	env.do(request{method: "GET", path: "/api/v1/me/history-bundle", token: old.client.AccessToken}).want(t, http.StatusOK).decode(t, &bundle)

	// Anyone can verify it with the published key.
	var keys privacy.KeySet
	r := env.do(request{method: "GET", path: "/.well-known/tandem-keys.json"}).want(t, http.StatusOK)
	r.decode(t, &keys)
	if len(keys.Keys) != 1 || keys.Keys[0].KeyID != bundle["key_id"] || keys.Issuer != bundle["issuer"] {
		t.Fatalf("published keys %s for bundle key %v", r.Body, bundle["key_id"])
	}
	pub, _ := base64.RawURLEncoding.DecodeString(keys.Keys[0].X)
	payload, _ := base64.RawURLEncoding.DecodeString(bundle["payload"].(string))
	sig, _ := base64.RawURLEncoding.DecodeString(bundle["signature"].(string))
	if !ed25519.Verify(pub, append([]byte("tandem-history-bundle/1\n"), payload...), sig) {
		t.Fatal("the bundle does not verify with the published key")
	}
	if strings.Contains(string(payload), "PRIVATE-0d3e") {
		t.Fatal("the bundle carries the old coach's private note")
	}

	// A client of a new practice (on this instance; another account stands
	// in for the same person) imports it.
	next := env.practice("next")
	imports := "/api/v1/clients/" + next.clientRec.ID + "/history-imports"
	// Tampered: one byte of the payload changed.
	var h privacy.History
	if err := json.Unmarshal(payload, &h); err != nil {
		t.Fatal(err)
	}
	h.Goals[0].Why = "WHY-forged"
	forged, _ := json.Marshal(h)
	tampered := map[string]any{}
	for k, v := range bundle {
		tampered[k] = v
	}
	tampered["payload"] = base64.RawURLEncoding.EncodeToString(forged)
	if p := env.do(request{method: "POST", path: imports, token: next.client.AccessToken, body: tampered}).problem(t, http.StatusBadRequest); len(p.Errors) == 0 {
		t.Errorf("a tampered bundle: %+v", p)
	}
	// Signed by a key nobody pinned.
	stranger := privacy.BundleKey{ID: "hb-stranger", Private: ed25519.NewKeyFromSeed([]byte(strings.Repeat("s", 32)))}
	env.do(request{method: "POST", path: imports, token: next.client.AccessToken,
		body: signBundle(t, stranger, "https://elsewhere.example", h)}).problem(t, http.StatusBadRequest)
	// The new coach cannot import on the client's behalf.
	env.do(request{method: "POST", path: imports, token: next.coach.AccessToken, body: bundle}).problem(t, http.StatusForbidden)
	if n := env.rowCount("history_imports"); n != 0 {
		t.Fatalf("%d imports stored from refused bundles", n)
	}

	var imported historyImportDoc
	env.do(request{method: "POST", path: imports, token: next.client.AccessToken, body: bundle}).want(t, http.StatusCreated).decode(t, &imported)
	// A bundle of another instance whose key the operator pinned is accepted too.
	h.Goals[0].Why = "WHY-from-the-other-instance"
	h.Issuer, h.IssuedAt = "https://other.example", time.Now().UTC()
	env.do(request{method: "POST", path: imports, token: next.client.AccessToken,
		body: signBundle(t, otherKey, "https://other.example", h)}).want(t, http.StatusCreated)

	var list struct {
		Items []historyImportDoc `json:"items"`
	}
	r = env.do(request{method: "GET", path: imports, token: next.coach.AccessToken}).want(t, http.StatusOK)
	r.decode(t, &list)
	if len(list.Items) != 2 {
		t.Fatalf("the new coach sees %d imports: %s", len(list.Items), r.Body)
	}
	got := list.Items[1] // oldest last
	if !got.Verified || got.Issuer != "https://tandem.example" || got.PracticeName == "" || len(got.Goals) != 1 ||
		got.Goals[0].Why != "WHY-6c1e I want work that matters" || len(got.ActionSteps) != 1 || got.ActionSteps[0].Reflection == nil {
		t.Errorf("the import as the new coach sees it: %+v", got)
	}
	if strings.Contains(string(r.Body), "PRIVATE-0d3e") {
		t.Error("the import shows the old coach's private note")
	}
	// The old coach sees nothing of the new practice, and the client removes the import.
	env.do(request{method: "GET", path: imports, token: old.coach.AccessToken}).problem(t, http.StatusNotFound)
	env.do(request{method: "DELETE", path: imports + "/" + imported.ID, token: next.coach.AccessToken}).problem(t, http.StatusForbidden)
	env.do(request{method: "DELETE", path: imports + "/" + imported.ID, token: next.client.AccessToken}).want(t, http.StatusNoContent)
	env.do(request{method: "DELETE", path: imports + "/" + imported.ID, token: next.client.AccessToken}).problem(t, http.StatusNotFound)
	if n := env.rowCount("history_imports"); n != 1 {
		t.Errorf("%d imports after removing one of two", n)
	}

	// The client's export carries the history they brought, as signed.
	token := next.client.AccessToken
	files := env.exportFiles(env.awaitExport(token, env.startExport(token, "/clients/"+next.clientRec.ID+"/export")))
	var brought struct {
		Schema string `json:"schema"`
		Items  []struct {
			Issuer  string          `json:"issuer"`
			History privacy.History `json:"history"`
		} `json:"items"`
	}
	if err := json.Unmarshal(files["history_imports.json"], &brought); err != nil || brought.Schema != "tandem-export/1/history_import" {
		t.Fatalf("history_imports.json: %v %s", err, files["history_imports.json"])
	}
	if len(brought.Items) != 1 || brought.Items[0].Issuer != "https://other.example" ||
		brought.Items[0].History.Goals[0].Why != "WHY-from-the-other-instance" {
		t.Errorf("the export's imported histories: %s", files["history_imports.json"])
	}
	if !bytes.Contains(files["summary.html"], []byte("WHY-from-the-other-instance")) {
		t.Error("summary.html does not show the imported history")
	}
	if anyFileContains(files, "WHY-6c1e") {
		t.Error("the export holds the history the client removed")
	}
}

// TestLargeHistoryImports: a bundle far beyond the service's 1M body limit
// (4,000 steps with reflections) imports whole, the import route having a
// limit of its own; a payload past the spec's 10,000,000 characters is
// refused by name, and a body past the route's limit with 413; the other
// routes keep the service's limit.
func TestLargeHistoryImports(t *testing.T) {
	t.Parallel()
	other := privacy.BundleKey{ID: "hb-large", Private: ed25519.NewKeyFromSeed([]byte(strings.Repeat("l", 32)))}
	env := newEnv(t, envOptions{trustedKeys: []privacy.TrustedKey{{ID: other.ID, Public: other.Private.Public().(ed25519.PublicKey)}}})
	f := env.practice("large")
	imports := "/api/v1/clients/" + f.clientRec.ID + "/history-imports"

	h := privacy.History{Format: "tandem-history/1", Issuer: "https://other.example", IssuedAt: time.Now().UTC(), PracticeName: "Earlier practice",
		Goals: []privacy.HistoryGoal{{Title: "Run a marathon", Why: "To trust my body", Status: "achieved"}}}
	reflection := strings.Repeat("It went better than I feared. ", 7)
	for i := range 4000 {
		h.Steps = append(h.Steps, privacy.HistoryStep{Title: fmt.Sprintf("Step %d: run 5 km", i), Status: "done", Reflection: &reflection})
	}
	bundle := signBundle(t, other, "https://other.example", h)
	if n := len(bundle["payload"].(string)); n <= 1<<20 {
		t.Fatalf("the bundle's payload is %d characters; the test wants one past the 1M body limit", n)
	}
	var imported historyImportDoc
	env.do(request{method: "POST", path: imports, token: f.client.AccessToken, body: bundle}).want(t, http.StatusCreated).decode(t, &imported)
	if len(imported.ActionSteps) != 4000 {
		t.Errorf("the import holds %d steps, want 4000", len(imported.ActionSteps))
	}

	tooLong := map[string]any{}
	for k, v := range bundle {
		tooLong[k] = v
	}
	tooLong["payload"] = strings.Repeat("A", privacy.MaxBundlePayload+1)
	if p := env.do(request{method: "POST", path: imports, token: f.client.AccessToken, body: tooLong}).problem(t, http.StatusBadRequest); len(p.Errors) == 0 || p.Errors[0].Field != "payload" {
		t.Errorf("a payload past the spec's limit: %+v", p)
	}
	tooLong["payload"] = strings.Repeat("A", 12<<20)
	env.do(request{method: "POST", path: imports, token: f.client.AccessToken, body: tooLong}).problem(t, http.StatusRequestEntityTooLarge)
	// Elsewhere the service's limit holds.
	env.do(request{method: "POST", path: "/api/v1/clients/" + f.clientRec.ID + "/goals", token: f.coach.AccessToken,
		body: map[string]any{"title": "Big", "why": strings.Repeat("w", 2<<20)}}).problem(t, http.StatusRequestEntityTooLarge)
	if n := env.rowCount("history_imports"); n != 1 {
		t.Errorf("%d imports stored, want the one accepted", n)
	}
}
