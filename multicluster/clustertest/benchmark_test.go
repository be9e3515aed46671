package clustertest

import (
	"context"
	"io"
	"sort"
	"strings"
	"testing"
	"time"
)

// firstStart is the duration of the first cluster start in this process.
var firstStart time.Duration

// BenchmarkStartCluster measures the start of one workload cluster (shared
// etcd included) until its fake node is Ready, and the memory of its
// processes. Run with -benchtime=3x: cold-s is the first start in the
// process, s/start the mean of all.
func BenchmarkStartCluster(b *testing.B) {
	if testing.Short() {
		b.Skip("clustertest: skipped with -short: starts a workload cluster")
	}
	ctx := context.Background()
	var total time.Duration
	var rss map[string]int64
	for range b.N {
		start := time.Now()
		f, err := StartFleet(ctx, 1, WithProgress(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if firstStart == 0 {
			firstStart = d
		}
		total += d
		if rss, err = f.MemoryUsage(); err != nil {
			b.Fatal(err)
		}
		if err := f.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(firstStart.Seconds(), "cold-s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/start")
	names := make([]string, 0, len(rss))
	var cluster int64
	for n, v := range rss {
		names = append(names, n)
		if strings.HasPrefix(n, "cluster-0-") {
			cluster += v
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b.ReportMetric(float64(rss[n])/(1<<20), strings.TrimPrefix(n, "cluster-0-")+"-MiB")
	}
	b.ReportMetric(float64(cluster)/(1<<20), "cluster-MiB")
}
