package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// TestAbortWhileDeliveringLeavesNoClusterProgressing: an abort while
// clusters are being started and delivered to (each call to a cluster
// takes 100 ms) leaves every cluster in a final state, with and without
// rollback.
func TestAbortWhileDeliveringLeavesNoClusterProgressing(t *testing.T) {
	for _, policy := range []multicluster.FailurePolicy{multicluster.FailureHalt, multicluster.FailureRollback} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFleet(t, 8, 1, memfleet.Config{Latency: 100 * time.Millisecond}, multicluster.PropagatorConfig{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			id, err := f.prop.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel,
				MaxConcurrency: multicluster.Count(3), OnFailure: policy, ProgressDeadline: 10 * time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			eventually.True(t, 10*time.Second, func() (bool, string) {
				st, err := f.prop.Status(ctx, id)
				return err == nil && st.Counts[multicluster.ClusterProgressing] > 0, fmt.Sprintf("%+v %v", st, err)
			})
			if err := f.prop.Abort(ctx, id); err != nil {
				t.Fatal(err)
			}
			st, err := f.prop.Status(ctx, id)
			if err != nil || st.Phase != multicluster.PhaseAborted {
				t.Fatalf("%+v %v", st, err)
			}
			for _, c := range f.clusters {
				cs, err := f.prop.ClusterStatus(ctx, id, c.Name)
				if err != nil {
					t.Fatal(err)
				}
				switch cs.State {
				case multicluster.ClusterPending, multicluster.ClusterProgressing:
					t.Errorf("%s left %s after the abort: %s", c.Name, cs.State, cs.Message)
				}
				if policy == multicluster.FailureRollback && cs.State == multicluster.ClusterStopped {
					t.Errorf("%s Stopped although the abort rolls back", c.Name)
				}
			}
			if policy == multicluster.FailureRollback {
				for name, rev := range f.running() {
					if rev != "" {
						t.Errorf("%s runs %s after the abort rolled back a first install", name, rev)
					}
				}
			}
		})
	}
}

// TestPausedStaysPausedAcrossRestore: a rollout recorded Paused is
// restored Paused and starts no cluster until Resume.
func TestPausedStaysPausedAcrossRestore(t *testing.T) {
	store := multicluster.NewMemoryStore()
	f := newFleet(t, 5, 1, memfleet.Config{ReadinessDelay: 20 * time.Millisecond}, multicluster.PropagatorConfig{Store: store})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential})
	id, err := f.prop.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, err := f.prop.Status(ctx, id)
		return err == nil && st.Counts[multicluster.ClusterSucceeded] >= 1, fmt.Sprintf("%+v %v", st, err)
	})
	if err := f.prop.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		rec, err := store.Load(ctx, id)
		return err == nil && rec.Phase == multicluster.PhasePaused, fmt.Sprintf("%+v %v", rec, err)
	})
	if err := f.prop.Close(); err != nil {
		t.Fatal(err)
	}
	next := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store})
	defer next.Close()
	if err := next.Restore(ctx, id, pkg("v1"), s); err != nil {
		t.Fatal(err)
	}
	st, err := next.Status(ctx, id)
	if err != nil || st.Phase != multicluster.PhasePaused {
		t.Fatalf("restored: %+v %v", st, err)
	}
	started := st.Total - st.Counts[multicluster.ClusterPending]
	time.Sleep(100 * time.Millisecond) // unpaused, several clusters would start meanwhile
	if st, _ := next.Status(ctx, id); st.Phase != multicluster.PhasePaused || st.Total-st.Counts[multicluster.ClusterPending] != started {
		t.Fatalf("a restored paused rollout went on: %s %v", st.Phase, st.Counts)
	}
	if err := next.Resume(ctx, id); err != nil {
		t.Fatal(err)
	}
	if st, err := next.Wait(ctx, id); err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 5 {
		t.Fatalf("after resume: %+v %v", st, err)
	}
}

// TestErrorsWrapSentinels: a store that fails, and a closed Propagator,
// give errors that wrap the package's sentinels.
func TestErrorsWrapSentinels(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewSimpleClientset()
	cs.PrependReactor("*", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("etcdserver: request timed out")
	})
	store := multicluster.NewConfigMapStore(cs, "porchkit-system")
	if err := store.Save(ctx, &multicluster.Record{ID: "web-v1-0"}); !errors.Is(err, multicluster.ErrStore) {
		t.Fatalf("save: %v", err)
	}
	if _, err := store.Load(ctx, "web-v1-0"); !errors.Is(err, multicluster.ErrStore) {
		t.Fatalf("load: %v", err)
	}
	f := newFleet(t, 2, 1, memfleet.Config{}, multicluster.PropagatorConfig{Store: store})
	if _, err := f.prop.Propagate(ctx, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); !errors.Is(err, multicluster.ErrStore) {
		t.Fatalf("propagate over a failing store: %v", err)
	}
	if _, err := f.prop.Status(ctx, "web-v1-0"); !errors.Is(err, multicluster.ErrStore) {
		t.Fatalf("status over a failing store: %v", err)
	}
	for _, c := range f.clusters {
		if n := f.mem.Deliveries(c.Name); n != 0 {
			t.Fatalf("%s delivered to although the record could not be saved", c.Name)
		}
	}

	bad := fake.NewSimpleClientset(&corev1.ConfigMap{})
	bad.PrependReactor("get", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, &corev1.ConfigMap{Data: map[string]string{"record": "{not json"}}, nil
	})
	if _, err := multicluster.NewConfigMapStore(bad, "porchkit-system").Load(ctx, "web-v1-0"); !errors.Is(err, multicluster.ErrStore) {
		t.Fatalf("a record that does not decode: %v", err)
	}

	g := newFleet(t, 1, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	if err := g.prop.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.prop.Propagate(ctx, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); !errors.Is(err, multicluster.ErrClosed) {
		t.Fatalf("propagate after Close: %v", err)
	}
}
