package applier_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/clusterenv"
)

// BenchmarkTakeover measures, on a real kube-apiserver, how long a standby
// replica takes to own a rollout after its owner dies, over 10 runs per
// iteration, with the short lease settings of the real tests (LeaseDuration
// 3 s, RenewDeadline 2 s, RetryPeriod 500 ms):
//   - "crash": the owner is cut off from the API server and stops, so it
//     can neither renew nor release its Lease; the standby waits for the
//     Lease to expire: LeaseDuration after it last saw it renewed, plus up
//     to a jittered RetryPeriod.
//   - "release": the owner stops and gives its Lease up (release, or the
//     Propagator's context ending); the standby takes over at its next try,
//     within a jittered RetryPeriod.
//
// It reports the median and the maximum take-over time in seconds, from
// the owner's death to the standby's Acquire returning.
func BenchmarkTakeover(b *testing.B) {
	env := clusterenv.Setup(b, &clusterenv.Environment{Clusters: 1})
	cfg := env.Cluster(0).Config
	admin, _ := cuttableClient(b, cfg)
	createNamespace(b, admin, "rollouts")
	const runs = 10
	for _, crash := range []bool{true, false} {
		name := map[bool]string{true: "crash", false: "release"}[crash]
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			for i := range b.N {
				for r := range runs {
					id := multicluster.ID(fmt.Sprintf("bench-%s-%d-%d", name, i, r))
					times = append(times, takeover(b, cfg, id, crash))
				}
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(times[len(times)/2].Seconds(), "takeover-median-s")
			b.ReportMetric(times[len(times)-1].Seconds(), "takeover-max-s")
			b.ReportMetric(realLeaseDuration.Seconds(), "lease-duration-s")
		})
	}
}

// takeover lets an owner acquire id's Lease, starts a standby, kills the
// owner and returns how long the standby took to own the rollout.
func takeover(b *testing.B, cfg *rest.Config, id multicluster.ID, crash bool) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ownerClient, cut := cuttableClient(b, cfg)
	standbyClient, _ := cuttableClient(b, cfg)
	owner := leaseOwnership(b, ownerClient, "rollouts", "owner")
	standby := leaseOwnership(b, standbyClient, "rollouts", "standby")
	ownerCtx, kill := context.WithCancel(ctx)
	defer kill()
	_, release, err := owner.Acquire(ownerCtx, id)
	if err != nil {
		b.Fatal(err)
	}
	type acquired struct {
		at  time.Time
		err error
	}
	got := make(chan acquired, 1)
	go func() {
		_, releaseStandby, err := standby.Acquire(ctx, id)
		at := time.Now()
		if err == nil {
			releaseStandby()
		}
		got <- acquired{at, err}
	}()
	// Let the standby see the Lease held and renewed once or twice, as a
	// standby of a running rollout would have.
	time.Sleep(2 * realRetryPeriod)
	died := time.Now()
	if crash {
		cut.Store(true)
	}
	kill()
	release()
	select {
	case a := <-got:
		if a.err != nil {
			b.Fatal(a.err)
		}
		return a.at.Sub(died)
	case <-ctx.Done():
		b.Fatalf("the standby did not take %s over", id)
		return 0
	}
}
