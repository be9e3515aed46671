package porch

import (
	"context"
	"fmt"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Upstream is where Clone copies a package from. Build one with
// FromRevision, FromGit or FromOCI.
type Upstream struct {
	spec porchapi.UpstreamPackage
}

// FromRevision clones a package revision known to Porch, in the same
// namespace.
func FromRevision(name string) Upstream {
	return Upstream{spec: porchapi.UpstreamPackage{UpstreamRef: &porchapi.PackageRevisionRef{Name: name}}}
}

// FromGit clones the package in directory dir of a git repository at ref (a
// tag, branch or commit).
func FromGit(url, ref, dir string, opts ...GitOption) Upstream {
	var o GitOptions
	for _, opt := range opts {
		opt.ApplyToGit(&o)
	}
	g := &porchapi.GitPackage{Repo: url, Ref: ref, Directory: dir, SecretRef: porchapi.SecretRef{Name: o.SecretRef}}
	return Upstream{spec: porchapi.UpstreamPackage{Type: porchapi.RepositoryTypeGit, Git: g}}
}

// FromOCI clones a package stored as an OCI image. Porch v1.5.3 answers
// ErrUnsupported.
func FromOCI(image string) Upstream {
	return Upstream{spec: porchapi.UpstreamPackage{Type: porchapi.RepositoryTypeOCI, Oci: &porchapi.OciPackage{Image: image}}}
}

func validateNew(op, repository, pkg, workspace string) error {
	name := RevisionName(repository, pkg, workspace)
	if repository == "" {
		return newError(op, name, ErrInvalid, "empty repository")
	}
	if errs := validation.IsDNS1123Label(workspace); len(errs) > 0 {
		return newError(op, name, ErrInvalid, "workspace name %q: %s", workspace, strings.Join(errs, "; "))
	}
	if pkg == "" {
		return newError(op, name, ErrInvalid, "empty package name")
	}
	for _, seg := range strings.Split(pkg, "/") {
		if errs := validation.IsDNS1123Label(seg); len(errs) > 0 {
			return newError(op, name, ErrInvalid, "package name %q: segment %q: %s", pkg, seg, strings.Join(errs, "; "))
		}
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return newError(op, name, ErrInvalid, "package revision name: %s", strings.Join(errs, "; "))
	}
	return nil
}

// create checks the new revision's names and sends a draft with one task.
func (p *packageRevisions) create(ctx context.Context, op, repository, pkg, workspace string, task porchapi.Task, parent string) (*porchapi.PackageRevision, error) {
	if err := validateNew(op, repository, pkg, workspace); err != nil {
		return nil, err
	}
	pr := &porchapi.PackageRevision{
		TypeMeta:   metav1.TypeMeta{APIVersion: porchapi.SchemeGroupVersion.String(), Kind: "PackageRevision"},
		ObjectMeta: metav1.ObjectMeta{Namespace: p.ns},
		Spec: porchapi.PackageRevisionSpec{
			PackageName: pkg, RepositoryName: repository, WorkspaceName: workspace,
			Lifecycle: draft, Tasks: []porchapi.Task{task},
		},
	}
	if parent != "" {
		pr.Spec.Parent = &porchapi.ParentReference{Name: parent}
	}
	return p.c.srv.createRevision(ctx, op, pr)
}

func (p *packageRevisions) Init(ctx context.Context, repository, pkg, workspace string, opts ...InitOption) (*porchapi.PackageRevision, error) {
	var o InitOptions
	for _, opt := range opts {
		opt.ApplyToInit(&o)
	}
	spec := &porchapi.PackageInitTaskSpec{Description: o.Description, Keywords: o.Keywords, Site: o.Site}
	return p.create(ctx, "init", repository, pkg, workspace, porchapi.Task{Type: porchapi.TaskTypeInit, Init: spec}, "")
}

func (p *packageRevisions) Clone(ctx context.Context, from Upstream, repository, pkg, workspace string, opts ...CloneOption) (*porchapi.PackageRevision, error) {
	o := CloneOptions{Strategy: porchapi.ResourceMerge}
	for _, opt := range opts {
		opt.ApplyToClone(&o)
	}
	name := RevisionName(repository, pkg, workspace)
	switch {
	case from.spec.UpstreamRef != nil && from.spec.UpstreamRef.Name == "",
		from.spec.Git != nil && from.spec.Git.Repo == "",
		from.spec.Oci != nil && from.spec.Oci.Image == "",
		from.spec.UpstreamRef == nil && from.spec.Git == nil && from.spec.Oci == nil:
		return nil, newError("clone", name, ErrInvalid, "empty upstream: use FromRevision, FromGit or FromOCI")
	}
	task := porchapi.Task{Type: porchapi.TaskTypeClone, Clone: &porchapi.PackageCloneTaskSpec{
		Upstream: *from.spec.DeepCopy(), Strategy: o.Strategy,
	}}
	return p.create(ctx, "clone", repository, pkg, workspace, task, o.Parent)
}

func (p *packageRevisions) Copy(ctx context.Context, source, workspace string) (*porchapi.PackageRevision, error) {
	src, err := p.c.confirmed(ctx, "copy", p.ns, source, IsPublished)
	if err != nil {
		return nil, err
	}
	if !IsPublished(src) {
		return nil, newError("copy", source, ErrInvalidTransition, "the source is %s; only a Published revision can be copied", lifecycleOrDraft(src.Spec.Lifecycle))
	}
	task := porchapi.Task{Type: porchapi.TaskTypeEdit, Edit: &porchapi.PackageEditTaskSpec{Source: &porchapi.PackageRevisionRef{Name: source}}}
	return p.create(ctx, "copy", src.Spec.RepositoryName, src.Spec.PackageName, workspace, task, "")
}

func (p *packageRevisions) Upgrade(ctx context.Context, name, workspace string, opts ...UpgradeOption) (*porchapi.PackageRevision, error) {
	o := UpgradeOptions{Strategy: porchapi.ResourceMerge}
	for _, opt := range opts {
		opt.ApplyToUpgrade(&o)
	}
	const op = "upgrade"
	local, err := p.c.confirmed(ctx, op, p.ns, name, IsPublished)
	if err != nil {
		return nil, err
	}
	if !IsPublished(local) {
		return nil, newError("upgrade", name, ErrInvalidTransition, "only a Published revision can be upgraded; it is %s", lifecycleOrDraft(local.Spec.Lifecycle))
	}
	oldUpstream, err := p.upstreamOf(ctx, local, 0)
	if err != nil {
		return nil, err
	}
	old, err := p.c.reader.getRevision(ctx, op, p.ns, oldUpstream)
	if err != nil {
		return nil, err
	}
	// The newest upstream revision is decided on the server's word, not on
	// a cached list.
	candidates, err := p.c.srv.listRevisions(ctx, op, p.ns, ListOptions{Repository: old.Spec.RepositoryName, Package: old.Spec.PackageName})
	if err != nil {
		return nil, err
	}
	var target *porchapi.PackageRevision
	for i := range candidates {
		c := &candidates[i]
		if !IsPublished(c) || c.Spec.Revision <= 0 {
			continue
		}
		if o.Revision > 0 && c.Spec.Revision == o.Revision || o.Revision <= 0 && (target == nil || c.Spec.Revision > target.Spec.Revision) {
			target = c
		}
	}
	if target == nil {
		what := "a published revision"
		if o.Revision > 0 {
			what = fmt.Sprintf("revision %d", o.Revision)
		}
		return nil, newError("upgrade", name, ErrNotFound, "upstream package %s/%s has no %s", old.Spec.RepositoryName, old.Spec.PackageName, what)
	}
	task := porchapi.Task{Type: porchapi.TaskTypeUpgrade, Upgrade: &porchapi.PackageUpgradeTaskSpec{
		OldUpstream:             porchapi.PackageRevisionRef{Name: oldUpstream},
		NewUpstream:             porchapi.PackageRevisionRef{Name: target.Name},
		LocalPackageRevisionRef: porchapi.PackageRevisionRef{Name: name},
		Strategy:                o.Strategy,
	}}
	return p.create(ctx, "upgrade", local.Spec.RepositoryName, local.Spec.PackageName, workspace, task, "")
}

// upstreamOf finds the upstream revision a revision was cloned or last
// upgraded from, following edit (copy) sources like porchctl does.
func (p *packageRevisions) upstreamOf(ctx context.Context, pr *porchapi.PackageRevision, depth int) (string, error) {
	if depth > 64 {
		return "", newError("upgrade", pr.Name, ErrInvalid, "edit chain longer than 64 revisions")
	}
	if len(pr.Spec.Tasks) == 0 {
		return "", newError("upgrade", pr.Name, ErrNotFound, "the revision records no task, so its upstream is unknown")
	}
	t := pr.Spec.Tasks[0]
	switch {
	case t.Type == porchapi.TaskTypeClone && t.Clone != nil && t.Clone.Upstream.UpstreamRef != nil:
		return t.Clone.Upstream.UpstreamRef.Name, nil
	case t.Type == porchapi.TaskTypeUpgrade && t.Upgrade != nil:
		return t.Upgrade.NewUpstream.Name, nil
	case t.Type == porchapi.TaskTypeEdit && t.Edit != nil && t.Edit.Source != nil:
		src, err := p.c.reader.getRevision(ctx, "upgrade", p.ns, t.Edit.Source.Name)
		if err != nil {
			return "", err
		}
		return p.upstreamOf(ctx, src, depth+1)
	}
	return "", newError("upgrade", pr.Name, ErrNotFound, "the revision was not cloned from a package revision in Porch")
}
