package gitops

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/multicluster"
	"github.com/nephoran/porchkit/porch"
)

// Backend delivers revisions by publishing them in each cluster's Porch
// deployment repository. It implements multicluster.Backend and is safe
// for concurrent use.
type Backend struct {
	client porch.Client
	cfg    Config
}

// DefaultNamespace is the namespace of the deployment repositories when
// Config.Namespace is empty.
const DefaultNamespace = "default"

// Config configures a Backend. Zero values take the documented defaults.
type Config struct {
	// Namespace is the namespace of the deployment repositories ("":
	// DefaultNamespace).
	Namespace string
	// Upstream maps a package's name to a Porch package revision (a
	// published blueprint) that the package's first revision in each
	// deployment repository is cloned from, so that Porch records the
	// lineage and later upgrades can follow it. Packages it does not name
	// start with an init.
	Upstream map[string]string
	// Sync applies every published revision to the cluster (the direct
	// applier stands in for Config Sync) and judges readiness. When nil,
	// an agent in the cluster applies what is published, and a revision
	// counts as Available once it is published.
	Sync multicluster.Backend
	// Approval configures the porch.LifecycleManager that publishes (an
	// approval policy, an audit sink).
	Approval porch.LifecycleOptions
}

// New returns a Backend over a porch client.
func New(c porch.Client, cfg Config) *Backend {
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	cfg.Upstream = maps.Clone(cfg.Upstream)
	return &Backend{client: c, cfg: cfg}
}

var _ multicluster.Backend = (*Backend)(nil)

func repository(c *multicluster.Cluster) (string, error) {
	if c.Repository == "" {
		return "", &multicluster.ClusterError{Cluster: c.Name, Err: fmt.Errorf("%w: no Porch deployment repository", multicluster.ErrInvalidCluster)}
	}
	return c.Repository, nil
}

// workspace makes a draft's workspace name (a DNS-1123 label) from the
// revision ID and the revision number it will be published as: the same
// content can be published again (a rollback) under a new name.
func workspace(id string) string {
	ws := strings.ToLower(id)
	ws = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, ws)
	if len(ws) > validation.DNS1123LabelMaxLength {
		ws = ws[len(ws)-validation.DNS1123LabelMaxLength:]
	}
	return strings.Trim(ws, "-")
}

// Deliver implements multicluster.Backend: it publishes rev as the newest
// revision of the package in the cluster's deployment repository (unless
// that one already has rev's content), then syncs it when Config.Sync is set.
func (b *Backend) Deliver(ctx context.Context, c *multicluster.Cluster, rev *multicluster.Revision) error {
	repo, err := repository(c)
	if err != nil {
		return err
	}
	prs := b.client.PackageRevisions(b.cfg.Namespace)
	latest, err := b.latest(ctx, repo, rev.Package)
	if err != nil {
		return classify(c.Name, err)
	}
	if latest == nil || revisionOf(latest.pkg) != rev.ID {
		if err := b.publish(ctx, prs, repo, latest, rev); err != nil {
			return classify(c.Name, err)
		}
	}
	if b.cfg.Sync != nil {
		return b.cfg.Sync.Deliver(ctx, c, rev)
	}
	return nil
}

// published is a published package revision with its content.
type published struct {
	pr  porchapi.PackageRevision
	pkg *porch.Package
}

// latest returns the newest published revision of pkg in repo (nil: none).
func (b *Backend) latest(ctx context.Context, repo, pkg string) (*published, error) {
	all, err := b.publishedRevisions(ctx, repo, pkg)
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return b.content(ctx, all[0])
}

// publishedRevisions lists pkg's published revisions in repo, newest first.
func (b *Backend) publishedRevisions(ctx context.Context, repo, pkg string) ([]porchapi.PackageRevision, error) {
	list, err := b.client.PackageRevisions(b.cfg.Namespace).List(ctx, porch.InRepository(repo), porch.ForPackage(pkg),
		porch.InLifecycle(porchapi.PackageRevisionLifecyclePublished))
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(pr porchapi.PackageRevision) bool { return pr.Spec.Revision <= 0 })
	sort.Slice(list, func(i, j int) bool { return list[i].Spec.Revision > list[j].Spec.Revision })
	return list, nil
}

func (b *Backend) content(ctx context.Context, pr porchapi.PackageRevision) (*published, error) {
	p, err := b.client.PackageRevisions(b.cfg.Namespace).Pull(ctx, pr.Name)
	if err != nil {
		return nil, err
	}
	return &published{pr: pr, pkg: p}, nil
}

// revisionOf reads the revision ID the package's resources carry.
func revisionOf(p *porch.Package) string {
	nodes, err := p.Nodes()
	if err != nil {
		return ""
	}
	for _, n := range nodes {
		if id := n.GetAnnotations()[multicluster.RevisionAnnotation]; id != "" {
			return id
		}
	}
	return ""
}

// publish creates a draft (clone, init or copy), replaces its resources by
// rev's, and promotes it to Published. A failure deletes the draft, so the
// repository is left as it was.
func (b *Backend) publish(ctx context.Context, prs porch.PackageRevisions, repo string, latest *published, rev *multicluster.Revision) (err error) {
	next := 1
	if latest != nil {
		next = latest.pr.Spec.Revision + 1
	}
	ws := workspace(fmt.Sprintf("%s-r%d", rev.ID, next))
	var draft *porchapi.PackageRevision
	switch {
	case latest != nil:
		draft, err = prs.Copy(ctx, latest.pr.Name, ws)
	case b.cfg.Upstream[rev.Package] != "":
		draft, err = prs.Clone(ctx, porch.FromRevision(b.cfg.Upstream[rev.Package]), repo, rev.Package, ws)
	default:
		draft, err = prs.Init(ctx, repo, rev.Package, ws, porch.Description("published by porchkit multicluster"))
	}
	if errors.Is(err, porch.ErrAlreadyExists) {
		// A draft of this revision from an earlier, interrupted delivery.
		list, lerr := prs.List(ctx, porch.InRepository(repo), porch.ForPackage(rev.Package), porch.InWorkspace(ws))
		if lerr != nil || len(list) != 1 || list[0].Spec.Lifecycle == porchapi.PackageRevisionLifecyclePublished {
			return err
		}
		draft, err = &list[0], nil
	}
	if err != nil {
		return fmt.Errorf("creating a draft of %s in %s: %w", rev.Package, repo, err)
	}
	defer func() {
		if err != nil {
			_ = prs.Delete(context.WithoutCancel(ctx), draft.Name)
		}
	}()
	if _, err = prs.UpdateResources(ctx, draft.Name, func(p *porch.Package) error {
		return replaceResources(p, rev)
	}); err != nil {
		return fmt.Errorf("writing %s to %s: %w", rev.ID, draft.Name, err)
	}
	if _, err = porch.NewLifecycleManager(prs, b.cfg.Approval).Promote(ctx, draft.Name, porchapi.PackageRevisionLifecyclePublished); err != nil {
		return fmt.Errorf("publishing %s: %w", draft.Name, err)
	}
	return nil
}

// replaceResources keeps the package's Kptfile (and non-YAML files) and
// puts rev's resources in one file per resource.
func replaceResources(p *porch.Package, rev *multicluster.Revision) error {
	nodes, err := p.Nodes()
	if err != nil {
		return err
	}
	var keep []*yaml.RNode
	for _, n := range nodes {
		if n.GetKind() == "Kptfile" {
			keep = append(keep, n)
		}
	}
	for _, r := range rev.Resources {
		c := r.Copy()
		file := strings.ToLower(c.GetKind()) + "-" + c.GetName() + ".yaml"
		if ns := c.GetNamespace(); ns != "" {
			file = ns + "/" + file
		}
		if err := c.PipeE(yaml.SetAnnotation(kioutil.PathAnnotation, file)); err != nil {
			return err
		}
		keep = append(keep, c)
	}
	return p.SetNodes(keep)
}

// toRevision reads a published package's resources back (without the
// Kptfile).
func toRevision(pkg string, p *published) (*multicluster.Revision, error) {
	nodes, err := p.pkg.Nodes()
	if err != nil {
		return nil, err
	}
	rev := &multicluster.Revision{Package: pkg, ID: revisionOf(p.pkg)}
	for _, n := range nodes {
		if n.GetKind() == "Kptfile" {
			continue
		}
		_ = n.PipeE(yaml.ClearAnnotation(kioutil.PathAnnotation))
		rev.Resources = append(rev.Resources, n)
	}
	return rev, nil
}

// Current implements multicluster.Backend: the newest published revision
// in the cluster's deployment repository.
func (b *Backend) Current(ctx context.Context, c *multicluster.Cluster, pkg string) (*multicluster.Revision, error) {
	repo, err := repository(c)
	if err != nil {
		return nil, err
	}
	latest, err := b.latest(ctx, repo, pkg)
	if err != nil || latest == nil {
		return nil, classify(c.Name, err)
	}
	return toRevision(pkg, latest)
}

// Get implements multicluster.Backend: the newest published revision with
// the given content ID.
func (b *Backend) Get(ctx context.Context, c *multicluster.Cluster, pkg, id string) (*multicluster.Revision, error) {
	repo, err := repository(c)
	if err != nil {
		return nil, err
	}
	all, err := b.publishedRevisions(ctx, repo, pkg)
	if err != nil {
		return nil, classify(c.Name, err)
	}
	for _, pr := range all {
		p, err := b.content(ctx, pr)
		if err != nil {
			return nil, classify(c.Name, err)
		}
		if revisionOf(p.pkg) == id {
			return toRevision(pkg, p)
		}
	}
	return nil, fmt.Errorf("%w: %s %s in %s", multicluster.ErrUnknownRevision, pkg, id, repo)
}

// Observe implements multicluster.Backend: rev is Available once it is the
// newest published revision, and (with Config.Sync) Available in the
// cluster.
func (b *Backend) Observe(ctx context.Context, c *multicluster.Cluster, rev *multicluster.Revision) (multicluster.Observation, error) {
	repo, err := repository(c)
	if err != nil {
		return multicluster.Observation{}, err
	}
	latest, err := b.latest(ctx, repo, rev.Package)
	if err != nil {
		return multicluster.Observation{}, classify(c.Name, err)
	}
	if latest == nil || revisionOf(latest.pkg) != rev.ID {
		return multicluster.Observation{State: multicluster.DeliveryProgressing, Message: rev.ID + " not published in " + repo}, nil
	}
	if b.cfg.Sync != nil {
		return b.cfg.Sync.Observe(ctx, c, rev)
	}
	return multicluster.Observation{State: multicluster.DeliveryAvailable, Message: fmt.Sprintf("%s published as %s", rev.ID, latest.pr.Name)}, nil
}

// Remove implements multicluster.Backend: every published revision of the
// package is proposed for deletion and deleted (and removed from the
// cluster with Config.Sync).
func (b *Backend) Remove(ctx context.Context, c *multicluster.Cluster, pkg string) error {
	repo, err := repository(c)
	if err != nil {
		return err
	}
	prs := b.client.PackageRevisions(b.cfg.Namespace)
	list, err := prs.List(ctx, porch.InRepository(repo), porch.ForPackage(pkg))
	if err != nil {
		return classify(c.Name, err)
	}
	for _, pr := range list {
		if pr.Spec.Revision < 0 {
			continue // the branch's placeholder goes with the package
		}
		if pr.Spec.Lifecycle == porchapi.PackageRevisionLifecyclePublished {
			if _, err := prs.ProposeDelete(ctx, pr.Name); err != nil {
				return classify(c.Name, err)
			}
		}
		if err := prs.Delete(ctx, pr.Name); err != nil && !errors.Is(err, porch.ErrNotFound) {
			return classify(c.Name, err)
		}
	}
	if b.cfg.Sync != nil {
		return b.cfg.Sync.Remove(ctx, c, pkg)
	}
	return nil
}

// classify maps an unavailable Porch or deployment repository to
// multicluster.ErrUnreachable (the cluster cannot be fed) and rejected
// credentials to multicluster.ErrUnauthorized.
func classify(cluster string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, porch.ErrUnauthorized), errors.Is(err, porch.ErrForbidden):
		return &multicluster.ClusterError{Cluster: cluster, Err: fmt.Errorf("%w: %w", multicluster.ErrUnauthorized, err)}
	case errors.Is(err, porch.ErrUnavailable), errors.Is(err, porch.ErrCircuitOpen), errors.Is(err, porch.ErrNotReady):
		return &multicluster.ClusterError{Cluster: cluster, Err: fmt.Errorf("%w: %w", multicluster.ErrUnreachable, err)}
	}
	return &multicluster.ClusterError{Cluster: cluster, Err: err}
}
