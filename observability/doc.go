// Package observability gives porchkit's components Prometheus metrics and
// OpenTelemetry traces: a Provider hands out the Instrumentation each
// component takes as an option.
//
//	obs := observability.New(observability.WithRegisterer(registry),
//		observability.WithTracerProvider(tracerProvider))
//	client, _ := porch.New(cfg, porch.WithInstrumentation(obs.Porch()))
//	runner := krm.NewRunner(krm.WithInstrumentation(obs.KRM()))
//	prop := multicluster.NewPropagator(m, b, multicluster.PropagatorConfig{Instrumentation: obs.Multicluster()})
//
// Nothing is global: metrics go to the given Registerer (a new registry by
// default, see Registry) and spans to the given TracerProvider (none by
// default).
package observability
