package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

func TestConfigMapStore(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewSimpleClientset()
	s := multicluster.NewConfigMapStore(cs, "porchkit-system")
	s.ClustersPerShard = 3
	rec := &multicluster.Record{ID: "web-v2-1", Package: "web", Revision: "v2", StrategyType: multicluster.StrategyCanary,
		Phase: multicluster.PhaseRunning, Wave: 1, Waves: [][]string{{"c0"}, {"c1", "c2"}, {"c3", "c4", "c5", "c6"}},
		Clusters: map[string]multicluster.ClusterRecord{}, Started: time.Now().Truncate(time.Second)}
	for i := range 7 {
		rec.Clusters[fmt.Sprintf("c%d", i)] = multicluster.ClusterRecord{State: multicluster.ClusterPending, Previous: "v1-abc"}
	}
	rec.Clusters["c0"] = multicluster.ClusterRecord{State: multicluster.ClusterSucceeded, Revision: "v2-def", Previous: "v1-abc", Touched: true}
	if err := s.Save(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rec.Clusters["c1"] = multicluster.ClusterRecord{State: multicluster.ClusterFailed, Message: "deadline", Touched: true}
	if err := s.Save(ctx, rec); err != nil { // an update
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "web-v2-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Clusters) != 7 || got.Clusters["c0"] != rec.Clusters["c0"] || got.Clusters["c1"].State != multicluster.ClusterFailed ||
		got.Wave != 1 || len(got.Waves[2]) != 4 || !got.Started.Equal(rec.Started) {
		t.Fatalf("loaded %+v", got)
	}
	list, _ := cs.CoreV1().ConfigMaps("porchkit-system").List(ctx, metav1.ListOptions{})
	if len(list.Items) != 4 { // the record and three shards
		t.Fatalf("%d ConfigMaps", len(list.Items))
	}
	if _, err := s.Load(ctx, "nope"); !errors.Is(err, multicluster.ErrUnknownRollout) {
		t.Fatalf("unknown: %v", err)
	}
}

// TestConfigMapStoreKeepsEveryField: everything a Record holds survives a
// ConfigMapStore round trip: failures, their order, times, analysis, the
// superseding rollout.
func TestConfigMapStoreKeepsEveryField(t *testing.T) {
	ctx := context.Background()
	s := multicluster.NewConfigMapStore(fake.NewSimpleClientset(), "porchkit-system")
	s.ClustersPerShard = 2
	at := time.Date(2026, 12, 2, 3, 4, 5, 123456789, time.UTC)
	rec := &multicluster.Record{ID: "web-v2-abc", Package: "web", Revision: "v2", StrategyType: multicluster.StrategyParallel,
		Phase: multicluster.PhaseSuperseded, Reason: "superseded by web-v3-def", SupersededBy: "web-v3-def", Waves: [][]string{{"a", "b", "c"}},
		Started: at, Finished: at.Add(time.Minute), Failed: []string{"c", "a"},
		Analysis: []multicluster.AnalysisStatus{{Name: "error-rate", Value: 0.5, Failures: 2, Message: "0.5 outside [0, 0.05]"}},
		Clusters: map[string]multicluster.ClusterRecord{
			"a": {State: multicluster.ClusterRolledBack, Revision: "v2-1", Previous: "v1-1", Touched: true, Message: "back at v1-1",
				Failure: "progress deadline 1s exceeded", FailedAs: multicluster.ClusterFailed, Started: at, Finished: at.Add(time.Second)},
			"b": {State: multicluster.ClusterSkipped, Previous: "v1-1", Known: true, Message: "not reached", Finished: at},
			"c": {State: multicluster.ClusterUnreachable, Revision: "v2-1", Touched: true, Failure: "no answer", FailedAs: multicluster.ClusterUnreachable, Started: at},
		}}
	if err := s.Save(ctx, rec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("loaded\n%+v\nsaved\n%+v", got, rec)
	}
}

func TestRolloutIDsNameKubernetesObjects(t *testing.T) {
	f := newFleet(t, 1, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	p := pkg("V1_2+build.7")
	st := f.run(t, p, all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	if errs := validation.IsDNS1123Subdomain("porchkit-rollout-" + string(st.ID) + "-0"); len(errs) > 0 {
		t.Fatalf("rollout ID %q cannot name a ConfigMap: %v", st.ID, errs)
	}
}

// TestStoresListUnfinished: both stores list a package's unfinished
// records in full, and nothing of other packages or finished rollouts.
func TestStoresListUnfinished(t *testing.T) {
	ctx := context.Background()
	cms := multicluster.NewConfigMapStore(fake.NewSimpleClientset(), "porchkit-system")
	cms.ClustersPerShard = 1
	for name, s := range map[string]interface {
		multicluster.StateStore
		multicluster.RecordLister
	}{"MemoryStore": multicluster.NewMemoryStore(), "ConfigMapStore": cms} {
		t.Run(name, func(t *testing.T) {
			for _, r := range []*multicluster.Record{
				{ID: "web-v1-a", Package: "web", Phase: multicluster.PhaseRunning, Waves: [][]string{{"c0", "c1"}},
					Clusters: map[string]multicluster.ClusterRecord{"c0": {State: multicluster.ClusterSucceeded}, "c1": {State: multicluster.ClusterPending}}},
				{ID: "web-v0-b", Package: "web", Phase: multicluster.PhaseSucceeded, Waves: [][]string{{"c0"}},
					Clusters: map[string]multicluster.ClusterRecord{"c0": {State: multicluster.ClusterSucceeded}}},
				{ID: "db-v1-c", Package: "db", Phase: multicluster.PhasePaused, Waves: [][]string{{"c0"}},
					Clusters: map[string]multicluster.ClusterRecord{"c0": {State: multicluster.ClusterPending}}},
			} {
				if err := s.Save(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.Unfinished(ctx, "web")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != "web-v1-a" || len(got[0].Clusters) != 2 {
				t.Fatalf("unfinished of web: %+v", got)
			}
		})
	}
}

// TestConfigMapStoreWritesTheHeadLast: a reader in another replica must
// never find a head that counts a shard not written yet.
func TestConfigMapStoreWritesTheHeadLast(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewSimpleClientset()
	var order []string
	cs.PrependReactor("*", "configmaps", func(a k8stesting.Action) (bool, runtime.Object, error) {
		// Creates and updates carry the object written.
		if w, ok := a.(k8stesting.CreateAction); ok && (a.GetVerb() == "create" || a.GetVerb() == "update") {
			order = append(order, w.GetObject().(metav1.Object).GetName())
		}
		return false, nil, nil
	})
	s := multicluster.NewConfigMapStore(cs, "porchkit-system")
	s.ClustersPerShard = 2
	rec := &multicluster.Record{ID: "web-v1-1", Package: "web", Revision: "v1", StrategyType: multicluster.StrategyParallel,
		Phase: multicluster.PhaseRunning, Waves: [][]string{{"c0", "c1", "c2", "c3", "c4"}}, Clusters: map[string]multicluster.ClusterRecord{}}
	for i := range 5 {
		rec.Clusters[fmt.Sprintf("c%d", i)] = multicluster.ClusterRecord{State: multicluster.ClusterPending}
	}
	for range 2 { // created, then updated
		order = nil
		if err := s.Save(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if len(order) == 0 || order[len(order)-1] != "porchkit-rollout-web-v1-1" {
			t.Fatalf("writes %v: the head must come last", order)
		}
	}
}
