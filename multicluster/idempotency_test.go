package multicluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// TestSameInputsSameRollout: Propagate is idempotent by content: the same
// inputs give the same rollout, running or finished, on this Propagator
// or another over the same store, and nothing is delivered again; other
// inputs, or another Attempt, give another rollout.
func TestSameInputsSameRollout(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 4, 2, memfleet.Config{ReadinessDelay: 30 * time.Millisecond}, multicluster.PropagatorConfig{Store: store})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	running, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil || running != id {
		t.Fatalf("while running: %q %v, want %q", running, err, id)
	}
	st, err := f.prop.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("%+v %v", st, err)
	}
	finished, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil || finished != id {
		t.Fatalf("once finished: %q %v, want %q", finished, err, id)
	}
	other := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store})
	defer other.Close()
	fromStore, err := other.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil || fromStore != id {
		t.Fatalf("another Propagator over the store: %q %v, want %q", fromStore, err, id)
	}
	if st, err := other.Wait(ctx, fromStore); err != nil || st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("another Propagator's Wait: %+v %v", st, err)
	}
	for _, c := range f.clusters {
		if n := f.mem.Deliveries(c.Name); n != 1 {
			t.Errorf("%s: %d deliveries, want 1", c.Name, n)
		}
	}

	ids := map[multicluster.ID]string{id: "first"}
	for name, try := range map[string]func() (multicluster.ID, error){
		"another attempt": func() (multicluster.ID, error) {
			return f.prop.Propagate(ctx, pkg("v1"), all(), s, multicluster.Attempt("2"))
		},
		"other targets": func() (multicluster.ID, error) {
			return f.prop.Propagate(ctx, pkg("v1"), multicluster.Selector{Regions: []string{"region-0"}}, s)
		},
		"another strategy setting": func() (multicluster.ID, error) {
			s2 := s
			s2.ProgressDeadline = time.Minute
			return f.prop.Propagate(ctx, pkg("v1"), all(), s2)
		},
		"other content": func() (multicluster.ID, error) {
			p := pkg("v1")
			p.Resources = p.Resources[:2]
			return f.prop.Propagate(ctx, p, all(), s)
		},
	} {
		got, err := try()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if was, seen := ids[got]; seen {
			t.Fatalf("%s gave the rollout of %s: %s", name, was, got)
		}
		ids[got] = name
		if _, err := f.prop.Wait(ctx, got); err != nil {
			t.Fatal(err)
		}
	}
}

// TestEveryTargetAlreadyRunsIt: clusters that already run the exact
// revision count Succeeded without a delivery; a rollout whose every
// target does succeeds at once and says so.
func TestEveryTargetAlreadyRunsIt(t *testing.T) {
	f := newFleet(t, 4, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	ctx := context.Background()
	s := multicluster.Strategy{Type: multicluster.StrategyCanary, MinSuccessTime: time.Hour, Canary: multicluster.CanaryStrategy{FirstPercent: 25, StepPercent: 25}}
	if st := f.run(t, pkg("v1"), multicluster.Selector{Names: []string{"c-0000", "c-0001"}}, multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("%s %s", st.Phase, st.Reason)
	}
	// Half the fleet runs v1: only the other half is delivered to.
	st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	if st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 4 {
		t.Fatalf("%s %v: %s", st.Phase, st.Counts, st.Reason)
	}
	for name, want := range map[string]int{"c-0000": 1, "c-0001": 1, "c-0002": 1, "c-0003": 1} {
		if n := f.mem.Deliveries(name); n != want {
			t.Errorf("%s: %d deliveries, want %d", name, n, want)
		}
	}
	cs, err := f.prop.ClusterStatus(ctx, st.ID, "c-0001")
	if err != nil || cs.State != multicluster.ClusterSucceeded || !strings.HasPrefix(cs.Message, "already runs ") || cs.Revision == "" {
		t.Fatalf("c-0001: %+v %v", cs, err)
	}
	// Every target runs it: a canary with an hour's soak ends at once.
	st = f.run(t, pkg("v1"), all(), s)
	if st.Phase != multicluster.PhaseSucceeded || st.Reason != "4 clusters already run web v1; nothing delivered" {
		t.Fatalf("%s: %q", st.Phase, st.Reason)
	}
	for _, c := range f.clusters {
		if n := f.mem.Deliveries(c.Name); n != 1 {
			t.Errorf("%s: %d deliveries, want 1", c.Name, n)
		}
	}
	one := f.run(t, pkg("v1"), multicluster.Selector{Names: []string{"c-0003"}}, s)
	if one.Reason != "1 cluster already runs web v1; nothing delivered" {
		t.Fatalf("reason %q", one.Reason)
	}
}

// TestRolloutIDsStayKubernetesNames: the longest package name and a long
// revision still give an ID that labels and names ConfigMaps.
func TestRolloutIDsStayKubernetesNames(t *testing.T) {
	f := newFleet(t, 1, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	p := pkg("Release_2026.12+Build.123456789.with.a.very.long.suffix-that-goes-on")
	p.Name = strings.Repeat("n", 63)
	st := f.run(t, p, all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	id := string(st.ID)
	if errs := validation.IsDNS1123Label(id); len(errs) > 0 {
		t.Fatalf("ID %q (%d characters): %v", id, len(id), errs)
	}
	if errs := validation.IsValidLabelValue(id); len(errs) > 0 {
		t.Fatalf("ID %q cannot label a ConfigMap: %v", id, errs)
	}
	if errs := validation.IsDNS1123Subdomain("porchkit-rollout-" + id + "-12"); len(errs) > 0 {
		t.Fatalf("ID %q cannot name a ConfigMap: %v", id, errs)
	}
}
