package multicluster

import "context"

// Instrumentation receives a Propagator's metrics and traces
// (PropagatorConfig.Instrumentation). observability/clusterobs implements it
// with Prometheus and OpenTelemetry. Implementations must be safe for
// concurrent use.
type Instrumentation interface {
	// StartRollout is called when a rollout starts (or is restored); the
	// returned context carries its span to the cluster deliveries, and done
	// is called once with the phase it ends in (Running when the
	// Propagator closed first).
	StartRollout(ctx context.Context, r RolloutInfo) (_ context.Context, done func(Phase))
	// StartCluster is called when a cluster's delivery (or, with wave -1,
	// its rollback) starts; done gets the state it ends in.
	StartCluster(ctx context.Context, rollout ID, cluster string, wave int) (_ context.Context, done func(ClusterState))
	// Analysed is called with each analysis check's result.
	Analysed(ctx context.Context, rollout ID, check string, value float64, ok bool)
}

// RolloutInfo describes a rollout for instrumentation.
type RolloutInfo struct {
	// ID is the propagation's ID.
	ID ID
	// Package and Revision are what is rolled out.
	Package, Revision string
	// Strategy is the strategy's type.
	Strategy StrategyType
	// Clusters counts the target clusters; Waves the waves they are cut
	// into.
	Clusters, Waves int
}

type nopInstrumentation struct{}

func (nopInstrumentation) StartRollout(ctx context.Context, _ RolloutInfo) (context.Context, func(Phase)) {
	return ctx, func(Phase) {}
}

func (nopInstrumentation) StartCluster(ctx context.Context, _ ID, _ string, _ int) (context.Context, func(ClusterState)) {
	return ctx, func(ClusterState) {}
}

func (nopInstrumentation) Analysed(context.Context, ID, string, float64, bool) {}
