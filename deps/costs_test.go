package deps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// repairTexts resolves req over u, which must fail, and returns its
// repairs in words.
func repairTexts(t *testing.T, u *Universe, req Request) []string {
	t.Helper()
	_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *UnsatisfiableError", err)
	}
	var out []string
	for _, r := range ue.Repairs {
		out = append(out, r.String())
	}
	return out
}

func mustUniverse(t *testing.T, rels ...*Release) *Universe {
	t.Helper()
	u, err := NewUniverse(rels...)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func dependencies(texts ...string) []Dependency {
	var out []Dependency
	for _, s := range texts {
		out = append(out, MustParseDependency(s))
	}
	return out
}

// The cost model decides which repair is proposed: each field changes the
// answer on a request where it matters.
func TestCostModelChoosesRepairs(t *testing.T) {
	// a@2 and b@2 conflict with d: widen a and b (2+2) or drop d (5).
	twoWidens := mustUniverse(t,
		NewRelease("a", "1.0.0"), NewRelease("a", "2.0.0", Conflicts("d")),
		NewRelease("b", "1.0.0"), NewRelease("b", "2.0.0", Conflicts("d")),
		NewRelease("d", "1.0.0"))
	twoWidensReq := Request{Roots: dependencies("a =2.0.0", "b =2.0.0", "d")}
	// x conflicts with y and neither has another version: drop one of them.
	dropOne := mustUniverse(t, NewRelease("x", "1.0.0", Conflicts("y")), NewRelease("y", "1.0.0"))
	dropOneReq := Request{Roots: dependencies("x", "y")}
	// smf needs upf >=1.3, upf is locked at 1.2.0 and 1.4.0 is excluded:
	// release the lock (to 1.3.0), or lift the exclusion too.
	locked := mustUniverse(t,
		NewRelease("smf", "1.0.0", Requires("upf", ">=1.3")),
		NewRelease("upf", "1.2.0"), NewRelease("upf", "1.3.0"), NewRelease("upf", "1.4.0"))
	lockedReq := Request{Roots: dependencies("smf"), Locked: []ReleaseRef{MustParseReleaseRef("upf@1.2.0")}}
	// Both nrf releases are excluded: lift one exclusion.
	excluded := mustUniverse(t, NewRelease("nrf", "1.0.0"), NewRelease("nrf", "2.0.0"))
	excludedReq := Request{Roots: dependencies("nrf"), Excluded: []ReleaseRef{MustParseReleaseRef("nrf@1.0.0"), MustParseReleaseRef("nrf@2.0.0")}}

	for _, c := range []struct {
		name  string
		u     *Universe
		req   Request
		costs CostModel
		want  []string
	}{
		{"default widens twice rather than drop", twoWidens, twoWidensReq, CostModel{},
			[]string{"allow a <=1.0.0 instead of a =2.0.0", "allow b <=1.0.0 instead of b =2.0.0"}},
		{"cheap drop", twoWidens, twoWidensReq, CostModel{DropRoot: 3}, []string{"drop the request for d"}},
		{"widening forbidden", twoWidens, twoWidensReq, CostModel{Widen: -1}, []string{"drop the request for d"}},
		{"dropping forbidden", twoWidens, twoWidensReq, CostModel{DropRoot: -1, Widen: 100},
			[]string{"allow a <=1.0.0 instead of a =2.0.0", "allow b <=1.0.0 instead of b =2.0.0"}},
		{"ties drop the latest root", dropOne, dropOneReq, CostModel{}, []string{"drop the request for y"}},
		{"ties drop the earliest root", dropOne, dropOneReq, CostModel{TieBreak: TieBreakEarliest}, []string{"drop the request for x"}},
		{"release the lock", locked, lockedReq, CostModel{}, []string{"let upf move from 1.2.0 to 1.4.0"}},
		{"releasing forbidden", locked, lockedReq, CostModel{ReleaseLock: -1}, nil},
		{"latest exclusion lifted", excluded, excludedReq, CostModel{}, []string{"allow the excluded nrf@2.0.0"}},
		{"earliest exclusion lifted", excluded, excludedReq, CostModel{TieBreak: TieBreakEarliest}, []string{"allow the excluded nrf@1.0.0"}},
		{"lifting forbidden", excluded, excludedReq, CostModel{LiftExclusion: -1}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := c.req
			req.Policy.Costs = c.costs
			if got := repairTexts(t, c.u, req); !slices.Equal(got, c.want) {
				t.Errorf("repairs = %q, want %q", got, c.want)
			}
		})
	}
}

// A cost model the resolver cannot use is an ErrInvalidRequest naming the
// field, not a silently different answer.
func TestCostModelValidation(t *testing.T) {
	u := mustUniverse(t, NewRelease("x", "1.0.0", Conflicts("y")), NewRelease("y", "1.0.0"))
	for _, c := range []struct {
		costs CostModel
		field string
	}{
		{CostModel{DropRoot: MaxRepairCost + 1}, "Policy.Costs.DropRoot"},
		{CostModel{Widen: 1 << 40}, "Policy.Costs.Widen"},
		{CostModel{TieBreak: 7}, "Policy.Costs.TieBreak"},
	} {
		req := Request{Roots: dependencies("x", "y"), Policy: Policy{Costs: c.costs}}
		_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
		var ie *InputError
		if !errors.As(err, &ie) || !errors.Is(err, ErrInvalidRequest) || !strings.Contains(ie.Text, c.field) {
			t.Errorf("%+v: err = %v, want ErrInvalidRequest naming %s", c.costs, err, c.field)
		}
	}
	if err := (CostModel{Widen: MaxRepairCost, DropRoot: -5}).validate(); err != nil {
		t.Errorf("the largest cost and a forbidden edit are valid: %v", err)
	}
}

// costOf prices repairs by a cost model (with its defaults).
func costOf(m CostModel, reps []Repair) int {
	m = m.withDefaults()
	total := 0
	for _, r := range reps {
		switch {
		case r.Fact.Kind == FactRoot && r.Drop:
			total += m.DropRoot
		case r.Fact.Kind == FactRoot:
			total += m.Widen
		case r.Fact.Kind == FactLocked:
			total += m.ReleaseLock
		case r.Fact.Kind == FactExcluded:
			total += m.LiftExclusion
		}
	}
	return total
}

// editedRequest applies edits (one per user fact: 0 keep, 1 widen or
// release or lift, 2 drop) to req; false when an edit is forbidden or no
// root is left.
func editedRequest(req Request, m CostModel, facts []Fact, edits []int) (Request, int, bool) {
	m = m.withDefaults()
	out := req
	out.Roots, out.Locked, out.Excluded = nil, nil, nil
	cost := 0
	price := func(c int) bool { cost += c; return c >= 0 }
	for i, f := range facts {
		e := edits[i]
		switch f.Kind {
		case FactRoot:
			switch {
			case e == 0:
				out.Roots = append(out.Roots, f.Dependency)
			case e == 1:
				if !price(m.Widen) {
					return out, 0, false
				}
				out.Roots = append(out.Roots, Dependency{Name: f.Dependency.Name})
			default:
				if !price(m.DropRoot) {
					return out, 0, false
				}
			}
		case FactLocked:
			if e == 0 {
				out.Locked = append(out.Locked, ReleaseRef{Name: f.Package, Version: f.Release.Version})
			} else if !price(m.ReleaseLock) {
				return out, 0, false
			}
		case FactExcluded:
			if e == 0 {
				out.Excluded = append(out.Excluded, ReleaseRef{Name: f.Package, Version: f.Release.Version})
			} else if !price(m.LiftExclusion) {
				return out, 0, false
			}
		}
	}
	return out, cost, len(out.Roots) > 0
}

// TestRepairsAreCheapestUnderAnyCostModel: on random small requests and
// random cost models, the repairs cost what the cheapest edits that admit
// a plan cost (found by trying every combination of edits), and none when
// no allowed edits do; applied as Repair documents them (roots replaced or
// dropped, exclusions lifted, lock changes allowed), they admit a plan in
// which each lock repair's package is at its To.
func TestRepairsAreCheapestUnderAnyCostModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	names := []string{"a", "b", "c", "d"}
	vers := []string{"1.0.0", "2.0.0", "3.0.0"}
	randomDep := func(exclude string) string {
		n := names[rng.IntN(len(names))]
		for n == exclude {
			n = names[rng.IntN(len(names))]
		}
		switch rng.IntN(3) {
		case 0:
			return n
		case 1:
			return n + " >=" + vers[rng.IntN(3)]
		}
		return n + " <" + vers[rng.IntN(3)]
	}
	randomCost := func() int { return []int{-1, 0, 0, 1, 2, 3, 5}[rng.IntN(7)] }
	r := NewSATResolver(ResolverConfig{})
	checked := 0
	withLockRepairs, withoutRepairs := 0, 0
	for i := 0; i < 1000 && checked < 150; i++ {
		var rels []*Release
		for _, n := range names {
			for _, v := range vers[:1+rng.IntN(3)] {
				var opts []ReleaseOption
				for range rng.IntN(3) {
					d := MustParseDependency(randomDep(n))
					if rng.IntN(4) == 0 {
						opts = append(opts, &ReleaseOptions{Conflicts: []Dependency{d}})
					} else {
						opts = append(opts, &ReleaseOptions{Requires: []Dependency{d}})
					}
				}
				rels = append(rels, NewRelease(n, v, opts...))
			}
		}
		u := mustUniverse(t, rels...)
		req := Request{Roots: dependencies(randomDep(""))}
		if rng.IntN(2) == 0 {
			req.Roots = append(req.Roots, MustParseDependency(randomDep(req.Roots[0].Name)))
		}
		if rng.IntN(2) == 0 {
			rs := u.Releases(names[rng.IntN(len(names))])
			req.Locked = []ReleaseRef{{Name: rs[0].Name, Version: rs[rng.IntN(len(rs))].Version}}
		}
		for range rng.IntN(3) {
			rs := u.Releases(names[rng.IntN(len(names))])
			x := ReleaseRef{Name: rs[0].Name, Version: rs[rng.IntN(len(rs))].Version}
			if len(req.Locked) > 0 && req.Locked[0].String() == x.String() {
				continue
			}
			req.Excluded = append(req.Excluded, x)
		}
		// Repairs do not weigh the cycle policy (a plan with a cycle is
		// still a plan), so cycles are allowed here.
		req.Policy.AllowCycles = true
		req.Policy.Costs = CostModel{Widen: randomCost(), ReleaseLock: randomCost(), LiftExclusion: randomCost(), DropRoot: randomCost(), TieBreak: TieBreak(rng.IntN(2))}
		_, err := r.Resolve(context.Background(), u, req)
		var ue *UnsatisfiableError
		if !errors.As(err, &ue) {
			continue
		}
		checked++
		facts := userFacts(u, req)
		best := -1
		edits := make([]int, len(facts))
		var walk func(k int)
		walk = func(k int) {
			if k == len(facts) {
				if edited, cost, ok := editedRequest(req, req.Policy.Costs, facts, edits); ok && (best < 0 || cost < best) {
					if _, err := r.Resolve(context.Background(), u, edited); err == nil {
						best = cost
					}
				}
				return
			}
			top := 1
			if facts[k].Kind == FactRoot {
				top = 2
			}
			for e := 0; e <= top; e++ {
				edits[k] = e
				walk(k + 1)
			}
			edits[k] = 0
		}
		walk(0)
		label := fmt.Sprintf("case %d (%v, locks %v, excluded %v, costs %+v, universe %v)", i, req.Roots, req.Locked, req.Excluded, req.Policy.Costs, rels)
		if best < 0 {
			if len(ue.Repairs) > 0 {
				t.Fatalf("%s: repairs %v, but no allowed edits admit a plan", label, ue.Repairs)
			}
			withoutRepairs++
			continue
		}
		if got := costOf(req.Policy.Costs, ue.Repairs); len(ue.Repairs) == 0 || got != best {
			t.Fatalf("%s: repairs %v cost %d, the cheapest edits cost %d", label, ue.Repairs, got, best)
		}
		checkRepairsApply(t, label, u, req, ue.Repairs)
		if slices.ContainsFunc(ue.Repairs, func(r Repair) bool { return r.Fact.Kind == FactLocked }) {
			withLockRepairs++
		}
	}
	if checked < 100 || withLockRepairs < 10 || withoutRepairs < 5 {
		t.Fatalf("random cases too one-sided: %d unsatisfiable, %d with lock repairs, %d without repairs", checked, withLockRepairs, withoutRepairs)
	}
	t.Logf("%d unsatisfiable requests, %d with lock repairs, %d without repairs", checked, withLockRepairs, withoutRepairs)
}

// checkRepairsApply applies repairs as Repair documents them and checks
// that the resolver's plan then moves each repaired lock to its To and
// keeps the other locks.
func checkRepairsApply(t *testing.T, label string, u *Universe, req Request, reps []Repair) {
	t.Helper()
	edited := req
	edited.Roots, edited.Excluded = nil, nil
	for _, d := range req.Roots {
		i := slices.IndexFunc(reps, func(r Repair) bool { return r.Fact.Kind == FactRoot && r.Fact.Dependency.String() == d.String() })
		switch {
		case i < 0:
			edited.Roots = append(edited.Roots, d)
		case reps[i].Replace != nil:
			edited.Roots = append(edited.Roots, *reps[i].Replace)
		}
	}
	for _, x := range req.Excluded {
		if !slices.ContainsFunc(reps, func(r Repair) bool { return r.Fact.Kind == FactExcluded && r.Fact.Release.ID() == x.String() }) {
			edited.Excluded = append(edited.Excluded, x)
		}
	}
	moves := map[string]*Release{}
	for _, r := range reps {
		if r.Fact.Kind == FactLocked {
			moves[r.Fact.Package] = r.To
			edited.Policy.AllowLockChanges = true
		}
	}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, edited)
	if err != nil {
		t.Fatalf("%s: the request with the repairs %v applied fails: %v", label, reps, err)
	}
	for _, l := range req.Locked {
		want, moved := moves[l.Name]
		if !moved {
			want = u.Release(l.Name, l.Version)
		}
		if p.Releases[l.Name] != want {
			t.Fatalf("%s: repairs %v: the resolver puts %s at %v, the repairs say %v", label, reps, l.Name, p.Releases[l.Name], want)
		}
	}
}
