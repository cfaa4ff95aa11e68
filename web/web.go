// Package web serves Tandem's browser pages: the web app (app.go, built
// from web/app into web/dist), which also answers the pages of e-mailed
// links that need a form (accepting an invitation, confirming an address,
// choosing a new password), the API reference at /docs, and the small
// unsubscribe page, which needs no app.
package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// linkPage serves a page opened from an e-mailed link, with a policy that
// allows its own inline script and style and nothing from elsewhere.
func linkPage(body []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")
		return c.Blob(http.StatusOK, "text/html; charset=utf-8", body)
	}
}
