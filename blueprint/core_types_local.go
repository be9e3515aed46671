package blueprint

import (
	"context"
	"errors"
	"fmt"

	kptfilev1 "github.com/nephio-project/porch/pkg/kpt/api/kptfile/v1"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// KptfileName is the root file of a kpt package.
const KptfileName = "Kptfile"

// Blueprint is a package with the name and version it is listed under.
type Blueprint struct {
	Name    string
	Version string
	Files   map[string]string
}

// Ref names a blueprint and an exact version or a constraint.
type Ref struct {
	Name    string
	Version string
}

func (r Ref) String() string {
	if r.Version == "" {
		return r.Name
	}
	return r.Name + "@" + r.Version
}

// Source gives blueprints by reference.
type Source interface {
	Get(ctx context.Context, ref Ref) (*Blueprint, error)
}

var (
	// ErrInvalidBlueprint: the package is unusable.
	ErrInvalidBlueprint = errors.New("blueprint: invalid blueprint")
	// ErrUnknownBlueprint: no source holds the blueprint.
	ErrUnknownBlueprint = errors.New("blueprint: unknown blueprint")
	// ErrNoMatchingVersion: no version satisfies the constraint.
	ErrNoMatchingVersion = errors.New("blueprint: no version satisfies the constraint")
)

// UnknownBlueprintError names the reference no source satisfies.
type UnknownBlueprintError struct{ Ref Ref }

func (e *UnknownBlueprintError) Error() string { return fmt.Sprintf("blueprint: unknown blueprint %s", e.Ref) }

// Is reports ErrUnknownBlueprint.
func (e *UnknownBlueprintError) Is(target error) bool { return target == ErrUnknownBlueprint }

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
