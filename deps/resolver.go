package deps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/crillab/gophersat/solver"
	"github.com/go-logr/logr"
)

// Resolver turns a request over a universe into a plan.
type Resolver interface {
	// Resolve returns a plan that satisfies every constraint of req, or an
	// error: an *InputError for malformed input, an *UnsatisfiableError
	// (wrapping ErrNoSolution) when no plan exists, a *CycleError when the
	// plan has a cycle the policy forbids.
	Resolve(ctx context.Context, u *Universe, req Request) (*Plan, error)
}

// SATResolver resolves with the gophersat SAT solver: one boolean per
// candidate release, a cardinality constraint "at most one version" per
// package, implications for dependencies, binary clauses for conflicts, units
// for locks and exclusions. It then fixes the packages one by one, in the
// Preference's order, to their most preferred choice that still admits a
// plan (solver calls under assumptions on one warm solver), which makes the
// plan the preference's lexicographic optimum.
type SATResolver struct {
	preference  Preference
	maxReleases int
	log         logr.Logger
}

// Option configures a SATResolver.
type Option func(*SATResolver)

// WithPreference replaces NewestFirst.
func WithPreference(p Preference) Option { return func(s *SATResolver) { s.preference = p } }

// WithMaxReleases bounds the candidate releases of one resolution (default
// 1,000,000); a larger problem is an ErrTooLarge *InputError.
func WithMaxReleases(n int) Option { return func(s *SATResolver) { s.maxReleases = n } }

// WithLogger logs each resolution's size and solver calls.
func WithLogger(l logr.Logger) Option { return func(s *SATResolver) { s.log = l } }

// NewSATResolver returns a SAT resolver.
func NewSATResolver(opts ...Option) *SATResolver {
	s := &SATResolver{preference: NewestFirst, maxReleases: 1_000_000, log: logr.Discard()}
	for _, o := range opts {
		o(s)
	}
	return s
}

var _ Resolver = (*SATResolver)(nil)

// gophersatMu serialises every use of the gophersat solver: its solvers
// share a package-level buffer (bufLits in solver/learn.go), so two solves
// at once corrupt each other (the race detector shows it). It is this
// package's only global state, forced by that dependency.
var gophersatMu sync.Mutex

// errUnsat marks an unsatisfiable encoding inside the package.
var errUnsat = errors.New("unsatisfiable")

// Resolve implements Resolver. The context's deadline is the budget: it is
// checked between solver calls (one call is not interrupted), and a plan
// found before the deadline but not yet proven best is returned with
// Optimal false.
func (s *SATResolver) Resolve(ctx context.Context, u *Universe, req Request) (*Plan, error) {
	e, err := encode(u, req, s.maxReleases)
	if err != nil {
		return nil, err
	}
	s.log.V(1).Info("encoded", "releases", len(e.rels), "facts", len(e.facts))
	model, optimal, calls, err := e.decide(ctx, s.preference)
	if errors.Is(err, errUnsat) {
		return nil, e.explain()
	}
	if err != nil {
		return nil, err
	}
	s.log.V(1).Info("decided", "solverCalls", calls, "optimal", optimal)
	p, err := e.plan(model, optimal)
	if err != nil {
		return nil, err
	}
	// A solver bug must never become a wrong plan.
	if err := Check(u, req, p); err != nil {
		return nil, fmt.Errorf("deps: internal error, the solver's plan fails the check: %w", err)
	}
	return p, nil
}

// constraints returns the hard constraints of facts plus the background.
func (e *encoding) constraints(facts []fact) []solver.CardConstr {
	var cs []solver.CardConstr
	for _, f := range facts {
		cs = append(cs, f.constrs...)
	}
	cs = append(cs, e.background...)
	// Mention the highest variable, so the solver's model covers them all.
	if e.nVars > 0 {
		cs = append(cs, solver.CardConstr{Lits: []int{e.nVars, -e.nVars}, AtLeast: 1})
	}
	return cs
}

// decide returns the model of the preference's lexicographic optimum (or,
// when ctx ends first, the best model so far, not optimal) and the number of
// solver calls it made.
func (e *encoding) decide(ctx context.Context, pref Preference) (model []bool, optimal bool, calls int, err error) {
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	constrs := e.constraints(e.facts)
	if e.req.Policy.AllowLockChanges && len(e.locked) > 0 {
		k, n, err := e.fewestLockChanges(constrs)
		calls += n
		if err != nil {
			return nil, false, calls, err
		}
		constrs = append(constrs, atMost(e.brokenLockLits(), k))
	}
	pb := solver.ParseCardConstrs(constrs)
	if pb.Status == solver.Unsat {
		return nil, false, calls, errUnsat
	}
	e.hintPolarity(pb)
	// Assume clears every binding the solver holds at its top level, the
	// problem's own unit clauses included, so those are assumed every time.
	fixed := slices.Clone(pb.Units)
	s := solver.New(pb)
	solve := func(extra []solver.Lit) bool {
		assumed := append(slices.Clone(fixed), extra...)
		// The solver does not notice an assumption and its negation (the
		// later one silently wins), so contradictions are caught here.
		seen := make(map[solver.Lit]bool, len(assumed))
		for _, l := range assumed {
			if seen[l.Negation()] {
				return false
			}
			seen[l] = true
		}
		calls++
		if s.Assume(assumed) == solver.Unsat {
			return false
		}
		return s.Solve() == solver.Sat
	}
	if model = e.previousModel(); model == nil {
		model = e.greedyModel()
	}
	if model == nil {
		if !solve(nil) {
			return nil, false, calls, errUnsat
		}
		model = s.Model()
	}
	in := PreferenceInput{Packages: e.packages, Locked: map[string]*Release{}, Reached: e.reached}
	for _, d := range e.req.Roots {
		if !slices.Contains(in.Roots, d.Name) {
			in.Roots = append(in.Roots, d.Name)
		}
	}
	for _, r := range e.locked {
		in.Locked[r.Name] = r
	}
	decided := map[string]*Release{}
	for _, pkg := range pref.Order(in) {
		if ctx.Err() != nil {
			return model, false, calls, nil
		}
		cur := e.chosenPackage(model, pkg)
		choice := cur
		for _, c := range pref.Choices(in, pkg) {
			if c != cur && e.ruledOut(decided, pkg, c) {
				continue
			}
			if c == cur || solve(e.choiceLits(pkg, c)) {
				if c != cur {
					model = s.Model()
				}
				choice = c
				break
			}
		}
		fixed = append(fixed, e.choiceLits(pkg, choice)...)
		if choice == nil {
			continue
		}
		decided[pkg] = choice
		// Take the chosen release's optional dependencies when possible.
		for _, d := range choice.Optional {
			miss := e.missVar[e.optionalOf(choice, d)]
			take := solver.IntToLit(int32(-miss))
			if !litTrue(model, miss) || solve([]solver.Lit{take}) {
				if litTrue(model, miss) {
					model = s.Model()
				}
				fixed = append(fixed, take)
			}
		}
	}
	return model, true, calls, nil
}

// ruledOut reports, without the solver, whether choosing c for pkg (nil: not
// installing it) contradicts a decided release: one that requires pkg in a
// range c is not in (or requires it at all, for nil), or that conflicts with
// c.
func (e *encoding) ruledOut(decided map[string]*Release, pkg string, c *Release) bool {
	for _, in := range e.requiredBy[pkg] {
		if decided[in.release.Name] != in.release {
			continue
		}
		if c == nil || !in.dep.Allows(c.Version) {
			return true
		}
	}
	if c != nil {
		for _, other := range e.conflictsWith[c] {
			if decided[other.Name] == other {
				return true
			}
		}
	}
	return false
}

// choiceLits are the assumptions for choosing c for pkg (nil: not
// installed).
func (e *encoding) choiceLits(pkg string, c *Release) []solver.Lit {
	if c != nil {
		return []solver.Lit{solver.IntToLit(int32(e.varOf[c]))}
	}
	var lits []solver.Lit
	for _, r := range e.packages[pkg] {
		lits = append(lits, solver.IntToLit(int32(-e.varOf[r])))
	}
	return lits
}

// chosenPackage returns the release of pkg the model chooses, or nil.
func (e *encoding) chosenPackage(model []bool, pkg string) *Release {
	for _, r := range e.packages[pkg] {
		if litTrue(model, e.varOf[r]) {
			return r
		}
	}
	return nil
}

// optionalOf returns the optional-dependency record of release r and d.
func (e *encoding) optionalOf(r *Release, d Dependency) *OptionalDependency {
	for _, o := range e.optional {
		if o.Release == r && o.Dependency.String() == d.String() {
			return o
		}
	}
	return nil
}

// hintPolarity tells the solver to try old releases and missed optional
// dependencies last: the first model then tends to be close to the
// preference already, and few decisions need a solver call.
func (e *encoding) hintPolarity(pb *solver.Problem) {
	var lits []solver.Lit
	var weights []int
	for _, rels := range e.packages {
		for rank, r := range rels {
			lits = append(lits, solver.IntToLit(int32(e.varOf[r])))
			weights = append(weights, rank+1)
		}
	}
	for _, v := range e.missVar {
		lits = append(lits, solver.IntToLit(int32(v)))
		weights = append(weights, 1)
	}
	if len(lits) > 0 {
		pb.SetCostFunc(lits, weights)
	}
}

// brokenLockLits are literals true when a locked release is not chosen.
func (e *encoding) brokenLockLits() []int {
	lits := make([]int, len(e.locked))
	for i, r := range e.locked {
		lits[i] = -e.varOf[r]
	}
	return lits
}

// fewestLockChanges finds the least number of locked releases a plan must
// change, trying 0, 1, 2, ... changes.
func (e *encoding) fewestLockChanges(constrs []solver.CardConstr) (k, calls int, err error) {
	for k = 0; k <= len(e.locked); k++ {
		calls++
		pb := solver.ParseCardConstrs(append(slices.Clone(constrs), atMost(e.brokenLockLits(), k)))
		if pb.Status != solver.Unsat && solver.New(pb).Solve() == solver.Sat {
			return k, calls, nil
		}
	}
	return 0, calls, errUnsat
}

func litTrue(model []bool, lit int) bool {
	if lit > 0 {
		return lit-1 < len(model) && model[lit-1]
	}
	return -lit-1 < len(model) && !model[-lit-1]
}

// previousModel returns the model of the request's previous plan when that
// plan still satisfies every constraint of this request, else nil.
func (e *encoding) previousModel() []bool {
	prev := e.req.Previous
	if prev == nil || Check(e.u, e.req, prev) != nil {
		return nil
	}
	if e.req.Policy.AllowLockChanges && len(e.locked) > 0 {
		return nil // the previous plan may change more locks than needed
	}
	model := make([]bool, e.nVars)
	for _, r := range prev.Releases {
		v, ok := e.varOf[r]
		if !ok || v == 0 {
			return nil
		}
		model[v-1] = true
	}
	for o, v := range e.missVar {
		if model[e.varOf[o.Release]-1] && !satisfiedBy(e.u, o.Dependency, prev) {
			model[v-1] = true
		}
	}
	return model
}

// satisfiedBy reports whether plan p holds a candidate of d.
func satisfiedBy(u *Universe, d Dependency, p *Plan) bool {
	for _, c := range u.Candidates(d) {
		if p.Releases[c.Name] == c {
			return true
		}
	}
	return false
}

// sat reports whether the given facts (plus the background constraints)
// can all hold.
func (e *encoding) sat(facts []fact) bool {
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(e.constraints(facts))
	if pb.Status == solver.Unsat {
		return false
	}
	return solver.New(pb).Solve() == solver.Sat
}

// atMost is the cardinality constraint "at most k of lits are true".
func atMost(lits []int, k int) solver.CardConstr {
	negated := make([]int, len(lits))
	for i, l := range lits {
		negated[i] = -l
	}
	return solver.CardConstr{Lits: negated, AtLeast: len(lits) - k}
}
