package observability_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"sigs.k8s.io/kustomize/kyaml/fn/framework"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
	"github.com/nephoran/porchkit/observability"
	"github.com/nephoran/porchkit/porch"
	"github.com/nephoran/porchkit/porch/porchtest"
)

func setup(t *testing.T) (*observability.Provider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return observability.New(observability.WithTracerProvider(tp)), rec
}

func spans(rec *tracetest.SpanRecorder, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func TestPorchMetricsAndSpans(t *testing.T) {
	obs, rec := setup(t)
	c, _ := porchtest.NewFakeClient(t, nil, porch.WithInstrumentation(obs.Porch()))
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
	ops := obsCounter(t, obs, "porchkit_porch_operations_total", map[string]string{"operation": "get", "resource": "packagerevisions", "outcome": "not_found"}).v
	if ops != 1 {
		t.Fatalf("not-found gets counted %v", ops)
	}
	if n := len(spans(rec, "porch.get")); n < 2 {
		t.Fatalf("%d porch.get spans", n)
	}
}

// obsCounter finds a metric's value by gathering the provider's registry.
func obsCounter(t *testing.T, obs *observability.Provider, name string, labels map[string]string) *gathered {
	t.Helper()
	families, err := obs.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	g := &gathered{}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.GetCounter() != nil:
				g.v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				g.v += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				g.v += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return g
}

// gathered is a metric's value summed over the series that match.
type gathered struct{ v float64 }

func TestKRMMetricsAndSpans(t *testing.T) {
	obs, rec := setup(t)
	r := krm.NewRunner(krm.WithInstrumentation(obs.KRM()))
	ctx := context.Background()
	in := &framework.ResourceList{Items: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")}}
	cfg := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ns\ndata:\n  namespace: prod\n")
	for range 2 {
		if _, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: cfg}, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Execute(ctx, krm.Function{Image: "gcr.io/kpt-fn/nope:v1"}, in); !errors.Is(err, krm.ErrUnknownFunction) {
		t.Fatal(err)
	}
	fn := "gcr.io/kpt-fn/set-namespace:v0.4.1"
	if v := obsCounter(t, obs, "porchkit_krm_runs_total", map[string]string{"function": fn, "runtime": "builtin", "outcome": "ok"}).v; v != 2 {
		t.Fatalf("runs %v", v)
	}
	if v := obsCounter(t, obs, "porchkit_krm_runs_total", map[string]string{"memoised": "true"}).v; v != 1 {
		t.Fatalf("memoised runs %v", v)
	}
	if v := obsCounter(t, obs, "porchkit_krm_runs_total", map[string]string{"outcome": "unknown_function"}).v; v != 1 {
		t.Fatalf("unknown function runs %v", v)
	}
	if n := len(spans(rec, "krm.run")); n != 3 {
		t.Fatalf("%d krm.run spans", n)
	}
}

func TestMulticlusterMetricsAndSpans(t *testing.T) {
	obs, rec := setup(t)
	mem := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: mem})
	ctx := context.Background()
	for _, c := range mem.AddClusters("c", 4, 1) {
		if err := m.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p := multicluster.NewPropagator(m, mem, multicluster.PropagatorConfig{Instrumentation: obs.Multicluster()})
	defer p.Close()
	pkg := func(v string) *multicluster.Package {
		return &multicluster.Package{Name: "web", Revision: v, Resources: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: " + v + "\n")}}
	}
	run := func(p0 *multicluster.Package, s multicluster.Strategy) *multicluster.Status {
		s.PollInterval, s.ProgressDeadline = 5*time.Millisecond, 200*time.Millisecond
		id, err := p.Propagate(ctx, p0, multicluster.Selector{}, s)
		if err != nil {
			t.Fatal(err)
		}
		st, err := p.Wait(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := run(pkg("v1"), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatal(st.Reason)
	}
	mem.SetNeverReady("c-0001", true)
	ok := multicluster.CheckFunc(func(context.Context, multicluster.AnalysisInput) (float64, error) { return 1, nil })
	if st := run(pkg("v2"), multicluster.Strategy{Type: multicluster.StrategySequential, Analysis: []multicluster.Analysis{{Name: "ok", Check: ok}}}); st.Phase != multicluster.PhaseRolledBack {
		t.Fatal(st.Phase, st.Reason)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"porchkit_multicluster_rollouts_total", map[string]string{"phase": "Succeeded"}, 1},
		{"porchkit_multicluster_rollouts_total", map[string]string{"phase": "RolledBack"}, 1},
		{"porchkit_multicluster_rollouts_active", nil, 0},
		{"porchkit_multicluster_cluster_deliveries_total", map[string]string{"state": "Succeeded"}, 5},
		{"porchkit_multicluster_cluster_deliveries_total", map[string]string{"state": "Failed"}, 1},
		{"porchkit_multicluster_cluster_rollbacks_total", map[string]string{"state": "RolledBack"}, 2},
		{"porchkit_multicluster_analysis_checks_total", map[string]string{"check": "ok", "result": "pass"}, 1},
	} {
		if v := obsCounter(t, obs, c.name, c.labels).v; v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	rollouts := spans(rec, "multicluster.rollout")
	if len(rollouts) != 2 {
		t.Fatalf("%d rollout spans", len(rollouts))
	}
	last := rollouts[1].SpanContext().SpanID()
	children := 0
	for _, name := range []string{"multicluster.deliver", "multicluster.rollback"} {
		for _, s := range spans(rec, name) {
			if s.Parent().SpanID() == last {
				children++
			}
		}
	}
	if children != 4 { // two deliveries and two rollbacks in the second rollout
		t.Fatalf("%d child spans of the second rollout, want 4", children)
	}
}
