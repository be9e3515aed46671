package observability

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/nephoran/porchkit/porch"
)

type porchMetrics struct {
	operations *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	retries    *prometheus.CounterVec
	breaker    *prometheus.GaugeVec
	cache      *prometheus.CounterVec
}

func newPorchMetrics(r prometheus.Registerer) *porchMetrics {
	m := &porchMetrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "porchkit", Subsystem: "porch", Name: "operations_total",
			Help: "Porch client operations by verb, resource and outcome (ok, not_found, conflict, ...)."}, []string{"operation", "resource", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "porchkit", Subsystem: "porch", Name: "operation_duration_seconds",
			Help: "Porch client operation latency, retries included.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{"operation", "resource"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "porchkit", Subsystem: "porch", Name: "retries_total",
			Help: "Requests repeated after a transient error."}, []string{"operation", "resource", "reason"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "porchkit", Subsystem: "porch", Name: "circuit_breaker_state",
			Help: "1 for the circuit breaker's current state (closed, half-open, open), 0 for the others."}, []string{"state"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "porchkit", Subsystem: "porch", Name: "cache_lookups_total",
			Help: "Reads the cache could serve, by resource and result (hit, miss)."}, []string{"resource", "result"}),
	}
	r.MustRegister(m.operations, m.duration, m.retries, m.breaker, m.cache)
	m.breaker.WithLabelValues("closed").Set(1)
	return m
}

// Porch returns the instrumentation for porch.WithInstrumentation.
func (p *Provider) Porch() porch.Instrumentation { return porchInstrumentation{p} }

type porchInstrumentation struct{ p *Provider }

func (i porchInstrumentation) StartOperation(ctx context.Context, op porch.Operation) (context.Context, func(error)) {
	m := i.p.porch
	start := time.Now()
	ctx, span := i.p.tracer.Start(ctx, "porch."+op.Name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("porch.resource", op.Kind), attribute.String("porch.namespace", op.Namespace), attribute.String("porch.object", op.Object)))
	return ctx, func(err error) {
		outcome := porch.Outcome(err)
		m.operations.WithLabelValues(op.Name, op.Kind, outcome).Inc()
		m.duration.WithLabelValues(op.Name, op.Kind).Observe(time.Since(start).Seconds())
		span.SetAttributes(attribute.String("porch.outcome", outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

func (i porchInstrumentation) Retried(ctx context.Context, op porch.Operation, attempt int, err error) {
	i.p.porch.retries.WithLabelValues(op.Name, op.Kind, porch.Outcome(err)).Inc()
	trace.SpanFromContext(ctx).AddEvent("retry", trace.WithAttributes(attribute.Int("attempt", attempt), attribute.String("reason", porch.Outcome(err))))
}

func (i porchInstrumentation) BreakerStateChanged(from, to string) {
	i.p.porch.breaker.WithLabelValues(from).Set(0)
	i.p.porch.breaker.WithLabelValues(to).Set(1)
}

func (i porchInstrumentation) CacheLookup(kind string, hit bool) {
	result := "miss"
	if hit {
		result = "hit"
	}
	i.p.porch.cache.WithLabelValues(kind, result).Inc()
}
