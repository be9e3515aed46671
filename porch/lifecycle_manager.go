package porch

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
)

// LifecycleManager moves package revisions forward through their lifecycle
// (Draft -> Proposed -> Published -> DeletionProposed) one legal step at a
// time, consulting an approval Policy before publishing and recording every
// decision through an AuditSink.
type LifecycleManager struct {
	prs    PackageRevisions
	policy Policy
	audit  AuditSink
	actor  string
	log    logr.Logger
	now    func() time.Time
}

// LifecycleOptions configures a LifecycleManager. The zero value allows
// every approval and records decisions in the discarded log.
type LifecycleOptions struct {
	// Policy decides approvals (default AllowAll).
	Policy Policy
	// AuditSink records decisions (default: Logger).
	AuditSink AuditSink
	// Actor names who the manager acts for, in audit records and policies.
	Actor string
	// Logger receives the manager's logs; the zero Logger discards.
	Logger logr.Logger
}

// NewLifecycleManager returns a manager over prs.
func NewLifecycleManager(prs PackageRevisions, opts LifecycleOptions) *LifecycleManager {
	m := &LifecycleManager{prs: prs, policy: opts.Policy, audit: opts.AuditSink, actor: opts.Actor, log: opts.Logger, now: time.Now}
	if m.log.GetSink() == nil {
		m.log = logr.Discard()
	}
	if m.policy == nil {
		m.policy = AllowAll()
	}
	if m.audit == nil {
		m.audit = LogAuditSink(m.log)
	}
	return m
}

// order ranks lifecycles along the forward path.
func order(l porchapi.PackageRevisionLifecycle) int {
	switch lifecycleOrDraft(l) {
	case draft:
		return 0
	case proposed:
		return 1
	case published:
		return 2
	case deletionProposed:
		return 3
	}
	return -1
}

// Promote moves the revision forward to target, one step at a time. A
// target behind the current lifecycle, or unknown, is refused with a
// *TransitionError before anything is sent. Publishing asks the policy
// first; a refusal is a *DeniedError and leaves the revision Proposed. Every
// decision is recorded before it is acted on; if it cannot be recorded,
// nothing is done.
func (m *LifecycleManager) Promote(ctx context.Context, name string, target porchapi.PackageRevisionLifecycle) (*porchapi.PackageRevision, error) {
	pr, err := m.prs.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	from := lifecycleOrDraft(pr.Spec.Lifecycle)
	if order(target) < 0 || order(target) < order(from) {
		err := &TransitionError{Name: name, From: from, To: target, Reason: "Promote only moves forward: Draft, Proposed, Published, DeletionProposed"}
		m.record(ctx, AuditRecord{Name: name, From: from, To: target, Allowed: false, Policy: "lifecycle", Reason: err.Error()})
		return nil, err
	}
	for order(lifecycleOrDraft(pr.Spec.Lifecycle)) < order(target) {
		from := lifecycleOrDraft(pr.Spec.Lifecycle)
		var step func(context.Context, string) (*porchapi.PackageRevision, error)
		rec := AuditRecord{Name: name, From: from, Allowed: true, Policy: "lifecycle"}
		switch from {
		case draft:
			step, rec.To, rec.Reason = m.prs.Propose, proposed, "propose"
		case proposed:
			step, rec.To = m.prs.Approve, published
			req := &ApprovalRequest{Revision: pr, Actor: m.actor, Reader: m.prs,
				pull: func(ctx context.Context) (*Package, error) { return m.prs.Pull(ctx, name) }}
			d, err := m.policy.Decide(ctx, req)
			if err != nil {
				return nil, fmt.Errorf("porch: approval policy for %q: %w", name, err)
			}
			rec.Allowed, rec.Policy, rec.Reason = d.Allowed, d.Policy, d.Reason
			if !d.Allowed {
				if err := m.record(ctx, rec); err != nil {
					return nil, err
				}
				return nil, &DeniedError{Name: name, Decision: d}
			}
		case published:
			step, rec.To, rec.Reason = m.prs.ProposeDelete, deletionProposed, "propose deletion"
		}
		if err := m.record(ctx, rec); err != nil {
			return nil, err
		}
		if pr, err = step(ctx, name); err != nil {
			return nil, err
		}
	}
	return pr, nil
}

func (m *LifecycleManager) record(ctx context.Context, rec AuditRecord) error {
	rec.Time, rec.Actor = m.now(), m.actor
	if err := m.audit.Record(ctx, rec); err != nil {
		return fmt.Errorf("porch: audit record for %q not written, nothing done: %w", rec.Name, err)
	}
	return nil
}

// AuditRecord is one lifecycle decision: who, what, when, why.
type AuditRecord struct {
	// Time is when the decision was made.
	Time time.Time
	// Actor is who the manager acted for (LifecycleOptions.Actor).
	Actor string
	// Name is the package revision the decision is about.
	Name string
	// From is the revision's lifecycle; To is the one asked for.
	From, To porchapi.PackageRevisionLifecycle
	// Allowed reports whether the policy let the transition happen.
	Allowed bool
	// Policy names the policy that decided.
	Policy string
	// Reason is the policy's reason.
	Reason string
}

// AuditSink receives audit records. Implementations must be safe for
// concurrent use; an error stops the transition.
type AuditSink interface {
	Record(ctx context.Context, rec AuditRecord) error
}

// AuditFunc adapts a function to AuditSink.
type AuditFunc func(ctx context.Context, rec AuditRecord) error

// Record implements AuditSink.
func (f AuditFunc) Record(ctx context.Context, rec AuditRecord) error { return f(ctx, rec) }

// LogAuditSink writes records to a logger.
func LogAuditSink(l logr.Logger) AuditSink {
	return AuditFunc(func(_ context.Context, r AuditRecord) error {
		l.Info("lifecycle decision", "revision", r.Name, "from", r.From, "to", r.To, "allowed", r.Allowed,
			"actor", r.Actor, "policy", r.Policy, "reason", r.Reason, "time", r.Time)
		return nil
	})
}
