package blueprint

import (
	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/krm"
)

// GenerateOption configures Generate. Options follow the module's
// convention: one method per verb, *GenerateOptions is itself an option
// applying its non-zero fields, and a later option wins.
type GenerateOption interface{ ApplyToGenerate(*GenerateOptions) }

// GenerateOptions is how Generate makes a package.
type GenerateOptions struct {
	// Name is the generated package's name (the downstream package). When
	// set it becomes the Kptfile's metadata.name, as Porch's clone makes
	// it; when empty the package is named after the blueprint and the
	// Kptfile keeps its name.
	Name string
	// Deployment generates the package for a deployment repository: as
	// Porch's clone into one does, every package's package-context.yaml is
	// regenerated with only "name" (the Kptfile's name), created where
	// missing, before PackageContext applies.
	Deployment bool
	// Environment selects the blueprint's environment overlay ("dev",
	// "staging", "prod"); empty uses the cluster's environment when the
	// blueprint declares it, else none.
	Environment string
	// Cluster is the target cluster's context, the highest value layer.
	Cluster *ClusterContext
	// PackageContext adds and removes keys of the kptfile.kpt.dev
	// ConfigMap, as a PackageVariant's spec.packageContext does ("name"
	// and "package-path" are reserved).
	PackageContext *PackageContext
	// Pipeline holds functions prepended to the Kptfile pipeline, named
	// PackageVariant.<Variant>.<fn>.<position> as the PackageVariant
	// controller names them.
	Pipeline *kptfilev1.Pipeline
	// Variant names the variant in the functions' names; it defaults to
	// Name.
	Variant string
	// Injectors select, in order, the object each injection point takes
	// from InjectionObjects; the first matching injector wins.
	Injectors []Injector
	// InjectionObjects are the objects injectors choose from (what the
	// PackageVariant controller lists in the cluster).
	InjectionObjects []*kyaml.RNode
	// Executor runs the Kptfile pipeline; nil uses krm's built-in
	// catalog functions (no containers).
	Executor krm.Executor
	// SkipFunctions lists image prefixes (or exec paths) removed from the
	// pipeline before rendering, for functions that cannot run here such
	// as "docker.io/nephio/". Without it such a function fails the render
	// with ErrFunctionUnavailable, as it fails Porch's render.
	SkipFunctions []string
	// NoRender leaves the pipeline unrun (the package is specialised
	// only), as a Porch draft is before its render.
	NoRender bool
}

// ApplyToGenerate applies o's non-zero fields.
func (o *GenerateOptions) ApplyToGenerate(t *GenerateOptions) {
	if o.Name != "" {
		t.Name = o.Name
	}
	if o.Deployment {
		t.Deployment = true
	}
	if o.Environment != "" {
		t.Environment = o.Environment
	}
	if o.Cluster != nil {
		t.Cluster = o.Cluster
	}
	if o.PackageContext != nil {
		t.PackageContext = o.PackageContext
	}
	if o.Pipeline != nil {
		t.Pipeline = o.Pipeline
	}
	if o.Variant != "" {
		t.Variant = o.Variant
	}
	if o.Injectors != nil {
		t.Injectors = o.Injectors
	}
	if o.InjectionObjects != nil {
		t.InjectionObjects = o.InjectionObjects
	}
	if o.Executor != nil {
		t.Executor = o.Executor
	}
	if o.SkipFunctions != nil {
		t.SkipFunctions = o.SkipFunctions
	}
	if o.NoRender {
		t.NoRender = true
	}
}

// PackageContext is a PackageVariant's spec.packageContext: keys set and
// removed in the package's kptfile.kpt.dev ConfigMap.
type PackageContext struct {
	// Data are keys to set.
	Data map[string]string
	// RemoveKeys are keys to delete.
	RemoveKeys []string
}

// ApplyToGenerate sets the package context changes.
func (p *PackageContext) ApplyToGenerate(o *GenerateOptions) { o.PackageContext = p }

// Injector is a PackageVariant injection selector: an injection point
// whose group, version and kind match (nil matches any) takes the
// injection object of the point's kind named Name.
type Injector struct {
	// Group, Version and Kind narrow the injection points the injector
	// serves; nil matches any.
	Group, Version, Kind *string
	// Name is the injected object's metadata.name.
	Name string
}

// Name sets GenerateOptions.Name.
type Name string

// ApplyToGenerate sets the package name.
func (n Name) ApplyToGenerate(o *GenerateOptions) { o.Name = string(n) }

// Environment sets GenerateOptions.Environment.
type Environment string

// ApplyToGenerate selects the environment overlay.
func (e Environment) ApplyToGenerate(o *GenerateOptions) { o.Environment = string(e) }

// ApplyToGenerate makes the cluster context the top value layer.
func (c *ClusterContext) ApplyToGenerate(o *GenerateOptions) { o.Cluster = c }

// SkipFunctions sets GenerateOptions.SkipFunctions.
type SkipFunctions []string

// ApplyToGenerate sets the skipped function prefixes.
func (s SkipFunctions) ApplyToGenerate(o *GenerateOptions) { o.SkipFunctions = s }

// WithExecutor sets the pipeline's executor.
func WithExecutor(e krm.Executor) GenerateOption { return &GenerateOptions{Executor: e} }

// WithPipeline prepends the pipeline's functions, PackageVariant style.
func WithPipeline(p *kptfilev1.Pipeline) GenerateOption { return &GenerateOptions{Pipeline: p} }

// Inject offers objects for config injection and an injector per object
// (its group, version and kind, its name), in order.
func Inject(objects ...*kyaml.RNode) GenerateOption {
	injectors := make([]Injector, 0, len(objects))
	for _, obj := range objects {
		g, v := splitAPIVersion(obj.GetApiVersion())
		k := obj.GetKind()
		injectors = append(injectors, Injector{Group: &g, Version: &v, Kind: &k, Name: obj.GetName()})
	}
	return injectOption{objects: objects, injectors: injectors}
}

type injectOption struct {
	objects   []*kyaml.RNode
	injectors []Injector
}

func (i injectOption) ApplyToGenerate(o *GenerateOptions) {
	o.InjectionObjects = append(o.InjectionObjects, i.objects...)
	o.Injectors = append(o.Injectors, i.injectors...)
}

// AsDeployment generates for a deployment repository (see
// GenerateOptions.Deployment).
func AsDeployment() GenerateOption { return &GenerateOptions{Deployment: true} }

// WithoutRender leaves the pipeline unrun.
func WithoutRender() GenerateOption { return &GenerateOptions{NoRender: true} }
