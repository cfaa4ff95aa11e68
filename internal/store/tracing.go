package store

import (
	"errors"
	"fmt"

	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// spanKey is where a statement's span waits between GORM's before and after
// callbacks.
const spanKey = "tandem:span"

// Trace makes every statement a client span in the trace of the context it
// runs in (a request's or a job's), named by operation and table. The SQL
// text is never recorded: it names columns and shapes, and a trace store is
// not where an operator expects to audit them. A statement outside any
// trace starts none.
//
// Jobs are traced too (River's otelriver middleware): each job worked is a
// span of its own, linked to the span of the request that queued it, with
// the job's kind, queue and attempt but never its arguments. Call Trace
// before NewJobClient.
func (s *Store) Trace(tp trace.TracerProvider) error {
	s.jobMiddleware = []rivertype.Middleware{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
		TracerProvider:              tp,
		MeterProvider:               metricnoop.NewMeterProvider(), // metrics are Prometheus's
		EnableTracePropagation:      true,
		EnableWorkSpanJobKindSuffix: true,
	})}
	if err := s.newInserter(); err != nil {
		return err
	}
	tracer := tp.Tracer("github.com/tandem-coach/tandem/internal/store")
	system := "sqlite"
	if s.Dialect == Postgres {
		system = "postgresql"
	}
	before := func(operation string) func(*gorm.DB) {
		return func(db *gorm.DB) {
			ctx := db.Statement.Context
			if !trace.SpanContextFromContext(ctx).IsValid() {
				return
			}
			name := operation
			if db.Statement.Table != "" {
				name += " " + db.Statement.Table
			}
			_, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
				attribute.String("db.system.name", system),
				attribute.String("db.operation.name", operation),
				attribute.String("db.collection.name", db.Statement.Table),
			))
			db.InstanceSet(spanKey, span)
		}
	}
	after := func(db *gorm.DB) {
		v, ok := db.InstanceGet(spanKey)
		if !ok {
			return
		}
		span := v.(trace.Span)
		if err := db.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			// The class of failure only: a driver's message may quote values.
			span.SetStatus(codes.Error, failureClass(err))
		}
		span.SetAttributes(attribute.Int64("db.response.returned_rows", db.RowsAffected))
		span.End()
	}

	cb := s.DB.Callback()
	for _, err := range []error{
		cb.Create().Before("gorm:create").Register("tandem:trace_before_create", before("INSERT")),
		cb.Create().After("gorm:create").Register("tandem:trace_after_create", after),
		cb.Query().Before("gorm:query").Register("tandem:trace_before_query", before("SELECT")),
		cb.Query().After("gorm:query").Register("tandem:trace_after_query", after),
		cb.Update().Before("gorm:update").Register("tandem:trace_before_update", before("UPDATE")),
		cb.Update().After("gorm:update").Register("tandem:trace_after_update", after),
		cb.Delete().Before("gorm:delete").Register("tandem:trace_before_delete", before("DELETE")),
		cb.Delete().After("gorm:delete").Register("tandem:trace_after_delete", after),
		cb.Row().Before("gorm:row").Register("tandem:trace_before_row", before("ROW")),
		cb.Row().After("gorm:row").Register("tandem:trace_after_row", after),
		cb.Raw().Before("gorm:raw").Register("tandem:trace_before_raw", before("RAW")),
		cb.Raw().After("gorm:raw").Register("tandem:trace_after_raw", after),
	} {
		if err != nil {
			return fmt.Errorf("register tracing callbacks: %w", err)
		}
	}
	return nil
}

// failureClass names what kind of failure err is, without its message.
func failureClass(err error) string {
	switch err = Classify(err); {
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, ErrBusy):
		return "busy"
	case errors.Is(err, ErrContention):
		return "contention"
	case IsUniqueViolation(err):
		return "unique violation"
	default:
		return "failed"
	}
}
