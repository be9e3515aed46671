package deps

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/crillab/gophersat/solver"
)

// UnsatisfiableError says why no plan exists: a minimal set of facts that
// cannot all hold (removing any one of them makes the rest satisfiable),
// and the cheapest edits of the request that would make it solvable.
type UnsatisfiableError struct {
	// Conflict is a minimal unsatisfiable set of the request's and the
	// packages' facts (with Interrupted set, unsatisfiable but possibly
	// not minimal).
	Conflict []Fact
	// Repairs are the cheapest edits of the request (roots, locks,
	// exclusions), priced by its Policy.Costs, after which a plan exists;
	// empty when the packages' facts alone conflict, when the cost model
	// forbids every edit that would do, when the search for them meets
	// more than 64 conflicts (maxRepairRounds), or when Interrupted is set. With
	// cycles forbidden, the edited request has a plan without a cycle.
	Repairs []Repair
	// Interrupted is the context's error when the context ended while the
	// explanation was worked out (nil otherwise): no plan exists all the
	// same, but Conflict may not be minimal and Repairs may be missing.
	// The error then also matches ErrInterrupted and the context's error.
	Interrupted error
	// providers names, for each capability a fact of Conflict depends on
	// (by the dependency's text), the releases in range that provide it.
	providers map[string][]string
}

// Error renders the derivation: the packages' facts, then the user's, then
// the conclusion and the repairs.
func (e *UnsatisfiableError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNoSolution.Error())
	b.WriteString(": ")
	b.WriteString(e.Explain())
	return b.String()
}

// Unwrap returns ErrNoSolution, and, when the explanation was cut short,
// ErrInterrupted and the context's error.
func (e *UnsatisfiableError) Unwrap() []error {
	if e.Interrupted != nil {
		return []error{ErrNoSolution, ErrInterrupted, e.Interrupted}
	}
	return []error{ErrNoSolution}
}

// Explain renders the conflict as a short derivation a person can follow,
// e.g. "amf@2.0.0 requires nrf >=3; smf@1.4.0 requires nrf <3; only one
// version of nrf can be installed; you asked for amf 2.x and smf =1.4; so no
// plan exists. Try: allow smf 1.5.0 instead of smf =1.4."
func (e *UnsatisfiableError) Explain() string {
	var pkgFacts, user []string
	for _, line := range summarise(e.Conflict, e.providers) {
		if line.user {
			user = append(user, line.text)
		} else {
			pkgFacts = append(pkgFacts, line.text)
		}
	}
	var parts []string
	parts = append(parts, pkgFacts...)
	if len(user) > 0 {
		parts = append(parts, joinAnd(user))
	}
	text := strings.Join(parts, "; ") + "; so no plan exists."
	if e.Interrupted != nil {
		text += " (The explanation was cut short: " + e.Interrupted.Error() + ".)"
	}
	if len(e.Repairs) > 0 {
		var rs []string
		for _, r := range e.Repairs {
			rs = append(rs, r.String())
		}
		text += " Try: " + strings.Join(rs, ", and ") + "."
	}
	return text
}

type summaryLine struct {
	text string
	user bool
}

// summarise merges facts that differ only in the release's version, e.g.
// "amf@2.0.0 requires nrf >=3" and "amf@2.1.0 requires nrf >=3" become
// "amf 2.0.0, 2.1.0 require nrf >=3"; user facts are merged into one
// "you asked for ..." clause. A dependency on a capability names the
// releases that provide it, from providers.
func summarise(facts []Fact, providers map[string][]string) []summaryLine {
	dep := func(d Dependency) string { return withProviders(d, providers[d.String()]) }
	type key struct {
		kind FactKind
		pkg  string
		dep  string
	}
	versions := map[key][]string{}
	var order []key
	var roots []string
	var out []summaryLine
	for _, f := range facts {
		switch f.Kind {
		case FactRequires, FactConflicts:
			k := key{f.Kind, f.Package, dep(f.Dependency)}
			if _, ok := versions[k]; !ok {
				order = append(order, k)
			}
			versions[k] = append(versions[k], f.Release.Version.String())
		case FactRoot:
			roots = append(roots, dep(f.Dependency))
		default:
			out = append(out, summaryLine{text: f.String(), user: f.User()})
		}
	}
	var lines []summaryLine
	for _, k := range order {
		vs := versions[k]
		verb := map[FactKind]string{FactRequires: "requires", FactConflicts: "conflicts with"}[k.kind]
		if len(vs) > 1 {
			verb = map[FactKind]string{FactRequires: "require", FactConflicts: "conflict with"}[k.kind]
			lines = append(lines, summaryLine{text: fmt.Sprintf("%s %s %s %s", k.pkg, strings.Join(vs, ", "), verb, k.dep)})
		} else {
			lines = append(lines, summaryLine{text: fmt.Sprintf("%s@%s %s %s", k.pkg, vs[0], verb, k.dep)})
		}
	}
	lines = append(lines, out...)
	if len(roots) > 0 {
		lines = append(lines, summaryLine{text: "you asked for " + joinAnd(roots), user: true})
	}
	return lines
}

// maxProvidersNamed bounds the providers an explanation names for one
// capability.
const maxProvidersNamed = 3

// withProviders renders d followed by the releases that provide it, when
// it is a capability: "5gc-database >=1 (provided by udm@4.0.0)".
func withProviders(d Dependency, providers []string) string {
	switch n := len(providers); {
	case n == 0:
		return d.String()
	case n > maxProvidersNamed:
		return fmt.Sprintf("%s (provided by %s and %d more)", d, strings.Join(providers[:maxProvidersNamed], ", "), n-maxProvidersNamed)
	default:
		return fmt.Sprintf("%s (provided by %s)", d, joinAnd(providers))
	}
}

// providersOf lists, for each dependency of facts on a capability of u,
// the IDs of the releases that provide it in range.
func providersOf(u *Universe, facts []Fact) map[string][]string {
	out := map[string][]string{}
	for _, f := range facts {
		d := f.Dependency
		if d.Name == "" || len(u.providers[d.Name]) == 0 {
			continue
		}
		if _, done := out[d.String()]; done {
			continue
		}
		var ids []string
		for _, c := range u.Candidates(d) {
			if c.Name != d.Name {
				ids = append(ids, c.ID())
			}
		}
		out[d.String()] = ids
	}
	return out
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// explain builds the *UnsatisfiableError of a request whose refutation
// proof shows it has no plan: a minimal conflict among the facts of the
// refutation's core, and the cheapest repairs of the request. Every step
// is a search that looks at ctx; when ctx ends, the error carries what was
// found by then and the context's error (Interrupted).
func (s *SATResolver) explain(ctx context.Context, u *Universe, req Request, proof *refutation) error {
	if proof == nil {
		return fmt.Errorf("deps: internal error, no plan and no proof")
	}
	if proof.enc != nil {
		return s.explainLegacy(ctx, u, req, proof.enc)
	}
	out := &UnsatisfiableError{}
	conflict, err := s.minimalCore(ctx, proof)
	out.Conflict = conflict
	out.providers = providersOf(u, out.Conflict)
	if err != nil {
		out.Interrupted = err
		return out
	}
	out.Repairs, out.Interrupted = s.repairs(ctx, u, req, out.Conflict)
	return out
}

// minimalCore returns a minimal unsatisfiable subset of the refutation's
// core by QuickXplain (Junker 2004): O(k log(n/k)) checks for a conflict
// of k facts among n. The search takes one version per package as given,
// so the other facts are minimised first, each check a search with only
// the facts checked; then the one-version facts of the packages those
// facts name, each check a gophersat call over the releases the few facts
// left name. When ctx ends first, it returns the whole core with the
// one-version facts of the packages it names (unsatisfiable, not
// necessarily minimal) and the context's error.
func (s *SATResolver) minimalCore(ctx context.Context, proof *refutation) ([]Fact, error) {
	pb := proof.pb
	var others []int32
	for _, f := range proof.core {
		if pb.facts[f].kind != FactOneVersion {
			others = append(others, f)
		}
	}
	withOneVersion := func(ids []int32) []Fact {
		var out []Fact
		for _, f := range ids {
			out = append(out, pb.fact(f))
		}
		for _, name := range pb.namedPackages(out) {
			out = append(out, Fact{Kind: FactOneVersion, Package: name})
		}
		return out
	}
	conflicts := func(facts []int32) (bool, error) {
		o := proof.opts
		o.budget = 0
		o.active = make([]bool, len(pb.facts))
		for _, f := range facts {
			o.active[f] = true
		}
		r := s.run(ctx, pb, o)
		switch {
		case r.outcome == found:
			return false, nil
		case r.outcome == unsat:
			return true, nil
		case r.cause != nil:
			return false, r.cause
		}
		return false, fmt.Errorf("deps: internal error, a search without a budget stopped before the context ended")
	}
	minimal, err := quickXplain(nil, false, others, conflicts)
	if err != nil {
		return withOneVersion(others), err
	}
	var kept []Fact
	for _, f := range minimal {
		kept = append(kept, pb.fact(f))
	}
	names := pb.namedPackages(kept)
	idx := make([]int32, len(names))
	for i := range idx {
		idx[i] = int32(i)
	}
	oneVersionConflicts := func(facts []int32) (bool, error) {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		all := slices.Clone(kept)
		for _, i := range facts {
			all = append(all, Fact{Kind: FactOneVersion, Package: names[i]})
		}
		return !pb.satisfiable(all), nil
	}
	if ok, err := oneVersionConflicts(idx); err != nil || !ok {
		// A conflict the check cannot see (never expected): the facts the
		// searches found, with every one-version fact they need.
		return withOneVersion(minimal), err
	}
	// The facts kept may conflict without any one-version fact: check nil first.
	needed, err := quickXplain(nil, true, idx, oneVersionConflicts)
	if err != nil {
		return withOneVersion(minimal), err
	}
	for _, i := range needed {
		kept = append(kept, Fact{Kind: FactOneVersion, Package: names[i]})
	}
	return kept, nil
}

// miniEncoding is the clauses of facts over the releases they name (the
// releases the preference omits never chosen), and those releases'
// variables by package.
func (p *problem) miniEncoding(facts []Fact) ([]solver.CardConstr, map[string][]int, int) {
	omitted := map[*Release]bool{}
	for v, o := range p.omitted {
		if o {
			omitted[p.rels[v]] = true
		}
	}
	varOf := map[*Release]int{}
	byPkg := map[string][]int{}
	variable := func(r *Release) int {
		if v, ok := varOf[r]; ok {
			return v
		}
		v := len(varOf) + 1
		varOf[r] = v
		byPkg[r.Name] = append(byPkg[r.Name], v)
		return v
	}
	cands := func(d Dependency) []int {
		var out []int
		for _, c := range p.u.Candidates(d) {
			if !omitted[c] {
				out = append(out, variable(c))
			}
		}
		return out
	}
	var cs []solver.CardConstr
	var oneVersion []string
	for _, f := range facts {
		switch f.Kind {
		case FactRoot:
			cs = append(cs, solver.AtLeast1(cands(f.Dependency)...))
		case FactRequires:
			cs = append(cs, solver.AtLeast1(append([]int{-variable(f.Release)}, cands(f.Dependency)...)...))
		case FactConflicts:
			v := variable(f.Release)
			for _, c := range cands(f.Dependency) {
				if c != v {
					cs = append(cs, solver.AtLeast1(-v, -c))
				}
			}
		case FactLocked:
			cs = append(cs, solver.AtLeast1(variable(f.Release)))
		case FactExcluded:
			cs = append(cs, solver.AtLeast1(-variable(f.Release)))
		case FactOneVersion:
			oneVersion = append(oneVersion, f.Package)
		}
	}
	for _, name := range oneVersion {
		vs := byPkg[name]
		for i := range vs {
			for j := i + 1; j < len(vs); j++ {
				cs = append(cs, solver.AtLeast1(-vs[i], -vs[j]))
			}
		}
	}
	return cs, byPkg, len(varOf)
}

// namedPackages lists, sorted, the packages of which facts name two
// releases or more: those whose one-version fact may matter.
func (p *problem) namedPackages(facts []Fact) []string {
	_, byPkg, _ := p.miniEncoding(facts)
	var out []string
	for name, vs := range byPkg {
		if len(vs) > 1 {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// satisfiable reports whether facts can all hold, by gophersat over the
// releases they name: quick for the few facts of a conflict.
func (p *problem) satisfiable(facts []Fact) bool {
	cs, _, n := p.miniEncoding(facts)
	for _, c := range cs {
		if len(c.Lits) == 0 {
			return false
		}
	}
	if n > 0 {
		cs = append(cs, solver.CardConstr{Lits: []int{n, -n}, AtLeast: 1})
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pbm := solver.ParseCardConstrs(cs)
	if pbm.Status == solver.Unsat {
		return false
	}
	return solver.New(pbm).Solve() == solver.Sat
}

// explainLegacy explains the legacy search's refutation, an unsatisfiable
// encoding, with gophersat (which cannot be interrupted).
func (s *SATResolver) explainLegacy(ctx context.Context, u *Universe, req Request, proof *encoding) error {
	conflict := proof.minimalConflict()
	out := &UnsatisfiableError{}
	for _, f := range conflict {
		out.Conflict = append(out.Conflict, f.Fact)
	}
	out.providers = providersOf(u, out.Conflict)
	out.Repairs = s.repairsLegacy(ctx, u, req, proof)
	return out
}

// minimalConflict returns a minimal unsatisfiable subset of the facts of an
// unsatisfiable encoding (which may be a depth-limited one: a conflict near
// the request never touches the far end of a large universe).
//
// QuickXplain (Junker 2004) finds it with O(k log(n/k)) satisfiability
// checks for a conflict of k facts among n. The checks share one warm
// solver: each fact's clauses carry a selector variable, and a subset is
// checked by assuming the selectors of its facts, so what the solver learns
// in one check serves the next. Facts are ordered by their distance from
// the request, which keeps a local conflict in few halves.
func (e *encoding) minimalConflict() []fact {
	for _, f := range e.facts {
		for _, c := range f.constrs {
			if len(c.Lits) == 0 || len(c.Lits) < c.AtLeast { // e.g. a root nothing matches
				return []fact{f}
			}
		}
	}
	facts := slices.Clone(e.facts)
	slices.SortStableFunc(facts, func(a, b fact) int { return a.dist - b.dist })
	ss := e.newSubsetSolver(facts)
	idx := make([]int, len(facts))
	for i := range idx {
		idx[i] = i
	}
	var out []fact
	for _, i := range ss.quickXplain(nil, false, idx) {
		out = append(out, facts[i])
	}
	return out
}

// subsetSolver checks subsets of facts on one solver, through a selector
// variable per fact.
type subsetSolver struct {
	s     *solver.Solver
	fixed []solver.Lit
	sel   []solver.Lit
	unsat bool // the background alone is unsatisfiable
}

func (e *encoding) newSubsetSolver(facts []fact) *subsetSolver {
	ss := &subsetSolver{}
	var cs []solver.CardConstr
	for i, f := range facts {
		sel := e.nVars + 1 + i
		ss.sel = append(ss.sel, solver.IntToLit(int32(sel)))
		for _, c := range f.constrs {
			// Every fact's constraint is a clause (at least one literal).
			cs = append(cs, solver.AtLeast1(append(slices.Clone(c.Lits), -sel)...))
		}
	}
	cs = append(cs, e.background...)
	if top := e.nVars + len(facts); top > 0 {
		cs = append(cs, solver.CardConstr{Lits: []int{top, -top}, AtLeast: 1})
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	pb := solver.ParseCardConstrs(cs)
	if pb.Status == solver.Unsat {
		ss.unsat = true
		return ss
	}
	ss.fixed = slices.Clone(pb.Units)
	ss.s = solver.New(pb)
	return ss
}

// sat reports whether the facts of idx can all hold.
func (ss *subsetSolver) sat(idx []int) bool {
	if ss.unsat {
		return false
	}
	assumed := slices.Clone(ss.fixed)
	for _, i := range idx {
		assumed = append(assumed, ss.sel[i])
	}
	gophersatMu.Lock()
	defer gophersatMu.Unlock()
	if ss.s.Assume(assumed) == solver.Unsat {
		return false
	}
	return ss.s.Solve() == solver.Sat
}

// quickXplain returns a minimal subset of c that is unsatisfiable together
// with background b; changed says whether b changed since the last check.
func (ss *subsetSolver) quickXplain(b []int, changed bool, c []int) []int {
	if changed && !ss.sat(b) {
		return nil
	}
	if len(c) == 1 {
		return c
	}
	c1, c2 := c[:len(c)/2], c[len(c)/2:]
	d2 := ss.quickXplain(slices.Concat(b, c1), len(c1) > 0, c2)
	d1 := ss.quickXplain(slices.Concat(b, d2), len(d2) > 0, c1)
	return slices.Concat(d1, d2)
}
