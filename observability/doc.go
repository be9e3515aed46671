// Package observability is the shared core of porchkit's Prometheus metrics
// and OpenTelemetry traces. A Provider holds the Registerer the metrics go
// to and the Tracer the spans come from; one adapter package per component
// turns it into that component's Instrumentation:
//
//	obs := observability.New(observability.Config{Registerer: registry, TracerProvider: tracerProvider})
//	client, _ := porch.New(cfg, porch.Options{Instrumentation: porchobs.New(obs)})
//	runner := krm.NewRunner(krm.RunnerConfig{Instrumentation: krmobs.New(obs)})
//	prop := multicluster.NewPropagator(m, b, multicluster.PropagatorConfig{Instrumentation: clusterobs.New(obs)})
//
// The adapters live in their own packages so that each links only the
// component it adapts: a program that wants Porch metrics imports porchobs
// and links nothing of krm or multicluster. This package itself imports
// none of the components.
//
// Nothing is global: metrics go to the given Registerer (a new registry by
// default, see Provider.Registry) and spans to the given TracerProvider
// (none by default). Metrics are named porchkit_<component>_<name>, and
// their labels take bounded values only (verbs, outcomes, states, image
// names without tags); names of objects and clusters go on spans.
package observability
