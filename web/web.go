// Package web serves Tandem's browser pages. For now that is the page an
// invitee opens from their e-mail; the full web app will be built here too.
package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed accept-invitation.html
var acceptInvitationHTML []byte

// AcceptInvitationPage serves the page that accepts an invitation. The token
// stays in the URL fragment: the browser never sends it to the server with
// the page request, only in the API call the page makes.
func AcceptInvitationPage(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")
	return c.Blob(http.StatusOK, "text/html; charset=utf-8", acceptInvitationHTML)
}
