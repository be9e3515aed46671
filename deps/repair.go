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
	// To is, for a lock, the release the package would move to (nil: the
	// package would be removed).
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
		return fmt.Sprintf("let %s move from %s to %s", r.Fact.Package, r.Fact.Release.Version, r.To.Version)
	case r.Fact.Kind == FactLocked:
		return fmt.Sprintf("let %s (locked at %s) be removed", r.Fact.Package, r.Fact.Release.Version)
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

// Costs of the edits: widening a root is cheapest, then releasing a lock,
// lifting an exclusion, and dropping a root.
const (
	costWiden   = 2
	costRelease = 2
	costLift    = 3
	costDrop    = 5
)

// maxRepairTries bounds the rounds spent on repairs.
const maxRepairTries = 16

// repairs finds a cheapest set of edits of the user's constraints (roots
// widened to any version of their package or dropped, locks released,
// exclusions lifted) after which a plan exists: a minimum-cost correction
// set, by gophersat's pseudo-boolean optimisation. Each user fact gets a
// relaxation variable with its cost, the packages' facts stay hard, and
// the solver minimises the cost over the encoding that proved the
// conflict. That encoding may hold only the facts near the request, so
// the edits are checked by resolving the edited request; when that still
// fails, the conflict it meets lies further out and the search repeats on
// an encoding twice as deep. A correction set of all the facts is one of
// any subset of them, so a checked optimum of a subset is the optimum.
func (s *SATResolver) repairs(ctx context.Context, u *Universe, req Request, proof *encoding) []Repair {
	e := proof
	for range maxRepairTries {
		if ctx.Err() != nil {
			return nil
		}
		set, ok := e.cheapestRelaxation(u, req)
		if !ok {
			return nil // the packages' own facts conflict
		}
		edited, ok := relax(req, set)
		if !ok {
			return nil
		}
		p, _, err := s.resolve(ctx, u, edited)
		if err == nil {
			return describe(u, set, p)
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
// after which e's facts can hold; false when no edits suffice.
func (e *encoding) cheapestRelaxation(u *Universe, req Request) ([]relaxation, bool) {
	var cs []solver.CardConstr
	for _, f := range e.facts {
		if !f.User() {
			cs = append(cs, f.constrs...)
		}
	}
	cs = append(cs, e.background...)
	var options []relaxation
	var costLits []solver.Lit
	var costs []int
	top := e.nVars
	facts := userFacts(u, req)
	tieScale := 2*len(facts)*(len(facts)+1) + 1
	option := func(r relaxation, order int) int {
		top++
		options = append(options, r)
		costLits = append(costLits, solver.IntToLit(int32(top)))
		// Ties go to the fact latest in the request: the first root is
		// the one the user cares for most.
		// The tie terms of every option together stay below one unit of
		// cost, so they never outweigh a real difference.
		costs = append(costs, r.weight*tieScale+len(facts)-order)
		return top
	}
	var kept []int // "root i is not dropped", one of which must hold
	for i, f := range facts {
		switch f.Kind {
		case FactRoot:
			widen := option(relaxation{fact: f, weight: costWiden}, i)
			drop := option(relaxation{fact: f, drop: true, weight: costDrop}, i)
			kept = append(kept, -drop)
			cs = append(cs,
				solver.AtLeast1(append(e.candidateVars(f.Dependency), widen, drop)...),
				solver.AtLeast1(append(e.candidateVars(Dependency{Name: f.Dependency.Name}), drop)...))
		case FactLocked:
			if v := e.varOf[f.Release]; v > 0 {
				cs = append(cs, solver.AtLeast1(v, option(relaxation{fact: f, weight: costRelease}, i)))
			}
		case FactExcluded:
			if v := e.varOf[f.Release]; v > 0 {
				cs = append(cs, solver.AtLeast1(-v, option(relaxation{fact: f, weight: costLift}, i)))
			}
		}
	}
	// Dropping every root leaves nothing to resolve.
	cs = append(cs, solver.AtLeast1(kept...))
	if top > 0 {
		cs = append(cs, solver.CardConstr{Lits: []int{top, -top}, AtLeast: 1})
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(cs)
	if pb.Status == solver.Unsat {
		return nil, false
	}
	pb.SetCostFunc(costLits, costs)
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
// left to resolve.
func relax(req Request, set []relaxation) (Request, bool) {
	out := req
	out.Previous = nil
	out.Roots = nil
	out.Locked = nil
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
	for _, l := range req.Locked {
		if _, ok := edit(Fact{Kind: FactLocked, Package: l.Name, Release: &Release{Name: l.Name, Version: l.Version}}); !ok || req.Policy.AllowLockChanges {
			out.Locked = append(out.Locked, l)
		}
	}
	for _, x := range req.Excluded {
		if _, ok := edit(Fact{Kind: FactExcluded, Package: x.Name, Release: &Release{Name: x.Name, Version: x.Version}}); !ok {
			out.Excluded = append(out.Excluded, x)
		}
	}
	return out, len(out.Roots) > 0
}

// describe turns a working set of relaxations into repairs, reading the
// plan the edited request got.
func describe(u *Universe, set []relaxation, p *Plan) []Repair {
	var out []Repair
	for _, r := range set {
		rep := Repair{Fact: r.fact}
		switch r.fact.Kind {
		case FactRoot:
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
		case FactLocked:
			rep.To = p.Releases[r.fact.Package]
		}
		out = append(out, rep)
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
	c, err := semver.NewConstraint(op + chosen.Version.String())
	if err != nil { // cannot happen for a parsed version
		return Dependency{Name: chosen.Name}
	}
	return Dependency{Name: chosen.Name, Constraint: c}
}
