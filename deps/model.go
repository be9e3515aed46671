package deps

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Dependency names a package (or a capability) and the versions allowed.
type Dependency struct {
	// Name is a package name or a capability some packages provide.
	Name string
	// Constraint restricts the versions; nil allows every version.
	Constraint *semver.Constraints
	// fast is Constraint compiled for quick checks, when ParseDependency
	// could compile it.
	fast *versionRange
}

// ParseDependency parses "name" or "name <constraint>", where the
// constraint uses Masterminds/semver syntax: "nrf >=1.2, <2", "smf ~1.4",
// "amf 2.x", "ausf =1.0.3".
func ParseDependency(s string) (Dependency, error) {
	text := strings.TrimSpace(s)
	name, rest, _ := strings.Cut(text, " ")
	if i := strings.IndexAny(name, "<>=!~^"); i > 0 { // "nrf>=1.2"
		name, rest = name[:i], name[i:]+" "+rest
	}
	if err := validName(name); err != nil {
		return Dependency{}, &InputError{Kind: ErrInvalidConstraint, Text: s, Reason: err.Error()}
	}
	d := Dependency{Name: name}
	if rest = strings.TrimSpace(rest); rest != "" && rest != "*" {
		c, err := semver.NewConstraint(rest)
		if err != nil {
			return Dependency{}, &InputError{Kind: ErrInvalidConstraint, Package: name, Text: s, Reason: err.Error()}
		}
		d.Constraint = c
		d.fast = compileRange(rest, c)
	}
	return d, nil
}

// MustParseDependency is ParseDependency for literals in code and tests; it
// panics on error.
func MustParseDependency(s string) Dependency {
	d, err := ParseDependency(s)
	if err != nil {
		panic(err)
	}
	return d
}

// Allows reports whether version v satisfies the constraint.
func (d Dependency) Allows(v *semver.Version) bool {
	if d.Constraint == nil {
		return true
	}
	if d.fast != nil && d.fast.from == d.Constraint {
		if ok, known := d.fast.check(v); known {
			return ok
		}
	}
	return d.Constraint.Check(v)
}

// String renders the dependency as ParseDependency reads it.
func (d Dependency) String() string {
	if d.Constraint == nil {
		return d.Name
	}
	if d.fast != nil && d.fast.from == d.Constraint {
		return d.Name + " " + d.fast.text
	}
	return d.Name + " " + d.Constraint.String()
}

func validName(name string) error {
	if name == "" {
		return fmt.Errorf("empty package name")
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("package name %q: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// Capability is something a release provides under another name (a
// virtual package), e.g. several databases provide "5gc-database".
type Capability struct {
	// Name is the virtual package's name, which dependencies may name as
	// they name a package.
	Name string
	// Version, when set, is matched against constraints on Name;
	// a capability without a version satisfies only unconstrained
	// dependencies.
	Version *semver.Version
}

// Release is one version of a package and what it declares.
type Release struct {
	// Name is the package name (a DNS-1123 subdomain).
	Name string
	// Version is the release's semantic version.
	Version *semver.Version
	// Requires are hard dependencies: one matching release of each must be
	// in the plan.
	Requires []Dependency
	// Optional are weak dependencies: taken when possible, dropped when they
	// cannot be satisfied.
	Optional []Dependency
	// Conflicts: no matching release may be in the plan with this one.
	Conflicts []Dependency
	// Provides are capabilities the release offers to dependencies on them.
	Provides []Capability
	// Needs lists cluster capabilities the release requires at deployment
	// (e.g. "sriov", "region=eu"); it is carried into the plan, not solved.
	Needs []string
}

// ID is "name@version".
func (r *Release) ID() string { return r.Name + "@" + r.Version.String() }

// String is ID.
func (r *Release) String() string { return r.ID() }

// validate checks a release on its own.
func (r *Release) validate() error {
	if err := validName(r.Name); err != nil {
		return &InputError{Kind: ErrInvalidRelease, Package: r.Name, Reason: err.Error()}
	}
	if r.Version == nil {
		return &InputError{Kind: ErrInvalidRelease, Package: r.Name, Reason: "no version"}
	}
	for _, d := range slices.Concat(r.Requires, r.Optional, r.Conflicts) {
		if err := validName(d.Name); err != nil {
			return &InputError{Kind: ErrInvalidRelease, Package: r.Name, Text: d.String(), Reason: err.Error()}
		}
		if d.Name == r.Name {
			return &InputError{Kind: ErrInvalidRelease, Package: r.Name, Text: d.String(), Reason: "a release cannot depend on or conflict with its own package"}
		}
	}
	for _, c := range r.Provides {
		if err := validName(c.Name); err != nil {
			return &InputError{Kind: ErrInvalidRelease, Package: r.Name, Text: c.Name, Reason: err.Error()}
		}
	}
	return nil
}

// Universe is every known release, by package, newest first.
type Universe struct {
	releases  map[string][]*Release
	providers map[string][]providerEntry
	count     int
}

type providerEntry struct {
	release *Release
	version *semver.Version
}

// NewUniverse builds a universe from releases, rejecting malformed ones and
// duplicates with an *InputError.
func NewUniverse(releases ...*Release) (*Universe, error) {
	u := &Universe{releases: map[string][]*Release{}, providers: map[string][]providerEntry{}}
	for _, r := range releases {
		if err := u.Add(r); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Add adds a release, keeping each package's releases newest first.
func (u *Universe) Add(r *Release) error {
	if r == nil {
		return &InputError{Kind: ErrInvalidRelease, Reason: "nil release"}
	}
	if err := r.validate(); err != nil {
		return err
	}
	list := u.releases[r.Name]
	i, found := slices.BinarySearchFunc(list, r.Version, func(e *Release, v *semver.Version) int { return v.Compare(e.Version) })
	if found {
		return &InputError{Kind: ErrInvalidRelease, Package: r.Name, Text: r.Version.String(), Reason: "duplicate release"}
	}
	u.releases[r.Name] = slices.Insert(list, i, r)
	for _, c := range r.Provides {
		u.providers[c.Name] = append(u.providers[c.Name], providerEntry{release: r, version: c.Version})
	}
	u.count++
	return nil
}

// Releases returns the releases of package name, newest first.
func (u *Universe) Releases(name string) []*Release { return u.releases[name] }

// Release returns the release name@v, or nil.
func (u *Universe) Release(name string, v *semver.Version) *Release {
	for _, r := range u.releases[name] {
		if r.Version.Equal(v) {
			return r
		}
	}
	return nil
}

// Packages returns every package name, sorted.
func (u *Universe) Packages() []string {
	names := make([]string, 0, len(u.releases))
	for n := range u.releases {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Len returns the number of releases.
func (u *Universe) Len() int { return u.count }

// Known reports whether name is a package or a capability of the universe.
func (u *Universe) Known(name string) bool {
	return len(u.releases[name]) > 0 || len(u.providers[name]) > 0
}

// Candidates returns the releases that satisfy d: releases of package
// d.Name in range, then providers of capability d.Name in range.
func (u *Universe) Candidates(d Dependency) []*Release {
	var out []*Release
	for _, r := range u.releases[d.Name] {
		if d.Allows(r.Version) {
			out = append(out, r)
		}
	}
	for _, p := range u.providers[d.Name] {
		if (p.version == nil && d.Constraint == nil) || (p.version != nil && d.Allows(p.version)) {
			out = append(out, p.release)
		}
	}
	return out
}
