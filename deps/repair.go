package deps

import (
	"context"
	"errors"
	"fmt"

	"github.com/Masterminds/semver/v3"
	"github.com/crillab/gophersat/solver"
)

// Repair is one edit of the request that, with the other repairs of the
// same error, makes it solvable.
type Repair struct {
	// Fact is the user's constraint to edit: a root, a lock or an exclusion.
	Fact Fact
	// Replace is the root constraint to use instead (nil when the root is
	// dropped or the fact is not a root).
	Replace *Dependency
	// Drop says the root should be dropped altogether.
	Drop bool
	// To is, for a lock, the release the package moves to (nil: the
	// package leaves the plan). It is the resolver's own choice for the
	// request with lock changes allowed (Policy.AllowLockChanges) and the
	// other repairs applied, so resolving that request gives this release;
	// with several locks equally cheap to release, the ones listed are
	// those the resolver changes.
	To *Release
}

// String says the edit in words.
func (r Repair) String() string {
	switch {
	case r.Fact.Kind == FactRoot && r.Drop:
		return "drop the request for " + r.Fact.Dependency.String()
	case r.Fact.Kind == FactRoot && r.Replace != nil:
		return fmt.Sprintf("allow %s instead of %s", r.Replace, r.Fact.Dependency)
	case r.Fact.Kind == FactLocked && r.To != nil:
		return fmt.Sprintf("let %s move from %s to %s", r.Fact.Package, versionText(r.Fact.Release.Version), r.To.Version)
	case r.Fact.Kind == FactLocked:
		return fmt.Sprintf("let %s (locked at %s) be removed", r.Fact.Package, versionText(r.Fact.Release.Version))
	case r.Fact.Kind == FactExcluded:
		return "allow the excluded " + r.Fact.Release.ID()
	}
	return "relax: " + r.Fact.String()
}

// relaxation is one way to edit a user fact, with its cost.
type relaxation struct {
	fact   Fact
	drop   bool // for roots: drop instead of widening
	weight int
}

// maxRepairTries bounds the rounds spent on repairs.
const maxRepairTries = 16

// repairs finds a cheapest set of edits of the user's constraints (roots
// widened to any version of their package or dropped, locks released,
// exclusions lifted), priced by the request's CostModel, after which a
// plan exists: a minimum-cost correction set, by gophersat's
// pseudo-boolean optimisation. Each user fact gets a relaxation variable
// per edit the model allows, with its cost; the packages' facts stay
// hard, and the solver minimises the cost over the encoding that proved
// the conflict. That encoding may hold only the facts near the request,
// so the edits are checked by resolving the edited request; when that
// still fails, the conflict it meets lies further out and the search
// repeats on an encoding twice as deep. A correction set of all the facts
// is one of any subset of them, so a checked optimum of a subset is the
// optimum.
//
// Released locks are checked the way a user would apply them: the locks
// stay and the policy lets them change. The resolver then changes the
// fewest locks, as many as the optimum releases (fewer would be a cheaper
// repair), and the lock repairs are the ones it changes, each with the
// release it picks.
func (s *SATResolver) repairs(ctx context.Context, u *Universe, req Request, proof *encoding) []Repair {
	costs := req.Policy.Costs.withDefaults()
	e := proof
	for range maxRepairTries {
		if ctx.Err() != nil {
			return nil
		}
		set, ok := e.cheapestRelaxation(u, req, costs)
		if !ok {
			return nil // the packages' own facts conflict, or the model forbids every way out
		}
		edited, ok := relax(req, set)
		if !ok {
			return nil
		}
		p, _, err := s.resolve(ctx, u, edited)
		if err == nil {
			return describe(u, req, set, p)
		}
		if !errors.Is(err, errUnsat) || e.complete {
			return nil
		}
		if e, err = encode(u, req, s.maxReleases, e.depth*2, e.shared); err != nil {
			return nil
		}
	}
	return nil
}

// cheapestRelaxation minimises the cost of the edits of req's user facts
// after which e's facts can hold; false when no edits suffice. An edit
// costs weight × tieScale plus a tie term below one unit of cost, so the
// tie-break never outweighs a real difference.
func (e *encoding) cheapestRelaxation(u *Universe, req Request, costs CostModel) ([]relaxation, bool) {
	var cs []solver.CardConstr
	for _, f := range e.facts {
		if !f.User() {
			cs = append(cs, f.constrs...)
		}
	}
	cs = append(cs, e.background...)
	var options []relaxation
	var costLits []solver.Lit
	var weights []int
	top := e.nVars
	facts := userFacts(u, req)
	tieScale := 2*len(facts)*(len(facts)+1) + 1
	// option adds a relaxation variable for r (the fact at position order)
	// and returns it, or returns 0 when the model forbids the edit.
	option := func(r relaxation, order int) int {
		if r.weight < 0 {
			return 0
		}
		top++
		options = append(options, r)
		costLits = append(costLits, solver.IntToLit(int32(top)))
		weights = append(weights, r.weight*tieScale+costs.tie(order, len(facts)))
		return top
	}
	// orAllowed is lits with the relaxation variables that exist.
	orAllowed := func(lits []int, relax ...int) []int {
		for _, v := range relax {
			if v != 0 {
				lits = append(lits, v)
			}
		}
		return lits
	}
	var kept []int // "root i is not dropped", one of which must hold
	allDroppable := true
	for i, f := range facts {
		switch f.Kind {
		case FactRoot:
			widen := option(relaxation{fact: f, weight: costs.Widen}, i)
			drop := option(relaxation{fact: f, drop: true, weight: costs.DropRoot}, i)
			if drop == 0 {
				allDroppable = false
			} else {
				kept = append(kept, -drop)
			}
			cs = append(cs,
				solver.AtLeast1(orAllowed(e.candidateVars(f.Dependency), widen, drop)...),
				solver.AtLeast1(orAllowed(e.candidateVars(Dependency{Name: f.Dependency.Name}), drop)...))
		case FactLocked:
			if v := e.varOf[f.Release]; v > 0 {
				cs = append(cs, solver.AtLeast1(orAllowed([]int{v}, option(relaxation{fact: f, weight: costs.ReleaseLock}, i))...))
			}
		case FactExcluded:
			if v := e.varOf[f.Release]; v > 0 {
				cs = append(cs, solver.AtLeast1(orAllowed([]int{-v}, option(relaxation{fact: f, weight: costs.LiftExclusion}, i))...))
			}
		}
	}
	// Dropping every root leaves nothing to resolve.
	if allDroppable {
		cs = append(cs, solver.AtLeast1(kept...))
	}
	if top > 0 {
		cs = append(cs, solver.CardConstr{Lits: []int{top, -top}, AtLeast: 1})
	}
	for _, c := range cs {
		if len(c.Lits) < c.AtLeast { // e.g. a root nothing matches that may not be widened
			return nil, false
		}
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(cs)
	if pb.Status == solver.Unsat {
		return nil, false
	}
	if len(costLits) > 0 {
		pb.SetCostFunc(costLits, weights)
	}
	sv := solver.New(pb)
	if sv.Minimize() < 0 {
		return nil, false
	}
	model := sv.Model()
	var set []relaxation
	for k, r := range options {
		if !litTrue(model, e.nVars+1+k) {
			continue
		}
		// A dropped root needs no widening as well.
		if r.drop && len(set) > 0 && set[len(set)-1].fact.String() == r.fact.String() {
			set = set[:len(set)-1]
		}
		set = append(set, r)
	}
	return set, true
}

// userFacts are the request's own constraints as facts.
func userFacts(u *Universe, req Request) []Fact {
	var out []Fact
	for _, d := range req.Roots {
		out = append(out, Fact{Kind: FactRoot, Package: d.Name, Dependency: d})
	}
	if !req.Policy.AllowLockChanges {
		for _, l := range req.Locked {
			out = append(out, Fact{Kind: FactLocked, Package: l.Name, Release: u.Release(l.Name, l.Version)})
		}
	}
	for _, x := range req.Excluded {
		if r := u.Release(x.Name, x.Version); r != nil {
			out = append(out, Fact{Kind: FactExcluded, Package: x.Name, Release: r})
		}
	}
	return out
}

// relax returns req with the edits applied; false when nothing would be
// left to resolve. Released locks stay locked, with lock changes allowed,
// so that the check resolves what the user would.
func relax(req Request, set []relaxation) (Request, bool) {
	out := req
	out.Previous = nil
	out.Roots = nil
	out.Excluded = nil
	edit := func(f Fact) (relaxation, bool) {
		for _, r := range set {
			if r.fact.String() == f.String() {
				return r, true
			}
		}
		return relaxation{}, false
	}
	for _, d := range req.Roots {
		r, ok := edit(Fact{Kind: FactRoot, Package: d.Name, Dependency: d})
		switch {
		case !ok:
			out.Roots = append(out.Roots, d)
		case !r.drop:
			out.Roots = append(out.Roots, Dependency{Name: d.Name})
		}
	}
	for _, r := range set {
		if r.fact.Kind == FactLocked {
			out.Policy.AllowLockChanges = true
		}
	}
	for _, x := range req.Excluded {
		if _, ok := edit(Fact{Kind: FactExcluded, Package: x.Name, Release: &Release{Name: x.Name, Version: x.Version}}); !ok {
			out.Excluded = append(out.Excluded, x)
		}
	}
	return out, len(out.Roots) > 0
}

// describe turns a working set of relaxations into repairs, in the
// request's order, reading the plan p the edited request got: the roots'
// new ranges from the releases p chose, and (when locks were released)
// the locks p changes and the releases it moved them to.
func describe(u *Universe, req Request, set []relaxation, p *Plan) []Repair {
	var out []Repair
	locksReleased := false
	for _, r := range set {
		switch r.fact.Kind {
		case FactRoot:
			rep := Repair{Fact: r.fact}
			var chosen *Release
			if cs := chosenCandidates(u, p.Releases, Dependency{Name: r.fact.Dependency.Name}); len(cs) > 0 {
				chosen = cs[0]
			}
			if r.drop || chosen == nil {
				rep.Drop = true
			} else {
				d := widen(u, r.fact.Dependency, chosen)
				rep.Replace = &d
			}
			out = append(out, rep)
		case FactLocked:
			locksReleased = true
		}
	}
	if locksReleased {
		seen := map[string]bool{}
		for _, l := range req.Locked {
			locked := u.Release(l.Name, l.Version)
			if seen[l.Name] || p.Releases[l.Name] == locked {
				continue
			}
			seen[l.Name] = true
			out = append(out, Repair{Fact: Fact{Kind: FactLocked, Package: l.Name, Release: locked}, To: p.Releases[l.Name]})
		}
	}
	for _, r := range set {
		if r.fact.Kind == FactExcluded {
			out = append(out, Repair{Fact: r.fact})
		}
	}
	return out
}

// widen returns a constraint on d's package that admits chosen: ">=v" when
// chosen is newer than everything d allowed, "<=v" when older, "=v"
// otherwise (or when d allowed nothing).
func widen(u *Universe, d Dependency, chosen *Release) Dependency {
	var lo, hi *semver.Version
	for _, c := range u.Candidates(d) {
		if c.Name != chosen.Name {
			continue
		}
		if lo == nil || c.Version.LessThan(lo) {
			lo = c.Version
		}
		if hi == nil || c.Version.GreaterThan(hi) {
			hi = c.Version
		}
	}
	op := "="
	switch {
	case hi == nil:
	case chosen.Version.GreaterThan(hi):
		op = ">="
	case chosen.Version.LessThan(lo):
		op = "<="
	}
	d, err := withConstraint(chosen.Name, op+chosen.Version.String())
	if err != nil { // cannot happen for a parsed version
		return Dependency{Name: chosen.Name}
	}
	return d
}
