package deps

import (
	"context"
	"slices"
)

// The search's engine is conflict-driven clause learning over one boolean
// per release (true: the release is in the plan). Clauses are made lazily,
// when a release is first looked at: "r requires d" is ¬r ∨ c1 ∨ … ∨ ck
// over d's candidates when a capability may satisfy d, a conflict a binary
// clause per candidate, a root the disjunction of its candidates. A
// requirement on a plain package is kept as a range on that package
// instead (its releases out of range are ruled out when looked at), and
// becomes a clause only once no release of the package can satisfy it.
// One version per package, those ranges, the lock-change budget and (with
// cycles forbidden) acyclicity are propagated natively.
//
// Decisions come from the walk (search.go), in the preference's order, so
// the search must not throw away more of it than a dead end disproves: it
// backtracks chronologically (Nadel and Ryvchin 2018; Möhle and Biere
// 2019). A literal is assigned at the highest decision level among the
// literals that imply it, which may be below the current level; at a
// conflict the search returns to the conflict's own level, learns the
// first-UIP clause, goes back one level and asserts the clause's literal
// at its assertion level, keeping every decision before the one disproved.
//
// Every clause remembers where it came from: a fact of the request or of
// a package, or, for a learned clause, the clauses and level-0 literals it
// was resolved from. A conflict at level 0 therefore yields the facts its
// refutation used: an unsatisfiable core.

// lit is a literal: variable v true is 2v, false is 2v+1.
type lit int32

func posLit(v int32) lit { return lit(v << 1) }
func negLit(v int32) lit { return lit(v<<1 | 1) }

func (l lit) variable() int32 { return int32(l >> 1) }
func (l lit) not() lit        { return l ^ 1 }
func (l lit) positive() bool  { return l&1 == 0 }

// Clause origins other than a fact id.
const (
	// originLearned: a learned clause (or a theory lemma); its ante says
	// what it follows from.
	originLearned int32 = -1
	// originBackground: a constraint that is no fact (a release the
	// preference never chooses, the lock-change budget).
	originBackground int32 = -2
)

// anteKind says what an antecedent of a derived clause is.
type anteKind uint8

const (
	anteFact   anteKind = iota // a fact, by id
	anteClause                 // another clause, by id
	anteVar                    // the level-0 assignment of a variable
)

// ante is one antecedent of a derived clause.
type ante struct {
	kind anteKind
	id   int32
}

type clause struct {
	lits    []lit
	origin  int32
	watched bool
}

// watch is a clause watching a literal; blocker is another of its
// literals, true when the clause needs no visit.
type watch struct {
	c       int32
	blocker lit
}

// Reasons of an assignment.
const (
	rDecision   uint8 = iota // a decision of the walk
	rClause                  // unit in clause rdata
	rOneVersion              // another release (rdata) of the package is true
	rRange                   // release rdata requires the package in a range without this one (rdep: which requirement)
)

// searchStats counts a search's work.
type searchStats struct {
	decisions, conflicts, learned, propagations int
	// work counts units of work; checks the looks at the context.
	work, checks int
}

// search is one run of the walk and its learning engine over a problem.
type search struct {
	ctx  context.Context
	p    *problem
	opts searchOptions

	val    []int8 // 1 true, -1 false, 0 unassigned
	level  []int32
	rkind  []uint8
	rdata  []int32
	rdep   []int32
	trail  []lit
	qhead  int
	starts []int // trail position of each level's decision (starts[0] = 0)
	cur    int32 // the current decision level

	clauses []clause
	// antes holds what each learned clause follows from.
	antes      map[int32][]ante
	slab       []lit // backs the literals of the clauses made in prepare
	watches    [][]watch
	watchSlab  []watch // backs the first watches of each literal
	lastClause int32
	prepared   []bool
	// reqClause holds the clause of each requirement of the prepared
	// releases (-1: none), from reqBase[v].
	reqClause  []int32
	reqBase    []int32
	rootClause []int32
	pkgTrue    []int32 // the package's true variable once propagated, -1

	// The lock-change budget (nil budgetVars: none).
	budgetVars  []int32
	isBudgetVar []bool
	counted     []bool
	brokenCount int

	// The walk.
	queue    seqQueue[need]
	seq      int32
	steps    []step
	taken    []bool
	takenPkg []int32

	// Conflict analysis.
	seen, seen0 []bool
	learnBuf    []lit
	final       int32 // the conflict at level 0 that proves unsat

	// Cycle checks.
	visit      []int32 // per package, the stamp of the last check that reached it
	stamp      int32
	frames     []dfsFrame
	sinceCheck int

	stopped, budgetSpent bool
	// ctxErr is the context's error that stopped the search.
	ctxErr error
	stats  searchStats
}

func newSearch(ctx context.Context, p *problem, opts searchOptions) *search {
	n := len(p.rels)
	s := &search{ctx: ctx, p: p, opts: opts,
		val: make([]int8, n), level: make([]int32, n), rkind: make([]uint8, n), rdata: make([]int32, n), rdep: make([]int32, n),
		trail: make([]lit, 0, n), starts: []int{0}, watches: make([][]watch, 2*n), prepared: make([]bool, n),
		reqBase: make([]int32, n), reqClause: make([]int32, 0, 2*len(p.pkgName)), clauses: make([]clause, 0, 4*len(p.pkgName)), pkgTrue: make([]int32, len(p.pkgName)), counted: make([]bool, n),
		seen: make([]bool, n), seen0: make([]bool, n), final: -1, antes: map[int32][]ante{}}
	for i := range s.pkgTrue {
		s.pkgTrue[i] = -1
	}
	if opts.noCycles {
		s.visit = make([]int32, len(p.pkgName))
	}
	return s
}

// tick counts a unit of work and looks at the context every checkEvery
// units.
func (s *search) tick() {
	s.stats.work++
	s.sinceCheck++
	if s.sinceCheck >= checkEvery {
		s.sinceCheck = 0
		s.stats.checks++
		if err := s.ctx.Err(); err != nil {
			s.stopped, s.ctxErr = true, err
		}
	}
}

func (s *search) litVal(l lit) int8 {
	v := s.val[l>>1]
	if l&1 == 1 {
		return -v
	}
	return v
}

func (s *search) assign(l lit, lvl int32, kind uint8, data, dep int32) {
	v := l.variable()
	if l.positive() {
		s.val[v] = 1
	} else {
		s.val[v] = -1
	}
	s.level[v], s.rkind[v], s.rdata[v], s.rdep[v] = lvl, kind, data, dep
	s.trail = append(s.trail, l)
	s.stats.propagations++
}

func (s *search) unassign(v int32) {
	s.val[v] = 0
	if pk := s.p.relPkg[v]; s.pkgTrue[pk] == v {
		s.pkgTrue[pk] = -1
	}

	if s.counted[v] {
		s.counted[v] = false
		s.brokenCount--
	}
}

// decide opens a decision level with l.
func (s *search) decide(l lit) {
	s.cur++
	s.starts = append(s.starts, len(s.trail))
	s.assign(l, s.cur, rDecision, -1, 0)
	s.stats.decisions++
}

// backtrack removes every assignment above level l, keeping those at or
// below it in their order (they may lie above the decision of level l+1).
func (s *search) backtrack(l int32) {
	if l >= s.cur {
		return
	}
	if s.taken != nil {
		s.undoSteps(l)
	}
	start := s.starts[l+1]
	j, q := start, -1
	for i := start; i < len(s.trail); i++ {
		if i == s.qhead {
			q = j
		}
		t := s.trail[i]
		if v := t.variable(); s.level[v] > l {
			s.unassign(v)
		} else {
			s.trail[j] = t
			j++
		}
	}
	switch {
	case s.qhead < start:
		q = s.qhead
	case q < 0:
		q = j
	}
	s.trail, s.qhead = s.trail[:j], q
	s.starts = s.starts[:l+1]
	s.cur = l
}

func (s *search) watch(l lit, c int32, blocker lit) {
	ws := s.watches[l]
	if ws == nil {
		// A literal's first watches come from a slab: most literals
		// never have more than a few.
		if len(s.watchSlab)+watchRoom > cap(s.watchSlab) {
			s.watchSlab = make([]watch, 0, 1024*watchRoom)
		}
		n := len(s.watchSlab)
		ws = s.watchSlab[n : n : n+watchRoom]
		s.watchSlab = s.watchSlab[:n+watchRoom]
	}
	s.watches[l] = append(ws, watch{c: c, blocker: blocker})
}

// watchRoom is the room a literal's first watches get.
const watchRoom = 4

func (s *search) unwatch(l lit, c int32) {
	ws := s.watches[l]
	for i, w := range ws {
		if w.c == c {
			ws[i] = ws[len(ws)-1]
			s.watches[l] = ws[:len(ws)-1]
			return
		}
	}
}

// addClause adds a clause, watching its two best literals (non-false
// ones, else the false ones of the highest levels). A clause unit under
// the assignment assigns its literal; one all false is returned as a
// conflict (else -1). lastClause is its id.
func (s *search) addClause(lits []lit, origin int32, an []ante) int32 {
	c := int32(len(s.clauses))
	s.lastClause = c
	s.clauses = append(s.clauses, clause{lits: lits, origin: origin})
	if an != nil {
		s.antes[c] = an
	}
	switch len(lits) {
	case 0:
		return c
	case 1:
		switch s.litVal(lits[0]) {
		case 1:
			return -1
		case 0:
			s.assign(lits[0], 0, rClause, c, 0)
			return -1
		}
		return c
	}
	score := func(l lit) int64 {
		if s.litVal(l) >= 0 {
			return 1 << 40
		}
		return int64(s.level[l.variable()])
	}
	for k := range 2 {
		best := k
		for i := k + 1; i < len(lits); i++ {
			if score(lits[i]) > score(lits[best]) {
				best = i
			}
		}
		lits[k], lits[best] = lits[best], lits[k]
	}
	s.clauses[c].watched = true
	s.watch(lits[0], c, lits[1])
	s.watch(lits[1], c, lits[0])
	v0, v1 := s.litVal(lits[0]), s.litVal(lits[1])
	switch {
	case v0 < 0:
		return c
	case v0 == 0 && v1 < 0:
		s.assign(lits[0], s.level[lits[1].variable()], rClause, c, 0)
	}
	return -1
}

// conflictClause records a conflict found by a native propagator as an
// unwatched clause.
func (s *search) conflictClause(lits []lit, origin int32, an []ante) int32 {
	c := int32(len(s.clauses))
	s.clauses = append(s.clauses, clause{lits: lits, origin: origin})
	if an != nil {
		s.antes[c] = an
	}
	return c
}

// lits returns room for n literals, cut from a slab so that the many
// small clauses of prepare share a few allocations.
func (s *search) lits(n int) []lit {
	if len(s.slab)+n > cap(s.slab) {
		s.slab = make([]lit, 0, max(4096, n))
	}
	out := s.slab[len(s.slab) : len(s.slab)+n : len(s.slab)+n]
	s.slab = s.slab[:len(s.slab)+n]
	return out
}

// prepare makes the clauses of variable v's requirements and conflicts.
// It returns a conflict, or -1.
func (s *search) prepare(v int32) int32 {
	s.prepared[v] = true
	d := s.p.relOf(v)
	conflict := int32(-1)
	keep := func(c int32) {
		if conflict < 0 {
			conflict = c
		}
	}
	if len(d.requires) > 0 {
		s.reqBase[v] = int32(len(s.reqClause))
		for range d.requires {
			s.reqClause = append(s.reqClause, -1)
		}
		for k := range d.requires {
			dd := &d.requires[k]
			s.tick()
			if !s.isActive(dd.fact) || slices.Contains(s.p.candsOf(dd), v) {
				continue
			}
			keep(s.requirementClause(dd))
		}
	}
	for k := range d.conflicts {
		dd := &d.conflicts[k]
		if !s.isActive(dd.fact) {
			continue
		}
		for _, c := range dd.cands {
			s.tick()
			lits := s.lits(2)
			lits[0], lits[1] = negLit(v), negLit(c)
			keep(s.addClause(lits, dd.fact, nil))
		}
	}
	return conflict
}

// requirementClause adds the clause of requirement dd, ¬owner ∨ its
// candidates, and returns a conflict or -1.
func (s *search) requirementClause(dd *depData) int32 {
	cands := s.p.candsOf(dd)
	lits := s.lits(1 + len(cands))
	lits[0] = negLit(dd.owner)
	for i, c := range cands {
		lits[i+1] = posLit(c)
	}
	conflict := s.addClause(lits, dd.fact, nil)
	s.reqClause[s.reqBase[dd.owner]+dd.index] = s.lastClause
	return conflict
}

// propagate processes the trail until every assignment's consequences are
// made. It returns a conflict, or -1 (also when the search stopped).
func (s *search) propagate() int32 {
	for s.qhead < len(s.trail) {
		s.tick()
		if s.stopped {
			return -1
		}
		l := s.trail[s.qhead]
		s.qhead++
		var c int32
		if v := l.variable(); l.positive() {
			c = s.onTrue(v)
		} else {
			c = s.onFalse(v)
		}
		if c < 0 {
			c = s.propagateFalse(l.not())
		}
		if c >= 0 {
			s.qhead-- // its consequences are not all made: again if it stays
			return c
		}
	}
	return -1
}

// onTrue propagates what release v in the plan implies natively: no other
// release of its package, none of the releases its requirements rule out,
// its own clauses, and no cycle through it.
func (s *search) onTrue(v int32) int32 {
	p := s.p
	pk := p.relPkg[v]
	if w := s.pkgTrue[pk]; w >= 0 && w != v {
		return s.conflictClause([]lit{negLit(v), negLit(w)}, p.oneVersionFact(pk), nil)
	}
	s.pkgTrue[pk] = v
	if !s.prepared[v] {
		if c := s.prepare(v); c >= 0 {
			return c
		}
	}
	lv := s.level[v]
	for w := p.pkgFirst[pk]; w < p.pkgFirst[pk+1]; w++ {
		s.tick()
		if w == v {
			continue
		}
		switch s.val[w] {
		case 1:
			return s.conflictClause([]lit{negLit(v), negLit(w)}, p.oneVersionFact(pk), nil)
		case 0:
			s.assign(negLit(w), lv, rOneVersion, v, 0)
		}
	}
	d := p.relOf(v)
	for k := range d.requires {
		dd := &d.requires[k]
		if !dd.plain || !s.isActive(dd.fact) {
			continue
		}
		p.candsOf(dd)
		for _, w := range dd.out {
			s.tick()
			switch s.val[w] {
			case 1:
				return s.conflictClause([]lit{negLit(v), negLit(w)}, originLearned,
					[]ante{{anteFact, dd.fact}, {anteFact, p.oneVersionFact(dd.pkg)}})
			case 0:
				s.assign(negLit(w), lv, rRange, v, int32(k))
			}
		}
	}
	if s.opts.noCycles && p.scc != nil && p.scc[pk] >= 0 {
		return s.checkCycle(v)
	}
	return -1
}

// onFalse propagates a locked release leaving the plan against the
// lock-change budget.
func (s *search) onFalse(v int32) int32 {
	if s.budgetVars == nil || !s.isBudgetVar[v] || s.counted[v] {
		return -1
	}
	s.counted[v] = true
	s.brokenCount++
	if s.brokenCount < s.opts.maxBroken {
		return -1
	}
	var broken []lit
	var hi int32
	for _, b := range s.budgetVars {
		if s.counted[b] {
			broken = append(broken, posLit(b))
			hi = max(hi, s.level[b])
		}
	}
	if s.brokenCount > s.opts.maxBroken {
		return s.conflictClause(broken, originBackground, nil)
	}
	for _, b := range s.budgetVars {
		if s.val[b] == 0 {
			c := s.conflictClause(append([]lit{posLit(b)}, broken...), originBackground, nil)
			s.assign(posLit(b), hi, rClause, c, 0)
		}
	}
	return -1
}

// propagateFalse visits the clauses watching f, which just became false.
func (s *search) propagateFalse(f lit) int32 {
	ws := s.watches[f]
	i, j := 0, 0
	for i < len(ws) {
		w := ws[i]
		i++
		if s.litVal(w.blocker) == 1 {
			ws[j] = w
			j++
			continue
		}
		s.tick()
		lits := s.clauses[w.c].lits
		if lits[0] == f {
			lits[0], lits[1] = lits[1], f
		}
		first := lits[0]
		if first != w.blocker && s.litVal(first) == 1 {
			ws[j] = watch{w.c, first}
			j++
			continue
		}
		moved := false
		for k := 2; k < len(lits); k++ {
			if s.litVal(lits[k]) >= 0 {
				lits[1], lits[k] = lits[k], f
				s.watch(lits[1], w.c, first)
				moved = true
				break
			}
		}
		if moved {
			continue
		}
		if s.litVal(first) < 0 {
			ws[j] = watch{w.c, first}
			j++
			for i < len(ws) {
				ws[j] = ws[i]
				i++
				j++
			}
			s.watches[f] = ws[:j]
			return w.c
		}
		// Unit: first is implied at the highest level of the others,
		// whose literal becomes the second watch.
		hi, hk := s.level[f.variable()], 1
		for k := 2; k < len(lits); k++ {
			if lv := s.level[lits[k].variable()]; lv > hi {
				hi, hk = lv, k
			}
		}
		if hk != 1 {
			lits[1], lits[hk] = lits[hk], lits[1]
			s.watch(lits[1], w.c, first)
		} else {
			ws[j] = watch{w.c, first}
			j++
		}
		s.assign(first, hi, rClause, w.c, 0)
	}
	s.watches[f] = ws[:j]
	return -1
}

// rewatch makes a watched clause watch its two literals of the highest
// levels, so that backtracking frees its watches first.
func (s *search) rewatch(c int32) {
	cl := &s.clauses[c]
	if !cl.watched || len(cl.lits) < 2 {
		return
	}
	lits := cl.lits
	old0, old1 := lits[0], lits[1]
	for k := range 2 {
		best := k
		for i := k + 1; i < len(lits); i++ {
			if s.level[lits[i].variable()] > s.level[lits[best].variable()] {
				best = i
			}
		}
		lits[k], lits[best] = lits[best], lits[k]
	}
	if (lits[0] == old0 && lits[1] == old1) || (lits[0] == old1 && lits[1] == old0) {
		return
	}
	s.unwatch(old0, c)
	s.unwatch(old1, c)
	s.watch(lits[0], c, lits[1])
	s.watch(lits[1], c, lits[0])
}

// resolveConflict learns from conflict c and backtracks, until
// propagation reaches a fixpoint. It returns false when the conflict
// holds at level 0 (s.final proves that no plan exists).
func (s *search) resolveConflict(c int32) bool {
	for c >= 0 {
		s.stats.conflicts++
		lits := s.clauses[c].lits
		var top, second int32
		count := 0
		for _, l := range lits {
			switch lv := s.level[l.variable()]; {
			case lv > top:
				second, top, count = top, lv, 1
			case lv == top:
				count++
			case lv > second:
				second = lv
			}
		}
		if len(lits) == 0 || top == 0 {
			s.final = c
			return false
		}
		s.rewatch(c)
		if count == 1 {
			// The clause was unit at a lower level: a missed implication.
			var u lit
			for _, l := range lits {
				if s.level[l.variable()] == top {
					u = l
				}
			}
			s.backtrack(top - 1)
			s.assign(u, second, rClause, c, 0)
		} else {
			s.backtrack(top)
			learnt, at, an := s.analyze(c, top)
			lc := s.addLearnt(learnt, an)
			s.backtrack(top - 1)
			s.assign(learnt[0], at, rClause, lc, 0)
		}
		c = s.propagate()
		if s.stopped {
			return true
		}
	}
	return true
}

// reasonOf calls fn with each false literal of the reason of an
// assignment (kind, data, dep) of variable v (-1: the clause is the
// conflict itself, all of whose literals count).
func (s *search) reasonOf(kind uint8, data, v int32, fn func(lit)) {
	switch kind {
	case rClause:
		for _, l := range s.clauses[data].lits {
			if l.variable() != v {
				fn(l)
			}
		}
	case rOneVersion, rRange:
		fn(negLit(data))
	}
}

// anteOf appends the antecedents of a reason to an.
func (s *search) anteOf(kind uint8, data, dep, v int32, an []ante) []ante {
	switch kind {
	case rClause:
		switch o := s.clauses[data].origin; {
		case o >= 0:
			an = append(an, ante{anteFact, o})
		case o == originLearned:
			an = append(an, ante{anteClause, data})
		}
	case rOneVersion:
		an = append(an, ante{anteFact, s.p.oneVersionFact(s.p.relPkg[v])})
	case rRange:
		an = append(an, ante{anteFact, s.p.relOf(data).requires[dep].fact}, ante{anteFact, s.p.oneVersionFact(s.p.relPkg[v])})
	}
	return an
}

// analyze derives the first-UIP clause of conflict c at level top (the
// trail holds nothing above it): the asserted literal first, then the
// literal of the assertion level, whose level it returns, with the
// antecedents of the derivation.
func (s *search) analyze(c int32, top int32) ([]lit, int32, []ante) {
	learnt := append(s.learnBuf[:0], 0)
	var an []ante
	var zero []int32
	pathC := 0
	idx := len(s.trail) - 1
	kind, data, dep, pivot := rClause, c, int32(0), int32(-1)
	for {
		s.reasonOf(kind, data, pivot, func(q lit) {
			v := q.variable()
			switch lv := s.level[v]; {
			case lv == 0:
				if !s.seen0[v] {
					s.seen0[v] = true
					zero = append(zero, v)
				}
			case s.seen[v]:
			case lv == top:
				s.seen[v] = true
				pathC++
			default:
				s.seen[v] = true
				learnt = append(learnt, q)
			}
		})
		an = s.anteOf(kind, data, dep, pivot, an)
		for {
			v := s.trail[idx].variable()
			if s.seen[v] && s.level[v] == top {
				break
			}
			idx--
		}
		pl := s.trail[idx]
		idx--
		v := pl.variable()
		s.seen[v] = false
		pathC--
		if pathC == 0 {
			learnt[0] = pl.not()
			break
		}
		kind, data, dep, pivot = s.rkind[v], s.rdata[v], s.rdep[v], v
	}
	at, ai := int32(0), 1
	for i, l := range learnt[1:] {
		v := l.variable()
		s.seen[v] = false
		if lv := s.level[v]; lv > at {
			at, ai = lv, i+1
		}
	}
	if len(learnt) > 1 {
		learnt[1], learnt[ai] = learnt[ai], learnt[1]
	}
	for _, v := range zero {
		s.seen0[v] = false
		an = append(an, ante{anteVar, v})
	}
	s.learnBuf = learnt
	return slices.Clone(learnt), at, an
}

// addLearnt stores a learned clause, watching its first two literals.
func (s *search) addLearnt(lits []lit, an []ante) int32 {
	c := int32(len(s.clauses))
	s.clauses = append(s.clauses, clause{lits: lits, origin: originLearned})
	s.antes[c] = an
	s.stats.learned++
	if len(lits) >= 2 {
		s.clauses[c].watched = true
		s.watch(lits[0], c, lits[1])
		s.watch(lits[1], c, lits[0])
	}
	return c
}

// core returns the ids of the facts the refutation behind s.final used.
func (s *search) core() []int32 {
	if s.final < 0 {
		return nil
	}
	var out []int32
	factSeen := map[int32]bool{}
	clauseSeen := map[int32]bool{}
	varSeen := map[int32]bool{}
	stack := []ante{{anteClause, s.final}}
	for _, l := range s.clauses[s.final].lits {
		stack = append(stack, ante{anteVar, l.variable()})
	}
	for len(stack) > 0 {
		a := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		switch a.kind {
		case anteFact:
			if !factSeen[a.id] {
				factSeen[a.id] = true
				out = append(out, a.id)
			}
		case anteClause:
			if clauseSeen[a.id] {
				continue
			}
			clauseSeen[a.id] = true
			cl := &s.clauses[a.id]
			if cl.origin >= 0 {
				stack = append(stack, ante{anteFact, cl.origin})
			}
			stack = append(stack, s.antes[a.id]...)
		case anteVar:
			if varSeen[a.id] {
				continue
			}
			varSeen[a.id] = true
			v := a.id
			stack = s.anteOf(s.rkind[v], s.rdata[v], s.rdep[v], v, stack)
			s.reasonOf(s.rkind[v], s.rdata[v], v, func(q lit) { stack = append(stack, ante{anteVar, q.variable()}) })
		}
	}
	slices.Sort(out)
	return out
}
