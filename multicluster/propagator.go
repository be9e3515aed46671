package multicluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Propagator rolls packages out to clusters with a Strategy, gates each
// step on the exact revision being rolled out, and rolls back on a failed
// gate. Rollouts run in the background until they finish, Abort is
// called, or the Propagator is closed; Status, ClusterStatus and Events
// follow them. It is safe for concurrent use.
type Propagator struct {
	manager *ClusterManager
	backend Backend
	cfg     PropagatorConfig

	ctx    context.Context // ends with Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	rollouts map[ID]*rollout
	timers   map[ID]*time.Timer // forget finished rollouts after the retention
	seq      int
}

// Defaults of a Propagator.
const (
	// DefaultFailuresShown bounds Status.Failures.
	DefaultFailuresShown = 10
	// DefaultWavesShown bounds Status.WaveProgress.
	DefaultWavesShown = 10
	// DefaultUnreachableAfter is how many observations in a row must fail
	// to reach a cluster before it counts as unreachable.
	DefaultUnreachableAfter = 3
	// DefaultSaveInterval is how often a running rollout's record is saved
	// (and at every phase change).
	DefaultSaveInterval = time.Second
	// DefaultSaveTimeout bounds one save of a record.
	DefaultSaveTimeout = 30 * time.Second
	// DefaultRenderConcurrency bounds the clusters a package is rendered
	// for at once.
	DefaultRenderConcurrency = 16
	// DefaultRetention is how long a finished rollout stays in memory;
	// after that, Status reads its record from the StateStore.
	DefaultRetention = time.Hour
	// DefaultEventBuffer is each Events subscriber's channel capacity; a
	// subscriber that falls further behind loses events (and is told how
	// many).
	DefaultEventBuffer = 1024
)

// PropagatorConfig configures a Propagator. Zero values take the
// documented defaults.
type PropagatorConfig struct {
	// Customizer renders the package for each cluster (nil: the package
	// as is, stamped with its revision).
	Customizer Customizer
	// Store keeps the rollouts' records, which Status reads once a
	// rollout has left memory and Restore continues from (nil: a
	// MemoryStore, which outlives a Propagator but not the process).
	Store StateStore
	// Instrumentation receives metrics and traces (nil: none).
	Instrumentation Instrumentation
	// Logger logs what the rollouts cannot report otherwise, such as a
	// failed save of a record (zero: discarded).
	Logger logr.Logger
	// FailuresShown bounds Status.Failures (0: DefaultFailuresShown).
	FailuresShown int
	// WavesShown bounds Status.WaveProgress (0: DefaultWavesShown).
	WavesShown int
	// UnreachableAfter is how many observations of a cluster in a row
	// must fail to reach it before it counts as unreachable (0:
	// DefaultUnreachableAfter).
	UnreachableAfter int
	// SaveInterval is how often a running rollout's record is saved, as
	// well as at every phase change (0: DefaultSaveInterval).
	SaveInterval time.Duration
	// SaveTimeout bounds one save of a record (0: DefaultSaveTimeout).
	SaveTimeout time.Duration
	// RenderConcurrency bounds the clusters a package is rendered for at
	// once (0: DefaultRenderConcurrency).
	RenderConcurrency int
	// EventBuffer is each Events subscriber's channel capacity (0:
	// DefaultEventBuffer).
	EventBuffer int
	// Retention is how long a finished rollout stays in memory (0:
	// DefaultRetention).
	Retention time.Duration
	// SkipPreflightProbe skips probing the targets before a rollout
	// starts. By default, targets that reject the credentials stop
	// Propagate before any cluster changes.
	SkipPreflightProbe bool
}

// withDefaults returns c with zero values replaced by defaults.
func (c PropagatorConfig) withDefaults() PropagatorConfig {
	if c.Store == nil {
		c.Store = NewMemoryStore()
	}
	if c.Instrumentation == nil {
		c.Instrumentation = nopInstrumentation{}
	}
	if c.Logger.GetSink() == nil {
		c.Logger = logr.Discard()
	}
	setDefault(&c.FailuresShown, DefaultFailuresShown)
	setDefault(&c.WavesShown, DefaultWavesShown)
	setDefault(&c.UnreachableAfter, DefaultUnreachableAfter)
	setDefault(&c.SaveInterval, DefaultSaveInterval)
	setDefault(&c.SaveTimeout, DefaultSaveTimeout)
	setDefault(&c.RenderConcurrency, DefaultRenderConcurrency)
	setDefault(&c.EventBuffer, DefaultEventBuffer)
	setDefault(&c.Retention, DefaultRetention)
	c.RenderConcurrency = max(1, c.RenderConcurrency)
	c.EventBuffer = max(1, c.EventBuffer)
	return c
}

// setDefault sets *v to def when it is zero.
func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// NewPropagator returns a Propagator over the clusters of m, delivering
// through b.
func NewPropagator(m *ClusterManager, b Backend, cfg PropagatorConfig) *Propagator {
	ctx, cancel := context.WithCancel(context.Background())
	return &Propagator{manager: m, backend: b, cfg: cfg.withDefaults(), ctx: ctx, cancel: cancel, rollouts: map[ID]*rollout{}, timers: map[ID]*time.Timer{}}
}

// Close stops every running rollout where it is (its record stays
// resumable) and waits for them.
func (p *Propagator) Close() error {
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.timers {
		t.Stop()
	}
	return nil
}

// Plan is what a propagation would do, computed without side effects.
type Plan struct {
	// Decision says for every cluster whether it is selected, and why.
	Decision *Decision
	// Waves are the rollout's waves of cluster names.
	Waves [][]string
	// Clusters has the per-cluster rendered revision and how it differs
	// from what the cluster runs now.
	Clusters map[string]*ClusterPlan
}

// ClusterPlan is one cluster's part of a Plan.
type ClusterPlan struct {
	// Revision is the package rendered for the cluster.
	Revision *Revision
	// Current is the revision the cluster runs now (nil: none, or the
	// cluster could not be asked; see CurrentError).
	Current *Revision
	// CurrentError is why the cluster could not be asked (nil: it
	// answered).
	CurrentError error
	// Changed reports a difference between Current and Revision.
	Changed bool
	// Diff is a unified diff of the resources from Current to Revision,
	// without porchkit's annotations ("" when unchanged).
	Diff string
}

// Plan selects the targets, renders the package for each cluster, asks
// each what it runs now, and cuts the waves; it changes nothing.
func (p *Propagator) Plan(ctx context.Context, pkg *Package, targets Selector, s Strategy) (*Plan, error) {
	d, waves, revs, err := p.prepare(ctx, pkg, targets, s)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Decision: d, Waves: waves, Clusters: make(map[string]*ClusterPlan, len(revs))}
	for name, rev := range revs {
		c, _, err := p.manager.Get(name)
		if err != nil {
			return nil, err
		}
		cp := &ClusterPlan{Revision: rev}
		cp.Current, cp.CurrentError = p.backend.Current(ctx, &c, pkg.Name)
		cp.Diff = diffRevisions(cp.Current, rev)
		cp.Changed = cp.Current == nil || cp.Current.ID != rev.ID
		plan.Clusters[name] = cp
	}
	return plan, nil
}

// prepare validates, selects, cuts waves and renders every target.
func (p *Propagator) prepare(ctx context.Context, pkg *Package, targets Selector, s Strategy) (*Decision, [][]string, map[string]*Revision, error) {
	if pkg == nil {
		return nil, nil, nil, fieldError(ErrInvalidStrategy, "package", "missing")
	}
	if errs := validation.IsDNS1123Label(pkg.Name); len(errs) > 0 {
		return nil, nil, nil, fieldError(ErrRenderFailed, "package.name", "%q: %s", pkg.Name, errs[0])
	}
	if pkg.Revision == "" {
		return nil, nil, nil, fieldError(ErrRenderFailed, "package.revision", "missing")
	}
	if err := s.Validate(); err != nil {
		return nil, nil, nil, err
	}
	s = s.withDefaults()
	d, err := p.manager.Select(ctx, targets)
	if err != nil {
		return nil, nil, nil, err
	}
	waves, err := s.waves(d.Selected, p.manager.cluster)
	if err != nil {
		return nil, nil, nil, err
	}
	revs := make(map[string]*Revision, len(d.Selected))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	sem := make(chan struct{}, p.cfg.RenderConcurrency)
	for _, name := range d.Selected {
		c, _, err := p.manager.Get(name)
		if err != nil {
			return nil, nil, nil, err
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rev, err := render(ctx, p.cfg.Customizer, &c, pkg)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			revs[c.Name] = rev
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, nil, nil, firstErr
	}
	return d, waves, revs, nil
}

// Propagate starts rolling pkg out to the clusters targets selects, with
// strategy s, and returns the rollout's ID. Everything that can be checked
// up front is, before any cluster changes: the strategy's numbers, the
// selection (unknown clusters, an empty selection, a spread that cannot
// be met), rendering for every cluster, and (unless SkipPreflightProbe)
// the credentials of every target.
func (p *Propagator) Propagate(ctx context.Context, pkg *Package, targets Selector, s Strategy) (ID, error) {
	if err := p.ctx.Err(); err != nil {
		return "", fmt.Errorf("propagator closed: %w", err)
	}
	_, waves, revs, err := p.prepare(ctx, pkg, targets, s)
	if err != nil {
		return "", err
	}
	if !p.cfg.SkipPreflightProbe {
		var names []string
		for _, w := range waves {
			names = append(names, w...)
		}
		health := p.manager.probe(ctx, names)
		var rejected []string
		for _, n := range names {
			if health[n].State == HealthUnauthorized {
				rejected = append(rejected, n)
			}
		}
		if len(rejected) > 0 {
			sort.Strings(rejected)
			return "", &ClusterError{Cluster: rejected[0], Err: fmt.Errorf("%w (%d of %d targets: %v)", ErrUnauthorized, len(rejected), len(names), rejected)}
		}
	}
	p.mu.Lock()
	p.seq++
	id := newID(pkg, p.seq)
	p.mu.Unlock()
	r := newRollout(p, id, pkg, s.withDefaults(), waves, revs)
	if err := p.cfg.Store.Save(ctx, r.record()); err != nil {
		return "", fmt.Errorf("saving rollout %s: %w", id, err)
	}
	p.start(r)
	return id, nil
}

// newID names a rollout after its package and revision, in the characters
// Kubernetes object names allow (a ConfigMapStore names ConfigMaps after
// it).
func newID(pkg *Package, seq int) ID {
	rev := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, pkg.Revision)
	if len(rev) > 40 {
		rev = rev[:40]
	}
	return ID(fmt.Sprintf("%s-%s-%d-%d", pkg.Name, strings.Trim(rev, "-."), time.Now().UnixNano()%1e6, seq))
}

// Restore continues a rollout recorded in the state store by an earlier
// Propagator or process that had not finished: clusters already done keep
// their state, the others are delivered again (delivery is idempotent),
// and rollback still returns touched clusters to the revision they ran
// before. pkg and s must be the ones it started with (ErrRevisionMismatch
// otherwise).
func (p *Propagator) Restore(ctx context.Context, id ID, pkg *Package, s Strategy) error {
	p.mu.Lock()
	if r, ok := p.rollouts[id]; ok {
		p.mu.Unlock()
		r.mu.Lock()
		phase := r.phase
		r.mu.Unlock()
		if phase.finished() {
			return fmt.Errorf("%w: %s is %s", ErrRolloutFinished, id, phase)
		}
		return fmt.Errorf("%w: %s runs on this Propagator", ErrRolloutRunning, id)
	}
	p.mu.Unlock()
	rec, err := p.cfg.Store.Load(ctx, id)
	if err != nil {
		return err
	}
	if rec.Phase.finished() {
		return fmt.Errorf("%w: %s is %s", ErrRolloutFinished, id, rec.Phase)
	}
	if pkg == nil || pkg.Name != rec.Package || pkg.Revision != rec.Revision || s.Type != rec.StrategyType {
		return fmt.Errorf("%w: rollout %s is %s %s (%s)", ErrRevisionMismatch, id, rec.Package, rec.Revision, rec.StrategyType)
	}
	if err := s.Validate(); err != nil {
		return err
	}
	revs := map[string]*Revision{}
	for _, w := range rec.Waves {
		for _, name := range w {
			c, _, err := p.manager.Get(name)
			if err != nil {
				return err
			}
			rev, err := render(ctx, p.cfg.Customizer, &c, pkg)
			if err != nil {
				return err
			}
			if cr := rec.Clusters[name]; cr.Revision != "" && cr.Revision != rev.ID && s.Type != StrategyBlueGreen {
				return &ClusterError{Cluster: name, Err: fmt.Errorf("%w: renders as %s, the rollout delivered %s", ErrRevisionMismatch, rev.ID, cr.Revision)}
			}
			revs[name] = rev
		}
	}
	r := newRollout(p, id, pkg, s.withDefaults(), rec.Waves, revs)
	r.restore(rec)
	p.start(r)
	return nil
}

func (p *Propagator) start(r *rollout) {
	p.mu.Lock()
	p.rollouts[r.id] = r
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		r.run()
		if p.ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.timers[r.id] = time.AfterFunc(p.cfg.Retention, func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			delete(p.rollouts, r.id)
			delete(p.timers, r.id)
		})
	}()
}

func (p *Propagator) get(id ID) (*rollout, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.rollouts[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRollout, id)
	}
	return r, nil
}

// Status returns a rollout's bounded summary. Rollouts of earlier
// processes are read from the state store.
func (p *Propagator) Status(ctx context.Context, id ID) (*Status, error) {
	r, err := p.get(id)
	if err == nil {
		return r.status(), nil
	}
	rec, lerr := p.cfg.Store.Load(ctx, id)
	if lerr != nil {
		return nil, err
	}
	return statusOfRecord(rec, p.cfg.FailuresShown, p.cfg.WavesShown), nil
}

// ClusterStatus returns one cluster's detail in a rollout (from the
// StateStore once the rollout has left memory).
func (p *Propagator) ClusterStatus(ctx context.Context, id ID, cluster string) (*ClusterStatus, error) {
	r, err := p.get(id)
	if err == nil {
		return r.clusterStatus(cluster)
	}
	rec, lerr := p.cfg.Store.Load(ctx, id)
	if lerr != nil {
		return nil, err
	}
	cr, ok := rec.Clusters[cluster]
	if !ok {
		return nil, &ClusterError{Cluster: cluster, Err: fmt.Errorf("%w in rollout %s", ErrUnknownCluster, id)}
	}
	wave := -1
	for wi, w := range rec.Waves {
		if slices.Contains(w, cluster) {
			wave = wi
		}
	}
	return &ClusterStatus{Name: cluster, Wave: wave, State: cr.State, Message: cr.Message, Revision: cr.Revision, Previous: cr.Previous}, nil
}

// Pause stops a rollout from starting more clusters; deliveries already
// under way finish.
func (p *Propagator) Pause(_ context.Context, id ID) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	return r.pause()
}

// Resume continues a paused rollout (Restore continues one of an earlier
// process).
func (p *Propagator) Resume(_ context.Context, id ID) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	return r.resume()
}

// Abort stops a rollout: no more clusters start, deliveries under way are
// stopped, and, when its strategy's OnFailure is Rollback, every touched
// cluster returns to its last-known-good revision. It returns once the
// rollout has finished.
func (p *Propagator) Abort(ctx context.Context, id ID) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	if err := r.abort(); err != nil {
		return err
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Events streams a rollout's events until it finishes or ctx ends; the
// channel is closed then.
func (p *Propagator) Events(ctx context.Context, id ID) (<-chan Event, error) {
	r, err := p.get(id)
	if err != nil {
		return nil, err
	}
	return r.events.subscribe(ctx), nil
}

// Wait blocks until the rollout finishes or ctx ends, and returns its
// status.
func (p *Propagator) Wait(ctx context.Context, id ID) (*Status, error) {
	r, err := p.get(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-r.done:
		return r.status(), nil
	case <-ctx.Done():
		return r.status(), ctx.Err()
	}
}

// isUnreachable reports errors that mean the cluster did not answer.
func isUnreachable(err error) bool {
	return errors.Is(err, ErrUnreachable)
}
