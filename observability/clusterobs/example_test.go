package clusterobs_test

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
	"github.com/nephoran/porchkit/observability"
	"github.com/nephoran/porchkit/observability/clusterobs"
)

// A rollout to three in-memory clusters, counted by phase and per-cluster
// state.
func Example() {
	ctx := context.Background()
	fleet := memfleet.New(memfleet.Config{})
	manager := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	for _, c := range fleet.AddClusters("edge", 3, 1) {
		if err := manager.Register(ctx, c); err != nil {
			panic(err)
		}
	}
	obs := observability.New(observability.Config{})
	prop := multicluster.NewPropagator(manager, fleet, multicluster.PropagatorConfig{Instrumentation: clusterobs.New(obs)})
	defer prop.Close()
	pkg := &multicluster.Package{Name: "web", Revision: "v1",
		Resources: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n")}}
	id, err := prop.Propagate(ctx, pkg, multicluster.Selector{}, multicluster.Strategy{Type: multicluster.StrategyParallel})
	if err != nil {
		panic(err)
	}
	if _, err := prop.Wait(ctx, id); err != nil {
		panic(err)
	}
	families, err := obs.Registry().Gather()
	if err != nil {
		panic(err)
	}
	for _, f := range families {
		switch f.GetName() {
		case "porchkit_multicluster_rollouts_total", "porchkit_multicluster_cluster_deliveries_total":
			for _, m := range f.GetMetric() {
				var labels []string
				for _, l := range m.GetLabel() {
					labels = append(labels, l.GetName()+"="+l.GetValue())
				}
				fmt.Println(f.GetName(), strings.Join(labels, ","), m.GetCounter().GetValue())
			}
		}
	}
	// Output:
	// porchkit_multicluster_cluster_deliveries_total state=Succeeded 3
	// porchkit_multicluster_rollouts_total phase=Succeeded,strategy=Parallel 1
}
