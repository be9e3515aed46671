package multicluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Prober checks a cluster's health. KubeProber is the real one; the
// in-memory clusters of multicluster/memfleet have their own.
type Prober interface {
	// Probe checks c within ctx and reports what it found; a cluster that
	// does not answer is HealthUnreachable.
	Probe(ctx context.Context, c *Cluster) Health
}

// ClusterManager is the registry of clusters: registration, health
// probes, and selection (Select). It is safe for concurrent use.
type ClusterManager struct {
	cfg ManagerConfig

	mu       sync.RWMutex
	clusters map[string]*registered
}

type registered struct {
	cluster Cluster
	health  Health
}

// Defaults of a ClusterManager.
const (
	// DefaultProbeInterval is how often Run probes every cluster.
	DefaultProbeInterval = 30 * time.Second
	// DefaultProbeConcurrency bounds the probes that run at once.
	DefaultProbeConcurrency = 32
)

// ManagerConfig configures a ClusterManager. Zero values take the
// documented defaults.
type ManagerConfig struct {
	// Prober checks a cluster's health (nil: a KubeProber with
	// DefaultProbeTimeout).
	Prober Prober
	// ProbeInterval is how often Run probes every cluster (0:
	// DefaultProbeInterval).
	ProbeInterval time.Duration
	// ProbeConcurrency bounds the probes that run at once (0:
	// DefaultProbeConcurrency).
	ProbeConcurrency int
	// Logger logs changes of a cluster's health (zero: discarded).
	Logger logr.Logger
}

// NewClusterManager returns an empty registry.
func NewClusterManager(cfg ManagerConfig) *ClusterManager {
	if cfg.Prober == nil {
		cfg.Prober = &KubeProber{}
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = DefaultProbeInterval
	}
	if cfg.ProbeConcurrency == 0 {
		cfg.ProbeConcurrency = DefaultProbeConcurrency
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = logr.Discard()
	}
	return &ClusterManager{cfg: cfg, clusters: map[string]*registered{}}
}

// Register adds a cluster. Its health is Unknown until probed.
func (m *ClusterManager) Register(_ context.Context, c Cluster) error {
	if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
		return fieldError(ErrInvalidCluster, "name", "%q: %s", c.Name, errs[0])
	}
	for k, v := range c.Capacity {
		if v < 0 {
			return fieldError(ErrInvalidCluster, "capacity."+k, "negative: %d", v)
		}
	}
	for _, t := range c.Taints {
		if t.Key == "" {
			return fieldError(ErrInvalidCluster, "taints", "a taint needs a key")
		}
	}
	c = cloneCluster(c)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clusters[c.Name]; ok {
		return &ClusterError{Cluster: c.Name, Err: ErrAlreadyRegistered}
	}
	m.clusters[c.Name] = &registered{cluster: c, health: Health{State: HealthUnknown}}
	return nil
}

// Unregister removes a cluster.
func (m *ClusterManager) Unregister(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.clusters[name]; !ok {
		return &ClusterError{Cluster: name, Err: ErrUnknownCluster}
	}
	delete(m.clusters, name)
	return nil
}

// Get returns a copy of a registered cluster and its last health.
func (m *ClusterManager) Get(name string) (Cluster, Health, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.clusters[name]
	if !ok {
		return Cluster{}, Health{}, &ClusterError{Cluster: name, Err: ErrUnknownCluster}
	}
	return cloneCluster(r.cluster), r.health, nil
}

// List returns copies of all clusters, by name.
func (m *ClusterManager) List() []Cluster {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Cluster, 0, len(m.clusters))
	for _, r := range m.clusters {
		out = append(out, cloneCluster(r.cluster))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Health returns a cluster's last probed health.
func (m *ClusterManager) Health(name string) (Health, error) {
	_, h, err := m.Get(name)
	return h, err
}

// Probe probes one cluster now and records the result.
func (m *ClusterManager) Probe(ctx context.Context, name string) (Health, error) {
	c, _, err := m.Get(name)
	if err != nil {
		return Health{}, err
	}
	h := m.cfg.Prober.Probe(ctx, &c)
	if h.Checked.IsZero() {
		h.Checked = time.Now()
	}
	m.mu.Lock()
	if r, ok := m.clusters[name]; ok {
		if r.health.State != h.State {
			m.cfg.Logger.Info("cluster health changed", "cluster", name, "from", r.health.State, "to", h.State, "message", h.Message)
		}
		r.health = h
	}
	m.mu.Unlock()
	return h, nil
}

// ProbeAll probes every cluster (at most ProbeConcurrency at once).
func (m *ClusterManager) ProbeAll(ctx context.Context) map[string]Health {
	return m.probe(ctx, m.names())
}

func (m *ClusterManager) probe(ctx context.Context, names []string) map[string]Health {
	var mu sync.Mutex
	out := make(map[string]Health, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, m.cfg.ProbeConcurrency))
	for _, n := range names {
		g.Go(func() error {
			h, err := m.Probe(gctx, n)
			if err == nil {
				mu.Lock()
				out[n] = h
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

func (m *ClusterManager) names() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.clusters))
	for n := range m.clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Run probes every cluster each probe interval until ctx ends, and
// returns ctx's error.
func (m *ClusterManager) Run(ctx context.Context) error {
	if m.cfg.ProbeInterval <= 0 {
		return fmt.Errorf("%w: probe interval %s", ErrInvalidCluster, m.cfg.ProbeInterval)
	}
	t := time.NewTicker(m.cfg.ProbeInterval)
	defer t.Stop()
	for {
		m.ProbeAll(ctx)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

func cloneCluster(c Cluster) Cluster {
	out := c // Config is shared, read-only, as client-go shares it
	out.Kubeconfig = slices.Clone(c.Kubeconfig)
	out.Capabilities = slices.Clone(c.Capabilities)
	out.Taints = slices.Clone(c.Taints)
	if c.Labels != nil {
		out.Labels = make(map[string]string, len(c.Labels))
		for k, v := range c.Labels {
			out.Labels[k] = v
		}
	}
	if c.Capacity != nil {
		out.Capacity = make(map[string]int64, len(c.Capacity))
		for k, v := range c.Capacity {
			out.Capacity[k] = v
		}
	}
	return out
}
