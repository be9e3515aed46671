package clusterenv

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

// Defaults of an Environment.
const (
	// DefaultNodes is the number of fake nodes per cluster; each has 32
	// CPUs, 256 GiB and room for 110 pods.
	DefaultNodes = 1
	// DefaultStartTimeout bounds the start of each cluster, not counting
	// the one-time build of the binaries.
	DefaultStartTimeout = 2 * time.Minute
)

// Environment is a set of real workload clusters sharing one etcd, as
// envtest.Environment is one API server: the fields say what to start,
// Start starts it and Stop ends it. Zero values take the documented
// defaults.
type Environment struct {
	// Clusters is how many clusters Start starts, named cluster-0,
	// cluster-1, ...
	Clusters int
	// Nodes is the number of fake nodes per cluster (0: DefaultNodes).
	Nodes int
	// StartTimeout bounds the start of each cluster, not counting the
	// one-time build of the binaries (0: DefaultStartTimeout).
	StartTimeout time.Duration
	// BinDir holds prebuilt binaries to use instead of building them
	// (internal/testbin names them).
	BinDir string
	// Progress receives the progress of a binary build (nil: os.Stderr).
	Progress io.Writer
	// Logger logs start-up steps and their durations (zero: discarded).
	Logger logr.Logger

	mu       sync.Mutex
	clusters []*Cluster
	dir      string
	bins     map[string]string
	creds    *kubeplane.Credentials
	etcd     *kubeplane.Etcd
}

func (e *Environment) nodes() int {
	if e.Nodes == 0 {
		return DefaultNodes
	}
	return e.Nodes
}

func (e *Environment) startTimeout() time.Duration {
	if e.StartTimeout == 0 {
		return DefaultStartTimeout
	}
	return e.StartTimeout
}

func (e *Environment) log() logr.Logger {
	if e.Logger.GetSink() == nil {
		return logr.Discard()
	}
	return e.Logger
}

// Start builds the binaries when they are missing, and starts etcd and
// Clusters clusters. On error, whatever was started is stopped again.
func (e *Environment) Start(ctx context.Context) (err error) {
	if e.Clusters < 0 || e.Nodes < 0 || e.StartTimeout < 0 {
		return fmt.Errorf("clusterenv: need Clusters, Nodes and StartTimeout >= 0 (got %d, %d, %s)", e.Clusters, e.Nodes, e.StartTimeout)
	}
	if e.etcd != nil {
		return errors.New("clusterenv: already started")
	}
	progress := e.Progress
	if progress == nil {
		progress = os.Stderr
	}
	bins, err := testbin.New(testbin.Config{BinDir: e.BinDir, Progress: progress}).Paths(ctx, testbin.Etcd, testbin.KubeAPIServer, testbin.KubeControllerManager,
		testbin.KubeScheduler, testbin.Kwok, testbin.KwokStages)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "clusterenv-")
	if err != nil {
		return fmt.Errorf("clusterenv: %w", err)
	}
	e.dir, e.bins = dir, bins
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, e.LogTails(30))
			_ = e.Stop()
		}
	}()
	if e.creds, err = kubeplane.NewCredentials(filepath.Join(dir, "pki")); err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, e.startTimeout())
	defer cancel()
	if e.etcd, err = kubeplane.StartEtcd(sctx, bins[testbin.Etcd], filepath.Join(dir, "etcd")); err != nil {
		return fmt.Errorf("clusterenv: %w", err)
	}
	if _, err := e.AddClusters(ctx, e.Clusters); err != nil {
		return err
	}
	return nil
}

// Cluster returns the i-th started cluster (cluster-<i>); it panics when
// there is none, as indexing a slice does.
func (e *Environment) Cluster(i int) *Cluster {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clusters[i]
}

// ClusterList returns the started clusters, in the order of their names'
// numbers.
func (e *Environment) ClusterList() []*Cluster {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.clusters)
}

// AddClusters starts n more clusters, two at a time, after Start, and
// returns them. When one fails to start, none of the n stays.
func (e *Environment) AddClusters(ctx context.Context, n int) ([]*Cluster, error) {
	if e.etcd == nil {
		return nil, errors.New("clusterenv: AddClusters before Start")
	}
	e.mu.Lock()
	first := len(e.clusters)
	added := make([]*Cluster, n)
	for i := range added {
		added[i] = &Cluster{Name: fmt.Sprintf("cluster-%d", first+i), env: e}
	}
	e.clusters = append(e.clusters, added...)
	e.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	for _, c := range added {
		g.Go(func() error {
			start := time.Now()
			sctx, cancel := context.WithTimeout(gctx, e.startTimeout())
			defer cancel()
			if err := c.start(sctx); err != nil {
				return fmt.Errorf("clusterenv: start %s: %w", c.Name, err)
			}
			e.log().Info("cluster ready", "cluster", c.Name, "duration", time.Since(start).Round(time.Millisecond))
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
		e.mu.Lock()
		e.clusters = slices.DeleteFunc(e.clusters, func(c *Cluster) bool { return slices.Contains(added, c) })
		e.mu.Unlock()
		return nil, err
	}
	return added, nil
}

// Stop stops every cluster and etcd and removes the temporary directory.
func (e *Environment) Stop() error {
	var errs []error
	for _, c := range e.ClusterList() {
		errs = append(errs, c.stop())
	}
	if e.etcd != nil {
		errs = append(errs, e.etcd.Stop())
	}
	if e.dir != "" {
		errs = append(errs, os.RemoveAll(e.dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clusterenv: stop: %w", err)
	}
	return nil
}

// processes lists every process of the environment.
func (e *Environment) processes() process.Group {
	var ps process.Group
	for _, c := range e.ClusterList() {
		ps = append(ps, c.processes()...)
	}
	if e.etcd != nil {
		ps = append(ps, e.etcd.Process())
	}
	return ps
}

// Running lists the names of the processes that are still running.
func (e *Environment) Running() []string { return e.processes().Running() }

// LogTails returns the last n lines of every process's log.
func (e *Environment) LogTails(n int) string { return e.processes().LogTails(n) }

// MemoryUsage returns the resident set size in bytes of each running
// process, by process name.
func (e *Environment) MemoryUsage() (map[string]int64, error) { return e.processes().MemoryUsage() }
