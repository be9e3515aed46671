package multicluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors of per-cluster suspension.
var (
	// ErrClusterStarted: Suspend of a cluster the rollout has already
	// started (or finished) delivering to.
	ErrClusterStarted = errors.New("cluster already started in this rollout")
	// ErrNotSuspended: Unsuspend of a cluster that is not suspended.
	ErrNotSuspended = errors.New("cluster is not suspended")
)

// Suspend holds clusters of a running rollout, as Karmada's
// suspension.dispatchingOnClusters does: a suspended cluster is not
// delivered to when its wave comes (it is ClusterSuspended, which is not a
// failure), later waves go on, and the rollout does not finish while a
// cluster is held: after its last wave it stays Running, its reason
// counting the suspended clusters, until Unsuspend (the clusters are then
// delivered to) or Abort (they are then Skipped). Only clusters that have
// not started can be suspended (ErrClusterStarted), those of the wave
// under way included until their delivery starts; suspending a suspended
// cluster does nothing. Either every
// cluster is suspended or, on an error, none is.
func (p *Propagator) Suspend(_ context.Context, id ID, clusters ...string) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	return r.suspend(clusters, true)
}

// Unsuspend releases clusters Suspend (or Strategy.Suspended) held: those
// whose wave has not come yet are delivered with it, the others at the end
// of the wave under way. A cluster that is not suspended is refused
// (ErrNotSuspended), and then none is released.
func (p *Propagator) Unsuspend(_ context.Context, id ID, clusters ...string) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	return r.suspend(clusters, false)
}

func (r *rollout) suspend(clusters []string, hold bool) error {
	r.mu.Lock()
	if r.phase.finished() {
		phase := r.phase
		r.mu.Unlock()
		return fmt.Errorf("%w: %s is %s", ErrRolloutFinished, r.id, phase)
	}
	for _, name := range clusters {
		run, ok := r.clusters[name]
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("%w in rollout %s", ErrUnknownCluster, r.id)
		case hold && run.state != ClusterPending && run.state != ClusterSuspended:
			err = fmt.Errorf("%w: it is %s", ErrClusterStarted, run.state)
		case hold && run.state == ClusterPending && run.claimed:
			err = fmt.Errorf("%w: its delivery is starting", ErrClusterStarted)
		case !hold && run.state != ClusterSuspended:
			err = fmt.Errorf("%w: it is %s", ErrNotSuspended, run.state)
		}
		if err != nil {
			r.mu.Unlock()
			return &ClusterError{Cluster: name, Err: err}
		}
	}
	var events []Event
	for _, name := range clusters {
		run := r.clusters[name]
		if hold && run.state == ClusterPending {
			r.setLocked(name, run, ClusterSuspended, "suspended")
			events = append(events, Event{Type: EventClusterSuspended, Cluster: name, Wave: run.wave, State: ClusterSuspended, Message: "suspended"})
		}
		if !hold && run.state == ClusterSuspended {
			r.setLocked(name, run, ClusterPending, "unsuspended")
			r.k.released = append(r.k.released, name)
			events = append(events, Event{Type: EventClusterUnsuspended, Cluster: name, Wave: run.wave, State: ClusterPending, Message: "unsuspended"})
		}
	}
	// Published before the rollout can go on, so that no later event comes
	// first.
	for _, e := range events {
		r.emitWave(e)
	}
	if !hold && len(events) > 0 {
		close(r.k.unsuspended)
		r.k.unsuspended = make(chan struct{})
	}
	r.mu.Unlock()
	if len(events) > 0 {
		r.save()
	}
	return nil
}

// catchUp delivers the clusters unsuspended whose wave (up to wi) ran
// while they were held, and gates on them as on their wave.
func (r *rollout) catchUp(ctx context.Context, wi int) (bool, string) {
	r.mu.Lock()
	waves := map[int]bool{}
	var later []string
	for _, name := range r.k.released {
		run := r.clusters[name]
		switch {
		case run.state != ClusterPending:
		case run.wave <= wi:
			waves[run.wave] = true
		default:
			later = append(later, name)
		}
	}
	r.k.released = later
	r.mu.Unlock()
	order := make([]int, 0, len(waves))
	for w := range waves {
		order = append(order, w)
	}
	sort.Ints(order)
	for _, w := range order {
		ok, reason := r.runWave(ctx, w)
		if !ok {
			return false, reason
		}
	}
	return true, ""
}

// hold keeps the last wave from passing while clusters are suspended,
// delivering the ones unsuspended meanwhile.
func (r *rollout) hold(ctx context.Context, wi int) (bool, string) {
	reason := ""
	defer func() {
		if reason != "" {
			r.clearReason(reason)
		}
	}()
	for {
		if ok, why := r.catchUp(ctx, wi); !ok {
			return false, why
		}
		r.mu.Lock()
		n, ch := r.counts[ClusterSuspended], r.k.unsuspended
		var names []string
		if n > 0 {
			for name, run := range r.clusters {
				if run.state == ClusterSuspended {
					names = append(names, name)
				}
			}
		}
		r.mu.Unlock()
		if n == 0 {
			return true, ""
		}
		sort.Strings(names)
		shown := names[:min(len(names), 5)]
		more := ""
		if len(names) > len(shown) {
			more = ", ..."
		}
		reason = fmt.Sprintf("%s suspended (%s%s): the rollout finishes once %s unsuspended, or ends when aborted",
			count(n, "cluster", "clusters"), strings.Join(shown, ", "), more, number(n, "it is", "they are"))
		r.setReason(reason)
		select {
		case <-ch:
		case <-ctx.Done():
			return false, "stopped"
		}
	}
}
