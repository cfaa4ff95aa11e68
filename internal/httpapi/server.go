// Package httpapi is Tandem's HTTP edge: the Echo server generated from
// api/openapi.yaml, middleware, the handlers that convert between API types
// and domain types, and the one mapping from errors to problem documents.
package httpapi

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	oapimw "github.com/oapi-codegen/echo-middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/tandem-coach/tandem/api"
	"github.com/tandem-coach/tandem/internal/account"
	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/billing"
	"github.com/tandem-coach/tandem/internal/clients"
	"github.com/tandem-coach/tandem/internal/clock"
	"github.com/tandem-coach/tandem/internal/config"
	"github.com/tandem-coach/tandem/internal/consent"
	"github.com/tandem-coach/tandem/internal/dashboard"
	"github.com/tandem-coach/tandem/internal/goals"
	"github.com/tandem-coach/tandem/internal/mail"
	"github.com/tandem-coach/tandem/internal/notify"
	"github.com/tandem-coach/tandem/internal/privacy"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/sessions"
	"github.com/tandem-coach/tandem/internal/store"
	"github.com/tandem-coach/tandem/internal/telemetry"
	"github.com/tandem-coach/tandem/internal/webhooks"
	"github.com/tandem-coach/tandem/web"
)

func init() {
	// UUIDv7 IDs: kin-openapi's built-in uuid pattern stops at version 5.
	openapi3.DefineStringFormatCallback("uuid", func(s string) error {
		_, err := uuid.Parse(s)
		if err != nil || len(s) != 36 {
			return errors.New("must be a UUID")
		}
		return nil
	})
}

// BasePath is where the v1 API lives.
const BasePath = "/api/v1"

// Deps is everything the HTTP layer needs.
type Deps struct {
	Config    config.Config
	Store     *store.Store
	Accounts  *account.Service
	Clients   *clients.Service
	Goals     *goals.Service
	Sessions  *sessions.Service
	Dashboard *dashboard.Service
	Consent   *consent.Service
	Webhooks  *webhooks.Service
	Notify    *notify.Service
	Privacy   *privacy.Service
	// Billing is nil, or off, without Stripe configured: nothing is limited.
	Billing *billing.Service
	Log     *slog.Logger
	Clock   clock.Clock
	// Registry receives the service's metrics; nil creates a private one.
	Registry *prometheus.Registry
	// IPLimit limits sign-in attempts (register, login, accepting or
	// declining an invitation, ...) per client IP.
	IPLimit ratelimit.Rule
	// RefreshLimit limits session refreshes per client IP, apart from the
	// sign-in attempts; zero means 300 per 10 minutes.
	RefreshLimit ratelimit.Rule
	// DevMailbox is nil outside development: no /dev/mailbox route.
	DevMailbox *mail.Mailbox
	// Tracing, when enabled, makes each request a span; the zero value
	// traces nothing.
	Tracing telemetry.Tracing
}

// Server implements the generated strict server interface.
type Server struct {
	store     *store.Store
	accounts  *account.Service
	clients   *clients.Service
	goals     *goals.Service
	sessions  *sessions.Service
	dashboard *dashboard.Service
	consent   *consent.Service
	webhooks  *webhooks.Service
	notify    *notify.Service
	privacy   *privacy.Service
	billing   *billing.Service
	log       *slog.Logger
	tracing   telemetry.Tracing
	tracer    trace.Tracer
	metrics   *metrics
	// The per-address budgets, shared by every replica on PostgreSQL and
	// kept in memory on SQLite (ratelimit.NewBudget).
	ipLimit   ratelimit.Budget
	feedLimit ratelimit.Budget
	// refreshLimit is a budget of its own: every page load of the web app
	// refreshes its session, and an office behind one address must not
	// use up its sign-in attempts by working.
	refreshLimit ratelimit.Budget
	rules        map[string]Rule // by "METHOD /path" as Echo registers it
	// refreshCookie is how the browser variants of sign-in keep the
	// refresh token; baseURL is the origin their CSRF check accepts.
	refreshCookie refreshCookie
	baseURL       string
	// app is the web app, served for GET requests no route claims.
	app *web.App
	// specJSONBody is the embedded spec as JSON, served at /api/v1/openapi.json.
	specJSONBody []byte
}

var _ api.StrictServerInterface = (*Server)(nil)

// API is the HTTP handler that serves Tandem, with the authorization rule
// declared for each of its routes.
type API struct {
	*echo.Echo
	server   *Server
	registry *prometheus.Registry
}

// RuleFor returns the rule declared for a registered route (method and Echo
// path template), and whether one is.
func (a *API) RuleFor(method, path string) (Rule, bool) {
	r, ok := a.server.rules[method+" "+path]
	return r, ok
}

// New builds the HTTP handler that serves Tandem.
func New(d Deps) (*API, error) {
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	if d.IPLimit.Burst == 0 {
		d.IPLimit = ratelimit.Rule{Burst: 30, Per: 10 * time.Minute}
	}
	s := &Server{
		store:        d.Store,
		accounts:     d.Accounts,
		clients:      d.Clients,
		goals:        d.Goals,
		sessions:     d.Sessions,
		dashboard:    d.Dashboard,
		consent:      d.Consent,
		webhooks:     d.Webhooks,
		notify:       d.Notify,
		privacy:      d.Privacy,
		billing:      d.Billing,
		log:          d.Log,
		tracing:      d.Tracing,
		tracer:       d.Tracing.Tracer("github.com/tandem-coach/tandem/internal/httpapi"),
		ipLimit:      ratelimit.NewBudget(d.Store, "sign-in-ip", d.IPLimit, d.Clock),
		feedLimit:    ratelimit.NewBudget(d.Store, "feed-ip", feedLimit, d.Clock),
		refreshLimit: ratelimit.NewBudget(d.Store, "refresh-ip", cmp.Or(d.RefreshLimit, refreshLimit), d.Clock),
		rules:        map[string]Rule{},

		refreshCookie: refreshCookieFor(d.Config.BaseURL),
		baseURL:       d.Config.BaseURL,
	}
	var err error
	if s.metrics, err = newMetrics(d.Registry, d.Store); err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(d.Config.TrustedProxies)
	e.Use(
		s.requestID,
		s.trace,     // outside the access log, so its line names the trace
		s.accessLog, // outside recovery, so a panic is logged with its 500
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			DisableErrorHandler: true,
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				s.log.ErrorContext(c.Request().Context(), "panic", slog.String("error", err.Error()),
					slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)), slog.String("stack", string(stack)))
				return err
			},
		}),
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: d.Config.BodyLimit, Skipper: hasOwnBodyLimit}),
		requestDeadline(d.Config.RequestTimeout),
		securityHeaders,
	)

	spec, err := api.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	if s.specJSONBody, err = spec.MarshalJSON(); err != nil {
		return nil, fmt.Errorf("render the spec as JSON: %w", err)
	}
	// The spec's only server is the relative /api/v1, so the validator matches
	// paths under it whatever host the service is reached at.
	rec := &ruleRecorder{e: e, rules: s.rules, spec: spec, chain: s.operationChain(spec)}
	api.RegisterHandlersWithBaseURL(rec, api.NewStrictHandler(s, nil), BasePath)
	if rec.err != nil {
		return nil, rec.err
	}
	s.registerOps(e, d.Registry, d.Config.OpsAddr != "")
	s.registerUnsubscribe(e)
	s.registerWellKnownKeys(e)
	if err := s.registerApp(); err != nil {
		return nil, fmt.Errorf("load the web app: %w", err)
	}
	if d.DevMailbox != nil {
		s.registerDevMailbox(e, d.DevMailbox)
	}
	return &API{Echo: e, server: s, registry: d.Registry}, nil
}

// operationChain returns the middleware that runs before an operation's
// handler: the per-IP limit for sign-in operations, the content type check,
// authentication against the operation's declared rule, then validation
// against the spec.
func (s *Server) operationChain(spec *openapi3.T) func(*openapi3.Operation, Rule) []echo.MiddlewareFunc {
	validator := oapimw.OapiRequestValidatorWithOptions(spec, &oapimw.Options{
		SilenceServersWarning: true,
		Options: openapi3filter.Options{
			MultiError:         true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, // authentication ran already
		},
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: 400, Internal: validationError(me)}
		},
		ErrorHandler: func(_ echo.Context, he *echo.HTTPError) error {
			if ae, ok := apperr.As(he.Internal); ok {
				return ae
			}
			if he.Code == 400 && he.Internal != nil {
				return validationError(he.Internal)
			}
			return he
		},
	})
	return func(op *openapi3.Operation, rule Rule) []echo.MiddlewareFunc {
		chain := []echo.MiddlewareFunc{conditionalRead}
		if strings.EqualFold(op.OperationID, "importHistory") {
			chain = append(chain, middleware.BodyLimit(historyImportBodyLimit))
		}
		switch id := strings.ToLower(op.OperationID); {
		case signInOperations[id]:
			chain = append(chain, limitByIP(s.ipLimit, "Too many attempts from this address; try again later."))
		case id == "refresh" || id == "browserrefresh":
			chain = append(chain, limitByIP(s.refreshLimit, "Too many session refreshes from this address; try again later."))
		case id == "getcalendarfeed":
			chain = append(chain, limitByIP(s.feedLimit, "Too many calendar requests from this address; try again later."))
		}
		if browserOperations[strings.ToLower(op.OperationID)] {
			chain = append(chain, requireSameOrigin(s.baseURL))
		}
		chain = append(chain, requireJSONBody)
		if strings.EqualFold(op.OperationID, "receiveStripeWebhook") {
			chain = append(chain, keepRawBody)
		}
		chain = append(chain, s.authenticate(rule, guardsOf(op)))
		if requiresIfMatch(op) {
			chain = append(chain, requireIfMatch)
		}
		return append(chain, validator)
	}
}

// signInOperations take credentials: they share a per-IP budget against
// guessing. Session refreshes and the calendar feed have budgets of their
// own, sized for browsers and calendar apps working from behind one
// address, so that working never eats into anyone's sign-in attempts.
var signInOperations = map[string]bool{
	"register": true, "login": true, "loginmfa": true, "acceptinvitation": true, "declineinvitation": true,
	"verifyemail": true, "requestpasswordreset": true, "confirmpasswordreset": true,
	"browserlogin": true,
}

// refreshLimit bounds session refreshes per client IP: a refresh token is
// 256 random bits, so this guards the service, not the tokens, and is as
// generous as the feeds'.
var refreshLimit = ratelimit.Rule{Burst: 300, Per: 10 * time.Minute}

// feedLimit bounds calendar feed requests per client IP.
var feedLimit = ratelimit.Rule{Burst: 300, Per: 10 * time.Minute}

func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
