// Package telemetry sends traces to an OpenTelemetry collector over OTLP,
// configured by the standard OTEL_* variables and off unless they ask for
// it. It also tags log lines with the trace they belong to, so an operator
// can go from a log line or a problem document's trace_id to the trace.
//
// Spans carry route templates, statuses, table names and operations, never a
// raw path (it may hold a token), a query, a body, or SQL.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing is what the rest of Tandem needs to trace: where spans go and how
// trace context crosses process boundaries. The zero value traces nothing.
type Tracing struct {
	Provider   trace.TracerProvider
	Propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// Enabled reports whether spans are recorded and exported.
func (t Tracing) Enabled() bool { return t.shutdown != nil }

// Tracer returns the named tracer, or one that records nothing.
func (t Tracing) Tracer(name string) trace.Tracer {
	if t.Provider == nil {
		return noop.NewTracerProvider().Tracer(name)
	}
	return t.Provider.Tracer(name)
}

// Extract reads the caller's trace context (W3C traceparent) when tracing is on.
func (t Tracing) Extract(ctx context.Context, carrier propagation.TextMapCarrier) context.Context {
	if t.Propagator == nil {
		return ctx
	}
	return t.Propagator.Extract(ctx, carrier)
}

// Shutdown exports the spans still buffered, within ctx's deadline.
func (t Tracing) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	return t.shutdown(ctx)
}

// Setup reads the OTEL_* variables and, when they ask for traces, starts an
// OTLP/HTTP exporter. Traces are on when OTEL_TRACES_EXPORTER is "otlp", or
// when it is unset and an OTLP endpoint is (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); OTEL_SDK_DISABLED=true turns them
// off whatever else is set. The exporter itself reads the endpoint, headers,
// timeout and compression variables; the SDK reads OTEL_TRACES_SAMPLER,
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
func Setup(ctx context.Context, getenv func(string) string, version string) (Tracing, error) {
	on, err := wanted(getenv)
	if err != nil || !on {
		return Tracing{}, err
	}
	exporter, err := otlptracehttp.New(ctx)
	if err != nil {
		return Tracing{}, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	// Attributes given later win, so OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES override these defaults.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "tandem"), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return Tracing{}, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	provider := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(res),
	)
	return Tracing{
		Provider:   provider,
		Propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
		shutdown:   provider.Shutdown,
	}, nil
}

// wanted decides from the standard variables whether traces are exported,
// refusing values Tandem does not support rather than ignoring them.
func wanted(getenv func(string) string) (bool, error) {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return false, nil
	}
	switch exporter := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); exporter {
	case "none":
		return false, nil
	case "otlp":
	case "":
		if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
			return false, nil
		}
	default:
		return false, fmt.Errorf("OTEL_TRACES_EXPORTER=%q is not supported: use otlp or none", exporter)
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := strings.TrimSpace(getenv(name)); p != "" {
			if p != "http/protobuf" {
				return false, fmt.Errorf("%s=%q is not supported: Tandem exports over http/protobuf", name, p)
			}
			break // the traces-specific variable wins over the general one
		}
	}
	return true, nil
}

// TraceID is the ID of the sampled trace ctx belongs to, or "" when there is
// none: an unsampled trace is nowhere to be found, so it is not worth naming.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || !sc.IsSampled() {
		return ""
	}
	return sc.TraceID().String()
}

// LogHandler adds trace_id and span_id to every record logged with a context
// inside a sampled span.
func LogHandler(h slog.Handler) slog.Handler { return traceHandler{h} }

type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() && sc.IsSampled() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(attrs)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
