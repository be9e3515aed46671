package krmcustomize_test

import (
	"context"
	"fmt"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/krmcustomize"
)

// Each cluster gets the package in a namespace of its region, and a
// ConfigMap that says which cluster it runs on, read from the injected
// cluster context.
func Example() {
	cust := &krmcustomize.Customizer{
		Executor: krm.NewRunner(krm.RunnerConfig{}),
		Functions: func(c *multicluster.Cluster) []krm.Function {
			return []krm.Function{
				{Image: "gcr.io/kpt-fn/set-namespace:v0.4.1", Config: yaml.MustParse(
					"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ns\ndata:\n  namespace: upf-" + c.Region + "\n")},
				{Image: "gcr.io/kpt-fn/apply-replacements:v0.1.1", Config: yaml.MustParse(`apiVersion: fn.kpt.dev/v1alpha1
kind: ApplyReplacements
metadata:
  name: cluster-name
replacements:
- source:
    kind: ConfigMap
    name: ` + krmcustomize.ClusterContextName + `
    fieldPath: data.name
  targets:
  - select:
      kind: ConfigMap
      name: upf
    fieldPaths: [data.cluster]
    options:
      create: true
`)},
			}
		},
	}
	pkg := &multicluster.Package{Name: "upf", Revision: "v1", Resources: []*yaml.RNode{
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\ndata:\n  version: v1\n")}}
	for _, c := range []multicluster.Cluster{{Name: "paris", Region: "eu"}, {Name: "boston", Region: "us"}} {
		resources, err := cust.Customize(context.Background(), &c, pkg)
		if err != nil {
			panic(err)
		}
		for _, n := range resources {
			cluster, _ := n.GetString("data.cluster")
			fmt.Println(c.Name, n.GetKind(), n.GetNamespace()+"/"+n.GetName(), "cluster:", cluster)
		}
	}
	// Output:
	// paris ConfigMap upf-eu/upf cluster: paris
	// boston ConfigMap upf-us/upf cluster: boston
}
