package observability

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/nephoran/porchkit/krm"
)

type krmMetrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	items    *prometheus.HistogramVec
	memory   *prometheus.HistogramVec
}

func newKRMMetrics(r prometheus.Registerer) *krmMetrics {
	m := &krmMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "porchkit", Subsystem: "krm", Name: "runs_total",
			Help: "KRM function runs by function, runtime, outcome and whether the output was memoised."}, []string{"function", "runtime", "outcome", "memoised"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "porchkit", Subsystem: "krm", Name: "run_duration_seconds",
			Help: "KRM function run time.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"function", "runtime"}),
		items: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "porchkit", Subsystem: "krm", Name: "run_items",
			Help: "Resources into and out of a function.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}, []string{"function", "direction"}),
		memory: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: "porchkit", Subsystem: "krm", Name: "exec_peak_memory_bytes",
			Help: "Peak resident memory of exec functions.", Buckets: prometheus.ExponentialBuckets(1<<20, 2, 12)}, []string{"function"}),
	}
	r.MustRegister(m.runs, m.duration, m.items, m.memory)
	return m
}

// KRM returns the instrumentation for krm.WithInstrumentation.
func (p *Provider) KRM() krm.Instrumentation { return krmInstrumentation{p} }

type krmInstrumentation struct{ p *Provider }

// krmOutcome names the class of a run's error.
func krmOutcome(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{krm.ErrTimeout, "timeout"}, {krm.ErrResourceLimit, "resource_limit"}, {krm.ErrOutputTooLarge, "output_too_large"},
		{krm.ErrBadOutput, "bad_output"}, {krm.ErrFunctionFailed, "failed"}, {krm.ErrUnknownFunction, "unknown_function"},
		{krm.ErrNotAllowed, "not_allowed"}, {krm.ErrCapabilityDenied, "capability_denied"}, {krm.ErrBadInput, "bad_input"},
		{krm.ErrSandboxUnavailable, "sandbox_unavailable"}, {krm.ErrNoContainerRuntime, "no_container_runtime"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	if err != nil {
		return "error"
	}
	return "ok"
}

func (i krmInstrumentation) StartRun(ctx context.Context, function string) (context.Context, func(krm.RunInfo, error)) {
	ctx, span := i.p.tracer.Start(ctx, "krm.run", traceAttrs(attribute.String("krm.function", function)))
	return ctx, func(info krm.RunInfo, err error) {
		m := i.p.krm
		outcome := krmOutcome(err)
		fn := function
		m.runs.WithLabelValues(fn, info.Runtime, outcome, boolLabel(info.Memoised)).Inc()
		if err == nil {
			m.duration.WithLabelValues(fn, info.Runtime).Observe(info.Duration.Seconds())
			m.items.WithLabelValues(fn, "in").Observe(float64(info.ItemsIn))
			m.items.WithLabelValues(fn, "out").Observe(float64(info.ItemsOut))
			if info.PeakMemory > 0 {
				m.memory.WithLabelValues(fn).Observe(float64(info.PeakMemory))
			}
		}
		span.SetAttributes(attribute.String("krm.version", info.Version), attribute.String("krm.runtime", info.Runtime),
			attribute.Int("krm.items_in", info.ItemsIn), attribute.Int("krm.items_out", info.ItemsOut),
			attribute.Bool("krm.memoised", info.Memoised), attribute.String("krm.outcome", outcome))
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
