package httpapi

import (
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tandem-coach/tandem/internal/reqinfo"
)

// trace makes each request a server span, continuing the caller's trace
// when it sends a W3C traceparent. The span is named by method and route
// template and carries the status, never the raw path or query (they may
// hold a token). With tracing off it only passes the request on.
func (s *Server) trace(next echo.HandlerFunc) echo.HandlerFunc {
	if !s.tracing.Enabled() {
		return next
	}
	return func(c echo.Context) error {
		r := c.Request()
		route := s.routeLabel(c)
		ctx := s.tracing.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tracer.Start(ctx, r.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", route),
			attribute.String("tandem.request_id", reqinfo.From(ctx).RequestID),
		))
		defer span.End()
		c.SetRequest(r.WithContext(ctx))
		err := next(c) // the access log inside has written any problem already
		status := c.Response().Status
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, "")
		}
		return err
	}
}
