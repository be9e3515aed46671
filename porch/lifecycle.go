package porch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	draft            = porchapi.PackageRevisionLifecycleDraft
	proposed         = porchapi.PackageRevisionLifecycleProposed
	published        = porchapi.PackageRevisionLifecyclePublished
	deletionProposed = porchapi.PackageRevisionLifecycleDeletionProposed
)

// DeleteOption configures Delete.
type DeleteOption func(*deletion)

type deletion struct{ proposeFirst bool }

// ProposingDeletion lets Delete remove a Published revision by proposing it
// for deletion first, as Porch requires.
func ProposingDeletion() DeleteOption { return func(d *deletion) { d.proposeFirst = true } }

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

// move reads the revision, checks the transition and applies it, re-reading
// when the revision changed in between. The first read may come from the
// cache; a refusal or a no-op is decided only on a fresh read.
func (p *packageRevisions) move(ctx context.Context, name string, t transition) (*porchapi.PackageRevision, error) {
	pr, err := p.Get(ctx, name)
	fresh := p.c.cache == nil
	for attempt := 0; ; attempt++ {
		if err != nil {
			return nil, err
		}
		from := lifecycleOrDraft(pr.Spec.Lifecycle)
		isDone := t.done != "" && from == t.done
		var refusal error
		switch {
		case isDone:
		case !t.allowed(from):
			refusal = &TransitionError{Name: name, From: from, To: t.to(from), Reason: t.verb + " needs " + joinLifecycles(t.from)}
		case t.verb == "propose" || t.verb == "approve" && from == proposed:
			if missing := unmetReadinessGates(pr); len(missing) > 0 {
				refusal = newError(t.verb, name, ErrInvalid, "readiness conditions not met: %s", strings.Join(missing, ", "))
			}
		}
		if (isDone || refusal != nil) && !fresh {
			pr, err = p.getFresh(ctx, name)
			fresh = true
			continue
		}
		if isDone {
			return pr, nil
		}
		if refusal != nil {
			return nil, refusal
		}
		out, err := p.setLifecycle(ctx, pr, t.to(from), t.approval(from), t.verb)
		// The revision moved between our read and the server's check (a
		// concurrent caller, or a stale cached read), Porch did not serve
		// a revision it just wrote for a moment, or its answer did not carry
		// the revision: read again (getFresh waits that moment out) and
		// decide again.
		noObject := errors.Is(err, errNoObject)
		changed := errors.Is(err, ErrConflict) || errors.Is(err, ErrInvalidTransition) || errors.Is(err, ErrBusy) || noObject ||
			errors.Is(err, ErrNotFound) && p.c.wasRecent(p.ns, name)
		if err == nil || !changed || attempt >= p.c.opts.conflictRetries && !noObject {
			return out, err
		}
		now, gerr := p.getFresh(ctx, name)
		if noObject && gerr == nil && lifecycleOrDraft(now.Spec.Lifecycle) == t.to(from) {
			return now, nil // the change took effect; only its answer was lost
		}
		if attempt >= p.c.opts.conflictRetries {
			return nil, err
		}
		pr, err, fresh = now, gerr, true
	}
}

// setLifecycle sends one lifecycle change, through /approval when needed.
func (p *packageRevisions) setLifecycle(ctx context.Context, pr *porchapi.PackageRevision, to porchapi.PackageRevisionLifecycle, approval bool, verb string) (*porchapi.PackageRevision, error) {
	pr = pr.DeepCopy()
	pr.Spec.Lifecycle = to
	var out *porchapi.PackageRevision
	// A lifecycle change is guarded: a repeat after it took effect is refused
	// (stale resourceVersion or illegal transition), and move re-reads.
	err := p.c.do(ctx, call{op: p.op(verb, kindPackageRevision, pr.Name), repository: pr.Spec.RepositoryName, guarded: true},
		func(ctx context.Context) error {
			mark := p.mark()
			var err error
			if approval {
				out, err = p.c.porch.PorchV1alpha1().PackageRevisions(p.ns).UpdateApproval(ctx, pr.Name, pr, metav1.UpdateOptions{})
			} else {
				out, err = p.c.porch.PorchV1alpha1().PackageRevisions(p.ns).Update(ctx, pr, metav1.UpdateOptions{})
			}
			if err == nil {
				err = carries(pr.Name, out)
			}
			if err == nil {
				p.wrote(kindPackageRevision, pr.Name, out, mark)
			}
			return err
		})
	if err != nil {
		p.written(pr.Name) // a failed write may still have changed something
	}
	return out, err
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
	var d deletion
	for _, opt := range opts {
		opt(&d)
	}
	pr, err := p.Get(ctx, name)
	if err == nil && lifecycleOrDraft(pr.Spec.Lifecycle) == published && !d.proposeFirst && p.c.cache != nil {
		pr, err = p.getFresh(ctx, name) // refuse only on the server's word
	}
	if err != nil {
		return err
	}
	if lifecycleOrDraft(pr.Spec.Lifecycle) == published {
		if !d.proposeFirst {
			return newError("delete", name, ErrImmutable,
				"a Published revision must be proposed for deletion first (ProposeDelete, or Delete with ProposingDeletion)")
		}
		if _, err := p.ProposeDelete(ctx, name); err != nil {
			return err
		}
	}
	recent := p.c.wasRecent(p.ns, name)
	p.c.forget(p.ns, name)
	del := func() error {
		return p.c.do(ctx, call{op: p.op("delete", kindPackageRevision, name), repository: pr.Spec.RepositoryName},
			func(ctx context.Context) error {
				return p.c.porch.PorchV1alpha1().PackageRevisions(p.ns).Delete(ctx, name, metav1.DeleteOptions{})
			})
	}
	err = del()
	// Porch can stop serving a revision for a moment right after a write
	// (v1.5.3 under load): a revision this client saw lately that answers
	// 404 is deleted again for up to vanishedFor, unless another call of
	// this client deleted it meanwhile. Deleting a missing revision changes
	// nothing, so repeating is safe.
	for deadline := time.Now().Add(vanishedFor); errors.Is(err, ErrNotFound) && recent && time.Now().Before(deadline) && !p.c.wasDeleted(p.ns, name); {
		p.c.log.V(1).Info("revision briefly not served by Porch; deleting again", "name", name)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
		err = del()
	}
	p.written(name)
	if err != nil {
		return err
	}
	p.c.markDeleted(p.ns, name)
	return p.waitGone(ctx, name)
}

// deleteVisibleWithin bounds how long Delete waits for Porch to stop serving
// a deleted revision.
const deleteVisibleWithin = 10 * time.Second

// waitGone returns once the server no longer serves the revision, or holds
// it only for its finalizers. Porch's background repository sync can race a
// delete and serve the revision again for a moment; callers of Delete should
// not see that.
func (p *packageRevisions) waitGone(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, deleteVisibleWithin)
	defer cancel()
	for {
		pr, err := p.getFresh(ctx, name)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return nil // cannot tell; do not hold the caller up
		case pr.DeletionTimestamp != nil:
			return nil
		case ctx.Err() != nil:
			return newError("delete", name, ErrInternal, "Porch still serves the revision %v after deleting it", deleteVisibleWithin)
		}
		p.c.log.V(1).Info("deleted revision still served; waiting", "name", name)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
		p.written(name)
	}
}

func (p *packageRevisions) UpdateMetadata(ctx context.Context, name string, mutate func(*porchapi.PackageRevision) error) (*porchapi.PackageRevision, error) {
	current, err := p.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	var out *porchapi.PackageRevision
	err = p.c.holdRepository(ctx, p.ns, current.Spec.RepositoryName, func(ctx context.Context) error {
		for attempt := 0; ; attempt++ {
			pr, err := p.getFresh(ctx, name)
			if err != nil {
				return err
			}
			want := pr.DeepCopy()
			if err := mutate(want); err != nil {
				return fmt.Errorf("porch: update %q: %w", name, err)
			}
			if want.Spec.Lifecycle != pr.Spec.Lifecycle {
				return newError("update", name, ErrInvalidTransition, "UpdateMetadata cannot change the lifecycle; use the lifecycle methods")
			}
			if IsPublished(pr) && specChanged(pr, want) {
				return newError("update", name, ErrImmutable, "the spec of a %s revision cannot change", pr.Spec.Lifecycle)
			}
			err = p.c.do(ctx, call{op: p.op("update", kindPackageRevision, name), repository: pr.Spec.RepositoryName, guarded: true},
				func(ctx context.Context) error {
					mark := p.mark()
					var err error
					out, err = p.c.porch.PorchV1alpha1().PackageRevisions(p.ns).Update(ctx, want, metav1.UpdateOptions{})
					switch {
					case err == nil && want.DeletionTimestamp != nil && len(want.Finalizers) == 0:
						// Removing the last finalizer completes a delete.
						p.c.forget(p.ns, name)
						p.written(name)
					case err == nil:
						if err = carries(name, out); err == nil {
							p.wrote(kindPackageRevision, name, out, mark)
						}
					}
					return err
				})
			if err != nil {
				p.written(name)
			}
			if errors.Is(err, errNoObject) {
				// Answered with success but without the revision: the
				// mutation is applied again only if it did not take effect.
				if now, gerr := p.getFresh(ctx, name); gerr == nil && sameMetadata(now, want) {
					out = now
					return nil
				}
			}
			if err == nil || !errors.Is(err, ErrConflict) && !errors.Is(err, errNoObject) || attempt >= p.c.opts.conflictRetries {
				return err
			}
		}
	})
	return out, err
}

// sameMetadata reports whether the server's revision shows what an
// UpdateMetadata sent: labels (but the computed latest-revision label),
// annotations, finalizers, owners, readiness gates and conditions.
func sameMetadata(server, sent *porchapi.PackageRevision) bool {
	withoutLatest := func(l map[string]string) map[string]string {
		out := maps.Clone(l)
		delete(out, porchapi.LatestPackageRevisionKey)
		return out
	}
	return equality.Semantic.DeepEqual(withoutLatest(server.Labels), withoutLatest(sent.Labels)) &&
		equality.Semantic.DeepEqual(server.Annotations, sent.Annotations) &&
		equality.Semantic.DeepEqual(server.Finalizers, sent.Finalizers) &&
		equality.Semantic.DeepEqual(server.OwnerReferences, sent.OwnerReferences) &&
		equality.Semantic.DeepEqual(server.Spec.ReadinessGates, sent.Spec.ReadinessGates) &&
		equality.Semantic.DeepEqual(server.Status.Conditions, sent.Status.Conditions)
}

func specChanged(a, b *porchapi.PackageRevision) bool {
	x, y := a.Spec.DeepCopy(), b.Spec.DeepCopy()
	x.Lifecycle, y.Lifecycle = "", ""
	return !equality.Semantic.DeepEqual(x, y)
}
