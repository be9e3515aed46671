package multicluster_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nephoran/porchkit/internal/eventually"
	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/multicluster/memfleet"
)

// memOwnership is an in-memory Ownership shared by several replicas: one
// holder per rollout; revoke ends the holder's owned context and bars it
// from owning again (as when a replica dies), and the next replica gets
// the rollout only once the holder has released it (as a Lease's next
// holder waits out the lease).
type memOwnership struct {
	mu      sync.Mutex
	holders map[multicluster.ID]*holding
	barred  map[string]bool
}

type holding struct {
	who      string
	cancel   context.CancelFunc
	released chan struct{}
}

func newMemOwnership() *memOwnership {
	return &memOwnership{holders: map[multicluster.ID]*holding{}, barred: map[string]bool{}}
}

// replica is one replica's view of the ownership.
func (o *memOwnership) replica(who string) multicluster.Ownership { return memOwner{o: o, who: who} }

// holder returns who owns id ("" for nobody).
func (o *memOwnership) holder(id multicluster.ID) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if h := o.holders[id]; h != nil {
		return h.who
	}
	return ""
}

// revoke ends the holder's ownership of id and returns who it was.
func (o *memOwnership) revoke(id multicluster.ID) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	h := o.holders[id]
	if h == nil {
		return ""
	}
	o.barred[h.who] = true
	h.cancel()
	return h.who
}

type memOwner struct {
	o   *memOwnership
	who string
}

func (m memOwner) Acquire(ctx context.Context, id multicluster.ID) (context.Context, func(), error) {
	for {
		m.o.mu.Lock()
		h := m.o.holders[id]
		if m.o.barred[m.who] {
			m.o.mu.Unlock()
			<-ctx.Done()
			return nil, nil, ctx.Err()
		}
		if h == nil {
			owned, cancel := context.WithCancel(ctx)
			h = &holding{who: m.who, cancel: cancel, released: make(chan struct{})}
			m.o.holders[id] = h
			m.o.mu.Unlock()
			release := sync.OnceFunc(func() {
				cancel()
				m.o.mu.Lock()
				if m.o.holders[id] == h {
					delete(m.o.holders, id)
				}
				m.o.mu.Unlock()
				close(h.released)
			})
			return owned, release, nil
		}
		wait := h.released
		m.o.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// deliveryLog records every Deliver call: who made it, to which cluster,
// from when to when.
type deliveryLog struct {
	mu    sync.Mutex
	calls map[string][]delivery
}

type delivery struct {
	who        string
	start, end time.Time
}

// loggedBackend is a Backend whose deliveries go to a deliveryLog.
type loggedBackend struct {
	multicluster.Backend
	who string
	log *deliveryLog
}

func (b loggedBackend) Deliver(ctx context.Context, c *multicluster.Cluster, rev *multicluster.Revision) error {
	start := time.Now()
	err := b.Backend.Deliver(ctx, c, rev)
	b.log.mu.Lock()
	defer b.log.mu.Unlock()
	b.log.calls[c.Name] = append(b.log.calls[c.Name], delivery{who: b.who, start: start, end: time.Now()})
	return err
}

// overlaps returns the clusters two replicas delivered to at overlapping
// times, and how many deliveries each replica made.
func (l *deliveryLog) overlaps() (bad []string, by map[string]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	by = map[string]int{}
	for name, calls := range l.calls {
		for i, a := range calls {
			by[a.who]++
			for _, b := range calls[i+1:] {
				if a.who != b.who && a.start.Before(b.end) && b.start.Before(a.end) {
					bad = append(bad, fmt.Sprintf("%s: %s %s-%s and %s %s-%s", name, a.who, a.start.Format(time.StampMicro),
						a.end.Format(time.StampMicro), b.who, b.start.Format(time.StampMicro), b.end.Format(time.StampMicro)))
				}
			}
		}
	}
	sort.Strings(bad)
	return bad, by
}

// replicas are two Propagators over one fleet, one store and one
// ownership, each delivering through its own logged backend.
type replicas struct {
	*fleet
	store *multicluster.MemoryStore
	own   *memOwnership
	log   *deliveryLog
	a, b  *multicluster.Propagator
}

func newReplicas(t *testing.T, n int, memCfg memfleet.Config) *replicas {
	f := newFleet(t, n, 1, memCfg, multicluster.PropagatorConfig{})
	r := &replicas{fleet: f, store: multicluster.NewMemoryStore(), own: newMemOwnership(), log: &deliveryLog{calls: map[string][]delivery{}}}
	mk := func(who string) *multicluster.Propagator {
		p := multicluster.NewPropagator(f.manager, loggedBackend{Backend: f.mem, who: who, log: r.log}, multicluster.PropagatorConfig{
			Store: r.store, Ownership: r.own.replica(who), SaveInterval: 10 * time.Millisecond})
		t.Cleanup(func() { _ = p.Close() })
		return p
	}
	r.a, r.b = mk("a"), mk("b")
	return r
}

// TestOwnershipHandOver: two replicas propagate the same inputs; the one
// that owns the rollout delivers, the other answers Status from the store;
// when the owner loses ownership mid-wave, the other takes the rollout over
// from its record and finishes it, and no cluster is ever delivered to by
// both at overlapping times.
func TestOwnershipHandOver(t *testing.T) {
	r := newReplicas(t, 12, memfleet.Config{Latency: 2 * time.Millisecond, ReadinessDelay: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := fast(multicluster.Strategy{Type: multicluster.StrategyParallel, MaxConcurrency: multicluster.Count(2), ProgressDeadline: 10 * time.Second})
	id, err := r.a.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		return r.own.holder(id) == "a", "owned by " + r.own.holder(id)
	})
	idB, err := r.b.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil || idB != id {
		t.Fatalf("the other replica computed %q (%v), want the same rollout %q", idB, err, id)
	}
	// The replica that does not own the rollout follows it in the store.
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, err := r.b.Status(ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return st.Phase == multicluster.PhaseRunning && st.Counts[multicluster.ClusterSucceeded] >= 3, fmt.Sprintf("%s %v", st.Phase, st.Counts)
	})
	if who := r.own.revoke(id); who != "a" {
		t.Fatalf("revoked %q's ownership, want a's", who)
	}
	st, err := r.b.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 12 {
		t.Fatalf("after the hand-over: %+v %v", st, err)
	}
	// The first owner follows the rollout to its end through the store.
	stA, err := r.a.Wait(ctx, id)
	if err != nil || stA.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("the first owner's Wait: %+v %v", stA, err)
	}
	bad, by := r.log.overlaps()
	if len(bad) > 0 {
		t.Fatalf("clusters delivered to by both replicas at once: %v", bad)
	}
	if by["a"] == 0 || by["b"] == 0 {
		t.Fatalf("deliveries by replica %v: both must have delivered", by)
	}
	// The new owner continues from the record (saved every 10 ms; the
	// clusters the first owner finished since are delivered again, which
	// is idempotent), not from the start.
	if by["b"] > 12-3 { // the store showed 3 Succeeded before the revoke
		t.Fatalf("deliveries by replica %v: the new owner started over", by)
	}
	r.log.mu.Lock()
	for name, calls := range r.log.calls {
		if len(calls) > 2 {
			t.Errorf("%s delivered to %d times", name, len(calls))
		}
	}
	r.log.mu.Unlock()
	for name, rev := range r.running() {
		if rev == "" {
			t.Errorf("%s runs nothing", name)
		}
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		return r.own.holder(id) == "", "still owned by " + r.own.holder(id)
	})
	// The replica that lost ownership never writes over its successor.
	time.Sleep(50 * time.Millisecond)
	rec, err := r.store.Load(ctx, id)
	if err != nil || rec.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("stored record: %+v %v", rec, err)
	}
	// A finished rollout is returned as it is, by either replica, without
	// anyone taking ownership again.
	for _, p := range []*multicluster.Propagator{r.a, r.b} {
		again, err := p.Propagate(ctx, pkg("v1"), all(), s)
		if err != nil || again != id {
			t.Fatalf("propagating again: %q %v, want %q", again, err, id)
		}
	}
	if who := r.own.holder(id); who != "" {
		t.Fatalf("%s took a finished rollout's ownership", who)
	}
}

// TestOwnershipCloseStopsWithoutAFinalPhase: an owner that closes stops
// its deliveries and gives ownership up without finishing the rollout in
// its record; the other replica finishes it.
func TestOwnershipCloseStopsWithoutAFinalPhase(t *testing.T) {
	r := newReplicas(t, 6, memfleet.Config{ReadinessDelay: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := fast(multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: 10 * time.Second})
	id, err := r.a.Propagate(ctx, pkg("v1"), all(), s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.b.Propagate(ctx, pkg("v1"), all(), s); err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		st, err := r.a.Status(ctx, id)
		if err != nil {
			return false, err.Error()
		}
		return r.own.holder(id) == "a" && st.Counts[multicluster.ClusterSucceeded] >= 2, fmt.Sprintf("owner %q, %s %v", r.own.holder(id), st.Phase, st.Counts)
	})
	if err := r.a.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, err := r.store.Load(ctx, id); err != nil || rec.Phase != multicluster.PhaseRunning {
		t.Fatalf("record after the owner closed: %+v %v", rec, err)
	}
	st, err := r.b.Wait(ctx, id)
	if err != nil || st.Phase != multicluster.PhaseSucceeded || st.Counts[multicluster.ClusterSucceeded] != 6 {
		t.Fatalf("after the take-over: %+v %v", st, err)
	}
	if bad, _ := r.log.overlaps(); len(bad) > 0 {
		t.Fatalf("clusters delivered to by both replicas at once: %v", bad)
	}
}

// TestSupersedeAcrossReplicas: a newer rollout of the package owned by
// one replica supersedes an older one another replica runs, through the
// store: the older stops without rolling back and ends Superseded, the
// newer waits for it, takes its clusters' last-known-good revisions over,
// and no cluster is delivered to by both at once.
func TestSupersedeAcrossReplicas(t *testing.T) {
	r := newReplicas(t, 6, memfleet.Config{Latency: time.Millisecond, ReadinessDelay: 10 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v0, err := r.a.Propagate(ctx, pkg("v0"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel}))
	if err != nil {
		t.Fatal(err)
	}
	if st, err := r.a.Wait(ctx, v0); err != nil || st.Phase != multicluster.PhaseSucceeded {
		t.Fatalf("v0: %+v %v", st, err)
	}
	before := r.running()
	r.mem.SetNeverReady("c-0002", true) // v1 would wait here for an hour
	v1, err := r.a.Propagate(ctx, pkg("v1"), all(), fast(multicluster.Strategy{Type: multicluster.StrategySequential, ProgressDeadline: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	eventually.True(t, 10*time.Second, func() (bool, string) {
		got := r.mem.Running("c-0002", "web")
		return r.own.holder(v1) == "a" && got != before["c-0002"], "c-0002 runs " + got
	})
	v1Revs := r.running()
	r.mem.SetNeverReady("c-0002", false)
	r.mem.SetNeverReady("c-0004", true) // v2 fails here, and rolls back
	// Refused, the other replica names the rollout in the way.
	var ce *multicluster.ConflictError
	_, err = r.b.Propagate(ctx, pkg("v2"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel}), multicluster.ConflictRefuse)
	if !errors.As(err, &ce) || ce.Rollout != v1 || ce.Overlap != 6 {
		t.Fatalf("refused on replica b: %v, want a conflict with %s", err, v1)
	}
	v2, err := r.b.Propagate(ctx, pkg("v2"), all(), fast(multicluster.Strategy{Type: multicluster.StrategyParallel}))
	if err != nil {
		t.Fatal(err)
	}
	old, err := r.a.Wait(ctx, v1)
	if err != nil || old.Phase != multicluster.PhaseSuperseded || old.SupersededBy != v2 || old.Counts[multicluster.ClusterRolledBack] != 0 {
		t.Fatalf("v1 on replica a: %+v %v", old, err)
	}
	st, err := r.b.Wait(ctx, v2)
	if err != nil || st.Phase != multicluster.PhaseRolledBack {
		t.Fatalf("v2 on replica b: %+v %v", st, err)
	}
	if bad, _ := r.log.overlaps(); len(bad) > 0 {
		t.Fatalf("clusters delivered to by both replicas at once: %v", bad)
	}
	now := r.running()
	for _, name := range []string{"c-0000", "c-0001"} {
		if now[name] != v1Revs[name] {
			t.Errorf("%s runs %s, want v1's %s (Available before v2)", name, now[name], v1Revs[name])
		}
	}
	for _, name := range []string{"c-0002", "c-0003", "c-0004", "c-0005"} {
		if now[name] != before[name] {
			t.Errorf("%s runs %s, want v0's %s (what it ran before v1 touched it)", name, now[name], before[name])
		}
	}
}
