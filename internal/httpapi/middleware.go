package httpapi

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
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

// isSecretPath reports whether the route's path holds a secret token: an
// invitation's, or a calendar feed's (its name is the token plus ".ics").
func isSecretPath(route string) bool {
	return strings.Contains(route, ":token") || strings.Contains(route, ":feed")
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
// application/json, and 400 when a JSON string in it holds a NUL character:
// no text field accepts one, and PostgreSQL would refuse to store it.
func requireJSONBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength == 0 && r.Header.Get("Transfer-Encoding") == "" {
			return next(c)
		}
		mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
		if err != nil || mt != echo.MIMEApplicationJSON {
			return echo.NewHTTPError(http.StatusUnsupportedMediaType)
		}
		body, err := io.ReadAll(r.Body) // bounded by the body limit middleware
		if err != nil {
			var he *echo.HTTPError
			if errors.As(err, &he) {
				return he
			}
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		if bytes.Contains(body, []byte(`\u0000`)) {
			return apperr.Validation(apperr.FieldError{Field: "body", Message: "must not contain NUL characters"})
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		return next(c)
	}
}

// limitByIP spends one request of the client IP's budget in limiter.
func limitByIP(limiter *ratelimit.Limiter, message string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if ok, wait := limiter.Allow(c.RealIP()); !ok {
				return &apperr.Error{Code: apperr.TooManyRequests, Message: message, RetryAfter: wait}
			}
			return next(c)
		}
	}
}
