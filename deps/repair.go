package deps

import (
	"fmt"
	"slices"

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
	fact   fact
	drop   bool // for roots: drop instead of widening
	weight int
}

// maxRepairSize bounds the number of edits one repair suggests; bigger
// corrections are not searched (the explanation still stands).
const maxRepairSize = 2

// maxRepairTries bounds the solver calls spent on repairs.
const maxRepairTries = 200

// repairs finds a cheapest set of edits of the user's constraints (roots
// widened to any version of their package or dropped, locks released,
// exclusions lifted) after which a plan exists: a minimum-cost correction
// set, searched by increasing size, cheapest first, starting with the user
// facts of the conflict (every correction set must touch it).
func (e *encoding) repairs(conflict []fact) []Repair {
	var options []relaxation
	add := func(f fact) {
		switch f.Kind {
		case FactRoot:
			options = append(options, relaxation{fact: f, weight: 2}, relaxation{fact: f, drop: true, weight: 5})
		case FactLocked:
			options = append(options, relaxation{fact: f, weight: 2})
		case FactExcluded:
			options = append(options, relaxation{fact: f, weight: 3})
		}
	}
	inConflict := map[string]bool{}
	for _, f := range conflict {
		if f.User() {
			add(f)
			inConflict[f.String()] = true
		}
	}
	for _, f := range e.facts {
		if f.User() && !inConflict[f.String()] {
			add(f)
		}
	}
	// Candidate sets by size, then weight; each set must touch the conflict.
	var sets [][]relaxation
	for i, a := range options {
		if inConflict[a.fact.String()] {
			sets = append(sets, []relaxation{a})
		}
		for _, b := range options[i+1:] {
			if a.fact.String() != b.fact.String() && (inConflict[a.fact.String()] || inConflict[b.fact.String()]) && maxRepairSize >= 2 {
				sets = append(sets, []relaxation{a, b})
			}
		}
	}
	weight := func(set []relaxation) int {
		w := 0
		for _, r := range set {
			w += r.weight
		}
		return w
	}
	slices.SortStableFunc(sets, func(a, b []relaxation) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return weight(a) - weight(b)
	})
	for i, set := range sets {
		if i >= maxRepairTries {
			break
		}
		if model := e.solveRelaxed(set, nil); model != nil {
			return e.describe(set, model)
		}
	}
	return nil
}

// solveRelaxed solves the facts with the relaxations applied (and the
// extra units) and returns a model, or nil.
func (e *encoding) solveRelaxed(set []relaxation, units []int) []bool {
	var facts []fact
	var extra []solver.CardConstr
	for _, f := range e.facts {
		i := slices.IndexFunc(set, func(r relaxation) bool { return r.fact.String() == f.String() })
		if i < 0 {
			facts = append(facts, f)
			continue
		}
		if f.Kind == FactRoot && !set[i].drop {
			extra = append(extra, solver.AtLeast1(e.candidateVars(Dependency{Name: f.Dependency.Name})...))
		}
	}
	for _, u := range units {
		extra = append(extra, solver.AtLeast1(u))
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(append(e.constraints(facts), extra...))
	if pb.Status == solver.Unsat {
		return nil
	}
	s := solver.New(pb)
	if s.Solve() != solver.Sat {
		return nil
	}
	return s.Model()
}

// describe turns a working set of relaxations into repairs.
func (e *encoding) describe(set []relaxation, model []bool) []Repair {
	var out []Repair
	for _, r := range set {
		rep := Repair{Fact: r.fact.Fact}
		switch r.fact.Kind {
		case FactRoot:
			chosen := e.chosenIn(model, Dependency{Name: r.fact.Dependency.Name})
			if chosen != nil && !r.drop {
				chosen = e.newestFeasible(set, r.fact.Dependency.Name, chosen)
			}
			if r.drop || chosen == nil {
				rep.Drop = true
			} else {
				d := widen(e.u, r.fact.Dependency, chosen)
				rep.Replace = &d
			}
		case FactLocked:
			rep.To = e.chosenIn(model, Dependency{Name: r.fact.Package})
		}
		out = append(out, rep)
	}
	return out
}

// newestFeasible returns the newest release of pkg that a plan can hold
// under the relaxations (at least found, which one can).
func (e *encoding) newestFeasible(set []relaxation, pkg string, found *Release) *Release {
	for _, r := range e.packages[pkg] {
		if r == found || !r.Version.GreaterThan(found.Version) {
			return found
		}
		if e.solveRelaxed(set, []int{e.varOf[r]}) != nil {
			return r
		}
	}
	return found
}

// chosenIn returns the candidate of d that model chooses, if any.
func (e *encoding) chosenIn(model []bool, d Dependency) *Release {
	for _, c := range e.candidates(d) {
		if v := e.varOf[c]; v > 0 && litTrue(model, v) {
			return c
		}
	}
	return nil
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
