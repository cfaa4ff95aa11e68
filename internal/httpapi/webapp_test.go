package httpapi_test

import (
	"io/fs"
	"net/http"
	"os"
	"strings"
	"testing"
)

// builtAsset returns the path of one hashed script of the embedded build.
func builtAsset(t *testing.T) string {
	t.Helper()
	entries, err := fs.ReadDir(os.DirFS("../../web/dist/assets"), ".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".js") {
			return "/assets/" + e.Name()
		}
	}
	t.Fatal("web/dist/assets holds no script: run make web")
	return ""
}

func TestWebAppServedWithFallback(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, path := range []string{"/", "/signin", "/portal", "/coach/clients/0192", "/accept-invitation", "/verify-email", "/reset-password"} {
		r := env.do(request{method: "GET", path: path}).want(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(r.Body), `<div id="root">`) {
			t.Errorf("GET %s: %s, not the app's index.html", path, ct)
		}
		if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, cc)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
			t.Errorf("GET %s: Content-Security-Policy %q, want scripts from this origin only", path, csp)
		}
	}
}

func TestWebAppHashedAssetsAreImmutable(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	r := env.do(request{method: "GET", path: builtAsset(t)}).want(t, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control %q, want a year's immutable cache", cc)
	}
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	// A missing asset is a 404, never index.html served as a script.
	env.do(request{method: "GET", path: "/assets/index-missing.js"}).problem(t, http.StatusNotFound)
}

func TestWebAppFallbackStaysOutOfOtherRoutes(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	for _, path := range []string{"/api/v1/nope", "/api/v2/clients", "/api", "/docs/nope", "/calendar/x.ics", "/.well-known/nope",
		"/dev/nope", "/healthz/x", "/unsubscribe/x"} {
		env.do(request{method: "GET", path: path}).problem(t, http.StatusNotFound)
	}
	// Other methods to the app's paths are not the app either.
	env.do(request{method: "POST", path: "/coach", body: map[string]string{}}).problem(t, http.StatusNotFound)
	// The pages that answer for themselves still do.
	for path, want := range map[string]string{"/docs": "redoc", "/healthz": "ok"} {
		r := env.do(request{method: "GET", path: path}).want(t, http.StatusOK)
		if strings.Contains(string(r.Body), `<div id="root">`) || !strings.Contains(strings.ToLower(string(r.Body)), want) {
			t.Errorf("GET %s is not its own page: %.120s", path, r.Body)
		}
	}
}
