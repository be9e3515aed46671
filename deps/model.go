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
	// src is what ParseDependency or NewDependency read for Constraint:
	// the text as written and its compiled form.
	src *parsedConstraint
}

// parsedConstraint is a constraint as the user wrote it.
type parsedConstraint struct {
	// from is the parsed constraint; when Dependency.Constraint is another
	// one (the caller replaced it), the rest does not apply.
	from *semver.Constraints
	// text is the constraint as written, its whitespace collapsed.
	text string
	// fast is from compiled for quick checks, nil when it cannot be;
	// it points at rng, which holds it in the same allocation.
	fast *versionRange
	rng  versionRange
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
	d, err := withConstraint(name, rest)
	if err != nil {
		return Dependency{}, &InputError{Kind: ErrInvalidConstraint, Package: name, Text: s, Reason: err.Error()}
	}
	return d, nil
}

// withConstraint returns the dependency on name with constraint text
// ("" or "*": every version), keeping the text as written.
func withConstraint(name, text string) (Dependency, error) {
	d := Dependency{Name: name}
	text = strings.Join(strings.Fields(text), " ")
	if text == "" || text == "*" {
		return d, nil
	}
	c, err := semver.NewConstraint(text)
	if err != nil {
		return Dependency{}, err
	}
	d.Constraint = c
	src := &parsedConstraint{from: c, text: text}
	if compileRange(&src.rng, text) {
		src.fast = &src.rng
	}
	d.src = src
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
	if d.src != nil && d.src.fast != nil && d.src.from == d.Constraint {
		if ok, known := d.src.fast.check(v); known {
			return ok
		}
	}
	return d.Constraint.Check(v)
}

// allowsKey is Allows for version v whose versionKey is key (noKey:
// none), which spares reading v when the range is compiled.
func (d Dependency) allowsKey(v *semver.Version, key uint64) bool {
	if d.Constraint == nil {
		return true
	}
	if src := d.src; key != noKey && src != nil && src.fast != nil && src.from == d.Constraint {
		return src.fast.checkKey(key)
	}
	return d.Allows(v)
}

// String renders the dependency as ParseDependency reads it, with the
// constraint as it was written ("nrf >=1.2, <2"). A Constraint set
// directly is rendered from Masterminds/semver's form, its conjunctions
// joined by commas.
func (d Dependency) String() string {
	if d.Constraint == nil {
		return d.Name
	}
	if d.src != nil && d.src.from == d.Constraint {
		return d.Name + " " + d.src.text
	}
	return d.Name + " " + commaForm(d.Constraint)
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
	// invalid is what made NewRelease's arguments unusable; Universe.Add
	// reports it.
	invalid error
}

// ID is "name@version".
func (r *Release) ID() string { return r.Name + "@" + versionText(r.Version) }

// String is ID.
func (r *Release) String() string { return r.ID() }

// versionText renders v, or says that there is none.
func versionText(v *semver.Version) string {
	if v == nil {
		return "(no version)"
	}
	return v.String()
}

// validate checks a release on its own.
func (r *Release) validate() error {
	if r.invalid != nil {
		return r.invalid
	}
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

// Universe is every known release, by package, newest first. The zero
// Universe is empty and ready to use; a nil *Universe reads as empty.
// A release must not change once added.
type Universe struct {
	releases  map[string][]*Release
	providers map[string][]providerEntry
	count     int

	// What the searches read, made once here rather than by every
	// resolution: ids numbers every name the releases use (their
	// packages, dependencies and capabilities) in order of first use,
	// names lists them by number, and byID holds, by number, the package
	// of that name (nil: no release); provided says, by number, whether
	// some release provides a capability of that name.
	ids      map[string]int32
	names    []string
	byID     []*pkgData
	provided []bool
}

// pkgData is what a Universe keeps of one package for the searches.
type pkgData struct {
	// rels are the package's releases, newest first (as releases holds
	// them); keys their versions as versionKeys (noKey: none); deps, for
	// each release, the numbers of the names of its requirements and
	// then of its optional dependencies (never nil).
	rels []*Release
	keys []uint64
	deps [][]int32
}

// nameID numbers name, on first use.
func (u *Universe) nameID(name string) int32 {
	if id, ok := u.ids[name]; ok {
		return id
	}
	if u.ids == nil {
		u.ids = map[string]int32{}
	}
	id := int32(len(u.names))
	u.ids[name] = id
	u.names = append(u.names, name)
	u.byID = append(u.byID, nil)
	u.provided = append(u.provided, false)
	return id
}

type providerEntry struct {
	release *Release
	version *semver.Version
}

// NewUniverse builds a universe from releases, rejecting malformed ones and
// duplicates with an *InputError.
func NewUniverse(releases ...*Release) (*Universe, error) {
	u := &Universe{}
	for _, r := range releases {
		if err := u.Add(r); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// Add adds a release, keeping each package's releases newest first. A
// malformed release (or one NewRelease could not build) and a second
// release of the same version are *InputErrors wrapping ErrInvalidRelease
// (or ErrInvalidConstraint for a constraint that does not parse); the
// universe is left as it was.
func (u *Universe) Add(r *Release) error {
	if u == nil {
		return &InputError{Kind: ErrInvalidRelease, Reason: "nil universe (make one with NewUniverse)"}
	}
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
	if u.releases == nil {
		u.releases, u.providers = map[string][]*Release{}, map[string][]providerEntry{}
	}
	u.releases[r.Name] = slices.Insert(list, i, r)
	id := u.nameID(r.Name)
	pd := u.byID[id]
	if pd == nil {
		pd = &pkgData{}
		u.byID[id] = pd
	}
	deps := make([]int32, 0, len(r.Requires)+len(r.Optional))
	for _, d := range r.Requires {
		deps = append(deps, u.nameID(d.Name))
	}
	for _, d := range r.Optional {
		deps = append(deps, u.nameID(d.Name))
	}
	pd.rels = u.releases[r.Name]
	pd.keys = slices.Insert(pd.keys, i, keyOf(r.Version))
	pd.deps = slices.Insert(pd.deps, i, deps)
	for _, c := range r.Provides {
		u.providers[c.Name] = append(u.providers[c.Name], providerEntry{release: r, version: c.Version})
		u.provided[u.nameID(c.Name)] = true
	}
	u.count++
	return nil
}

// Releases returns the releases of package name, newest first.
func (u *Universe) Releases(name string) []*Release {
	if u == nil {
		return nil
	}
	return u.releases[name]
}

// Release returns the release name@v, or nil.
func (u *Universe) Release(name string, v *semver.Version) *Release {
	if u == nil || v == nil {
		return nil
	}
	for _, r := range u.releases[name] {
		if r.Version.Equal(v) {
			return r
		}
	}
	return nil
}

// Packages returns every package name, sorted.
func (u *Universe) Packages() []string {
	if u == nil {
		return nil
	}
	names := make([]string, 0, len(u.releases))
	for n := range u.releases {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Len returns the number of releases.
func (u *Universe) Len() int {
	if u == nil {
		return 0
	}
	return u.count
}

// Known reports whether name is a package or a capability of the universe.
func (u *Universe) Known(name string) bool {
	return u != nil && (len(u.releases[name]) > 0 || len(u.providers[name]) > 0)
}

// Candidates returns the releases that satisfy d: releases of package
// d.Name in range, then providers of capability d.Name in range.
func (u *Universe) Candidates(d Dependency) []*Release {
	if u == nil {
		return nil
	}
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
