package multicluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"
)

// knobState is a rollout's state for the strategy's decision groups,
// approval gates, webhooks and suspended clusters; rollout.mu guards it.
type knobState struct {
	waveGroup  []int    // each wave's decision group (-1: none)
	groupNames []string // the decision groups' names
	approvals  []Approval
	awaiting   int           // the wave waiting for Approve (-1: none)
	approved   chan struct{} // closed by Approve of the awaited wave
	// unsuspended is closed, and replaced, when clusters are unsuspended.
	unsuspended chan struct{}
	// released are clusters unsuspended after their wave may have passed,
	// to deliver at the end of the current wave.
	released []string
	hooks    []WebhookStatus
}

// initKnobs sets the knobs' state of a new rollout; r.mu need not be held
// (nothing else sees r yet).
func (r *rollout) initKnobs() {
	r.k.awaiting = -1
	r.k.unsuspended = make(chan struct{})
	if r.s.SpreadBy != "" || r.s.Groups.enabled() {
		var names []string
		for _, w := range r.waves {
			names = append(names, w...)
		}
		sort.Strings(names)
		// The waves were cut by the same plan; a restored rollout whose
		// clusters' labels changed since takes the groups from its record.
		if wp, err := r.s.plan(names, r.p.manager.cluster); err == nil && slices.EqualFunc(wp.waves, r.waves, slices.Equal[[]string]) {
			r.k.waveGroup, r.k.groupNames = wp.group, wp.names
		}
	}
	for _, name := range r.s.Suspended {
		if run, ok := r.clusters[name]; ok && run.state == ClusterPending {
			r.setLocked(name, run, ClusterSuspended, "suspended by the strategy")
		}
	}
}

// knobsToRecordLocked adds the knobs' state to a record; r.mu is held.
func (r *rollout) knobsToRecordLocked(rec *Record) {
	rec.Approvals = slices.Clone(r.k.approvals)
	if r.k.awaiting >= 0 {
		w := r.k.awaiting
		rec.AwaitingApproval = &w
	}
	rec.WaveGroups, rec.GroupNames = slices.Clone(r.k.waveGroup), slices.Clone(r.k.groupNames)
	rec.Webhooks = slices.Clone(r.k.hooks)
}

// knobsFromRecordLocked takes the knobs' state over from a record; r.mu
// is held, and the clusters' states are restored.
func (r *rollout) knobsFromRecordLocked(rec *Record) {
	r.k.approvals = slices.Clone(rec.Approvals)
	r.k.hooks = slices.Clone(rec.Webhooks)
	if len(rec.WaveGroups) == len(r.waves) && len(rec.GroupNames) > 0 {
		r.k.waveGroup, r.k.groupNames = slices.Clone(rec.WaveGroups), slices.Clone(rec.GroupNames)
	}
	// Clusters unsuspended before the record was saved, in waves already
	// passed, are delivered at the end of the first wave that runs.
	for wi := 0; wi < rec.Wave && wi < len(r.waves); wi++ {
		for _, name := range r.waves[wi] {
			if r.clusters[name].state == ClusterPending {
				r.k.released = append(r.k.released, name)
			}
		}
	}
}

// knobsToStatusLocked adds the knobs' state to a status; r.mu is held.
func (r *rollout) knobsToStatusLocked(st *Status) {
	st.Approvals = slices.Clone(r.k.approvals)
	if r.k.awaiting >= 0 && !r.phase.finished() {
		w := r.k.awaiting
		st.AwaitingApproval = &w
	}
	st.Webhooks = slices.Clone(r.k.hooks)
	for i := range st.WaveProgress {
		st.WaveProgress[i].Group = r.groupNameLocked(st.WaveProgress[i].Index)
	}
}

// knobsToStatusOfRecord adds a record's knobs to the status read from it.
func knobsToStatusOfRecord(st *Status, rec *Record) {
	st.Approvals = slices.Clone(rec.Approvals)
	if rec.AwaitingApproval != nil && !rec.Phase.finished() {
		w := *rec.AwaitingApproval
		st.AwaitingApproval = &w
	}
	st.Webhooks = slices.Clone(rec.Webhooks)
	for i := range st.WaveProgress {
		wi := st.WaveProgress[i].Index
		if wi < len(rec.WaveGroups) && rec.WaveGroups[wi] >= 0 && rec.WaveGroups[wi] < len(rec.GroupNames) {
			st.WaveProgress[i].Group = rec.GroupNames[rec.WaveGroups[wi]]
		}
	}
}

// beforeWave passes the gates in front of wave wi: its approval, then,
// before anything was delivered, the confirm-rollout and pre-rollout
// hooks (before wave 0) or the confirm-wave hooks (before a later wave).
// It reports false with a reason when the rollout must stop.
func (r *rollout) beforeWave(ctx context.Context, wi int) (bool, string) {
	if !r.awaitApproval(ctx, wi) {
		return false, "stopped"
	}
	if r.waveUntouched(wi) { // not restored part-way through the wave
		if wi == 0 && !r.confirmHooks(ctx, WebhookConfirmRollout, wi) || wi > 0 && !r.confirmHooks(ctx, WebhookConfirmWave, wi) {
			return false, "stopped"
		}
		if wi == 0 {
			if ok, reason := r.callHooks(ctx, WebhookPreRollout, wi); !ok {
				return false, reason
			}
		}
	}
	return true, ""
}

// afterWave delivers the clusters unsuspended since their wave ran and,
// at the last wave, holds the rollout while clusters are suspended.
func (r *rollout) afterWave(ctx context.Context, wi int) (bool, string) {
	if wi == len(r.waves)-1 {
		return r.hold(ctx, wi)
	}
	return r.catchUp(ctx, wi)
}

// finish ends what the knobs keep open once the rollout reached a final
// phase: suspended clusters are Skipped, and the post-rollout hooks run.
// A rollout stopped by Close (still Running) is left as it is.
func (r *rollout) finish(ctx context.Context) {
	r.mu.Lock()
	phase, reason := r.phase, r.reason
	if !phase.finished() {
		r.mu.Unlock()
		return
	}
	for name, run := range r.clusters {
		if run.state == ClusterSuspended {
			r.setLocked(name, run, ClusterSkipped, fmt.Sprintf("not reached: suspended when the rollout ended %s (%s)", phase, reason))
		}
	}
	r.k.awaiting = -1
	r.mu.Unlock()
	// The hooks outlive an abort (which cancels ctx) but not Close, nor
	// the loss of ownership.
	r.postRolloutHooks(valuesOf{Context: r.base, values: ctx}, phase)
	r.save()
}

// waveUntouched reports that no cluster of wave wi has started.
func (r *rollout) waveUntouched(wi int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range r.waves[wi] {
		if s := r.clusters[name].state; s != ClusterPending && s != ClusterSuspended {
			return false
		}
	}
	return true
}

// emitWave publishes an event that keeps its wave (emit keeps it only for
// wave and analysis events).
func (r *rollout) emitWave(e Event) {
	e.Time, e.Rollout = time.Now(), r.id
	r.events.publish(e)
}

// setReason sets the Running rollout's reason and saves the record when
// it changed.
func (r *rollout) setReason(reason string) {
	r.mu.Lock()
	changed := r.reason != reason && !r.phase.finished()
	if changed {
		r.reason, r.dirty = reason, true
	}
	r.mu.Unlock()
	if changed {
		r.save()
	}
}

// clearReason empties the reason if it is still the one a wait set.
func (r *rollout) clearReason(reason string) {
	r.mu.Lock()
	if r.reason == reason && !r.phase.finished() {
		r.reason, r.dirty = "", true
	}
	r.mu.Unlock()
}

// validateKnobs checks the decision groups, approval gates, webhooks and
// suspended clusters of a strategy.
func (s Strategy) validateKnobs() error {
	if err := s.Groups.validate(); err != nil {
		return err
	}
	waves := map[int]bool{}
	for _, w := range s.ApprovalBefore {
		switch {
		case w < 0:
			return fieldError(ErrInvalidStrategy, "approvalBefore", "negative wave %d", w)
		case waves[w]:
			return fieldError(ErrInvalidStrategy, "approvalBefore", "wave %d given twice", w)
		}
		waves[w] = true
	}
	hooks := map[string]bool{}
	for i, h := range s.Webhooks {
		field := fmt.Sprintf("webhooks[%d]", i)
		if err := h.validate(field); err != nil {
			return err
		}
		if hooks[h.Name] {
			return fieldError(ErrInvalidStrategy, field+".name", "%q used twice", h.Name)
		}
		hooks[h.Name] = true
	}
	held := map[string]bool{}
	for _, c := range s.Suspended {
		switch {
		case c == "":
			return fieldError(ErrInvalidStrategy, "suspended", "an empty cluster name")
		case held[c]:
			return fieldError(ErrInvalidStrategy, "suspended", "%s given twice", c)
		}
		held[c] = true
	}
	return nil
}
