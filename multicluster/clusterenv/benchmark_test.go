package clusterenv

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/stacktest"
)

// firstStart is the first cluster start in this test process.
var firstStart time.Duration

// BenchmarkStartCluster measures the start of one workload cluster (its
// etcd included) until its fake node is Ready, and the memory of its
// processes (total-MiB includes etcd, which clusters share). Run with
// -benchtime=3x.
func BenchmarkStartCluster(b *testing.B) {
	if testing.Short() {
		b.Skip("clusterenv: skipped with -short: starts a workload cluster")
	}
	stacktest.BenchmarkStart(b, &firstStart, "cluster-0-", func(ctx context.Context) (stacktest.Stack, error) {
		env := &Environment{Clusters: 1, Progress: io.Discard}
		if err := env.Start(ctx); err != nil {
			return nil, err
		}
		return env, nil
	})
}
