package krmobs

import (
	"context"
	"errors"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/observability"
)

type metrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	items    *prometheus.HistogramVec
	memory   *prometheus.HistogramVec
}

// New returns the instrumentation for RunnerConfig.Instrumentation in krm,
// which records function runs (by function, runtime, outcome and whether
// memoised), their duration, items in and out and exec peak memory with p's
// Registerer, and a span per run with p's Tracer. The function label is
// the image without its tag or digest, so that the series stay few as
// versions change; the span carries the full reference and the version.
func New(p *observability.Provider) krm.Instrumentation {
	const ns, sub = observability.Namespace, "krm"
	return &instrumentation{tracer: p.Tracer(), m: &metrics{
		runs: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "runs_total",
			Help: "KRM function runs by function (image without tag), runtime, outcome and whether the output was memoised."}, []string{"function", "runtime", "outcome", "memoised"})),
		duration: observability.Register(p, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "run_duration_seconds",
			Help: "KRM function run time.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, []string{"function", "runtime"})),
		items: observability.Register(p, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "run_items",
			Help: "Resources into and out of a function.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}, []string{"function", "direction"})),
		memory: observability.Register(p, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "exec_peak_memory_bytes",
			Help: "Peak resident memory of exec functions.", Buckets: prometheus.ExponentialBuckets(1<<20, 2, 12)}, []string{"function"})),
	}}
}

type instrumentation struct {
	m      *metrics
	tracer trace.Tracer
}

// outcome names the class of a run's error.
func outcome(err error) string {
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

// functionLabel is a function's metric label: its image without tag or
// digest (an exec function's "exec:<path>" as it is).
func functionLabel(function string) string {
	ref, err := krm.ParseImage(function)
	if err != nil {
		return function
	}
	return ref.Name
}

func (i *instrumentation) StartRun(ctx context.Context, function string) (context.Context, func(krm.RunInfo, error)) {
	ctx, span := i.tracer.Start(ctx, "krm.run", trace.WithAttributes(attribute.String("krm.function", function)))
	return ctx, func(info krm.RunInfo, err error) {
		m := i.m
		outcome := outcome(err)
		fn := functionLabel(function)
		m.runs.WithLabelValues(fn, info.Runtime, outcome, strconv.FormatBool(info.Memoised)).Inc()
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
