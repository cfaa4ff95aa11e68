package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tandem-coach/tandem/internal/apperr"
	"github.com/tandem-coach/tandem/internal/ratelimit"
	"github.com/tandem-coach/tandem/internal/reqinfo"
)

// requestID gives every request an ID — the caller's X-Request-ID when it is
// short and plain, a new UUID otherwise — and puts it, the client IP and the
// user agent in the request context for logs and audit events.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !plainID(id) {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		ctx := reqinfo.With(c.Request().Context(), reqinfo.Info{
			RequestID: id,
			IP:        c.RealIP(),
			UserAgent: truncate(c.Request().UserAgent(), 512),
		})
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// truncate cuts s to at most n bytes of valid UTF-8: a header may carry any
// bytes, and PostgreSQL stores only valid text.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// accessLog writes one structured line per request and records its metrics.
// It logs the route template, never the raw path or query, which may hold
// tokens.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // write the problem now, so the status below is the real one
		}
		elapsed := time.Since(start)
		route := s.routeLabel(c)
		status := c.Response().Status
		s.metrics.observe(c.Request().Method, route, status, elapsed)
		info := reqinfo.From(c.Request().Context())
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "http request",
			slog.String("request_id", info.RequestID),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes_out", c.Response().Size),
			slog.String("ip", info.IP),
		)
		return nil
	}
}

// routeLabel is the matched route template, or "unmatched" for requests no
// route serves, so that scanners cannot blow up metric cardinality.
func (s *Server) routeLabel(c echo.Context) string {
	if _, ok := s.rules[c.Request().Method+" "+c.Path()]; ok {
		return c.Path()
	}
	return "unmatched"
}

// historyImportBodyLimit bounds an imported history bundle instead of the
// service's body limit: its payload may be up to 10,000,000 characters (the
// spec's maxLength, some 30,000 action steps with reflections), which the
// default limit of 1M would refuse long before. The body is read into
// memory, so it stays bounded.
const historyImportBodyLimit = "11M"

// hasOwnBodyLimit reports whether the route sets its own body limit in its
// operation chain, in place of the service's.
func hasOwnBodyLimit(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == BasePath+"/clients/:client_id/history-imports"
}

// isSecretPath reports whether the route's path holds a secret token: an
// invitation's, a calendar feed's (its name is the token plus ".ics"), or
// an export's one-time download link.
func isSecretPath(route string) bool {
	return strings.Contains(route, ":token") || strings.Contains(route, ":feed") || strings.Contains(route, ":download")
}

// securityHeaders sets headers every API response should carry.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

// requireJSONBody answers 415 when a request sends a body that is not
// application/json, and 400 when the body is JSON the contract refuses but a
// decoder would quietly accept (see checkJSONDocument).
func requireJSONBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
			return next(c)
		}
		mt, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		if err != nil || mt != echo.MIMEApplicationJSON {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType)
		}
		// Media types are case-insensitive (RFC 9110 §8.3.1); what follows
		// compares them as written, so it gets them in lower case.
		r.Header.Set(echo.HeaderContentType, mime.FormatMediaType(mt, params))
		body, err := io.ReadAll(r.Body) // bounded by the body limit middleware
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he
			}
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		if err := checkJSONDocument(body); err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return next(c)
	}
}

// Refusals of checkJSONDocument. They never echo the input.
var (
	errTrailingJSON = apperr.Validation(apperr.FieldError{Field: "body", Message: "must be one JSON document with nothing after it"})
	errDuplicateKey = apperr.Validation(apperr.FieldError{Field: "body", Message: "must not repeat a key within an object"})
	errNULInJSON    = apperr.Validation(apperr.FieldError{Field: "body", Message: "must not contain NUL characters"})
	errJSONTooDeep  = apperr.Validation(apperr.FieldError{Field: "body", Message: "must not nest objects and arrays more than 32 deep"})
)

// maxJSONDepth is far deeper than any request body Tandem takes (three
// levels), and keeps the check below cheap.
const maxJSONDepth = 32

// jsonFrame is an open object or array of the document being checked.
type jsonFrame struct {
	object  bool
	wantKey bool                // in an object, the next token is a key or its end
	keys    map[string]struct{} // the object's keys so far, made at the first
}

// checkJSONDocument streams through body, token by token, and refuses what
// encoding/json and the request validator would each quietly accept, though
// differently: data after the document (both stop at its end), a key
// repeated within an object at any depth (the validator and the handler
// could each take a different one of its values), a string holding NUL (no
// text field accepts one, and PostgreSQL cannot store it), and nesting past
// maxJSONDepth. A body that is not JSON at all passes: the request
// validator refuses it with its own field errors.
func checkJSONDocument(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // no number is parsed here, so none can fail to parse
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // not JSON, or an empty body: the validator answers
		}
		if top := len(stack) - 1; top >= 0 && stack[top].wantKey {
			if key, ok := tok.(string); ok {
				if strings.IndexByte(key, 0) >= 0 {
					return errNULInJSON
				}
				f := &stack[top]
				if _, seen := f.keys[key]; seen {
					return errDuplicateKey
				}
				if f.keys == nil {
					f.keys = map[string]struct{}{}
				}
				f.keys[key] = struct{}{}
				f.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) == maxJSONDepth {
				return errJSONTooDeep
			}
			stack = append(stack, jsonFrame{object: tok == json.Delim('{'), wantKey: tok == json.Delim('{')})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if s, ok := tok.(string); ok && strings.IndexByte(s, 0) >= 0 {
				return errNULInJSON
			}
		}
		// A value is complete: in an object, a key comes next.
		if top := len(stack) - 1; top >= 0 {
			stack[top].wantKey = stack[top].object
			continue
		}
		break // the document is complete
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingJSON
	}
	return nil
}

// limitByIP spends one request of the client IP's budget in limiter. A
// refusal also says, in the RateLimit field of the IETF draft
// (draft-ietf-httpapi-ratelimit-headers), that nothing is left of the
// per-address budget and when there is again, as Retry-After does, and in
// RateLimit-Policy what the budget is: q requests per window of w seconds.
func limitByIP(limiter ratelimit.Budget, message string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ok, wait, err := limiter.Take(c.Request().Context(), c.RealIP())
			if err != nil {
				return err
			}
			if !ok {
				secs := int(wait/time.Second) + 1 // as Retry-After rounds it
				rule := limiter.Rule()
				h := c.Response().Header()
				h.Set("RateLimit", `"per-address";r=0;t=`+strconv.Itoa(secs))
				h.Set("RateLimit-Policy", `"per-address";q=`+strconv.Itoa(rule.Burst)+";w="+strconv.Itoa(int(rule.Per/time.Second)))
				return &apperr.Error{Code: apperr.TooManyRequests, Message: message, RetryAfter: wait}
			}
			return next(c)
		}
	}
}
