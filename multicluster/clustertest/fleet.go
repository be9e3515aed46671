package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"

	"github.com/nephoran/porchkit/internal/kubeplane"
	"github.com/nephoran/porchkit/internal/process"
	"github.com/nephoran/porchkit/internal/testbin"
)

// Fleet is a set of workload clusters sharing one etcd.
type Fleet struct {
	// Clusters are the fleet's clusters, named cluster-0, cluster-1, ...
	// AddClusters appends to it; do not read it while AddClusters runs.
	Clusters []*Cluster

	opts  options
	dir   string
	bins  map[string]string
	creds *kubeplane.Credentials
	etcd  *kubeplane.Etcd
	mu    sync.Mutex
}

type options struct {
	progress     io.Writer
	log          logr.Logger
	nodes        int
	startTimeout time.Duration
	binDir       string
}

// Option configures StartFleet.
type Option func(*options)

// WithProgress sets where binary build progress is printed (default
// os.Stderr).
func WithProgress(w io.Writer) Option { return func(o *options) { o.progress = w } }

// WithLogger logs start-up steps and durations.
func WithLogger(l logr.Logger) Option { return func(o *options) { o.log = l } }

// WithNodes sets the number of fake nodes per cluster (default 1; each has
// 32 CPUs, 256 GiB and room for 110 pods).
func WithNodes(n int) Option { return func(o *options) { o.nodes = n } }

// WithStartTimeout bounds the start of each cluster, not counting the
// one-time build of the binaries (default 2 minutes).
func WithStartTimeout(d time.Duration) Option { return func(o *options) { o.startTimeout = d } }

// WithBinDir uses prebuilt binaries from dir instead of building them.
func WithBinDir(dir string) Option { return func(o *options) { o.binDir = dir } }

// StartFleet starts etcd and n clusters. On error, whatever was started is
// stopped again.
func StartFleet(ctx context.Context, n int, opts ...Option) (f *Fleet, err error) {
	o := options{progress: os.Stderr, log: logr.Discard(), nodes: 1, startTimeout: 2 * time.Minute}
	for _, opt := range opts {
		opt(&o)
	}
	if n < 0 || o.nodes < 1 {
		return nil, fmt.Errorf("clustertest: need n >= 0 clusters and >= 1 node each (got %d, %d)", n, o.nodes)
	}
	binOpts := []testbin.Option{testbin.WithProgress(o.progress)}
	if o.binDir != "" {
		binOpts = append(binOpts, testbin.WithBinDir(o.binDir))
	}
	bins, err := testbin.New(binOpts...).Paths(ctx, testbin.Etcd, testbin.KubeAPIServer, testbin.KubeControllerManager,
		testbin.KubeScheduler, testbin.Kwok, testbin.KwokStages)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "clustertest-")
	if err != nil {
		return nil, fmt.Errorf("clustertest: %w", err)
	}
	f = &Fleet{opts: o, dir: dir, bins: bins}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, f.LogTails(30))
			_ = f.Stop()
			f = nil
		}
	}()
	if f.creds, err = kubeplane.NewCredentials(filepath.Join(dir, "pki")); err != nil {
		return f, err
	}
	sctx, cancel := context.WithTimeout(ctx, o.startTimeout)
	defer cancel()
	if f.etcd, err = kubeplane.StartEtcd(sctx, bins[testbin.Etcd], filepath.Join(dir, "etcd")); err != nil {
		return f, fmt.Errorf("clustertest: %w", err)
	}
	if _, err := f.AddClusters(ctx, n); err != nil {
		return f, err
	}
	return f, nil
}

// AddClusters starts n more clusters, two at a time, and returns them.
func (f *Fleet) AddClusters(ctx context.Context, n int) ([]*Cluster, error) {
	f.mu.Lock()
	first := len(f.Clusters)
	added := make([]*Cluster, n)
	for i := range added {
		added[i] = &Cluster{Name: fmt.Sprintf("cluster-%d", first+i), fleet: f}
	}
	f.Clusters = append(f.Clusters, added...)
	f.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, c := range added {
		g.Go(func() error {
			start := time.Now()
			sctx, cancel := context.WithTimeout(gctx, f.opts.startTimeout)
			defer cancel()
			if err := c.start(sctx); err != nil {
				return fmt.Errorf("clustertest: start %s: %w", c.Name, err)
			}
			f.opts.log.Info("cluster ready", "cluster", c.Name, "duration", time.Since(start).Round(time.Millisecond))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		// Stop what the failed batch started and forget it, so no broken
		// cluster stays in the fleet.
		tails := process.Group{}
		for _, c := range added {
			tails = append(tails, c.processes()...)
		}
		err = fmt.Errorf("%w\n%s", err, tails.LogTails(30))
		for _, c := range added {
			_ = c.stop()
		}
		f.mu.Lock()
		f.Clusters = slices.DeleteFunc(f.Clusters, func(c *Cluster) bool { return slices.Contains(added, c) })
		f.mu.Unlock()
		return nil, err
	}
	return added, nil
}

// Stop stops every cluster and etcd and removes the temporary directory.
func (f *Fleet) Stop() error {
	var errs []error
	for _, c := range f.clusters() {
		errs = append(errs, c.stop())
	}
	if f.etcd != nil {
		errs = append(errs, f.etcd.Stop())
	}
	errs = append(errs, os.RemoveAll(f.dir))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clustertest: stop: %w", err)
	}
	return nil
}

// clusters returns a snapshot of f.Clusters.
func (f *Fleet) clusters() []*Cluster {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Clusters)
}

// processes lists every process of the fleet.
func (f *Fleet) processes() process.Group {
	var ps process.Group
	for _, c := range f.clusters() {
		ps = append(ps, c.processes()...)
	}
	if f.etcd != nil {
		ps = append(ps, f.etcd.Process())
	}
	return ps
}

// Running lists the names of the processes that are still running.
func (f *Fleet) Running() []string { return f.processes().Running() }

// LogTails returns the last n lines of every process's log.
func (f *Fleet) LogTails(n int) string { return f.processes().LogTails(n) }

// MemoryUsage returns the resident set size in bytes of each running
// process, by process name.
func (f *Fleet) MemoryUsage() (map[string]int64, error) { return f.processes().MemoryUsage() }
