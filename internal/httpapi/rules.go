package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/auth"
	"github.com/tandem-coach/tandem/internal/store"
)

// Rule is the coarse authorization every route declares: who may call it at
// all. Which records a caller may touch is decided by the domain services,
// inside their queries.
type Rule string

// The rules. Therapist rules arrive with the consent module.
const (
	RulePublic        Rule = "public"        // anyone, no credentials
	RuleAuthenticated Rule = "authenticated" // any signed-in user
	RuleMember        Rule = "member"        // staff, or a client with a portal account, of the caller's practice
	RuleStaff         Rule = "staff"         // an owner or coach of the caller's practice
	RuleOwner         Rule = "owner"         // the owner of the caller's practice
)

var knownRules = map[Rule]bool{RulePublic: true, RuleAuthenticated: true, RuleMember: true, RuleStaff: true, RuleOwner: true}

// ruleOf reads an operation's x-tandem-auth extension.
func ruleOf(op *openapi3.Operation) (Rule, error) {
	raw, ok := op.Extensions["x-tandem-auth"]
	if !ok {
		return "", fmt.Errorf("operation %s declares no x-tandem-auth rule", op.OperationID)
	}
	r := Rule(fmt.Sprint(raw))
	if !knownRules[r] {
		return "", fmt.Errorf("operation %s declares unknown rule %q", op.OperationID, r)
	}
	return r, nil
}

// Guards is what an operation asks of the account beyond its rule, declared
// in the spec beside x-tandem-auth.
type Guards struct {
	// Verified: x-tandem-verified, the caller's e-mail address is proven.
	Verified bool
	// ArchivedClient: x-tandem-archived-client: allow, an archived client may
	// call it (to see and revoke their consents).
	ArchivedClient bool
	// Account: tagged auth, the caller's own account (sign-in, password,
	// MFA, devices): reachable while the practice waits for MFA enrolment.
	Account bool
	// Billing: tagged billing, the practice's subscription: reachable
	// while the practice is read-only, so that its owner can renew.
	Billing bool
}

func guardsOf(op *openapi3.Operation) Guards {
	return Guards{
		Verified:       fmt.Sprint(op.Extensions["x-tandem-verified"]) == "true",
		ArchivedClient: fmt.Sprint(op.Extensions["x-tandem-archived-client"]) == "allow",
		Account:        slices.Contains(op.Tags, "auth"),
		Billing:        slices.Contains(op.Tags, "billing"),
	}
}

// Refusals of the guards, each with its own problem type.
var (
	errUnverified = &apperr.Error{Code: apperr.Forbidden, Reason: "email_unverified",
		Message: "Confirm your e-mail address first, with the link we sent (POST /auth/verify-email/resend sends a new one)."}
	errMFAEnrolment = &apperr.Error{Code: apperr.Forbidden, Reason: "mfa_enrolment_required",
		Message: "Your practice requires two-step sign-in: turn it on (POST /me/mfa/totp) before you continue."}
	errClientArchived = &apperr.Error{Code: apperr.Forbidden, Reason: "client_archived",
		Message: "Your coaching record is archived: you can still see and revoke your consents and see who viewed your data."}
)

// authenticate enforces rule: it loads the Actor from the bearer token (401
// when missing or bad) and checks the role the rule needs and the
// operation's guards (403).
func (s *Server) authenticate(rule Rule, g Guards) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if rule == RulePublic {
				return next(c)
			}
			token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				return apperr.New(apperr.Unauthenticated, "Send an access token as 'Authorization: Bearer <token>'.")
			}
			actor, err := s.accounts.Authenticate(c.Request().Context(), token)
			if err != nil {
				return err
			}
			switch {
			case actor.MFAEnrolmentRequired && !g.Account:
				return errMFAEnrolment
			case rule == RuleMember && !actor.IsStaff() && !actor.IsClient():
				return apperr.New(apperr.Forbidden, "Only members of a practice may do this.")
			case rule == RuleStaff && !actor.IsStaff():
				return apperr.New(apperr.Forbidden, "Only the practice's owner and coaches may do this.")
			case rule == RuleOwner && !actor.Has(auth.RoleOwner):
				return apperr.New(apperr.Forbidden, "Only the practice owner may do this.")
			case rule == RuleMember && actor.ClientArchived && !actor.IsStaff() && !g.ArchivedClient:
				return errClientArchived
			case g.Verified && !actor.EmailVerified:
				return errUnverified
			}
			if m := c.Request().Method; m != http.MethodGet && m != http.MethodHead && actor.IsStaff() && !g.Account && !g.Billing {
				// A lapsed subscription makes the practice read-only for its
				// staff; clients and therapists act for themselves regardless.
				if err := s.billing.StaffMayWrite(c.Request().Context(), actor.PracticeID); err != nil {
					return err
				}
			}
			ctx := auth.WithActor(c.Request().Context(), actor)
			if ctx, err = s.readYourWrites(ctx, c.Request().Method, actor); err != nil {
				return err
			}
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// actorFrom returns the request's actor. Handlers behind a non-public rule
// always have one; its absence is a wiring bug, answered as 401, not a panic.
func actorFrom(ctx context.Context) (auth.Actor, error) {
	a, ok := auth.ActorFrom(ctx)
	if !ok {
		return auth.Actor{}, apperr.New(apperr.Unauthenticated, "Sign in first.")
	}
	return a, nil
}

// ruleRecorder registers the generated routes on Echo. For each it finds the
// operation in the spec, reads its declared rule, records it, and puts the
// operation's middleware chain in front of the handler. A route without a
// rule is an error that stops the service from starting.
type ruleRecorder struct {
	e     *echo.Echo
	rules map[string]Rule
	spec  *openapi3.T
	chain func(*openapi3.Operation, Rule) []echo.MiddlewareFunc
	err   error
}

func (r *ruleRecorder) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	var op *openapi3.Operation
	if item := r.spec.Paths.Value(toSpecPath(strings.TrimPrefix(path, BasePath))); item != nil {
		op = item.GetOperation(method)
	}
	if op == nil {
		r.err = errors.Join(r.err, fmt.Errorf("%s %s is not in the spec", method, path))
		return r.e.Add(method, path, h, m...)
	}
	rule, err := ruleOf(op)
	if err != nil {
		r.err = errors.Join(r.err, err)
		return r.e.Add(method, path, h, m...)
	}
	r.rules[method+" "+path] = rule
	return r.e.Add(method, path, h, append(r.chain(op, rule), m...)...)
}

// toSpecPath turns Echo's /clients/:client_id into the spec's /clients/{client_id}.
func toSpecPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

func (r *ruleRecorder) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h, m)
}
func (r *ruleRecorder) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h, m)
}
func (r *ruleRecorder) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	route := r.add(http.MethodGet, p, h, m)
	r.addHead(p, h, m)
	return route
}

// addHead serves HEAD on a GET route whose path declares no HEAD of its own
// (RFC 9110 §9.3.2): the GET's rule, middleware and handler, with the request
// shown to them as the GET it mirrors. net/http sends the headers, the
// Content-Length included, and drops the body.
func (r *ruleRecorder) addHead(path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) {
	item := r.spec.Paths.Value(toSpecPath(strings.TrimPrefix(path, BasePath)))
	if item == nil || item.Get == nil || item.Head != nil {
		return
	}
	rule, err := ruleOf(item.Get)
	if err != nil {
		return // reported for the GET
	}
	r.rules[http.MethodHead+" "+path] = rule
	chain := append([]echo.MiddlewareFunc{headAsGet}, r.chain(item.Get, rule)...)
	r.e.Add(http.MethodHead, path, h, append(chain, m...)...)
}

// headAsGet shows a HEAD request to what follows as a GET, so that the spec
// validator finds the GET operation, and restores it for the access log.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		head := c.Request()
		get := head.WithContext(head.Context())
		get.Method = http.MethodGet
		c.SetRequest(get)
		defer c.SetRequest(head)
		return next(c)
	}
}
func (r *ruleRecorder) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h, m)
}
func (r *ruleRecorder) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h, m)
}
func (r *ruleRecorder) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h, m)
}
func (r *ruleRecorder) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h, m)
}
func (r *ruleRecorder) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h, m)
}
func (r *ruleRecorder) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h, m)
}

// readYourWrites keeps a user's reads on the primary while the read replica
// may not have their last write yet: a change marks its user before it
// runs, and a read by a user marked a moment ago reads from the primary.
// Without a replica it does nothing.
func (s *Server) readYourWrites(ctx context.Context, method string, a auth.Actor) (context.Context, error) {
	if !s.store.HasReplica() {
		return ctx, nil
	}
	if method != http.MethodGet && method != http.MethodHead {
		return store.PrimaryOnly(ctx), s.store.MarkWriter(ctx, a.UserID)
	}
	recent, err := s.store.RecentWriter(ctx, a.UserID)
	if recent {
		ctx = store.PrimaryOnly(ctx)
	}
	return ctx, err
}
