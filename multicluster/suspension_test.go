package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// held starts a Sequential rollout of 5 clusters with c-0001 suspended by
// the strategy and c-0003 by Suspend while the rollout waits for the
// approval of wave 2, and returns once the rollout holds after its last
// wave.
func held(t *testing.T, f *fleet) (multicluster.ID, multicluster.Strategy) {
	t.Helper()
	ctx := context.Background()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential, ApprovalBefore: []int{2}, Suspended: []string{"c-0001"}})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	awaiting(t, f.prop, id, 2)
	if err := f.prop.Suspend(ctx, id, "c-0003", "c-0003"); err != nil {
		t.Fatal(err)
	}
	var ce *multicluster.ClusterError
	for _, tc := range []struct {
		call        func(context.Context, multicluster.ID, ...string) error
		good, wrong string
		want        error
	}{
		{f.prop.Suspend, "c-0002", "c-0000", multicluster.ErrClusterStarted},
		{f.prop.Suspend, "c-0002", "elsewhere", multicluster.ErrUnknownCluster},
		{f.prop.Unsuspend, "c-0001", "c-0004", multicluster.ErrNotSuspended},
	} {
		if err := tc.call(ctx, id, tc.good, tc.wrong); !errors.Is(err, tc.want) || !errors.As(err, &ce) || ce.Cluster != tc.wrong {
			t.Fatalf("%s: %v, want %v", tc.wrong, err, tc.want)
		}
	}
	for c, want := range map[string]multicluster.ClusterState{"c-0002": multicluster.ClusterPending, "c-0001": multicluster.ClusterSuspended} {
		if st, _ := f.prop.ClusterStatus(ctx, id, c); st.State != want {
			t.Fatalf("a refused call must change nothing: %s is %s", c, st.State)
		}
	}
	if err := f.prop.Approve(ctx, id, 2, "alice"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ := f.prop.Status(ctx, id)
		return strings.HasPrefix(st.Reason, "2 clusters suspended (c-0001, c-0003)"), st.Reason
	})
	st, _ := f.prop.Status(ctx, id)
	if st.Phase != multicluster.PhaseRunning || st.Counts[multicluster.ClusterSuspended] != 2 || st.Counts[multicluster.ClusterSucceeded] != 3 || len(st.Failures) != 0 {
		t.Fatalf("holding: %s %v %v", st.Phase, st.Counts, st.Failures)
	}
	for _, c := range []string{"c-0001", "c-0003"} {
		if f.mem.Deliveries(c) != 0 {
			t.Fatalf("%s was delivered to while suspended", c)
		}
	}
	return id, s
}

func TestSuspendedClustersHoldTheRolloutUntilUnsuspended(t *testing.T) {
	f := newFleet(t, 5, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	id, _ := held(t, f)
	events, err := f.prop.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.prop.Unsuspend(ctx, id, "c-0001"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ := f.prop.Status(ctx, id)
		return st.Reason != "" && strings.HasPrefix(st.Reason, "1 cluster suspended (c-0003): the rollout finishes once it is unsuspended"), st.Reason
	})
	if f.mem.Running("c-0001", "web") == "" {
		t.Fatal("an unsuspended cluster whose wave passed must be delivered to")
	}
	if err := f.prop.Unsuspend(ctx, id, "c-0003"); err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 5 {
		t.Fatalf("%v %s: %s %v", err, st.Phase, st.Reason, st.Counts)
	}
	var seen []string
	for e := range events {
		if e.Type == multicluster.EventClusterUnsuspended {
			seen = append(seen, fmt.Sprintf("%s %d", e.Cluster, e.Wave))
		}
	}
	if got := strings.Join(seen, ","); got != "c-0001 1,c-0003 3" {
		t.Fatalf("unsuspended events: %s", got)
	}
	if err := f.prop.Suspend(ctx, id, "c-0001"); !errors.Is(err, multicluster.ErrRolloutFinished) {
		t.Fatalf("suspending in a finished rollout: %v", err)
	}
}

func TestAbortSkipsSuspendedClusters(t *testing.T) {
	f := newFleet(t, 5, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	id, _ := held(t, f)
	if err := f.prop.Abort(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseAborted || st.Counts[multicluster.ClusterSkipped] != 2 || st.Counts[multicluster.ClusterSuspended] != 0 {
		t.Fatalf("%v %s: %s %v", err, st.Phase, st.Reason, st.Counts)
	}
	cs, err := f.prop.ClusterStatus(ctx, id, "c-0003")
	if err != nil || cs.State != multicluster.ClusterSkipped || !strings.Contains(cs.Message, "suspended") {
		t.Fatalf("c-0003: %+v %v", cs, err)
	}
}

func TestSuspensionSurvivesRestore(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 5, 1, memfleet.Config{}, multicluster.PropagatorConfig{Store: store})
	ctx := context.Background()
	id, s := held(t, f)
	if err := f.prop.Unsuspend(ctx, id, "c-0001"); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		return f.mem.Running("c-0001", "web") != "", "c-0001 not delivered"
	})
	if err := f.prop.Close(); err != nil {
		t.Fatal(err)
	}
	p2 := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store, SaveInterval: 20 * time.Millisecond})
	defer p2.Close()
	if err := p2.Restore(ctx, id, pkg("v1"), s); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, _ := p2.Status(ctx, id)
		return strings.HasPrefix(st.Reason, "1 cluster suspended (c-0003)"), st.Reason
	})
	if f.mem.Deliveries("c-0003") != 0 {
		t.Fatal("c-0003 is still suspended after Restore")
	}
	if err := p2.Unsuspend(ctx, id, "c-0003"); err != nil {
		t.Fatal(err)
	}
	if st, err := p2.Wait(ctx, id); err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 5 {
		t.Fatalf("%v %s: %s %v", err, st.Phase, st.Reason, st.Counts)
	}
}

func TestPendingClustersOfTheWaveUnderWayCanBeSuspended(t *testing.T) {
	f := newFleet(t, 3, 1, memfleet.Config{ReadinessDelay: 300 * time.Millisecond}, multicluster.PropagatorConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel, MaxConcurrency: multicluster.Count(1),
		ProgressDeadline: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		return f.mem.Deliveries("c-0000") == 1, "c-0000 not delivered yet"
	})
	// c-0000 is being delivered: too late to hold it.
	if err := f.prop.Suspend(ctx, id, "c-0000"); !errors.Is(err, multicluster.ErrClusterStarted) {
		t.Fatalf("suspending the cluster being delivered: %v, want ErrClusterStarted", err)
	}
	// c-0002 waits for a slot in the same wave: it can still be held.
	if err := f.prop.Suspend(ctx, id, "c-0002"); err != nil {
		t.Fatalf("suspending a pending cluster of the wave under way: %v", err)
	}
	eventually.True(t, 20*time.Second, func() (bool, string) {
		st, err := f.prop.Status(ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return st.Counts[multicluster.ClusterSucceeded] == 2 && strings.Contains(st.Reason, "suspended"), fmt.Sprintf("%v: %s", st.Counts, st.Reason)
	})
	if n := f.mem.Deliveries("c-0002"); n != 0 {
		t.Fatalf("the suspended cluster was delivered %d times", n)
	}
	if st, _ := f.prop.Status(ctx, id); st.Phase != multicluster.PhaseRunning {
		t.Fatalf("with a cluster held the rollout is %s, want Running", st.Phase)
	}
	if err := f.prop.Unsuspend(ctx, id, "c-0002"); err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != multicluster.PhaseSucceeded || f.mem.Deliveries("c-0002") != 1 {
		t.Fatalf("after Unsuspend: %s %v, c-0002 delivered %d times", st.Phase, st.Counts, f.mem.Deliveries("c-0002"))
	}
}
