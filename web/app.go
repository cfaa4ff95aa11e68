package web

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// dist is the web app as `make web` builds it (web/app → web/dist):
// index.html and content-hashed files under assets/. It is committed, so a
// plain `go build` serves the app without Node.
//
//go:embed all:dist
var dist embed.FS

// appPolicy lets the app run its own bundled scripts and styles and talk
// to this origin only: no inline script, no third-party origin.
const appPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// notApp are the path prefixes the app's fallback never answers: the API,
// the reference, the unsubscribe page, feeds, keys, probes and the
// development mailbox each answer (or 404) for themselves.
var notApp = []string{"/api/", "/api", "/docs", "/dev/", "/unsubscribe", "/calendar", "/.well-known/",
	"/healthz", "/readyz", "/metrics", "/debug/"}

// App serves the web app: files under assets/ with a year's immutable
// cache (their names change with their content), any other file of dist
// as is, and index.html, never cached, for every other path, where the
// app's router takes over.
type App struct {
	files fs.FS
	index []byte
	mod   time.Time
}

// NewApp loads the embedded build.
func NewApp() (*App, error) {
	files, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		return nil, err
	}
	return &App{files: files, index: index}, nil
}

// IsAppPath reports whether the app's fallback may answer p.
func IsAppPath(p string) bool {
	for _, prefix := range notApp {
		if p == prefix || strings.HasPrefix(p, strings.TrimSuffix(prefix, "/")+"/") {
			return false
		}
	}
	return true
}

// Serve answers GET and HEAD for the app's paths.
func (a *App) Serve(c echo.Context) error {
	p := c.Request().URL.Path
	if !IsAppPath(p) {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	name := strings.TrimPrefix(path.Clean(p), "/")
	if strings.HasPrefix(name, "assets/") {
		body, err := fs.ReadFile(a.files, name)
		if err != nil {
			return echo.ErrNotFound // never index.html in place of a missing script
		}
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		return a.serveFile(c, name, body)
	}
	if name != "" && name != "index.html" && !strings.Contains(name, "/") {
		if body, err := fs.ReadFile(a.files, name); err == nil {
			h.Set("Cache-Control", "no-cache")
			return a.serveFile(c, name, body)
		}
	}
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Content-Security-Policy", appPolicy)
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", a.index)
}

func (a *App) serveFile(c echo.Context, name string, body []byte) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", appPolicy)
	http.ServeContent(c.Response(), c.Request(), name, a.mod, bytes.NewReader(body))
	return nil
}
