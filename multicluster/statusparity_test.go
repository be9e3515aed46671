package multicluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// roundTrip returns v after a JSON round trip, which drops the monotonic
// clock reading of times (a store keeps wall clock only).
func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// ending drives a fleet to one kind of ending and returns the rollout to
// compare.
type ending struct {
	name  string
	phase multicluster.Phase
	run   func(t *testing.T, f *fleet) multicluster.ID
}

func endings() []ending {
	ok := multicluster.CheckFunc(func(context.Context, multicluster.AnalysisInput) (float64, error) { return 0.01, nil })
	propagate := func(t *testing.T, f *fleet, p *multicluster.Package, s multicluster.Strategy) multicluster.ID {
		t.Helper()
		id, err := f.prop.Propagate(context.Background(), p, all(), fast(s))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	wait := func(t *testing.T, f *fleet, id multicluster.ID) multicluster.ID {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := f.prop.Wait(ctx, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	v1Everywhere := func(t *testing.T, f *fleet) {
		t.Helper()
		if st := f.run(t, pkg("v1"), all(), multicluster.Strategy{Type: multicluster.StrategyParallel}); st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("v1: %s %s", st.Phase, st.Reason)
		}
	}
	return []ending{
		{"succeeded", multicluster.PhaseSucceeded, func(t *testing.T, f *fleet) multicluster.ID {
			return wait(t, f, propagate(t, f, pkg("v1"), multicluster.Strategy{Type: multicluster.StrategyCanary, MinSuccessTime: 10 * time.Millisecond,
				Canary:   multicluster.CanaryStrategy{FirstPercent: 20, StepPercent: 40},
				Analysis: []multicluster.Analysis{{Name: "error-rate", Check: ok, Range: multicluster.AtMost(0.05)}}}))
		}},
		{"succeeded with failures", multicluster.PhaseSucceededWithFailures, func(t *testing.T, f *fleet) multicluster.ID {
			f.mem.SetNeverReady("c-0003", true)
			f.mem.SetUnreachable("c-0005", true)
			return wait(t, f, propagate(t, f, pkg("v1"), multicluster.Strategy{Type: multicluster.StrategyParallel, MaxFailures: multicluster.Count(2)}))
		}},
		{"halted", multicluster.PhaseHalted, func(t *testing.T, f *fleet) multicluster.ID {
			f.mem.SetNeverReady("c-0002", true)
			return wait(t, f, propagate(t, f, pkg("v1"), multicluster.Strategy{Type: multicluster.StrategySequential, OnFailure: multicluster.FailureHalt}))
		}},
		{"rolled back", multicluster.PhaseRolledBack, func(t *testing.T, f *fleet) multicluster.ID {
			v1Everywhere(t, f)
			f.mem.SetNeverReady("c-0004", true)
			return wait(t, f, propagate(t, f, pkg("v2"), multicluster.Strategy{Type: multicluster.StrategyCanary,
				Canary: multicluster.CanaryStrategy{FirstPercent: 20, StepPercent: 40}}))
		}},
		{"rollback failed", multicluster.PhaseRollbackFailed, func(t *testing.T, f *fleet) multicluster.ID {
			v1Everywhere(t, f)
			f.mem.SetNeverReady("c-0001", true)
			id := propagate(t, f, pkg("v2"), multicluster.Strategy{Type: multicluster.StrategyParallel, ProgressDeadline: 2 * time.Second})
			eventually.True(t, 10*time.Second, func() (bool, string) {
				cs, err := f.prop.ClusterStatus(context.Background(), id, "c-0002")
				return err == nil && cs.State == multicluster.ClusterSucceeded, fmt.Sprintf("%+v %v", cs, err)
			})
			f.mem.SetUnreachable("c-0002", true) // its rollback cannot be delivered
			return wait(t, f, id)
		}},
		{"aborted", multicluster.PhaseAborted, func(t *testing.T, f *fleet) multicluster.ID {
			id := propagate(t, f, pkg("v1"), multicluster.Strategy{Type: multicluster.StrategySequential, OnFailure: multicluster.FailureHalt})
			eventually.True(t, 10*time.Second, func() (bool, string) {
				st, err := f.prop.Status(context.Background(), id)
				return err == nil && st.Counts[multicluster.ClusterSucceeded] >= 2, fmt.Sprintf("%+v %v", st, err)
			})
			if err := f.prop.Abort(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			return id
		}},
		{"superseded", multicluster.PhaseSuperseded, func(t *testing.T, f *fleet) multicluster.ID {
			f.mem.SetNeverReady("c-0002", true)
			v1 := propagate(t, f, pkg("v1"), multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: time.Hour})
			eventually.True(t, 10*time.Second, func() (bool, string) {
				st, err := f.prop.Status(context.Background(), v1)
				return err == nil && st.Counts[multicluster.ClusterSucceeded] >= 2, fmt.Sprintf("%+v %v", st, err)
			})
			f.mem.SetNeverReady("c-0002", false)
			wait(t, f, propagate(t, f, pkg("v2"), multicluster.Strategy{Type: multicluster.StrategyParallel}))
			return wait(t, f, v1)
		}},
	}
}

// TestStoredStatusEqualsStatusInMemory: after every kind of ending, the
// status and every cluster's detail read back from the store equal, field
// by field, what the Propagator that ran the rollout reports from memory;
// for a MemoryStore and a ConfigMapStore.
func TestStoredStatusEqualsStatusInMemory(t *testing.T) {
	stores := map[string]func() multicluster.StateStore{
		"MemoryStore": func() multicluster.StateStore { return multicluster.NewMemoryStore() },
		"ConfigMapStore": func() multicluster.StateStore {
			s := multicluster.NewConfigMapStore(fake.NewSimpleClientset(), "porchkit-system")
			s.ClustersPerShard = 4
			return s
		},
	}
	for storeName, newStore := range stores {
		for _, e := range endings() {
			t.Run(storeName+"/"+e.name, func(t *testing.T) {
				store := newStore()
				f := newFleet(t, 6, 2, memfleet.Config{ReadinessDelay: 10 * time.Millisecond}, multicluster.PropagatorConfig{Store: store})
				id := e.run(t, f)
				ctx := context.Background()
				inMemory, err := f.prop.Status(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if inMemory.Phase != e.phase {
					t.Fatalf("phase %s (%s), want %s", inMemory.Phase, inMemory.Reason, e.phase)
				}
				reader := multicluster.NewPropagator(f.manager, f.mem, multicluster.PropagatorConfig{Store: store})
				defer reader.Close()
				stored, err := reader.Status(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := roundTrip(t, inMemory), roundTrip(t, stored); !reflect.DeepEqual(a, b) {
					ja, _ := json.MarshalIndent(a, "", " ")
					jb, _ := json.MarshalIndent(b, "", " ")
					t.Fatalf("status in memory:\n%s\nread from the store:\n%s", ja, jb)
				}
				if e.phase != multicluster.PhaseSucceeded && len(stored.Failures)+stored.Counts[multicluster.ClusterSkipped]+stored.Counts[multicluster.ClusterStopped] == 0 {
					t.Fatalf("a %s rollout with nothing to show: %+v", e.phase, stored)
				}
				for _, c := range f.clusters {
					a, err := f.prop.ClusterStatus(ctx, id, c.Name)
					if err != nil {
						t.Fatal(err)
					}
					b, err := reader.ClusterStatus(ctx, id, c.Name)
					if err != nil {
						t.Fatal(err)
					}
					if a, b := roundTrip(t, a), roundTrip(t, b); !reflect.DeepEqual(a, b) {
						t.Fatalf("%s in memory %+v, read from the store %+v", c.Name, a, b)
					}
				}
			})
		}
	}
}
