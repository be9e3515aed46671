package multicluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Errors of approval gates (Strategy.ApprovalBefore).
var (
	// ErrNotAwaitingApproval: Approve of a wave that is not waiting for
	// approval (not reached yet, already approved, or not gated).
	ErrNotAwaitingApproval = errors.New("wave is not waiting for approval")
	// ErrInvalidApproval: an approval that does not say who approves.
	ErrInvalidApproval = errors.New("invalid approval")
)

// Approval is a wave's manual approval: who let it start, and when.
type Approval struct {
	// Wave is the approved wave's index.
	Wave int
	// By is who approved it, as given to Approve.
	By string
	// At is when.
	At time.Time
}

// ApprovalError is a refused Approve; it wraps ErrNotAwaitingApproval,
// ErrInvalidApproval, ErrUnknownRollout or ErrRolloutFinished.
type ApprovalError struct {
	// Rollout and Wave are what Approve was asked to approve.
	Rollout ID
	Wave    int
	// Err is why it was refused.
	Err error
}

// Error implements error.
func (e *ApprovalError) Error() string {
	return fmt.Sprintf("approving wave %d of rollout %s: %v", e.Wave, e.Rollout, e.Err)
}

// Unwrap returns the cause.
func (e *ApprovalError) Unwrap() error { return e.Err }

// Approve lets a wave that waits for approval (Strategy.ApprovalBefore)
// start. The approval is recorded with by and the time, in Status, in the
// record Restore continues from, and as an EventApproved. Only the wave
// the rollout waits at can be approved; other waves, unknown or finished
// rollouts, and an empty by are refused with an *ApprovalError.
func (p *Propagator) Approve(_ context.Context, id ID, wave int, by string) error {
	r, err := p.get(id)
	if err != nil {
		return &ApprovalError{Rollout: id, Wave: wave, Err: err}
	}
	return r.approve(wave, by)
}

func (r *rollout) approve(wave int, by string) error {
	fail := func(err error) error { return &ApprovalError{Rollout: r.id, Wave: wave, Err: err} }
	if by == "" {
		return fail(fieldError(ErrInvalidApproval, "by", "missing: say who approves"))
	}
	r.mu.Lock()
	switch {
	case r.phase.finished():
		phase := r.phase
		r.mu.Unlock()
		return fail(fmt.Errorf("%w: %s is %s", ErrRolloutFinished, r.id, phase))
	case r.k.awaiting != wave:
		awaiting := r.k.awaiting
		r.mu.Unlock()
		if awaiting < 0 {
			return fail(fmt.Errorf("%w: no wave is", ErrNotAwaitingApproval))
		}
		return fail(fmt.Errorf("%w: wave %d is", ErrNotAwaitingApproval, awaiting))
	}
	a := Approval{Wave: wave, By: by, At: time.Now()}
	r.k.approvals = append(r.k.approvals, a)
	r.k.awaiting = -1
	r.dirty = true
	// Published before the wave may start, so that no later event (the
	// rollout's end included) comes first.
	r.emitWave(Event{Type: EventApproved, Wave: wave, Message: "approved by " + by})
	close(r.k.approved)
	r.mu.Unlock()
	r.save()
	return nil
}

// awaitApproval waits, when wave wi is gated and not approved yet, until
// Approve lets it start (true) or ctx ends (false; the record still says
// the wave is waiting, for Restore).
func (r *rollout) awaitApproval(ctx context.Context, wi int) bool {
	if !slices.Contains(r.s.ApprovalBefore, wi) {
		return true
	}
	r.mu.Lock()
	for _, a := range r.k.approvals {
		if a.Wave == wi {
			r.mu.Unlock()
			return true
		}
	}
	ch := make(chan struct{})
	r.k.awaiting, r.k.approved = wi, ch
	reason := fmt.Sprintf("waiting for approval of wave %d (%s)", wi, count(len(r.waves[wi]), "cluster", "clusters"))
	r.mu.Unlock()
	r.setReason(reason)
	r.emitWave(Event{Type: EventApprovalRequired, Wave: wi, Message: reason})
	select {
	case <-ch:
		r.clearReason(reason)
		return true
	case <-ctx.Done():
		return false
	}
}
