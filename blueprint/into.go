package blueprint

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/porch"
)

// Errors of GenerateInto and Upgrade; each is wrapped with the field or
// revision it is about.
var (
	// ErrUpstreamNotPublished: the upstream revision is not Published, so
	// Porch would record no upstream lock an upgrade could start from.
	ErrUpstreamNotPublished = errors.New("blueprint: upstream revision is not published")
	// ErrNotDeploymentRepository: the target repository is not a deployment
	// repository, and RequireDeployment asked for one.
	ErrNotDeploymentRepository = errors.New("blueprint: target repository is not a deployment repository")
	// ErrInvalidTarget: a field of the target or of the options is invalid.
	ErrInvalidTarget = errors.New("blueprint: invalid target")
	// ErrRenderFailed: Porch rendered the pushed package and its pipeline
	// failed.
	ErrRenderFailed = errors.New("blueprint: Porch failed to render the package")
	// ErrReadinessNotMet is wrapped by *ReadinessError.
	ErrReadinessNotMet = errors.New("blueprint: readiness gates not met")
)

// ReadinessError names the readiness gates without a True condition that
// kept a revision from being proposed or approved.
type ReadinessError struct {
	// Revision is the package revision, or the upstream's name when the
	// check failed before any draft was made.
	Revision string
	// Missing are the unmet condition types, sorted.
	Missing []string
}

// Error implements error.
func (e *ReadinessError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrReadinessNotMet, e.Revision, strings.Join(e.Missing, ", "))
}

// Unwrap returns ErrReadinessNotMet.
func (e *ReadinessError) Unwrap() error { return ErrReadinessNotMet }

// PackageSpecializer specialises a package in place with values; name is
// the downstream package's name. On error it leaves the package as it was.
// GenerateSpecializer is the one GenerateInto and Upgrade use by default.
type PackageSpecializer interface {
	Specialize(ctx context.Context, name string, pkg *porch.Package, values Values) error
}

// SpecializerFunc adapts a function to PackageSpecializer.
type SpecializerFunc func(ctx context.Context, name string, pkg *porch.Package, values Values) error

// Specialize implements PackageSpecializer.
func (f SpecializerFunc) Specialize(ctx context.Context, name string, pkg *porch.Package, values Values) error {
	return f(ctx, name, pkg, values)
}

// GenerateSpecializer returns the PackageSpecializer of Generate: values are
// layered, validated and bound by the package's Parameters (declared or
// inferred), templates executed, and the package specialised as Porch's
// PackageVariant controller does with opts (PackageContext, WithPipeline,
// Inject, ...). The pipeline is not run (WithoutRender): Porch renders the
// package when it is pushed, as it does a PackageVariant's draft.
func GenerateSpecializer(opts ...GenerateOption) PackageSpecializer {
	return generateSpecializer(false, opts)
}

// generateSpecializer is GenerateSpecializer, rendering the pipeline with
// krm when render is set (to see a package as Porch will store it).
func generateSpecializer(render bool, opts []GenerateOption) PackageSpecializer {
	return SpecializerFunc(func(ctx context.Context, name string, pkg *porch.Package, values Values) error {
		all := append(append([]GenerateOption{}, opts...), Name(name))
		if !render {
			all = append(all, WithoutRender())
		}
		out, err := Generate(ctx, FromPackage(pkg, ""), values, all...)
		if err != nil {
			return err
		}
		pkg.Resources = out.Files
		return nil
	})
}

// IntoTarget is where GenerateInto creates the downstream package revision.
type IntoTarget struct {
	// Namespace of the repositories (default "default").
	Namespace string
	// Repository is the downstream repository, registered with Porch.
	Repository string
	// Package is the downstream package name.
	Package string
	// Workspace is the draft's workspace name (default "v1").
	Workspace string
}

// IntoOption configures GenerateInto and Upgrade.
type IntoOption interface{ ApplyToInto(*IntoOptions) }

// IntoOptions is how GenerateInto and Upgrade create and move the revision.
// An *IntoOptions is itself an option that applies its non-zero fields.
type IntoOptions struct {
	// Lifecycle is where the revision ends: Draft (default), Proposed or
	// Published.
	Lifecycle porchapi.PackageRevisionLifecycle
	// Manager proposes and publishes (default: a LifecycleManager that
	// allows every approval).
	Manager *porch.LifecycleManager
	// RequireDeployment refuses a target repository that is not a
	// deployment repository.
	RequireDeployment bool
	// Specializer applies the values (default: GenerateSpecializer with
	// Generate).
	Specializer PackageSpecializer
	// Generate are the options of the default specializer: the
	// PackageVariant-style package context, pipeline and injectors, the
	// environment, the cluster context.
	Generate []GenerateOption
	// Strategy is the merge strategy recorded on clone (default
	// resource-merge).
	Strategy porchapi.PackageMergeStrategy
	// Preview configures Upgrade's preview: strategy and conflict policies.
	Preview PreviewOptions
	// DryRun makes Upgrade return its preview without creating a draft.
	DryRun bool
}

// ApplyToInto applies o's non-zero fields.
func (o *IntoOptions) ApplyToInto(t *IntoOptions) {
	if o.Lifecycle != "" {
		t.Lifecycle = o.Lifecycle
	}
	if o.Manager != nil {
		t.Manager = o.Manager
	}
	if o.RequireDeployment {
		t.RequireDeployment = true
	}
	if o.Specializer != nil {
		t.Specializer = o.Specializer
	}
	if o.Generate != nil {
		t.Generate = append(t.Generate, o.Generate...)
	}
	if o.Strategy != "" {
		t.Strategy = o.Strategy
	}
	if o.Preview.Strategy != "" {
		t.Preview.Strategy = o.Preview.Strategy
	}
	if o.Preview.Policy != "" {
		t.Preview.Policy = o.Preview.Policy
	}
	if o.Preview.Rules != nil {
		t.Preview.Rules = o.Preview.Rules
	}
	if o.DryRun {
		t.DryRun = true
	}
}

// EndAs is an option that sets IntoOptions.Lifecycle.
type EndAs porchapi.PackageRevisionLifecycle

// ApplyToInto implements IntoOption.
func (l EndAs) ApplyToInto(o *IntoOptions) { o.Lifecycle = porchapi.PackageRevisionLifecycle(l) }

// The lifecycles a generated or upgraded revision can end in.
const (
	AsDraft     = EndAs(porchapi.PackageRevisionLifecycleDraft)
	AsProposed  = EndAs(porchapi.PackageRevisionLifecycleProposed)
	AsPublished = EndAs(porchapi.PackageRevisionLifecyclePublished)
)

// RequireDeployment is an option that sets IntoOptions.RequireDeployment.
type RequireDeployment bool

// ApplyToInto implements IntoOption.
func (r RequireDeployment) ApplyToInto(o *IntoOptions) { o.RequireDeployment = bool(r) }

// WithSpecializer sets IntoOptions.Specializer.
func WithSpecializer(s PackageSpecializer) IntoOption { return &IntoOptions{Specializer: s} }

// WithGenerateOptions adds options of the default specializer (Generate).
func WithGenerateOptions(opts ...GenerateOption) IntoOption { return &IntoOptions{Generate: opts} }

// WithLifecycleManager sets IntoOptions.Manager.
func WithLifecycleManager(m *porch.LifecycleManager) IntoOption { return &IntoOptions{Manager: m} }

// IntoResult is what GenerateInto and Upgrade made.
type IntoResult struct {
	// Revision is the downstream revision, in its final lifecycle.
	Revision *porchapi.PackageRevision
	// Package is the content pushed.
	Package *porch.Package
	// RenderStatus is Porch's render of the push.
	RenderStatus *porchapi.RenderStatus
	// Preview is Upgrade's preview (nil for GenerateInto).
	Preview *UpgradePreview
}

func intoOptions(opts []IntoOption) (IntoOptions, error) {
	o := IntoOptions{Lifecycle: porchapi.PackageRevisionLifecycleDraft, Strategy: porchapi.ResourceMerge}
	for _, opt := range opts {
		opt.ApplyToInto(&o)
	}
	switch o.Lifecycle {
	case porchapi.PackageRevisionLifecycleDraft, porchapi.PackageRevisionLifecycleProposed, porchapi.PackageRevisionLifecyclePublished:
	default:
		return o, fmt.Errorf("%w: Lifecycle %q (want Draft, Proposed or Published)", ErrInvalidTarget, o.Lifecycle)
	}
	switch o.Strategy {
	case porchapi.ResourceMerge, porchapi.FastForward, porchapi.ForceDeleteReplace, porchapi.CopyMerge:
	default:
		return o, fmt.Errorf("%w: Strategy %q", ErrInvalidTarget, o.Strategy)
	}
	return o, nil
}

func (o *IntoOptions) specialize(ctx context.Context, name string, pkg *porch.Package, values Values) error {
	s := o.Specializer
	if s == nil {
		s = GenerateSpecializer(o.Generate...)
	}
	return s.Specialize(ctx, name, pkg, values)
}

// specializeRendered is specialize for the upgrade preview: the default
// specializer also renders the pipeline with krm, so that the upstream
// versions compare with the downstream as Porch rendered it.
func (o *IntoOptions) specializeRendered(ctx context.Context, name string, pkg *porch.Package, values Values) error {
	if o.Specializer != nil {
		return o.Specializer.Specialize(ctx, name, pkg, values)
	}
	return generateSpecializer(true, o.Generate).Specialize(ctx, name, pkg, values)
}

// GenerateInto makes a downstream package of a blueprint in Porch the way
// Nephio does: it clones the blueprint's Published upstream revision into
// the target repository (so Porch records the upstream lock an Upgrade
// starts from), applies the specialisation with values, pushes, and leaves
// a Draft, or proposes and publishes it through the LifecycleManager when
// opts ask (AsProposed, AsPublished). The readiness gates are checked before
// propose and approve, as porchctl does: those of the revision and of its
// Kptfile (info.readinessGates against status.conditions).
//
// Everything that can be checked is checked before the draft exists: the
// upstream is Published, the target is a deployment repository when
// RequireDeployment says so, the specialisation succeeds on the upstream's
// content, and the gates are met when the revision is to be proposed. A
// step that fails after the clone deletes the draft, so a failed
// GenerateInto leaves nothing behind.
func GenerateInto(ctx context.Context, c porch.Client, upstream string, values Values, target IntoTarget, opts ...IntoOption) (*IntoResult, error) {
	o, err := intoOptions(opts)
	if err != nil {
		return nil, err
	}
	if target.Namespace == "" {
		target.Namespace = "default"
	}
	if target.Workspace == "" {
		target.Workspace = "v1"
	}
	switch {
	case upstream == "":
		return nil, fmt.Errorf("%w: upstream: empty revision name", ErrInvalidTarget)
	case target.Repository == "":
		return nil, fmt.Errorf("%w: Repository: empty", ErrInvalidTarget)
	case target.Package == "":
		return nil, fmt.Errorf("%w: Package: empty", ErrInvalidTarget)
	}
	prs := c.PackageRevisions(target.Namespace)
	up, err := prs.Get(ctx, upstream)
	if err != nil {
		return nil, fmt.Errorf("blueprint: upstream %s: %w", upstream, err)
	}
	if !porch.IsPublished(up) {
		return nil, fmt.Errorf("%w: %s is %s", ErrUpstreamNotPublished, upstream, lifecycleName(up.Spec.Lifecycle))
	}
	repo, err := c.Repositories(target.Namespace).Get(ctx, target.Repository)
	if err != nil {
		return nil, fmt.Errorf("blueprint: target repository %s: %w", target.Repository, err)
	}
	if o.RequireDeployment && !repo.Spec.Deployment {
		return nil, fmt.Errorf("%w: Repository %s", ErrNotDeploymentRepository, target.Repository)
	}

	// A trial run on the upstream's content: bad values and unmet gates
	// fail here, before anything is created.
	content, err := prs.Pull(ctx, upstream)
	if err != nil {
		return nil, fmt.Errorf("blueprint: pull upstream %s: %w", upstream, err)
	}
	trial := content.DeepCopy()
	if err := o.specialize(ctx, target.Package, trial, values); err != nil {
		return nil, fmt.Errorf("blueprint: specialise %s: %w", upstream, err)
	}
	if o.Lifecycle != porchapi.PackageRevisionLifecycleDraft {
		if missing := unmetGates(nil, trial); len(missing) > 0 {
			return nil, &ReadinessError{Revision: upstream, Missing: missing}
		}
	}

	draft, err := prs.Clone(ctx, porch.FromRevision(upstream), target.Repository, target.Package, target.Workspace, porch.MergeStrategy(o.Strategy))
	if err != nil {
		return nil, fmt.Errorf("blueprint: clone %s into %s: %w", upstream, target.Repository, err)
	}
	res, err := finish(ctx, prs, draft.Name, &o, func(pkg *porch.Package) error { return o.specialize(ctx, target.Package, pkg, values) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

// finish specialises the draft made by a clone or an upgrade, pushes it,
// and moves it to the lifecycle asked for; on any failure it deletes the
// draft.
func finish(ctx context.Context, prs porch.PackageRevisions, name string, o *IntoOptions, mutate func(*porch.Package) error) (res *IntoResult, err error) {
	defer func() {
		if err != nil {
			// The draft goes even when ctx ended: nothing stays behind.
			if derr := prs.Delete(context.WithoutCancel(ctx), name); derr != nil && !errors.Is(derr, porch.ErrNotFound) {
				err = fmt.Errorf("%w (and the draft %s could not be deleted: %v)", err, name, derr)
			}
		}
	}()
	pkg, err := prs.Pull(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("blueprint: pull draft %s: %w", name, err)
	}
	if err := mutate(pkg); err != nil {
		return nil, fmt.Errorf("blueprint: specialise draft %s: %w", name, err)
	}
	status, err := prs.Push(ctx, pkg)
	if err != nil {
		return nil, fmt.Errorf("blueprint: push draft %s: %w", name, err)
	}
	if status != nil && status.Err != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrRenderFailed, name, status.Err)
	}
	pr, err := prs.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("blueprint: read draft %s: %w", name, err)
	}
	res = &IntoResult{Revision: pr, Package: pkg, RenderStatus: status}
	if o.Lifecycle == porchapi.PackageRevisionLifecycleDraft {
		return res, nil
	}
	// Porch renders on push; read what it stored, then check the gates on
	// the server's word and on the Kptfile, as porchctl does.
	stored, err := prs.Pull(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("blueprint: pull draft %s: %w", name, err)
	}
	if missing := unmetGates(pr, stored); len(missing) > 0 {
		return nil, &ReadinessError{Revision: name, Missing: missing}
	}
	m := o.Manager
	if m == nil {
		m = porch.NewLifecycleManager(prs, porch.LifecycleOptions{})
	}
	if res.Revision, err = m.Promote(ctx, name, o.Lifecycle); err != nil {
		return nil, fmt.Errorf("blueprint: %s %s: %w", strings.ToLower(string(o.Lifecycle)), name, err)
	}
	res.Package = stored
	return res, nil
}

func lifecycleName(l porchapi.PackageRevisionLifecycle) string {
	if l == "" {
		return string(porchapi.PackageRevisionLifecycleDraft)
	}
	return string(l)
}

// unmetGates returns the readiness gates without a True condition, sorted:
// the gates of the revision (when given) and of the package's Kptfile
// (info.readinessGates), against the conditions of both (the revision's
// status and the Kptfile's status.conditions).
func unmetGates(pr *porchapi.PackageRevision, pkg *porch.Package) []string {
	gates := map[string]bool{}
	status := map[string]string{}
	if pr != nil {
		for _, g := range pr.Spec.ReadinessGates {
			gates[g.ConditionType] = true
		}
		for _, c := range pr.Status.Conditions {
			status[c.Type] = string(c.Status)
		}
	}
	if pkg != nil {
		if text, ok := pkg.Resources[kptfilev1.KptFileName]; ok {
			var k kptfilev1.KptFile
			if err := yaml.Unmarshal([]byte(text), &k); err == nil {
				if k.Info != nil {
					for _, g := range k.Info.ReadinessGates {
						gates[g.ConditionType] = true
					}
				}
				if k.Status != nil {
					for _, c := range k.Status.Conditions {
						if _, seen := status[c.Type]; !seen {
							status[c.Type] = string(c.Status)
						}
					}
				}
			}
		}
	}
	var missing []string
	for g := range gates {
		if status[g] != string(porchapi.ConditionTrue) {
			missing = append(missing, g)
		}
	}
	sort.Strings(missing)
	return missing
}
