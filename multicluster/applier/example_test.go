package applier_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/applier"
)

// Roll a package out to two clusters by server-side apply, one cluster at
// a time: the Backend is the Propagator's delivery, and each cluster is
// reached through its kubeconfig. A failed gate returns every touched
// cluster to the revision it ran before, from the history the Backend keeps
// in each cluster. (Without an // Output: line, the
// example is compiled but not run: it needs real clusters.)
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	m := multicluster.NewClusterManager(multicluster.ManagerConfig{})
	for _, name := range []string{"edge-1", "edge-2"} {
		kubeconfig, err := os.ReadFile(name + ".kubeconfig")
		if err != nil {
			panic(err)
		}
		if err := m.Register(ctx, multicluster.Cluster{Name: name, Kubeconfig: kubeconfig, Region: "eu"}); err != nil {
			panic(err)
		}
	}

	backend := applier.New(applier.Config{
		Namespace:    "nf-system", // inventories and revision histories
		History:      3,           // revisions kept per package for rollback
		FieldManager: "nf-operator",
	})
	prop := multicluster.NewPropagator(m, backend, multicluster.PropagatorConfig{})
	defer prop.Close()

	pkg := &multicluster.Package{Name: "upf", Revision: "v2", Resources: []*yaml.RNode{
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\n  namespace: default\ndata:\n  version: v2\n"),
	}}
	id, err := prop.Propagate(ctx, pkg, multicluster.Selector{Regions: []string{"eu"}},
		multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: time.Minute})
	if err != nil {
		panic(err)
	}
	st, err := prop.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Phase, st.Counts[multicluster.ClusterSucceeded], "of", st.Total)
}
