package clusterobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/observability"
)

type metrics struct {
	rollouts  *prometheus.CounterVec
	active    prometheus.Gauge
	duration  *prometheus.HistogramVec
	clusters  *prometheus.CounterVec
	delivery  *prometheus.HistogramVec
	rollbacks *prometheus.CounterVec
	analysis  *prometheus.CounterVec
}

// New returns the instrumentation for multicluster.PropagatorConfig.Instrumentation,
// which records rollouts (by strategy and the phase they end in), the
// rollouts running, per-cluster deliveries and rollbacks (by the state they
// end in), delivery time and analysis checks with p's Registerer, and a
// span per rollout with a child span per cluster delivery or rollback with
// p's Tracer. Cluster names are span attributes, not metric labels, so the
// metrics stay small at 10,000 clusters.
func New(p *observability.Provider) multicluster.Instrumentation {
	const ns, sub = observability.Namespace, "multicluster"
	return &instrumentation{tracer: p.Tracer(), m: &metrics{
		rollouts: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "rollouts_total",
			Help: "Finished rollouts by strategy and phase (Succeeded, Halted, RolledBack, RollbackFailed, Aborted)."}, []string{"strategy", "phase"})),
		active: observability.Register(p, prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "rollouts_active",
			Help: "Rollouts running in this process."})),
		duration: observability.Register(p, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "rollout_duration_seconds",
			Help: "Rollout time, start to finish.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}, []string{"strategy"})),
		clusters: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "cluster_deliveries_total",
			Help: "Per-cluster deliveries by the state they ended in (Succeeded, Failed, Unreachable, ...)."}, []string{"state"})),
		delivery: observability.Register(p, prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "cluster_delivery_duration_seconds",
			Help: "Time from a cluster's delivery to its gate's verdict.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 14)}, []string{"state"})),
		rollbacks: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "cluster_rollbacks_total",
			Help: "Per-cluster rollbacks by result (RolledBack, RollbackFailed)."}, []string{"state"})),
		analysis: observability.Register(p, prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "analysis_checks_total",
			Help: "Analysis checks by name and result (pass, fail)."}, []string{"check", "result"})),
	}}
}

type instrumentation struct {
	m      *metrics
	tracer trace.Tracer
}

func (i *instrumentation) StartRollout(ctx context.Context, r multicluster.RolloutInfo) (context.Context, func(multicluster.Phase)) {
	m := i.m
	m.active.Inc()
	start := time.Now()
	ctx, span := i.tracer.Start(ctx, "multicluster.rollout", trace.WithAttributes(attribute.String("rollout.id", string(r.ID)),
		attribute.String("rollout.package", r.Package), attribute.String("rollout.revision", r.Revision),
		attribute.String("rollout.strategy", string(r.Strategy)), attribute.Int("rollout.clusters", r.Clusters), attribute.Int("rollout.waves", r.Waves)))
	return ctx, func(phase multicluster.Phase) {
		m.active.Dec()
		if phase != multicluster.PhaseRunning && phase != multicluster.PhasePaused { // not merely stopped with the process
			m.rollouts.WithLabelValues(string(r.Strategy), string(phase)).Inc()
			m.duration.WithLabelValues(string(r.Strategy)).Observe(time.Since(start).Seconds())
		}
		span.SetAttributes(attribute.String("rollout.phase", string(phase)))
		if phase != multicluster.PhaseSucceeded {
			span.SetStatus(codes.Error, string(phase))
		}
		span.End()
	}
}

func (i *instrumentation) StartCluster(ctx context.Context, rollout multicluster.ID, cluster string, wave int) (context.Context, func(multicluster.ClusterState)) {
	m := i.m
	start := time.Now()
	name := "multicluster.deliver"
	if wave < 0 {
		name = "multicluster.rollback"
	}
	ctx, span := i.tracer.Start(ctx, name, trace.WithAttributes(attribute.String("rollout.id", string(rollout)),
		attribute.String("cluster.name", cluster), attribute.Int("rollout.wave", wave)))
	return ctx, func(state multicluster.ClusterState) {
		if wave < 0 {
			m.rollbacks.WithLabelValues(string(state)).Inc()
		} else {
			m.clusters.WithLabelValues(string(state)).Inc()
			m.delivery.WithLabelValues(string(state)).Observe(time.Since(start).Seconds())
		}
		span.SetAttributes(attribute.String("cluster.state", string(state)))
		switch state {
		case multicluster.ClusterFailed, multicluster.ClusterUnreachable, multicluster.ClusterRollbackFailed:
			span.SetStatus(codes.Error, string(state))
		}
		span.End()
	}
}

func (i *instrumentation) Analysed(ctx context.Context, rollout multicluster.ID, check string, value float64, ok bool) {
	result := "pass"
	if !ok {
		result = "fail"
	}
	i.m.analysis.WithLabelValues(check, result).Inc()
	trace.SpanFromContext(ctx).AddEvent("analysis", trace.WithAttributes(attribute.String("check", check),
		attribute.Float64("value", value), attribute.Bool("ok", ok)))
}
