package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/tandem-coach/tandem/api"
)

// TestServedSpec: the contract is served as written (YAML) and as JSON that
// a standard loader reads back into the same operations, both revalidated
// with their ETag.
func TestServedSpec(t *testing.T) {
	t.Parallel()
	env := newEnv(t)

	yaml := env.do(request{method: "GET", path: "/api/v1/openapi.yaml"}).want(t, http.StatusOK)
	file, err := os.ReadFile("../../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(yaml.Body, file) || yaml.Header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("openapi.yaml: %d bytes of %q, want api/openapi.yaml's %d", len(yaml.Body), yaml.Header.Get("Content-Type"), len(file))
	}

	js := env.do(request{method: "GET", path: "/api/v1/openapi.json"}).want(t, http.StatusOK)
	if js.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json Content-Type = %q", js.Header.Get("Content-Type"))
	}
	served, err := openapi3.NewLoader().LoadFromData(js.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := served.Validate(context.Background()); err != nil {
		t.Fatalf("the served spec is not valid OpenAPI: %v", err)
	}
	want, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := operationIDs(served), operationIDs(want); strings.Join(got, " ") != strings.Join(want, " ") || len(got) < 50 {
		t.Fatalf("served operations %v, want %v", got, want)
	}

	for _, path := range []string{"/api/v1/openapi.json", "/api/v1/openapi.yaml", "/docs"} {
		full := env.do(request{method: "GET", path: path}).want(t, http.StatusOK)
		env.do(request{method: "GET", path: path, headers: map[string]string{"If-None-Match": full.Header.Get("ETag")}}).
			want(t, http.StatusNotModified)
		if head := env.do(request{method: "HEAD", path: path}).want(t, http.StatusOK); head.Header.Get("ETag") != full.Header.Get("ETag") {
			t.Fatalf("HEAD %s ETag %q, GET %q", path, head.Header.Get("ETag"), full.Header.Get("ETag"))
		}
	}
}

func operationIDs(doc *openapi3.T) []string {
	var ids []string
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, op.OperationID)
		}
	}
	slices.Sort(ids)
	return ids
}

// TestDocsPage: /docs runs only scripts from this origin, none inline, and
// loads the bundled renderer and the served spec.
func TestDocsPage(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	page := env.do(request{method: "GET", path: "/docs"}).want(t, http.StatusOK)
	csp := page.Header.Get("Content-Security-Policy")
	var script string
	for _, d := range strings.Split(csp, ";") {
		if d = strings.TrimSpace(d); strings.HasPrefix(d, "script-src ") {
			script = d
		}
	}
	if script != "script-src 'self'" || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	for _, want := range []string{`src="/docs/redoc.standalone.js"`, `spec-url="/api/v1/openapi.json"`} {
		if !bytes.Contains(page.Body, []byte(want)) {
			t.Fatalf("/docs does not hold %s", want)
		}
	}
	js := env.do(request{method: "GET", path: "/docs/redoc.standalone.js"}).want(t, http.StatusOK)
	if !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") || len(js.Body) < 500_000 {
		t.Fatalf("Redoc bundle: %q, %d bytes", js.Header.Get("Content-Type"), len(js.Body))
	}
}

// TestDocsRenderInBrowser opens /docs in Chromium under the page's own
// Content-Security-Policy and checks the reference shows the operations.
// .ci/ensure-tools installs Chromium when it is missing.
func TestDocsRenderInBrowser(t *testing.T) {
	t.Parallel()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("Chromium is not installed: run .ci/ensure-tools (make test does), or apt-get install chromium")
	}
	env := newEnv(t)
	srv := httptest.NewServer(env.e)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=20000", "--dump-dom", srv.URL+"/docs")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/clients", "/consents/{consent_id}/revoke", "/invitations/accept"} {
		var summary string
		for _, op := range spec.Paths.Value(path).Operations() {
			if op.Summary != "" {
				summary = op.Summary
				break
			}
		}
		first, _, _ := strings.Cut(summary, ".")
		if first == "" || !bytes.Contains(dom, []byte(htmlEscape(first))) {
			t.Fatalf("the rendered reference does not show %q (of %s); %d bytes of DOM", first, path, len(dom))
		}
	}
}

// htmlEscape escapes text as a serialized DOM shows it in a text node.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
