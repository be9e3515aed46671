package deps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

// syntheticUniverse makes n packages x 10 versions, each version depending
// on 5 packages of higher index (so no cycles), with constraints shaped like
// real ones: mostly lower bounds (">=1.3.0"), one in five a bounded range
// (">=1.2.0, <1.8.0"), so that some packages cannot take their newest
// version. Roots are 10 low-index packages, whose dependencies reach most of
// the universe. With unsat, two extra roots ask for incompatible ranges of
// one package deep in the universe.
func syntheticUniverse(tb testing.TB, n int, unsat bool) (*Universe, Request) {
	return boundedUniverse(tb, n, 20, unsat)
}

// harderUniverse is syntheticUniverse with one dependency in five bounded
// above: far more releases are ruled out by ranges, and a release's newest
// dependencies often cannot go together.
func harderUniverse(tb testing.TB, n int) (*Universe, Request) {
	return boundedUniverse(tb, n, 5, false)
}

// boundedUniverse is the synthetic universe with one dependency in
// oneIn bounded above.
func boundedUniverse(tb testing.TB, n, oneIn int, unsat bool) (*Universe, Request) {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	u := &Universe{releases: map[string][]*Release{}, providers: map[string][]providerEntry{}}
	name := func(i int) string { return fmt.Sprintf("pkg-%d", i) }
	for i := range n {
		for v := range 10 {
			r := &Release{Name: name(i), Version: semver.New(1, uint64(v), 0, "", "")}
			if i < n-1 {
				for range 5 {
					j := i + 1 + rng.IntN(min(n-i-1, 200))
					lo := rng.IntN(6)
					c := fmt.Sprintf("%s >=1.%d.0", name(j), lo)
					if rng.IntN(oneIn) == 0 {
						c += fmt.Sprintf(", <1.%d.0", lo+3+rng.IntN(5))
					}
					r.Requires = append(r.Requires, MustParseDependency(c))
				}
			}
			if err := u.Add(r); err != nil {
				tb.Fatal(err)
			}
		}
	}
	req := Request{}
	for i := range 10 {
		req.Roots = append(req.Roots, MustParseDependency(name(i)))
	}
	if unsat {
		deep := name(n / 2)
		for _, r := range []*Release{
			{Name: "left", Version: semver.MustParse("1.0.0"), Requires: []Dependency{MustParseDependency(deep + " >=1.8.0")}},
			{Name: "right", Version: semver.MustParse("1.0.0"), Requires: []Dependency{MustParseDependency(deep + " <1.2.0")}},
		} {
			if err := u.Add(r); err != nil {
				tb.Fatal(err)
			}
		}
		req.Roots = append(req.Roots, MustParseDependency("left"), MustParseDependency("right"))
	}
	return u, req
}

// resolveBudget bounds one resolution in the benchmarks.
const resolveBudget = 60 * time.Second

// BenchmarkResolve plans the synthetic universes. "solver-oracle" plans the
// 1,000-package one with a zero search budget, so that the SAT solver
// answers every dead end instead of backjumping: the same plan, side by
// side.
func BenchmarkResolve(b *testing.B) {
	type mode struct {
		name string
		n    int
		cfg  ResolverConfig
	}
	for _, m := range []mode{{"packages=1000", 1000, ResolverConfig{}}, {"packages=10000", 10000, ResolverConfig{}}, {"solver-oracle/packages=1000", 1000, ResolverConfig{SearchBudget: -1}}} {
		u, req := syntheticUniverse(b, m.n, false)
		b.Run(m.name, func(b *testing.B) {
			var p *Plan
			optimal := 1.0
			for b.Loop() {
				// A budget, so that a slow case ends with the best plan found.
				ctx, cancel := context.WithTimeout(context.Background(), resolveBudget)
				var err error
				p, err = NewSATResolver(m.cfg).Resolve(ctx, u, req)
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				if !p.Optimal {
					optimal = 0
				}
			}
			if err := Check(u, req, p); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(p.Releases)), "packages-in-plan")
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/plan")
			b.ReportMetric(optimal, "proven-optimal")
		})
	}
}

func BenchmarkExplainUnsat(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		u, req := syntheticUniverse(b, n, true)
		b.Run(fmt.Sprintf("packages=%d", n), func(b *testing.B) {
			var ue *UnsatisfiableError
			for b.Loop() {
				_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
				if !errors.As(err, &ue) {
					b.Fatalf("err = %v, want *UnsatisfiableError", err)
				}
			}
			b.ReportMetric(float64(len(ue.Conflict)), "facts-in-conflict")
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/explanation")
		})
	}
}

// backtrack is a straightforward chronological backtracking resolver, kept
// here only to compare against: packages are decided in order of discovery,
// newest version first, and a dead end undoes the last decision. It gives up
// after maxSteps decisions.
func backtrack(u *Universe, req Request, maxSteps int) (map[string]*Release, int, error) {
	steps := 0
	var solve func(chosen map[string]*Release, pending []Dependency) (map[string]*Release, error)
	solve = func(chosen map[string]*Release, pending []Dependency) (map[string]*Release, error) {
		if steps > maxSteps {
			return nil, errors.New("step limit")
		}
		if len(pending) == 0 {
			return chosen, nil
		}
		d, rest := pending[0], pending[1:]
		if r, ok := chosen[d.Name]; ok {
			if !d.Allows(r.Version) {
				return nil, nil
			}
			return solve(chosen, rest)
		}
		for _, r := range u.Releases(d.Name) {
			if !d.Allows(r.Version) {
				continue
			}
			steps++
			if violatesPending(r, rest) {
				continue
			}
			chosen[d.Name] = r
			out, err := solve(chosen, append(append([]Dependency{}, rest...), r.Requires...))
			if out != nil || err != nil {
				return out, err
			}
			delete(chosen, d.Name)
		}
		return nil, nil
	}
	out, err := solve(map[string]*Release{}, req.Roots)
	return out, steps, err
}

func violatesPending(r *Release, pending []Dependency) bool {
	for _, d := range pending {
		if d.Name == r.Name && !d.Allows(r.Version) {
			return true
		}
	}
	return false
}

// hardForBacktracking: roots a1..ak (10 versions each, all compatible) and
// z, whose every version needs a1 <1.1 — but z is decided last, so
// chronological backtracking walks 10^(k-1) combinations before it revisits
// a1. The SAT solver learns the conflict once.
func hardForBacktracking(tb testing.TB, k int) (*Universe, Request) {
	var rels []*Release
	req := Request{}
	for i := 1; i <= k; i++ {
		name := fmt.Sprintf("a%d", i)
		for v := range 10 {
			rels = append(rels, &Release{Name: name, Version: semver.New(1, uint64(v), 0, "", "")})
		}
		req.Roots = append(req.Roots, MustParseDependency(name))
	}
	for v := range 3 {
		rels = append(rels, &Release{Name: "z", Version: semver.New(1, uint64(v), 0, "", ""), Requires: []Dependency{MustParseDependency("a1 <1.1")}})
	}
	req.Roots = append(req.Roots, MustParseDependency("z"))
	return universe(tb, rels...), req
}

// BenchmarkSATVersusBacktracking runs both resolvers on the same universes:
// a synthetic 1,000-package one, and the hard case.
func BenchmarkSATVersusBacktracking(b *testing.B) {
	type input struct {
		name string
		u    *Universe
		req  Request
	}
	u1k, r1k := syntheticUniverse(b, 1000, false)
	uh, rh := hardForBacktracking(b, 6)
	for _, in := range []input{{"synthetic-1000", u1k, r1k}, {"hard-k=6", uh, rh}} {
		b.Run(in.name+"/sat", func(b *testing.B) {
			for b.Loop() {
				if _, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), in.u, in.req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/backtracking", func(b *testing.B) {
			var steps int
			gaveUp := 0.0
			for b.Loop() {
				var err error
				var out map[string]*Release
				out, steps, err = backtrack(in.u, in.req, 5_000_000)
				switch {
				case err != nil:
					gaveUp = 1 // the step limit: its time is a lower bound
				case out == nil:
					b.Fatal("backtracking found no plan where one exists")
				}
			}
			b.ReportMetric(float64(steps), "decisions")
			b.ReportMetric(gaveUp, "gave-up")
		})
	}
}

// TestBacktrackingAgreesOnSmallCases keeps the comparison honest: on the
// hard case with few packages, both resolvers find valid plans.
func TestBacktrackingAgreesOnSmallCases(t *testing.T) {
	u, req := hardForBacktracking(t, 3)
	start := time.Now()
	out, steps, err := backtrack(u, req, 1_000_000)
	if err != nil || out == nil {
		t.Fatalf("backtracking failed: %v", err)
	}
	if err := Check(u, req, &Plan{Releases: out}); err != nil {
		t.Fatalf("backtracking plan invalid: %v", err)
	}
	if steps < 100 {
		t.Errorf("hard case took only %d decisions; it should force backtracking", steps)
	}
	p, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Releases["a1"].Version.String() != "1.0.0" || out["a1"].Version.String() != "1.0.0" {
		t.Errorf("a1: sat %s, backtracking %s; want 1.0.0", p.Releases["a1"].Version, out["a1"].Version)
	}
	t.Logf("backtracking: %d decisions in %s", steps, time.Since(start))
}
