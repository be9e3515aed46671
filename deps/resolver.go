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
	// (wrapping ErrNoSolution) when no plan exists, a *CycleError when
	// every plan has a cycle the policy forbids, an *InterruptedError
	// when the context ends before there is an answer.
	Resolve(ctx context.Context, u *Universe, req Request) (*Plan, error)
}

// SATResolver resolves with a search that builds the plan from the request
// outwards (see Preference), each need getting its most preferred choice
// that still admits a plan: a conflict-driven clause-learning search over
// one boolean per release, whose decisions follow the preference, so that
// the plan is the preference's lexicographic optimum and no dead end is
// explored twice. When no plan exists, the facts the search's refutation
// used locate the conflict; searches of the same kind over those facts
// make it minimal and find the cheapest repairs, so a deadline is
// honoured there too.
type SATResolver struct {
	preference  Preference
	maxReleases int
	budget      int
	log         logr.Logger

	// legacy selects the search before it learned (backjumping, then
	// gophersat as its oracle past legacyBudget), kept to compare with.
	legacy       bool
	legacyBudget int
	// observe, when set, sees the statistics of every search run.
	observe func(searchStats)
}

// ResolverConfig configures a SATResolver. Its zero value is the default
// resolver: NewestFirst, at most 1,000,000 releases within reach of a
// request, no bound on the search but the context, no logging.
type ResolverConfig struct {
	// Preference orders the choices; nil means NewestFirst.
	Preference Preference
	// MaxReleases bounds the releases within reach of one request; a
	// larger problem is an ErrTooLarge *InputError. 0 means 1,000,000.
	MaxReleases int
	// SearchBudget bounds the dead ends (conflicts) one search may learn
	// from: a bound on work that, unlike a deadline, does not depend on
	// the machine. Past it, Resolve ends as at a deadline. 0 or negative
	// means no bound.
	SearchBudget int
	// Logger logs each search's size and work (at V(1)); the zero Logger
	// discards.
	Logger logr.Logger
}

// DefaultMaxReleases is the MaxReleases of the zero ResolverConfig.
const DefaultMaxReleases = 1_000_000

// NewSATResolver returns a SAT resolver configured by cfg.
func NewSATResolver(cfg ResolverConfig) *SATResolver {
	s := &SATResolver{preference: cfg.Preference, maxReleases: cfg.MaxReleases, budget: max(cfg.SearchBudget, 0), log: cfg.Logger}
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

// errBudgetSpent is the cause of an *InterruptedError when the
// SearchBudget ran out.
var errBudgetSpent = errors.New("search budget spent")

// Resolve implements Resolver. The context's deadline is honoured within
// the search: it looks at the context every few thousand units of work
// (checkEvery), none of which is a solver call, so it returns promptly
// after the deadline with the best plan it knows, marked Optimal false, or
// an *InterruptedError wrapping ErrInterrupted and the context's error.
// The best plan it knows is Request.Previous when that still satisfies the
// request, or, while it minimises lock changes, the plan that changes the
// fewest so far. A context already done is an *InterruptedError at once.
// Once no plan is proven to exist, the explanation (a minimal conflict and
// the cheapest repairs) is worked out by searches of the same kind, which
// look at the context as often: a context that ends before it starts is
// an *InterruptedError that also wraps ErrNoSolution, and one that ends
// during it gives the *UnsatisfiableError with what was found by then
// (see UnsatisfiableError.Interrupted).
func (s *SATResolver) Resolve(ctx context.Context, u *Universe, req Request) (*Plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, &InterruptedError{Cause: err}
	}
	p, proof, err := s.resolve(ctx, u, req, true)
	if errors.Is(err, errUnsat) {
		if cerr := ctx.Err(); cerr != nil {
			return nil, &InterruptedError{Cause: cerr, Proven: ErrNoSolution}
		}
		return nil, s.explain(ctx, u, req, proof)
	}
	return p, err
}

// refutation is the proof that a request has no plan: the learning
// search's problem, the options of the search that failed and the facts
// its refutation used (an unsatisfiable core), or, for the legacy search,
// an unsatisfiable encoding.
type refutation struct {
	pb   *problem
	opts searchOptions
	core []int32
	enc  *encoding
}

// resolve returns the plan, or errUnsat and the refutation (the proof,
// for the explanation). Without build, a plan the search finds holds its
// Releases only (its install order and checks are skipped: the repairs
// read no more, and a large plan takes a while to build).
func (s *SATResolver) resolve(ctx context.Context, u *Universe, req Request, build bool) (*Plan, *refutation, error) {
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
	noCycles := !req.Policy.AllowCycles && !s.legacy
	in, rc, err := reach(ctx, u, req, s.maxReleases, noCycles)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, nil, &InterruptedError{Cause: err}
		}
		return nil, nil, err
	}
	if s.legacy {
		p, e, err := s.resolveLegacy(ctx, u, req, in)
		if e != nil {
			return p, &refutation{enc: e}, err
		}
		return p, nil, err
	}
	pb := newProblem(u, req, s.preference, in, rc)
	opts := searchOptions{noCycles: noCycles, maxBroken: -1, budget: s.budget}
	if noCycles {
		pb.scc = sccs(rc.graph)
	}
	// known is a plan that holds, kept for a deadline: the previous one.
	var known *Plan
	if prev := req.Previous; prev != nil && Check(u, req, prev) == nil {
		if p, err := buildPlan(u, req, prev.Releases, false); err == nil {
			known = p
		}
	}
	res := s.run(ctx, pb, opts)
	switch res.outcome {
	case interrupted:
		return s.interrupted(res, known)
	case unsat:
		return s.unsatisfiable(ctx, pb, opts, res)
	}
	chosen, optimal := res.plan, true
	if req.Policy.AllowLockChanges && pb.broken(chosen) > 0 {
		chosen, optimal = s.fewestLockChanges(ctx, pb, opts, chosen)
	}
	if !build {
		return &Plan{Releases: chosen, Optimal: optimal}, nil, nil
	}
	p, err := buildPlan(u, req, chosen, optimal)
	if err != nil {
		return nil, nil, fmt.Errorf("deps: internal error, the search's plan has a cycle: %w", err)
	}
	// A search bug must never become a wrong plan.
	if err := Check(u, req, p); err != nil {
		return nil, nil, fmt.Errorf("deps: internal error, the search's plan fails the check: %w", err)
	}
	return p, nil, nil
}

// result is how one search ended.
type result struct {
	outcome outcome
	plan    map[string]*Release // found
	core    []int32             // unsat: the facts of the refutation
	budget  bool                // interrupted by the search budget
	cause   error               // interrupted by the context: its error
}

// run runs one search of pb.
func (s *SATResolver) run(ctx context.Context, pb *problem, opts searchOptions) result {
	sr := newWalkSearch(ctx, pb, opts)
	out := result{outcome: sr.walk(), budget: sr.budgetSpent, cause: sr.ctxErr}
	switch out.outcome {
	case found:
		out.plan = sr.plan()
	case unsat:
		out.core = sr.core()
	}
	s.log.V(1).Info("searched", "outcome", out.outcome.String(), "releases", len(pb.rels), "decisions", sr.stats.decisions,
		"conflicts", sr.stats.conflicts, "learned", sr.stats.learned, "propagations", sr.stats.propagations)
	if s.observe != nil {
		s.observe(sr.stats)
	}
	return out
}

func (o outcome) String() string {
	switch o {
	case found:
		return "found"
	case unsat:
		return "unsatisfiable"
	}
	return "interrupted"
}

// interrupted answers a search that the context or the budget ended: with
// the plan known to hold, not proven best, or an *InterruptedError.
func (s *SATResolver) interrupted(res result, known *Plan) (*Plan, *refutation, error) {
	if known != nil {
		return known, nil, nil
	}
	cause := res.cause
	if res.budget || cause == nil {
		cause = fmt.Errorf("%w (%d conflicts)", errBudgetSpent, s.budget)
	}
	return nil, nil, &InterruptedError{Cause: cause}
}

// fewestLockChanges finds, by binary search over the bound, the plan
// that changes the fewest locked releases, first the preference's optimum
// among those: first is the optimum without a bound. A search the context
// or the budget ends leaves the best plan found so far, not optimal.
func (s *SATResolver) fewestLockChanges(ctx context.Context, pb *problem, opts searchOptions, first map[string]*Release) (map[string]*Release, bool) {
	best, lo, hi := first, 0, pb.broken(first)
	for lo < hi {
		mid := (lo + hi) / 2
		o := opts
		o.maxBroken = mid
		switch r := s.run(ctx, pb, o); r.outcome {
		case found:
			// The optimum under "at most mid" changes k <= mid locks: it is
			// the optimum under "at most k" too.
			best, hi = r.plan, pb.broken(r.plan)
		case unsat:
			lo = mid + 1
		default:
			return best, false
		}
	}
	return best, true
}

// unsatisfiable answers a search that found no plan: with cycles
// forbidden, a *CycleError when plans exist with cycles; otherwise
// errUnsat with the refutation (of the search with cycles allowed) for the
// explanation.
func (s *SATResolver) unsatisfiable(ctx context.Context, pb *problem, opts searchOptions, res result) (*Plan, *refutation, error) {
	if opts.noCycles {
		allowed := opts
		allowed.noCycles = false
		switch r := s.run(ctx, pb, allowed); r.outcome {
		case found:
			return nil, nil, s.cycleError(ctx, pb, opts, res.core, r.plan)
		case interrupted:
			return s.interrupted(r, nil)
		default:
			res, opts = r, allowed
		}
	}
	return nil, &refutation{pb: pb, opts: opts, core: res.core}, errUnsat
}

// cycleError builds the *CycleError of a request whose every plan has a
// cycle: the cycles of the preferred plan with cycles allowed, and a
// minimal set of facts that forces one (QuickXplain over the core of the
// refutation, each check a search with only those facts). One version per
// package is taken as given, not listed.
func (s *SATResolver) cycleError(ctx context.Context, pb *problem, opts searchOptions, core []int32, withCycles map[string]*Release) error {
	req := pb.req
	req.Policy.AllowCycles = true
	p, err := buildPlan(pb.u, req, withCycles, true)
	if err != nil {
		return err
	}
	out := &CycleError{Cycles: p.Cycles}
	var candidates []int32
	for _, f := range core {
		if pb.facts[f].kind != FactOneVersion {
			candidates = append(candidates, f)
		}
	}
	forces := func(facts []int32) (bool, error) {
		o := opts
		o.budget = 0
		o.active = make([]bool, len(pb.facts))
		for _, f := range facts {
			o.active[f] = true
		}
		switch r := s.run(ctx, pb, o); r.outcome {
		case found:
			return false, nil
		case unsat:
			return true, nil
		default:
			return false, r.cause
		}
	}
	minimal := candidates
	ok, err := forces(candidates)
	if err == nil && ok {
		minimal, err = quickXplain(nil, false, candidates, forces)
	}
	if err != nil { // only the context's error
		return &InterruptedError{Cause: err, Proven: ErrCycle}
	}
	for _, f := range minimal {
		out.Facts = append(out.Facts, pb.fact(f))
	}
	return out
}

// quickXplain (Junker 2004) returns a minimal subset of c that, together
// with b, makes conflicts true; changed says whether b grew since the last
// check.
func quickXplain(b []int32, changed bool, c []int32, conflicts func([]int32) (bool, error)) ([]int32, error) {
	if changed {
		if ok, err := conflicts(b); err != nil || ok {
			return nil, err
		}
	}
	if len(c) <= 1 {
		return c, nil
	}
	c1, c2 := c[:len(c)/2], c[len(c)/2:]
	d2, err := quickXplain(slices.Concat(b, c1), len(c1) > 0, c2, conflicts)
	if err != nil {
		return nil, err
	}
	d1, err := quickXplain(slices.Concat(b, d2), len(d2) > 0, c1, conflicts)
	if err != nil {
		return nil, err
	}
	return slices.Concat(d1, d2), nil
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
