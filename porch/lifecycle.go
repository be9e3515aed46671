package porch

import (
	"context"
	"errors"
	"fmt"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/api/equality"
)

const (
	draft            = porchapi.PackageRevisionLifecycleDraft
	proposed         = porchapi.PackageRevisionLifecycleProposed
	published        = porchapi.PackageRevisionLifecyclePublished
	deletionProposed = porchapi.PackageRevisionLifecycleDeletionProposed
)

// transition is one lifecycle change: which lifecycles it starts from, where
// it goes, and whether Porch needs the approval subresource for it.
type transition struct {
	verb     string
	from     []porchapi.PackageRevisionLifecycle
	to       func(from porchapi.PackageRevisionLifecycle) porchapi.PackageRevisionLifecycle
	approval func(from porchapi.PackageRevisionLifecycle) bool
	// done reports that the revision is already where the verb leads.
	done porchapi.PackageRevisionLifecycle
}

var (
	proposeTransition = transition{
		verb: "propose", from: []porchapi.PackageRevisionLifecycle{draft}, done: proposed,
		to:       func(porchapi.PackageRevisionLifecycle) porchapi.PackageRevisionLifecycle { return proposed },
		approval: func(porchapi.PackageRevisionLifecycle) bool { return false },
	}
	approveTransition = transition{
		verb: "approve", from: []porchapi.PackageRevisionLifecycle{proposed, deletionProposed}, done: published,
		to:       func(porchapi.PackageRevisionLifecycle) porchapi.PackageRevisionLifecycle { return published },
		approval: func(porchapi.PackageRevisionLifecycle) bool { return true },
	}
	rejectTransition = transition{
		verb: "reject", from: []porchapi.PackageRevisionLifecycle{proposed, deletionProposed},
		to: func(from porchapi.PackageRevisionLifecycle) porchapi.PackageRevisionLifecycle {
			if from == proposed {
				return draft
			}
			return published
		},
		approval: func(from porchapi.PackageRevisionLifecycle) bool { return from == proposed },
	}
	proposeDeleteTransition = transition{
		verb: "propose-delete", from: []porchapi.PackageRevisionLifecycle{published}, done: deletionProposed,
		to:       func(porchapi.PackageRevisionLifecycle) porchapi.PackageRevisionLifecycle { return deletionProposed },
		approval: func(porchapi.PackageRevisionLifecycle) bool { return false },
	}
)

func (t transition) allowed(from porchapi.PackageRevisionLifecycle) bool {
	for _, f := range t.from {
		if f == from {
			return true
		}
	}
	return false
}

func (p *packageRevisions) Propose(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	return p.move(ctx, name, proposeTransition)
}

func (p *packageRevisions) Approve(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	return p.move(ctx, name, approveTransition)
}

func (p *packageRevisions) Reject(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	return p.move(ctx, name, rejectTransition)
}

func (p *packageRevisions) ProposeDelete(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	return p.move(ctx, name, proposeDeleteTransition)
}

// check decides the transition on pr: done when the revision is already
// where the verb leads, or the refusal when the move is not legal (or its
// readiness gates are not met).
func (t transition) check(name string, pr *porchapi.PackageRevision) (done bool, refusal error) {
	from := lifecycleOrDraft(pr.Spec.Lifecycle)
	switch {
	case t.done != "" && from == t.done:
		return true, nil
	case !t.allowed(from):
		return false, &TransitionError{Name: name, From: from, To: t.to(from), Reason: t.verb + " needs " + joinLifecycles(t.from)}
	case t.verb == "propose" || t.verb == "approve" && from == proposed:
		if missing := unmetReadinessGates(pr); len(missing) > 0 {
			return false, newError(t.verb, name, ErrInvalid, "readiness conditions not met: %s", strings.Join(missing, ", "))
		}
	}
	return false, nil
}

// move reads the revision, checks the transition and applies it, reading
// again and deciding again when the revision changed in between. A refusal
// or a no-op is decided only on the server's word (confirmed).
func (p *packageRevisions) move(ctx context.Context, name string, t transition) (*porchapi.PackageRevision, error) {
	pr, err := p.c.confirmed(ctx, t.verb, p.ns, name, func(pr *porchapi.PackageRevision) bool {
		done, refusal := t.check(name, pr)
		return !done && refusal == nil
	})
	var sentTo porchapi.PackageRevisionLifecycle
	for attempt := 0; ; attempt++ {
		if err != nil {
			return nil, err
		}
		done, refusal := t.check(name, pr)
		// After a send, a revision found where the send led is done, even
		// when the update's answer could not show it (a reject that took
		// effect is not an illegal move from where it led).
		if done || sentTo != "" && lifecycleOrDraft(pr.Spec.Lifecycle) == sentTo {
			return pr, nil
		}
		if refusal != nil {
			return nil, refusal
		}
		from := lifecycleOrDraft(pr.Spec.Lifecycle)
		sent := pr.DeepCopy()
		sent.Spec.Lifecycle = t.to(from)
		sentTo = sent.Spec.Lifecycle
		out, uerr := p.c.srv.updateRevision(ctx, t.verb, sent, t.approval(from))
		// The revision moved between our read and the server's check (a
		// concurrent caller, or a stale cached read): read again, decide
		// again.
		moved := errors.Is(uerr, ErrConflict) || errors.Is(uerr, ErrInvalidTransition)
		if uerr == nil || !moved || attempt >= p.c.conflictRetries {
			return out, uerr
		}
		pr, err = p.getFresh(ctx, t.verb, name)
	}
}

func joinLifecycles(ls []porchapi.PackageRevisionLifecycle) string {
	s := make([]string, len(ls))
	for i, l := range ls {
		s[i] = string(l)
	}
	return strings.Join(s, " or ")
}

// unmetReadinessGates returns the readiness gates without a True condition,
// the check porchctl makes before propose and approve.
func unmetReadinessGates(pr *porchapi.PackageRevision) []string {
	var missing []string
	for _, g := range pr.Spec.ReadinessGates {
		ok := false
		for _, c := range pr.Status.Conditions {
			if c.Type == g.ConditionType && c.Status == porchapi.ConditionTrue {
				ok = true
			}
		}
		if !ok {
			missing = append(missing, g.ConditionType)
		}
	}
	return missing
}

func (p *packageRevisions) Delete(ctx context.Context, name string, opts ...DeleteOption) error {
	const op = "delete"
	var d DeleteOptions
	for _, opt := range opts {
		opt.ApplyToDelete(&d)
	}
	pr, err := p.c.confirmed(ctx, op, p.ns, name, func(pr *porchapi.PackageRevision) bool {
		return d.ProposeFirst || lifecycleOrDraft(pr.Spec.Lifecycle) != published
	})
	if err != nil {
		return err
	}
	if lifecycleOrDraft(pr.Spec.Lifecycle) == published {
		if !d.ProposeFirst {
			return newError(op, name, ErrImmutable,
				"a Published revision must be proposed for deletion first (ProposeDelete, or Delete with ProposingDeletion)")
		}
		if _, err := p.ProposeDelete(ctx, name); err != nil {
			return opError(op, err)
		}
	}
	return p.c.srv.deleteRevision(ctx, op, p.ns, name, pr.Spec.RepositoryName)
}

func (p *packageRevisions) UpdateMetadata(ctx context.Context, name string, mutate func(*porchapi.PackageRevision) error) (*porchapi.PackageRevision, error) {
	const op = "update"
	current, err := p.c.reader.getRevision(ctx, op, p.ns, name)
	if err != nil {
		return nil, err
	}
	var out *porchapi.PackageRevision
	err = p.c.res.limiter.hold(ctx, p.ns, current.Spec.RepositoryName, func(ctx context.Context) error {
		return p.onConflict(func() error {
			pr, err := p.getFresh(ctx, op, name)
			if err != nil {
				return err
			}
			want := pr.DeepCopy()
			if err := mutate(want); err != nil {
				return fmt.Errorf("porch: update %q: %w", name, err)
			}
			if want.Spec.Lifecycle != pr.Spec.Lifecycle {
				return newError(op, name, ErrInvalidTransition, "UpdateMetadata cannot change the lifecycle; use the lifecycle methods")
			}
			if IsPublished(pr) && specChanged(pr, want) {
				return newError(op, name, ErrImmutable, "the spec of a %s revision cannot change", pr.Spec.Lifecycle)
			}
			out, err = p.c.srv.updateRevision(ctx, op, want, false)
			return err
		})
	})
	return out, err
}

func specChanged(a, b *porchapi.PackageRevision) bool {
	x, y := a.Spec.DeepCopy(), b.Spec.DeepCopy()
	x.Lifecycle, y.Lifecycle = "", ""
	return !equality.Semantic.DeepEqual(x, y)
}
