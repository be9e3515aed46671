// Package library holds porchkit's example blueprints for the 5G core
// network functions AMF, SMF, UPF and NRF, embedded in the binary. They
// keep the structure of the Nephio free5gc blueprints (see NOTICE) and add
// what a porchkit blueprint can carry: a Parameters declaration with a
// JSON Schema, bindings and dev/staging/prod environments, and CEL
// policies. Each exists in two versions (1.0.0 under <name>/v1, 2.0.0
// under <name>/v2) so catalogs, generation and upgrades can be shown and
// tested on them. The UPF is the large one (about 50 resources).
package library

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/nephoran/porchkit/blueprint"
)

//go:embed NOTICE LICENSE amf smf upf nrf
var files embed.FS

// Names lists the shipped blueprints.
func Names() []string { return []string{"amf", "smf", "upf", "nrf"} }

// Versions lists the versions shipped of every blueprint, oldest first,
// in the "v"-prefixed form catalogs report.
func Versions() []string { return []string{"v1.0.0", "v2.0.0"} }

// FS returns the library: one kpt package per blueprint and version at
// <name>/v<major> (for example "upf/v1"), with NOTICE and LICENSE at the
// root.
func FS() fs.FS { return files }

// Dir returns the directory of FS holding the named blueprint's version
// ("v1.0.0" or "1.0.0"), or an error naming what exists when there is no
// such blueprint.
func Dir(name, version string) (string, error) {
	if !slices.Contains(Names(), name) {
		return "", fmt.Errorf("library: no blueprint %q (have %v)", name, Names())
	}
	i := slices.Index(Versions(), "v"+strings.TrimPrefix(version, "v"))
	if i < 0 {
		return "", fmt.Errorf("library: blueprint %q has no version %q (have %v)", name, version, Versions())
	}
	return path.Join(name, fmt.Sprintf("v%d", i+1)), nil
}

// Files returns the files of the named blueprint's version, keyed by path
// inside the package, as porch and krm take them.
func Files(name, version string) (map[string]string, error) {
	dir, err := Dir(name, version)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	err = fs.WalkDir(files, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		out[p[len(dir)+1:]] = string(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("library: %s %s: %w", name, version, err)
	}
	return out, nil
}

// Blueprint returns the named blueprint's version as a blueprint.Blueprint
// (its Version in the "v1.0.0" form).
func Blueprint(name, version string) (*blueprint.Blueprint, error) {
	files, err := Files(name, version)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", blueprint.ErrUnknownBlueprint, err)
	}
	return &blueprint.Blueprint{Name: name, Version: "v" + strings.TrimPrefix(version, "v"), Files: files}, nil
}

// Blueprints returns every shipped blueprint and version, a
// blueprint.Source matched by exact version.
func Blueprints() blueprint.Blueprints {
	var out blueprint.Blueprints
	for _, name := range Names() {
		for _, v := range Versions() {
			bp, err := Blueprint(name, v)
			if err != nil {
				panic(err) // every listed name and version is embedded
			}
			out = append(out, bp)
		}
	}
	return out
}

// Source returns the library as a catalog source named "library", whose
// blueprints are versioned by their Kptfiles' blueprint.porchkit.io/version
// annotation.
func Source() *blueprint.FSSource {
	src, err := blueprint.NewFSSource("library", FS())
	if err != nil {
		panic(err) // the name and the embedded fs are never empty
	}
	return src
}

// Catalog returns a catalog over the library alone, resolving names and
// semver constraints ("amf", "^1.0.0"); close it when done.
func Catalog(ctx context.Context) (*blueprint.Catalog, error) {
	return blueprint.NewCatalog(ctx, blueprint.CatalogOptions{}, Source())
}
