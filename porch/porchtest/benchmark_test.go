package porchtest

import (
	"context"
	"io"
	"sort"
	"testing"
	"time"
)

// firstStart is the duration of the first Start in this test process: it
// includes finding (or building) the binaries and the first exec of each
// server from disk.
var firstStart time.Duration

// BenchmarkStart measures how long the whole stack takes to start (until a
// client can use porch.kpt.dev) and how much memory its processes use.
// Run with -benchtime=3x: cold-s is the first start in the process, s/start
// the mean of all.
func BenchmarkStart(b *testing.B) {
	if testing.Short() {
		b.Skip("porchtest: skipped with -short: starts the local Porch stack")
	}
	ctx := context.Background()
	var total time.Duration
	var rss map[string]int64
	for range b.N {
		start := time.Now()
		env, err := Start(ctx, WithProgress(io.Discard))
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		if firstStart == 0 {
			firstStart = d
		}
		total += d
		if rss, err = env.MemoryUsage(); err != nil {
			b.Fatal(err)
		}
		if err := env.Stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(firstStart.Seconds(), "cold-s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/start")
	reportRSS(b, rss)
}

// reportRSS reports each process's resident memory and the sum, in MiB.
func reportRSS(b *testing.B, rss map[string]int64) {
	names := make([]string, 0, len(rss))
	var sum int64
	for n, v := range rss {
		names = append(names, n)
		sum += v
	}
	sort.Strings(names)
	for _, n := range names {
		b.ReportMetric(float64(rss[n])/(1<<20), n+"-MiB")
	}
	b.ReportMetric(float64(sum)/(1<<20), "total-MiB")
}
