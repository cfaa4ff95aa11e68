// Package web serves Tandem's browser pages: the web app (app.go, built
// from web/app into web/dist), the API reference at /docs, and the small
// pages of e-mailed links that need no app: confirming an address,
// choosing a new password, unsubscribing.
package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

var (
	//go:embed verify-email.html
	verifyEmailHTML []byte
	//go:embed reset-password.html
	resetPasswordHTML []byte
)

// linkPage serves a page opened from an e-mailed link. The token stays in
// the URL fragment: the browser never sends it to the server with the page
// request, only in the API call the page makes.
func linkPage(body []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'")
		return c.Blob(http.StatusOK, "text/html; charset=utf-8", body)
	}
}

// The pages of e-mailed links.
var (
	VerifyEmailPage   = linkPage(verifyEmailHTML)
	ResetPasswordPage = linkPage(resetPasswordHTML)
)
