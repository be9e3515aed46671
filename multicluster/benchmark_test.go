package multicluster_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// heapSampler records the peak of the live heap while it runs.
type heapSampler struct {
	stop     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	mu       sync.Mutex
	peak     uint64
	base     uint64
}

// sampleHeap samples the live heap every 2 ms until growth is called or
// tb ends.
func sampleHeap(tb testing.TB) *heapSampler {
	runtime.GC()
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	h.base = s[0].Value.Uint64()
	go func() {
		defer close(h.done)
		wait.Until(func() {
			metrics.Read(s)
			h.mu.Lock()
			h.peak = max(h.peak, s[0].Value.Uint64())
			h.mu.Unlock()
		}, 2*time.Millisecond, h.stop)
	}()
	tb.Cleanup(h.halt)
	return h
}

// halt stops the sampler and waits for it.
func (h *heapSampler) halt() {
	h.stopOnce.Do(func() { close(h.stop) })
	<-h.done
}

// growth stops the sampler and returns the peak growth of the heap over its start, in bytes.
func (h *heapSampler) growth() uint64 {
	h.halt()
	if h.peak < h.base {
		return 0
	}
	return h.peak - h.base
}

// BenchmarkPropagateInMemory measures the propagator's own cost: planning
// (selection, rendering, waves) and rollout bookkeeping for 1,000 in-memory
// clusters that become Available at once, per strategy. It reports the
// whole time, the peak heap growth, and both per cluster.
func BenchmarkPropagateInMemory(b *testing.B) {
	const n = 1000
	for _, s := range []multicluster.Strategy{
		{Type: multicluster.StrategyParallel},
		{Type: multicluster.StrategyCanary, Canary: multicluster.CanaryStrategy{FirstPercent: 5, StepPercent: 10}},
		{Type: multicluster.StrategySequential},
	} {
		b.Run(fmt.Sprintf("%s-%d", s.Type, n), func(b *testing.B) {
			f := newFleet(b, n, 10, memfleet.Config{}, multicluster.PropagatorConfig{})
			s.PollInterval = time.Millisecond
			ctx := context.Background()
			var total time.Duration
			var peak uint64
			for i := range b.N {
				h := sampleHeap(b)
				start := time.Now()
				p := pkg(fmt.Sprintf("v%d", i+1))
				if _, err := f.prop.Plan(ctx, p, all(), s); err != nil {
					b.Fatal(err)
				}
				id, err := f.prop.Propagate(ctx, p, all(), s)
				if err != nil {
					b.Fatal(err)
				}
				st, err := f.prop.Wait(ctx, id)
				if err != nil || st.Phase != multicluster.PhaseSucceeded {
					b.Fatalf("%v %s", err, st.Reason)
				}
				total += time.Since(start)
				peak = max(peak, h.growth())
			}
			sec := total.Seconds() / float64(b.N)
			b.ReportMetric(sec, "s/rollout")
			b.ReportMetric(sec/n*1e6, "µs/cluster")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(peak)/n/1024, "KiB/cluster")
		})
	}
}
