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
	"github.com/go-logr/logr/funcr"
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
	in, err := preferenceInput(u, req, 1<<20)
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
		slices.SortStableFunc(pkgs, func(a, b string) int { return rankOf(a) - rankOf(b) })
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

// TestPropertyAgainstBruteForce: on random small universes, every plan the
// SAT resolver returns passes the independent checker and no valid plan
// brute force finds is preferred to it; whenever it says "no solution",
// brute force finds none either, and the conflict is a real MUS.
func TestPropertyAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var solved, unsolved, solverCalls int
	solverUse := funcr.New(func(_, args string) {
		if strings.Contains(args, "search budget spent") {
			solverCalls++
		}
	}, funcr.Options{Verbosity: 1})
	for i := range 400 {
		rels, req := randomUniverse(rng)
		u, err := NewUniverse(rels...)
		if err != nil {
			t.Fatal(err)
		}
		req.Policy.AllowCycles = true
		plan, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
		// The solver-backed path (a negative budget: no backjumping) must reach the same answer.
		viaSolver, serr := NewSATResolver(ResolverConfig{SearchBudget: -1, Logger: solverUse}).Resolve(context.Background(), u, req)
		if (err == nil) != (serr == nil) || (err == nil && versions(plan) != versions(viaSolver)) {
			t.Fatalf("case %d: backjumping %v (%v), solver %v (%v)", i, plan, err, viaSolver, serr)
		}
		valid := fewestLockChanges(bruteForce(u, req), req)
		var ue *UnsatisfiableError
		switch {
		case errors.As(err, &ue):
			unsolved++
			if len(valid) > 0 {
				t.Fatalf("case %d: resolver says no solution, brute force found %v\nrequest %+v", i, valid[0].Releases, req)
			}
			isMUS(t, u, req, ue.Conflict)
			checkRepairs(t, i, u, req, ue.Repairs)
		case err != nil:
			t.Fatalf("case %d: %v", i, err)
		default:
			solved++
			if err := Check(u, req, plan); err != nil {
				t.Fatalf("case %d: resolver's plan fails the checker: %v", i, err)
			}
			best := preferenceKey(t, u, req, NewestFirst, plan)
			for _, p := range valid {
				if k := preferenceKey(t, u, req, NewestFirst, p); slices.Compare(k, best) < 0 {
					t.Fatalf("case %d: brute force found %v, preferred (%v) to the resolver's %v (%v)", i, p.Releases, k, plan.Releases, best)
				}
			}
		}
	}
	if solverCalls == 0 {
		t.Error("no case reached a dead end: the solver-backed path went untested")
	}
	if solved < 50 || unsolved < 20 {
		t.Errorf("random cases too one-sided: %d solved, %d unsolvable", solved, unsolved)
	}
	t.Logf("%d solved, %d unsolvable, %d through the solver", solved, unsolved, solverCalls)
}

// repairCost is what a set of repairs costs, by the resolver's prices.
func repairCost(reps []Repair) int {
	cost := 0
	for _, r := range reps {
		switch {
		case r.Fact.Kind == FactRoot && r.Drop:
			cost += costDrop
		case r.Fact.Kind == FactRoot:
			cost += costWiden
		case r.Fact.Kind == FactLocked:
			cost += costRelease
		case r.Fact.Kind == FactExcluded:
			cost += costLift
		}
	}
	return cost
}

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
// solvable and that no cheaper edits of the user's facts do.
func checkRepairs(t *testing.T, i int, u *Universe, req Request, reps []Repair) {
	t.Helper()
	// Every combination of edits: each root kept, widened or dropped,
	// each lock kept or released, each exclusion kept or lifted.
	var facts []Fact
	facts = append(facts, userFacts(u, req)...)
	best := -1
	var walk func(k int, chosen []Repair)
	walk = func(k int, chosen []Repair) {
		if k == len(facts) {
			edited := applyRepairs(req, chosen)
			if len(edited.Roots) > 0 && len(bruteForce(u, edited)) > 0 {
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
	if len(bruteForce(u, edited)) == 0 {
		t.Fatalf("case %d: the repairs %v leave the request unsolvable", i, reps)
	}
	if got := repairCost(reps); got != best {
		t.Fatalf("case %d: repairs %v cost %d, brute force finds %d", i, reps, got, best)
	}
}
