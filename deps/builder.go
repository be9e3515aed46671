package deps

import (
	"errors"
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// NewRelease builds a release of package name at version from options, so
// that a universe reads as a list of declarations:
//
//	deps.NewRelease("amf", "2.1.0",
//		deps.Requires("nrf", ">=1.2, <2"), deps.Optional("metrics-agent"),
//		deps.Conflicts("legacy-amf"), deps.Provides("5gc-amf", "2.1.0"), deps.Needs("sriov"))
//
// It never fails on the spot: a version, constraint or capability that
// does not parse makes a release that NewUniverse and Universe.Add reject
// with an *InputError naming the package and the offending text (wrapping
// ErrInvalidRelease, or ErrInvalidConstraint for a constraint), so that
// releases can be written inline.
func NewRelease(name, version string, opts ...ReleaseOption) *Release {
	var o ReleaseOptions
	for _, opt := range opts {
		if opt != nil {
			opt.ApplyToRelease(&o)
		}
	}
	r := &Release{Name: name, Requires: o.Requires, Optional: o.Optional, Conflicts: o.Conflicts, Provides: o.Provides, Needs: o.Needs}
	v, err := semver.NewVersion(strings.TrimSpace(version))
	switch {
	case err != nil:
		r.invalid = &InputError{Kind: ErrInvalidRelease, Package: name, Text: version, Reason: "version: " + err.Error()}
	case o.err != nil:
		o.err.Package = name
		r.invalid = o.err
	}
	if err == nil {
		r.Version = v
	}
	return r
}

// ReleaseOption declares something of a release NewRelease builds.
type ReleaseOption interface {
	// ApplyToRelease adds the option's declarations to o.
	ApplyToRelease(o *ReleaseOptions)
}

// ReleaseOptions are the declarations of a release NewRelease builds. A
// *ReleaseOptions is itself an option: it adds its non-empty lists, so
// declarations shared by several releases can be kept in one value.
type ReleaseOptions struct {
	// Requires are the hard dependencies (Release.Requires).
	Requires []Dependency
	// Optional are the weak dependencies (Release.Optional).
	Optional []Dependency
	// Conflicts are the packages the release cannot share a plan with.
	Conflicts []Dependency
	// Provides are the capabilities the release offers.
	Provides []Capability
	// Needs are the cluster capabilities carried into the plan.
	Needs []string
	// err is the first declaration that did not parse.
	err *InputError
}

// ApplyToRelease implements ReleaseOption.
func (o *ReleaseOptions) ApplyToRelease(to *ReleaseOptions) {
	to.Requires = append(to.Requires, o.Requires...)
	to.Optional = append(to.Optional, o.Optional...)
	to.Conflicts = append(to.Conflicts, o.Conflicts...)
	to.Provides = append(to.Provides, o.Provides...)
	to.Needs = append(to.Needs, o.Needs...)
	if to.err == nil && o.err != nil {
		e := *o.err
		to.err = &e
	}
}

// dependencyOption is the option of one dependency, or the error that
// building it met.
func dependencyOption(into func(*ReleaseOptions) *[]Dependency, name string, constraints []string) ReleaseOption {
	o := &ReleaseOptions{}
	d, err := NewDependency(name, constraints...)
	var ie *InputError
	if errors.As(err, &ie) {
		text := strings.TrimSpace(name + " " + strings.Join(constraints, ", "))
		o.err = &InputError{Kind: ie.Kind, Text: text, Reason: ie.Reason}
		return o
	}
	*into(o) = append(*into(o), d)
	return o
}

// Requires declares a hard dependency on package (or capability) name,
// in the versions every one of constraints allows (none: any version), as
// NewDependency reads them: Requires("nrf", ">=1.2, <2").
func Requires(name string, constraints ...string) ReleaseOption {
	return dependencyOption(func(o *ReleaseOptions) *[]Dependency { return &o.Requires }, name, constraints)
}

// Optional declares a weak dependency, taken when it can be satisfied.
func Optional(name string, constraints ...string) ReleaseOption {
	return dependencyOption(func(o *ReleaseOptions) *[]Dependency { return &o.Optional }, name, constraints)
}

// Conflicts declares that no release of name in the constraints' range
// may be in a plan with this one.
func Conflicts(name string, constraints ...string) ReleaseOption {
	return dependencyOption(func(o *ReleaseOptions) *[]Dependency { return &o.Conflicts }, name, constraints)
}

// Provides declares a capability: Provides("5gc-database") satisfies only
// unconstrained dependencies on it, Provides("5gc-database", "1.2.0")
// also those whose range holds 1.2.0.
func Provides(name string, version ...string) ReleaseOption {
	o := &ReleaseOptions{}
	c := Capability{Name: name}
	switch {
	case len(version) > 1:
		o.err = &InputError{Kind: ErrInvalidRelease, Text: name, Reason: fmt.Sprintf("provides: a capability has one version, not %d", len(version))}
		return o
	case len(version) == 1:
		v, err := semver.NewVersion(strings.TrimSpace(version[0]))
		if err != nil {
			o.err = &InputError{Kind: ErrInvalidRelease, Text: name + "=" + version[0], Reason: "provides: " + err.Error()}
			return o
		}
		c.Version = v
	}
	o.Provides = []Capability{c}
	return o
}

// Needs declares cluster capabilities the release requires at deployment
// ("sriov", "region=eu"), carried into the plan.
func Needs(capabilities ...string) ReleaseOption {
	return &ReleaseOptions{Needs: capabilities}
}

// NewDependency returns the dependency on name in the versions every one
// of constraints allows, each in Masterminds/semver syntax (">=1.2, <2",
// "~1.4", "2.x"); none, or only "" and "*", allows every version. A
// constraint with alternatives ("<1.2 || >=3") must be the only one. An
// unusable name or constraint is an ErrInvalidConstraint *InputError.
func NewDependency(name string, constraints ...string) (Dependency, error) {
	if err := validName(name); err != nil {
		return Dependency{}, &InputError{Kind: ErrInvalidConstraint, Text: name, Reason: err.Error()}
	}
	var parts []string
	for _, c := range constraints {
		if c = strings.TrimSpace(c); c != "" && c != "*" {
			parts = append(parts, c)
		}
	}
	if len(parts) > 1 {
		for _, c := range parts {
			if strings.Contains(c, "||") {
				return Dependency{}, &InputError{Kind: ErrInvalidConstraint, Package: name, Text: c, Reason: "a constraint with alternatives (||) must be the only one"}
			}
		}
	}
	text := strings.Join(parts, ", ")
	d, err := withConstraint(name, text)
	if err != nil {
		return Dependency{}, &InputError{Kind: ErrInvalidConstraint, Package: name, Text: text, Reason: err.Error()}
	}
	return d, nil
}

// ParseReleaseRef parses "name@version", as ReleaseRef.String renders it,
// for locks and exclusions: ParseReleaseRef("upf@1.2.0"). Malformed text
// is an ErrInvalidRequest *InputError.
func ParseReleaseRef(s string) (ReleaseRef, error) {
	text := strings.TrimSpace(s)
	name, version, ok := strings.Cut(text, "@")
	if !ok {
		return ReleaseRef{}, &InputError{Kind: ErrInvalidRequest, Text: s, Reason: `want "name@version"`}
	}
	if err := validName(name); err != nil {
		return ReleaseRef{}, &InputError{Kind: ErrInvalidRequest, Text: s, Reason: err.Error()}
	}
	v, err := semver.NewVersion(version)
	if err != nil {
		return ReleaseRef{}, &InputError{Kind: ErrInvalidRequest, Package: name, Text: s, Reason: "version: " + err.Error()}
	}
	return ReleaseRef{Name: name, Version: v}, nil
}

// MustParseReleaseRef is ParseReleaseRef for literals in code and tests;
// it panics on error.
func MustParseReleaseRef(s string) ReleaseRef {
	r, err := ParseReleaseRef(s)
	if err != nil {
		panic(err)
	}
	return r
}
