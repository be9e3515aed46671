package blueprint

import (
	"context"
	"fmt"
	"maps"

	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/nephoran/porchkit/porch"
)

// KptfileName is the name of a kpt package's root file.
const KptfileName = "Kptfile"

// Blueprint is a kpt package in memory, with the name and version it is
// published under. Files has the shape of porch.Package.Resources, so a
// package read from Porch is a blueprint and a generated one is pushable.
type Blueprint struct {
	// Name is the blueprint's name (the package name in its repository).
	Name string
	// Version is its semantic version ("v1.2.0"), or "" when unversioned.
	Version string
	// Files maps package-relative paths (Kptfile, *.yaml, *.tmpl,
	// README.md, ...) to their contents.
	Files map[string]string
}

// FromPackage makes a blueprint of a porch package; version is the
// revision's version (its workspace name or tag) and may be "".
func FromPackage(p *porch.Package, version string) *Blueprint {
	if p == nil {
		return nil
	}
	return &Blueprint{Name: p.Name, Version: version, Files: maps.Clone(p.Resources)}
}

// Package returns the blueprint as a porch package with a copy of its
// files, ready for PackageRevisions.Push.
func (b *Blueprint) Package() *porch.Package {
	return &porch.Package{Name: b.Name, Resources: maps.Clone(b.Files)}
}

// DeepCopy returns an independent copy.
func (b *Blueprint) DeepCopy() *Blueprint {
	return &Blueprint{Name: b.Name, Version: b.Version, Files: maps.Clone(b.Files)}
}

// Ref returns the reference naming exactly this blueprint.
func (b *Blueprint) Ref() Ref { return Ref{Name: b.Name, Version: b.Version} }

// Kptfile parses the root Kptfile.
func (b *Blueprint) Kptfile() (*kptfilev1.KptFile, error) {
	return parseKptfile(b.Files)
}

func parseKptfile(files map[string]string) (*kptfilev1.KptFile, error) {
	src, ok := files[KptfileName]
	if !ok {
		return nil, fmt.Errorf("%w: no root %s", ErrInvalidBlueprint, KptfileName)
	}
	var kf kptfilev1.KptFile
	if err := yaml.Unmarshal([]byte(src), &kf); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidBlueprint, KptfileName, err)
	}
	return &kf, nil
}

// Ref names a blueprint and the versions acceptable: an exact version
// ("v1.2.0"), a semver constraint ("^1.2", ">= 1.0, < 2") or "" for the
// newest.
type Ref struct {
	// Name is the blueprint's name.
	Name string
	// Version is an exact version or a constraint; "" means the newest.
	Version string
}

// String renders the reference as name@version (name alone without one).
func (r Ref) String() string {
	if r.Version == "" {
		return r.Name
	}
	return r.Name + "@" + r.Version
}

// Source gives blueprints by reference; a catalog implements it over Porch
// repositories, directories or an fs.FS. Get returns an error wrapping
// ErrUnknownBlueprint when no blueprint has the name, and
// ErrNoMatchingVersion when none of its versions satisfies Ref.Version. The
// returned blueprint is the caller's to modify.
type Source interface {
	Get(ctx context.Context, ref Ref) (*Blueprint, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, ref Ref) (*Blueprint, error)

// Get calls f.
func (f SourceFunc) Get(ctx context.Context, ref Ref) (*Blueprint, error) { return f(ctx, ref) }

// Blueprints is a Source over a fixed set, matched by name and exact
// version ("" matches the only or the last-listed blueprint of the name).
// It serves tests and small embedded sets; a catalog resolves constraints.
type Blueprints []*Blueprint

// Get returns a copy of the matching blueprint.
func (s Blueprints) Get(_ context.Context, ref Ref) (*Blueprint, error) {
	var found *Blueprint
	named := false
	for _, b := range s {
		if b == nil || b.Name != ref.Name {
			continue
		}
		named = true
		if ref.Version == "" || b.Version == ref.Version {
			found = b
		}
	}
	switch {
	case found != nil:
		return found.DeepCopy(), nil
	case named:
		return nil, fmt.Errorf("%w: %s", ErrNoMatchingVersion, ref)
	default:
		return nil, &UnknownBlueprintError{Ref: ref}
	}
}
