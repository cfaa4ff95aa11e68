package httpapi_test

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
)

// exportDoc is an export as the API shows it.
type exportDoc struct {
	ID          string  `json:"id"`
	Scope       string  `json:"scope"`
	Status      string  `json:"status"`
	ClientID    *string `json:"client_id"`
	StatusURL   string  `json:"status_url"`
	DownloadURL string  `json:"download_url"`
	SizeBytes   *int64  `json:"size_bytes"`
}

// startExport asks for an export at path (under /api/v1) with token.
func (env *testEnv) startExport(token, path string) exportDoc {
	env.t.Helper()
	var e exportDoc
	env.do(request{method: "GET", path: "/api/v1" + path, token: token}).want(env.t, http.StatusAccepted).decode(env.t, &e)
	return e
}

// awaitExport waits until the job queue has built the export.
func (env *testEnv) awaitExport(token string, e exportDoc) exportDoc {
	env.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got exportDoc
		env.do(request{method: "GET", path: e.StatusURL, token: token}).want(env.t, http.StatusOK).decode(env.t, &got)
		if got.Status != "pending" {
			if got.Status != "ready" {
				env.t.Fatalf("export %s: status %q, want ready", e.ID, got.Status)
			}
			got.DownloadURL = e.DownloadURL
			return got
		}
		if time.Now().After(deadline) {
			env.t.Fatalf("export %s still pending after 30s", e.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// downloadPath is an export's download link as a path under the service.
func (env *testEnv) downloadPath(e exportDoc) string {
	return strings.TrimPrefix(e.DownloadURL, env.cfg.BaseURL)
}

// ownerExport is an export A-owner asked for, made once.
func (fx *authzFixture) ownerExport() string {
	if fx.ownerExportID == "" {
		fx.ownerExportID = fx.env.startExport(fx.token(aOwner), "/me/export").ID
	}
	return fx.ownerExportID
}

// readyOwnerDownload is the download link of a new, built export of A-owner's account.
func (fx *authzFixture) readyOwnerDownload() string {
	token := fx.token(aOwner)
	e := fx.env.awaitExport(token, fx.env.startExport(token, "/me/export"))
	return strings.TrimPrefix(fx.env.downloadPath(e), "/api/v1")
}

// inspectExportStarted checks a 202 names a status URL and a one-time link.
func inspectExportStarted(t *testing.T, _ *authzFixture, who authzActor, r response) {
	t.Helper()
	var e exportDoc
	r.decode(t, &e)
	if e.Status != "pending" || !strings.Contains(e.DownloadURL, "/export-downloads/") || r.Header.Get("Location") != e.StatusURL {
		t.Errorf("export as %s: %s (Location %q)", who, r.Body, r.Header.Get("Location"))
	}
}

// targetBundle is a fresh signed history of the target client.
func (fx *authzFixture) targetBundle() map[string]any {
	var b map[string]any
	fx.env.do(request{method: "GET", path: "/api/v1/me/history-bundle", token: fx.token(aClient)}).want(fx.env.t, http.StatusOK).
		decode(fx.env.t, &b)
	return b
}

// targetImport is a new import of the target client's own history.
func (fx *authzFixture) targetImport() string {
	var h struct {
		ID string `json:"id"`
	}
	fx.env.do(request{method: "POST", path: "/api/v1/clients/" + fx.a.clientRec.ID + "/history-imports", token: fx.token(aClient),
		body: fx.targetBundle()}).want(fx.env.t, http.StatusCreated).decode(fx.env.t, &h)
	return h.ID
}

// inspectBundle decodes a bundle's payload and checks it holds nothing
// private to the coach, nor anything of the target for another client.
func inspectBundle(t *testing.T, fx *authzFixture, who authzActor, r response) {
	t.Helper()
	var b struct {
		Payload string `json:"payload"`
	}
	r.decode(t, &b)
	payload, err := base64.RawURLEncoding.DecodeString(b.Payload)
	if err != nil || !bytes.Contains(payload, []byte(`"format":"tandem-history/1"`)) {
		t.Fatalf("bundle as %s: payload %q (%v)", who, payload, err)
	}
	for _, private := range []string{fx.noteText, activeThreadText, revokedThreadText} {
		if bytes.Contains(payload, []byte(private)) {
			t.Errorf("the history bundle of %s carries %q", who, private)
		}
	}
	if who != aClient {
		for _, mark := range fx.targetMarks {
			if bytes.Contains(payload, []byte(mark)) {
				t.Errorf("the history bundle of %s carries the target's %q", who, mark)
			}
		}
	} else if !bytes.Contains(payload, []byte(reflectionText)) {
		t.Errorf("the target's history bundle lacks their reflection: %s", payload)
	}
}

// privacyRows are the matrix rows of exports and erasure requests. Every
// actor signed in minutes ago, within the step-up window.
func privacyRows() []matrixRow {
	return []matrixRow{
		// Everyone signed in exports their own account.
		{method: "GET", path: "/me/export", want: statuses{401, 202, 202, 202, 202, 202, 202, 202}, therapists: every(202),
			call: fixed("/me/export", nil), inspect: inspectExportStarted},
		// A client's record: the client and the staff who see them.
		{method: "GET", path: "/clients/{client_id}/export", want: statuses{401, 202, 202, 404, 404, 202, 404, 404}, therapists: noPracticeRole,
			call: at("/clients/%s/export", targetClient, nil), shows: targetClient, inspect: inspectExportStarted},
		// Only the one who asked sees an export's state.
		{method: "GET", path: "/exports/{export_id}", want: statuses{401, 200, 404, 404, 404, 404, 404, 404}, therapists: every(404),
			call: at("/exports/%s", (*authzFixture).ownerExport, nil),
			inspect: func(t *testing.T, _ *authzFixture, who authzActor, r response) {
				if strings.Contains(string(r.Body), "download_url") {
					t.Errorf("GET /exports/{export_id} as %s shows the link again: %s", who, r.Body)
				}
			}},
		// The link is the credential: whoever holds a fresh one downloads it, once.
		{method: "GET", path: "/export-downloads/{download}", note: "a fresh link of A-owner's export",
			want: statuses{200, 200, 200, 200, 200, 200, 200, 200}, therapists: every(200),
			call: func(fx *authzFixture, _ authzActor) (string, any) { return fx.readyOwnerDownload(), nil }, credentialInPath: true},
		{method: "GET", path: "/export-downloads/{download}", note: "unknown link",
			want: statuses{404, 404, 404, 404, 404, 404, 404, 404}, therapists: every(404),
			call: fixed("/export-downloads/"+strings.Repeat("A", 43), nil)},
		// A client's signed history: theirs alone, and never the coach's notes.
		{method: "GET", path: "/me/history-bundle", want: statuses{401, 403, 403, 403, 403, 200, 200, 200}, therapists: noPracticeRole,
			call: fixed("/me/history-bundle", nil), inspect: inspectBundle},
		{method: "GET", path: "/clients/{client_id}/history-imports", want: statuses{401, 200, 200, 404, 404, 200, 404, 404}, therapists: noPracticeRole,
			call: at("/clients/%s/history-imports", targetClient, nil)},
		// Importing is the client's own act: staff who see the client get 403.
		{method: "POST", path: "/clients/{client_id}/history-imports", want: statuses{401, 403, 403, 404, 404, 201, 404, 404}, therapists: noPracticeRole,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/clients/" + fx.a.clientRec.ID + "/history-imports", fx.targetBundle()
			}},
		{method: "DELETE", path: "/clients/{client_id}/history-imports/{import_id}", want: statuses{401, 403, 403, 404, 404, 204, 404, 404},
			therapists: noPracticeRole,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				return "/clients/" + fx.a.clientRec.ID + "/history-imports/" + fx.targetImport(), nil
			}},
		// Retention is the owner's alone.
		{method: "GET", path: "/practice/retention", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: fixed("/practice/retention", nil)},
		{method: "PATCH", path: "/practice/retention", want: statuses{401, 200, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			headers: map[string]string{"If-Match": "*"}, call: fixed("/practice/retention", map[string]any{"log_years": 7})},
		// Each client asks for their own record's erasure; staff and
		// therapists have none to ask for. The next row cancels them.
		{method: "POST", path: "/me/erasure-request", want: statuses{401, 403, 403, 403, 403, 202, 202, 202}, therapists: noPracticeRole,
			call: fixed("/me/erasure-request", nil)},
		{method: "DELETE", path: "/me/erasure-request", want: statuses{401, 403, 403, 403, 403, 204, 204, 204}, therapists: noPracticeRole,
			call: fixed("/me/erasure-request", nil)},
		// Each client reads back their own pending request: the call makes
		// one, the clean-up cancels it.
		{method: "GET", path: "/me/erasure-request", want: statuses{401, 403, 403, 403, 403, 200, 200, 200}, therapists: noPracticeRole,
			call: func(fx *authzFixture, who authzActor) (string, any) {
				if who.isClient() {
					fx.env.do(request{method: "POST", path: "/api/v1/me/erasure-request", token: fx.token(who)}).
						want(fx.env.t, http.StatusAccepted)
				}
				return "/me/erasure-request", nil
			},
			after: func(fx *authzFixture, who authzActor, _ response) {
				if who.isClient() {
					fx.env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: fx.token(who)}).
						want(fx.env.t, http.StatusNoContent)
				}
			}},
		// The owner and the target's coach read the target client's
		// pending request; other staff do not see the client, clients read
		// their own at /me.
		{method: "GET", path: "/clients/{client_id}/erasure-request", want: statuses{401, 200, 200, 404, 404, 403, 403, 403},
			therapists: noPracticeRole, shows: targetClient,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				fx.env.do(request{method: "POST", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).
					want(fx.env.t, http.StatusAccepted)
				return "/clients/" + fx.a.clientRec.ID + "/erasure-request", nil
			},
			after: func(fx *authzFixture, _ authzActor, _ response) {
				fx.env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).
					want(fx.env.t, http.StatusNoContent)
			}},
		// The owner cancels a request the target client made: each call
		// makes sure one is pending (asking again answers the pending one);
		// the next row's owner request meets the one left, which its
		// clean-up cancels.
		{method: "DELETE", path: "/clients/{client_id}/erasure-request", want: statuses{401, 204, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: func(fx *authzFixture, _ authzActor) (string, any) {
				fx.env.do(request{method: "POST", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).
					want(fx.env.t, http.StatusAccepted)
				return "/clients/" + fx.a.clientRec.ID + "/erasure-request", nil
			}},
		// The owner records a client's request; the client cancels it at once.
		{method: "POST", path: "/clients/{client_id}/erasure-request", want: statuses{401, 202, 403, 403, 403, 403, 403, 403}, therapists: noPracticeRole,
			call: at("/clients/%s/erasure-request", targetClient, nil),
			after: func(fx *authzFixture, _ authzActor, r response) {
				if r.Code == http.StatusAccepted {
					fx.env.do(request{method: "DELETE", path: "/api/v1/me/erasure-request", token: fx.token(aClient)}).
						want(fx.env.t, http.StatusNoContent)
				}
			}},
	}
}
