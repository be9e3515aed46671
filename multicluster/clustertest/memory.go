package clustertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nephoran/porchkit/multicluster"
)

// MemoryFleet is a fleet of in-memory clusters, for unit tests of rollout
// strategies at 1,000+ clusters in seconds: it is both the
// multicluster.Backend that delivers to them and the multicluster.Prober
// that checks them. A delivered revision becomes Available after the
// readiness delay unless the cluster is made to fail (SetNeverReady, or
// the failure rate); unreachable clusters answer every call with
// multicluster.ErrUnreachable. It is safe for concurrent use.
type MemoryFleet struct {
	opts memoryOptions

	mu       sync.Mutex
	rand     *rand.Rand
	clusters map[string]*memoryCluster
}

type memoryCluster struct {
	current      map[string]*multicluster.Revision
	history      map[string]map[string]*multicluster.Revision
	deliveredAt  map[string]time.Time
	failing      map[string]bool // revision ID -> never becomes Available
	unreachable  bool
	unauthorized bool
	neverReady   bool
	deliveries   int
}

// MemoryOption configures a MemoryFleet.
type MemoryOption func(*memoryOptions)

type memoryOptions struct {
	latency        time.Duration
	readinessDelay time.Duration
	failureRate    float64
	seed           uint64
}

// WithLatency makes every call take d.
func WithLatency(d time.Duration) MemoryOption { return func(o *memoryOptions) { o.latency = d } }

// WithReadinessDelay is how long a delivered revision takes to become
// Available.
func WithReadinessDelay(d time.Duration) MemoryOption {
	return func(o *memoryOptions) { o.readinessDelay = d }
}

// WithFailureRate makes each delivery fail (never become Available) with
// probability p, drawn from a generator seeded with seed.
func WithFailureRate(p float64, seed uint64) MemoryOption {
	return func(o *memoryOptions) { o.failureRate, o.seed = p, seed }
}

// NewMemoryFleet returns an empty in-memory fleet.
func NewMemoryFleet(opts ...MemoryOption) *MemoryFleet {
	var o memoryOptions
	for _, opt := range opts {
		opt(&o)
	}
	return &MemoryFleet{opts: o, rand: rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)), clusters: map[string]*memoryCluster{}}
}

// AddClusters creates n clusters named prefix-0000 ... and returns their
// registrations, spread round-robin over regions (region-0 ...
// region-<regions-1>) with labels env=prod and index=<i>; edit them before
// registering as a test needs.
func (f *MemoryFleet) AddClusters(prefix string, n, regions int) []multicluster.Cluster {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]multicluster.Cluster, 0, n)
	for i := range n {
		name := fmt.Sprintf("%s-%04d", prefix, i)
		f.clusters[name] = &memoryCluster{current: map[string]*multicluster.Revision{},
			history: map[string]map[string]*multicluster.Revision{}, deliveredAt: map[string]time.Time{}, failing: map[string]bool{}}
		region := fmt.Sprintf("region-%d", i%max(1, regions))
		out = append(out, multicluster.Cluster{Name: name, Region: region, Environment: "prod",
			Labels: map[string]string{"env": "prod", "index": fmt.Sprint(i), "region": region}})
	}
	return out
}

// SetUnreachable makes a cluster answer nothing (true) or answer again.
func (f *MemoryFleet) SetUnreachable(name string, v bool) {
	f.with(name, func(c *memoryCluster) { c.unreachable = v })
}

// SetUnauthorized makes a cluster reject the credentials.
func (f *MemoryFleet) SetUnauthorized(name string, v bool) {
	f.with(name, func(c *memoryCluster) { c.unauthorized = v })
}

// SetNeverReady makes revisions first delivered from now on never become
// Available on the cluster (as when new pods cannot be scheduled: a
// revision the cluster ran before still comes back).
func (f *MemoryFleet) SetNeverReady(name string, v bool) {
	f.with(name, func(c *memoryCluster) { c.neverReady = v })
}

// Running returns the ID of the revision of pkg the cluster runs ("" for
// none).
func (f *MemoryFleet) Running(name, pkg string) string {
	var id string
	f.with(name, func(c *memoryCluster) {
		if r := c.current[pkg]; r != nil {
			id = r.ID
		}
	})
	return id
}

// Deliveries counts the revisions delivered to a cluster.
func (f *MemoryFleet) Deliveries(name string) int {
	var n int
	f.with(name, func(c *memoryCluster) { n = c.deliveries })
	return n
}

func (f *MemoryFleet) with(name string, fn func(*memoryCluster)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := f.clusters[name]; ok {
		fn(c)
	}
}

// lookup returns the cluster, or the error it answers; f.mu is held.
func (f *MemoryFleet) lookup(name string) (*memoryCluster, error) {
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
func (f *MemoryFleet) Deliver(ctx context.Context, cl *multicluster.Cluster, rev *multicluster.Revision) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return err
	}
	c.deliveries++
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
		c.failing[rev.ID] = c.neverReady || (f.opts.failureRate > 0 && f.rand.Float64() < f.opts.failureRate)
	}
	return nil
}

// callLocked waits the latency (without f.mu, which it takes back) and
// returns the cluster, or the error it answers.
func (f *MemoryFleet) callLocked(ctx context.Context, name string) (*memoryCluster, error) {
	if f.opts.latency > 0 {
		f.mu.Unlock()
		t := time.NewTimer(f.opts.latency)
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
func (f *MemoryFleet) Observe(ctx context.Context, cl *multicluster.Cluster, rev *multicluster.Revision) (multicluster.Observation, error) {
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
	case c.failing[rev.ID]:
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: "pods of " + rev.ID + " not ready"}, nil
	case time.Since(c.deliveredAt[rev.Package]) < f.opts.readinessDelay:
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: "rolling out " + rev.ID}, nil
	}
	return multicluster.Observation{State: multicluster.DeliveryAvailable, Message: rev.ID + " Available"}, nil
}

// Current implements multicluster.Backend.
func (f *MemoryFleet) Current(ctx context.Context, cl *multicluster.Cluster, pkg string) (*multicluster.Revision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.callLocked(ctx, cl.Name)
	if err != nil {
		return nil, err
	}
	return c.current[pkg], nil
}

// Get implements multicluster.Backend.
func (f *MemoryFleet) Get(ctx context.Context, cl *multicluster.Cluster, pkg, id string) (*multicluster.Revision, error) {
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
func (f *MemoryFleet) Remove(ctx context.Context, cl *multicluster.Cluster, pkg string) error {
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
func (f *MemoryFleet) Probe(ctx context.Context, cl *multicluster.Cluster) multicluster.Health {
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
