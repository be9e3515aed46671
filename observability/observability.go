package observability

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of porchkit's spans.
const TracerName = "github.com/nephoran/porchkit"

// Namespace is the Prometheus namespace of porchkit's metrics: every metric
// is named porchkit_<component>_<name>.
const Namespace = "porchkit"

// Config says where a Provider sends metrics and spans. Its zero value is
// valid: metrics go to a new registry and no spans are made.
type Config struct {
	// Registerer receives the metrics. Nil means a new prometheus.Registry,
	// which Provider.Registry returns.
	Registerer prometheus.Registerer
	// TracerProvider makes the spans. Nil means none (a no-op provider).
	TracerProvider trace.TracerProvider
}

// Provider holds what the component adapters (porchobs, krmobs,
// clusterobs) share: the Registerer their metrics go to and the Tracer
// their spans come from. It is safe for concurrent use.
type Provider struct {
	registry   *prometheus.Registry
	registerer prometheus.Registerer
	tracer     trace.Tracer
}

// New returns a Provider for cfg. Nothing is registered until an adapter is
// made from it.
func New(cfg Config) *Provider {
	p := &Provider{registerer: cfg.Registerer}
	if p.registerer == nil {
		p.registry = prometheus.NewRegistry()
		p.registerer = p.registry
	}
	tp := cfg.TracerProvider
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	p.tracer = tp.Tracer(TracerName)
	return p
}

// Registry is the registry New made (nil when Config.Registerer was set),
// for serving with promhttp.HandlerFor.
func (p *Provider) Registry() *prometheus.Registry { return p.registry }

// Registerer is where the adapters register their metrics.
func (p *Provider) Registerer() prometheus.Registerer { return p.registerer }

// Tracer makes the adapters' spans, under the TracerName scope.
func (p *Provider) Tracer() trace.Tracer { return p.tracer }

// Register registers c with the provider's Registerer and returns it; when
// a collector with the same descriptors is already registered there (an
// adapter made twice, or two Providers sharing a Registerer), it returns
// that one instead, so both share their series. Any other registration
// error panics, as prometheus.MustRegister does: it is a programming error
// (a metric name taken with other labels or another type).
func Register[C prometheus.Collector](p *Provider, c C) C {
	err := p.registerer.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}
