package multicluster_test

import (
	"context"
	"sync/atomic"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// withLocalConfig is pkg with a Kptfile, a package-context ConfigMap and a
// ConfigMap marked local-config "false" (which is delivered).
func withLocalConfig(revision string) *multicluster.Package {
	p := pkg(revision)
	p.Resources = append(p.Resources,
		yaml.MustParse("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: web\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\n"),
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kptfile.kpt.dev\n  annotations:\n    config.kubernetes.io/local-config: \"true\"\ndata:\n  name: web\n"),
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations:\n    config.kubernetes.io/local-config: \"false\"\ndata:\n  a: b\n"),
	)
	return p
}

// TestLocalConfigIsNeverDelivered: the Kptfile and local-config resources
// reach no cluster, with or without a customizer, even one that returns
// them (or adds one); the customizer still sees them.
func TestLocalConfigIsNeverDelivered(t *testing.T) {
	var sawKptfile atomic.Bool
	keepsThem := multicluster.CustomizerFunc(func(_ context.Context, c *multicluster.Cluster, p *multicluster.Package) ([]*yaml.RNode, error) {
		out := make([]*yaml.RNode, 0, len(p.Resources)+1)
		for _, n := range p.Resources {
			if n.GetKind() == "Kptfile" {
				sawKptfile.Store(true)
			}
			out = append(out, n.Copy())
		}
		return append(out, yaml.MustParse("apiVersion: fn.kpt.dev/v1alpha1\nkind: SetLabels\nmetadata:\n  name: labels\n  annotations:\n    config.kubernetes.io/local-config: \"yes\"\n")), nil
	})
	for name, cust := range map[string]multicluster.Customizer{"no customizer": nil, "customizer returning them": keepsThem} {
		t.Run(name, func(t *testing.T) {
			f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{Customizer: cust})
			st := f.run(t, withLocalConfig("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
			if st.Phase != multicluster.PhaseSucceeded {
				t.Fatalf("%s %s", st.Phase, st.Reason)
			}
			for _, c := range f.clusters {
				rev, err := f.mem.Current(context.Background(), &c, "web")
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, n := range rev.Resources {
					got = append(got, n.GetKind()+"/"+n.GetName())
					if multicluster.IsLocalConfig(n) {
						t.Errorf("%s got local config %s/%s", c.Name, n.GetKind(), n.GetName())
					}
				}
				if len(got) != 4 || got[3] != "ConfigMap/settings" {
					t.Errorf("%s got %v, want the package's 3 resources and ConfigMap/settings", c.Name, got)
				}
			}
		})
	}
	if !sawKptfile.Load() {
		t.Fatal("the customizer was not given the Kptfile")
	}
}
