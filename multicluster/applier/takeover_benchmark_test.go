package applier_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
)

// BenchmarkTakeover measures, on a real kube-apiserver, how long a standby
// replica takes to own a rollout after its owner dies, over 10 runs per
// iteration, with the short lease settings of the real tests (LeaseDuration
// 3 s, RenewDeadline 2 s, RetryPeriod 500 ms). Two ways to die:
//   - "crash": the owner is cut off from the API server and stops, so it
//     can neither renew nor release its Lease; the standby waits for the
//     Lease to expire: LeaseDuration after it last saw it renewed, plus up
//     to a jittered RetryPeriod.
//   - "release": the owner stops and gives its Lease up (Propagator.Close,
//     or release); the standby takes over at its next try, within a
//     jittered RetryPeriod.
//
// "lease" measures two LeaseOwnerships alone; "replicas" two Propagators
// propagating the same package to the cluster, whose owner dies while the
// rollout waits for the cluster (its pods cannot start). Each reports the
// median and the maximum take-over time in seconds, from the owner's death
// to the standby's Acquire returning.
func BenchmarkTakeover(b *testing.B) {
	rf := setupRealTB(b, 1)
	cfg := rf.env.Cluster(0).Config
	createNamespace(b, rf.clients[rf.env.Cluster(0).Name], "rollouts")
	if err := rf.env.Cluster(0).SetPodsReady(context.Background(), false); err != nil {
		b.Fatal(err)
	}
	f := &sharedFleet{realFleet: rf, names: []string{rf.env.Cluster(0).Name}, writes: &writeLog{}, owners: &ownerLog{}}
	const runs = 10
	for _, level := range []string{"lease", "replicas"} {
		for _, crash := range []bool{true, false} {
			name := level + "/" + map[bool]string{true: "crash", false: "release"}[crash]
			b.Run(name, func(b *testing.B) {
				var times []time.Duration
				for i := range b.N {
					for r := range runs {
						id := fmt.Sprintf("bench-%s-%s-%d-%d", level, map[bool]string{true: "crash", false: "release"}[crash], i, r)
						if level == "lease" {
							times = append(times, takeover(b, cfg, multicluster.ID(id), crash))
						} else {
							times = append(times, replicaTakeover(b, f, id, crash))
						}
					}
				}
				sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
				b.ReportMetric(times[len(times)/2].Seconds(), "takeover-median-s")
				b.ReportMetric(times[len(times)-1].Seconds(), "takeover-max-s")
				b.ReportMetric(realLeaseDuration.Seconds(), "lease-duration-s")
			})
		}
	}
}

// replicaTakeover starts two replicas propagating package pkg, waits
// until one owns the rollout and has delivered it, kills that one and
// returns how long the other took to own the rollout.
func replicaTakeover(b *testing.B, f *sharedFleet, pkg string, crash bool) time.Duration {
	b.Helper()
	ctx := context.Background()
	x, y := f.replica(b, pkg+"-x"), f.replica(b, pkg+"-y")
	s := sequential(multicluster.FailureHalt)
	id, err := x.prop.Propagate(ctx, app(pkg, "v1", false), multicluster.Selector{Names: f.names}, s)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := y.prop.Propagate(ctx, app(pkg, "v1", false), multicluster.Selector{Names: f.names}, s); err != nil {
		b.Fatal(err)
	}
	f.delivered(b, f.names[0], pkg, "v1")
	owners := f.owners.owners(id)
	if len(owners) != 1 {
		b.Fatalf("owners: %+v", owners)
	}
	owner, standby := x, y
	if owners[0].replica == y.name {
		owner, standby = y, x
	}
	// Let the standby see the Lease renewed, as a standby of a running
	// rollout would have.
	time.Sleep(2 * realRetryPeriod)
	owner.cut.Store(crash)
	died := time.Now()
	owner.close(b)
	eventually.True(b, time.Minute, func() (bool, string) {
		return len(f.owners.owners(id)) == 2, fmt.Sprintf("owners %+v", f.owners.owners(id))
	})
	standby.close(b)
	next := f.owners.owners(id)[1]
	if next.replica != standby.name {
		b.Fatalf("%s owns %s after %s died", next.replica, id, owner.name)
	}
	return next.at.Sub(died)
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
