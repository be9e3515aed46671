// Package clusterobs gives multicluster's Propagator Prometheus metrics and
// OpenTelemetry traces from an observability.Provider:
//
//	obs := observability.New(observability.Config{Registerer: registry, TracerProvider: tracerProvider})
//	prop := multicluster.NewPropagator(manager, backend, multicluster.PropagatorConfig{Instrumentation: clusterobs.New(obs)})
//
// Metrics (namespace porchkit, subsystem multicluster): rollouts_total by
// strategy and final phase; rollouts_active; rollout_duration_seconds;
// cluster_deliveries_total and cluster_delivery_duration_seconds by the
// state a delivery ended in; cluster_rollbacks_total; analysis_checks_total
// by check and result. A rollout is a span (multicluster.rollout) whose
// children are its clusters' deliveries and rollbacks; cluster names are
// span attributes only, so the metrics stay small however large the fleet.
//
// The package imports multicluster and the observability core only, so
// using it links nothing of porch.
package clusterobs
