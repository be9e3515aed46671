package multicluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// BenchmarkPropagate10000Clusters measures one rollout to 10,000 in-memory
// clusters, Parallel with MaxConcurrency 500: the whole time (planning,
// the check of what every cluster runs, delivery and gating), the peak
// heap growth, and the size of the final status as JSON; once with the
// package as is (one revision shared by every cluster) and once with a
// customizer that labels each cluster's copy (10,000 revisions).
func BenchmarkPropagate10000Clusters(b *testing.B) {
	perCluster := multicluster.CustomizerFunc(func(_ context.Context, c *multicluster.Cluster, p *multicluster.Package) ([]*yaml.RNode, error) {
		out := make([]*yaml.RNode, 0, len(p.Resources))
		for _, r := range p.Resources {
			r = r.Copy()
			if err := r.PipeE(yaml.SetLabel("cluster", c.Name)); err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	})
	for _, tc := range []struct {
		name string
		cust multicluster.Customizer
	}{{"shared", nil}, {"customized", perCluster}} {
		b.Run(tc.name, func(b *testing.B) { benchmarkPropagate10000(b, tc.cust) })
	}
}

func benchmarkPropagate10000(b *testing.B, cust multicluster.Customizer) {
	const n = 10000
	f := newFleet(b, n, 10, memfleet.Config{}, multicluster.PropagatorConfig{SaveInterval: multicluster.DefaultSaveInterval, Customizer: cust})
	s := multicluster.Strategy{Type: multicluster.StrategyParallel, MaxConcurrency: multicluster.Count(500), PollInterval: time.Millisecond}
	ctx := context.Background()
	var total time.Duration
	var peak uint64
	var size int
	for i := range b.N {
		h := sampleHeap(b)
		start := time.Now()
		id, err := f.prop.Propagate(ctx, pkg(fmt.Sprintf("v%d", i+1)), all(), s)
		if err != nil {
			b.Fatal(err)
		}
		st, err := f.prop.Wait(ctx, id)
		if err != nil || st.Phase != multicluster.PhaseSucceeded {
			b.Fatalf("%v %+v", err, st)
		}
		total += time.Since(start)
		peak = max(peak, h.growth())
		js, err := json.Marshal(st)
		if err != nil {
			b.Fatal(err)
		}
		size = len(js)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/rollout")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(size), "status-bytes")
}
