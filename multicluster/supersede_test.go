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

// TestSupersedeStopsTheOlderRollout: a rollout of v2 to the clusters a v1
// rollout still runs to stops v1 at once (not after its progress
// deadline), without rolling it back; v1 ends Superseded, naming v2 in
// its status and its record.
func TestSupersedeStopsTheOlderRollout(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 6, 1, memfleet.Config{ReadinessDelay: 10 * time.Millisecond}, multicluster.PropagatorConfig{Store: store})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f.mem.SetNeverReady("c-0002", true) // v1 would wait here for its whole deadline
	v1, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		cs, err := f.prop.ClusterStatus(ctx, v1, "c-0002")
		return err == nil && cs.State == multicluster.ClusterProgressing && f.mem.Running("c-0002", "web") != "", fmt.Sprintf("%+v %v", cs, err)
	})
	f.mem.SetNeverReady("c-0002", false)
	v2, err := f.prop.Propagate(ctx, pkg("v2"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel}))
	if err != nil {
		t.Fatal(err)
	}
	old, err := f.prop.Wait(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if old.Phase != multicluster.PhaseSuperseded || old.SupersededBy != v2 || !strings.Contains(old.Reason, string(v2)) {
		t.Fatalf("v1: %s superseded by %q: %s", old.Phase, old.SupersededBy, old.Reason)
	}
	want := map[multicluster.ClusterState]int{multicluster.ClusterSucceeded: 2, multicluster.ClusterStopped: 1, multicluster.ClusterSkipped: 3}
	for s, n := range want {
		if old.Counts[s] != n {
			t.Errorf("v1 %s: %d, want %d (%v)", s, old.Counts[s], n, old.Counts)
		}
	}
	if rec, err := store.Load(ctx, v1); err != nil || rec.Phase != multicluster.PhaseSuperseded || rec.SupersededBy != v2 {
		t.Fatalf("v1's record: %+v %v", rec, err)
	}
	st, err := f.prop.Wait(ctx, v2)
	if err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 6 {
		t.Fatalf("v2: %+v %v", st, err)
	}
	v2Revs := f.running()
	for _, c := range f.clusters {
		if got := v2Revs[c.Name]; !strings.HasPrefix(got, "v2-") {
			t.Errorf("%s runs %q, want v2", c.Name, got)
		}
		// v1 once where it got, v2 once: v1 never delivered anything back.
		if n, max := f.mem.Deliveries(c.Name), 2; n > max {
			t.Errorf("%s: %d deliveries, want at most %d", c.Name, n, max)
		}
	}

	// The same v1 inputs again are a new rollout: the fleet moved on since.
	// (c-0002 never makes v1 Available: memfleet remembers the revision
	// failing there, so this one is aborted, and rolls back to v2.)
	again, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: time.Hour}))
	if err != nil || again == v1 {
		t.Fatalf("v1 again: %q %v, want a new rollout other than %q", again, err, v1)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		got := f.mem.Running("c-0000", "web")
		return strings.HasPrefix(got, "v1-"), "c-0000 runs " + got
	})
	if err := f.prop.Abort(ctx, again); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.prop.Status(ctx, again); st.Phase != multicluster.PhaseAborted {
		t.Fatalf("v1 again: %s %s", st.Phase, st.Reason)
	}
	for name, rev := range f.running() {
		if rev != v2Revs[name] {
			t.Errorf("%s runs %s after v1 again was aborted, want v2's %s", name, rev, v2Revs[name])
		}
	}
}

// TestSupersedingRolloutRollsBackToTheLastKnownGood: v1 is mid-way (two
// clusters Available with it, one caught mid-delivery) when v2 supersedes
// it; v2 fails and rolls back. Clusters where v1 had become Available go
// back to v1; the one v1 was delivering to, and those v1 never reached, go
// back to v0, what they ran before v1 touched them.
func TestSupersedingRolloutRollsBackToTheLastKnownGood(t *testing.T) {
	f := newFleet(t, 6, 1, memfleet.Config{ReadinessDelay: 10 * time.Millisecond}, multicluster.PropagatorConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if st := f.run(t, pkg("v0"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("v0: %s %s", st.Phase, st.Reason)
	}
	v0 := f.running()
	f.mem.SetNeverReady("c-0002", true)
	v1, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		got := f.mem.Running("c-0002", "web")
		return strings.HasPrefix(got, "v1-"), "c-0002 runs " + got
	})
	v1Revs := f.running()
	f.mem.SetNeverReady("c-0002", false)
	f.mem.SetNeverReady("c-0004", true) // v2 fails here
	v2, err := f.prop.Propagate(ctx, pkg("v2"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel}))
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.prop.Wait(ctx, v2)
	if err != nil || st.Phase != multicluster.PhaseRolledBack {
		t.Fatalf("v2: %+v %v", st, err)
	}
	if old, _ := f.prop.Status(ctx, v1); old.Phase != multicluster.PhaseSuperseded || old.Counts[multicluster.ClusterRolledBack] != 0 {
		t.Fatalf("v1 must end superseded without rolling back: %s %v", old.Phase, old.Counts)
	}
	now := f.running()
	for _, name := range []string{"c-0000", "c-0001"} {
		if now[name] != v1Revs[name] {
			t.Errorf("%s runs %s, want v1's %s (Available before v2)", name, now[name], v1Revs[name])
		}
	}
	for _, name := range []string{"c-0002", "c-0003", "c-0004", "c-0005"} {
		if now[name] != v0[name] {
			t.Errorf("%s runs %s, want v0's %s (what it ran before v1 touched it)", name, now[name], v0[name])
		}
	}
	cs, err := f.prop.ClusterStatus(ctx, v2, "c-0002")
	if err != nil || cs.Previous != v0["c-0002"] || cs.State != multicluster.ClusterRolledBack {
		t.Fatalf("c-0002 in v2: %+v %v, want previous %s", cs, err, v0["c-0002"])
	}
}

// TestConflictRefuse: with ConflictRefuse, a rollout of the package to
// some of the clusters a running one targets is refused, naming it; to
// other clusters it runs; the running one is not disturbed.
func TestConflictRefuse(t *testing.T) {
	f := newFleet(t, 6, 1, memfleet.Config{ReadinessDelay: 20 * time.Millisecond}, multicluster.PropagatorConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := multicluster.Selector{Names: []string{"c-0000", "c-0001", "c-0002"}}
	v1, err := f.prop.Propagate(ctx, pkg("v1"), first, fast(multicluster.Strategy{Type: multicluster.StrategySequential}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.prop.Propagate(ctx, pkg("v2"), multicluster.Selector{Names: []string{"c-0002", "c-0003"}},
		fast(multicluster.Strategy{Type: multicluster.StrategyParallel}), multicluster.ConflictRefuse)
	var ce *multicluster.ConflictError
	if !errors.Is(err, multicluster.ErrRolloutConflict) || !errors.As(err, &ce) || ce.Rollout != v1 || ce.Overlap != 1 || ce.Clusters[0] != "c-0002" {
		t.Fatalf("refused: %v (%+v), want a conflict with %s over c-0002", err, ce, v1)
	}
	other, err := f.prop.Propagate(ctx, pkg("v2"), multicluster.Selector{Names: []string{"c-0004", "c-0005"}},
		fast(multicluster.Strategy{Type: multicluster.StrategyParallel}), multicluster.ConflictRefuse)
	if err != nil {
		t.Fatalf("other clusters: %v", err)
	}
	for _, id := range []multicluster.ID{v1, other} {
		if st, err := f.prop.Wait(ctx, id); err != nil || st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("%s: %+v %v", id, st, err)
		}
	}
	if f.mem.Deliveries("c-0003") != 0 {
		t.Fatal("the refused rollout delivered")
	}
	var fe *multicluster.FieldError
	_, err = f.prop.Propagate(ctx, pkg("v3"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel}), multicluster.ConflictPolicy("Merge"))
	if !errors.Is(err, multicluster.ErrInvalidOption) || !errors.As(err, &fe) || fe.Field != "onConflict" {
		t.Fatalf("unknown conflict policy: %v", err)
	}
}
