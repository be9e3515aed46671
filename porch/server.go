package porch

import (
	"context"
	"errors"
	"time"

	"github.com/go-logr/logr"
	"github.com/nephio-project/porch/api/generated/clientset/versioned"
	"github.com/nephio-project/porch/api/generated/clientset/versioned/scheme"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// server sends every package-revision request of the client to Porch,
// through the client's resilience. It is the one layer that knows Porch's
// quirks: each workaround is one function in quirks.go, called from here,
// so the verbs only check input, build the request, call and map the
// result. op, on every method, is the verb the caller called; errors name
// it.
type server struct {
	porch versioned.Interface
	res   *resilience
	log   logr.Logger
	// recent remembers the revisions this client saw or wrote lately.
	recent *recentRevisions
	// writes is told about every write, to keep a cache current; nil when
	// there is no cache.
	writes writeObserver
	// answersAreCurrent says that writes per repository are serialised, so
	// a write's answer can be cached as the current object.
	answersAreCurrent bool
	// goneWithin bounds how long a delete waits for Porch to stop serving
	// the deleted revision (deleteVisibleWithin).
	goneWithin time.Duration
}

// writeObserver is what a cache needs to hear of the client's writes.
type writeObserver interface {
	// mark returns a sequence number to take before a write is sent.
	mark() uint64
	// invalidate drops what a change of the named revision can affect;
	// changed is the written object, when known.
	invalidate(namespace, name string, changed any)
	// put stores a write's answer as the current object, unless something
	// newer was seen since mark.
	put(kind, namespace, name string, v any, mark uint64)
}

const (
	kindPackageRevision = "packagerevisions"
	kindResources       = "packagerevisionresources"
	kindList            = "list"
)

func operation(verb, kind, namespace, name string) Operation {
	return Operation{Name: verb, Kind: kind, Namespace: namespace, Object: name}
}

// getRevision reads one revision from the server.
func (s *server) getRevision(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevision, error) {
	return absorbMomentary404(ctx, s, namespace, name, func(ctx context.Context) (*porchapi.PackageRevision, error) {
		return s.probeRevision(ctx, op, namespace, name)
	})
}

// probeRevision reads one revision from the server as it is now, without
// waiting out a momentary 404 and without remembering it as seen: for
// waits on a revision to go away.
func (s *server) probeRevision(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevision, error) {
	var out *porchapi.PackageRevision
	err := s.res.do(ctx, call{op: operation("get", kindPackageRevision, namespace, name), idempotent: true}, func(ctx context.Context) error {
		var err error
		out, err = s.porch.PorchV1alpha1().PackageRevisions(namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			err = requireObject(name, out)
		}
		return err
	})
	return out, opError(op, err)
}

// listRevisions lists the revisions matching o, filtered exactly.
func (s *server) listRevisions(ctx context.Context, op, namespace string, o ListOptions) ([]porchapi.PackageRevision, error) {
	list := &porchapi.PackageRevisionList{}
	err := s.res.do(ctx, call{op: operation("list", kindPackageRevision, namespace, ""), idempotent: true}, func(ctx context.Context) error {
		// The typed List cannot tell an empty list from an answer of another
		// kind (decoded as an empty list too): read the raw answer's kind.
		res := s.porch.PorchV1alpha1().RESTClient().Get().Namespace(namespace).Resource(kindPackageRevision).
			VersionedParams(&metav1.ListOptions{FieldSelector: porchFieldSelector(o), LabelSelector: o.labelSelector()}, scheme.ParameterCodec).
			Do(ctx)
		list = &porchapi.PackageRevisionList{}
		if err := res.Into(list); err != nil {
			return err
		}
		raw, _ := res.Raw()
		return requireKind(raw, "PackageRevisionList")
	})
	if err != nil {
		return nil, opError(op, err)
	}
	return exactly(o, list.Items), nil
}

// watchRevisions opens Porch's watch of a namespace, its events translated
// to keep to o (watchTranslator) until ctx ends or the watch is stopped.
func (s *server) watchRevisions(ctx context.Context, op, namespace string, o ListOptions) (watch.Interface, error) {
	var raw watch.Interface
	err := s.res.do(ctx, call{op: operation("watch", kindPackageRevision, namespace, ""), idempotent: true}, func(ctx context.Context) error {
		var err error
		raw, err = s.porch.PorchV1alpha1().PackageRevisions(namespace).Watch(ctx, metav1.ListOptions{
			FieldSelector: porchFieldSelector(o), LabelSelector: o.labelSelector(),
		})
		return err
	})
	if err != nil {
		return nil, opError(op, err)
	}
	return newTranslatedWatch(ctx, raw, newWatchTranslator(o).translate), nil
}

// getResources reads one revision's files from the server.
func (s *server) getResources(ctx context.Context, op, namespace, name string) (*porchapi.PackageRevisionResources, error) {
	return absorbMomentary404(ctx, s, namespace, name, func(ctx context.Context) (*porchapi.PackageRevisionResources, error) {
		var out *porchapi.PackageRevisionResources
		err := s.res.do(ctx, call{op: operation("get", kindResources, namespace, name), idempotent: true}, func(ctx context.Context) error {
			var err error
			out, err = s.porch.PorchV1alpha1().PackageRevisionResources(namespace).Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				err = requireObject(name, out)
			}
			return err
		})
		return out, opError(op, err)
	})
}

// createRevision creates a draft. Creates are not idempotent (a repeat
// after a lost answer fails on workspace uniqueness), so they are sent
// again only when the server provably did not act.
func (s *server) createRevision(ctx context.Context, op string, pr *porchapi.PackageRevision) (*porchapi.PackageRevision, error) {
	name := RevisionName(pr.Spec.RepositoryName, pr.Spec.PackageName, pr.Spec.WorkspaceName)
	markCreate(pr)
	send := func() (*porchapi.PackageRevision, error) {
		var out *porchapi.PackageRevision
		err := s.res.do(ctx, call{op: operation(op, kindPackageRevision, pr.Namespace, name), repository: pr.Spec.RepositoryName},
			func(ctx context.Context) error {
				mark := s.mark()
				var err error
				out, err = s.porch.PorchV1alpha1().PackageRevisions(pr.Namespace).Create(ctx, pr, metav1.CreateOptions{})
				if err == nil {
					err = requireObject(name, out)
				}
				if err == nil {
					s.wrote(kindPackageRevision, pr.Namespace, name, out, mark)
				}
				return err
			})
		return out, err
	}
	out, err := resendCreateAfterGitRace(ctx, s, op, pr, name, send)
	switch {
	case errors.Is(err, errNoObject):
		return readBackCreate(ctx, s, op, pr.Namespace, name, err)
	case err != nil:
		s.invalidate(pr.Namespace, name)
		return nil, opError(op, settleFailedCreate(ctx, s, op, pr, name, err))
	}
	return out, nil
}

// updateRevision sends a revision (its lifecycle and metadata), through the
// approval subresource when approval is set. The update is guarded by the
// revision's resourceVersion and lifecycle, so it is safe to repeat. An
// update whose answer did not carry the revision is judged on a fresh read
// (readBackUpdate).
func (s *server) updateRevision(ctx context.Context, op string, pr *porchapi.PackageRevision, approval bool) (*porchapi.PackageRevision, error) {
	var out *porchapi.PackageRevision
	send := func() error {
		return s.res.do(ctx, call{op: operation(op, kindPackageRevision, pr.Namespace, pr.Name), repository: pr.Spec.RepositoryName, guarded: true},
			func(ctx context.Context) error {
				mark := s.mark()
				var err error
				if approval {
					out, err = s.porch.PorchV1alpha1().PackageRevisions(pr.Namespace).UpdateApproval(ctx, pr.Name, pr, metav1.UpdateOptions{})
				} else {
					out, err = s.porch.PorchV1alpha1().PackageRevisions(pr.Namespace).Update(ctx, pr, metav1.UpdateOptions{})
				}
				switch {
				case err == nil && pr.DeletionTimestamp != nil && len(pr.Finalizers) == 0:
					// Removing the last finalizer completes a delete: the
					// answer is the revision on its way out.
					s.recent.forget(pr.Namespace, pr.Name)
					s.invalidate(pr.Namespace, pr.Name)
				case err == nil:
					if err = requireObject(pr.Name, out); err == nil {
						s.wrote(kindPackageRevision, pr.Namespace, pr.Name, out, mark)
					}
				}
				return err
			})
	}
	err := resendAfterMomentary404(ctx, s, pr.Namespace, pr.Name, send)
	if err != nil {
		s.invalidate(pr.Namespace, pr.Name) // a failed write may still have changed something
	}
	if errors.Is(err, errNoObject) {
		return readBackUpdate(ctx, s, op, pr, err)
	}
	return out, opError(op, err)
}

// updateResources replaces a draft's files, guarded by the resourceVersion
// prr carries. The answer carries Porch's render status (which no read
// shows).
func (s *server) updateResources(ctx context.Context, op string, prr *porchapi.PackageRevisionResources) (*porchapi.PackageRevisionResources, error) {
	var out *porchapi.PackageRevisionResources
	send := func() error {
		return s.res.do(ctx, call{op: operation(op, kindResources, prr.Namespace, prr.Name), repository: prr.Spec.RepositoryName, guarded: true},
			func(ctx context.Context) error {
				mark := s.mark()
				var err error
				out, err = s.porch.PorchV1alpha1().PackageRevisionResources(prr.Namespace).Update(ctx, prr, metav1.UpdateOptions{})
				if err == nil {
					err = requireObject(prr.Name, out)
				}
				if err == nil {
					answer := out.DeepCopy()
					answer.Status = porchapi.PackageRevisionResourcesStatus{} // reads never show the render status
					s.wrote(kindResources, prr.Namespace, prr.Name, answer, mark)
				}
				return err
			})
	}
	err := resendAfterMomentary404(ctx, s, prr.Namespace, prr.Name, send)
	if err != nil {
		s.invalidate(prr.Namespace, prr.Name) // a failed write may still have changed something
	}
	if errors.Is(err, errNoObject) {
		return readBackPush(ctx, s, op, prr, err)
	}
	return out, opError(op, err)
}

// deleteRevision deletes a revision and returns once Porch no longer
// serves it. A delete is repeated after a git race (deleteAfterGitRace).
func (s *server) deleteRevision(ctx context.Context, op, namespace, name, repository string) error {
	del := func() error {
		var raced bool
		err := s.res.do(ctx, call{op: operation("delete", kindPackageRevision, namespace, name), repository: repository, guarded: true},
			func(ctx context.Context) error {
				err := s.porch.PorchV1alpha1().PackageRevisions(namespace).Delete(ctx, name, metav1.DeleteOptions{})
				raced = raced || isGitRace(classify("delete", name, err))
				return err
			})
		return deleteAfterGitRace(raced, err)
	}
	err := deleteOutlastingMomentary404(ctx, s, namespace, name, del)
	s.invalidate(namespace, name)
	if err != nil {
		return opError(op, err)
	}
	s.recent.deletedNow(namespace, name)
	return opError(op, waitGone(ctx, s, namespace, name))
}

// wrote records a successful write: the cache entries it affects are
// dropped and the server's answer becomes the cached object, which saves
// the next read. Answers are stored only when writes per repository are
// serialised, so that they cannot land out of order.
func (s *server) wrote(kind, namespace, name string, answer any, mark uint64) {
	s.recent.seen(namespace, name)
	if s.writes == nil {
		return
	}
	s.writes.invalidate(namespace, name, answer)
	if s.answersAreCurrent {
		s.writes.put(kind, namespace, name, answer, mark)
	}
}

// invalidate drops the cache entries a change of the revision can affect.
func (s *server) invalidate(namespace, name string) {
	if s.writes != nil {
		s.writes.invalidate(namespace, name, nil)
	}
}

// mark notes the cache's event sequence before a write is sent.
func (s *server) mark() uint64 {
	if s.writes == nil {
		return 0
	}
	return s.writes.mark()
}

// opError names the verb the caller called in err, when err is an *Error
// about one of the requests the verb made.
func opError(op string, err error) error {
	pe, ok := err.(*Error)
	if op == "" || !ok || pe.Op == op {
		return err
	}
	cp := *pe
	cp.Op = op
	return &cp
}
