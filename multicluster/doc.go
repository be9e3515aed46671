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
// Propagate is safe to repeat, as a reconcile loop does: the rollout's ID
// is derived from its inputs (package, per-cluster content, targets,
// strategy settings, PropagateOptions.Attempt), so the same inputs give
// the same rollout, running or finished, in every process and replica; a
// cluster that already runs its exact revision counts Succeeded without a
// delivery. One rollout per package and cluster runs at a time: a newer
// one supersedes the older (which stops at once, never rolls back, and
// ends PhaseSuperseded), or is refused with ConflictRefuse. Local-config
// resources (config.kubernetes.io/local-config, the Kptfile) are never
// delivered. A rollout whose failures MaxFailures tolerated ends
// PhaseSucceededWithFailures, not PhaseSucceeded.
//
// Status is bounded (counts, recent waves, first failures) however many
// clusters there are, and reads the same from the StateStore as from
// memory; ClusterStatus gives one cluster's detail; Events streams
// progress from the rollout's start (a bounded replay, then live). A
// StateStore keeps records so that Restore (or Propagate with the same
// inputs) continues a rollout after the propagating process restarts.
// With PropagatorConfig.Ownership, several replicas share the rollouts:
// only the owner of a rollout delivers, the others answer Status and Wait
// from the store and take the rollout over when ownership is lost; a
// newer rollout supersedes an older one whichever replicas own them.
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
