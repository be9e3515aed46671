package blueprint

import (
	"context"
	"fmt"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/porch"
)

// UpgradeTarget names the downstream revision to upgrade and the draft the
// upgrade creates.
type UpgradeTarget struct {
	// Namespace of the revisions (default "default").
	Namespace string
	// Downstream is the Published downstream revision.
	Downstream string
	// NewUpstream is the Published upstream revision to upgrade to, a
	// revision of the package the downstream was made from.
	NewUpstream string
	// Workspace is the upgrade draft's workspace name.
	Workspace string
}

// Upgrade moves a downstream package to a new upstream revision and keeps
// its customisations. Before any draft exists it computes the preview
// (PreviewUpgrade on the old upstream, the new upstream and the downstream:
// the three-way diff of every resource and every conflicting field with its
// policy); a conflict whose policy is FailOnConflict, or a fast-forward of a
// changed package, returns the preview with the error and creates nothing,
// and so does DryRun. Otherwise Porch's upgrade task makes the draft (so
// Porch records the new upstream lock), the draft's content is settled to
// the preview's merge (Porch's resource-merge takes upstream's side of
// every conflict, kpt#3242), the specialisation is applied again with
// values, and the draft is pushed and moved on as GenerateInto does. A
// failure after the draft exists deletes it.
func Upgrade(ctx context.Context, c porch.Client, target UpgradeTarget, values Values, opts ...IntoOption) (*IntoResult, error) {
	o, err := intoOptions(opts)
	if err != nil {
		return nil, err
	}
	if o.Preview.Strategy == "" {
		o.Preview.Strategy = o.Strategy
	}
	if target.Namespace == "" {
		target.Namespace = "default"
	}
	switch {
	case target.Downstream == "":
		return nil, fmt.Errorf("%w: Downstream: empty", ErrInvalidTarget)
	case target.NewUpstream == "":
		return nil, fmt.Errorf("%w: NewUpstream: empty", ErrInvalidTarget)
	case target.Workspace == "":
		return nil, fmt.Errorf("%w: Workspace: empty", ErrInvalidTarget)
	}
	prs := c.PackageRevisions(target.Namespace)
	local, err := prs.Get(ctx, target.Downstream)
	if err != nil {
		return nil, fmt.Errorf("blueprint: downstream %s: %w", target.Downstream, err)
	}
	if !porch.IsPublished(local) {
		return nil, fmt.Errorf("%w: Downstream %s is %s; only a Published revision is upgraded", ErrInvalidTarget, target.Downstream, lifecycleName(local.Spec.Lifecycle))
	}
	oldName, err := upstreamOf(ctx, prs, local, 0)
	if err != nil {
		return nil, err
	}
	oldUp, err := prs.Get(ctx, oldName)
	if err != nil {
		return nil, fmt.Errorf("blueprint: old upstream %s: %w", oldName, err)
	}
	newUp, err := prs.Get(ctx, target.NewUpstream)
	if err != nil {
		return nil, fmt.Errorf("blueprint: new upstream %s: %w", target.NewUpstream, err)
	}
	if !porch.IsPublished(newUp) || newUp.Spec.Revision <= 0 {
		return nil, fmt.Errorf("%w: NewUpstream %s is %s", ErrUpstreamNotPublished, target.NewUpstream, lifecycleName(newUp.Spec.Lifecycle))
	}
	if newUp.Spec.RepositoryName != oldUp.Spec.RepositoryName || newUp.Spec.PackageName != oldUp.Spec.PackageName {
		return nil, fmt.Errorf("%w: NewUpstream %s is package %s/%s, the downstream was made from %s/%s", ErrInvalidTarget,
			target.NewUpstream, newUp.Spec.RepositoryName, newUp.Spec.PackageName, oldUp.Spec.RepositoryName, oldUp.Spec.PackageName)
	}

	contents := map[string]*porch.Package{}
	for _, name := range []string{oldName, target.NewUpstream, target.Downstream} {
		if contents[name], err = prs.Pull(ctx, name); err != nil {
			return nil, fmt.Errorf("blueprint: pull %s: %w", name, err)
		}
	}
	// The upstream versions as the downstream sees them: specialised like
	// the downstream was and rendered, so that what the specialisation and
	// the pipeline write is no conflict.
	newSpecialised := contents[target.NewUpstream].DeepCopy()
	oldSpecialised := contents[oldName].DeepCopy()
	for _, p := range []*porch.Package{oldSpecialised, newSpecialised} {
		if err := o.specializeRendered(ctx, local.Spec.PackageName, p, values); err != nil {
			return nil, fmt.Errorf("blueprint: specialise %s: %w", p.Name, err)
		}
	}
	preview, err := PreviewUpgrade(oldSpecialised.Resources, newSpecialised.Resources, contents[target.Downstream].Resources, o.Preview)
	if err != nil {
		if preview != nil {
			return &IntoResult{Preview: preview}, err
		}
		return nil, err
	}
	if o.DryRun {
		return &IntoResult{Preview: preview}, nil
	}

	draft, err := prs.Upgrade(ctx, target.Downstream, target.Workspace, porch.MergeStrategy(o.Strategy), porch.Revision(newUp.Spec.Revision))
	if err != nil {
		return &IntoResult{Preview: preview}, fmt.Errorf("blueprint: upgrade %s to %s: %w", target.Downstream, target.NewUpstream, err)
	}
	res, err := finish(ctx, prs, draft.Name, &o, func(pkg *porch.Package) error {
		if err := settle(pkg, preview.Merged); err != nil {
			return err
		}
		return o.specialize(ctx, local.Spec.PackageName, pkg, values)
	})
	if res != nil {
		res.Preview = preview
	} else {
		res = &IntoResult{Preview: preview}
	}
	return res, err
}

// settle replaces the draft's files by the preview's merge, keeping the
// upstream and upstreamLock Porch's upgrade task wrote into the Kptfile.
func settle(pkg *porch.Package, merged map[string]string) error {
	draftKptfile, err := yaml.Parse(pkg.Resources[kptfilev1.KptFileName])
	if err != nil {
		return fmt.Errorf("blueprint: the upgrade draft's Kptfile: %w", err)
	}
	mergedKptfile, err := yaml.Parse(merged[kptfilev1.KptFileName])
	if err != nil {
		return fmt.Errorf("blueprint: the merged Kptfile: %w", err)
	}
	for _, f := range porchManagedKptfileFields {
		if v := draftKptfile.Field(f); v != nil {
			if err := mergedKptfile.PipeE(yaml.SetField(f, v.Value)); err != nil {
				return err
			}
		}
	}
	files := make(map[string]string, len(merged))
	for k, v := range merged {
		files[k] = v
	}
	files[kptfilev1.KptFileName] = mergedKptfile.MustString()
	pkg.Resources = files
	return nil
}

// upstreamOf finds the upstream revision a revision was cloned or last
// upgraded from, through the edits (copies) in between.
func upstreamOf(ctx context.Context, prs porch.PackageRevisions, pr *porchapi.PackageRevision, depth int) (string, error) {
	if depth > 64 {
		return "", fmt.Errorf("%w: Downstream %s: edit chain longer than 64 revisions", ErrInvalidTarget, pr.Name)
	}
	if len(pr.Spec.Tasks) > 0 {
		t := pr.Spec.Tasks[0]
		switch {
		case t.Type == porchapi.TaskTypeClone && t.Clone != nil && t.Clone.Upstream.UpstreamRef != nil:
			return t.Clone.Upstream.UpstreamRef.Name, nil
		case t.Type == porchapi.TaskTypeUpgrade && t.Upgrade != nil:
			return t.Upgrade.NewUpstream.Name, nil
		case t.Type == porchapi.TaskTypeEdit && t.Edit != nil && t.Edit.Source != nil:
			src, err := prs.Get(ctx, t.Edit.Source.Name)
			if err != nil {
				return "", fmt.Errorf("blueprint: source of %s: %w", pr.Name, err)
			}
			return upstreamOf(ctx, prs, src, depth+1)
		}
	}
	return "", fmt.Errorf("%w: Downstream %s was not cloned from a package revision in Porch", ErrInvalidTarget, pr.Name)
}
