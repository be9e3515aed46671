package deps

import (
	"fmt"

	"github.com/Masterminds/semver/v3"

	"github.com/crillab/gophersat/solver"
	"slices"
	"strings"
)

// FactKind says what a Fact states.
type FactKind int

// The kinds of fact.
const (
	// FactRoot: the request asks for Dependency.
	FactRoot FactKind = iota
	// FactOneVersion: at most one release of Package can be in a plan.
	FactOneVersion
	// FactRequires: Release requires Dependency.
	FactRequires
	// FactConflicts: Release conflicts with Dependency.
	FactConflicts
	// FactLocked: Release is locked (deployed).
	FactLocked
	// FactExcluded: Release is excluded.
	FactExcluded
)

// Fact is one constraint of a resolution, in the words of the request or of
// a package.
type Fact struct {
	Kind       FactKind
	Package    string
	Release    *Release
	Dependency Dependency
}

// User reports whether the fact is the user's own constraint (a root, a lock
// or an exclusion) rather than a package's.
func (f Fact) User() bool {
	return f.Kind == FactRoot || f.Kind == FactLocked || f.Kind == FactExcluded
}

// String states the fact in a sentence.
func (f Fact) String() string {
	switch f.Kind {
	case FactRoot:
		return "you asked for " + f.Dependency.String()
	case FactOneVersion:
		return "only one version of " + f.Package + " can be installed"
	case FactRequires:
		return f.Release.ID() + " requires " + f.Dependency.String()
	case FactConflicts:
		return f.Release.ID() + " conflicts with " + f.Dependency.String()
	case FactLocked:
		return f.Release.ID() + " is locked (deployed)"
	case FactExcluded:
		return f.Release.ID() + " is excluded"
	}
	return fmt.Sprintf("fact(%d)", int(f.Kind))
}

// fact is a Fact with its constraints over the encoding's variables.
type fact struct {
	Fact
	constrs []solver.CardConstr
}

// encoding is a request turned into boolean variables and clauses: one
// variable per candidate release, plus one per optional dependency (true
// when it is missed).
type encoding struct {
	u        *Universe
	req      Request
	rels     []*Release // variable i+1 is rels[i]
	varOf    map[*Release]int
	packages map[string][]*Release // candidate releases, newest first
	roots    map[string]bool
	locked   []*Release
	excluded map[*Release]bool
	optional []*OptionalDependency
	missVar  map[*OptionalDependency]int
	facts    []fact
	// background holds the optional-dependency constraints: never part of a
	// conflict, since a missed optional dependency only costs.
	background []solver.CardConstr
	nVars      int
	// reached lists the packages breadth-first from the roots and locks.
	reached []string
	// requiredBy lists, per package, the hard dependencies whose every
	// candidate is a release of that package.
	requiredBy map[string][]requirement
	// conflictsWith lists, per release, the candidate releases that
	// conflict with it (in either direction).
	conflictsWith map[*Release][]*Release
	// cache memoises candidates: checking versions against constraints is
	// most of the encoding's work.
	cache map[candidateKey][]*Release
}

type candidateKey struct {
	name       string
	constraint *semver.Constraints
}

// candidates is Universe.Candidates, memoised per dependency.
func (e *encoding) candidates(d Dependency) []*Release {
	k := candidateKey{d.Name, d.Constraint}
	if c, ok := e.cache[k]; ok {
		return c
	}
	c := e.u.Candidates(d)
	e.cache[k] = c
	return c
}

// requirement is a hard dependency of a release.
type requirement struct {
	release *Release
	dep     Dependency
}

// encode builds the encoding of req over u. Only releases reachable from
// the roots and the locks take part.
func encode(u *Universe, req Request, maxReleases int) (*encoding, error) {
	if err := validateRequest(u, req); err != nil {
		return nil, err
	}
	e := &encoding{u: u, req: req, varOf: map[*Release]int{}, packages: map[string][]*Release{},
		roots: map[string]bool{}, excluded: map[*Release]bool{}, missVar: map[*OptionalDependency]int{},
		cache: map[candidateKey][]*Release{}}
	// The closure of candidates over hard and weak dependencies.
	var queue []*Release
	add := func(r *Release) {
		if _, ok := e.varOf[r]; !ok {
			e.varOf[r] = 0
			queue = append(queue, r)
		}
	}
	// Every release of a root's or a lock's package takes part, not only
	// those in range: repairs may need them.
	for _, d := range req.Roots {
		for _, r := range e.candidates(Dependency{Name: d.Name}) {
			add(r)
		}
		for _, r := range e.candidates(d) {
			e.roots[r.Name] = true
		}
	}
	for _, l := range req.Locked {
		r := u.Release(l.Name, l.Version)
		e.locked = append(e.locked, r)
		for _, o := range u.Releases(l.Name) {
			add(o)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, d := range slices.Concat(r.Requires, r.Optional) {
			for _, c := range e.candidates(d) {
				add(c)
			}
		}
		if len(e.varOf) > maxReleases {
			return nil, &InputError{Kind: ErrTooLarge, Reason: fmt.Sprintf("more than %d candidate releases", maxReleases)}
		}
	}
	for r := range e.varOf {
		e.rels = append(e.rels, r)
	}
	slices.SortFunc(e.rels, func(a, b *Release) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return b.Version.Compare(a.Version)
	})
	for i, r := range e.rels {
		e.varOf[r] = i + 1
		e.packages[r.Name] = append(e.packages[r.Name], r)
	}
	e.nVars = len(e.rels)
	for _, x := range req.Excluded {
		if r := u.Release(x.Name, x.Version); r != nil {
			e.excluded[r] = true
		}
	}
	e.buildFacts()
	e.reached = e.breadthFirst()
	e.indexEdges()
	return e, nil
}

// candidateVars returns the variables of d's candidates.
func (e *encoding) candidateVars(d Dependency) []int {
	var vs []int
	for _, c := range e.candidates(d) {
		if v := e.varOf[c]; v > 0 {
			vs = append(vs, v)
		}
	}
	return vs
}

func (e *encoding) buildFacts() {
	for _, d := range e.req.Roots {
		e.facts = append(e.facts, fact{Fact: Fact{Kind: FactRoot, Package: d.Name, Dependency: d}, constrs: []solver.CardConstr{solver.AtLeast1(e.candidateVars(d)...)}})
	}
	names := make([]string, 0, len(e.packages))
	for n := range e.packages {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		rels := e.packages[name]
		if len(rels) < 2 {
			continue
		}
		// Pairwise clauses: the solver propagates plain clauses far faster
		// than cardinality constraints (a package has few versions).
		f := fact{Fact: Fact{Kind: FactOneVersion, Package: name}}
		for i := range rels {
			for j := i + 1; j < len(rels); j++ {
				f.constrs = append(f.constrs, solver.AtLeast1(-e.varOf[rels[i]], -e.varOf[rels[j]]))
			}
		}
		e.facts = append(e.facts, f)
	}
	for _, r := range e.rels {
		v := e.varOf[r]
		for _, d := range r.Requires {
			e.facts = append(e.facts, fact{Fact: Fact{Kind: FactRequires, Package: r.Name, Release: r, Dependency: d},
				constrs: []solver.CardConstr{solver.AtLeast1(append([]int{-v}, e.candidateVars(d)...)...)}})
		}
		for _, d := range r.Conflicts {
			f := fact{Fact: Fact{Kind: FactConflicts, Package: r.Name, Release: r, Dependency: d}}
			for _, c := range e.candidateVars(d) {
				if c != v {
					f.constrs = append(f.constrs, solver.AtLeast1(-v, -c))
				}
			}
			if len(f.constrs) > 0 {
				e.facts = append(e.facts, f)
			}
		}
		for _, d := range r.Optional {
			o := &OptionalDependency{Release: r, Dependency: d}
			e.nVars++
			e.missVar[o] = e.nVars
			e.optional = append(e.optional, o)
			e.background = append(e.background, solver.AtLeast1(append([]int{-v, e.nVars}, e.candidateVars(d)...)...))
		}
	}
	if !e.req.Policy.AllowLockChanges {
		for _, r := range e.locked {
			e.facts = append(e.facts, fact{Fact: Fact{Kind: FactLocked, Package: r.Name, Release: r}, constrs: []solver.CardConstr{solver.AtLeast1(e.varOf[r])}})
		}
	}
	for _, r := range e.rels {
		if e.excluded[r] {
			e.facts = append(e.facts, fact{Fact: Fact{Kind: FactExcluded, Package: r.Name, Release: r}, constrs: []solver.CardConstr{solver.AtLeast1(-e.varOf[r])}})
		}
	}
}

// indexEdges builds requiredBy and conflictsWith.
func (e *encoding) indexEdges() {
	e.requiredBy = map[string][]requirement{}
	e.conflictsWith = map[*Release][]*Release{}
	for _, r := range e.rels {
		for _, d := range r.Requires {
			cands := e.candidates(d)
			if len(cands) > 0 && len(e.u.providers[d.Name]) == 0 {
				e.requiredBy[d.Name] = append(e.requiredBy[d.Name], requirement{release: r, dep: d})
			}
		}
		for _, d := range r.Conflicts {
			for _, c := range e.candidates(d) {
				if c != r {
					e.conflictsWith[c] = append(e.conflictsWith[c], r)
					e.conflictsWith[r] = append(e.conflictsWith[r], c)
				}
			}
		}
	}
}

// breadthFirst lists the candidate packages breadth-first from the roots
// (in request order) and the locked packages over the dependency graph,
// then any others by name.
func (e *encoding) breadthFirst() []string {
	seen := map[string]bool{}
	var order []string
	visit := func(name string) {
		if _, ok := e.packages[name]; ok && !seen[name] {
			seen[name] = true
			order = append(order, name)
		}
	}
	for _, d := range e.req.Roots {
		visit(d.Name)
		for _, c := range e.candidates(d) {
			visit(c.Name)
		}
	}
	for _, r := range e.locked {
		visit(r.Name)
	}
	for i := 0; i < len(order); i++ {
		for _, r := range e.packages[order[i]] {
			for _, d := range slices.Concat(r.Requires, r.Optional) {
				for _, c := range e.candidates(d) {
					visit(c.Name)
				}
			}
		}
	}
	rest := make([]string, 0, len(e.packages)-len(order))
	for name := range e.packages {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	return append(order, rest...)
}

// validateRequest rejects malformed requests before any solving.
func validateRequest(u *Universe, req Request) error {
	if u == nil || u.Len() == 0 {
		return &InputError{Kind: ErrInvalidRequest, Reason: "empty universe"}
	}
	if len(req.Roots) == 0 {
		return &InputError{Kind: ErrInvalidRequest, Reason: "no root packages"}
	}
	for _, d := range req.Roots {
		if err := validName(d.Name); err != nil {
			return &InputError{Kind: ErrInvalidRequest, Package: d.Name, Text: d.String(), Reason: err.Error()}
		}
		if !u.Known(d.Name) {
			return &InputError{Kind: ErrUnknownPackage, Package: d.Name, Text: d.String(), Reason: "no package or capability of that name"}
		}
	}
	locked := map[string]ReleaseRef{}
	for _, l := range req.Locked {
		if l.Version == nil || u.Release(l.Name, l.Version) == nil {
			return &InputError{Kind: ErrInvalidRequest, Package: l.Name, Text: fmt.Sprint(l), Reason: "locked release not in the universe"}
		}
		if prev, ok := locked[l.Name]; ok && !prev.Version.Equal(l.Version) {
			return &InputError{Kind: ErrInvalidRequest, Package: l.Name, Text: prev.String() + " and " + l.String(), Reason: "contradictory locks"}
		}
		locked[l.Name] = l
	}
	for _, x := range req.Excluded {
		if x.Version == nil {
			return &InputError{Kind: ErrInvalidRequest, Package: x.Name, Reason: "excluded release has no version"}
		}
		if l, ok := locked[x.Name]; ok && l.Version.Equal(x.Version) && !req.Policy.AllowLockChanges {
			return &InputError{Kind: ErrInvalidRequest, Package: x.Name, Text: x.String(), Reason: "release is both locked and excluded"}
		}
	}
	return nil
}
