package porchobs_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nephoran/porchkit/observability/internal/obstest"
	"github.com/nephoran/porchkit/observability/porchobs"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/fake"
)

func TestPorchMetricsAndSpans(t *testing.T) {
	obs, rec := obstest.Setup(t)
	c, _ := fake.NewClientBuilder().WithClientOptions(porch.Options{Instrumentation: porchobs.New(obs)}).Build(t)
	ctx := context.Background()
	if _, err := c.Repositories("default").Register(ctx, "blueprints", "https://git.example.com/b.git"); err != nil {
		t.Fatal(err)
	}
	prs := c.PackageRevisions("default")
	d, err := prs.Init(ctx, "blueprints", "app", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Get(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := prs.Get(ctx, "blueprints.nope.v1"); !errors.Is(err, porch.ErrNotFound) {
		t.Fatal(err)
	}
	ops := obstest.Value(t, obs, "porchkit_porch_operations_total", map[string]string{"operation": "get", "resource": "packagerevisions", "outcome": "not_found"})
	if ops != 1 {
		t.Fatalf("not-found gets counted %v", ops)
	}
	if n := len(obstest.Spans(rec, "porch.get")); n < 2 {
		t.Fatalf("%d porch.get spans", n)
	}
}

// Two adapters made from one Provider share their series, and a new one
// does not reset the breaker state the first one recorded.
func TestPorchAdaptersShareMetrics(t *testing.T) {
	obs, _ := obstest.Setup(t)
	a, b := porchobs.New(obs), porchobs.New(obs)
	a.CacheLookup("packagerevisions", true)
	b.CacheLookup("packagerevisions", true)
	if v := obstest.Value(t, obs, "porchkit_porch_cache_lookups_total", map[string]string{"result": "hit"}); v != 2 {
		t.Fatalf("cache hits %v, want 2", v)
	}
	a.BreakerStateChanged("closed", "open")
	porchobs.New(obs)
	for state, want := range map[string]float64{"closed": 0, "open": 1} {
		if v := obstest.Value(t, obs, "porchkit_porch_circuit_breaker_state", map[string]string{"state": state}); v != want {
			t.Errorf("breaker %s = %v, want %v", state, v, want)
		}
	}
}
