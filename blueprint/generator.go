package blueprint

import (
	"context"
	"fmt"
	"maps"

	"github.com/nephoran/porchkit/krm"
	"github.com/nephoran/porchkit/porch"
)

// Generator makes a specialised, rendered package of a blueprint and
// values. Code that generates packages depends on it; blueprinttest has a
// fake.
type Generator interface {
	Generate(ctx context.Context, ref Ref, values Values, opts ...GenerateOption) (*Package, error)
}

// Package is a generated package: the files, ready to push, and how they
// were made.
type Package struct {
	// Name is the package's name.
	Name string
	// Blueprint is the blueprint it was made of (exact version).
	Blueprint Ref
	// Files maps package paths to contents, the shape of
	// porch.Package.Resources.
	Files map[string]string
	// Values are the effective values after layering, defaults applied.
	Values Values
	// Origins say which layer set each leaf value.
	Origins Origins
	// Injections report each injection point's outcome.
	Injections []InjectionResult
	// Skipped are the pipeline functions SkipFunctions removed.
	Skipped []string
	// Render is the pipeline's result (nil when not rendered).
	Render *krm.RenderResult
}

// Porch returns the package as a porch package, for
// PackageRevisions.Push (set its Name to the draft's name first).
func (p *Package) Porch() *porch.Package {
	return &porch.Package{Name: p.Name, Resources: maps.Clone(p.Files)}
}

// Engine is the Generator over a Source of blueprints.
type Engine struct {
	// Source gives the blueprints.
	Source Source
	// Defaults are options applied before each call's own.
	Defaults []GenerateOption
}

// NewEngine returns an Engine reading blueprints from src.
func NewEngine(src Source, defaults ...GenerateOption) *Engine {
	return &Engine{Source: src, Defaults: defaults}
}

// Generate gets the blueprint ref names and generates a package of it.
func (e *Engine) Generate(ctx context.Context, ref Ref, values Values, opts ...GenerateOption) (*Package, error) {
	if e.Source == nil {
		return nil, &UnknownBlueprintError{Ref: ref}
	}
	bp, err := e.Source.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	if bp == nil {
		return nil, &UnknownBlueprintError{Ref: ref}
	}
	return Generate(ctx, bp, values, append(append([]GenerateOption{}, e.Defaults...), opts...)...)
}

// Generate makes a package of bp and values: the declaration is read (or
// inferred), values layered and validated, bindings written, templates
// executed, the package specialised as a PackageVariant would and its
// pipeline rendered. bp is not modified; on error nothing is returned.
func Generate(ctx context.Context, bp *Blueprint, values Values, opts ...GenerateOption) (*Package, error) {
	if bp == nil {
		return nil, fmt.Errorf("%w: nil blueprint", ErrInvalidBlueprint)
	}
	var o GenerateOptions
	for _, opt := range opts {
		if opt != nil {
			opt.ApplyToGenerate(&o)
		}
	}
	name := o.Name
	if name == "" {
		name = bp.Name
	}
	if o.Variant == "" {
		o.Variant = name
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	files := maps.Clone(bp.Files)
	if _, err := parseKptfile(files); err != nil {
		return nil, err
	}
	params, err := FindParameters(files)
	if err != nil {
		return nil, err
	}
	if params == nil {
		if params, err = Infer(files); err != nil {
			return nil, err
		}
	}
	schema, err := params.Compile()
	if err != nil {
		return nil, err
	}
	effective, origins, err := params.layer(schema, values, o.Environment, o.Cluster)
	if err != nil {
		return nil, withBlueprint(err, bp.Name)
	}
	if errs := schema.SchemaErrors(effective); len(errs) > 0 {
		return nil, &ValuesError{Blueprint: bp.Name, Errors: errs}
	}
	files, err = ExecuteTemplates(files, TemplateData{Values: effective, Package: name, Blueprint: bp.Ref()})
	if err != nil {
		return nil, err
	}
	bound, err := bind(files, params.Bindings, effective)
	if err != nil {
		return nil, err
	}
	files = bound.files
	spec, err := specialize(files, &o, bound.injected)
	if err != nil {
		return nil, err
	}
	pkg := &Package{
		Name:       name,
		Blueprint:  bp.Ref(),
		Files:      spec.files,
		Values:     effective,
		Origins:    origins,
		Injections: spec.injections,
	}
	if o.NoRender {
		return pkg, nil
	}
	out, skipped, res, err := render(ctx, pkg.Files, &o)
	pkg.Skipped, pkg.Render = skipped, res
	if err != nil {
		return nil, err
	}
	pkg.Files = out
	return pkg, nil
}

func withBlueprint(err error, name string) error {
	if ve, ok := err.(*ValuesError); ok && ve.Blueprint == "" {
		ve.Blueprint = name
	}
	return err
}
