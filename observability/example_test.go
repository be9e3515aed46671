package observability_test

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nephoran/porchkit/observability"
)

// A Provider with its own registry; a collector registered twice (as by an
// adapter made twice) is one collector.
func Example() {
	obs := observability.New(observability.Config{})
	newCounter := func() prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: observability.Namespace, Subsystem: "app", Name: "events_total", Help: "Events."})
	}
	a := observability.Register(obs, newCounter())
	b := observability.Register(obs, newCounter())
	a.Inc()
	b.Inc()
	families, err := obs.Registry().Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		fmt.Println(f.GetName(), f.GetMetric()[0].GetCounter().GetValue())
	}
	// Output:
	// porchkit_app_events_total 2
}
