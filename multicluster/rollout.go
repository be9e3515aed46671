package multicluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// rollout is one running propagation.
type rollout struct {
	p     *Propagator
	id    ID
	pkg   *Package
	s     Strategy
	waves [][]string
	revs  map[string]*Revision
	total int

	// base is what the rollout runs under: the Propagator's context, or
	// under Ownership the owned context, which ends when ownership is
	// lost; then the rollout stops without saving, for the next owner.
	base  context.Context
	owned bool
	// prior are the older rollouts of the package this one supersedes;
	// it stops them and takes their clusters over before it starts.
	prior []*rollout

	events      broadcaster
	done        chan struct{}
	abortCh     chan struct{}
	once        sync.Once
	supersedeCh chan struct{} // closed when a newer rollout supersedes this one
	superOnce   sync.Once
	// saveMu orders saves: a record taken earlier is never written after
	// one taken later (the periodic save against the final one).
	saveMu sync.Mutex

	mu         sync.Mutex
	phase      Phase
	reason     string
	wave       int
	clusters   map[string]*clusterRun
	counts     map[ClusterState]int
	waveCounts []map[ClusterState]int
	failed     []string // in order of failure
	analysis   []AnalysisStatus
	resumeCh   chan struct{} // closed while not paused
	started    time.Time
	finished   time.Time
	dirty      bool
	// supersededBy is the rollout that supersedes this one; Status and the
	// record show it once the phase is PhaseSuperseded.
	supersededBy ID
}

type clusterRun struct {
	wave       int
	state      ClusterState
	message    string
	failure    string
	failedAs   ClusterState
	revision   string
	previous   *Revision
	previousID string
	// known: previousID is the cluster's last-known-good revision (read
	// before delivery, handed over, or from a record); it is not asked
	// again.
	known bool
	// inherited: previousID came from a superseded rollout or a record, so
	// it may not be what the cluster runs now.
	inherited bool
	touched   bool
	started   time.Time
	finished  time.Time
}

func newRollout(p *Propagator, id ID, pkg *Package, s Strategy, waves [][]string, revs map[string]*Revision) *rollout {
	r := &rollout{p: p, id: id, pkg: pkg, s: s, waves: waves, revs: revs, base: p.ctx, done: make(chan struct{}),
		abortCh: make(chan struct{}), supersedeCh: make(chan struct{}), phase: PhaseRunning, clusters: map[string]*clusterRun{},
		counts: map[ClusterState]int{}, resumeCh: make(chan struct{}), started: time.Now()}
	close(r.resumeCh)
	r.events.buffer, r.events.history = p.cfg.EventBuffer, p.cfg.EventHistory
	r.waveCounts = make([]map[ClusterState]int, len(waves))
	for wi, w := range waves {
		r.waveCounts[wi] = map[ClusterState]int{ClusterPending: len(w)}
		for _, name := range w {
			r.clusters[name] = &clusterRun{wave: wi, state: ClusterPending}
			r.total++
		}
	}
	r.counts[ClusterPending] = r.total
	return r
}

// restore takes over a record's progress: clusters done keep their
// state, Progressing ones are delivered again (Deliver is idempotent), and
// a Paused record stays Paused until Resume.
func (r *rollout) restore(rec *Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wave, r.started = rec.Wave, rec.Started
	for name, cr := range rec.Clusters {
		run, ok := r.clusters[name]
		if !ok {
			continue
		}
		state := cr.State
		if state == ClusterProgressing {
			state = ClusterPending // delivered again; Deliver is idempotent
		}
		r.setLocked(name, run, state, cr.Message)
		run.revision, run.previousID, run.touched = cr.Revision, cr.Previous, cr.Touched
		run.known = cr.Touched || cr.Known
		run.inherited = run.known
		run.failure, run.failedAs, run.started, run.finished = cr.Failure, cr.FailedAs, cr.Started, cr.Finished
	}
	r.failed = slices.Clone(rec.Failed)
	r.analysis = slices.Clone(rec.Analysis)
	if rec.Phase == PhasePaused {
		r.phase, r.resumeCh = PhasePaused, make(chan struct{})
	}
}

// set moves a cluster to state and emits the matching event.
func (r *rollout) set(name string, state ClusterState, msg string) {
	r.mu.Lock()
	run := r.clusters[name]
	r.setLocked(name, run, state, msg)
	wave := run.wave
	r.mu.Unlock()
	typ := map[ClusterState]EventType{ClusterProgressing: EventClusterStarted, ClusterSucceeded: EventClusterSucceeded,
		ClusterFailed: EventClusterFailed, ClusterUnreachable: EventClusterUnreachable, ClusterRolledBack: EventClusterRolledBack,
		ClusterRollbackFailed: EventClusterFailed}[state]
	if typ != "" {
		r.emit(Event{Type: typ, Cluster: name, Wave: wave, State: state, Message: msg})
	}
}

func (r *rollout) setLocked(name string, run *clusterRun, state ClusterState, msg string) {
	if run.state == state && run.message == msg {
		return
	}
	r.counts[run.state]--
	r.waveCounts[run.wave][run.state]--
	if r.counts[run.state] == 0 {
		delete(r.counts, run.state)
	}
	if r.waveCounts[run.wave][run.state] == 0 {
		delete(r.waveCounts[run.wave], run.state)
	}
	if state.failed() {
		if run.failedAs == "" && len(r.failed) < r.p.cfg.FailuresShown {
			r.failed = append(r.failed, name)
		}
		run.failedAs, run.failure = state, msg
	}
	run.state, run.message = state, msg
	r.counts[state]++
	r.waveCounts[run.wave][state]++
	now := time.Now()
	switch state {
	case ClusterProgressing:
		if run.started.IsZero() {
			run.started = now
		}
	case ClusterPending:
	default:
		run.finished = now
	}
	r.dirty = true
}

func (r *rollout) emit(e Event) {
	e.Time, e.Rollout = time.Now(), r.id
	if e.Cluster == "" && e.Type != EventWaveStarted && e.Type != EventWaveSucceeded && e.Type != EventAnalysis {
		e.Wave = -1
	}
	r.events.publish(e)
}

func (r *rollout) setPhase(phase Phase, reason string) {
	r.mu.Lock()
	r.phase, r.reason, r.dirty = phase, reason, true
	if phase.finished() {
		r.finished = time.Now()
	}
	r.mu.Unlock()
	r.save()
}

func (r *rollout) save() {
	// An owner that lost ownership writes nothing more: the next owner's
	// record is the one that counts.
	r.saveMu.Lock()
	defer r.saveMu.Unlock()
	if r.owned && r.base.Err() != nil {
		return
	}
	r.mu.Lock()
	rec := r.recordLocked()
	r.dirty = false
	r.mu.Unlock()
	// The last save happens as the Propagator closes: it must not be
	// cancelled with it. Under Ownership it ends with ownership.
	base := context.WithoutCancel(r.p.ctx)
	if r.owned {
		base = r.base
	}
	ctx, cancel := context.WithTimeout(base, r.p.cfg.SaveTimeout)
	defer cancel()
	if err := r.p.cfg.Store.Save(ctx, rec); err != nil {
		r.p.cfg.Logger.Error(err, "saving rollout record", "rollout", r.id)
	}
}

func (r *rollout) record() *Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recordLocked()
}

func (r *rollout) recordLocked() *Record {
	rec := &Record{ID: r.id, Package: r.pkg.Name, Revision: r.pkg.Revision, StrategyType: r.s.Type, Phase: r.phase,
		Reason: r.reason, SupersededBy: r.supersededByLocked(), Wave: r.wave, Waves: r.waves,
		Clusters: make(map[string]ClusterRecord, len(r.clusters)), Started: r.started, Finished: r.finished,
		Failed: slices.Clone(r.failed), Analysis: slices.Clone(r.analysis)}
	for name, run := range r.clusters {
		prev := run.previousID
		if run.previous != nil {
			prev = run.previous.ID
		}
		rec.Clusters[name] = ClusterRecord{State: run.state, Revision: run.revision, Previous: prev, Touched: run.touched,
			Known: run.known && !run.touched, Message: run.message, Failure: run.failure, FailedAs: run.failedAs,
			Started: run.started, Finished: run.finished}
	}
	return rec
}

// run drives the rollout to its end.
func (r *rollout) run() {
	defer close(r.done)
	defer r.events.close()
	ctx, cancel := context.WithCancel(r.base)
	defer cancel()
	ctx, finished := r.p.cfg.Instrumentation.StartRollout(ctx, RolloutInfo{ID: r.id, Package: r.pkg.Name, Revision: r.pkg.Revision,
		Strategy: r.s.Type, Clusters: r.total, Waves: len(r.waves)})
	defer func() {
		r.mu.Lock()
		phase := r.phase
		r.mu.Unlock()
		finished(phase)
	}()
	go func() {
		select {
		case <-r.abortCh:
			cancel()
		case <-r.supersedeCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	saverDone := make(chan struct{})
	go func() {
		defer close(saverDone)
		t := time.NewTicker(r.p.cfg.SaveInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if by, ok := r.newerElsewhere(ctx); ok {
					r.supersede(by)
				}
				r.mu.Lock()
				dirty := r.dirty
				r.mu.Unlock()
				if dirty {
					r.save()
				}
			}
		}
	}()
	defer func() { cancel(); <-saverDone }()

	r.emit(Event{Type: EventStarted, Message: fmt.Sprintf("%s %s to %s in %s (%s)", r.pkg.Name, r.pkg.Revision,
		count(r.total, "cluster", "clusters"), count(len(r.waves), "wave", "waves"), r.s.Type)})
	if by, ok := r.newerElsewhere(ctx); ok {
		r.supersede(by)
	}
	r.takeOver(ctx)
	already := r.settle(ctx)
	if r.stopped(ctx) {
		return
	}
	if already == r.total {
		reason := fmt.Sprintf("%s already %s %s %s; nothing delivered", count(already, "cluster", "clusters"), number(already, "runs", "run"), r.pkg.Name, r.pkg.Revision)
		r.setPhase(PhaseSucceeded, reason)
		r.emit(Event{Type: EventFinished, Phase: PhaseSucceeded, Message: reason})
		return
	}
	r.mu.Lock()
	first := r.wave
	r.mu.Unlock()
	for wi := first; wi < len(r.waves); wi++ {
		r.mu.Lock()
		r.wave, r.dirty = wi, true
		r.mu.Unlock()
		r.emit(Event{Type: EventWaveStarted, Wave: wi, Message: fmt.Sprintf("%d clusters", len(r.waves[wi]))})
		ok, reason := r.runWave(ctx, wi)
		if ok && ctx.Err() == nil {
			ok, reason = r.analyse(ctx, wi)
		}
		if r.stopped(ctx) {
			return
		}
		if !ok {
			r.gateFailed(ctx, reason, PhaseHalted)
			return
		}
		r.emit(Event{Type: EventWaveSucceeded, Wave: wi})
	}
	r.succeed()
}

// succeed ends a rollout whose every wave passed its gate: Succeeded, or
// SucceededWithFailures when MaxFailures tolerated failed or unreachable
// clusters.
func (r *rollout) succeed() {
	r.mu.Lock()
	ok, failed, unreachable := r.counts[ClusterSucceeded], r.counts[ClusterFailed], r.counts[ClusterUnreachable]
	r.mu.Unlock()
	runs := fmt.Sprintf("%s %s %s %s", count(ok, "cluster", "clusters"), number(ok, "runs", "run"), r.pkg.Name, r.pkg.Revision)
	phase, reason := PhaseSucceeded, runs
	if failed+unreachable > 0 {
		var parts []string
		if failed > 0 {
			parts = append(parts, count(failed, "cluster", "clusters")+" failed")
		}
		if unreachable > 0 {
			parts = append(parts, fmt.Sprintf("%s %s unreachable", count(unreachable, "cluster", "clusters"), number(unreachable, "was", "were")))
		}
		phase = PhaseSucceededWithFailures
		reason = fmt.Sprintf("%s, within maxFailures %s; %s", strings.Join(parts, " and "), r.s.MaxFailures, runs)
	}
	r.setPhase(phase, reason)
	r.emit(Event{Type: EventFinished, Phase: phase, Message: reason})
}

// takeOver supersedes the older rollouts of the package to the same
// clusters: it stops them (they do not roll back), waits until they have,
// and takes each touched cluster's last-known-good revision over, so that
// a rollback of this rollout returns the cluster to what it ran before
// the older rollout touched it (or to the older revision, where that one
// had become Available).
func (r *rollout) takeOver(ctx context.Context) {
	for _, old := range r.prior {
		old.supersede(r.id)
	}
	for _, old := range r.prior {
		select {
		case <-old.done:
		case <-ctx.Done():
			return
		}
		r.inherit(old)
	}
	r.prior = nil
	r.takeOverRecorded(ctx)
}

// supersedeWaitTicks bounds, in SaveIntervals, how long a rollout waits
// for an older one that another replica runs to stop: its owner checks
// for newer rollouts at every SaveInterval, so one that has not stopped
// by then has no live owner (and a later owner checks before it starts).
const supersedeWaitTicks = 5

// takeOverRecorded supersedes, under Ownership, the older unfinished
// rollouts of the package that other replicas run: it waits until they
// have stopped (their owners see this newer rollout in the store) and
// takes their touched clusters' last-known-good revisions over from their
// records.
func (r *rollout) takeOverRecorded(ctx context.Context) {
	seen := map[ID]*Record{}
	deadline := time.Now().Add(supersedeWaitTicks * r.p.cfg.SaveInterval)
	for {
		open := map[ID]bool{}
		for _, rec := range r.othersRecorded(ctx) {
			if !r.olderThan(rec) {
				seen[rec.ID], open[rec.ID] = rec, true
			}
		}
		for id := range seen {
			if open[id] {
				continue
			}
			if rec, err := r.p.cfg.Store.Load(ctx, id); err == nil {
				seen[id] = rec // its final record
			}
		}
		if len(open) == 0 || !time.Now().Before(deadline) {
			break
		}
		t := time.NewTimer(r.p.cfg.SaveInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	for _, rec := range seen {
		r.inheritRecord(rec)
	}
}

// othersRecorded returns, under Ownership with a RecordLister store, the
// unfinished records of other rollouts of the package that target some of
// the same clusters.
func (r *rollout) othersRecorded(ctx context.Context) []*Record {
	lister, ok := r.p.cfg.Store.(RecordLister)
	if !ok || !r.owned || ctx.Err() != nil {
		return nil
	}
	recs, err := lister.Unfinished(ctx, r.pkg.Name)
	if err != nil {
		if ctx.Err() == nil {
			r.p.cfg.Logger.Error(err, "listing rollouts of the package", "rollout", r.id)
		}
		return nil
	}
	var out []*Record
	for _, rec := range recs {
		if rec.ID == r.id {
			continue
		}
		for name := range rec.Clusters {
			if _, ok := r.clusters[name]; ok {
				out = append(out, rec)
				break
			}
		}
	}
	return out
}

// newerElsewhere returns a newer unfinished rollout of the package to some
// of the same clusters that the store records (another replica's).
func (r *rollout) newerElsewhere(ctx context.Context) (ID, bool) {
	for _, rec := range r.othersRecorded(ctx) {
		if r.olderThan(rec) {
			return rec.ID, true
		}
	}
	return "", false
}

// olderThan reports r started before rec (by ID on a tie).
func (r *rollout) olderThan(rec *Record) bool {
	return rec.Started.After(r.started) || rec.Started.Equal(r.started) && rec.ID > r.id
}

// inheritRecord takes over the last-known-good revisions of the clusters
// a superseded rollout's record shows touched and neither Available with
// its revision nor rolled back.
func (r *rollout) inheritRecord(rec *Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, cr := range rec.Clusters {
		if !cr.Touched || cr.State == ClusterSucceeded || cr.State == ClusterRolledBack {
			continue
		}
		if run, ok := r.clusters[name]; ok && !run.touched {
			run.previous, run.previousID, run.known, run.inherited = nil, cr.Previous, true, true
			r.dirty = true
		}
	}
}

// supersede stops the rollout for newer, once.
func (r *rollout) supersede(newer ID) {
	r.superOnce.Do(func() {
		r.mu.Lock()
		r.supersededBy = newer
		r.mu.Unlock()
		close(r.supersedeCh)
	})
}

func (r *rollout) supersededByLocked() ID {
	if r.phase != PhaseSuperseded {
		return ""
	}
	return r.supersededBy
}

// inherit takes over the last-known-good revision of every cluster old
// touched and left neither Available with its revision nor rolled back.
func (r *rollout) inherit(old *rollout) {
	type lkg struct {
		prev *Revision
		id   string
	}
	handed := map[string]lkg{}
	old.mu.Lock()
	for name, run := range old.clusters {
		if run.touched && run.state != ClusterSucceeded && run.state != ClusterRolledBack {
			handed[name] = lkg{run.previous, run.previousID}
		}
	}
	old.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, h := range handed {
		if run, ok := r.clusters[name]; ok && !run.touched {
			run.previous, run.previousID, run.known, run.inherited = h.prev, h.id, true, true
			r.dirty = true
		}
	}
}

// settle reads what every cluster not yet started runs, before this
// rollout touches it, and counts those that already run their revision,
// Available, Succeeded without a delivery. It returns how many clusters
// are Succeeded that way.
func (r *rollout) settle(ctx context.Context) int {
	if r.s.Type == StrategyBlueGreen || ctx.Err() != nil {
		return 0 // blue-green compares content itself
	}
	var names []string
	r.mu.Lock()
	for name, run := range r.clusters {
		if run.state == ClusterPending && !run.touched {
			names = append(names, name)
		}
	}
	r.mu.Unlock()
	var already atomic.Int64
	sem := make(chan struct{}, r.p.cfg.RenderConcurrency)
	var wg sync.WaitGroup
	for _, name := range names {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if r.settleOne(ctx, name) {
				already.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(already.Load())
}

func (r *rollout) settleOne(ctx context.Context, name string) bool {
	c, _, err := r.p.manager.Get(name)
	if err != nil {
		return false
	}
	cur, err := r.p.backend.Current(ctx, &c, r.pkg.Name)
	if err != nil {
		return false // delivery asks again and reports it
	}
	rev := r.revs[name]
	r.mu.Lock()
	run := r.clusters[name]
	if !run.known {
		run.previous, run.previousID, run.known = cur, "", true
		if cur != nil {
			run.previousID = cur.ID
		}
		r.dirty = true
	}
	r.mu.Unlock()
	if cur == nil || cur.ID != rev.ID {
		return false
	}
	if obs, err := r.p.backend.Observe(ctx, &c, rev); err != nil || obs.State != DeliveryAvailable {
		return false // delivered again and gated
	}
	r.mu.Lock()
	run.revision = rev.ID
	r.mu.Unlock()
	r.set(name, ClusterSucceeded, "already runs "+rev.ID)
	return true
}

// stopped handles a newer rollout superseding this one, an abort, or the
// Propagator closing or ownership ending (the record stays Running, to be
// restored or taken over).
func (r *rollout) stopped(ctx context.Context) bool {
	select {
	case <-r.supersedeCh:
		r.finishSuperseded()
		return true
	default:
	}
	select {
	case <-r.abortCh:
		r.gateFailed(ctx, "aborted", PhaseAborted)
		return true
	default:
	}
	if r.base.Err() != nil {
		r.save()
		return true
	}
	return ctx.Err() != nil
}

// finishSuperseded ends a superseded rollout where it is, without rolling
// back: clusters not reached are Skipped, deliveries under way Stopped
// (the newer rollout delivers them again).
func (r *rollout) finishSuperseded() {
	r.mu.Lock()
	by := r.supersededBy
	reason := "superseded by " + string(by)
	for name, run := range r.clusters {
		switch {
		case run.state == ClusterPending, run.state == ClusterProgressing && !run.touched:
			r.setLocked(name, run, ClusterSkipped, "not reached: "+reason)
		case run.state == ClusterProgressing:
			r.setLocked(name, run, ClusterStopped, fmt.Sprintf("%s while %s was being delivered", reason, run.revision))
		}
	}
	r.mu.Unlock()
	r.emit(Event{Type: EventSuperseded, Message: reason})
	r.setPhase(PhaseSuperseded, reason)
	r.emit(Event{Type: EventFinished, Phase: PhaseSuperseded, Message: reason})
}

// settleStopped makes the clusters a stopped rollout left Progressing
// final: Stopped where a revision was delivered, Skipped where none was.
func (r *rollout) settleStopped(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, run := range r.clusters {
		if run.state != ClusterProgressing {
			continue
		}
		if run.touched {
			r.setLocked(name, run, ClusterStopped, fmt.Sprintf("stopped while %s was being delivered: %s", run.revision, reason))
		} else {
			r.setLocked(name, run, ClusterSkipped, "not reached: "+reason)
		}
	}
}

func (r *rollout) concurrency() int {
	switch {
	case r.s.Type == StrategySequential:
		return 1
	case r.s.MaxConcurrency.Value > 0:
		return max(1, r.s.MaxConcurrency.Of(r.total))
	}
	return r.total
}

// gateBroken says why the failures so far fail the gate, if they do.
func (r *rollout) gateBroken(wi int) (bool, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	failures := r.counts[ClusterFailed] + r.counts[ClusterUnreachable]
	if r.s.Type == StrategyCanary && wi == 0 {
		if n := r.waveCounts[0][ClusterFailed] + r.waveCounts[0][ClusterUnreachable]; n > 0 {
			return true, fmt.Sprintf("%d of %d clusters of the canary's first wave failed%s", n, len(r.waves[0]), r.firstFailureLocked())
		}
	}
	if limit := r.s.MaxFailures.Of(r.total); failures > limit {
		return true, fmt.Sprintf("%s failed, more than maxFailures %s (%d of %d)%s", count(failures, "cluster", "clusters"), r.s.MaxFailures, limit, r.total, r.firstFailureLocked())
	}
	return false, ""
}

func (r *rollout) firstFailureLocked() string {
	if len(r.failed) == 0 {
		return ""
	}
	run := r.clusters[r.failed[0]]
	return fmt.Sprintf(": first %s %s: %s", r.failed[0], run.state, run.message)
}

func (r *rollout) runWave(ctx context.Context, wi int) (bool, string) {
	sem := make(chan struct{}, r.concurrency())
	var wg sync.WaitGroup
	for _, name := range r.waves[wi] {
		r.mu.Lock()
		state := r.clusters[name].state
		r.mu.Unlock()
		if state != ClusterPending {
			continue // restored: already done
		}
		if err := r.waitIfPaused(ctx); err != nil {
			break
		}
		if broken, _ := r.gateBroken(wi); broken {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, done := r.p.cfg.Instrumentation.StartCluster(ctx, r.id, name, wi)
			r.deliver(ctx, name)
			done(r.state(name))
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return false, "stopped"
	}
	if broken, reason := r.gateBroken(wi); broken {
		return false, reason
	}
	return true, ""
}

func (r *rollout) waitIfPaused(ctx context.Context) error {
	r.mu.Lock()
	ch := r.resumeCh
	r.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deliver rolls the revision out to one cluster and gates on it.
func (r *rollout) deliver(ctx context.Context, name string) {
	c, _, err := r.p.manager.Get(name)
	if err != nil {
		r.set(name, ClusterFailed, err.Error())
		return
	}
	r.set(name, ClusterProgressing, "")
	rev := r.revs[name]
	prev, err := r.previous(ctx, &c)
	if err != nil {
		r.fail(ctx, name, fmt.Sprintf("reading the current revision: %v", err), err)
		return
	}
	if r.s.Type == StrategyBlueGreen {
		r.blueGreen(ctx, &c, prev, rev)
		return
	}
	r.mu.Lock()
	run := r.clusters[name]
	runsIt := prev != nil && prev.ID == rev.ID && !run.inherited && !run.touched
	if runsIt {
		run.revision = rev.ID
	}
	r.mu.Unlock()
	if runsIt { // no delivery: the cluster runs the revision; gate it
		state, msg := r.await(ctx, &c, rev)
		if state == ClusterSucceeded {
			msg = "already runs " + rev.ID
		}
		r.set(name, state, msg)
		return
	}
	r.touch(name, rev.ID)
	if err := r.p.backend.Deliver(ctx, &c, rev); err != nil {
		r.fail(ctx, name, fmt.Sprintf("delivering %s: %v", rev.ID, err), err)
		return
	}
	state, msg := r.await(ctx, &c, rev)
	r.set(name, state, msg)
}

// fail records a backend error: Unreachable or Failed, unless the rollout
// is stopping (then the cluster stays Progressing, to be delivered again
// when the rollout is restored).
func (r *rollout) fail(ctx context.Context, name, msg string, err error) {
	if ctx.Err() != nil {
		r.set(name, ClusterProgressing, "stopped: "+msg)
		return
	}
	r.set(name, stateOf(err), msg)
}

// previous returns what the cluster ran before this rollout touched it.
func (r *rollout) previous(ctx context.Context, c *Cluster) (*Revision, error) {
	r.mu.Lock()
	run := r.clusters[c.Name]
	known, prev, prevID := run.known, run.previous, run.previousID
	r.mu.Unlock()
	if known {
		if prev != nil || prevID == "" {
			return prev, nil
		}
		prev, err := r.p.backend.Get(ctx, c, r.pkg.Name, prevID)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		run.previous = prev
		r.mu.Unlock()
		return prev, nil
	}
	prev, err := r.p.backend.Current(ctx, c, r.pkg.Name)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	run.previous, run.known = prev, true
	if prev != nil {
		run.previousID = prev.ID
	}
	r.mu.Unlock()
	return prev, nil
}

func (r *rollout) state(name string) ClusterState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.clusters[name].state
}

func (r *rollout) touch(name, revision string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := r.clusters[name]
	run.touched, run.revision, r.dirty = true, revision, true
}

// stateOf classifies a backend error.
func stateOf(err error) ClusterState {
	if isUnreachable(err) {
		return ClusterUnreachable
	}
	return ClusterFailed
}

// await observes the cluster until rev is Available, fails, the progress
// deadline passes, or ctx ends (then the state stays Progressing).
func (r *rollout) await(ctx context.Context, c *Cluster, rev *Revision) (ClusterState, string) {
	deadline := time.Now().Add(r.s.ProgressDeadline)
	t := time.NewTicker(r.s.PollInterval)
	defer t.Stop()
	misses, last := 0, "not observed yet"
	for {
		obs, err := r.p.backend.Observe(ctx, c, rev)
		switch {
		case ctx.Err() != nil:
			return ClusterProgressing, "stopped before " + rev.ID + " was Available"
		case err != nil && isUnreachable(err):
			misses++
			last = err.Error()
			if misses >= r.p.cfg.UnreachableAfter {
				return ClusterUnreachable, last
			}
		case err != nil && errors.Is(err, ErrUnauthorized):
			return ClusterFailed, err.Error()
		case err != nil:
			misses, last = 0, err.Error()
		case obs.State == DeliveryAvailable:
			return ClusterSucceeded, firstNonEmpty(obs.Message, rev.ID+" Available")
		case obs.State == DeliveryFailed:
			return ClusterFailed, obs.Message
		default:
			misses, last = 0, obs.Message
		}
		if !time.Now().Before(deadline) {
			return ClusterFailed, fmt.Sprintf("progress deadline %s exceeded: %s", r.s.ProgressDeadline, last)
		}
		select {
		case <-ctx.Done():
			return ClusterProgressing, "stopped before " + rev.ID + " was Available"
		case <-t.C:
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// analyse runs the analysis checks during the wave's soak.
func (r *rollout) analyse(ctx context.Context, wi int) (bool, string) {
	checks := r.s.Analysis
	if len(checks) == 0 && r.s.MinSuccessTime == 0 {
		return true, ""
	}
	var done []string
	for _, w := range r.waves[:wi+1] {
		done = append(done, w...)
	}
	in := AnalysisInput{Rollout: r.id, Package: r.pkg.Name, Revision: r.pkg.Revision, Wave: wi, Clusters: done}
	end := time.Now().Add(r.s.MinSuccessTime)
	failures := make([]int, len(checks))
	next := make([]time.Time, len(checks))
	for i := range next {
		next[i] = time.Now()
		if checks[i].Interval == 0 {
			next[i] = end // once, at the end of the soak
		}
	}
	for {
		now := time.Now()
		for i, a := range checks {
			if now.Before(next[i]) {
				continue
			}
			next[i] = now.Add(a.Interval)
			if a.Interval == 0 {
				next[i] = end.Add(time.Hour)
			}
			v, err := a.Check.Evaluate(ctx, in)
			if ctx.Err() != nil {
				return false, "stopped"
			}
			msg := fmt.Sprintf("%v in %s", v, a.Range)
			ok := err == nil && a.Range.contains(v)
			if err != nil {
				msg = err.Error()
			} else if !ok {
				msg = fmt.Sprintf("%v outside %s", v, a.Range)
			}
			if !ok {
				failures[i]++
			}
			r.p.cfg.Instrumentation.Analysed(ctx, r.id, a.Name, v, ok)
			r.recordAnalysis(AnalysisStatus{Name: a.Name, Value: v, Failures: failures[i], Message: msg})
			r.emit(Event{Type: EventAnalysis, Wave: wi, Message: a.Name + ": " + msg})
			if failures[i] >= max(1, a.FailureThreshold) {
				return false, fmt.Sprintf("analysis %s failed %d time(s) after wave %d: %s", a.Name, failures[i], wi, msg)
			}
		}
		if !now.Before(end) && allRan(next, end) {
			return true, ""
		}
		wake := end
		for _, n := range next {
			if n.Before(wake) {
				wake = n
			}
		}
		timer := time.NewTimer(max(0, time.Until(wake)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return false, "stopped"
		case <-timer.C:
		}
	}
}

// allRan reports every check evaluated at least once by end.
func allRan(next []time.Time, end time.Time) bool {
	for _, n := range next {
		if !n.After(end) {
			return false
		}
	}
	return true
}

func (r *rollout) recordAnalysis(a AnalysisStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.analysis {
		if r.analysis[i].Name == a.Name {
			r.analysis[i] = a
			return
		}
	}
	r.analysis = append(r.analysis, a)
}

// gateFailed stops the rollout: clusters not started are skipped, and with
// OnFailure Rollback every touched cluster returns to its last-known-good
// revision.
func (r *rollout) gateFailed(ctx context.Context, reason string, phase Phase) {
	r.emit(Event{Type: EventGateFailed, Message: reason})
	r.mu.Lock()
	for name, run := range r.clusters {
		if run.state == ClusterPending {
			r.setLocked(name, run, ClusterSkipped, "not reached: "+reason)
		}
	}
	r.mu.Unlock()
	if r.s.OnFailure != FailureRollback {
		r.settleStopped(reason)
		r.setPhase(phase, reason)
		r.emit(Event{Type: EventFinished, Phase: phase, Message: reason})
		return
	}
	r.emit(Event{Type: EventRollbackStarted, Message: reason})
	// Rollback outlives an abort (which cancels ctx) but not Close, the
	// end of ownership, or a newer rollout superseding this one (which
	// delivers the clusters anew); it keeps ctx's values (the rollout's
	// span).
	rctx, rcancel := context.WithCancel(r.base)
	stop := context.AfterFunc(ctx, func() {
		select {
		case <-r.supersedeCh:
			rcancel()
		case <-rctx.Done():
		}
	})
	failed := r.rollback(valuesOf{Context: rctx, values: ctx})
	stop()
	rcancel()
	if r.base.Err() != nil {
		r.save()
		return
	}
	select {
	case <-r.supersedeCh:
		r.finishSuperseded()
		return
	default:
	}
	r.settleStopped(reason)
	if phase == PhaseHalted {
		phase = PhaseRolledBack
	}
	if failed > 0 {
		phase = PhaseRollbackFailed
		reason = fmt.Sprintf("%s; %s could not be rolled back", reason, count(failed, "cluster", "clusters"))
	}
	r.setPhase(phase, reason)
	r.emit(Event{Type: EventFinished, Phase: phase, Message: reason})
}

// valuesOf is a context with the values of another.
type valuesOf struct {
	context.Context
	values context.Context
}

func (v valuesOf) Value(key any) any { return v.values.Value(key) }

// rollback returns touched clusters to the revision they ran before, and
// returns how many could not be.
func (r *rollout) rollback(ctx context.Context) int {
	type target struct {
		name string
		prev *Revision
		id   string
	}
	var targets []target
	r.mu.Lock()
	for _, w := range r.waves {
		for _, name := range w {
			if run := r.clusters[name]; run.touched {
				targets = append(targets, target{name, run.previous, run.previousID})
			}
		}
	}
	r.mu.Unlock()
	var mu sync.Mutex
	failed := 0
	sem := make(chan struct{}, r.concurrency())
	var wg sync.WaitGroup
	for _, t := range targets {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, done := r.p.cfg.Instrumentation.StartCluster(ctx, r.id, t.name, -1)
			state, msg := r.rollbackOne(ctx, t.name, t.prev, t.id)
			r.set(t.name, state, msg)
			done(state)
			if state != ClusterRolledBack {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

func (r *rollout) rollbackOne(ctx context.Context, name string, prev *Revision, prevID string) (ClusterState, string) {
	c, _, err := r.p.manager.Get(name)
	if err != nil {
		return ClusterRollbackFailed, err.Error()
	}
	if prev == nil && prevID != "" {
		if prev, err = r.p.backend.Get(ctx, &c, r.pkg.Name, prevID); err != nil {
			return ClusterRollbackFailed, fmt.Sprintf("fetching %s: %v", prevID, err)
		}
	}
	if prev == nil {
		if err := r.p.backend.Remove(ctx, &c, r.pkg.Name); err != nil {
			return ClusterRollbackFailed, fmt.Sprintf("removing %s: %v", r.pkg.Name, err)
		}
		return ClusterRolledBack, "removed: the cluster had no earlier revision"
	}
	if err := r.p.backend.Deliver(ctx, &c, prev); err != nil {
		return ClusterRollbackFailed, fmt.Sprintf("delivering %s: %v", prev.ID, err)
	}
	state, msg := r.await(ctx, &c, prev)
	if state != ClusterSucceeded {
		return ClusterRollbackFailed, fmt.Sprintf("%s did not become Available again: %s", prev.ID, msg)
	}
	return ClusterRolledBack, "back at " + prev.ID
}

func (r *rollout) pause() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.phase {
	case PhasePaused:
		return nil
	case PhaseRunning:
	default:
		return fmt.Errorf("%w: %s is %s", ErrRolloutFinished, r.id, r.phase)
	}
	r.phase, r.resumeCh, r.dirty = PhasePaused, make(chan struct{}), true
	r.events.publish(Event{Time: time.Now(), Rollout: r.id, Type: EventPaused, Wave: -1, Phase: PhasePaused})
	return nil
}

func (r *rollout) resume() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.phase {
	case PhaseRunning:
		return nil
	case PhasePaused:
	default:
		return fmt.Errorf("%w: %s is %s", ErrRolloutFinished, r.id, r.phase)
	}
	r.phase, r.dirty = PhaseRunning, true
	close(r.resumeCh)
	r.events.publish(Event{Time: time.Now(), Rollout: r.id, Type: EventResumed, Wave: -1, Phase: PhaseRunning})
	return nil
}

func (r *rollout) abort() error {
	r.mu.Lock()
	phase := r.phase
	r.mu.Unlock()
	if phase.finished() {
		return fmt.Errorf("%w: %s is %s", ErrRolloutFinished, r.id, phase)
	}
	r.once.Do(func() { close(r.abortCh) })
	return nil
}

func (r *rollout) status() *Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &Status{ID: r.id, Package: r.pkg.Name, Revision: r.pkg.Revision, Strategy: r.s.Type, Phase: r.phase, Reason: r.reason,
		Total: r.total, Counts: maps.Clone(r.counts), Wave: r.wave, Waves: len(r.waves),
		Analysis: append([]AnalysisStatus(nil), r.analysis...), Started: r.started, Finished: r.finished}
	from := max(0, r.wave-r.p.cfg.WavesShown+1)
	st.SupersededBy = r.supersededByLocked()
	for wi := from; wi <= r.wave && wi < len(r.waves); wi++ {
		st.WaveProgress = append(st.WaveProgress, WaveStatus{Index: wi, Clusters: len(r.waves[wi]), Counts: maps.Clone(r.waveCounts[wi])})
	}
	for _, name := range r.failed {
		st.Failures = append(st.Failures, r.clusterStatusLocked(name))
	}
	return st
}

func (r *rollout) clusterStatus(name string) (*ClusterStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.clusters[name]; !ok {
		return nil, &ClusterError{Cluster: name, Err: fmt.Errorf("%w in rollout %s", ErrUnknownCluster, r.id)}
	}
	cs := r.clusterStatusLocked(name)
	return &cs, nil
}

func (r *rollout) clusterStatusLocked(name string) ClusterStatus {
	run := r.clusters[name]
	prev := run.previousID
	return ClusterStatus{Name: name, Wave: run.wave, State: run.state, Message: run.message, Failure: run.failure,
		FailedAs: run.failedAs, Revision: run.revision, Previous: prev, Started: run.started, Finished: run.finished}
}

// statusOfRecord summarises a stored record as the running rollout's
// status does.
func statusOfRecord(rec *Record, failuresShown, wavesShown int) *Status {
	st := &Status{ID: rec.ID, Package: rec.Package, Revision: rec.Revision, Strategy: rec.StrategyType, Phase: rec.Phase,
		Reason: rec.Reason, SupersededBy: rec.SupersededBy, Counts: map[ClusterState]int{}, Wave: rec.Wave, Waves: len(rec.Waves),
		Analysis: slices.Clone(rec.Analysis), Started: rec.Started, Finished: rec.Finished}
	from := max(0, rec.Wave-wavesShown+1)
	waveOf := make(map[string]int, len(rec.Failed))
	for wi, w := range rec.Waves {
		ws := WaveStatus{Index: wi, Clusters: len(w), Counts: map[ClusterState]int{}}
		for _, name := range w {
			cr := rec.Clusters[name]
			st.Total++
			st.Counts[cr.State]++
			ws.Counts[cr.State]++
			if cr.FailedAs != "" {
				waveOf[name] = wi
			}
		}
		if wi >= from && wi <= rec.Wave {
			st.WaveProgress = append(st.WaveProgress, ws)
		}
	}
	for _, name := range rec.Failed[:min(len(rec.Failed), failuresShown)] {
		st.Failures = append(st.Failures, clusterStatusOfRecord(name, waveOf[name], rec.Clusters[name]))
	}
	return st
}

// clusterStatusOfRecord is one cluster's detail from a stored record.
func clusterStatusOfRecord(name string, wave int, cr ClusterRecord) ClusterStatus {
	return ClusterStatus{Name: name, Wave: wave, State: cr.State, Message: cr.Message, Failure: cr.Failure, FailedAs: cr.FailedAs,
		Revision: cr.Revision, Previous: cr.Previous, Started: cr.Started, Finished: cr.Finished}
}

// count says n of a thing with the right grammatical number: "1 cluster",
// "2 clusters".
func count(n int, one, many string) string { return fmt.Sprintf("%d %s", n, number(n, one, many)) }

// number picks the word for n: one for 1, many otherwise.
func number(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
