// Package krmobs gives krm's Runner Prometheus metrics and OpenTelemetry
// traces from an observability.Provider:
//
//	obs := observability.New(observability.Config{Registerer: registry, TracerProvider: tracerProvider})
//	runner := krm.NewRunner(krm.RunnerConfig{Instrumentation: krmobs.New(obs)})
//
// Metrics (namespace porchkit, subsystem krm): runs_total by function,
// runtime (builtin, exec, container), outcome (ok, timeout,
// resource_limit, failed, ...) and memoised; run_duration_seconds;
// run_items in and out; exec_peak_memory_bytes. The function label is the
// image without its tag or digest, so a new version adds no series; each
// run's span (krm.run) carries the full reference, the version and the
// outcome.
//
// The package imports krm and the observability core only, so using it
// links nothing of porch or multicluster.
package krmobs
