package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes/fake"

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

func TestRolloutIDsNameKubernetesObjects(t *testing.T) {
	f := newFleet(t, 1, 1, memfleet.Config{}, multicluster.PropagatorConfig{})
	p := pkg("V1_2+build.7")
	st := f.run(t, p, all(), multicluster.Strategy{Type: multicluster.StrategyParallel})
	if errs := validation.IsDNS1123Subdomain("porchkit-rollout-" + string(st.ID) + "-0"); len(errs) > 0 {
		t.Fatalf("rollout ID %q cannot name a ConfigMap: %v", st.ID, errs)
	}
}
