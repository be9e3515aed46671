package memfleet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/nephoran/porchkit/multicluster"
)

// Fleet is a fleet of in-memory clusters, for unit tests of rollout
// strategies at 1,000+ clusters in seconds: it is both the
// multicluster.Backend that delivers to them and the multicluster.Prober
// that checks them. A delivered revision becomes Available after the
// readiness delay unless the cluster is made to fail (SetNeverReady,
// SetFailed, FailRevision, Apply, or the failure rate), now or at a chosen
// moment (AfterDelivery, WhenDelivered); unreachable clusters answer every
// call with multicluster.ErrUnreachable. It is safe for concurrent use.
type Fleet struct {
	cfg Config

	mu        sync.Mutex
	rand      *rand.Rand
	clusters  map[string]*cluster
	scheduled []scheduled
}

// scheduled is a fault that strikes target when any trigger is delivered
// to.
type scheduled struct {
	triggers []string
	target   string
	fault    Fault
}

type cluster struct {
	current      map[string]*multicluster.Revision
	history      map[string]map[string]*multicluster.Revision
	deliveredAt  map[string]time.Time
	failing      map[string]bool   // revision ID -> never becomes Available
	failed       map[string]string // revision ID -> reported Failed, with this message
	failNew      string            // revisions first delivered from now on fail with it
	unreachable  bool
	unauthorized bool
	neverReady   bool
	deliveries   int
}

// Config shapes a Fleet's behaviour. The zero value is a fleet that
// answers at once and makes every delivered revision Available at once.
type Config struct {
	// Latency is how long every call takes.
	Latency time.Duration
	// ReadinessDelay is how long a delivered revision takes to become
	// Available.
	ReadinessDelay time.Duration
	// FailureRate is the probability (0 to 1) that a delivery never
	// becomes Available, drawn from a generator seeded with Seed, so that
	// a run can be repeated.
	FailureRate float64
	// Seed seeds the generator FailureRate draws from.
	Seed uint64
}

// New returns an empty in-memory fleet; AddClusters adds clusters to it.
func New(cfg Config) *Fleet {
	return &Fleet{cfg: cfg, rand: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)), clusters: map[string]*cluster{}}
}

// AddClusters creates n clusters named prefix-0000 ... and returns their
// registrations, spread round-robin over regions (region-0 ...
// region-<regions-1>) with labels env=prod and index=<i>; edit them before
// registering as a test needs.
func (f *Fleet) AddClusters(prefix string, n, regions int) []multicluster.Cluster {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]multicluster.Cluster, 0, n)
	for i := range n {
		name := fmt.Sprintf("%s-%04d", prefix, i)
		f.clusters[name] = &cluster{current: map[string]*multicluster.Revision{}, history: map[string]map[string]*multicluster.Revision{},
			deliveredAt: map[string]time.Time{}, failing: map[string]bool{}, failed: map[string]string{}}
		region := fmt.Sprintf("region-%d", i%max(1, regions))
		out = append(out, multicluster.Cluster{Name: name, Region: region, Environment: "prod",
			Labels: map[string]string{"env": "prod", "index": fmt.Sprint(i), "region": region}})
	}
	return out
}

// SetUnreachable makes a cluster answer nothing (true) or answer again.
func (f *Fleet) SetUnreachable(name string, v bool) {
	f.with(name, func(c *cluster) { c.unreachable = v })
}

// SetUnauthorized makes a cluster reject the credentials.
func (f *Fleet) SetUnauthorized(name string, v bool) {
	f.with(name, func(c *cluster) { c.unauthorized = v })
}

// SetNeverReady makes revisions first delivered from now on never become
// Available on the cluster (as when new pods cannot be scheduled: a
// revision the cluster ran before still comes back).
func (f *Fleet) SetNeverReady(name string, v bool) {
	f.with(name, func(c *cluster) { c.neverReady = v })
}

// Fault is what strikes a cluster; fields left zero change nothing.
type Fault struct {
	// Unreachable: every call fails with multicluster.ErrUnreachable.
	Unreachable bool
	// Unauthorized: every call fails with multicluster.ErrUnauthorized.
	Unauthorized bool
	// NeverReady: revisions first delivered from then on stay
	// Progressing.
	NeverReady bool
	// Failed, when not empty, makes the revisions the cluster runs, and
	// those first delivered from then on, report DeliveryFailed with this
	// message (as a rollout's Failed observation, not a missed deadline).
	Failed string
}

// Apply strikes a cluster with fault now. Heal it with SetUnreachable,
// SetUnauthorized, SetNeverReady or SetFailed.
func (f *Fleet) Apply(name string, fault Fault) {
	f.with(name, func(c *cluster) { c.apply(fault) })
}

func (c *cluster) apply(fault Fault) {
	c.unreachable = c.unreachable || fault.Unreachable
	c.unauthorized = c.unauthorized || fault.Unauthorized
	c.neverReady = c.neverReady || fault.NeverReady
	if fault.Failed != "" {
		c.failNew = fault.Failed
		for _, rev := range c.current {
			c.failed[rev.ID] = fault.Failed
		}
	}
}

// SetFailed makes revisions first delivered to the cluster from now on
// report DeliveryFailed with message; "" stops failing new revisions (the
// ones already failed stay failed).
func (f *Fleet) SetFailed(name, message string) {
	f.with(name, func(c *cluster) { c.failNew = message })
}

// FailRevision makes one revision (by ID, as Propagator.Plan shows it)
// report DeliveryFailed with message on the cluster, delivered already or
// not; "" lets it become Available again.
func (f *Fleet) FailRevision(name, revisionID, message string) {
	f.with(name, func(c *cluster) {
		if message == "" {
			delete(c.failed, revisionID)
			return
		}
		c.failed[revisionID] = message
	})
}

// AfterDelivery strikes the cluster with fault right after its next
// delivery: the revision is applied, then the fault strikes (Failed fails
// that revision; Unreachable makes the cluster unreachable from then on).
// It strikes once.
func (f *Fleet) AfterDelivery(name string, fault Fault) {
	f.WhenDelivered([]string{name}, name, fault)
}

// WhenDelivered strikes cluster name with fault when any of triggers is
// next delivered to, right after that delivery. With a wave's clusters as
// triggers (Propagator.Plan's Waves[k]), the fault strikes as wave k
// starts. It strikes once.
func (f *Fleet) WhenDelivered(triggers []string, name string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.scheduled = append(f.scheduled, scheduled{triggers: append([]string(nil), triggers...), target: name, fault: fault})
}

// strikeLocked applies the faults scheduled on a delivery to name; f.mu
// is held.
func (f *Fleet) strikeLocked(name string) {
	kept := f.scheduled[:0]
	var due []scheduled
	for _, s := range f.scheduled {
		if slices.Contains(s.triggers, name) {
			due = append(due, s)
		} else {
			kept = append(kept, s)
		}
	}
	f.scheduled = kept
	for _, s := range due {
		if c, ok := f.clusters[s.target]; ok {
			c.apply(s.fault)
		}
	}
}

// Running returns the ID of the revision of pkg the cluster runs ("" for
// none).
func (f *Fleet) Running(name, pkg string) string {
	var id string
	f.with(name, func(c *cluster) {
		if r := c.current[pkg]; r != nil {
			id = r.ID
		}
	})
	return id
}

// Deliveries counts the revisions delivered to a cluster.
func (f *Fleet) Deliveries(name string) int {
	var n int
	f.with(name, func(c *cluster) { n = c.deliveries })
	return n
}

func (f *Fleet) with(name string, fn func(*cluster)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clusters[name]; ok {
		fn(c)
	}
}

// lookup returns the cluster, or the error it answers; f.mu is held.
func (f *Fleet) lookup(name string) (*cluster, error) {
	c, ok := f.clusters[name]
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %s is not an in-memory cluster", multicluster.ErrUnknownCluster, name)
	case c.unreachable:
		return nil, fmt.Errorf("%w: %s does not answer", multicluster.ErrUnreachable, name)
	case c.unauthorized:
		return nil, fmt.Errorf("%w: %s", multicluster.ErrUnauthorized, name)
	}
	return c, nil
}

// Deliver implements multicluster.Backend.
func (f *Fleet) Deliver(ctx context.Context, cl *multicluster.Cluster, rev *multicluster.Revision) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return err
	}
	c.deliveries++
	defer f.strikeLocked(cl.Name)
	if cur := c.current[rev.Package]; cur != nil && cur.ID == rev.ID {
		return nil // idempotent
	}
	c.current[rev.Package] = rev
	if c.history[rev.Package] == nil {
		c.history[rev.Package] = map[string]*multicluster.Revision{}
	}
	c.history[rev.Package][rev.ID] = rev
	c.deliveredAt[rev.Package] = time.Now()
	if _, seen := c.failing[rev.ID]; !seen { // a revision that ran before runs again (its pods still exist)
		c.failing[rev.ID] = c.neverReady || (f.cfg.FailureRate > 0 && f.rand.Float64() < f.cfg.FailureRate)
		if c.failNew != "" {
			c.failed[rev.ID] = c.failNew
		}
	}
	return nil
}

// callLocked waits the latency (without f.mu, which it takes back) and
// returns the cluster, or the error it answers.
func (f *Fleet) callLocked(ctx context.Context, name string) (*cluster, error) {
	if f.cfg.Latency > 0 {
		f.mu.Unlock()
		t := time.NewTimer(f.cfg.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		f.mu.Lock()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.lookup(name)
}

// Observe implements multicluster.Backend.
func (f *Fleet) Observe(ctx context.Context, cl *multicluster.Cluster, rev *multicluster.Revision) (multicluster.Observation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return multicluster.Observation{}, err
	}
	cur := c.current[rev.Package]
	switch {
	case cur == nil || cur.ID != rev.ID:
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: "revision " + rev.ID + " not applied"}, nil
	case c.failed[rev.ID] != "":
		return multicluster.Observation{State: multicluster.DeliveryFailed, Message: c.failed[rev.ID]}, nil
	case c.failing[rev.ID]:
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: "pods of " + rev.ID + " not ready"}, nil
	case time.Since(c.deliveredAt[rev.Package]) < f.cfg.ReadinessDelay:
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: "rolling out " + rev.ID}, nil
	}
	return multicluster.Observation{State: multicluster.DeliveryAvailable, Message: rev.ID + " Available"}, nil
}

// Current implements multicluster.Backend.
func (f *Fleet) Current(ctx context.Context, cl *multicluster.Cluster, pkg string) (*multicluster.Revision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return nil, err
	}
	return c.current[pkg], nil
}

// Get implements multicluster.Backend.
func (f *Fleet) Get(ctx context.Context, cl *multicluster.Cluster, pkg, id string) (*multicluster.Revision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return nil, err
	}
	if r := c.history[pkg][id]; r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("%w: %s %s on %s", multicluster.ErrUnknownRevision, pkg, id, cl.Name)
}

// Remove implements multicluster.Backend.
func (f *Fleet) Remove(ctx context.Context, cl *multicluster.Cluster, pkg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return err
	}
	delete(c.current, pkg)
	return nil
}

// Probe implements multicluster.Prober.
func (f *Fleet) Probe(ctx context.Context, cl *multicluster.Cluster) multicluster.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.callLocked(ctx, cl.Name)
	h := multicluster.Health{State: multicluster.HealthHealthy, Version: "in-memory", Nodes: 1, ReadyNodes: 1, Checked: time.Now()}
	switch {
	case err == nil:
	case errors.Is(err, multicluster.ErrUnauthorized):
		h = multicluster.Health{State: multicluster.HealthUnauthorized, Message: err.Error(), Checked: time.Now()}
	default:
		h = multicluster.Health{State: multicluster.HealthUnreachable, Message: err.Error(), Checked: time.Now()}
	}
	return h
}

var (
	_ multicluster.Backend = (*Fleet)(nil)
	_ multicluster.Prober  = (*Fleet)(nil)
)
