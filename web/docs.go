package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

var (
	//go:embed docs/index.html
	docsHTML []byte
	//go:embed docs/redoc.standalone.js
	redocJS []byte
)

// docsPolicy lets the reference page run the bundled Redoc and nothing
// else: scripts from this origin only, the spec fetched from this origin,
// Redoc's search worker from a blob. Redoc styles itself with inline
// <style> elements (styled-components), hence 'unsafe-inline' for styles
// only; no script runs inline.
const docsPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// DocsPage serves the API reference at /docs.
func DocsPage(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", docsPolicy)
	h.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", docsHTML)
}

// DocsScript serves the Redoc bundle the reference page runs.
func DocsScript(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", redocJS)
}
