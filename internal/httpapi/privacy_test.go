package httpapi_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// exportFiles downloads a built export and returns its files by name.
func (env *testEnv) exportFiles(e exportDoc) map[string][]byte {
	env.t.Helper()
	r := env.do(request{method: "GET", path: env.downloadPath(e)}).want(env.t, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
		env.t.Fatalf("download: Content-Type %q", ct)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		env.t.Fatalf("download is no ZIP: %v", err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			env.t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			env.t.Fatal(err)
		}
		files[f.Name] = b
	}
	// The manifest names every other file with its digest.
	var m struct {
		Format string `json:"format"`
		Files  []struct {
			Name   string `json:"name"`
			SHA256 string `json:"sha256"`
		} `json:"files"`
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.Format != "tandem-export/1" {
		env.t.Fatalf("manifest.json: %v %s", err, files["manifest.json"])
	}
	if len(m.Files) != len(files)-1 {
		env.t.Errorf("the manifest lists %d files, the archive holds %d besides it", len(m.Files), len(files)-1)
	}
	for _, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 {
			env.t.Errorf("manifest: %s has another digest", f.Name)
		}
	}
	return files
}

func names(files map[string][]byte) []string {
	out := make([]string, 0, len(files))
	for n := range files {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func anyFileContains(files map[string][]byte, text string) bool {
	for _, b := range files {
		if bytes.Contains(b, []byte(text)) {
			return true
		}
	}
	return false
}

// TestExportContentsPerActor: a client's export of their record holds
// their goals with why, steps with reflections, sessions with shared
// summaries, consents with the signed text, the disclosure log and the
// coordination threads, and never the coach's private notes; the coach's
// export of the same record holds the private notes too. Each link works
// once, and exporting writes audit events.
func TestExportContentsPerActor(t *testing.T) {
	t.Parallel()
	env := newEnv(t, authzLimits)
	fx := newAuthzFixture(env)
	fx.addTherapists()
	target := fx.a.clientRec.ID
	shared := []string{targetName, "To trust my body again", reflectionText, summaryText, activeThreadText, revokedThreadText,
		detailsText, descriptionText, progressNoteText, "TANDEM CONSENT TO SHARE COACHING INFORMATION", therapistNames[tActive]}

	clientToken := fx.token(aClient)
	own := env.awaitExport(clientToken, env.startExport(clientToken, "/clients/"+target+"/export"))
	if own.Scope != "client_self" {
		t.Errorf("the client's export has scope %q", own.Scope)
	}
	files := env.exportFiles(own)
	want := []string{"action_steps.json", "client.json", "consents.json", "coordination_notes.json", "disclosures.json",
		"goal_progress.json", "goals.json", "history_imports.json", "manifest.json", "sessions.json", "summary.html"}
	if got := names(files); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the client's export holds %v, want %v", got, want)
	}
	for _, text := range shared {
		if !anyFileContains(files, text) {
			t.Errorf("the client's export lacks %q", text)
		}
		if !bytes.Contains(files["summary.html"], []byte(text)) {
			t.Errorf("the client's summary.html lacks %q", text)
		}
	}
	if anyFileContains(files, fx.noteText) {
		t.Error("the client's export holds the coach's private note")
	}
	var steps struct {
		Schema string `json:"schema"`
		Items  []struct {
			ID         string  `json:"id"`
			Reflection *string `json:"reflection"`
		} `json:"items"`
	}
	if err := json.Unmarshal(files["action_steps.json"], &steps); err != nil || steps.Schema != "tandem-export/1/action_step" {
		t.Fatalf("action_steps.json: %v %s", err, files["action_steps.json"])
	}
	// The link is spent.
	r := env.do(request{method: "GET", path: env.downloadPath(own)})
	if r.problem(t, http.StatusGone).Status != http.StatusGone {
		t.Errorf("a second download: %d", r.Code)
	}

	coachToken := fx.token(aCoach)
	staff := env.awaitExport(coachToken, env.startExport(coachToken, "/clients/"+target+"/export"))
	files = env.exportFiles(staff)
	if staff.Scope != "client_staff" || files["private_notes.json"] == nil {
		t.Fatalf("the coach's export: scope %q, files %v", staff.Scope, names(files))
	}
	for _, text := range append(shared, fx.noteText) {
		if !anyFileContains(files, text) {
			t.Errorf("the coach's export lacks %q", text)
		}
	}

	// An account export holds the account; a client's also their record.
	account := env.awaitExport(clientToken, env.startExport(clientToken, "/me/export"))
	files = env.exportFiles(account)
	for _, name := range []string{"account.json", "memberships.json", "sign_in_sessions.json", "client.json", "summary.html"} {
		if files[name] == nil {
			t.Errorf("the client's account export lacks %s: %v", name, names(files))
		}
	}
	if anyFileContains(files, fx.noteText) {
		t.Error("the client's account export holds the coach's private note")
	}

	var events []struct{ Action string }
	if err := env.store.DB.Table("audit_events").Where("record_id = ? AND action LIKE ?", target, "export.%").
		Order("created_at").Find(&events).Error; err != nil {
		t.Fatal(err)
	}
	if len(events) != 6 { // two of the record, one of the account export (the client's record), each requested and downloaded
		t.Errorf("audit events of the client's exports: %+v, want 6", events)
	}
}

// TestExportNeedsFreshAuthentication: five minutes after signing in,
// exporting asks for a step-up; after /auth/reauth it works again.
func TestExportNeedsFreshAuthentication(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	p := env.practice("stepup")
	env.clock.Advance(6 * time.Minute)
	for _, path := range []string{"/me/export", "/clients/" + p.clientRec.ID + "/export"} {
		r := env.do(request{method: "GET", path: "/api/v1" + path, token: p.coach.AccessToken})
		if pr := r.problem(t, http.StatusUnauthorized); !strings.HasSuffix(pr.Type, "insufficient_user_authentication") {
			t.Errorf("GET %s without a fresh sign-in: %s", path, r.Body)
		}
	}
	if n := env.rowCount("exports"); n != 0 {
		t.Errorf("%d exports started without a fresh sign-in", n)
	}
	env.do(request{method: "POST", path: "/api/v1/auth/reauth", token: p.coach.AccessToken,
		body: map[string]string{"password": goodPassword}}).want(t, http.StatusNoContent)
	env.startExport(p.coach.AccessToken, "/clients/"+p.clientRec.ID+"/export")
}

// TestExportLinkExpires: a link unused for a day is refused, and the
// periodic clean-up deletes the archive it would have fetched.
func TestExportLinkExpires(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	p := env.practice("expiry")
	e := env.awaitExport(p.coach.AccessToken, env.startExport(p.coach.AccessToken, "/clients/"+p.clientRec.ID+"/export"))
	if e.SizeBytes == nil || *e.SizeBytes == 0 {
		t.Fatalf("a ready export without a size: %+v", e)
	}
	env.clock.Advance(24*time.Hour + time.Second)
	env.do(request{method: "GET", path: env.downloadPath(e)}).problem(t, http.StatusGone)
	// The link's secret is in no log line.
	secret := e.DownloadURL[strings.LastIndex(e.DownloadURL, "/")+1:]
	if strings.Contains(env.logs.String(), secret) {
		t.Error("the download link's secret is in the log")
	}
	if err := env.privacy.CleanUpExports(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := env.rowCount("export_chunks"); n != 0 {
		t.Errorf("%d pieces of an expired export left", n)
	}
	// A malformed or unknown token is not found, whatever it is.
	env.do(request{method: "GET", path: "/api/v1/export-downloads/" + strings.Repeat("b", 43)}).problem(t, http.StatusNotFound)
	r := env.do(request{method: "GET", path: "/api/v1/export-downloads/short"})
	if r.Code != http.StatusBadRequest {
		t.Errorf("a malformed token: %d %s", r.Code, r.Body)
	}
}

// TestExportsPerHourAreBounded: past 30 exports in an hour a person gets
// 429 with Retry-After, and no export is started.
func TestExportsPerHourAreBounded(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	p := env.practice("many")
	for range 30 {
		env.startExport(p.client.AccessToken, "/me/export")
	}
	r := env.do(request{method: "GET", path: "/api/v1/me/export", token: p.client.AccessToken})
	if pr := r.problem(t, http.StatusTooManyRequests); !strings.HasSuffix(pr.Type, "export_limit") || r.Header.Get("Retry-After") == "" {
		t.Errorf("the 31st export in an hour: %s (Retry-After %q)", r.Body, r.Header.Get("Retry-After"))
	}
	if n := env.rowCount("exports"); n != 30 {
		t.Errorf("%d exports started, want 30", n)
	}
}
