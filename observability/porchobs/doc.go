// Package porchobs gives the porch client Prometheus metrics and
// OpenTelemetry traces from an observability.Provider:
//
//	obs := observability.New(observability.Config{Registerer: registry, TracerProvider: tracerProvider})
//	client, err := porch.New(cfg, porch.Options{Instrumentation: porchobs.New(obs)})
//
// Metrics (namespace porchkit, subsystem porch): operations_total by
// operation, resource and outcome (porch.Outcome: ok, not_found,
// conflict, ...); operation_duration_seconds, retries included;
// retries_total by reason; circuit_breaker_state (1 for the current state);
// cache_lookups_total by resource and hit or miss. Each operation is a
// client span named porch.<verb> carrying the namespace and object.
//
// The package imports porch and the observability core only, so using it
// links nothing of krm or multicluster.
package porchobs
