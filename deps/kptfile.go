package deps

import (
	"context"
	"errors"
	"fmt"
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
// The package name is the annotation's "name" when set, else the Kptfile's
// metadata.name (its last path element).
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
	var k kptfile
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, &InputError{Kind: ErrInvalidKptfile, Reason: err.Error()}
	}
	name := k.Metadata.Name
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
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
// repositories: each revision is a release read by ReleaseFromKptfile, with
// "<revision>.0.0" as the version when its annotation names none.
func UniverseFromPorch(ctx context.Context, src PackageSource, repositories ...string) (*Universe, error) {
	u, err := NewUniverse()
	if err != nil {
		return nil, err
	}
	for _, repo := range repositories {
		pkgs, err := src.PublishedPackages(ctx, repo)
		if err != nil {
			return nil, fmt.Errorf("deps: list published packages of %s: %w", repo, err)
		}
		for _, p := range pkgs {
			r, err := ReleaseFromKptfile(p.Kptfile, fmt.Sprintf("%d.0.0", p.Revision))
			if err != nil {
				return nil, fmt.Errorf("deps: %s/%s revision %d: %w", repo, p.Package, p.Revision, err)
			}
			if err := u.Add(r); err != nil {
				return nil, fmt.Errorf("deps: %s/%s revision %d: %w", repo, p.Package, p.Revision, err)
			}
		}
	}
	return u, nil
}
