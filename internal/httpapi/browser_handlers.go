package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
)

// The browser's refresh cookie. A __Host- cookie must be Secure, and a
// browser refuses a Secure cookie from plain http on most hosts, so
// development on http://127.0.0.1 gets a plain name without Secure.
const (
	refreshCookieName    = "__Host-tandem_refresh"
	devRefreshCookieName = "tandem_refresh"
	csrfHeader           = "X-Tandem-CSRF"
)

// refreshCookie says how this service names and marks the refresh cookie.
type refreshCookie struct {
	name   string
	secure bool
}

// refreshCookieFor picks the cookie for the base URL people open: Secure
// with the __Host- prefix, unless that URL is plain http on a loopback host.
func refreshCookieFor(baseURL string) refreshCookie {
	u, err := url.Parse(baseURL)
	if err == nil && u.Scheme == "http" && isLoopbackHost(u.Hostname()) {
		return refreshCookie{name: devRefreshCookieName}
	}
	return refreshCookie{name: refreshCookieName, secure: true}
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// set is the Set-Cookie value that stores token, or clears the cookie when
// token is empty.
func (rc refreshCookie) set(token string) string {
	c := http.Cookie{Name: rc.name, Value: token, Path: "/", HttpOnly: true, Secure: rc.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(account.SessionLifetime.Seconds())}
	if token == "" {
		c.MaxAge = -1
	}
	return c.String()
}

// read is the refresh token of the cookie this service sets, or "".
func (rc refreshCookie) read(secure, dev *string) string {
	if rc.secure && secure != nil {
		return *secure
	}
	if !rc.secure && dev != nil {
		return *dev
	}
	return ""
}

var errCSRF = &apperr.Error{Code: apperr.Forbidden, Reason: "csrf_refused",
	Message: "This request must come from Tandem's own pages: send X-Tandem-CSRF: 1 and this site's Origin."}

// browserOperations set or spend the refresh cookie: the browser sends that
// cookie by itself, so they must prove that Tandem's own page made the request.
var browserOperations = map[string]bool{"browserlogin": true, "browserrefresh": true, "browserlogout": true}

// requireSameOrigin refuses a request to a cookie operation that lacks the
// custom header (which no cross-site form can send, and no cross-site script
// without a CORS preflight Tandem never grants) or whose Origin is neither
// the request's own host nor the configured base URL. SameSite=Strict keeps
// the cookie off cross-site requests too; this holds where it does not
// (older browsers, a sibling subdomain).
func requireSameOrigin(baseURL string) echo.MiddlewareFunc {
	base, _ := url.Parse(baseURL)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.Header.Get(csrfHeader) != "1" {
				return errCSRF
			}
			origin, err := url.Parse(r.Header.Get(echo.HeaderOrigin))
			if err != nil || origin.Host == "" || origin.Path != "" {
				return errCSRF
			}
			sameHost := strings.EqualFold(origin.Host, r.Host)
			sameBase := base != nil && strings.EqualFold(origin.Scheme, base.Scheme) && strings.EqualFold(origin.Host, base.Host)
			if !sameHost && !sameBase {
				return errCSRF
			}
			return next(c)
		}
	}
}

// browserSession is a new session's answer to the page, with who is signed
// in: a page resuming its session needs that first, and would otherwise
// spend a second round trip on GET /me. The session is already renewed
// (the refresh token spent) when this runs, so a failure to read who it
// is leaves me out rather than losing the new cookie with an error.
func (s *Server) browserSession(ctx context.Context, p account.TokenPair) api.BrowserSession {
	out := api.BrowserSession{AccessToken: p.AccessToken, TokenType: api.BrowserSessionTokenTypeBearer,
		ExpiresIn: int(p.ExpiresIn.Seconds())}
	me, err := s.meOf(ctx, p.AccessToken)
	if err != nil {
		s.log.WarnContext(ctx, "signed in, but who it is could not be read; the page asks GET /me", slog.String("error", err.Error()))
		return out
	}
	out.Me = &me
	return out
}

// meOf is GET /me as the holder of accessToken.
func (s *Server) meOf(ctx context.Context, accessToken string) (api.Me, error) {
	actor, err := s.accounts.Authenticate(ctx, accessToken)
	if err != nil {
		return api.Me{}, err
	}
	me, err := s.accounts.Me(ctx, actor)
	if err != nil {
		return api.Me{}, err
	}
	return toMe(me), nil
}

// BrowserLogin signs a browser in, keeping the refresh token in a cookie.
func (s *Server) BrowserLogin(ctx context.Context, r api.BrowserLoginRequestObject) (api.BrowserLoginResponseObject, error) {
	in, err := s.accounts.Login(ctx, r.Body.Email, r.Body.Password, r.Body.TotpCode)
	if err != nil {
		return nil, err
	}
	if in.Challenge != nil {
		return api.BrowserLogin202JSONResponse{MfaToken: in.Challenge.Token, ExpiresIn: int(in.Challenge.ExpiresIn.Seconds())}, nil
	}
	cookie := s.refreshCookie.set(in.Tokens.RefreshToken)
	return api.BrowserLogin200JSONResponse{Body: s.browserSession(ctx, *in.Tokens), Headers: api.BrowserLogin200ResponseHeaders{SetCookie: &cookie}}, nil
}

// BrowserRefresh rotates the refresh cookie, or adopts a refresh token from
// the body into one when there is no cookie.
func (s *Server) BrowserRefresh(ctx context.Context, r api.BrowserRefreshRequestObject) (api.BrowserRefreshResponseObject, error) {
	token := s.refreshCookie.read(r.Params.UnderscoreUnderscoreHostTandemRefresh, r.Params.TandemRefresh)
	if token == "" && r.Body != nil && r.Body.RefreshToken != nil {
		token = *r.Body.RefreshToken
	}
	if token == "" {
		return nil, apperr.New(apperr.Unauthenticated, "Not signed in on this browser.")
	}
	pair, err := s.accounts.Refresh(ctx, token)
	if err != nil {
		if ae, ok := apperr.As(err); ok && ae.Code == apperr.Unauthenticated {
			// A spent, revoked or expired token: forget it, so the page
			// stops presenting it.
			return browserRefreshRefused{err: err, clear: s.refreshCookie.set("")}, nil
		}
		return nil, err
	}
	cookie := s.refreshCookie.set(pair.RefreshToken)
	return api.BrowserRefresh200JSONResponse{Body: s.browserSession(ctx, pair), Headers: api.BrowserRefresh200ResponseHeaders{SetCookie: &cookie}}, nil
}

// browserRefreshRefused answers a refused refresh as a problem document that
// also clears the cookie.
type browserRefreshRefused struct {
	err   error
	clear string
}

func (b browserRefreshRefused) VisitBrowserRefreshResponse(w http.ResponseWriter) error {
	w.Header().Add("Set-Cookie", b.clear)
	return b.err
}

// BrowserLogout ends the browser's session and clears the cookie.
func (s *Server) BrowserLogout(ctx context.Context, r api.BrowserLogoutRequestObject) (api.BrowserLogoutResponseObject, error) {
	if token := s.refreshCookie.read(r.Params.UnderscoreUnderscoreHostTandemRefresh, r.Params.TandemRefresh); token != "" {
		if err := s.accounts.Logout(ctx, token); err != nil {
			return nil, err
		}
	}
	cookie := s.refreshCookie.set("")
	return api.BrowserLogout204Response{Headers: api.BrowserLogout204ResponseHeaders{SetCookie: &cookie}}, nil
}
