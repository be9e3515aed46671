package deps

import (
	"context"
	"fmt"
	"slices"

	"github.com/Masterminds/semver/v3"
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

// maxRepairSize bounds the number of edits one repair suggests; bigger
// corrections are not searched (the explanation still stands).
const maxRepairSize = 2

// maxRepairTries bounds the resolutions spent on repairs.
const maxRepairTries = 200

// repairs finds a cheapest set of edits of the user's constraints (roots
// widened to any version of their package or dropped, locks released,
// exclusions lifted) after which a plan exists: a minimum-cost correction
// set of up to maxRepairSize edits, searched cheapest first (fewer edits
// first at equal cost). Every correction set must break the conflict, so
// each set edits one of its user facts, and a set whose edits leave the
// conflict standing is skipped without solving; the others are checked by
// resolving the edited request.
func (s *SATResolver) repairs(ctx context.Context, u *Universe, req Request, conflict []Fact) []Repair {
	var options []relaxation
	seen := map[string]bool{}
	add := func(f Fact) {
		if seen[f.String()] {
			return
		}
		seen[f.String()] = true
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
	for _, f := range userFacts(u, req) {
		add(f)
	}
	// Candidate sets by cost, then size; each set must touch the conflict.
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
		if wa, wb := weight(a), weight(b); wa != wb {
			return wa - wb
		}
		return len(a) - len(b)
	})
	for i, set := range sets {
		if i >= maxRepairTries || ctx.Err() != nil {
			break
		}
		if keepsConflict(u, set, inConflict) {
			continue
		}
		edited, ok := relax(req, set)
		if !ok {
			continue
		}
		if p, _, err := s.resolve(ctx, u, edited); err == nil {
			return describe(u, set, p)
		}
	}
	return nil
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

// keepsConflict reports whether the edits leave every fact of the conflict
// standing: they edit none of its facts, or only widen a root to the same
// candidates.
func keepsConflict(u *Universe, set []relaxation, inConflict map[string]bool) bool {
	for _, r := range set {
		if !inConflict[r.fact.String()] {
			continue
		}
		if r.fact.Kind != FactRoot || r.drop || !slices.Equal(u.Candidates(r.fact.Dependency), u.Candidates(Dependency{Name: r.fact.Dependency.Name})) {
			return false
		}
	}
	return true
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
