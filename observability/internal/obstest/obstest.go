// Package obstest has the helpers the adapters' tests share: a Provider
// whose spans are recorded, and metric values read back from its registry.
package obstest

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/nephoran/porchkit/observability"
)

// Setup returns a Provider with its own registry whose spans go to the
// returned recorder.
func Setup(t *testing.T) (*observability.Provider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return observability.New(observability.Config{TracerProvider: tp}), rec
}

// Spans returns the ended spans called name, in the order they ended.
func Spans(rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// Value gathers the provider's registry and sums metric name over the
// series whose labels match labels (a counter's or gauge's value, a
// histogram's sample count).
func Value(t *testing.T, obs *observability.Provider, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := obs.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	v := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				v += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return v
}
