package intent

import (
	"context"
	"fmt"

	"github.com/nephoran/porchkit/blueprint"
)

// Mapper turns intents into packages: Rules choose the blueprint and
// values, Generator (a blueprint.Engine over a catalog, or the fake in
// blueprinttest) makes the package.
type Mapper struct {
	// Rules choose the blueprint for each intent.
	Rules *Rules
	// Generator resolves the chosen blueprint and version constraint and
	// generates the package.
	Generator blueprint.Generator
	// Validate, when set, checks each generated package (for example the
	// layered blueprint validation with compliance policies); an error
	// fails FromIntent.
	Validate func(ctx context.Context, d *Decision, pkg *blueprint.Package) error
	// Options are passed to every Generate, before the per-call ones.
	Options []blueprint.GenerateOption
}

// Result is what FromIntent made and why.
type Result struct {
	// Package is the generated package, ready to push.
	Package *blueprint.Package
	// Decision is the rule that chose the blueprint, the values it
	// computed and why the other rules did not match.
	Decision *Decision
}

// GenerateError reports that the blueprint a rule chose could not be
// generated (unknown blueprint, no matching version, values the schema
// rejects, a failed render or validation); errors.Is and errors.As reach
// the blueprint package's error through it.
type GenerateError struct {
	// Rule is the chosen rule's name.
	Rule string
	// Blueprint is the blueprint reference generated.
	Blueprint blueprint.Ref
	// Err is the generator's or validator's error.
	Err error
}

func (e *GenerateError) Error() string {
	return fmt.Sprintf("intent: rule %q: blueprint %s: %v", e.Rule, e.Blueprint, e.Err)
}

// Unwrap returns the generator's error.
func (e *GenerateError) Unwrap() error { return e.Err }

// FromIntent validates in, decides which rule applies and generates the
// package of the blueprint it names, with the rule's values, the rule's
// (or the intent's) environment overlay and in.Name as the package name.
// opts are added after m.Options (a later option wins). Nothing is pushed
// anywhere: push Result.Package.Porch() with the porch client.
func (m *Mapper) FromIntent(ctx context.Context, in Intent, opts ...blueprint.GenerateOption) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.Rules == nil || m.Generator == nil {
		return nil, fmt.Errorf("%w: a Mapper needs Rules and a Generator", ErrInvalidRules)
	}
	d, err := m.Rules.Decide(in)
	if err != nil {
		return nil, err
	}
	ref := blueprint.Ref{Name: d.Blueprint.Name, Version: d.Blueprint.Version}
	all := make([]blueprint.GenerateOption, 0, len(m.Options)+len(opts)+2)
	all = append(all, blueprint.Name(in.Name), blueprint.Environment(d.Environment))
	all = append(all, m.Options...)
	all = append(all, opts...)
	pkg, err := m.Generator.Generate(ctx, ref, blueprint.Values(d.Values), all...)
	if err != nil {
		return nil, &GenerateError{Rule: d.Rule.Name, Blueprint: ref, Err: err}
	}
	if m.Validate != nil {
		if err := m.Validate(ctx, d, pkg); err != nil {
			return nil, &GenerateError{Rule: d.Rule.Name, Blueprint: pkg.Blueprint, Err: err}
		}
	}
	return &Result{Package: pkg, Decision: d}, nil
}

// PackageValidator returns a Mapper.Validate that runs the layered
// blueprint validation (YAML, KRM, OpenAPI, compliance policies, the
// pipeline's validators) on the generated package as a downstream one, the
// policies seeing the package's effective values; opts add to that (for
// example blueprint.WithLifecycle("Published")). A violation fails with
// blueprint.Violations.
func PackageValidator(opts ...blueprint.ValidateOption) func(ctx context.Context, d *Decision, pkg *blueprint.Package) error {
	return func(ctx context.Context, _ *Decision, pkg *blueprint.Package) error {
		all := append([]blueprint.ValidateOption{blueprint.WithPolicyValues(pkg.Values), blueprint.AsDownstream()}, opts...)
		_, err := blueprint.ValidatePackage(ctx, pkg.Files, all...)
		return err
	}
}

// NewLibraryMapper returns the Mapper for porchkit's shipped example
// blueprints: LibraryRules, an Engine over src (library.Catalog, or any
// catalog holding the amf, smf, upf and nrf blueprints) and the
// PackageValidator.
func NewLibraryMapper(src blueprint.Source) *Mapper {
	return &Mapper{Rules: LibraryRules(), Generator: blueprint.NewEngine(src), Validate: PackageValidator()}
}
