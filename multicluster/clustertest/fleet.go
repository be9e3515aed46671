package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	return added, g.Wait()
}

// Stop stops every cluster and etcd and removes the temporary directory.
func (f *Fleet) Stop() error {
	var errs []error
	for _, c := range f.Clusters {
		errs = append(errs, c.stop())
	}
	if f.etcd != nil {
		errs = append(errs, f.etcd.Stop())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clustertest: stop: %w", err)
	}
	return os.RemoveAll(f.dir)
}

// processes lists every process of the fleet.
func (f *Fleet) processes() process.Group {
	var ps process.Group
	for _, c := range f.Clusters {
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
