package clusterobs_test

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
	"github.com/nephoran/porchkit/observability/clusterobs"
	"github.com/nephoran/porchkit/observability/internal/obstest"
)

func TestMulticlusterMetricsAndSpans(t *testing.T) {
	obs, rec := obstest.Setup(t)
	mem := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: mem})
	ctx := context.Background()
	for _, c := range mem.AddClusters("c", 4, 1) {
		if err := m.Register(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p := multicluster.NewPropagator(m, mem, multicluster.PropagatorConfig{Instrumentation: clusterobs.New(obs)})
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
		if v := obstest.Value(t, obs, c.name, c.labels); v != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}
	rollouts := obstest.Spans(rec, "multicluster.rollout")
	if len(rollouts) != 2 {
		t.Fatalf("%d rollout spans", len(rollouts))
	}
	last := rollouts[1].SpanContext().SpanID()
	children := 0
	for _, name := range []string{"multicluster.deliver", "multicluster.rollback"} {
		for _, s := range obstest.Spans(rec, name) {
			if s.Parent().SpanID() == last {
				children++
			}
		}
	}
	if children != 4 { // two deliveries and two rollbacks in the second rollout
		t.Fatalf("%d child spans of the second rollout, want 4", children)
	}
}
