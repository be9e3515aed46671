package deps

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/crillab/gophersat/solver"
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
	// Kind says what the fact states, and so which of the fields below
	// are set.
	Kind FactKind
	// Package is the package the fact is about: the root's or the
	// release's name.
	Package string
	// Release is the release that requires, conflicts, is locked or is
	// excluded (nil for FactRoot and FactOneVersion).
	Release *Release
	// Dependency is what is asked for, required or conflicted with (zero
	// for FactOneVersion, FactLocked and FactExcluded).
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
	// dist is the number of dependency hops from the request to the fact's
	// release or package.
	dist int
}

// encoding is a request turned into boolean variables and clauses: one
// variable per candidate release, plus one per optional dependency (true
// when it is missed). A depth-limited encoding holds the facts of the
// releases at most depth hops from the request only: a subset of the
// facts, so when it is unsatisfiable the request is too.
type encoding struct {
	u        *Universe
	req      Request
	rels     []*Release // variable i+1 is rels[i]
	varOf    map[*Release]int
	dist     map[*Release]int
	packages map[string][]*Release // candidate releases, newest first
	locked   []*Release
	excluded map[*Release]bool
	facts    []fact
	// background holds constraints that are never part of a conflict: the
	// optional dependencies (a missed one only costs, through a variable of
	// its own after the releases') and the releases the preference never
	// chooses.
	background []solver.CardConstr
	nVars      int
	// depth is the encoding's limit (negative: none); complete says that
	// nothing lies beyond it, so the encoding is the whole request.
	depth    int
	complete bool
	// shared is what the encodings of one request share.
	shared *encodingShared
}

// encodingShared is what the encodings of one request share: memoised
// candidates (checking versions against constraints is most of the
// encoding's work), and the releases the preference never chooses, which
// every encoding forbids so that the solver answers for the same plans as
// the search.
type encodingShared struct {
	cache map[candidateKey][]*Release
	omit  map[*Release]bool
}

func newEncodingShared() *encodingShared {
	return &encodingShared{cache: map[candidateKey][]*Release{}, omit: map[*Release]bool{}}
}

type candidateKey struct {
	name       string
	constraint *semver.Constraints
}

// candidates is Universe.Candidates, memoised per dependency.
func (e *encoding) candidates(d Dependency) []*Release {
	k := candidateKey{d.Name, d.Constraint}
	if c, ok := e.shared.cache[k]; ok {
		return c
	}
	c := e.u.Candidates(d)
	e.shared.cache[k] = c
	return c
}

// encode builds the encoding of req over u, limited to the facts of
// releases at most depth dependency hops from the request (negative: no
// limit). Only releases reachable from the roots and the locks take part.
// The encodings of one request share shared (nil: nothing shared).
func encode(u *Universe, req Request, maxReleases, depth int, shared *encodingShared) (*encoding, error) {
	if shared == nil {
		shared = newEncodingShared()
	}
	e := &encoding{u: u, req: req, varOf: map[*Release]int{}, dist: map[*Release]int{}, packages: map[string][]*Release{},
		excluded: map[*Release]bool{}, depth: depth, complete: true, shared: shared}
	// The closure of candidates over hard and weak dependencies, breadth
	// first, so that dist is the fewest hops.
	var queue []*Release
	add := func(r *Release, d int) {
		if _, ok := e.dist[r]; !ok {
			e.dist[r] = d
			queue = append(queue, r)
		}
	}
	// Every release of a root's or a lock's package takes part, not only
	// those in range: repairs may need them.
	for _, d := range req.Roots {
		for _, r := range e.candidates(Dependency{Name: d.Name}) {
			add(r, 0)
		}
	}
	for _, l := range req.Locked {
		r := u.Release(l.Name, l.Version)
		e.locked = append(e.locked, r)
		for _, o := range u.Releases(l.Name) {
			add(o, 0)
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if !e.within(r) {
			if len(r.Requires)+len(r.Optional)+len(r.Conflicts) > 0 {
				e.complete = false
			}
			continue
		}
		for _, d := range slices.Concat(r.Requires, r.Optional) {
			for _, c := range e.candidates(d) {
				add(c, e.dist[r]+1)
			}
		}
		if len(e.dist) > maxReleases {
			return nil, &InputError{Kind: ErrTooLarge, Reason: fmt.Sprintf("more than %d candidate releases", maxReleases)}
		}
	}
	for r := range e.dist {
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
	return e, nil
}

// within reports whether r's own facts are part of the encoding.
func (e *encoding) within(r *Release) bool {
	return e.depth < 0 || e.dist[r] <= e.depth
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
		f := fact{Fact: Fact{Kind: FactOneVersion, Package: name}, dist: math.MaxInt}
		for i := range rels {
			f.dist = min(f.dist, e.dist[rels[i]])
			for j := i + 1; j < len(rels); j++ {
				f.constrs = append(f.constrs, solver.AtLeast1(-e.varOf[rels[i]], -e.varOf[rels[j]]))
			}
		}
		e.facts = append(e.facts, f)
	}
	for _, r := range e.rels {
		if !e.within(r) {
			continue
		}
		v, dist := e.varOf[r], e.dist[r]
		for _, d := range r.Requires {
			e.facts = append(e.facts, fact{Fact: Fact{Kind: FactRequires, Package: r.Name, Release: r, Dependency: d}, dist: dist,
				constrs: []solver.CardConstr{solver.AtLeast1(append([]int{-v}, e.candidateVars(d)...)...)}})
		}
		for _, d := range r.Conflicts {
			f := fact{Fact: Fact{Kind: FactConflicts, Package: r.Name, Release: r, Dependency: d}, dist: dist}
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
			// A variable of its own is true when the dependency is missed.
			e.nVars++
			e.background = append(e.background, solver.AtLeast1(append([]int{-v, e.nVars}, e.candidateVars(d)...)...))
		}
	}
	for _, r := range e.rels {
		if e.shared.omit[r] {
			e.background = append(e.background, solver.AtLeast1(-e.varOf[r]))
		}
	}
	if !e.req.Policy.AllowLockChanges {
		for _, r := range e.locked {
			e.facts = append(e.facts, fact{Fact: Fact{Kind: FactLocked, Package: r.Name, Release: r}, constrs: []solver.CardConstr{solver.AtLeast1(e.varOf[r])}})
		}
	}
	for _, r := range e.rels {
		if e.excluded[r] {
			e.facts = append(e.facts, fact{Fact: Fact{Kind: FactExcluded, Package: r.Name, Release: r}, dist: e.dist[r], constrs: []solver.CardConstr{solver.AtLeast1(-e.varOf[r])}})
		}
	}
}

// validateRequest rejects malformed requests before any solving.
func validateRequest(u *Universe, req Request) error {
	if u == nil || u.Len() == 0 {
		return &InputError{Kind: ErrInvalidRequest, Reason: "empty universe"}
	}
	if len(req.Roots) == 0 {
		return &InputError{Kind: ErrInvalidRequest, Reason: "no root packages"}
	}
	if err := req.Policy.Costs.validate(); err != nil {
		return err
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
		if u.Release(x.Name, x.Version) == nil {
			return &InputError{Kind: ErrInvalidRequest, Package: x.Name, Text: x.String(), Reason: "excluded release not in the universe"}
		}
		if l, ok := locked[x.Name]; ok && l.Version.Equal(x.Version) && !req.Policy.AllowLockChanges {
			return &InputError{Kind: ErrInvalidRequest, Package: x.Name, Text: x.String(), Reason: "release is both locked and excluded"}
		}
	}
	return nil
}
