package deps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// randomUniverse makes a small universe of packages p0..p(n-1) with 1-3
// versions each, random dependency ranges, conflicts and optional
// dependencies, and a random request.
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
// resolver: for each package in order, the index of the plan's choice among
// the package's choices, then, for each optional dependency of the chosen
// release, 0 when the plan satisfies it and 1 when not. Lower is better.
func preferenceKey(e *encoding, pref Preference, p *Plan) []int {
	in := PreferenceInput{Packages: e.packages, Locked: map[string]*Release{}, Reached: e.reached}
	for _, d := range e.req.Roots {
		if !slices.Contains(in.Roots, d.Name) {
			in.Roots = append(in.Roots, d.Name)
		}
	}
	var key []int
	for _, pkg := range pref.Order(in) {
		chosen := p.Releases[pkg]
		choices := pref.Choices(in, pkg)
		idx := slices.Index(choices, chosen)
		if idx < 0 { // a release the request cannot reach: worse than any choice
			idx = len(choices)
		}
		key = append(key, idx)
		if chosen == nil {
			continue
		}
		for _, d := range chosen.Optional {
			if satisfiedBy(e.u, d, p) {
				key = append(key, 0)
			} else {
				key = append(key, 1)
			}
		}
	}
	return key
}

// TestPropertyAgainstBruteForce: on random small universes, every plan the
// SAT resolver returns passes the independent checker and no valid plan
// brute force finds is preferred to it; whenever it says "no solution",
// brute force finds none either, and the conflict is a real MUS.
func TestPropertyAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var solved, unsolved int
	for i := range 400 {
		rels, req := randomUniverse(rng)
		u, err := NewUniverse(rels...)
		if err != nil {
			t.Fatal(err)
		}
		req.Policy.AllowCycles = true
		plan, err := NewSATResolver().Resolve(context.Background(), u, req)
		valid := bruteForce(u, req)
		var ue *UnsatisfiableError
		switch {
		case errors.As(err, &ue):
			unsolved++
			if len(valid) > 0 {
				t.Fatalf("case %d: resolver says no solution, brute force found %v\nrequest %+v", i, valid[0].Releases, req)
			}
			isMUS(t, u, req, ue.Conflict)
		case err != nil:
			t.Fatalf("case %d: %v", i, err)
		default:
			solved++
			if err := Check(u, req, plan); err != nil {
				t.Fatalf("case %d: resolver's plan fails the checker: %v", i, err)
			}
			e, err := encode(u, req, 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			best := preferenceKey(e, NewestFirst, plan)
			for _, p := range valid {
				if k := preferenceKey(e, NewestFirst, p); slices.Compare(k, best) < 0 {
					t.Fatalf("case %d: brute force found %v, preferred (%v) to the resolver's %v (%v)", i, p.Releases, k, plan.Releases, best)
				}
			}
		}
	}
	if solved < 50 || unsolved < 20 {
		t.Errorf("random cases too one-sided: %d solved, %d unsolvable", solved, unsolved)
	}
	t.Logf("%d solved, %d unsolvable", solved, unsolved)
}
