// Package blueprinttest holds a fake blueprint.Generator for the tests of
// code that generates packages: it records every call and answers with
// canned packages, errors or a function.
package blueprinttest

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/nephoran/porchkit/blueprint"
)

// Call is one recorded Generate call.
type Call struct {
	// Ref and Values are the arguments (Values deep-copied).
	Ref    blueprint.Ref
	Values blueprint.Values
	// Options are the options applied in order.
	Options blueprint.GenerateOptions
}

// Generator is a fake blueprint.Generator. Answers are chosen in order:
// Func when set, then the canned result for the blueprint's name, then
// Default, else an error wrapping blueprint.ErrUnknownBlueprint. It is safe
// for concurrent use.
type Generator struct {
	// Func, when set, answers every call.
	Func func(ctx context.Context, ref blueprint.Ref, values blueprint.Values, opts blueprint.GenerateOptions) (*blueprint.Package, error)
	// Default answers calls no canned result matches (nil: unknown
	// blueprint).
	Default *blueprint.Package

	mu     sync.Mutex
	canned map[string]result
	calls  []Call
}

type result struct {
	pkg *blueprint.Package
	err error
}

var _ blueprint.Generator = (*Generator)(nil)

// New returns a fake with no canned results.
func New() *Generator { return &Generator{} }

// Returns makes calls for the blueprint name answer pkg (a copy each time).
func (g *Generator) Returns(name string, pkg *blueprint.Package) *Generator {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.canned == nil {
		g.canned = map[string]result{}
	}
	g.canned[name] = result{pkg: pkg}
	return g
}

// Fails makes calls for the blueprint name return err.
func (g *Generator) Fails(name string, err error) *Generator {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.canned == nil {
		g.canned = map[string]result{}
	}
	g.canned[name] = result{err: err}
	return g
}

// Generate records the call and answers it.
func (g *Generator) Generate(ctx context.Context, ref blueprint.Ref, values blueprint.Values, opts ...blueprint.GenerateOption) (*blueprint.Package, error) {
	var o blueprint.GenerateOptions
	for _, opt := range opts {
		if opt != nil {
			opt.ApplyToGenerate(&o)
		}
	}
	g.mu.Lock()
	g.calls = append(g.calls, Call{Ref: ref, Values: values.DeepCopy(), Options: o})
	fn, canned, ok, def := g.Func, result{}, false, g.Default
	if g.canned != nil {
		canned, ok = g.canned[ref.Name]
	}
	g.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case fn != nil:
		return fn(ctx, ref, values, o)
	case ok && canned.err != nil:
		return nil, canned.err
	case ok:
		return copyPackage(canned.pkg, ref, values, o), nil
	case def != nil:
		return copyPackage(def, ref, values, o), nil
	}
	return nil, fmt.Errorf("blueprinttest: %w %s", blueprint.ErrUnknownBlueprint, ref)
}

// copyPackage returns an independent copy of p, named as the call asks
// and carrying the call's values when p has none.
func copyPackage(p *blueprint.Package, ref blueprint.Ref, values blueprint.Values, o blueprint.GenerateOptions) *blueprint.Package {
	if p == nil {
		return nil
	}
	c := *p
	c.Files = maps.Clone(p.Files)
	c.Values = p.Values.DeepCopy()
	if c.Values == nil {
		c.Values = values.DeepCopy()
	}
	if o.Name != "" {
		c.Name = o.Name
	}
	if c.Blueprint.Name == "" {
		c.Blueprint = ref
	}
	return &c
}

// Calls returns the recorded calls, oldest first.
func (g *Generator) Calls() []Call {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Call(nil), g.calls...)
}

// Reset forgets the recorded calls.
func (g *Generator) Reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls = nil
}
