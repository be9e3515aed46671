package porchobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/nephoran/porchkit/observability"
	"github.com/nephoran/porchkit/porch"
)

type metrics struct {
	operations *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	retries    *prometheus.CounterVec
	breaker    *prometheus.GaugeVec
	cache      *prometheus.CounterVec
}

// New returns the instrumentation for porch.Options.Instrumentation, which
// records the client's operations (by verb, resource and outcome), their
// latency, retries, the circuit breaker's state and cache lookups with p's
// Registerer, and a client span per operation with p's Tracer. Object
// names are span attributes, not metric labels.
func New(p *observability.Provider) porch.Instrumentation {
	const ns, sub = observability.Namespace, "porch"
	breaker := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "circuit_breaker_state",
		Help: "1 for the circuit breaker's current state (closed, half-open, open), 0 for the others."}, []string{"state"})
	m := &metrics{
		operations: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "operations_total",
			Help: "Porch client operations by verb, resource and outcome (ok, not_found, conflict, ...)."}, []string{"operation", "resource", "outcome"})),
		duration: observability.Register(p, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "operation_duration_seconds",
			Help: "Porch client operation latency, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"operation", "resource"})),
		retries: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "retries_total",
			Help: "Requests repeated after a transient error."}, []string{"operation", "resource", "reason"})),
		breaker: observability.Register(p, breaker),
		cache: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "cache_lookups_total",
			Help: "Reads the cache could serve, by resource and result (hit, miss)."}, []string{"resource", "result"})),
	}
	if m.breaker == breaker { // newly registered: a new breaker starts closed
		m.breaker.WithLabelValues("closed").Set(1)
	}
	return &instrumentation{m: m, tracer: p.Tracer()}
}

type instrumentation struct {
	m      *metrics
	tracer trace.Tracer
}

func (i *instrumentation) StartOperation(ctx context.Context, op porch.Operation) (context.Context, func(error)) {
	start := time.Now()
	ctx, span := i.tracer.Start(ctx, "porch."+op.Name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("porch.resource", op.Kind), attribute.String("porch.namespace", op.Namespace), attribute.String("porch.object", op.Object)))
	return ctx, func(err error) {
		outcome := porch.Outcome(err)
		i.m.operations.WithLabelValues(op.Name, op.Kind, outcome).Inc()
		i.m.duration.WithLabelValues(op.Name, op.Kind).Observe(time.Since(start).Seconds())
		span.SetAttributes(attribute.String("porch.outcome", outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

func (i *instrumentation) Retried(ctx context.Context, op porch.Operation, attempt int, err error) {
	i.m.retries.WithLabelValues(op.Name, op.Kind, porch.Outcome(err)).Inc()
	trace.SpanFromContext(ctx).AddEvent("retry", trace.WithAttributes(attribute.Int("attempt", attempt), attribute.String("reason", porch.Outcome(err))))
}

func (i *instrumentation) BreakerStateChanged(from, to string) {
	i.m.breaker.WithLabelValues(from).Set(0)
	i.m.breaker.WithLabelValues(to).Set(1)
}

func (i *instrumentation) CacheLookup(kind string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	i.m.cache.WithLabelValues(kind, result).Inc()
}
