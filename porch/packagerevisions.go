package porch

import (
	"context"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
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
	// matching is reported DELETED (with LatestOnly, so is a package's old
	// latest revision when a newer one is published).
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
	// with a newer revision of its upstream (the latest, unless a Revision option names one).
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

type packageRevisions struct {
	c  *client
	ns string
}

var _ PackageRevisions = (*packageRevisions)(nil)

func (p *packageRevisions) Get(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	if name == "" {
		return nil, newError("get", name, ErrInvalid, "empty package revision name")
	}
	return p.c.reader.getRevision(ctx, "get", p.ns, name)
}

// getFresh reads a revision from the server, never from the cache, for
// decisions that must rest on the server's word. op is the caller's verb.
func (p *packageRevisions) getFresh(ctx context.Context, op, name string) (*porchapi.PackageRevision, error) {
	return p.c.srv.getRevision(ctx, op, p.ns, name)
}

// confirmed reads a revision through the cache and, when the cached copy
// fails ok, reads it fresh from the server: a verb refuses, or finds
// nothing to do, only on the server's word, never on a cached copy that may
// be behind. op is the caller's verb.
func (c *client) confirmed(ctx context.Context, op, namespace, name string, ok func(*porchapi.PackageRevision) bool) (*porchapi.PackageRevision, error) {
	pr, err := c.reader.getRevision(ctx, op, namespace, name)
	if err != nil || ok(pr) || c.cache == nil {
		return pr, err
	}
	return c.srv.getRevision(ctx, op, namespace, name)
}

func (p *packageRevisions) List(ctx context.Context, opts ...ListOption) ([]porchapi.PackageRevision, error) {
	return p.c.reader.listRevisions(ctx, "list", p.ns, newListOptions(opts))
}
