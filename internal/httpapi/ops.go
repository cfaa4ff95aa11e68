package httpapi

import (
	"context"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/web"
)

// registerOps adds the operational endpoints and the web pages, all public.
// With separateMetrics, /metrics is left to the operators' listener (see
// OpsHandler).
func (s *Server) registerOps(e *echo.Echo, reg *prometheus.Registry, separateMetrics bool) {
	public := func(method, path string, h echo.HandlerFunc) {
		s.rules[method+" "+path] = RulePublic
		e.Add(method, path, h)
	}
	public(http.MethodGet, "/healthz", s.healthz)
	public(http.MethodGet, "/readyz", s.readyz)
	if !separateMetrics {
		public(http.MethodGet, "/metrics", metricsHandler(reg))
	}
	for path, h := range map[string]echo.HandlerFunc{
		BasePath + "/openapi.json": s.specJSON, BasePath + "/openapi.yaml": specYAML,
		"/docs": web.DocsPage, "/docs/redoc.standalone.js": web.DocsScript,
	} {
		public(http.MethodGet, path, conditionalRead(h))
		public(http.MethodHead, path, conditionalRead(h))
	}
}

// registerApp loads the web app, which handleError serves for every GET
// or HEAD that no route claims, so that the app's own router answers /,
// /coach/… and the pages of e-mailed links (account.AcceptPath, VerifyPath
// and ResetPath). Serving it from the not-found path, not from a catch-all
// route, keeps 405 for a known path's other methods, and 404 for the paths
// web.IsAppPath keeps out (the API, /docs, feeds…).
func (s *Server) registerApp() error {
	app, err := web.NewApp()
	if err != nil {
		return err
	}
	s.app = app
	return nil
}

// serveApp answers a request no route matched with the web app, when it
// is one the app may answer; it reports whether it did.
func (s *Server) serveApp(err error, c echo.Context) bool {
	if s.app == nil || err != echo.ErrNotFound { //nolint:errorlint // the router's own sentinel, never wrapped
		return false
	}
	if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead {
		return false
	}
	if !web.IsAppPath(c.Request().URL.Path) {
		return false
	}
	if serr := s.app.Serve(c); serr != nil {
		return false // a missing asset: the 404 problem follows
	}
	return true
}

func metricsHandler(reg *prometheus.Registry) echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
}

// OpsHandler serves the operators' endpoints on a listener of their own
// (TANDEM_OPS_ADDR): /metrics, which the public listener then does not
// serve, /healthz and /readyz for probes, and Go's profiler under
// /debug/pprof/, which is never on the public listener.
func (a *API) OpsHandler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/metrics", metricsHandler(a.registry))
	e.GET("/healthz", a.server.healthz)
	e.GET("/readyz", a.server.readyz)
	e.GET("/debug/pprof/cmdline", echo.WrapHandler(http.HandlerFunc(pprof.Cmdline)))
	e.GET("/debug/pprof/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)))
	e.GET("/debug/pprof/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	e.GET("/debug/pprof/trace", echo.WrapHandler(http.HandlerFunc(pprof.Trace)))
	e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(pprof.Index))) // heap, goroutine, allocs…
	return e
}

// specJSON serves the contract this binary implements, as JSON.
func (s *Server) specJSON(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/json", s.specJSONBody)
}

// specYAML serves the contract as it is written, comments included.
func specYAML(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/yaml", api.SpecYAML)
}

// healthz is the liveness probe: the process serves HTTP. No dependencies.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is the readiness probe: within two seconds the database answers
// and its schema is the one this binary's migrations build. A replica
// whose database is missing migrations would fail on the first query that
// needs them, so it takes no traffic until `tandem migrate up` has run.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	schema, err := s.store.CheckSchema(ctx)
	if err != nil {
		return &apperr.Error{Code: apperr.Unavailable, Message: "The database does not answer.", Err: err}
	}
	switch {
	case schema.Missing:
		return &apperr.Error{Code: apperr.Unavailable, Reason: "schema_missing",
			Message: "The database has no schema yet; run `tandem migrate up`."}
	case !schema.Current():
		names := make([]string, len(schema.Pending))
		for i, m := range schema.Pending {
			names[i] = m.Name
		}
		return &apperr.Error{Code: apperr.Unavailable, Reason: "schema_outdated",
			Message: "The database schema is older than this version of Tandem; run `tandem migrate up`. Pending: " +
				strings.Join(names, ", ") + "."}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
