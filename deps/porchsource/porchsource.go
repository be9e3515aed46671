package porchsource

import (
	"context"
	"fmt"
	"maps"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	"golang.org/x/sync/errgroup"

	"github.com/nephoran/porchkit/deps"
	"github.com/nephoran/porchkit/porch"
)

// Config configures a Source. Its zero value reads every published revision
// of the "default" namespace, four Kptfiles at a time.
type Config struct {
	// Namespace holds the repositories; "" means "default".
	Namespace string
	// LatestOnly keeps only the latest published revision of each package,
	// for a universe of what is current rather than of every release.
	LatestOnly bool
	// Concurrency bounds the Kptfiles pulled at once; 0 means 4.
	Concurrency int
}

// Source reads the published package revisions of a namespace through a
// porch.Client. It implements deps.PackageSource and is safe for
// concurrent use.
type Source struct {
	client porch.Client
	cfg    Config
}

var _ deps.PackageSource = (*Source)(nil)

// New returns a Source reading through c.
func New(c porch.Client, cfg Config) *Source {
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	return &Source{client: c, cfg: cfg}
}

// PublishedPackages implements deps.PackageSource: the Published revisions
// of repository (the latest of each package with Config.LatestOnly), in
// name order, each with its Kptfile and all its files (so that Nephio
// Dependency resources are read too). Porch's branch-tracking revisions
// (revision -1, which track the branch's head) are not releases and are
// left out.
func (s *Source) PublishedPackages(ctx context.Context, repository string) ([]deps.PublishedPackage, error) {
	prs := s.client.PackageRevisions(s.cfg.Namespace)
	opts := []porch.ListOption{porch.InRepository(repository), porch.InLifecycle(porchapi.PackageRevisionLifecyclePublished)}
	if s.cfg.LatestOnly {
		opts = append(opts, porch.LatestOnly)
	}
	list, err := prs.List(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("porchsource: list published revisions of %s: %w", repository, err)
	}
	var revs []porchapi.PackageRevision
	for _, pr := range list {
		if pr.Spec.Revision >= 1 {
			revs = append(revs, pr)
		}
	}
	out := make([]deps.PublishedPackage, len(revs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.Concurrency)
	for i, pr := range revs {
		g.Go(func() error {
			pkg, err := prs.Pull(gctx, pr.Name)
			if err != nil {
				return fmt.Errorf("porchsource: pull %s: %w", pr.Name, err)
			}
			kptfile, ok := pkg.Resources["Kptfile"]
			if !ok {
				return fmt.Errorf("porchsource: %s has no Kptfile", pr.Name)
			}
			out[i] = deps.PublishedPackage{Repository: repository, Package: pr.Spec.PackageName, Revision: pr.Spec.Revision, Kptfile: []byte(kptfile), Resources: maps.Clone(pkg.Resources)}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
