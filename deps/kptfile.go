package deps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// ReleaseAnnotation is the Kptfile annotation in which a package declares
// its dependencies. Its value is YAML:
//
//	metadata:
//	  name: amf
//	  annotations:
//	    deps.porchkit.io/release: |
//	      version: 2.1.0              # optional when the caller knows it
//	      requires: ["nrf >=1.2, <2", "ausf ^1"]
//	      optional: ["metrics-agent"]
//	      conflicts: ["legacy-amf"]
//	      provides: ["5gc-amf=2.1.0"]  # capability, optionally =version
//	      needs: ["sriov"]             # cluster capabilities, carried to the plan
//
// The package name is the annotation's "name" when set, else (for
// UniverseFromPorch) Porch's package name, else the Kptfile's
// metadata.name; of a path, its last element.
const ReleaseAnnotation = "deps.porchkit.io/release"

// ErrInvalidKptfile: a Kptfile or its release annotation does not parse.
var ErrInvalidKptfile = errors.New("deps: invalid Kptfile")

type kptfile struct {
	Metadata struct {
		Name        string            `json:"name"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
}

type releaseSpec struct {
	Name      string   `json:"name,omitempty"`
	Version   string   `json:"version,omitempty"`
	Requires  []string `json:"requires,omitempty"`
	Optional  []string `json:"optional,omitempty"`
	Conflicts []string `json:"conflicts,omitempty"`
	Provides  []string `json:"provides,omitempty"`
	Needs     []string `json:"needs,omitempty"`
}

// ReleaseFromKptfile reads a release from a Kptfile. defaultVersion is used
// when the annotation has no version (e.g. "3.0.0" for Porch revision 3);
// a Kptfile without the annotation is a release without dependencies.
func ReleaseFromKptfile(data []byte, defaultVersion string) (*Release, error) {
	return releaseFromKptfile(data, "", defaultVersion)
}

// releaseFromKptfile is ReleaseFromKptfile with the package's name when the
// annotation names none (defaultName, else the Kptfile's name).
func releaseFromKptfile(data []byte, defaultName, defaultVersion string) (*Release, error) {
	var k kptfile
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, &InputError{Kind: ErrInvalidKptfile, Reason: err.Error()}
	}
	name := defaultName
	if name == "" {
		name = k.Metadata.Name
	}
	if name != "" {
		name = path.Base(name)
	}
	var spec releaseSpec
	if a, ok := k.Metadata.Annotations[ReleaseAnnotation]; ok {
		if err := yaml.UnmarshalStrict([]byte(a), &spec); err != nil {
			return nil, &InputError{Kind: ErrInvalidKptfile, Package: name, Text: a, Reason: "annotation " + ReleaseAnnotation + ": " + err.Error()}
		}
	}
	if spec.Name != "" {
		name = spec.Name
	}
	version := spec.Version
	if version == "" {
		version = defaultVersion
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return nil, &InputError{Kind: ErrInvalidKptfile, Package: name, Text: version, Reason: "version: " + err.Error()}
	}
	r := &Release{Name: name, Version: v, Needs: spec.Needs}
	for _, list := range []struct {
		texts []string
		into  *[]Dependency
	}{{spec.Requires, &r.Requires}, {spec.Optional, &r.Optional}, {spec.Conflicts, &r.Conflicts}} {
		for _, t := range list.texts {
			d, err := ParseDependency(t)
			if err != nil {
				var ie *InputError
				if errors.As(err, &ie) {
					ie.Package = name
				}
				return nil, err
			}
			*list.into = append(*list.into, d)
		}
	}
	for _, p := range spec.Provides {
		capName, ver, hasVersion := strings.Cut(p, "=")
		c := Capability{Name: strings.TrimSpace(capName)}
		if hasVersion {
			cv, err := semver.NewVersion(strings.TrimSpace(ver))
			if err != nil {
				return nil, &InputError{Kind: ErrInvalidKptfile, Package: name, Text: p, Reason: "provides: " + err.Error()}
			}
			c.Version = cv
		}
		r.Provides = append(r.Provides, c)
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// PublishedPackage is the Kptfile of one published package revision.
type PublishedPackage struct {
	// Repository is the Porch repository that holds the revision.
	Repository string
	// Package is the package's name in the repository.
	Package string
	// Revision is Porch's revision number (1, 2, ...).
	Revision int
	// Kptfile is the revision's Kptfile.
	Kptfile []byte
	// Resources are the revision's files by path, as Porch holds them (the
	// Kptfile among them): UniverseFromPorch reads their Nephio Dependency
	// resources and the kinds of resource they hold. Nil when the source
	// reads Kptfiles only.
	Resources map[string]string
}

// PackageSource lists the published package revisions of repositories.
// deps/porchsource implements it on a porch.Client; tests can list fixed
// Kptfiles.
type PackageSource interface {
	// PublishedPackages returns the published package revisions of
	// repository, each with its Kptfile; each becomes a release. A source
	// may leave some out (porchsource can list only the latest of each
	// package).
	PublishedPackages(ctx context.Context, repository string) ([]PublishedPackage, error)
}

// UniverseFromPorch builds a universe from the published revisions of
// repositories, one release per revision:
//   - its name is the release annotation's "name", else the last element
//     of Porch's package name (the name Nephio's Dependency resources and
//     porchctl use), else the Kptfile's name;
//   - its version is the annotation's "version", else "<revision>.0.0"
//     (Porch revision 3 is 3.0.0);
//   - its dependencies are those the annotation declares (read by
//     ReleaseFromKptfile) and, when the source gives the revision's files,
//     the requirements of its Nephio Dependency resources (see
//     NephioDependency); a release provides the capability of each
//     injector some release of the universe asks of its package and whose
//     kind of resource it holds.
//
// Dependencies may cross the repositories. A malformed declaration is an
// *InputError naming the repository, package and revision, a failed
// listing the source's error; either way no universe is returned.
func UniverseFromPorch(ctx context.Context, src PackageSource, repositories ...string) (*Universe, error) {
	if src == nil {
		return nil, &InputError{Kind: ErrInvalidRequest, Reason: "UniverseFromPorch: nil PackageSource"}
	}
	if len(repositories) == 0 {
		return nil, &InputError{Kind: ErrInvalidRequest, Reason: "UniverseFromPorch: no repositories"}
	}
	type read struct {
		release *Release
		kinds   map[Injector]bool
		where   string
	}
	var reads []read
	injected := map[string]bool{} // capabilities some release requires
	for _, repo := range repositories {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("deps: list published packages of %s: %w", repo, err)
		}
		pkgs, err := src.PublishedPackages(ctx, repo)
		if err != nil {
			return nil, fmt.Errorf("deps: list published packages of %s: %w", repo, err)
		}
		for _, p := range pkgs {
			where := fmt.Sprintf("%s/%s revision %d", repo, p.Package, p.Revision)
			r, err := releaseFromKptfile(p.Kptfile, p.Package, fmt.Sprintf("%d.0.0", p.Revision))
			if err != nil {
				return nil, fmt.Errorf("deps: %s: %w", where, err)
			}
			nds, kinds, err := readPackage(p.Resources)
			if err != nil {
				var ie *InputError
				if errors.As(err, &ie) && ie.Package == "" {
					ie.Package = r.Name
				}
				return nil, fmt.Errorf("deps: %s: %w", where, err)
			}
			for _, nd := range nds {
				r.Requires = append(r.Requires, nd.Requirements()...)
				for _, i := range nd.Injectors {
					injected[i.Capability(nd.Dependency.Name)] = true
				}
			}
			reads = append(reads, read{release: r, kinds: kinds, where: where})
		}
	}
	u := &Universe{}
	for _, rd := range reads {
		r := rd.release
		var held []Injector
		for k := range rd.kinds {
			if injected[k.Capability(r.Name)] {
				held = append(held, k)
			}
		}
		slices.SortFunc(held, func(a, b Injector) int { return strings.Compare(a.Capability(r.Name), b.Capability(r.Name)) })
		for _, k := range held {
			r.Provides = append(r.Provides, Capability{Name: k.Capability(r.Name), Version: r.Version})
		}
		if err := u.Add(r); err != nil {
			return nil, fmt.Errorf("deps: %s: %w", rd.where, err)
		}
	}
	return u, nil
}
