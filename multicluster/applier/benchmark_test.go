package applier_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/nephoran/porchkit/multicluster"
)

// BenchmarkParallelRealClusters rolls a new revision of a package (a
// Deployment of two replicas, a Service, a ConfigMap) out to 10 real
// workload clusters with the Parallel strategy, and reports the time from
// Propagate until every cluster is Available: the mean, and the P95 over
// the iterations. The fleet starts once, outside the timing.
func BenchmarkParallelRealClusters(b *testing.B) {
	const n = 10
	rf := setupRealTB(b, n)
	ctx := context.Background()
	var times []time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		id, err := rf.prop.Propagate(ctx, app("bench", fmt.Sprintf("v%d", i+1), false), multicluster.Selector{},
			multicluster.Strategy{Type: multicluster.StrategyParallel, PollInterval: 100 * time.Millisecond, ProgressDeadline: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		st, err := rf.prop.Wait(ctx, id)
		if err != nil || st.Phase != multicluster.PhaseSucceeded {
			b.Fatalf("%v: %s %s", err, st.Phase, st.Reason)
		}
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	var sum time.Duration
	for _, t := range times {
		sum += t
	}
	b.ReportMetric(sum.Seconds()/float64(len(times)), "s-all-available")
	b.ReportMetric(times[(len(times)*95+99)/100-1].Seconds(), "p95-s")
	b.ReportMetric(n, "clusters")
}
