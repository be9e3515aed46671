package multicluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
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

	mu         sync.Mutex
	rollouts   map[ID]*rollout
	timers     map[ID]*time.Timer // forget finished rollouts after the retention
	candidates map[ID]bool        // rollouts waiting for ownership (Ownership set)
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
	// DefaultEventHistory is how many events a rollout keeps to replay to
	// a subscriber from its start: EventStarted and the latest others.
	DefaultEventHistory = 1024
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
	// EventBuffer is each Events subscriber's channel capacity beyond
	// the replayed history (0: DefaultEventBuffer).
	EventBuffer int
	// EventHistory bounds the events a rollout keeps to replay to every
	// Events subscriber first: EventStarted and the latest
	// EventHistory-1 others; a subscriber told Dropped > 0 on the first
	// replayed event after EventStarted missed that many (0:
	// DefaultEventHistory).
	EventHistory int
	// Retention is how long a finished rollout stays in memory (0:
	// DefaultRetention).
	Retention time.Duration
	// SkipPreflightProbe skips probing the targets before a rollout
	// starts. By default, targets that reject the credentials stop
	// Propagate before any cluster changes.
	SkipPreflightProbe bool
	// Ownership lets several replicas share rollouts through one Store:
	// a rollout runs only on the replica that owns it, from its record,
	// and another replica takes it over when ownership is lost (nil:
	// this Propagator alone owns the rollouts it starts).
	Ownership Ownership
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
	setDefault(&c.EventHistory, DefaultEventHistory)
	setDefault(&c.Retention, DefaultRetention)
	c.RenderConcurrency = max(1, c.RenderConcurrency)
	c.EventBuffer = max(1, c.EventBuffer)
	c.EventHistory = max(1, c.EventHistory)
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
	return &Propagator{manager: m, backend: b, cfg: cfg.withDefaults(), ctx: ctx, cancel: cancel, rollouts: map[ID]*rollout{},
		timers: map[ID]*time.Timer{}, candidates: map[ID]bool{}}
}

// Close stops every running rollout where it is (its record stays
// resumable; under Ownership it gives ownership up) and waits for them.
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
	waves, err := s.waves(d.Selected)
	if err != nil {
		return nil, nil, nil, err
	}
	revs := make(map[string]*Revision, len(d.Selected))
	if p.cfg.Customizer == nil {
		// Without a customizer every cluster gets the same content: one
		// revision serves them all (nothing changes a Revision once made).
		c, _, err := p.manager.Get(d.Selected[0])
		if err != nil {
			return nil, nil, nil, err
		}
		rev, err := render(ctx, nil, &c, pkg)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, name := range d.Selected {
			revs[name] = rev
		}
		return d, waves, revs, nil
	}
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

// Propagate rolls pkg out to the clusters targets selects, with strategy s,
// and returns the rollout's ID. Everything that can be checked up front
// is, before any cluster changes: the strategy's numbers, the options, the
// selection (unknown clusters, an empty selection, a spread that cannot be
// met), rendering for every cluster, and (unless SkipPreflightProbe) the
// credentials of every target.
//
// Propagate is idempotent by content: the ID is derived from the inputs
// (the package, each target with the content rendered for it, the
// strategy's settings, and the Attempt option), so that a reconcile loop,
// a restarted process or another replica computes the same ID. When a
// rollout of that ID exists, Propagate returns it as it is, running or
// finished (a failed one is not tried again: pass a new Attempt); one
// recorded by an earlier process and not finished is continued from its
// record. A rollout that was superseded does not count: the same inputs
// then start anew, under an ID derived from the one that superseded it.
//
// One rollout per package and cluster runs at a time. By default
// (ConflictSupersede) a new rollout of the package to some of the same
// clusters supersedes the older ones this Propagator runs: they stop at
// once, without rolling back, end PhaseSuperseded, and hand their clusters
// over; a rollback of the new rollout returns each such cluster to its
// last-known-good revision (what it ran before the older rollout touched
// it, or the older revision where that had become Available there). Under
// Ownership with a Store that is a RecordLister, the same holds across
// replicas: an older rollout's owner sees the newer one in the store
// within a SaveInterval and stops, and the newer one waits for that (at
// most five SaveIntervals) before it delivers. ConflictRefuse makes
// Propagate fail with a *ConflictError instead (under Ownership with a
// RecordLister store, naming a rollout any replica recorded).
//
// A cluster that already runs its exact revision, Available, counts
// Succeeded without a delivery; when every target does, the rollout
// succeeds at once. With PropagatorConfig.Ownership, the rollout runs on
// the replica that owns it (see Ownership); Propagate returns at once.
func (p *Propagator) Propagate(ctx context.Context, pkg *Package, targets Selector, s Strategy, opts ...PropagateOption) (ID, error) {
	if err := p.ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrClosed, err)
	}
	o, err := propagateOptions(opts)
	if err != nil {
		return "", err
	}
	_, waves, revs, err := p.prepare(ctx, pkg, targets, s)
	if err != nil {
		return "", err
	}
	s = s.withDefaults()
	id := rolloutID(pkg, waves, revs, s, o.Attempt)
	for range maxSupersededChain {
		phase, by, rec, err := p.lookup(ctx, id)
		if err != nil {
			return "", err
		}
		switch {
		case phase == "":
		case phase == PhaseSuperseded:
			// The fleet has moved on since: the same inputs again are a
			// new rollout, named after the one that superseded this.
			id = rolloutID(pkg, waves, revs, s, o.Attempt+"\x00after "+string(by))
			continue
		case rec != nil && !phase.finished():
			p.resume(rec, pkg, s, waves, revs) // recorded, running nowhere here
			return id, nil
		default:
			return id, nil
		}
		break
	}
	if o.OnConflict == ConflictRefuse {
		if err := p.conflict(ctx, id, pkg.Name, waves); err != nil {
			return "", err
		}
	}
	if err := p.preflight(ctx, waves); err != nil {
		return "", err
	}
	if p.cfg.Ownership != nil {
		// Only the owner writes the record: it creates it once it owns
		// the rollout.
		p.candidate(id, pkg, s, waves, revs)
		return id, nil
	}
	r := newRollout(p, id, pkg, s, waves, revs)
	if err := p.cfg.Store.Save(ctx, r.record()); err != nil {
		return "", storeError(id, "saving", err)
	}
	p.start(r)
	return id, nil
}

// maxSupersededChain bounds how many superseded rollouts of the same
// inputs Propagate steps over.
const maxSupersededChain = 64

// lookup finds rollout id here or in the store: its phase ("" when there
// is none), the rollout that superseded it, and, when it is recorded but
// neither runs here nor waits for ownership here, its record.
func (p *Propagator) lookup(ctx context.Context, id ID) (Phase, ID, *Record, error) {
	p.mu.Lock()
	r, here := p.rollouts[id]
	waiting := p.candidates[id]
	p.mu.Unlock()
	if here {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.phase, r.supersededByLocked(), nil, nil
	}
	rec, err := p.cfg.Store.Load(ctx, id)
	switch {
	case errors.Is(err, ErrUnknownRollout):
		if waiting {
			return PhaseRunning, "", nil, nil
		}
		return "", "", nil, nil
	case err != nil:
		return "", "", nil, storeError(id, "loading", err)
	case waiting:
		return rec.Phase, rec.SupersededBy, nil, nil
	}
	return rec.Phase, rec.SupersededBy, rec, nil
}

// storeError wraps a StateStore's error in ErrStore unless it wraps it
// already.
func storeError(id ID, doing string, err error) error {
	if errors.Is(err, ErrStore) || errors.Is(err, ErrUnknownRollout) {
		return err
	}
	return fmt.Errorf("%w: %s rollout %s: %w", ErrStore, doing, id, err)
}

// conflict returns a *ConflictError naming the oldest running rollout of
// the package that targets some of the same clusters: here, or under
// Ownership with a RecordLister store, recorded by any replica.
func (p *Propagator) conflict(ctx context.Context, id ID, pkg string, waves [][]string) error {
	var old ID
	var targets map[string]bool
	if prior := p.overlapping(id, pkg, waves); len(prior) > 0 {
		old, targets = prior[0].id, map[string]bool{}
		for name := range prior[0].clusters {
			targets[name] = true
		}
	} else if lister, ok := p.cfg.Store.(RecordLister); ok && p.cfg.Ownership != nil {
		recs, err := lister.Unfinished(ctx, pkg)
		if err != nil {
			return storeError(id, "listing the package's rollouts for", err)
		}
		sort.Slice(recs, func(i, j int) bool { return recs[i].Started.Before(recs[j].Started) })
		for _, rec := range recs {
			if rec.ID == id || !recordOverlaps(rec, waves) {
				continue
			}
			old, targets = rec.ID, map[string]bool{}
			for name := range rec.Clusters {
				targets[name] = true
			}
			break
		}
	}
	if old == "" {
		return nil
	}
	ce := &ConflictError{Rollout: old, Package: pkg}
	for _, w := range waves {
		for _, name := range w {
			if targets[name] {
				ce.Overlap++
				if len(ce.Clusters) < 5 {
					ce.Clusters = append(ce.Clusters, name)
				}
			}
		}
	}
	return ce
}

// overlapping returns the unfinished rollouts of pkg here, other than id,
// that target some of the clusters of waves, oldest first.
func (p *Propagator) overlapping(id ID, pkg string, waves [][]string) []*rollout {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*rollout
	for _, r := range p.rollouts {
		if r.id == id || r.pkg.Name != pkg {
			continue
		}
		r.mu.Lock()
		finished := r.phase.finished()
		r.mu.Unlock()
		if finished || !overlaps(r, waves) {
			continue
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].started.Before(out[j].started) })
	return out
}

// overlaps reports whether r targets a cluster of waves (r.clusters does
// not change once r exists).
func overlaps(r *rollout, waves [][]string) bool {
	for _, w := range waves {
		for _, name := range w {
			if _, ok := r.clusters[name]; ok {
				return true
			}
		}
	}
	return false
}

// recordOverlaps reports whether rec targets a cluster of waves.
func recordOverlaps(rec *Record, waves [][]string) bool {
	for _, w := range waves {
		for _, name := range w {
			if _, ok := rec.Clusters[name]; ok {
				return true
			}
		}
	}
	return false
}

// preflight probes the targets, unless SkipPreflightProbe, and fails when
// some reject the credentials.
func (p *Propagator) preflight(ctx context.Context, waves [][]string) error {
	if p.cfg.SkipPreflightProbe {
		return nil
	}
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
		return &ClusterError{Cluster: rejected[0], Err: fmt.Errorf("%w (%d of %d targets: %v)", ErrUnauthorized, len(rejected), len(names), rejected)}
	}
	return nil
}

// resume continues an unfinished record of an earlier process: here, or
// under Ownership on whichever replica owns it.
func (p *Propagator) resume(rec *Record, pkg *Package, s Strategy, waves [][]string, revs map[string]*Revision) {
	if p.cfg.Ownership != nil {
		p.candidate(rec.ID, pkg, s, waves, revs)
		return
	}
	r := newRollout(p, rec.ID, pkg, s, rec.Waves, revs)
	r.restore(rec)
	p.start(r)
}

// Restore continues a rollout recorded in the state store by an earlier
// Propagator or process that had not finished: clusters already done keep
// their state, the others are delivered again (delivery is idempotent),
// rollback still returns touched clusters to the revision they ran
// before, and a rollout recorded Paused stays Paused until Resume. pkg
// and s must be the ones it started with (ErrRevisionMismatch otherwise).
// A rollout that runs on this Propagator is ErrRolloutRunning; one that
// finished, here or in the record, ErrRolloutFinished. Restore runs the
// rollout here, whatever PropagatorConfig.Ownership says; Propagate with
// the same inputs continues it through Ownership instead.
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
		return storeError(id, "loading", err)
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
	var shared *Revision // without a customizer, one revision serves every cluster
	for _, w := range rec.Waves {
		for _, name := range w {
			c, _, err := p.manager.Get(name)
			if err != nil {
				return err
			}
			rev := shared
			if rev == nil {
				if rev, err = render(ctx, p.cfg.Customizer, &c, pkg); err != nil {
					return err
				}
				if p.cfg.Customizer == nil {
					shared = rev
				}
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

// register makes r the rollout of its ID here and lists the older
// rollouts it supersedes.
func (p *Propagator) register(r *rollout) {
	r.prior = p.overlapping(r.id, r.pkg.Name, r.waves)
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.timers[r.id]; ok {
		t.Stop()
		delete(p.timers, r.id)
	}
	p.rollouts[r.id] = r
}

// start runs r in the background.
func (p *Propagator) start(r *rollout) {
	p.register(r)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		r.run()
		p.retain(r)
	}()
}

// retain keeps a finished rollout in memory for the retention; one that
// stopped unfinished (ownership lost) leaves memory at once, so that
// Status reads the record its new owner keeps.
func (p *Propagator) retain(r *rollout) {
	if p.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	finished := r.phase.finished()
	r.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !finished {
		if p.rollouts[r.id] == r {
			delete(p.rollouts, r.id)
		}
		return
	}
	p.timers[r.id] = time.AfterFunc(p.cfg.Retention, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.rollouts[r.id] == r {
			delete(p.rollouts, r.id)
		}
		delete(p.timers, r.id)
	})
}

// candidate asks for ownership of rollout id in the background, once per
// ID at a time: once owned, it runs the rollout from its record (creating
// the record when there is none), until the rollout finishes or ownership
// is lost; then it gives ownership up and, if the rollout has not
// finished, asks again, to take it over when the next owner is gone.
func (p *Propagator) candidate(id ID, pkg *Package, s Strategy, waves [][]string, revs map[string]*Revision) {
	p.mu.Lock()
	if p.candidates[id] {
		p.mu.Unlock()
		return
	}
	p.candidates[id] = true
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() {
			p.mu.Lock()
			delete(p.candidates, id)
			p.mu.Unlock()
		}()
		for p.ctx.Err() == nil {
			owned, release, err := p.cfg.Ownership.Acquire(p.ctx, id)
			if err != nil {
				if p.ctx.Err() == nil {
					p.cfg.Logger.Error(err, "acquiring rollout ownership", "rollout", id)
					p.pause(p.cfg.SaveInterval)
				}
				continue
			}
			done := p.runOwned(owned, id, pkg, s, waves, revs)
			release()
			if done {
				return
			}
		}
	}()
}

// pause sleeps for d or until the Propagator closes.
func (p *Propagator) pause(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.ctx.Done():
	}
}

// runOwned runs rollout id while owned lasts and reports whether it is
// finished.
func (p *Propagator) runOwned(owned context.Context, id ID, pkg *Package, s Strategy, waves [][]string, revs map[string]*Revision) bool {
	r := newRollout(p, id, pkg, s, waves, revs)
	r.base, r.owned = owned, true
	rec, err := p.cfg.Store.Load(owned, id)
	switch {
	case errors.Is(err, ErrUnknownRollout):
		if err := p.cfg.Store.Save(owned, r.record()); err != nil {
			p.cfg.Logger.Error(err, "saving rollout record", "rollout", id)
			return false
		}
	case err != nil:
		if owned.Err() == nil {
			p.cfg.Logger.Error(err, "loading rollout record", "rollout", id)
		}
		return false
	case rec.Phase.finished():
		return true
	default:
		r.restore(rec)
	}
	p.register(r)
	r.run()
	p.retain(r)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.phase.finished()
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

// Status returns a rollout's bounded summary: from memory while it runs
// here (and for PropagatorConfig.Retention after it finished), from the
// StateStore otherwise (rollouts of earlier processes, or run by another
// replica); both say the same.
func (p *Propagator) Status(ctx context.Context, id ID) (*Status, error) {
	if r, err := p.get(id); err == nil {
		return r.status(), nil
	}
	rec, err := p.cfg.Store.Load(ctx, id)
	if err != nil {
		return nil, storeError(id, "loading", err)
	}
	return statusOfRecord(rec, p.cfg.FailuresShown, p.cfg.WavesShown), nil
}

// ClusterStatus returns one cluster's detail in a rollout (from the
// StateStore once the rollout has left memory, or runs elsewhere).
func (p *Propagator) ClusterStatus(ctx context.Context, id ID, cluster string) (*ClusterStatus, error) {
	if r, err := p.get(id); err == nil {
		return r.clusterStatus(cluster)
	}
	rec, err := p.cfg.Store.Load(ctx, id)
	if err != nil {
		return nil, storeError(id, "loading", err)
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
	cs := clusterStatusOfRecord(cluster, wave, cr)
	return &cs, nil
}

// Pause stops a rollout that runs here from starting more clusters;
// deliveries already under way finish.
func (p *Propagator) Pause(_ context.Context, id ID) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	return r.pause()
}

// Resume continues a paused rollout that runs here (Restore continues one
// of an earlier process).
func (p *Propagator) Resume(_ context.Context, id ID) error {
	r, err := p.get(id)
	if err != nil {
		return err
	}
	return r.resume()
}

// Abort stops a rollout that runs here: no more clusters start,
// deliveries under way are stopped, and, when its strategy's OnFailure is
// Rollback, every touched cluster returns to its last-known-good revision;
// without rollback, clusters caught mid-delivery end ClusterStopped. It
// returns once the rollout has finished.
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

// Events streams a rollout that runs here (or finished here within the
// retention) from its start: the channel first replays the events the
// rollout kept (EventStarted and the latest PropagatorConfig.EventHistory-1
// others), then carries new ones until the rollout finishes or ctx ends,
// and is closed then.
func (p *Propagator) Events(ctx context.Context, id ID) (<-chan Event, error) {
	r, err := p.get(id)
	if err != nil {
		return nil, err
	}
	return r.events.subscribe(ctx), nil
}

// Wait blocks until the rollout finishes or ctx ends, and returns its
// status. A rollout that runs on another replica (or waits for ownership
// here) is followed through the StateStore, polled every SaveInterval. It
// returns with the rollout still Running when the Propagator closes.
func (p *Propagator) Wait(ctx context.Context, id ID) (*Status, error) {
	for {
		if r, err := p.get(id); err == nil {
			select {
			case <-r.done:
				st := r.status()
				if st.Phase.finished() || p.ctx.Err() != nil {
					return st, nil
				}
				// Ownership was lost: follow the next owner.
			case <-ctx.Done():
				return r.status(), ctx.Err()
			}
		}
		rec, err := p.cfg.Store.Load(ctx, id)
		switch {
		case err == nil && rec.Phase.finished():
			return statusOfRecord(rec, p.cfg.FailuresShown, p.cfg.WavesShown), nil
		case errors.Is(err, ErrUnknownRollout) && p.waiting(id):
		case err != nil:
			return nil, storeError(id, "loading", err)
		}
		t := time.NewTimer(p.cfg.SaveInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			if rec != nil {
				return statusOfRecord(rec, p.cfg.FailuresShown, p.cfg.WavesShown), ctx.Err()
			}
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// waiting reports a rollout this Propagator waits to own.
func (p *Propagator) waiting(id ID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.candidates[id]
}

// isUnreachable reports errors that mean the cluster did not answer.
func isUnreachable(err error) bool {
	return errors.Is(err, ErrUnreachable)
}
