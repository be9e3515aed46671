package deps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// randomUniverse makes a small universe of packages p0..p(n-1) with 1-3
// versions each, random dependency ranges, conflicts and optional
// dependencies, and a random request (sometimes with an exclusion and a
// lock, hard or free to change).
func randomUniverse(rng *rand.Rand) ([]*Release, Request) {
	n := 2 + rng.IntN(4)
	var rels []*Release
	constraint := func(name string) Dependency {
		ops := []string{"", ">=1.1.0", "<1.2.0", "=1.0.0", ">=1.0.0, <1.2.0"}
		return MustParseDependency(name + " " + ops[rng.IntN(len(ops))])
	}
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		for v := range 1 + rng.IntN(3) {
			r := &Release{Name: name, Version: semver.MustParse(fmt.Sprintf("1.%d.0", v))}
			for j := range n {
				if j == i {
					continue
				}
				other := fmt.Sprintf("p%d", j)
				switch rng.IntN(8) {
				case 0, 1:
					r.Requires = append(r.Requires, constraint(other))
				case 2:
					r.Conflicts = append(r.Conflicts, constraint(other))
				case 3:
					r.Optional = append(r.Optional, constraint(other))
				}
			}
			rels = append(rels, r)
		}
	}
	req := Request{Roots: []Dependency{constraint("p0")}}
	if rng.IntN(2) == 0 {
		req.Roots = append(req.Roots, constraint(fmt.Sprintf("p%d", n-1)))
	}
	if rng.IntN(4) == 0 {
		req.Excluded = []ReleaseRef{{Name: "p0", Version: semver.MustParse("1.0.0")}}
	}
	if rng.IntN(4) == 0 { // a deployed release of a package other than p0
		var others []*Release
		for _, r := range rels {
			if r.Name != "p0" {
				others = append(others, r)
			}
		}
		l := others[rng.IntN(len(others))]
		req.Locked = []ReleaseRef{{Name: l.Name, Version: l.Version}}
		req.Policy.AllowLockChanges = rng.IntN(2) == 0
	}
	return rels, req
}

// bruteForce tries every plan (each package absent or at one of its
// versions) and returns the valid ones, checked by Check alone.
func bruteForce(u *Universe, req Request) []*Plan {
	names := u.Packages()
	var valid []*Plan
	var walk func(i int, chosen map[string]*Release)
	walk = func(i int, chosen map[string]*Release) {
		if i == len(names) {
			p := &Plan{Releases: map[string]*Release{}}
			for k, v := range chosen {
				p.Releases[k] = v
			}
			if Check(u, req, p) == nil {
				valid = append(valid, p)
			}
			return
		}
		walk(i+1, chosen)
		for _, r := range u.Releases(names[i]) {
			chosen[names[i]] = r
			walk(i+1, chosen)
			delete(chosen, names[i])
		}
	}
	walk(0, map[string]*Release{})
	return valid
}

// preferenceKey ranks a plan by the preference, independently of the
// resolver's search: it walks the plan's own releases from the request
// outwards (the needs of the roots, the locks and each release taken, the
// need on the earliest package in the preference's order first, ties in
// arrival order) and records, for each need the releases taken so far do
// not already settle, the position of the plan's release among the need's
// choices (their number when the plan holds none). The plan's releases no
// need brought in are counted last. Lower is better.
func preferenceKey(t *testing.T, u *Universe, req Request, pref Preference, p *Plan) []int {
	in, err := preferenceInput(context.Background(), u, req, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	rank := map[string]int{}
	for i, pkg := range pref.Order(in) {
		rank[pkg] = i
	}
	rankOf := func(name string) int {
		if r, ok := rank[name]; ok {
			return r
		}
		best := len(rank)
		for _, c := range u.Candidates(Dependency{Name: name}) {
			if r, ok := rank[c.Name]; ok {
				best = min(best, r)
			}
		}
		return best
	}
	type need struct {
		dep       Dependency
		lock      bool
		rank, seq int
	}
	var pending []need
	seq := 0
	push := func(d Dependency, lock bool) {
		seq++
		pending = append(pending, need{dep: d, lock: lock, rank: rankOf(d.Name), seq: seq})
	}
	for _, d := range req.Roots {
		push(d, false)
	}
	for _, l := range req.Locked {
		push(Dependency{Name: l.Name}, true)
	}
	taken := map[string]*Release{}
	var key []int
	for len(pending) > 0 {
		slices.SortStableFunc(pending, func(a, b need) int {
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			return a.seq - b.seq
		})
		n := pending[0]
		pending = pending[1:]
		candidates := u.Candidates(n.dep)
		settled := taken[n.dep.Name] != nil && n.lock
		for _, c := range candidates {
			settled = settled || (!n.lock && taken[c.Name] == c)
		}
		if settled {
			continue
		}
		var pkgs []string
		for _, c := range candidates {
			if !slices.Contains(pkgs, c.Name) {
				pkgs = append(pkgs, c.Name)
			}
		}
		slices.SortStableFunc(pkgs, func(a, b string) int { return providerOrder(u, n.dep.Name, a, b) })
		var choices []*Release
		for _, pkg := range pkgs {
			for _, c := range pref.Choices(in, pkg) {
				if c != nil && slices.Contains(candidates, c) {
					choices = append(choices, c)
				}
			}
		}
		idx := slices.IndexFunc(choices, func(c *Release) bool { return p.Releases[c.Name] == c })
		if idx < 0 {
			key = append(key, len(choices))
			continue
		}
		key = append(key, idx)
		c := choices[idx]
		taken[c.Name] = c
		for _, d := range slices.Concat(c.Requires, c.Optional) {
			push(d, false)
		}
	}
	extra := 0
	for name, r := range p.Releases {
		if taken[name] != r {
			extra++
		}
	}
	return append(key, extra)
}

// providerOrder compares packages a and b as providers of a need on name,
// by the default rule: the package of that name first, then the highest
// version of the capability a package provides (unversioned last), then
// the package name.
func providerOrder(u *Universe, name, a, b string) int {
	if a == b {
		return 0
	}
	if a == name {
		return -1
	}
	if b == name {
		return 1
	}
	best := func(pkg string) *semver.Version {
		var v *semver.Version
		for _, r := range u.Releases(pkg) {
			for _, c := range r.Provides {
				if c.Name == name && c.Version != nil && (v == nil || c.Version.GreaterThan(v)) {
					v = c.Version
				}
			}
		}
		return v
	}
	va, vb := best(a), best(b)
	switch {
	case va != nil && vb != nil && !va.Equal(vb):
		return vb.Compare(va)
	case va != nil && vb == nil:
		return -1
	case va == nil && vb != nil:
		return 1
	}
	return strings.Compare(a, b)
}

// fewestLockChanges keeps the plans that change the fewest locked releases
// when the policy lets locks change (the resolver's first criterion).
func fewestLockChanges(plans []*Plan, req Request) []*Plan {
	if !req.Policy.AllowLockChanges {
		return plans
	}
	changes := func(p *Plan) int {
		n := 0
		for _, l := range req.Locked {
			if r := p.Releases[l.Name]; r == nil || !r.Version.Equal(l.Version) {
				n++
			}
		}
		return n
	}
	least := -1
	for _, p := range plans {
		if c := changes(p); least < 0 || c < least {
			least = c
		}
	}
	return slices.DeleteFunc(plans, func(p *Plan) bool { return changes(p) != least })
}

// harderRandomUniverse makes a small universe in the harder shapes:
// upper-bounded ranges, capabilities with many providers (versioned or
// not), providers that exclude each other, requests with several
// exclusions, and dependencies in both directions so that cycles are
// common; half of the requests forbid cycles.
func harderRandomUniverse(rng *rand.Rand) ([]*Release, Request) {
	n := 3 + rng.IntN(3)
	caps := []string{"cap-a", "cap-b"}
	constraint := func(name string) Dependency {
		ops := []string{"", "", "<1.1.0", "<1.2.0", ">=1.1.0", ">=1.0.0, <1.2.0", "=1.1.0"}
		return MustParseDependency(name + " " + ops[rng.IntN(len(ops))])
	}
	var rels []*Release
	for i := range n {
		name := fmt.Sprintf("p%d", i)
		for v := range 1 + rng.IntN(3) {
			r := &Release{Name: name, Version: semver.MustParse(fmt.Sprintf("1.%d.0", v))}
			if i > 0 && rng.IntN(2) == 0 { // a provider of a capability
				c := Capability{Name: caps[rng.IntN(len(caps))]}
				if rng.IntN(3) > 0 {
					c.Version = semver.MustParse(fmt.Sprintf("1.%d.0", rng.IntN(3)))
				}
				r.Provides = append(r.Provides, c)
				if rng.IntN(3) == 0 { // providers that exclude each other
					r.Conflicts = append(r.Conflicts, MustParseDependency(c.Name))
				}
			}
			for j := range n {
				if j == i {
					continue
				}
				other := fmt.Sprintf("p%d", j)
				switch rng.IntN(16) {
				case 0, 1, 2, 3:
					r.Requires = append(r.Requires, constraint(other))
				case 4:
					r.Conflicts = append(r.Conflicts, constraint(other))
				case 5, 6:
					r.Optional = append(r.Optional, constraint(other))
				}
			}
			if rng.IntN(3) == 0 {
				c := caps[rng.IntN(len(caps))]
				switch rng.IntN(4) {
				case 0:
					r.Requires = append(r.Requires, MustParseDependency(c))
				case 1:
					r.Optional = append(r.Optional, constraint(c))
				default:
					r.Requires = append(r.Requires, constraint(c))
				}
			}
			rels = append(rels, r)
		}
	}
	req := Request{Roots: []Dependency{constraint("p0")}}
	if c := caps[rng.IntN(len(caps))]; rng.IntN(2) == 0 && slices.ContainsFunc(rels, func(r *Release) bool {
		return slices.ContainsFunc(r.Provides, func(p Capability) bool { return p.Name == c })
	}) {
		req.Roots = append(req.Roots, MustParseDependency(c))
	}
	for _, r := range rels {
		if rng.IntN(9) == 0 {
			req.Excluded = append(req.Excluded, ReleaseRef{Name: r.Name, Version: r.Version})
		}
	}
	if rng.IntN(4) == 0 {
		l := rels[rng.IntN(len(rels))]
		excluded := slices.ContainsFunc(req.Excluded, func(x ReleaseRef) bool { return x.Name == l.Name && x.Version.Equal(l.Version) })
		req.Locked = []ReleaseRef{{Name: l.Name, Version: l.Version}}
		req.Policy.AllowLockChanges = excluded || rng.IntN(2) == 0
	}
	req.Policy.AllowCycles = rng.IntN(2) == 0
	return rels, req
}

// cyclic reports whether plan p (its part the request reaches) has a
// dependency cycle.
func cyclic(t *testing.T, u *Universe, req Request, p *Plan) bool {
	req.Policy.AllowCycles = true
	built, err := buildPlan(u, req, p.Releases, true)
	if err != nil {
		t.Fatal(err)
	}
	return len(built.Cycles) > 0
}

// TestPropertyAgainstBruteForce: on random small universes, every plan the
// resolver returns passes the independent checker and no valid plan
// brute force finds is preferred to it; whenever it says "no solution",
// brute force finds none either, and the conflict is a real MUS. The first
// 400 universes are of the classic shape (cycles allowed), checked against
// the legacy search too; the next 400 are of the harder shapes, half of
// them with cycles forbidden: then the plan is the best one without a
// cycle, and a *CycleError comes exactly when every valid plan has one,
// with a minimal set of facts that forces it.
func TestPropertyAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	counts := map[string]int{}
	learned := 0
	observe := func(st searchStats) {
		if st.learned > 0 {
			learned++
		}
	}
	for i := range 800 {
		harder := i >= 400
		rels, req := randomUniverse(rng)
		if harder {
			rels, req = harderRandomUniverse(rng)
		} else {
			req.Policy.AllowCycles = true
		}
		u, err := NewUniverse(rels...)
		if err != nil {
			t.Fatal(err)
		}
		r := NewSATResolver(ResolverConfig{})
		r.observe = observe
		plan, err := r.Resolve(context.Background(), u, req)
		if req.Policy.AllowCycles {
			// The legacy search with the solver as its oracle from the
			// first dead end reaches the same answer.
			old, oerr := legacyResolver(ResolverConfig{}, -1).Resolve(context.Background(), u, req)
			if (err == nil) != (oerr == nil) || (err == nil && versions(plan) != versions(old)) {
				t.Fatalf("case %d: learning %v (%v), legacy %v (%v)", i, plan, err, old, oerr)
			}
		}
		all := bruteForce(u, req)
		valid := all
		if !req.Policy.AllowCycles {
			valid = slices.DeleteFunc(slices.Clone(all), func(p *Plan) bool { return cyclic(t, u, req, p) })
		}
		valid = fewestLockChanges(valid, req)
		var ue *UnsatisfiableError
		var ce *CycleError
		switch {
		case errors.As(err, &ue):
			counts["unsolvable"]++
			if len(all) > 0 {
				t.Fatalf("case %d: resolver says no solution, brute force found %v\nrequest %+v", i, all[0].Releases, req)
			}
			isMUS(t, u, req, ue.Conflict)
			checkRepairs(t, i, u, req, ue.Repairs)
		case errors.As(err, &ce):
			counts["cycle errors"]++
			if req.Policy.AllowCycles || len(valid) > 0 || len(all) == 0 {
				t.Fatalf("case %d: cycle error %v, but brute force finds %d plans without a cycle and %d with", i, ce, len(valid), len(all))
			}
			if len(ce.Cycles) == 0 {
				t.Fatalf("case %d: cycle error without cycles", i)
			}
			forcesCycleMinimally(t, i, u, req, ce.Facts)
		case err != nil:
			t.Fatalf("case %d: %v", i, err)
		default:
			counts["solved"]++
			if err := Check(u, req, plan); err != nil {
				t.Fatalf("case %d: resolver's plan fails the checker: %v", i, err)
			}
			if !req.Policy.AllowCycles && cyclic(t, u, req, plan) {
				t.Fatalf("case %d: plan %v has a cycle although cycles are forbidden", i, plan)
			}
			if !plan.Optimal {
				t.Fatalf("case %d: plan not proven optimal", i)
			}
			best := preferenceKey(t, u, req, NewestFirst, plan)
			for _, p := range valid {
				if k := preferenceKey(t, u, req, NewestFirst, p); slices.Compare(k, best) < 0 {
					t.Fatalf("case %d: brute force found %v, preferred (%v) to the resolver's %v (%v)", i, p.Releases, k, plan.Releases, best)
				}
			}
			if !req.Policy.AllowCycles && len(valid) < len(fewestLockChanges(all, req)) {
				counts["solved avoiding a cycle"]++
			}
		}
	}
	if learned < 20 {
		t.Errorf("only %d searches learned a clause: the learning went untested", learned)
	}
	if counts["solved"] < 200 || counts["unsolvable"] < 40 || counts["cycle errors"] < 10 || counts["solved avoiding a cycle"] < 10 {
		t.Errorf("random cases too one-sided: %v", counts)
	}
	t.Logf("%v; %d searches learned", counts, learned)
}

// forcesCycleMinimally checks, by brute force over every plan, that the
// facts leave no plan without a cycle and that without any one of them
// some plan has none. Requirements among the facts draw their edges,
// optional dependencies always do; one version per package holds.
func forcesCycleMinimally(t *testing.T, i int, u *Universe, req Request, facts []Fact) {
	t.Helper()
	if len(facts) == 0 {
		t.Fatalf("case %d: a cycle error without facts", i)
	}
	names := u.Packages()
	forces := func(fs []Fact) bool {
		holds := func(chosen map[string]*Release) bool {
			for _, f := range fs {
				switch f.Kind {
				case FactRoot:
					if !anyChosen(u, chosen, f.Dependency) {
						return false
					}
				case FactRequires:
					if chosen[f.Release.Name] == f.Release && !anyChosen(u, chosen, f.Dependency) {
						return false
					}
				case FactConflicts:
					if chosen[f.Release.Name] == f.Release {
						for _, c := range chosenCandidates(u, chosen, f.Dependency) {
							if c != f.Release {
								return false
							}
						}
					}
				case FactLocked:
					if chosen[f.Release.Name] != f.Release {
						return false
					}
				case FactExcluded:
					if chosen[f.Release.Name] == f.Release {
						return false
					}
				default:
					t.Fatalf("case %d: unexpected fact %v", i, f)
				}
			}
			return true
		}
		acyclic := func(chosen map[string]*Release) bool {
			edges := map[string][]string{}
			for name, r := range chosen {
				var ds []Dependency
				ds = append(ds, r.Optional...)
				for _, d := range r.Requires {
					if slices.ContainsFunc(fs, func(f Fact) bool {
						return f.Kind == FactRequires && f.Release == r && f.Dependency.Name == d.Name && f.Dependency.Constraint == d.Constraint
					}) {
						ds = append(ds, d)
					}
				}
				for _, d := range ds {
					for _, c := range chosenCandidates(u, chosen, d) {
						if c.Name != name {
							edges[name] = append(edges[name], c.Name)
						}
					}
				}
			}
			_, cycles := installOrder(chosen, edges)
			return len(cycles) == 0
		}
		free := false
		var walk func(k int, chosen map[string]*Release)
		walk = func(k int, chosen map[string]*Release) {
			if free {
				return
			}
			if k == len(names) {
				free = holds(chosen) && acyclic(chosen)
				return
			}
			walk(k+1, chosen)
			for _, r := range u.Releases(names[k]) {
				chosen[names[k]] = r
				walk(k+1, chosen)
				delete(chosen, names[k])
			}
		}
		walk(0, map[string]*Release{})
		return !free
	}
	if !forces(facts) {
		t.Fatalf("case %d: the facts %v leave a plan without a cycle", i, facts)
	}
	for k := range facts {
		if forces(slices.Delete(slices.Clone(facts), k, k+1)) {
			t.Fatalf("case %d: the facts %v are not minimal: %v is not needed", i, facts, facts[k])
		}
	}
}

// repairCost is what a set of repairs costs, by the default CostModel.
func repairCost(reps []Repair) int { return costOf(CostModel{}, reps) }

// applyRepairs edits req as the repairs say (a widened root allows every
// version, as the resolver's relaxation does).
func applyRepairs(req Request, reps []Repair) Request {
	out := req
	out.Roots, out.Locked, out.Excluded = nil, nil, nil
	find := func(kind FactKind, text string) *Repair {
		for i, r := range reps {
			if r.Fact.Kind == kind && (r.Fact.Dependency.String() == text || (r.Fact.Release != nil && r.Fact.Release.ID() == text)) {
				return &reps[i]
			}
		}
		return nil
	}
	for _, d := range req.Roots {
		switch r := find(FactRoot, d.String()); {
		case r == nil:
			out.Roots = append(out.Roots, d)
		case !r.Drop:
			out.Roots = append(out.Roots, Dependency{Name: d.Name})
		}
	}
	for _, l := range req.Locked {
		if find(FactLocked, l.String()) == nil {
			out.Locked = append(out.Locked, l)
		}
	}
	for _, x := range req.Excluded {
		if find(FactExcluded, x.String()) == nil {
			out.Excluded = append(out.Excluded, x)
		}
	}
	return out
}

// checkRepairs checks, by brute force, that the repairs make the request
// solvable and that no cheaper edits of the user's facts do; with cycles
// forbidden, a plan with a cycle does not count.
func checkRepairs(t *testing.T, i int, u *Universe, req Request, reps []Repair) {
	t.Helper()
	solvable := func(edited Request) bool {
		for _, p := range bruteForce(u, edited) {
			if edited.Policy.AllowCycles || !cyclic(t, u, edited, p) {
				return true
			}
		}
		return false
	}
	// Every combination of edits: each root kept, widened or dropped,
	// each lock kept or released, each exclusion kept or lifted.
	var facts []Fact
	facts = append(facts, userFacts(u, req)...)
	best := -1
	var walk func(k int, chosen []Repair)
	walk = func(k int, chosen []Repair) {
		if k == len(facts) {
			edited := applyRepairs(req, chosen)
			if len(edited.Roots) > 0 && solvable(edited) {
				if c := repairCost(chosen); best < 0 || c < best {
					best = c
				}
			}
			return
		}
		walk(k+1, chosen)
		f := facts[k]
		walk(k+1, append(slices.Clone(chosen), Repair{Fact: f}))
		if f.Kind == FactRoot {
			walk(k+1, append(slices.Clone(chosen), Repair{Fact: f, Drop: true}))
		}
	}
	walk(0, nil)
	if len(reps) == 0 {
		if best >= 0 {
			t.Fatalf("case %d: no repair offered, brute force finds edits costing %d", i, best)
		}
		return
	}
	edited := applyRepairs(req, reps)
	if !solvable(edited) {
		t.Fatalf("case %d: the repairs %v leave the request unsolvable", i, reps)
	}
	if got := repairCost(reps); got != best {
		t.Fatalf("case %d: repairs %v cost %d, brute force finds %d", i, reps, got, best)
	}
}
