package applier_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
)

// sharedFleet is four real workload clusters, cluster 0's API server doubling
// as the management cluster that keeps the rollouts' records and Leases,
// and the replicas of an operator that propagate to them.
type sharedFleet struct {
	*realFleet
	names  []string
	writes *writeLog
	owners *ownerLog
}

// replica is one operator replica: a Propagator with its own management
// client (which the test can cut off), StateStore and LeaseOwnership.
type replica struct {
	name string
	prop *multicluster.Propagator
	cut  *atomic.Bool
}

func (f *sharedFleet) replica(t testing.TB, name string) *replica {
	t.Helper()
	mgmt, cut := cuttableClient(t, f.env.Cluster(0).Config)
	own := &recordedOwnership{Ownership: leaseOwnership(t, mgmt, "rollouts", name), replica: name, log: f.owners}
	prop := multicluster.NewPropagator(f.manager, &loggedBackend{Backend: f.backend, replica: name, log: f.writes},
		multicluster.PropagatorConfig{Store: multicluster.NewConfigMapStore(mgmt, "rollouts"), Ownership: own,
			SaveInterval: 200 * time.Millisecond, SaveTimeout: 2 * time.Second})
	r := &replica{name: name, prop: prop, cut: cut}
	t.Cleanup(func() { r.close(t) })
	return r
}

// close closes the replica's Propagator, failing the test if that takes
// longer than a minute.
func (r *replica) close(t testing.TB) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.prop.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("closing %s: %v", r.name, err)
		}
	case <-time.After(time.Minute):
		t.Errorf("closing %s took over a minute", r.name)
	}
}

// sequential is a Sequential strategy whose deadline outlasts the stalls
// the tests cause on purpose.
func sequential(onFailure multicluster.FailurePolicy) multicluster.Strategy {
	return multicluster.Strategy{Type: multicluster.StrategySequential, OnFailure: onFailure,
		PollInterval: 200 * time.Millisecond, ProgressDeadline: 3 * time.Minute}
}

func parallel() multicluster.Strategy {
	return multicluster.Strategy{Type: multicluster.StrategyParallel, PollInterval: 200 * time.Millisecond, ProgressDeadline: 2 * time.Minute}
}

// delivered waits until some replica has delivered a revision of pkg
// starting with rev to cluster.
func (f *sharedFleet) delivered(t testing.TB, cluster, pkg, rev string) {
	t.Helper()
	eventually.True(t, 2*time.Minute, func() (bool, string) {
		for _, w := range f.writes.all() {
			if w.cluster == cluster && w.op == "deliver" && strings.HasPrefix(w.revision, pkg+"/"+rev) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no delivery of %s %s to %s yet", pkg, rev, cluster)
	})
}

func waitFor(t *testing.T, p *multicluster.Propagator, id multicluster.ID) *multicluster.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	st, err := p.Wait(ctx, id)
	if err != nil {
		t.Fatalf("waiting for %s: %v", id, err)
	}
	return st
}

// noneProgressing fails when a cluster of rollout id is left Progressing
// (or Pending) in the status the replica reports.
func noneProgressing(t *testing.T, p *multicluster.Propagator, id multicluster.ID, names []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range names {
		cs, err := p.ClusterStatus(ctx, id, n)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if cs.State == multicluster.ClusterProgressing || cs.State == multicluster.ClusterPending {
			t.Fatalf("%s left %s after the rollout ended: %+v", n, cs.State, cs)
		}
	}
}

// TestRealReplicas proves, on four real workload clusters with the direct
// applier and a management cluster keeping the records (ConfigMapStore)
// and owners (LeaseOwnership), that rollouts are safe to run from several
// replicas and to repeat: a standby takes a dead owner's rollout over and
// no cluster is ever written by two replicas at once; a newer revision
// supersedes a rollout mid-way without a rollback; the same inputs give
// the same rollout and no second delivery; an abort leaves no cluster
// Progressing and rolls the touched ones back.
func TestRealReplicas(t *testing.T) {
	rf := setupReal(t, 4)
	f := &sharedFleet{realFleet: rf, writes: &writeLog{}, owners: &ownerLog{}}
	for _, c := range rf.env.ClusterList() {
		f.names = append(f.names, c.Name)
	}
	createNamespace(t, rf.clients[f.names[0]], "rollouts")
	all := multicluster.Selector{Names: f.names}
	ctx := context.Background()
	stall := func(t *testing.T, i int) func() {
		t.Helper()
		c := rf.env.Cluster(i)
		if err := c.SetPodsReady(ctx, false); err != nil {
			t.Fatal(err)
		}
		var once atomic.Bool
		resume := func() {
			if once.CompareAndSwap(false, true) {
				if err := c.SetPodsReady(ctx, true); err != nil {
					t.Error(err)
				}
			}
		}
		t.Cleanup(resume)
		return resume
	}

	t.Run("replicas racing for one Lease own it one at a time", func(t *testing.T) {
		const racers, turns = 5, 12
		mgmt := rf.env.Cluster(0).Config
		type turn struct {
			racer      int
			start, end time.Time
		}
		turnsCh := make(chan turn, turns+racers)
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		var taken atomic.Int32
		done := make(chan struct{})
		var running atomic.Int32
		running.Store(racers)
		for i := range racers {
			cs, _ := cuttableClient(t, mgmt)
			o := leaseOwnership(t, cs, "rollouts", fmt.Sprintf("racer-%d", i))
			go func() {
				defer func() {
					if running.Add(-1) == 0 {
						close(done)
					}
				}()
				for taken.Load() < turns {
					owned, release, err := o.Acquire(ctx, "race")
					if err != nil {
						return
					}
					start := time.Now()
					select {
					case <-owned.Done():
					case <-time.After(200 * time.Millisecond):
					}
					end := time.Now()
					taken.Add(1)
					turnsCh <- turn{i, start, end}
					release()
				}
			}()
		}
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatalf("the racers did not take %d turns in time: %d", turns, taken.Load())
		}
		close(turnsCh)
		var all []turn
		for tn := range turnsCh {
			all = append(all, tn)
		}
		sort.Slice(all, func(i, j int) bool { return all[i].start.Before(all[j].start) })
		holders := map[int]bool{}
		for i, tn := range all {
			holders[tn.racer] = true
			if i > 0 && tn.start.Before(all[i-1].end) {
				t.Fatalf("racer %d owned the Lease from %s while racer %d held it until %s", tn.racer,
					tn.start.Format(time.StampMicro), all[i-1].racer, all[i-1].end.Format(time.StampMicro))
			}
		}
		if len(all) < turns || len(holders) < 2 {
			t.Fatalf("%d turns by %d racers", len(all), len(holders))
		}
	})

	// The owner dies mid-wave, either crashed (cut off from the
	// management cluster, so it can neither renew nor release its Lease,
	// nor save) or stopped (Close: it gives its Lease up on the way out).
	for _, crash := range []bool{true, false} {
		pkgName := map[bool]string{true: "crashed", false: "stopped"}[crash]
		t.Run("the owner is "+pkgName+" mid-wave and the standby finishes", func(t *testing.T) {
			a, b := f.replica(t, pkgName+"-a"), f.replica(t, pkgName+"-b")
			resume := stall(t, 2)
			pkg := app(pkgName, "v1", false)
			idA, err := a.prop.Propagate(ctx, pkg, all, sequential(multicluster.FailureHalt))
			if err != nil {
				t.Fatal(err)
			}
			idB, err := b.prop.Propagate(ctx, app(pkgName, "v1", false), all, sequential(multicluster.FailureHalt))
			if err != nil {
				t.Fatal(err)
			}
			if idA != idB {
				t.Fatalf("the replicas computed different rollout IDs for the same inputs: %s and %s", idA, idB)
			}
			id := idA
			// The rollout stalls on cluster 2 (its pods cannot start): the
			// owner is mid-wave there.
			f.delivered(t, f.names[2], pkgName, "v1")
			owners := f.owners.owners(id)
			if len(owners) != 1 {
				t.Fatalf("owners before the kill: %+v", owners)
			}
			owner, standby := a, b
			if owners[0].replica == b.name {
				owner, standby = b, a
			}
			owner.cut.Store(crash)
			died := time.Now()
			owner.close(t)
			stopped := time.Now()
			resume()

			st := waitFor(t, standby.prop, id)
			if st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 4 {
				t.Fatalf("after the take-over: %s %v: %s", st.Phase, st.Counts, st.Reason)
			}
			owners = f.owners.owners(id)
			if len(owners) != 2 || owners[1].replica != standby.name {
				t.Fatalf("owners: %+v", owners)
			}
			// A crashed owner's Lease is taken over once it has expired:
			// LeaseDuration after the standby last saw it renewed, at its
			// next try (a RetryPeriod with up to 20% jitter); a stopped
			// owner gives it up, and the standby takes it at its next try.
			// 10 s more cover a loaded machine. The owner renewed within
			// RenewDeadline before it died, so a crashed owner's Lease
			// cannot be taken over sooner than the difference.
			bound := 2*realRetryPeriod + 10*time.Second
			if crash {
				bound += realLeaseDuration
			}
			took := owners[1].at.Sub(died)
			if took > bound {
				t.Fatalf("take-over %v after the owner died, more than %v", took, bound)
			}
			if crash && took < realLeaseDuration-realRenewDeadline {
				t.Fatalf("take-over %v after the owner died, before its Lease could expire", took)
			}
			t.Logf("%s took %s over %v after %s died", standby.name, id, took.Round(time.Millisecond), owner.name)
			if o := f.writes.overlaps(); len(o) > 0 {
				t.Fatalf("clusters written by two replicas at once:\n%s", strings.Join(o, "\n"))
			}
			for _, w := range f.writes.all() {
				switch {
				case w.replica == owner.name && w.end.After(stopped):
					t.Fatalf("the dead owner wrote after it stopped: %+v", w)
				case w.replica == standby.name && w.start.Before(owners[1].at):
					t.Fatalf("the standby wrote before it owned the rollout: %+v", w)
				}
			}
			if n := f.writes.count("deliver", pkgName, ""); n < 4 {
				t.Fatalf("%d deliveries for 4 clusters", n)
			}
			for _, n := range f.names {
				rf.runs(t, n, pkgName, "registry.example.com/"+pkgName+":v1")
			}
		})
	}

	// v2 is propagated first on the replica that runs v1, or first on the
	// other one, which then owns v2 while v1 runs elsewhere.
	for _, there := range []bool{false, true} {
		pkgName := map[bool]string{false: "super-here", true: "super-there"}[there]
		t.Run("a newer revision supersedes a rollout mid-way without rolling it back: "+pkgName, func(t *testing.T) {
			a, b := f.replica(t, pkgName+"-a"), f.replica(t, pkgName+"-b")
			if st := waitFor(t, a.prop, must(t)(a.prop.Propagate(ctx, app(pkgName, "v0", false), all, parallel()))); st.Phase != multicluster.PhaseSucceeded {
				t.Fatalf("v0: %s %s", st.Phase, st.Reason)
			}
			resume := stall(t, 2)
			v1, err := a.prop.Propagate(ctx, app(pkgName, "v1", false), all, sequential(multicluster.FailureRollback))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.prop.Propagate(ctx, app(pkgName, "v1", false), all, sequential(multicluster.FailureRollback)); err != nil {
				t.Fatal(err)
			}
			f.delivered(t, f.names[2], pkgName, "v1")
			owner, other := a, b
			if o := f.owners.owners(v1); len(o) != 1 {
				t.Fatalf("v1 owners %+v", o)
			} else if o[0].replica == b.name {
				owner, other = b, a
			}
			first, second := owner, other
			if there {
				first, second = other, owner
			}
			superseding := time.Now()
			v2, err := first.prop.Propagate(ctx, app(pkgName, "v2", false), all, parallel())
			if err != nil {
				t.Fatal(err)
			}
			eventually.True(t, time.Minute, func() (bool, string) {
				o := f.owners.owners(v2)
				return len(o) == 1, fmt.Sprintf("v2 owners %+v", o)
			})
			if v2b, err := second.prop.Propagate(ctx, app(pkgName, "v2", false), all, parallel()); err != nil || v2b != v2 {
				t.Fatalf("v2 on the other replica: %s, %v", v2b, err)
			}
			resume()
			st1 := waitFor(t, owner.prop, v1)
			if st1.Phase != multicluster.PhaseSuperseded || st1.SupersededBy != v2 {
				t.Fatalf("v1 ended %s (superseded by %q): %s", st1.Phase, st1.SupersededBy, st1.Reason)
			}
			if st2 := waitFor(t, other.prop, v2); st2.Phase != multicluster.PhaseSucceeded || st2.Counts[multicluster.ClusterSucceeded] != 4 {
				t.Fatalf("v2: %s %v: %s", st2.Phase, st2.Counts, st2.Reason)
			}
			t.Logf("v1 owned by %v, v2 by %v", ownerNames(f.owners.owners(v1)), ownerNames(f.owners.owners(v2)))
			for _, w := range f.writes.all() {
				if !strings.HasPrefix(w.revision, pkgName+"/") || w.start.Before(superseding) {
					continue
				}
				if w.op == "remove" || !strings.HasPrefix(w.revision, pkgName+"/v2-") {
					t.Fatalf("after v2 started, %s wrote %s %s to %s: v1 went on or rolled back", w.replica, w.op, w.revision, w.cluster)
				}
			}
			if o := f.writes.overlaps(); len(o) > 0 {
				t.Fatalf("clusters written by two replicas at once:\n%s", strings.Join(o, "\n"))
			}
			for _, n := range f.names {
				rf.runs(t, n, pkgName, "registry.example.com/"+pkgName+":v2")
			}
		})
	}

	t.Run("the same inputs give the same rollout and no second delivery", func(t *testing.T) {
		a, b := f.replica(t, "idem-a"), f.replica(t, "idem-b")
		pkg := func() *multicluster.Package { return app("idem", "v1", false) }
		id, err := a.prop.Propagate(ctx, pkg(), all, parallel())
		if err != nil {
			t.Fatal(err)
		}
		if idB, err := b.prop.Propagate(ctx, pkg(), all, parallel()); err != nil || idB != id {
			t.Fatalf("the other replica: %s, %v; want %s", idB, err, id)
		}
		if st := waitFor(t, a.prop, id); st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("%s: %s", st.Phase, st.Reason)
		}
		perCluster := func() map[string]int {
			m := map[string]int{}
			for _, w := range f.writes.all() {
				if w.op == "deliver" && strings.HasPrefix(w.revision, "idem/") {
					m[w.cluster]++
				}
			}
			return m
		}
		for _, n := range f.names {
			if got := perCluster()[n]; got != 1 {
				t.Fatalf("%s delivered %d times: %v", n, got, perCluster())
			}
		}
		// A reconcile loop calls again, on both replicas and on a new one
		// (a restarted pod): the same rollout comes back, finished.
		c := f.replica(t, "idem-c")
		for _, r := range []*replica{a, b, c} {
			again, err := r.prop.Propagate(ctx, pkg(), all, parallel())
			if err != nil || again != id {
				t.Fatalf("%s: %s, %v; want %s", r.name, again, err, id)
			}
			if st := waitFor(t, r.prop, again); st.Phase != multicluster.PhaseSucceeded {
				t.Fatalf("%s: %s: %s", r.name, st.Phase, st.Reason)
			}
		}
		// A new attempt at the same content: every cluster already runs
		// it, so the rollout succeeds without a delivery.
		fresh, err := c.prop.Propagate(ctx, pkg(), all, parallel(), multicluster.Attempt("reconcile-2"))
		if err != nil || fresh == id {
			t.Fatalf("new attempt: %s, %v", fresh, err)
		}
		if st := waitFor(t, c.prop, fresh); st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 4 {
			t.Fatalf("new attempt: %s %v: %s", st.Phase, st.Counts, st.Reason)
		}
		for _, n := range f.names {
			if got := perCluster()[n]; got != 1 {
				t.Fatalf("after the repeats, %s was delivered %d times: %v", n, got, perCluster())
			}
		}
	})

	// abortMidRollout runs pkg v1 everywhere, then v2 sequentially with
	// policy, and aborts it while cluster 2 waits Progressing; it returns
	// the replica, the aborted rollout and its final status.
	abortMidRollout := func(t *testing.T, pkg string, policy multicluster.FailurePolicy) (*replica, multicluster.ID, *multicluster.Status) {
		a := f.replica(t, pkg+"-a")
		if st := waitFor(t, a.prop, must(t)(a.prop.Propagate(ctx, app(pkg, "v1", false), all, parallel()))); st.Phase != multicluster.PhaseSucceeded {
			t.Fatalf("v1: %s %s", st.Phase, st.Reason)
		}
		resume := stall(t, 2)
		id, err := a.prop.Propagate(ctx, app(pkg, "v2", false), all, sequential(policy))
		if err != nil {
			t.Fatal(err)
		}
		f.delivered(t, f.names[2], pkg, "v2")
		abortCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := a.prop.Abort(abortCtx, id); err != nil {
			t.Fatal(err)
		}
		resume()
		st := waitFor(t, a.prop, id)
		if st.Phase != multicluster.PhaseAborted || st.Counts[multicluster.ClusterProgressing] != 0 {
			t.Fatalf("after abort: %s %v: %s", st.Phase, st.Counts, st.Reason)
		}
		noneProgressing(t, a.prop, id, f.names)
		return a, id, st
	}

	t.Run("abort mid-rollout rolls the touched clusters back and leaves none Progressing", func(t *testing.T) {
		a, id, _ := abortMidRollout(t, "abort", multicluster.FailureRollback)
		if cs, err := a.prop.ClusterStatus(ctx, id, f.names[2]); err != nil || cs.State != multicluster.ClusterRolledBack {
			t.Fatalf("the cluster caught mid-delivery: %+v %v", cs, err)
		}
		// Every cluster runs v1 again: those v2 reached were rolled back,
		// the others never left it.
		for _, n := range f.names {
			rf.runs(t, n, "abort", "registry.example.com/abort:v1")
		}
	})

	t.Run("abort mid-rollout without rollback stops the cluster it caught and leaves none Progressing", func(t *testing.T) {
		a, id, _ := abortMidRollout(t, "halt", multicluster.FailureHalt)
		if cs, err := a.prop.ClusterStatus(ctx, id, f.names[2]); err != nil || cs.State != multicluster.ClusterStopped {
			t.Fatalf("the cluster caught mid-delivery: %+v %v", cs, err)
		}
		// Without rollback, what succeeded stays, what was not reached
		// keeps v1.
		for _, n := range f.names {
			cs, err := a.prop.ClusterStatus(ctx, id, n)
			if err != nil {
				t.Fatal(err)
			}
			switch cs.State {
			case multicluster.ClusterSucceeded:
				rf.runs(t, n, "halt", "registry.example.com/halt:v2")
			case multicluster.ClusterSkipped:
				rf.runs(t, n, "halt", "registry.example.com/halt:v1")
			case multicluster.ClusterStopped:
			default:
				t.Fatalf("%s ended %s: %+v", n, cs.State, cs)
			}
		}
	})
}

// must returns a rollout ID or fails the test, for one-line Propagate
// calls whose error is not the point.
func must(t *testing.T) func(multicluster.ID, error) multicluster.ID {
	return func(id multicluster.ID, err error) multicluster.ID {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
}

// ownerNames lists the replicas that owned a rollout, in order.
func ownerNames(owners []acquiredBy) []string {
	var out []string
	for _, o := range owners {
		out = append(out, o.replica)
	}
	return out
}
