package deps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/Masterminds/semver/v3"
)

// syntheticUniverse makes n packages x 10 versions, each version depending
// on 5 packages of higher index (so no cycles), with constraints shaped like
// real ones: mostly lower bounds (">=1.3.0"), one in twenty a bounded range
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
		req = incompatibleRoots(tb, u, req, name(n/2))
	}
	return u, req
}

// incompatibleRoots adds two roots to req that need incompatible versions
// of the package deep (>=1.8.0 and <1.2.0), so that no plan exists.
func incompatibleRoots(tb testing.TB, u *Universe, req Request, deep string) Request {
	for _, r := range []*Release{
		{Name: "left", Version: semver.MustParse("1.0.0"), Requires: []Dependency{MustParseDependency(deep + " >=1.8.0")}},
		{Name: "right", Version: semver.MustParse("1.0.0"), Requires: []Dependency{MustParseDependency(deep + " <1.2.0")}},
	} {
		if err := u.Add(r); err != nil {
			tb.Fatal(err)
		}
	}
	req.Roots = append(slices.Clone(req.Roots), MustParseDependency("left"), MustParseDependency("right"))
	return req
}

// alternativesUniverse makes n packages x 10 versions: n/2 components
// and n/2 providers. The providers come in groups of 8 per capability:
// prov-c-k provides cap-c at its own version, and the providers of one
// capability exclude each other (each release conflicts with the
// capability it provides), so a need on a capability has up to 80
// candidate releases across 8 packages of which at most one may be in
// the plan, and every need on it must agree on that one. Each component
// version requires 2 components of higher index and 1 or 2 capabilities
// "ahead" of it, each provider version one component ahead of its group;
// ranges are lower bounds, one in five bounded above as in
// harderUniverse. The request asks for 10 components and excludes the
// newest release of one package in ten.
func alternativesUniverse(tb testing.TB, n int) (*Universe, Request) {
	rng := rand.New(rand.NewPCG(uint64(n), 11))
	u := &Universe{releases: map[string][]*Release{}, providers: map[string][]providerEntry{}}
	m := n / 2
	caps := m / 8
	comp := func(i int) string { return fmt.Sprintf("comp-%d", i) }
	capName := func(c int) string { return fmt.Sprintf("cap-%d", c) }
	bounded := func(target string) Dependency {
		lo := rng.IntN(6)
		c := fmt.Sprintf("%s >=1.%d.0", target, lo)
		if rng.IntN(5) == 0 {
			c += fmt.Sprintf(", <1.%d.0", lo+3+rng.IntN(5))
		}
		return MustParseDependency(c)
	}
	add := func(r *Release) {
		if err := u.Add(r); err != nil {
			tb.Fatal(err)
		}
	}
	var names []string
	for i := range m {
		names = append(names, comp(i))
		for v := range 10 {
			r := &Release{Name: comp(i), Version: semver.New(1, uint64(v), 0, "", "")}
			if i < m-1 {
				for range 2 {
					r.Requires = append(r.Requires, bounded(comp(i+1+rng.IntN(min(m-i-1, 100)))))
				}
			}
			if c := (i + 1 + rng.IntN(100)) / 8; c < caps {
				r.Requires = append(r.Requires, bounded(capName(c)))
				if c2 := (i + 1 + rng.IntN(100)) / 8; rng.IntN(2) == 0 && c2 < caps && c2 != c {
					r.Requires = append(r.Requires, bounded(capName(c2)))
				}
			}
			add(r)
		}
	}
	for c := range caps {
		for k := range 8 {
			name := fmt.Sprintf("prov-%d-%d", c, k)
			names = append(names, name)
			for v := range 10 {
				version := semver.New(1, uint64(v), 0, "", "")
				r := &Release{Name: name, Version: version,
					Provides:  []Capability{{Name: capName(c), Version: version}},
					Conflicts: []Dependency{MustParseDependency(capName(c))}}
				if j := 8*c + 1 + rng.IntN(100); j < m {
					r.Requires = append(r.Requires, bounded(comp(j)))
				}
				add(r)
			}
		}
	}
	req := Request{}
	for i := range 10 {
		req.Roots = append(req.Roots, MustParseDependency(comp(i)))
	}
	for i := 0; i < len(names); i += 10 {
		req.Excluded = append(req.Excluded, ReleaseRef{Name: names[i], Version: semver.New(1, 9, 0, "", "")})
	}
	return u, req
}

// resolveBudget bounds one resolution in the benchmarks.
const resolveBudget = 60 * time.Second

// benchInput is a universe the benchmarks plan.
type benchInput struct {
	name string
	make func(testing.TB) (*Universe, Request)
	// legacy says whether to run the search before learning on it too
	// (on the hardest inputs it takes minutes).
	legacy bool
}

func benchInputs() []benchInput {
	return []benchInput{
		{"synthetic/packages=1000", func(tb testing.TB) (*Universe, Request) { return syntheticUniverse(tb, 1000, false) }, true},
		{"synthetic/packages=10000", func(tb testing.TB) (*Universe, Request) { return syntheticUniverse(tb, 10000, false) }, true},
		{"harder/packages=1000", func(tb testing.TB) (*Universe, Request) { return harderUniverse(tb, 1000) }, true},
		{"harder/packages=3000", func(tb testing.TB) (*Universe, Request) { return harderUniverse(tb, 3000) }, true},
		{"harder/packages=10000", func(tb testing.TB) (*Universe, Request) { return harderUniverse(tb, 10000) }, !testing.Short()},
		{"alternatives/packages=1000", func(tb testing.TB) (*Universe, Request) { return alternativesUniverse(tb, 1000) }, true},
		{"alternatives/packages=10000", func(tb testing.TB) (*Universe, Request) { return alternativesUniverse(tb, 10000) }, !testing.Short()},
	}
}

// timed resolves once under resolveBudget and returns the plan (nil on
// error), the time taken, how late after the budget it returned, and the
// error.
func timed(r *SATResolver, u *Universe, req Request) (*Plan, time.Duration, time.Duration, error) {
	runtime.GC() // each resolution starts from a collected heap, not another's garbage
	ctx, cancel := context.WithTimeout(context.Background(), resolveBudget)
	defer cancel()
	deadline, _ := ctx.Deadline()
	start := time.Now()
	p, err := r.Resolve(ctx, u, req)
	end := time.Now()
	return p, end.Sub(start), max(0, end.Sub(deadline)), err
}

// gophersatWholeUniverse encodes the whole request (every release within
// reach) and asks gophersat for any plan, the reference the search is
// compared with: it proves nothing about the preference.
func gophersatWholeUniverse(tb testing.TB, u *Universe, req Request) time.Duration {
	runtime.GC()
	start := time.Now()
	e, err := encode(u, req, DefaultMaxReleases, -1, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if !e.sat(e.facts) {
		tb.Fatal("gophersat finds no plan")
	}
	return time.Since(start)
}

// legacyRun resolves with the legacy search and compares its plan with
// the learning search's p: the time taken, how late after the deadline,
// whether its plan was proven optimal, and whether it refused the request
// with a *CycleError (its preferred plan has a cycle: it refuses a
// request the learning search solves without one).
func legacyRun(b *testing.B, u *Universe, req Request, p *Plan) (took, late time.Duration, optimal, refused bool) {
	old, took, late, err := timed(legacyResolver(ResolverConfig{}, 0), u, req)
	switch {
	case errors.Is(err, ErrCycle):
		return took, late, false, true
	case err != nil:
		b.Fatalf("legacy: %v", err)
	case old.Optimal && versions(old) != versions(p):
		b.Fatal("the legacy search's optimum differs")
	}
	return took, late, old.Optimal, false
}

// BenchmarkResolve plans the benchmark universes, side by side in each
// iteration with the search before learning (legacy: backjumping, then
// gophersat as its oracle past its budget, under the same 60 s deadline)
// and with gophersat alone over the whole universe (any plan, no
// preference). It reports each one's milliseconds per plan and the ratios
// to the learning search, whether each plan was proven optimal, how late
// after the deadline the legacy search returned, and whether it refused
// the request with a *CycleError (its preferred plan has a cycle; the
// learning search returns the best plan without one).
func BenchmarkResolve(b *testing.B) {
	for _, in := range benchInputs() {
		u, req := in.make(b)
		b.Run(in.name, func(b *testing.B) {
			var learning, legacy, sat, late time.Duration
			var p *Plan
			optimal, legacyOptimal, legacyRefused := 1.0, 1.0, 0.0
			for b.Loop() {
				var err error
				var took time.Duration
				p, took, _, err = timed(NewSATResolver(ResolverConfig{}), u, req)
				if err != nil {
					b.Fatal(err)
				}
				learning += took
				if !p.Optimal {
					optimal = 0
				}
				if in.legacy {
					took, lateness, ok, refused := legacyRun(b, u, req, p)
					if !ok {
						legacyOptimal = 0
					}
					if refused {
						legacyRefused = 1
					}
					legacy += took
					late = max(late, lateness)
				}
				sat += gophersatWholeUniverse(b, u, req)
			}
			if err := Check(u, req, p); err != nil {
				b.Fatal(err)
			}
			ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(len(p.Releases)), "packages-in-plan")
			b.ReportMetric(ms(learning), "ms/plan")
			b.ReportMetric(optimal, "proven-optimal")
			b.ReportMetric(ms(sat), "gophersat-ms")
			b.ReportMetric(float64(sat)/float64(learning), "gophersat/learning")
			if in.legacy {
				b.ReportMetric(ms(legacy), "legacy-ms")
				b.ReportMetric(float64(legacy)/float64(learning), "legacy/learning")
				b.ReportMetric(legacyOptimal, "legacy-proven-optimal")
				b.ReportMetric(late.Seconds(), "legacy-late-s")
				b.ReportMetric(legacyRefused, "legacy-cycle-error")
			}
		})
	}
}

// BenchmarkDeadline measures how late Resolve returns after its context's
// deadline on inputs it cannot finish in time: the learning search on
// the harder universe of 10,000 packages under deadlines of 10 to 100 ms
// (it plans that universe in about a quarter of a second, so a longer
// deadline would not cut it short),
// and the search before learning on the 3,000-package one under 1 s (its
// solver calls are not interrupted). It reports the largest lateness over
// the iterations and their median.
func BenchmarkDeadline(b *testing.B) {
	type mode struct {
		name     string
		n        int
		legacy   bool
		deadline []time.Duration
	}
	for _, m := range []mode{
		{"learning/harder/packages=10000", 10000, false, []time.Duration{10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond}},
		{"legacy/harder/packages=3000", 3000, true, []time.Duration{time.Second}},
	} {
		u, req := harderUniverse(b, m.n)
		b.Run(m.name, func(b *testing.B) {
			var lateness []time.Duration
			i := 0
			for b.Loop() {
				r := NewSATResolver(ResolverConfig{})
				if m.legacy {
					r = legacyResolver(ResolverConfig{}, 0)
				}
				d := m.deadline[i%len(m.deadline)]
				i++
				ctx, cancel := context.WithTimeout(context.Background(), d)
				deadline, _ := ctx.Deadline()
				p, err := r.Resolve(ctx, u, req)
				lateness = append(lateness, max(0, time.Since(deadline)))
				cancel()
				var ie *InterruptedError
				switch {
				case err == nil && p.Optimal && !m.legacy:
					b.Fatalf("finished within %v: the input is too easy to measure lateness", d)
				case err != nil && !errors.As(err, &ie):
					b.Fatal(err)
				}
			}
			slices.Sort(lateness)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(lateness[len(lateness)-1].Seconds()*1000, "max-late-ms")
			b.ReportMetric(lateness[len(lateness)/2].Seconds()*1000, "median-late-ms")
		})
	}
}

// BenchmarkDeadlineUnsat measures how late Resolve returns after its
// deadline on unsatisfiable universes whose explanation takes longer than
// the deadline (the harder and the alternatives universes with two roots
// that need incompatible versions of a package half-way down), under
// deadlines of 10 to 200 ms. It reports the largest lateness and the
// median, and the share of the answers that were explanations cut short.
func BenchmarkDeadlineUnsat(b *testing.B) {
	type input struct {
		name string
		make func() (*Universe, Request)
	}
	var inputs []input
	for _, n := range []int{1000, 10000} {
		inputs = append(inputs,
			input{fmt.Sprintf("harder-unsat/packages=%d", n), func() (*Universe, Request) { return boundedUniverse(b, n, 5, true) }},
			input{fmt.Sprintf("alternatives-unsat/packages=%d", n), func() (*Universe, Request) {
				u, req := alternativesUniverse(b, n)
				return u, incompatibleRoots(b, u, req, fmt.Sprintf("comp-%d", n/4))
			}})
	}
	for _, in := range inputs {
		u, req := in.make()
		deadlines := []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
		b.Run(in.name, func(b *testing.B) {
			var lateness []time.Duration
			i, cut := 0, 0
			for b.Loop() {
				d := deadlines[i%len(deadlines)]
				i++
				ctx, cancel := context.WithTimeout(context.Background(), d)
				deadline, _ := ctx.Deadline()
				_, err := NewSATResolver(ResolverConfig{}).Resolve(ctx, u, req)
				lateness = append(lateness, max(0, time.Since(deadline)))
				cancel()
				var ue *UnsatisfiableError
				switch {
				case errors.As(err, &ue) && ue.Interrupted != nil:
					cut++
				case !errors.Is(err, ErrNoSolution) && !errors.Is(err, ErrInterrupted):
					b.Fatalf("err = %v, want ErrNoSolution or ErrInterrupted", err)
				}
			}
			slices.Sort(lateness)
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(lateness[len(lateness)-1].Seconds()*1000, "max-late-ms")
			b.ReportMetric(lateness[len(lateness)/2].Seconds()*1000, "median-late-ms")
			b.ReportMetric(float64(cut)/float64(i), "cut-short-share")
		})
	}
}

// BenchmarkExplainUnsat times whole explanations (no deadline): the
// synthetic universe, and the alternatives universe made unsatisfiable
// (on which gophersat's minimisation once ran for more than 10 minutes),
// with the size of the conflict and the repairs found.
func BenchmarkExplainUnsat(b *testing.B) {
	type input struct {
		name string
		u    *Universe
		req  Request
	}
	var inputs []input
	for _, n := range []int{1000, 10000} {
		u, req := syntheticUniverse(b, n, true)
		inputs = append(inputs, input{fmt.Sprintf("packages=%d", n), u, req})
	}
	u, req := alternativesUniverse(b, 1000)
	inputs = append(inputs, input{"alternatives-unsat/packages=1000", u, incompatibleRoots(b, u, req, "comp-250")})
	for _, in := range inputs {
		u, req := in.u, in.req
		b.Run(in.name, func(b *testing.B) {
			var ue *UnsatisfiableError
			for b.Loop() {
				_, err := NewSATResolver(ResolverConfig{}).Resolve(context.Background(), u, req)
				if !errors.As(err, &ue) {
					b.Fatalf("err = %v, want *UnsatisfiableError", err)
				}
			}
			b.ReportMetric(float64(len(ue.Conflict)), "facts-in-conflict")
			b.ReportMetric(float64(len(ue.Repairs)), "repairs")
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
