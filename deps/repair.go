package deps

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/Masterminds/semver/v3"
	"github.com/crillab/gophersat/solver"
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
	// To is, for a lock, the release the package moves to (nil: the
	// package leaves the plan). It is the resolver's own choice for the
	// request with lock changes allowed (Policy.AllowLockChanges) and the
	// other repairs applied, so resolving that request gives this release;
	// with several locks equally cheap to release, the ones listed are
	// those the resolver changes.
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
		return fmt.Sprintf("let %s move from %s to %s", r.Fact.Package, versionText(r.Fact.Release.Version), r.To.Version)
	case r.Fact.Kind == FactLocked:
		return fmt.Sprintf("let %s (locked at %s) be removed", r.Fact.Package, versionText(r.Fact.Release.Version))
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

// maxRepairRounds bounds the checks spent on repairs.
const maxRepairRounds = 64

// repairs finds a cheapest set of edits of the user's constraints (roots
// widened to any version of their package or dropped, locks released,
// exclusions lifted), priced by the request's CostModel, after which a
// plan exists: a minimum-cost correction set, by implicit hitting sets.
// Each conflict found so far (the first is conflict) names user facts
// that cannot all stay as they are; the cheapest edits that touch every
// conflict found are checked by resolving the edited request, and when
// that fails, its refutation (or, with cycles forbidden, the facts that
// force a cycle) is one more conflict. Editing a constraint only weakens
// it, so a conflict met by an edited request holds for every request at
// least as strict, and the first edits that check are the cheapest.
//
// A released lock is checked with the lock removed; the repairs then
// resolve the request the way a user would apply them, the locks kept and
// the policy letting them change. The resolver changes the fewest locks,
// as many as the optimum releases (fewer would be a cheaper repair), and
// the lock repairs are the ones it changes, each with the release it
// picks. Each check is a search that looks at ctx; when ctx ends, the
// repairs are nil and the error is the context's.
func (s *SATResolver) repairs(ctx context.Context, u *Universe, req Request, conflict []Fact) ([]Repair, error) {
	ed := newEditor(u, req)
	core, ok := ed.coreOf(conflict, nil)
	if !ok {
		return nil, nil
	}
	cores := [][]coreFact{core}
	for range maxRepairRounds {
		levels, ok, err := ed.cheapestHitting(ctx, cores)
		if err != nil || !ok {
			return nil, err
		}
		edited := ed.apply(levels)
		p, proof, err := s.resolve(ctx, u, edited, false)
		var facts []Fact
		var ce *CycleError
		switch {
		case err == nil:
			return s.describeEdits(ctx, u, req, ed, levels, p), nil
		case errors.Is(err, errUnsat) && proof != nil && proof.pb != nil:
			for _, id := range proof.core {
				facts = append(facts, proof.pb.fact(id))
			}
		case errors.As(err, &ce):
			facts = ce.Facts
		default:
			var ie *InterruptedError
			if errors.As(err, &ie) && !errors.Is(ie.Cause, errBudgetSpent) {
				return nil, ie.Cause
			}
			return nil, nil
		}
		core, ok := ed.coreOf(facts, levels)
		if !ok {
			return nil, nil // the packages' own facts conflict
		}
		cores = append(cores, core)
	}
	return nil, nil
}

// editLevel is how far one user fact is edited: kept, weakened (a root
// widened, a lock released, an exclusion lifted) or, for a root, dropped.
type editLevel int8

const (
	levelKept editLevel = iota
	levelWeakened
	levelDropped
)

// coreFact is a user fact of a conflict and the level it had there: the
// conflict is resolved only by editing one of its facts further.
type coreFact struct {
	fact  int
	level editLevel
}

// editor prices and applies edits of a request's user facts.
type editor struct {
	req      Request
	costs    CostModel
	facts    []Fact
	tieScale int
	rootOf   []int // fact index -> its root index (-1: not a root)
}

func newEditor(u *Universe, req Request) *editor {
	ed := &editor{req: req, costs: req.Policy.Costs.withDefaults(), facts: userFacts(u, req)}
	ed.tieScale = 2*len(ed.facts)*(len(ed.facts)+1) + 1
	root := 0
	for _, f := range ed.facts {
		if f.Kind == FactRoot {
			ed.rootOf = append(ed.rootOf, root)
			root++
		} else {
			ed.rootOf = append(ed.rootOf, -1)
		}
	}
	return ed
}

// weight is the cost of editing fact i to level l; negative when the
// cost model forbids it. An edit costs weight × tieScale plus a tie term
// below one unit of cost, so the tie-break never outweighs a real
// difference.
func (ed *editor) weight(i int, l editLevel) int {
	if l == levelKept {
		return 0
	}
	var w int
	switch f := ed.facts[i]; {
	case f.Kind == FactRoot && l == levelWeakened:
		w = ed.costs.Widen
	case f.Kind == FactRoot:
		w = ed.costs.DropRoot
	case l == levelDropped:
		return -1
	case f.Kind == FactLocked:
		w = ed.costs.ReleaseLock
	default:
		w = ed.costs.LiftExclusion
	}
	if w < 0 {
		return -1
	}
	return w*ed.tieScale + ed.costs.tie(i, len(ed.facts))
}

// coreOf maps the facts of a conflict of the request edited to levels
// (nil: unedited) to the user facts it holds; false when it holds none,
// so no edit resolves it.
func (ed *editor) coreOf(facts []Fact, levels []editLevel) ([]coreFact, bool) {
	level := func(i int) editLevel {
		if levels == nil {
			return levelKept
		}
		return levels[i]
	}
	var out []coreFact
	seen := map[int]bool{}
	for _, f := range facts {
		for i, uf := range ed.facts {
			if seen[i] || uf.Kind != f.Kind {
				continue
			}
			match := false
			switch f.Kind {
			case FactRoot:
				// The root as it stands in the edited request.
				if level(i) != levelDropped {
					d := ed.req.Roots[ed.rootOf[i]]
					if level(i) == levelWeakened {
						d = Dependency{Name: d.Name}
					}
					match = d.String() == f.Dependency.String()
				}
			case FactLocked, FactExcluded:
				match = uf.Release == f.Release && level(i) == levelKept
			}
			if match {
				seen[i] = true
				out = append(out, coreFact{fact: i, level: level(i)})
			}
		}
	}
	return out, len(out) > 0
}

// apply returns the request with fact i edited to levels[i]: roots
// widened or dropped, released locks and lifted exclusions removed.
func (ed *editor) apply(levels []editLevel) Request {
	out := ed.req
	out.Previous = nil
	if levels == nil {
		return out
	}
	out.Roots, out.Locked, out.Excluded = nil, nil, nil
	released := map[*Release]bool{}
	for i, f := range ed.facts {
		switch {
		case f.Kind == FactRoot && levels[i] == levelKept:
			out.Roots = append(out.Roots, ed.req.Roots[ed.rootOf[i]])
		case f.Kind == FactRoot && levels[i] == levelWeakened:
			out.Roots = append(out.Roots, Dependency{Name: ed.req.Roots[ed.rootOf[i]].Name})
		case f.Kind != FactRoot && levels[i] != levelKept:
			released[f.Release] = true
		}
	}
	for _, l := range ed.req.Locked {
		if !released[ed.lockRelease(l)] {
			out.Locked = append(out.Locked, l)
		}
	}
	for _, x := range ed.req.Excluded {
		if !released[ed.exclRelease(x)] {
			out.Excluded = append(out.Excluded, x)
		}
	}
	return out
}

func (ed *editor) lockRelease(l ReleaseRef) *Release {
	for _, f := range ed.facts {
		if f.Kind == FactLocked && f.Release.Name == l.Name && f.Release.Version.Equal(l.Version) {
			return f.Release
		}
	}
	return nil
}

func (ed *editor) exclRelease(x ReleaseRef) *Release {
	for _, f := range ed.facts {
		if f.Kind == FactExcluded && f.Release.Name == x.Name && f.Release.Version.Equal(x.Version) {
			return f.Release
		}
	}
	return nil
}

// cheapestHitting returns the cheapest levels that edit some fact of
// every core beyond its level there and keep a root, by branch and bound
// over the facts the cores hold; false when none exist. It looks at ctx
// every few thousand nodes.
func (ed *editor) cheapestHitting(ctx context.Context, cores [][]coreFact) ([]editLevel, bool, error) {
	var order []int // the facts the cores hold, in the request's order
	pos := map[int]int{}
	for _, c := range cores {
		for _, cf := range c {
			if _, ok := pos[cf.fact]; !ok {
				pos[cf.fact] = -1
				order = append(order, cf.fact)
			}
		}
	}
	slices.Sort(order)
	for k, i := range order {
		pos[i] = k
	}
	// last[k] lists the cores whose last fact is order[k]: decided there.
	last := make([][]int, len(order))
	for ci, c := range cores {
		m := 0
		for _, cf := range c {
			m = max(m, pos[cf.fact])
		}
		last[m] = append(last[m], ci)
	}
	rootsKept := 0
	for i, f := range ed.facts {
		if _, inCore := pos[i]; f.Kind == FactRoot && !inCore {
			rootsKept++
		}
	}
	levels := make([]editLevel, len(ed.facts))
	var best []editLevel
	bestCost, nodes := -1, 0
	var err error
	hit := func(ci int) bool {
		for _, cf := range cores[ci] {
			if levels[cf.fact] > cf.level {
				return true
			}
		}
		return false
	}
	var walk func(k, cost, kept int)
	walk = func(k, cost, kept int) {
		if err != nil || (bestCost >= 0 && cost >= bestCost) {
			return
		}
		if nodes++; nodes%checkEvery == 0 {
			if err = ctx.Err(); err != nil {
				return
			}
		}
		if k == len(order) {
			if kept > 0 {
				best, bestCost = slices.Clone(levels), cost
			}
			return
		}
		i := order[k]
		for l := levelKept; l <= levelDropped; l++ {
			w := ed.weight(i, l)
			if w < 0 {
				continue
			}
			levels[i] = l
			ok := true
			for _, ci := range last[k] {
				if !hit(ci) {
					ok = false
					break
				}
			}
			if ok {
				k2 := kept
				if ed.facts[i].Kind == FactRoot && l != levelDropped {
					k2++
				}
				walk(k+1, cost+w, k2)
			}
		}
		levels[i] = levelKept
	}
	walk(0, 0, rootsKept)
	if err != nil {
		return nil, false, err
	}
	return best, best != nil, nil
}

// describeEdits turns the edits that checked into repairs: the request
// is resolved as the user would apply them (locks kept, changes allowed)
// for the locks' new releases and the roots' new ranges; p is the plan of
// the check, used when that resolution fails (the context ended).
func (s *SATResolver) describeEdits(ctx context.Context, u *Universe, req Request, ed *editor, levels []editLevel, p *Plan) []Repair {
	var set []relaxation
	for i, f := range ed.facts {
		if levels[i] != levelKept {
			set = append(set, relaxation{fact: f, drop: levels[i] == levelDropped})
		}
	}
	if edited, ok := relax(req, set); ok && edited.Policy.AllowLockChanges {
		if q, _, err := s.resolve(ctx, u, edited, false); err == nil {
			p = q
		}
	}
	return describe(u, req, set, p)
}

// repairsLegacy, for the legacy search's refutation (an unsatisfiable
// encoding), finds a cheapest set of edits of the user's constraints (roots
// widened to any version of their package or dropped, locks released,
// exclusions lifted), priced by the request's CostModel, after which a
// plan exists: a minimum-cost correction set, by gophersat's
// pseudo-boolean optimisation. Each user fact gets a relaxation variable
// per edit the model allows, with its cost; the packages' facts stay
// hard, and the solver minimises the cost over the encoding that proved
// the conflict. That encoding may hold only the facts near the request,
// so the edits are checked by resolving the edited request; when that
// still fails, the conflict it meets lies further out and the search
// repeats on an encoding twice as deep. A correction set of all the facts
// is one of any subset of them, so a checked optimum of a subset is the
// optimum.
//
// Released locks are checked the way a user would apply them: the locks
// stay and the policy lets them change. The resolver then changes the
// fewest locks, as many as the optimum releases (fewer would be a cheaper
// repair), and the lock repairs are the ones it changes, each with the
// release it picks.
func (s *SATResolver) repairsLegacy(ctx context.Context, u *Universe, req Request, proof *encoding) []Repair {
	costs := req.Policy.Costs.withDefaults()
	e := proof
	for range maxRepairRounds {
		if ctx.Err() != nil {
			return nil
		}
		set, ok := e.cheapestRelaxation(u, req, costs)
		if !ok {
			return nil // the packages' own facts conflict, or the model forbids every way out
		}
		edited, ok := relax(req, set)
		if !ok {
			return nil
		}
		p, _, err := s.resolve(ctx, u, edited, true)
		if err == nil {
			return describe(u, req, set, p)
		}
		if !errors.Is(err, errUnsat) || e.complete {
			return nil
		}
		if e, err = encode(u, req, s.maxReleases, e.depth*2, e.shared); err != nil {
			return nil
		}
	}
	return nil
}

// cheapestRelaxation minimises the cost of the edits of req's user facts
// after which e's facts can hold; false when no edits suffice. An edit
// costs weight × tieScale plus a tie term below one unit of cost, so the
// tie-break never outweighs a real difference.
func (e *encoding) cheapestRelaxation(u *Universe, req Request, costs CostModel) ([]relaxation, bool) {
	var cs []solver.CardConstr
	for _, f := range e.facts {
		if !f.User() {
			cs = append(cs, f.constrs...)
		}
	}
	cs = append(cs, e.background...)
	var options []relaxation
	var costLits []solver.Lit
	var weights []int
	top := e.nVars
	facts := userFacts(u, req)
	tieScale := 2*len(facts)*(len(facts)+1) + 1
	// option adds a relaxation variable for r (the fact at position order)
	// and returns it, or returns 0 when the model forbids the edit.
	option := func(r relaxation, order int) int {
		if r.weight < 0 {
			return 0
		}
		top++
		options = append(options, r)
		costLits = append(costLits, solver.IntToLit(int32(top)))
		weights = append(weights, r.weight*tieScale+costs.tie(order, len(facts)))
		return top
	}
	// orAllowed is lits with the relaxation variables that exist.
	orAllowed := func(lits []int, relax ...int) []int {
		for _, v := range relax {
			if v != 0 {
				lits = append(lits, v)
			}
		}
		return lits
	}
	var kept []int // "root i is not dropped", one of which must hold
	allDroppable := true
	for i, f := range facts {
		switch f.Kind {
		case FactRoot:
			widen := option(relaxation{fact: f, weight: costs.Widen}, i)
			drop := option(relaxation{fact: f, drop: true, weight: costs.DropRoot}, i)
			if drop == 0 {
				allDroppable = false
			} else {
				kept = append(kept, -drop)
			}
			cs = append(cs,
				solver.AtLeast1(orAllowed(e.candidateVars(f.Dependency), widen, drop)...),
				solver.AtLeast1(orAllowed(e.candidateVars(Dependency{Name: f.Dependency.Name}), drop)...))
		case FactLocked:
			if v := e.varOf[f.Release]; v > 0 {
				cs = append(cs, solver.AtLeast1(orAllowed([]int{v}, option(relaxation{fact: f, weight: costs.ReleaseLock}, i))...))
			}
		case FactExcluded:
			if v := e.varOf[f.Release]; v > 0 {
				cs = append(cs, solver.AtLeast1(orAllowed([]int{-v}, option(relaxation{fact: f, weight: costs.LiftExclusion}, i))...))
			}
		}
	}
	// Dropping every root leaves nothing to resolve.
	if allDroppable {
		cs = append(cs, solver.AtLeast1(kept...))
	}
	if top > 0 {
		cs = append(cs, solver.CardConstr{Lits: []int{top, -top}, AtLeast: 1})
	}
	for _, c := range cs {
		if len(c.Lits) < c.AtLeast { // e.g. a root nothing matches that may not be widened
			return nil, false
		}
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(cs)
	if pb.Status == solver.Unsat {
		return nil, false
	}
	if len(costLits) > 0 {
		pb.SetCostFunc(costLits, weights)
	}
	sv := solver.New(pb)
	if sv.Minimize() < 0 {
		return nil, false
	}
	model := sv.Model()
	var set []relaxation
	for k, r := range options {
		if !litTrue(model, e.nVars+1+k) {
			continue
		}
		// A dropped root needs no widening as well.
		if r.drop && len(set) > 0 && set[len(set)-1].fact.String() == r.fact.String() {
			set = set[:len(set)-1]
		}
		set = append(set, r)
	}
	return set, true
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

// relax returns req with the edits applied; false when nothing would be
// left to resolve. Released locks stay locked, with lock changes allowed,
// so that the check resolves what the user would.
func relax(req Request, set []relaxation) (Request, bool) {
	out := req
	out.Previous = nil
	out.Roots = nil
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
	for _, r := range set {
		if r.fact.Kind == FactLocked {
			out.Policy.AllowLockChanges = true
		}
	}
	for _, x := range req.Excluded {
		if _, ok := edit(Fact{Kind: FactExcluded, Package: x.Name, Release: &Release{Name: x.Name, Version: x.Version}}); !ok {
			out.Excluded = append(out.Excluded, x)
		}
	}
	return out, len(out.Roots) > 0
}

// describe turns a working set of relaxations into repairs, in the
// request's order, reading the plan p the edited request got: the roots'
// new ranges from the releases p chose, and (when locks were released)
// the locks p changes and the releases it moved them to.
func describe(u *Universe, req Request, set []relaxation, p *Plan) []Repair {
	var out []Repair
	locksReleased := false
	for _, r := range set {
		switch r.fact.Kind {
		case FactRoot:
			rep := Repair{Fact: r.fact}
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
			out = append(out, rep)
		case FactLocked:
			locksReleased = true
		}
	}
	if locksReleased {
		seen := map[string]bool{}
		for _, l := range req.Locked {
			locked := u.Release(l.Name, l.Version)
			if seen[l.Name] || p.Releases[l.Name] == locked {
				continue
			}
			seen[l.Name] = true
			out = append(out, Repair{Fact: Fact{Kind: FactLocked, Package: l.Name, Release: locked}, To: p.Releases[l.Name]})
		}
	}
	for _, r := range set {
		if r.fact.Kind == FactExcluded {
			out = append(out, Repair{Fact: r.fact})
		}
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
	d, err := withConstraint(chosen.Name, op+chosen.Version.String())
	if err != nil { // cannot happen for a parsed version
		return Dependency{Name: chosen.Name}
	}
	return d
}
