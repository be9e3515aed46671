// Package memfleet is a fleet of in-memory clusters for testing rollouts:
// one Fleet is both the multicluster.Backend that delivers revisions to its
// clusters and the multicluster.Prober that checks their health, so a
// ClusterManager and a Propagator run over it without a Kubernetes API
// server, and a strategy can be tried on 10,000 clusters in seconds.
//
// Config sets how the fleet behaves as a whole: the latency of every call,
// how long a delivered revision takes to become Available, and a seeded
// rate of deliveries that never do. Faults of one cluster are switched on
// and off while a rollout runs: SetUnreachable (every call fails with
// multicluster.ErrUnreachable, and probes say HealthUnreachable),
// SetUnauthorized (multicluster.ErrUnauthorized, HealthUnauthorized) and
// SetNeverReady (revisions delivered from then on stay Progressing, as when
// new pods cannot be scheduled), SetFailed and FailRevision (a revision is
// reported DeliveryFailed with a message, as when its pods crash), or
// several at once with Apply(name, Fault{...}). A fault can also strike at
// a chosen moment: AfterDelivery (right after the cluster's next delivery)
// and WhenDelivered (when any of some clusters is delivered to, such as a
// wave's, from Propagator.Plan). Running and Deliveries tell a test what
// each cluster runs and how often it was delivered to.
//
//	fleet := memfleet.New(memfleet.Config{ReadinessDelay: 10 * time.Millisecond})
//	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
//	for _, c := range fleet.AddClusters("edge", 100, 3) {
//		_ = m.Register(ctx, c)
//	}
//	prop := multicluster.NewPropagator(m, fleet, multicluster.PropagatorConfig{})
//
// Real workload clusters are in multicluster/clusterenv.
package memfleet
