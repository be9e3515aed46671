package porch

import (
	"context"

	"github.com/nephio-project/porch/api/generated/clientset/versioned/scheme"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// PackageRevisions is everything `porchctl rpkg` does, for one namespace.
// Code that only reads should ask for a PackageRevisionReader.
type PackageRevisions interface {
	PackageRevisionReader
	PackageAuthor
	ContentClient
	LifecycleClient
}

// PackageRevisionReader reads package revisions.
type PackageRevisionReader interface {
	// Get returns one package revision.
	Get(ctx context.Context, name string) (*porchapi.PackageRevision, error)
	// List returns the revisions matching every option, sorted by name.
	List(ctx context.Context, opts ...ListOption) ([]porchapi.PackageRevision, error)
	// Watch streams changes of the revisions matching the options, until ctx
	// ends or Stop is called. It starts with ADDED for each current match.
	// Unlike Porch's own watch, the options hold for every event, a second
	// ADDED for an object becomes MODIFIED, and an object that stops
	// matching is reported DELETED.
	Watch(ctx context.Context, opts ...ListOption) (watch.Interface, error)
}

// PackageAuthor creates new draft revisions.
type PackageAuthor interface {
	// Init creates a new package: a draft with a Kptfile, README.md and
	// package-context.yaml.
	Init(ctx context.Context, repository, pkg, workspace string, opts ...InitOption) (*porchapi.PackageRevision, error)
	// Clone creates a draft of a new package from an upstream: a package
	// revision in Porch, a git repository, or an OCI image.
	Clone(ctx context.Context, from Upstream, repository, pkg, workspace string, opts ...CloneOption) (*porchapi.PackageRevision, error)
	// Copy creates a new draft of the same package from a Published revision
	// (`porchctl rpkg copy|edit`).
	Copy(ctx context.Context, source, workspace string) (*porchapi.PackageRevision, error)
	// Upgrade creates a new draft of a Published downstream revision, merged
	// with a newer revision of its upstream (the latest unless ToRevision).
	Upgrade(ctx context.Context, name, workspace string, opts ...UpgradeOption) (*porchapi.PackageRevision, error)
}

// ContentClient reads and replaces a revision's files.
type ContentClient interface {
	// Pull returns the revision's files.
	Pull(ctx context.Context, name string) (*Package, error)
	// Push replaces the draft's files with pkg's (files absent from pkg are
	// deleted). It fails with ErrConflict if the draft changed since pkg was
	// pulled. It returns the render status Porch reports, and on success
	// pkg.ResourceVersion is the new version.
	Push(ctx context.Context, pkg *Package) (*porchapi.RenderStatus, error)
	// UpdateResources pulls the draft, calls mutate and pushes the result,
	// starting again from a fresh pull when the draft changed in between.
	UpdateResources(ctx context.Context, name string, mutate func(*Package) error) (*porchapi.RenderStatus, error)
}

// LifecycleClient moves revisions through Draft, Proposed, Published and
// DeletionProposed. Each method checks the current lifecycle first and
// returns a *TransitionError, without changing anything, if the move is not
// legal; a revision already in the target lifecycle is returned as is.
type LifecycleClient interface {
	// Propose moves a Draft to Proposed.
	Propose(ctx context.Context, name string) (*porchapi.PackageRevision, error)
	// Approve publishes a Proposed revision (or restores a DeletionProposed
	// one to Published).
	Approve(ctx context.Context, name string) (*porchapi.PackageRevision, error)
	// Reject returns a Proposed revision to Draft, or a DeletionProposed one
	// to Published.
	Reject(ctx context.Context, name string) (*porchapi.PackageRevision, error)
	// ProposeDelete moves a Published revision to DeletionProposed.
	ProposeDelete(ctx context.Context, name string) (*porchapi.PackageRevision, error)
	// Delete deletes a revision. A Published one is refused with
	// ErrImmutable unless ProposingDeletion is given, which proposes it for
	// deletion first.
	Delete(ctx context.Context, name string, opts ...DeleteOption) error
	// UpdateMetadata applies mutate to the revision's labels and annotations
	// (and, on a Draft, readiness gates and conditions), re-reading and
	// re-applying on conflict.
	UpdateMetadata(ctx context.Context, name string, mutate func(*porchapi.PackageRevision) error) (*porchapi.PackageRevision, error)
}

const (
	kindPackageRevision = "packagerevisions"
	kindResources       = "packagerevisionresources"
	kindList            = "list"
)

type packageRevisions struct {
	c  *client
	ns string
}

var _ PackageRevisions = (*packageRevisions)(nil)

func (p *packageRevisions) op(verb, kind, name string) Operation {
	return Operation{Name: verb, Kind: kind, Namespace: p.ns, Object: name}
}

func (p *packageRevisions) Get(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	return cachedRead(ctx, p.c.cache, kindPackageRevision, p.ns, name, func(ctx context.Context) (*porchapi.PackageRevision, error) {
		return p.getFresh(ctx, name)
	}, (*porchapi.PackageRevision).DeepCopy)
}

// getFresh always asks the server.
func (p *packageRevisions) getFresh(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	if name == "" {
		return nil, newError("get", name, ErrInvalid, "empty package revision name")
	}
	return stillThere(ctx, p.c, p.ns, name, func(ctx context.Context) (*porchapi.PackageRevision, error) {
		var out *porchapi.PackageRevision
		err := p.c.do(ctx, call{op: p.op("get", kindPackageRevision, name), idempotent: true}, func(ctx context.Context) error {
			var err error
			out, err = p.c.porch.PorchV1alpha1().PackageRevisions(p.ns).Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				err = carries(name, out)
			}
			return err
		})
		return out, err
	})
}

func (p *packageRevisions) List(ctx context.Context, opts ...ListOption) ([]porchapi.PackageRevision, error) {
	o := newListOptions(opts)
	return cachedRead(ctx, p.c.cache, kindList, p.ns, kindPackageRevision+"?"+o.key(), func(ctx context.Context) ([]porchapi.PackageRevision, error) {
		var list *porchapi.PackageRevisionList
		err := p.c.do(ctx, call{op: p.op("list", kindPackageRevision, ""), idempotent: true}, func(ctx context.Context) error {
			// The typed List cannot tell an empty list from an answer of
			// another kind (decoded as an empty list too): read the kind.
			res := p.c.porch.PorchV1alpha1().RESTClient().Get().Namespace(p.ns).Resource(kindPackageRevision).
				VersionedParams(&metav1.ListOptions{FieldSelector: o.fieldSelector(), LabelSelector: o.labelSelector()}, scheme.ParameterCodec).
				Do(ctx)
			list = &porchapi.PackageRevisionList{}
			if err := res.Into(list); err != nil {
				return err
			}
			raw, _ := res.Raw()
			return isKind(raw, "PackageRevisionList")
		})
		if err != nil {
			return nil, err
		}
		return o.filter(list.Items), nil
	}, deepCopyRevisions)
}

func deepCopyRevisions(in []porchapi.PackageRevision) []porchapi.PackageRevision {
	out := make([]porchapi.PackageRevision, len(in))
	for i := range in {
		in[i].DeepCopyInto(&out[i])
	}
	return out
}

// written records a write: the cache entries it can affect are dropped.
func (p *packageRevisions) written(name string) {
	if p.c.cache != nil {
		p.c.cache.invalidate(p.ns, name, nil)
	}
}

// wrote records a successful write from inside its repository write slot:
// the entries it affects are dropped and the server's answer becomes the
// cached object, which saves the next read. Answers are stored only when
// writes per repository are serialised, so they cannot land out of order.
func (p *packageRevisions) wrote(kind, name string, answer any, mark uint64) {
	p.c.seen(p.ns, name)
	if p.c.cache == nil {
		return
	}
	p.c.cache.invalidate(p.ns, name, answer)
	if p.c.opts.repoConcurrency == 1 {
		switch a := answer.(type) {
		case *porchapi.PackageRevision:
			p.c.cache.put(kind, p.ns, name, a.DeepCopy(), mark)
		case *porchapi.PackageRevisionResources:
			p.c.cache.put(kind, p.ns, name, a.DeepCopy(), mark)
		}
	}
}

// mark notes the cache's event sequence before a write is sent.
func (p *packageRevisions) mark() uint64 {
	if p.c.cache == nil {
		return 0
	}
	return p.c.cache.mark()
}
