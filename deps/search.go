package deps

import (
	"context"
	"math"
	"slices"
)

// The search decides the plan one need at a time. A need is something the
// plan must (or may) hold: a root of the request, a locked package, or a
// dependency of a release already taken. Needs are taken in the
// Preference's package order (ties in arrival order); each gets its most
// preferred choice that still admits a plan, so the plan is the
// preference's lexicographic optimum. This walk is the decision procedure
// of a conflict-driven clause-learning search (learning.go) over one
// boolean per release: choosing a release is a decision, and everything
// the facts then force is propagated (one version per package, the ranges
// of the chosen releases, their dependencies that no release can fill any
// more, conflicts, locks, exclusions, the lock-change budget, and, with
// cycles forbidden, no dependency cycle). A dead end yields a learned
// clause that is never violated again, so no dead end is explored twice.
//
// The first plan the walk completes is the optimum: a choice is skipped
// only when it is false, and a false literal is implied by the facts and
// the decisions before it, which the optimum shares. A conflict that holds
// at decision level 0 proves that no plan exists; the facts its derivation
// used are an unsatisfiable core (core).

// itemKind says why an item is decided.
type itemKind int

const (
	// itemRoot: a root of the request; it must be satisfied.
	itemRoot itemKind = iota
	// itemLock: a locked package; it keeps its release unless the policy
	// lets locks change.
	itemLock
	// itemRequired: a hard dependency of a chosen release.
	itemRequired
	// itemOptional: an optional dependency of a chosen release, satisfied
	// when possible.
	itemOptional
)

// checkEvery is how many units of work (a clause visited, an assignment
// made, a need taken, a candidate checked) the search does between two
// looks at its context. A unit is bounded by the size of one release's
// declarations, so the context is seen at least every few hundred
// microseconds.
const checkEvery = 1024

// queued is what a seqQueue orders: by rank, then arrival.
type queued interface {
	order() (rank, seq int)
}

// seqQueue is a binary heap ordered by rank, then arrival. It finds an
// element by its sequence number so that an undone step can take back
// what it queued. Each element's order is read once, when it is pushed,
// and kept beside it, so that sifting compares integers rather than
// calling order (typed rather than container/heap, which boxes every
// element it moves).
type seqQueue[T queued] struct {
	items []T
	keys  []queueKey
	index []int // seq -> position in items (sequence numbers are dense)
}

// queueKey is an element's order.
type queueKey struct{ rank, seq int }

func (q *seqQueue[T]) len() int { return len(q.items) }

func (q *seqQueue[T]) less(i, j int) bool {
	a, b := q.keys[i], q.keys[j]
	return a.rank < b.rank || (a.rank == b.rank && a.seq < b.seq)
}

func (q *seqQueue[T]) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.keys[i], q.keys[j] = q.keys[j], q.keys[i]
	q.index[q.keys[i].seq] = i
	q.index[q.keys[j].seq] = j
}

func (q *seqQueue[T]) push(it T) {
	rank, seq := it.order()
	for len(q.index) <= seq {
		q.index = append(q.index, -1)
	}
	q.index[seq] = len(q.items)
	q.items = append(q.items, it)
	q.keys = append(q.keys, queueKey{rank, seq})
	q.up(len(q.items) - 1)
}

// pop removes and returns the first element.
func (q *seqQueue[T]) pop() T { return q.remove(0) }

// remove removes and returns the element at position i.
func (q *seqQueue[T]) remove(i int) T {
	n := len(q.items) - 1
	if i != n {
		q.swap(i, n)
		if !q.down(i, n) {
			q.up(i)
		}
	}
	it, seq := q.items[n], q.keys[n].seq
	q.items, q.keys = q.items[:n], q.keys[:n]
	q.index[seq] = -1
	return it
}

func (q *seqQueue[T]) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !q.less(j, i) {
			break
		}
		q.swap(i, j)
		j = i
	}
}

// down sifts element i down among the first n; it reports whether it moved.
func (q *seqQueue[T]) down(i0, n int) bool {
	i := i0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		j := l
		if r := l + 1; r < n && q.less(r, l) {
			j = r
		}
		if !q.less(j, i) {
			break
		}
		q.swap(i, j)
		i = j
	}
	return i > i0
}

// problem is what every search of one resolution shares: the variables
// (one per release within reach), the preference's order, the candidates
// of each dependency (computed once, on first use) and the facts.
type problem struct {
	u    *Universe
	req  Request
	pref Preference
	in   PreferenceInput

	// rels holds the releases by variable; the variables of package p are
	// pkgFirst[p] to pkgFirst[p+1]-1, newest first.
	rels     []*Release
	relPkg   []int32
	pkgFirst []int32
	pkgName  []string
	pkgID    map[string]int32
	// rank is each package's position in the preference's order.
	rank []int32
	// choices are each package's variables in the preference's order,
	// followed by those the preference leaves out (omitted).
	choices [][]int32
	omitted []bool
	// locked is each package's locked variable (-1: none), and lockVars
	// the locked variables in request order.
	locked   []int32
	lockVars []int32
	excluded []int32 // excluded variables
	// key holds each variable's versionKey (noKey: none), so that
	// ranges are checked on integers laid out together rather than on
	// versions scattered over the heap.
	key []uint64
	// rel holds each variable's declarations, built on first use.
	rel []*relData
	// needs maps a dependency's name to the packages that can satisfy it,
	// in the preference's provider order; capRank memoises the rank of a
	// name that is no package.
	needs   map[string][]int32
	capRank map[string]int32
	roots   []depData
	// pkgs and pos are reach's record of the packages (reached.pkgs)
	// and of the position of each numbered name (reached.pos).
	pkgs []*pkgData
	pos  []int32
	// slab backs the candidate lists; scratch and scratchOut are
	// candsOf's buffers; relSlab and depSlab back the declarations.
	slab, scratch, scratchOut []int32
	relSlab                   []relData
	depSlab                   []depData

	// facts are the constraints the searches use, by id (fact renders
	// one). The facts of roots, locks and exclusions are made up front;
	// those of a release's requirements and conflicts when the release is
	// first looked at.
	facts      []factRef
	oneVersion []int32 // package -> its FactOneVersion id, -1 until used
	lockFact   []int32 // lockVars index -> its FactLocked id (hard locks only)
	exclFact   []int32 // excluded index -> its FactExcluded id

	// scc is each package's strongly connected component in the graph of
	// what may depend on what (cycles forbidden only); a package alone in
	// its component and without a dependency on itself is -1.
	scc []int32
}

// factRef names a fact compactly (no pointers for the collector to
// follow): its kind, the variable it is about (the package id for
// FactOneVersion, -1 for a root) and the index of its dependency in the
// release's (or the request's) list.
type factRef struct {
	v, k int32
	kind FactKind
}

// relData is what the search needs of a release's declarations.
type relData struct {
	requires  []depData
	optional  []depData
	conflicts []depData
}

// depData is one dependency (or conflict) of a release, or a root.
type depData struct {
	dep *Dependency
	// pkg is the package named like the dependency (-1: none within
	// reach). plain says that no release provides a capability of that
	// name, so the candidates are pkg's releases in range.
	pkg   int32
	plain bool
	// all says that the dependency allows every version; rng is its
	// range compiled for versionKeys (nil: Masterminds/semver checks it).
	all bool
	rng *versionRange
	// cands are the candidate variables, once made (candsOf): the
	// releases that satisfy the dependency, package by package in the
	// provider order, each package's in the preference's order (releases
	// it leaves out last). For a plain dependency, out lists pkg's other
	// releases: those a release in the plan with this requirement rules
	// out.
	cands []int32
	out   []int32
	made  bool
	// fact is the FactRequires, FactConflicts or FactRoot id (-1 for an
	// optional dependency); index is the dependency's position in its
	// release's (or the request's) list.
	fact  int32
	index int32
	// owner is the release's variable (-1 for a root).
	owner int32
}

// newProblem lays out the variables of the packages in reach.
func newProblem(u *Universe, req Request, pref Preference, in PreferenceInput, rc reached) *problem {
	p := &problem{u: u, req: req, pref: pref, in: in, pkgs: rc.pkgs, pos: rc.pos, pkgID: make(map[string]int32, len(in.Reached)),
		needs: map[string][]int32{}, capRank: map[string]int32{}}
	n := 0
	for _, name := range in.Reached {
		n += len(in.Packages[name])
	}
	p.rels = make([]*Release, 0, n)
	p.key = make([]uint64, 0, n)
	p.relPkg = make([]int32, 0, n)
	p.pkgFirst = make([]int32, 0, len(in.Reached)+1)
	for i, name := range in.Reached {
		p.pkgID[name] = int32(i)
		p.pkgName = append(p.pkgName, name)
		p.pkgFirst = append(p.pkgFirst, int32(len(p.rels)))
		rels := in.Packages[name]
		if i < len(rc.pkgs) && len(rc.pkgs[i].keys) == len(rels) {
			p.key = append(p.key, rc.pkgs[i].keys...)
		} else {
			for _, r := range rels {
				p.key = append(p.key, keyOf(r.Version))
			}
		}
		for _, r := range rels {
			p.rels = append(p.rels, r)
			p.relPkg = append(p.relPkg, int32(i))
		}
	}
	p.pkgFirst = append(p.pkgFirst, int32(len(p.rels)))
	p.rel = make([]*relData, len(p.rels))
	p.facts = make([]factRef, 0, 8*len(in.Reached))
	p.omitted = make([]bool, len(p.rels))
	p.rank = make([]int32, len(in.Reached))
	for i := range p.rank {
		p.rank[i] = math.MaxInt32
	}
	for i, name := range pref.Order(in) {
		if id, ok := p.pkgID[name]; ok && p.rank[id] == math.MaxInt32 {
			p.rank[id] = int32(i)
		}
	}
	p.choices = make([][]int32, len(in.Reached))
	for id, name := range in.Reached {
		p.choices[id] = p.choiceOrder(int32(id), pref.Choices(in, name))
	}
	p.oneVersion = make([]int32, len(in.Reached))
	for i := range p.oneVersion {
		p.oneVersion[i] = -1
	}
	p.locked = make([]int32, len(in.Reached))
	for i := range p.locked {
		p.locked[i] = -1
	}
	for _, l := range req.Locked {
		v := p.varOf(u.Release(l.Name, l.Version))
		if v < 0 || p.locked[p.relPkg[v]] >= 0 {
			continue
		}
		p.locked[p.relPkg[v]] = v
		p.lockVars = append(p.lockVars, v)
		f := int32(-1)
		if !req.Policy.AllowLockChanges {
			f = p.addFact(factRef{kind: FactLocked, v: v})
		}
		p.lockFact = append(p.lockFact, f)
	}
	for _, x := range req.Excluded {
		v := p.varOf(u.Release(x.Name, x.Version))
		if v < 0 || slices.Contains(p.excluded, v) {
			continue
		}
		p.excluded = append(p.excluded, v)
		p.exclFact = append(p.exclFact, p.addFact(factRef{kind: FactExcluded, v: v}))
	}
	for i := range req.Roots {
		dd := p.depOf(&req.Roots[i], -1)
		p.candsOf(&dd)
		dd.index = int32(i)
		dd.fact = p.addFact(factRef{kind: FactRoot, v: -1, k: int32(i)})
		p.roots = append(p.roots, dd)
	}
	return p
}

// choiceOrder turns the preference's choices of package id into
// variables, the releases it leaves out appended (and marked omitted).
func (p *problem) choiceOrder(id int32, choices []*Release) []int32 {
	first, end := p.pkgFirst[id], p.pkgFirst[id+1]
	rels := p.rels[first:end]
	out := p.int32s(len(rels))[:0]
	if len(choices) == len(rels) && (len(rels) == 0 || &choices[0] == &rels[0]) {
		for v := first; v < end; v++ {
			out = append(out, v)
		}
		return out
	}
	taken := make([]bool, len(rels))
	for _, c := range choices {
		for i, r := range rels {
			if r == c && !taken[i] {
				taken[i] = true
				out = append(out, first+int32(i))
			}
		}
	}
	for i := range rels {
		if !taken[i] {
			p.omitted[first+int32(i)] = true
			out = append(out, first+int32(i))
		}
	}
	return out
}

// varOf is r's variable, -1 when r is no release within reach.
func (p *problem) varOf(r *Release) int32 {
	if r == nil {
		return -1
	}
	id, ok := p.pkgID[r.Name]
	if !ok {
		return -1
	}
	for v := p.pkgFirst[id]; v < p.pkgFirst[id+1]; v++ {
		if p.rels[v] == r {
			return v
		}
	}
	return -1
}

func (p *problem) addFact(f factRef) int32 {
	p.facts = append(p.facts, f)
	return int32(len(p.facts) - 1)
}

// fact renders fact id.
func (p *problem) fact(id int32) Fact {
	f := p.facts[id]
	switch f.kind {
	case FactRoot:
		d := p.req.Roots[f.k]
		return Fact{Kind: FactRoot, Package: d.Name, Dependency: d}
	case FactOneVersion:
		return Fact{Kind: FactOneVersion, Package: p.pkgName[f.v]}
	}
	r := p.rels[f.v]
	out := Fact{Kind: f.kind, Package: r.Name, Release: r}
	switch f.kind {
	case FactRequires:
		out.Dependency = r.Requires[f.k]
	case FactConflicts:
		out.Dependency = r.Conflicts[f.k]
	}
	return out
}

// oneVersionFact is the id of package id's FactOneVersion.
func (p *problem) oneVersionFact(id int32) int32 {
	if p.oneVersion[id] < 0 {
		p.oneVersion[id] = p.addFact(factRef{kind: FactOneVersion, v: id})
	}
	return p.oneVersion[id]
}

// relOf returns variable v's declarations, building them on first use.
func (p *problem) relOf(v int32) *relData {
	if d := p.rel[v]; d != nil {
		return d
	}
	r := p.rels[v]
	nr, no := len(r.Requires), len(r.Optional)
	all := p.depDatas(nr + no)
	if len(p.relSlab) == cap(p.relSlab) {
		p.relSlab = make([]relData, 0, 1024)
	}
	p.relSlab = append(p.relSlab, relData{requires: all[:nr:nr], optional: all[nr : nr+no : nr+no]})
	d := &p.relSlab[len(p.relSlab)-1]
	// named numbers the names of the dependencies (nil: they are looked
	// up by name).
	var named []int32
	if pk := p.relPkg[v]; int(pk) < len(p.pkgs) && len(p.pkgs[pk].deps) == int(p.pkgFirst[pk+1]-p.pkgFirst[pk]) {
		named = p.pkgs[pk].deps[v-p.pkgFirst[pk]]
	}
	for k := range r.Requires {
		if named != nil {
			d.requires[k] = p.depIn(&r.Requires[k], v, p.pos[named[k]])
		} else {
			d.requires[k] = p.depOf(&r.Requires[k], v)
		}
		d.requires[k].index = int32(k)
		d.requires[k].fact = p.addFact(factRef{kind: FactRequires, v: v, k: int32(k)})
	}
	for k := range r.Optional {
		if named != nil {
			d.optional[k] = p.depIn(&r.Optional[k], v, p.pos[named[nr+k]])
		} else {
			d.optional[k] = p.depOf(&r.Optional[k], v)
		}
		d.optional[k].index = int32(k)
	}
	for k := range r.Conflicts {
		dd := p.depOf(&r.Conflicts[k], v)
		dd.cands = slices.DeleteFunc(p.candsOf(&dd), func(c int32) bool { return c == v })
		if len(dd.cands) == 0 {
			continue
		}
		dd.index = int32(k)
		dd.fact = p.addFact(factRef{kind: FactConflicts, v: v, k: int32(k)})
		d.conflicts = append(d.conflicts, dd)
	}
	p.rel[v] = d
	return d
}

// needPkgs lists the packages that can satisfy a need on name, in the
// preference's provider order.
func (p *problem) needPkgs(name string) []int32 {
	if ids, ok := p.needs[name]; ok {
		return ids
	}
	var ids []int32
	if len(p.u.providers) == 0 || len(p.u.providers[name]) == 0 {
		if id, ok := p.pkgID[name]; ok {
			ids = []int32{id}
		}
	} else {
		for _, n := range needPackages(p.u, p.pref, p.in, name) {
			if id, ok := p.pkgID[n]; ok {
				ids = append(ids, id)
			}
		}
	}
	p.needs[name] = ids
	return ids
}

// depOf returns dependency d of owner (-1 for a root); its candidates
// are made on first use (candsOf).
func (p *problem) depOf(d *Dependency, owner int32) depData {
	id, ok := p.pkgID[d.Name]
	if !ok {
		id = -1
	}
	return p.depIn(d, owner, id)
}

// depIn is depOf for a dependency on the package of id (-1: none within
// reach).
func (p *problem) depIn(d *Dependency, owner, id int32) depData {
	dd := depData{dep: d, pkg: id, fact: -1, owner: owner, all: d.Constraint == nil}
	if src := d.src; !dd.all && src != nil && src.from == d.Constraint {
		dd.rng = src.fast
	}
	if id >= 0 {
		dd.plain = len(p.u.providers) == 0 || len(p.u.providers[d.Name]) == 0
	}
	return dd
}

// candsOf returns dd's candidates, making them on first use.
func (p *problem) candsOf(dd *depData) []int32 {
	if dd.made {
		return dd.cands
	}
	dd.made = true
	cands, out := p.scratch[:0], p.scratchOut[:0]
	if dd.plain {
		for _, v := range p.choices[dd.pkg] {
			if p.inRange(dd, v) {
				cands = append(cands, v)
			} else {
				out = append(out, v)
			}
		}
	} else {
		d := dd.dep
		for _, q := range p.needPkgs(d.Name) {
			own := q == dd.pkg
			for _, v := range p.choices[q] {
				if own && p.inRange(dd, v) {
					cands = append(cands, v)
				} else if r := p.rels[v]; len(r.Provides) > 0 && matches(*d, r) {
					cands = append(cands, v)
				}
			}
		}
	}
	p.scratch, p.scratchOut = cands, out
	dd.cands = p.int32s(len(cands))
	copy(dd.cands, cands)
	if len(out) > 0 {
		dd.out = p.int32s(len(out))
		copy(dd.out, out)
	}
	return dd.cands
}

// inRange reports whether the version of release v is in dd's range.
func (p *problem) inRange(dd *depData, v int32) bool {
	switch {
	case dd.all:
		return true
	case dd.rng != nil:
		if k := p.key[v]; k != noKey {
			return dd.rng.checkKey(k)
		}
	}
	return dd.dep.Allows(p.rels[v].Version)
}

// depDatas returns room for n dependencies, cut from a slab.
func (p *problem) depDatas(n int) []depData {
	if len(p.depSlab)+n > cap(p.depSlab) {
		p.depSlab = make([]depData, 0, max(4096, n))
	}
	out := p.depSlab[len(p.depSlab) : len(p.depSlab)+n : len(p.depSlab)+n]
	p.depSlab = p.depSlab[:len(p.depSlab)+n]
	return out
}

// int32s returns room for n values, cut from a slab.
func (p *problem) int32s(n int) []int32 {
	if len(p.slab)+n > cap(p.slab) {
		p.slab = make([]int32, 0, max(8192, n))
	}
	out := p.slab[len(p.slab) : len(p.slab)+n : len(p.slab)+n]
	p.slab = p.slab[:len(p.slab)+n]
	return out
}

// satisfies reports whether release v satisfies dd.
func (p *problem) satisfies(dd *depData, v int32) bool {
	if dd.plain {
		return p.relPkg[v] == dd.pkg && p.inRange(dd, v)
	}
	return containsVar(p.candsOf(dd), v)
}

// rankOf is the preference's position of the package a need on name is
// decided with: the package's own, or for a capability the best of its
// providers'.
func (p *problem) rankOf(name string) int32 {
	if id, ok := p.pkgID[name]; ok && p.rank[id] != math.MaxInt32 {
		return p.rank[id]
	}
	if r, ok := p.capRank[name]; ok {
		return r
	}
	r := int32(math.MaxInt32)
	for _, id := range p.needPkgs(name) {
		r = min(r, p.rank[id])
	}
	p.capRank[name] = r
	return r
}

// need is one thing the walk decides.
type need struct {
	kind itemKind
	// dd is the dependency (nil for a lock).
	dd *depData
	// pkg is the locked package (itemLock).
	pkg  int32
	rank int32
	seq  int32
}

func (n need) order() (int, int) { return int(n.rank), int(n.seq) }

// step is one need the walk settled, in order: taken is the variable it
// took (-1: none, the need was already met or could be left out), pushed
// the first sequence number of the needs the taking queued, level the
// decision level when it was settled.
type step struct {
	need   need
	taken  int32
	pushed int32
	level  int32
}

// searchOptions vary a search of a problem.
type searchOptions struct {
	// noCycles forbids dependency cycles.
	noCycles bool
	// maxBroken bounds the locked releases the plan may change (negative:
	// no bound); only with Policy.AllowLockChanges.
	maxBroken int
	// active, when set, lists the facts that hold (by id); the others are
	// dropped. Facts made after it was set are dropped too.
	active []bool
	// budget bounds the conflicts (0: none).
	budget int
}

// outcome is how a search ended.
type outcome int

const (
	// found: every need is settled; the taken releases are the plan.
	found outcome = iota
	// unsat: no plan exists (under the options).
	unsat
	// interrupted: the context ended or the budget ran out.
	interrupted
)

// newWalkSearch prepares a search of p.
func newWalkSearch(ctx context.Context, p *problem, opts searchOptions) *search {
	s := newSearch(ctx, p, opts)
	s.steps = make([]step, 0, 6*len(p.pkgName))
	s.queue.items = make([]need, 0, len(p.pkgName))
	s.queue.keys = make([]queueKey, 0, len(p.pkgName))
	s.taken = make([]bool, len(p.rels))
	s.takenPkg = make([]int32, len(p.pkgName))
	for i := range s.takenPkg {
		s.takenPkg[i] = -1
	}
	return s
}

// isActive reports whether fact f holds in this search.
func (s *search) isActive(f int32) bool {
	return s.opts.active == nil || (f >= 0 && int(f) < len(s.opts.active) && s.opts.active[f])
}

// pushNeed queues a need.
func (s *search) pushNeed(n need) {
	n.seq = s.seq
	s.seq++
	s.queue.push(n)
}

// pushUnsettled queues need n of the release just taken unless the
// releases taken before already meet it. Such a need stays met while it
// would be queued: the steps are undone latest first, so the step that
// took the release meeting it outlives the one that took n's release.
func (s *search) pushUnsettled(n need) {
	if !s.settled(&n) {
		s.pushNeed(n)
	}
}

// needFor makes the need of dependency dd.
func (s *search) needFor(kind itemKind, dd *depData) need {
	r := int32(math.MaxInt32)
	if dd.pkg >= 0 && s.p.rank[dd.pkg] != math.MaxInt32 {
		r = s.p.rank[dd.pkg]
	} else {
		r = s.p.rankOf(dd.dep.Name)
	}
	return need{kind: kind, dd: dd, pkg: dd.pkg, rank: r}
}

// start asserts the facts that hold from the outset and queues the roots
// and locks. It returns false when they already conflict.
func (s *search) start() bool {
	p := s.p
	for v, o := range p.omitted {
		if o {
			if s.addClause([]lit{negLit(int32(v))}, originBackground, nil) >= 0 {
				return false
			}
		}
	}
	for i, v := range p.excluded {
		if s.isActive(p.exclFact[i]) {
			if s.addClause([]lit{negLit(v)}, p.exclFact[i], nil) >= 0 {
				return false
			}
		}
	}
	for i, v := range p.lockVars {
		if f := p.lockFact[i]; f >= 0 && s.isActive(f) {
			if s.addClause([]lit{posLit(v)}, f, nil) >= 0 {
				return false
			}
		}
	}
	s.budgetVars = nil
	if p.req.Policy.AllowLockChanges && s.opts.maxBroken >= 0 && s.opts.maxBroken < len(p.lockVars) {
		s.budgetVars = p.lockVars
		s.isBudgetVar = make([]bool, len(p.rels))
		for _, v := range p.lockVars {
			s.isBudgetVar[v] = true
		}
	}
	s.rootClause = make([]int32, len(p.roots))
	for i := range p.roots {
		dd := &p.roots[i]
		if !s.isActive(dd.fact) {
			continue
		}
		lits := make([]lit, len(dd.cands))
		for k, c := range dd.cands {
			lits[k] = posLit(c)
		}
		cl := s.addClause(lits, dd.fact, nil)
		s.rootClause[i] = s.lastClause
		if cl >= 0 {
			s.final = cl
			return false
		}
		s.pushNeed(s.needFor(itemRoot, dd))
	}
	for i, v := range p.lockVars {
		if f := p.lockFact[i]; f < 0 || s.isActive(f) {
			pkg := p.relPkg[v]
			s.pushNeed(need{kind: itemLock, pkg: pkg, rank: p.rank[pkg]})
		}
	}
	if c := s.propagate(); c >= 0 {
		s.final = c
		return false
	}
	return true
}

// settled reports whether the releases taken so far already meet n.
func (s *search) settled(n *need) bool {
	if n.kind == itemLock {
		return s.takenPkg[n.pkg] >= 0
	}
	dd := n.dd
	if dd.plain {
		t := s.takenPkg[dd.pkg]
		return t >= 0 && s.p.inRange(dd, t)
	}
	for _, c := range s.p.candsOf(dd) {
		if s.taken[c] {
			return true
		}
	}
	return false
}

// choicesOf lists n's choices, most preferred first.
func (s *search) choicesOf(n *need) []int32 {
	if n.kind == itemLock {
		return s.p.choices[n.pkg]
	}
	return s.p.candsOf(n.dd)
}

// take records that n took variable v and queues v's dependencies.
func (s *search) take(n need, v int32) {
	st := step{need: n, taken: v, pushed: s.seq, level: s.cur}
	if v >= 0 {
		s.taken[v] = true
		s.takenPkg[s.p.relPkg[v]] = v
		d := s.p.relOf(v)
		for k := range d.requires {
			if s.isActive(d.requires[k].fact) {
				s.pushUnsettled(s.needFor(itemRequired, &d.requires[k]))
			}
		}
		for k := range d.optional {
			s.pushUnsettled(s.needFor(itemOptional, &d.optional[k]))
		}
	}
	s.steps = append(s.steps, st)
}

// undoSteps takes back the walk's steps settled above decision level l,
// latest first, and queues their needs again.
func (s *search) undoSteps(l int32) {
	for len(s.steps) > 0 && s.steps[len(s.steps)-1].level > l {
		st := s.steps[len(s.steps)-1]
		s.steps = s.steps[:len(s.steps)-1]
		for seq := st.pushed; seq < s.seq; seq++ {
			s.queue.remove(s.queue.index[seq])
		}
		s.seq = st.pushed
		if st.taken >= 0 {
			s.taken[st.taken] = false
			s.takenPkg[s.p.relPkg[st.taken]] = -1
		}
		s.queue.push(st.need)
	}
}

// needClause is the clause that a hard need none of whose choices is left
// falsifies: the root's, or the parent's requirement.
func (s *search) needClause(n *need) int32 {
	dd := n.dd
	if dd.owner < 0 {
		return s.rootClause[dd.index]
	}
	if c := s.reqClause[s.reqBase[dd.owner]+dd.index]; c >= 0 {
		return c
	}
	return s.requirementClause(dd)
}

// walk settles every need. It returns found (the plan is the taken
// releases), unsat (s.final is the conflict that proves it), or
// interrupted.
func (s *search) walk() outcome {
	if !s.start() {
		return unsat
	}
	for {
		if s.stopped {
			return interrupted
		}
		if s.queue.len() == 0 {
			return found
		}
		n := s.queue.pop()
		s.tick()
		if s.settled(&n) {
			s.take(n, -1)
			continue
		}
		pick, conflict := int32(-1), int32(-1)
		for _, v := range s.choicesOf(&n) {
			if s.val[v] < 0 {
				continue
			}
			if !s.prepared[v] {
				if conflict = s.prepare(v); conflict < 0 {
					conflict = s.propagate()
				}
				if conflict >= 0 || s.stopped {
					break
				}
				if s.val[v] < 0 {
					continue
				}
			}
			pick = v
			break
		}
		if s.stopped {
			return interrupted
		}
		if conflict < 0 && pick < 0 {
			switch {
			case n.kind == itemOptional:
				s.take(n, -1) // nothing can satisfy it: it is left out
				continue
			case n.kind == itemLock:
				s.take(n, -1) // every release is ruled out: the lock is let go
				continue
			}
			conflict = s.needClause(&n)
		}
		if conflict < 0 && s.val[pick] == 0 {
			s.decide(posLit(pick))
			conflict = s.propagate()
			if s.stopped {
				return interrupted
			}
		}
		if conflict >= 0 {
			s.queue.push(n)
			if !s.resolveConflict(conflict) {
				return unsat
			}
			if s.opts.budget > 0 && s.stats.conflicts > s.opts.budget {
				s.budgetSpent = true
				return interrupted
			}
			continue
		}
		s.take(n, pick)
	}
}

// plan returns the taken releases by package.
func (s *search) plan() map[string]*Release {
	out := make(map[string]*Release, len(s.steps))
	for _, st := range s.steps {
		if st.taken >= 0 {
			r := s.p.rels[st.taken]
			out[r.Name] = r
		}
	}
	return out
}

// broken counts the locked releases the plan does not keep.
func (p *problem) broken(plan map[string]*Release) int {
	n := 0
	for _, v := range p.lockVars {
		r := p.rels[v]
		if plan[r.Name] != r {
			n++
		}
	}
	return n
}
