package observability

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Provider holds the metrics and the tracer of porchkit's components.
type Provider struct {
	registry *prometheus.Registry
	tracer   trace.Tracer

	porch        *porchMetrics
	krm          *krmMetrics
	multicluster *multiclusterMetrics
}

// Option configures a Provider.
type Option func(*options)

type options struct {
	registerer prometheus.Registerer
	tracers    trace.TracerProvider
}

// WithRegisterer registers the metrics with r instead of a new registry.
func WithRegisterer(r prometheus.Registerer) Option { return func(o *options) { o.registerer = r } }

// WithTracerProvider makes spans with tp (default: none).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(o *options) { o.tracers = tp } }

// TracerName is the instrumentation scope of porchkit's spans.
const TracerName = "github.com/nephoran/porchkit"

// New returns a Provider. It panics, as prometheus.MustRegister does, when
// the metrics are already registered with the Registerer.
func New(opts ...Option) *Provider {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := &Provider{}
	if o.registerer == nil {
		p.registry = prometheus.NewRegistry()
		o.registerer = p.registry
	}
	if o.tracers == nil {
		o.tracers = noop.NewTracerProvider()
	}
	p.tracer = o.tracers.Tracer(TracerName)
	p.porch = newPorchMetrics(o.registerer)
	p.krm = newKRMMetrics(o.registerer)
	p.multicluster = newMulticlusterMetrics(o.registerer)
	return p
}

// Registry is the registry New made (nil when WithRegisterer was given),
// for serving with promhttp.HandlerFor.
func (p *Provider) Registry() *prometheus.Registry { return p.registry }
