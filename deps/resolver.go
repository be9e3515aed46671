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

// SATResolver resolves with a search that builds the plan from the request
// outwards (see Preference), each need getting its most preferred choice
// that still admits a plan, and with the gophersat SAT solver behind it.
// Choices that contradict what is already chosen are ruled out without the
// solver, and dead ends are resolved by conflict-directed backjumping, so
// most requests need no solver call at all. Past a work budget, the SAT
// solver (one boolean per candidate release, pairwise "at most one version"
// per package, a clause per dependency and conflict, units for locks and
// exclusions) answers which prefix of the decisions still admits a plan.
// Either way the plan is the preference's lexicographic optimum. When no
// plan exists, the solver proves it on the smallest neighbourhood of the
// request that is already unsatisfiable and extracts a minimal conflict.
type SATResolver struct {
	preference  Preference
	maxReleases int
	budget      int
	log         logr.Logger
}

// ResolverConfig configures a SATResolver. Its zero value is the default
// resolver: NewestFirst, at most 1,000,000 releases within reach of a
// request, the default search budget, no logging.
type ResolverConfig struct {
	// Preference orders the choices; nil means NewestFirst.
	Preference Preference
	// MaxReleases bounds the releases within reach of one request; a
	// larger problem is an ErrTooLarge *InputError. 0 means 1,000,000.
	MaxReleases int
	// SearchBudget bounds the work (choices tried and decisions replayed)
	// backjumping may spend before the search turns to the SAT solver as
	// its oracle. 0 means 100 per release within reach of the request plus
	// 100,000; a negative budget goes to the solver at the first dead end.
	SearchBudget int
	// Logger logs each resolution's size and solver calls (at V(1)); the
	// zero Logger discards.
	Logger logr.Logger
}

// DefaultMaxReleases is the MaxReleases of the zero ResolverConfig.
const DefaultMaxReleases = 1_000_000

// NewSATResolver returns a SAT resolver configured by cfg.
func NewSATResolver(cfg ResolverConfig) *SATResolver {
	s := &SATResolver{preference: cfg.Preference, maxReleases: cfg.MaxReleases, budget: cfg.SearchBudget, log: cfg.Logger}
	if s.preference == nil {
		s.preference = NewestFirst
	}
	if s.maxReleases == 0 {
		s.maxReleases = DefaultMaxReleases
	}
	if s.log.GetSink() == nil {
		s.log = logr.Discard()
	}
	return s
}

var _ Resolver = (*SATResolver)(nil)

// gophersatMu serialises every use of the gophersat solver: its solvers
// share a package-level buffer (bufLits in solver/learn.go), so two solves
// at once corrupt each other (the race detector shows it). It is this
// package's only global state, forced by that dependency.
var gophersatMu sync.Mutex

// errUnsat marks an unsatisfiable request inside the package.
var errUnsat = errors.New("unsatisfiable")

// Resolve implements Resolver. The context's deadline is the budget: it is
// checked between solver calls (one call is not interrupted), and a plan
// found before the deadline but not yet proven best is returned with
// Optimal false.
func (s *SATResolver) Resolve(ctx context.Context, u *Universe, req Request) (*Plan, error) {
	p, proof, err := s.resolve(ctx, u, req)
	if errors.Is(err, errUnsat) {
		return nil, s.explain(ctx, u, req, proof)
	}
	return p, err
}

// resolve returns the plan, or errUnsat and an encoding that is itself
// unsatisfiable (the proof, for the explanation).
func (s *SATResolver) resolve(ctx context.Context, u *Universe, req Request) (*Plan, *encoding, error) {
	if err := validateRequest(u, req); err != nil {
		return nil, nil, err
	}
	// A lock listed twice is one lock (validateRequest refused two
	// versions of one package).
	seen := map[string]bool{}
	var locked []ReleaseRef
	for _, l := range req.Locked {
		if !seen[l.Name] {
			seen[l.Name] = true
			locked = append(locked, l)
		}
	}
	req.Locked = locked
	in, err := preferenceInput(u, req, s.maxReleases)
	if err != nil {
		return nil, nil, err
	}
	shared := newEncodingShared()
	for _, pkg := range in.Reached {
		choices := s.preference.Choices(in, pkg)
		if len(choices) >= len(in.Packages[pkg]) && !slices.Contains(choices, nil) {
			continue // every release is a choice (the usual case)
		}
		for _, r := range in.Packages[pkg] {
			if !slices.Contains(choices, r) {
				shared.omit[r] = true
			}
		}
	}
	maxBroken := 0
	var full *encoding
	var extra []solver.CardConstr
	if req.Policy.AllowLockChanges && len(req.Locked) > 0 {
		// The fewest lock changes is a global bound: find it first.
		if full, err = encode(u, req, s.maxReleases, -1, shared); err != nil {
			return nil, nil, err
		}
		if maxBroken, err = full.fewestLockChanges(); err != nil {
			return nil, full, err
		}
		extra = append(extra, atMost(full.brokenLockLits(), maxBroken))
	}
	var witnesses []map[string]*Release
	if prev := req.Previous; prev != nil && full == nil && Check(u, req, prev) == nil {
		witnesses = append(witnesses, prev.Releases)
	}
	budget := s.budget
	switch {
	case budget < 0:
		budget = 0
	case budget == 0:
		budget = 100_000
		for _, rels := range in.Packages {
			budget += 100 * len(rels)
		}
	}
	var orc *satOracle
	chosen, optimal, err := newSearch(u, req, s.preference, in, maxBroken).run(ctx, budget, func() (oracle, error) {
		e := full
		if e == nil {
			var err error
			if e, err = encode(u, req, s.maxReleases, -1, shared); err != nil {
				return nil, err
			}
		}
		s.log.V(1).Info("search budget spent, solving", "releases", len(e.rels), "facts", len(e.facts))
		var err error
		orc, err = e.newOracle(extra, witnesses)
		return orc, err
	})
	if orc != nil {
		s.log.V(1).Info("decided", "solverCalls", orc.calls, "optimal", optimal)
	}
	switch {
	case errors.Is(err, errUnsat) && full != nil:
		return nil, full, err
	case errors.Is(err, errUnsat) && orc != nil:
		return nil, orc.e, err
	case errors.Is(err, errUnsat):
		proof, perr := s.proveUnsat(u, req, shared)
		if perr != nil {
			return nil, nil, perr
		}
		return nil, proof, err
	case err != nil:
		return nil, nil, err
	}
	p, err := buildPlan(u, req, chosen, optimal)
	if err != nil {
		return nil, nil, err
	}
	// A search bug must never become a wrong plan.
	if err := Check(u, req, p); err != nil {
		return nil, nil, fmt.Errorf("deps: internal error, the search's plan fails the check: %w", err)
	}
	return p, nil, nil
}

// proveUnsat finds an unsatisfiable encoding of a request the search found
// unsatisfiable: the request's neighbourhood, growing (1, 2, 4, ...
// dependency hops) until the solver proves it unsatisfiable, so that a
// conflict near the request is explained from a small part of a large
// universe.
func (s *SATResolver) proveUnsat(u *Universe, req Request, shared *encodingShared) (*encoding, error) {
	for depth := 1; ; depth *= 2 {
		e, err := encode(u, req, s.maxReleases, depth, shared)
		if err != nil {
			return nil, err
		}
		if !e.sat(e.facts) {
			return e, nil
		}
		if e.complete {
			return nil, fmt.Errorf("deps: internal error, the search found no plan but the solver finds one")
		}
	}
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

// satOracle answers the search's questions with one warm solver over the
// whole encoding, and with the plans it already knows where they suffice.
type satOracle struct {
	e         *encoding
	s         *solver.Solver
	fixed     []solver.Lit // the problem's own units, assumed every time
	unsat     bool
	witnesses []map[string]*Release
	calls     int
}

// maxWitnesses bounds the plans an oracle keeps to answer from.
const maxWitnesses = 8

func (e *encoding) newOracle(extra []solver.CardConstr, witnesses []map[string]*Release) (*satOracle, error) {
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(append(e.constraints(e.facts), extra...))
	o := &satOracle{e: e, witnesses: witnesses}
	if pb.Status == solver.Unsat {
		o.unsat = true
		return o, nil
	}
	// Assume clears every binding the solver holds at its top level, the
	// problem's own unit clauses included, so those are assumed every time.
	o.fixed = slices.Clone(pb.Units)
	o.s = solver.New(pb)
	return o, nil
}

// feasible implements oracle.
func (o *satOracle) feasible(ds []decision) (bool, map[string]*Release, error) {
	if o.unsat {
		return false, nil, nil
	}
	for _, w := range slices.Backward(o.witnesses) {
		if holds(w, ds) {
			return true, w, nil
		}
	}
	assumed := slices.Clone(o.fixed)
	for _, d := range ds {
		switch {
		case d.choice != nil:
			v := o.e.varOf[d.choice]
			if v == 0 {
				return false, nil, fmt.Errorf("deps: internal error, %s has no variable", d.choice.ID())
			}
			assumed = append(assumed, solver.IntToLit(int32(v)))
		case d.item.kind == itemLock:
			for _, r := range o.e.packages[d.item.dep.Name] {
				assumed = append(assumed, solver.IntToLit(int32(-o.e.varOf[r])))
			}
		}
	}
	// The solver does not notice an assumption and its negation (the later
	// one silently wins), so contradictions are caught here.
	seen := make(map[solver.Lit]bool, len(assumed))
	for _, l := range assumed {
		if seen[l.Negation()] {
			return false, nil, nil
		}
		seen[l] = true
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	o.calls++
	if o.s.Assume(assumed) == solver.Unsat || o.s.Solve() != solver.Sat {
		return false, nil, nil
	}
	model := o.s.Model()
	w := map[string]*Release{}
	for _, r := range o.e.rels {
		if litTrue(model, o.e.varOf[r]) {
			w[r.Name] = r
		}
	}
	o.witnesses = append(o.witnesses, w)
	if len(o.witnesses) > maxWitnesses {
		o.witnesses = slices.Delete(o.witnesses, 0, 1)
	}
	return true, w, nil
}

// holds reports whether plan w (releases by package) keeps every decision.
func holds(w map[string]*Release, ds []decision) bool {
	for _, d := range ds {
		switch {
		case d.choice != nil:
			if w[d.choice.Name] != d.choice {
				return false
			}
		case d.item.kind == itemLock:
			if w[d.item.dep.Name] != nil {
				return false
			}
		}
	}
	return true
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
// change, trying 0, 1, 2, ... changes; errUnsat when even changing them
// all admits no plan.
func (e *encoding) fewestLockChanges() (int, error) {
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	constrs := e.constraints(e.facts)
	for k := 0; k <= len(e.locked); k++ {
		pb := solver.ParseCardConstrs(append(slices.Clone(constrs), atMost(e.brokenLockLits(), k)))
		if pb.Status != solver.Unsat && solver.New(pb).Solve() == solver.Sat {
			return k, nil
		}
	}
	return 0, errUnsat
}

func litTrue(model []bool, lit int) bool {
	if lit > 0 {
		return lit-1 < len(model) && model[lit-1]
	}
	return -lit-1 < len(model) && !model[-lit-1]
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
