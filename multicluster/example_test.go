package multicluster_test

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// A canary rollout to ten in-memory clusters: the first wave is one
// named cluster, then waves of 30%; the third cluster never becomes ready,
// so the gate fails and every touched cluster rolls back.
func Example_canaryWithRollback() {
	ctx := context.Background()
	fleet := memfleet.New(memfleet.Config{})
	clusters := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	for _, c := range fleet.AddClusters("edge", 10, 2) {
		if err := clusters.Register(ctx, c); err != nil {
			panic(err)
		}
	}
	prop := multicluster.NewPropagator(clusters, fleet, multicluster.PropagatorConfig{})
	defer prop.Close()

	pkg := func(v string) *multicluster.Package {
		return &multicluster.Package{Name: "upf", Revision: v, Resources: []*yaml.RNode{
			yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\ndata:\n  version: " + v + "\n")}}
	}
	rollout := func(p *multicluster.Package, s multicluster.Strategy) *multicluster.Status {
		s.PollInterval, s.ProgressDeadline = 10*time.Millisecond, 200*time.Millisecond
		id, err := prop.Propagate(ctx, p, multicluster.Selector{Environments: []string{"prod"}}, s)
		if err != nil {
			panic(err)
		}
		st, err := prop.Wait(ctx, id)
		if err != nil {
			panic(err)
		}
		return st
	}

	st := rollout(pkg("v1"), multicluster.Strategy{Type: multicluster.StrategyParallel, MaxConcurrency: multicluster.Percent(50)})
	fmt.Println("v1:", st.Phase, st.Counts[multicluster.ClusterSucceeded], "clusters")

	fleet.SetNeverReady("edge-0002", true)
	st = rollout(pkg("v2"), multicluster.Strategy{Type: multicluster.StrategyCanary,
		Canary: multicluster.CanaryStrategy{MandatoryClusters: []string{"edge-0000"}, StepPercent: 30}})
	fmt.Println("v2:", st.Phase, "at wave", st.Wave, "of", st.Waves)
	fmt.Println("failed:", st.Failures[0].Name, st.Failures[0].FailedAs)
	fmt.Println("rolled back:", st.Counts[multicluster.ClusterRolledBack], "skipped:", st.Counts[multicluster.ClusterSkipped])
	// Output:
	// v1: Succeeded 10 clusters
	// v2: RolledBack at wave 1 of 4
	// failed: edge-0002 Failed
	// rolled back: 4 skipped: 6
}

// Selection says why each cluster is in or out.
func ExampleClusterManager_Select() {
	ctx := context.Background()
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{})
	for _, c := range []multicluster.Cluster{
		{Name: "paris", Region: "eu", Capabilities: []string{"sriov"}},
		{Name: "lyon", Region: "eu"},
		{Name: "boston", Region: "us", Capabilities: []string{"sriov"}},
	} {
		if err := m.Register(ctx, c); err != nil {
			panic(err)
		}
	}
	d, err := m.Select(ctx, multicluster.Selector{Regions: []string{"eu"}, Capabilities: []string{"sriov"}})
	if err != nil {
		panic(err)
	}
	for _, c := range d.Clusters {
		fmt.Println(c.Name, c.Selected, c.Reasons)
	}
	// Output:
	// boston false [region "us" not in [eu]]
	// lyon false [lacks capability sriov]
	// paris true [has capabilities sriov region eu]
}
