package multicluster_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// A canary whose first wave is spread over the regions, whose later waves
// are one decision group per region, and whose second wave waits for a
// human's approval.
func ExamplePropagator_Approve() {
	ctx := context.Background()
	fleet := memfleet.New(memfleet.Config{})
	m := multicluster.NewClusterManager(multicluster.ManagerConfig{Prober: fleet})
	for _, c := range fleet.AddClusters("edge", 6, 2) {
		if err := m.Register(ctx, c); err != nil {
			panic(err)
		}
	}
	prop := multicluster.NewPropagator(m, fleet, multicluster.PropagatorConfig{})
	defer prop.Close()
	s := multicluster.Strategy{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 34, StepPercent: 100},
		Groups: multicluster.GroupStrategy{By: "region"}, ApprovalBefore: []int{1}, PollInterval: 5 * time.Millisecond}
	plan, err := prop.Plan(ctx, pkg("v1"), multicluster.Selector{}, s)
	if err != nil {
		panic(err)
	}
	fmt.Println(plan.Waves)

	id, err := prop.Propagate(ctx, pkg("v1"), multicluster.Selector{}, s)
	if err != nil {
		panic(err)
	}
	for {
		st, err := prop.Status(ctx, id)
		if err != nil {
			panic(err)
		}
		if st.AwaitingApproval != nil {
			fmt.Println(st.Phase, st.Reason)
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := prop.Approve(ctx, id, 1, "alice"); err != nil {
		panic(err)
	}
	st, err := prop.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Phase, "wave", st.Approvals[0].Wave, "approved by", st.Approvals[0].By)
	// Output:
	// [[edge-0000 edge-0001] [edge-0002 edge-0004] [edge-0003 edge-0005]]
	// Running waiting for approval of wave 1 (2 clusters)
	// Succeeded wave 1 approved by alice
}
