package memfleet_test

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// Three in-memory clusters, one of which does not answer: probes say so,
// and a rollout that tolerates one failure reaches the other two.
func Example() {
	ctx := context.Background()
	fleet := memfleet.New(memfleet.Config{ReadinessDelay: 20 * time.Millisecond})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	for _, c := range fleet.AddClusters("edge", 3, 1) {
		if err := m.Register(ctx, c); err != nil {
			panic(err)
		}
	}
	fleet.SetUnreachable("edge-0002", true)
	health := m.ProbeAll(ctx)
	for _, c := range m.List() {
		fmt.Println(c.Name, health[c.Name].State)
	}

	prop := multicluster.NewPropagator(m, fleet, multicluster.PropagatorConfig{})
	defer prop.Close()
	pkg := &multicluster.Package{Name: "upf", Revision: "v1", Resources: []*yaml.RNode{
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\ndata:\n  version: v1\n")}}
	id, err := prop.Propagate(ctx, pkg, multicluster.Selector{}, multicluster.Strategy{Type: multicluster.StrategyParallel,
		MaxFailures: multicluster.Count(1), PollInterval: 5 * time.Millisecond, ProgressDeadline: time.Second})
	if err != nil {
		panic(err)
	}
	st, err := prop.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Phase, "succeeded:", st.Counts[multicluster.ClusterSucceeded], "unreachable:", st.Counts[multicluster.ClusterUnreachable])
	fmt.Println("edge-0000 runs upf:", fleet.Running("edge-0000", "upf") != "", "deliveries:", fleet.Deliveries("edge-0000"))
	fmt.Println("edge-0002 runs upf:", fleet.Running("edge-0002", "upf") != "", "deliveries:", fleet.Deliveries("edge-0002"))
	// Output:
	// edge-0000 Healthy
	// edge-0001 Healthy
	// edge-0002 Unreachable
	// SucceededWithFailures succeeded: 2 unreachable: 1
	// edge-0000 runs upf: true deliveries: 1
	// edge-0002 runs upf: false deliveries: 0
}

// A fault that strikes at a chosen moment: the third cluster's revision
// fails (DeliveryFailed, with a message) once the second cluster, the
// second wave of a Sequential rollout, is delivered to; the gate halts
// the rollout there.
func ExampleFleet_WhenDelivered() {
	ctx := context.Background()
	fleet := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	for _, c := range fleet.AddClusters("edge", 4, 2) {
		if err := m.Register(ctx, c); err != nil {
			panic(err)
		}
	}
	prop := multicluster.NewPropagator(m, fleet, multicluster.PropagatorConfig{})
	defer prop.Close()
	pkg := &multicluster.Package{Name: "upf", Revision: "v1", Resources: []*yaml.RNode{
		yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: upf\ndata:\n  version: v1\n")}}
	s := multicluster.Strategy{Type: multicluster.StrategySequential, OnFailure: multicluster.FailureHalt,
		PollInterval: 5 * time.Millisecond, ProgressDeadline: time.Second}
	plan, err := prop.Plan(ctx, pkg, multicluster.Selector{}, s)
	if err != nil {
		panic(err)
	}
	fleet.WhenDelivered(plan.Waves[1], "edge-0002", memfleet.Fault{Failed: "pods crash-looping"})
	id, err := prop.Propagate(ctx, pkg, multicluster.Selector{}, s)
	if err != nil {
		panic(err)
	}
	st, err := prop.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Phase)
	for _, c := range m.List() {
		cs, err := prop.ClusterStatus(ctx, id, c.Name)
		if err != nil {
			panic(err)
		}
		if cs.State == multicluster.ClusterFailed {
			fmt.Println(c.Name, cs.State, cs.Message)
			continue
		}
		fmt.Println(c.Name, cs.State)
	}
	// Output:
	// Halted
	// edge-0000 Succeeded
	// edge-0001 Succeeded
	// edge-0002 Failed pods crash-looping
	// edge-0003 Skipped
}
