// Package multicluster rolls packages out to fleets of clusters:
// registration and health, selection with reasons, per-cluster
// customisation, and progressive propagation with gates and automatic
// rollback.
//
// The steps are kept apart, as Open Cluster Management keeps them:
//
//   - ClusterManager.Select turns a Selector (names, labels, capabilities,
//     region/zone/environment, exclusions, tolerations, spread, fallback
//     groups) into a Decision that says for every cluster whether it is
//     selected and why;
//   - Propagator.Plan renders the package for each selected cluster
//     (Customizer, e.g. multicluster/krmcustomize's KRM functions), diffs
//     it against what the cluster runs, and cuts the Strategy's waves,
//     without side effects;
//   - Propagator.Propagate rolls it out: each cluster's delivery (Backend)
//     is gated on the exact revision becoming Available by its
//     ProgressDeadline, MaxFailures bounds failures (unreachable clusters
//     count, and are reported as unreachable, not failed), analysis checks
//     run between waves during MinSuccessTime, and a failed gate halts or
//     rolls every touched cluster back to its last-known-good revision.
//
// Status is bounded (counts, recent waves, first failures) however many
// clusters there are; ClusterStatus gives one cluster's detail; Events
// streams progress. A StateStore keeps records so that Restore continues a
// rollout after the propagating process restarts.
//
// Constructors take a config struct whose zero value is the documented
// default: NewClusterManager(ManagerConfig{...}) and NewPropagator(m, b,
// PropagatorConfig{...}).
//
// Backends: multicluster/applier applies directly (server-side apply with
// a cli-utils inventory, kstatus readiness); multicluster/gitops publishes
// through Porch deployment repositories. For tests, multicluster/memfleet
// has in-memory clusters and multicluster/clusterenv starts real workload
// clusters.
package multicluster
