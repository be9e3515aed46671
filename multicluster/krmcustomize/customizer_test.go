package krmcustomize_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/krmcustomize"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// newManager registers n in-memory clusters spread over regions.
func newManager(t *testing.T, n, regions int) (*memfleet.Fleet, *multicluster.ClusterManager) {
	t.Helper()
	mem := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: mem})
	for _, c := range mem.AddClusters("c", n, regions) {
		if err := m.Register(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	return mem, m
}

func pkg(revision string) *multicluster.Package {
	return &multicluster.Package{Name: "web", Revision: revision, Resources: []*yaml.RNode{
		yaml.MustParse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: web:" + revision + "\n"),
		yaml.MustParse("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n  - port: 80\n"),
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  version: " + revision + "\n"),
	}}
}

func TestCustomizerSpecialisesPerCluster(t *testing.T) {
	mem, manager := newManager(t, 2, 2)
	cust := &krmcustomize.Customizer{
		Executor: krm.NewRunner(krm.RunnerConfig{}),
		Functions: func(c *multicluster.Cluster) []krm.Function {
			return []krm.Function{
				{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ns\ndata:\n  namespace: web-" + c.Region + "\n")},
				{Image: "gcr.io/kpt-fn/set-labels:v0.2.0", Config: yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\ndata:\n  cluster: " + c.Name + "\n")},
				// The injected cluster context feeds a replacement.
				{Image: "gcr.io/kpt-fn/apply-replacements:v0.1.1", Config: yaml.MustParse(`apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: r
replacements:
- source:
    kind: ConfigMap
    name: cluster-context
    fieldPath: data.region
  targets:
  - select:
      kind: ConfigMap
      name: web
    fieldPaths: [data.region]
    options:
      create: true
`)},
			}
		},
	}
	p := multicluster.NewPropagator(manager, mem, multicluster.PropagatorConfig{Customizer: cust})
	defer p.Close()
	ctx := context.Background()
	plan, err := p.Plan(ctx, pkg("v1"), multicluster.Selector{}, multicluster.Strategy{Type: multicluster.StrategyParallel})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for name, cp := range plan.Clusters {
		c, _, _ := manager.Get(name)
		ids[cp.Revision.ID] = true
		var kinds []string
		for _, n := range cp.Revision.Resources {
			kinds = append(kinds, n.GetKind())
			if n.GetNamespace() != "web-"+c.Region || n.GetLabels()["cluster"] != name {
				t.Fatalf("%s: %s not customised:\n%s", name, n.GetKind(), n.MustString())
			}
			if n.GetKind() == "ConfigMap" {
				if region, _ := n.GetString("data.region"); region != c.Region {
					t.Fatalf("%s: cluster context not injected:\n%s", name, n.MustString())
				}
			}
		}
		if strings.Join(kinds, ",") != "Deployment,Service,ConfigMap" {
			t.Fatalf("%s: %v (the cluster context must not be delivered)", name, kinds)
		}
		if !strings.Contains(cp.Diff, "+  namespace: web-"+c.Region) {
			t.Fatalf("%s: diff:\n%s", name, cp.Diff)
		}
	}
	if len(ids) != 2 {
		t.Fatal("differently customised clusters must get different revision IDs")
	}

	bad := &krmcustomize.Customizer{Executor: krm.NewRunner(krm.RunnerConfig{}), Functions: func(*multicluster.Cluster) []krm.Function {
		return []krm.Function{{Image: "gcr.io/kpt-fn/unknown:v1"}}
	}}
	p2 := multicluster.NewPropagator(manager, mem, multicluster.PropagatorConfig{Customizer: bad})
	defer p2.Close()
	if _, err := p2.Propagate(ctx, pkg("v1"), multicluster.Selector{}, multicluster.Strategy{Type: multicluster.StrategyParallel}); !errors.Is(err, multicluster.ErrRenderFailed) || !errors.Is(err, krm.ErrUnknownFunction) {
		t.Fatalf("an unknown function: %v", err)
	}
}
