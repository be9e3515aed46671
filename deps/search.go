package deps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
)

// The search decides the plan one item at a time. An item is something the
// plan must (or may) hold: a root of the request, a locked package, or a
// dependency of a release already chosen. Items are taken in the
// Preference's package order; each gets its most preferred choice that
// still admits a plan, so the plan is the preference's lexicographic
// optimum.
//
// A choice that contradicts the releases already chosen (a range either
// way, a conflict, a lock, an exclusion, or a dependency whose package no
// release can fill any more) admits no plan, and the search knows which
// earlier decisions it contradicts. It takes, for every item, the first
// choice that contradicts nothing. At a dead end (an item none of whose
// choices fits) the decisions behind it form a nogood: the search jumps
// back to the latest of them and moves it to its next choice, carrying the
// rest of the nogood along (conflict-directed backjumping, Prosser 1993).
// It only ever skips choices proven to admit no plan, so the first plan it
// completes is the optimum, and a dead end owed to no decision at all
// proves that no plan exists.
//
// Backjumping can still thrash on adversarial inputs. Past a work budget
// the search starts again with the SAT solver as its oracle: it finds the
// longest prefix of the decisions that admits a plan (binary search over
// solver calls under assumptions), moves the decision after it to the next
// choice the solver accepts, and resumes the cheap pass from there.

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

// item is one thing to decide.
type item struct {
	kind   itemKind
	dep    Dependency // for itemLock, the locked package's name
	parent *Release   // the chosen release the dependency belongs to
	pkg    int        // the search's id of package dep.Name, -1 for none
	rank   int        // the preference's order of the item's package
	seq    int        // arrival order, to break ties
}

// decision is an item and what the search chose for it.
type decision struct {
	item   item
	choice *Release // nil: nothing (a missed optional dependency, a removed lock)
	index  int      // the choice's position among the item's choices
	// why lists the trail positions of the earlier decisions that ruled
	// out the item's choices before index.
	why []int
	// popped is where, in the search's log, the items taken off the queue
	// to reach this one start (settled items, then the item itself);
	// pushed is the first sequence number of the items the decision
	// queued. Undoing the decision uses both.
	popped int
	pushed int
}

// owned is a dependency or conflict of a chosen release.
type owned struct {
	dep   Dependency
	owner *Release
}

// itemQueue is a binary heap of items ordered by rank, then arrival. It
// finds an item by its sequence number so that an undone decision can take
// its items back. (Typed rather than container/heap, which boxes every
// item it moves.)
type itemQueue struct {
	items []item
	index []int // seq -> position in items (sequence numbers are dense)
}

func (q *itemQueue) len() int { return len(q.items) }

func (q *itemQueue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.rank < b.rank || (a.rank == b.rank && a.seq < b.seq)
}

func (q *itemQueue) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.index[q.items[i].seq] = i
	q.index[q.items[j].seq] = j
}

func (q *itemQueue) push(it item) {
	for len(q.index) <= it.seq {
		q.index = append(q.index, -1)
	}
	q.index[it.seq] = len(q.items)
	q.items = append(q.items, it)
	q.up(len(q.items) - 1)
}

// pop removes and returns the first item.
func (q *itemQueue) pop() item { return q.remove(0) }

// remove removes and returns the item at position i.
func (q *itemQueue) remove(i int) item {
	n := len(q.items) - 1
	if i != n {
		q.swap(i, n)
		if !q.down(i, n) {
			q.up(i)
		}
	}
	it := q.items[n]
	q.items = q.items[:n]
	q.index[it.seq] = -1
	return it
}

func (q *itemQueue) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !q.less(j, i) {
			break
		}
		q.swap(i, j)
		j = i
	}
}

// down sifts item i down among the first n; it reports whether it moved.
func (q *itemQueue) down(i0, n int) bool {
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

// search is one resolution's decision state.
type search struct {
	u    *Universe
	req  Request
	pref Preference
	in   PreferenceInput
	// pkgs holds every package within reach, by id; pkgID maps names to
	// ids. The hot paths index them instead of hashing names.
	pkgs  []pkgState
	pkgID map[string]int
	info  map[*Release]*releaseInfo
	// capRank memoises the rank of capability names.
	capRank  map[string]int
	excluded map[*Release]bool
	// maxBroken is the number of locked releases the plan may change (0
	// with hard locks).
	maxBroken int

	// chosen is the chosen release of each package, by name.
	chosen map[string]*Release
	trail  []decision
	queue  itemQueue
	seq    int
	// log holds every item next took off the queue, in order; log[mark:]
	// are those taken since the last decision.
	log  []item
	mark int
	// breakers are the positions of the decisions that broke a lock.
	breakers []int
	// conflictsOn indexes the chosen releases' conflicts by the name they
	// refer to.
	conflictsOn map[string][]owned

	// work counts choices tried and decisions undone, against the budget.
	work int
	// choiceBuf backs the slice choices returns.
	choiceBuf []*Release
}

// pkgState is what the search knows of one package within reach.
type pkgState struct {
	releases []*Release // newest first
	locked   *Release
	// provided says that some release provides a capability named like
	// the package, so a dependency on the name is not the package's alone.
	provided bool
	rank     int

	chosen  *Release
	removed bool // a locked package decided absent
	// pos is the trail position of the decision that chose (or removed) it.
	pos int
	// ranges are the chosen releases' hard dependencies on the package.
	ranges []owned
}

// releaseInfo is what the search looks up about a release: the ids of its
// package and of the packages of its hard and optional dependencies (-1
// for a name that is no package within reach).
type releaseInfo struct {
	pkg      int
	requires []int
	optional []int
}

// infoOf returns r's releaseInfo, building it on first use.
func (s *search) infoOf(r *Release) *releaseInfo {
	if i, ok := s.info[r]; ok {
		return i
	}
	i := &releaseInfo{pkg: s.idOf(r.Name), requires: make([]int, len(r.Requires)), optional: make([]int, len(r.Optional))}
	for k, d := range r.Requires {
		i.requires[k] = s.idOf(d.Name)
	}
	for k, d := range r.Optional {
		i.optional[k] = s.idOf(d.Name)
	}
	s.info[r] = i
	return i
}

// idOf is the id of package name, -1 when it is none within reach.
func (s *search) idOf(name string) int {
	if id, ok := s.pkgID[name]; ok {
		return id
	}
	return -1
}

// newSearch prepares a search; maxBroken bounds lock changes when the
// policy allows them.
func newSearch(u *Universe, req Request, pref Preference, in PreferenceInput, maxBroken int) *search {
	s := &search{u: u, req: req, pref: pref, in: in, pkgID: make(map[string]int, len(in.Reached)),
		info: map[*Release]*releaseInfo{}, capRank: map[string]int{}, excluded: map[*Release]bool{}, maxBroken: maxBroken}
	for _, name := range in.Reached {
		s.pkgID[name] = len(s.pkgs)
		s.pkgs = append(s.pkgs, pkgState{releases: u.releases[name], provided: len(u.providers[name]) > 0, rank: math.MaxInt})
	}
	for i, pkg := range pref.Order(in) {
		if id := s.idOf(pkg); id >= 0 && s.pkgs[id].rank == math.MaxInt {
			s.pkgs[id].rank = i
		}
	}
	for _, x := range req.Excluded {
		if r := u.Release(x.Name, x.Version); r != nil {
			s.excluded[r] = true
		}
	}
	for _, l := range req.Locked {
		if id := s.idOf(l.Name); id >= 0 {
			s.pkgs[id].locked = u.Release(l.Name, l.Version)
		}
	}
	s.trail = make([]decision, 0, len(in.Reached))
	s.queue.items = make([]item, 0, len(in.Reached))
	s.log = make([]item, 0, 4*len(in.Reached))
	s.reset()
	return s
}

// reset returns to the state before the first decision.
func (s *search) reset() {
	s.chosen = map[string]*Release{}
	for i := range s.pkgs {
		p := &s.pkgs[i]
		p.chosen, p.removed, p.pos, p.ranges = nil, false, 0, p.ranges[:0]
	}
	s.trail = s.trail[:0]
	s.queue = itemQueue{items: s.queue.items[:0], index: s.queue.index[:0]}
	s.seq = 0
	s.log, s.mark = s.log[:0], 0
	s.breakers = nil
	s.conflictsOn = map[string][]owned{}
	for _, d := range s.req.Roots {
		s.push(item{kind: itemRoot, dep: d, pkg: s.idOf(d.Name)})
	}
	for _, l := range s.req.Locked {
		s.push(item{kind: itemLock, dep: Dependency{Name: l.Name}, pkg: s.idOf(l.Name)})
	}
}

func (s *search) push(it item) {
	if it.pkg >= 0 {
		it.rank = s.pkgs[it.pkg].rank
	} else {
		it.rank = s.rankOf(it.dep.Name)
	}
	it.seq = s.seq
	s.seq++
	s.queue.push(it)
}

// rankOf is the preference's position of a package; a capability takes the
// best position of its providers.
func (s *search) rankOf(name string) int {
	if id := s.idOf(name); id >= 0 && s.pkgs[id].rank != math.MaxInt {
		return s.pkgs[id].rank
	}
	if r, ok := s.capRank[name]; ok {
		return r
	}
	r := math.MaxInt
	for _, p := range s.u.providers[name] {
		if id := s.idOf(p.release.Name); id >= 0 {
			r = min(r, s.pkgs[id].rank)
		}
	}
	s.capRank[name] = r
	return r
}

// next pops items until one needs a decision.
func (s *search) next() (item, bool) {
	for s.queue.len() > 0 {
		it := s.queue.pop()
		s.log = append(s.log, it)
		if !s.satisfied(it) {
			return it, true
		}
	}
	return item{}, false
}

// satisfied reports whether the releases chosen so far already settle it.
func (s *search) satisfied(it item) bool {
	if it.pkg >= 0 {
		p := &s.pkgs[it.pkg]
		if it.kind == itemLock {
			return p.chosen != nil || p.removed
		}
		if p.chosen != nil && it.dep.Allows(p.chosen.Version) {
			return true
		}
		if !p.provided {
			return false
		}
	}
	return anyChosen(s.u, s.chosen, it.dep)
}

// choices lists the item's choices, most preferred first (in a buffer the
// next call reuses): for a lock, the
// package's choices; for a dependency, the choices of each package that
// can satisfy it (packages in the preference's order) that do satisfy it.
func (s *search) choices(it item) []*Release {
	if it.kind == itemLock {
		return slices.DeleteFunc(slices.Clone(s.pref.Choices(s.in, it.dep.Name)), func(r *Release) bool { return r == nil })
	}
	pkgs := []string{}
	if len(s.u.releases[it.dep.Name]) > 0 {
		pkgs = append(pkgs, it.dep.Name)
	}
	for _, p := range s.u.providers[it.dep.Name] {
		if !slices.Contains(pkgs, p.release.Name) {
			pkgs = append(pkgs, p.release.Name)
		}
	}
	slices.SortStableFunc(pkgs, func(a, b string) int { return cmp.Compare(s.rankOf(a), s.rankOf(b)) })
	out := s.choiceBuf[:0]
	for _, pkg := range pkgs {
		for _, c := range s.pref.Choices(s.in, pkg) {
			if c != nil && c.Name == pkg && matches(it.dep, c) {
				out = append(out, c)
			}
		}
	}
	s.choiceBuf = out
	return out
}

// mayBeNothing reports whether an item may be decided as nothing: an
// optional dependency nobody can satisfy, or a lock the policy lets go.
func (s *search) mayBeNothing(it item) bool {
	switch it.kind {
	case itemOptional:
		return true
	case itemLock:
		return s.req.Policy.AllowLockChanges && len(s.breakers) < s.maxBroken
	}
	return false
}

// fits reports whether choosing c contradicts nothing chosen so far: an
// exclusion, a hard lock or the lock budget, another release of c's
// package, a range between c and a chosen release (either way), a
// dependency of c whose package no release can fill any more, or a
// conflict (either way). A choice that does not fit admits no plan; why
// lists the trail positions of the decisions it contradicts (none when the
// request alone rules it out).
func (s *search) fits(c *Release) (ok bool, why []int) {
	if len(s.excluded) > 0 && s.excluded[c] {
		return false, nil
	}
	info := s.infoOf(c)
	p := &s.pkgs[info.pkg]
	if p.chosen != nil {
		if p.chosen == c {
			return true, nil
		}
		return false, []int{p.pos}
	}
	if p.removed {
		return false, []int{p.pos}
	}
	if l := p.locked; l != nil && l != c {
		if !s.req.Policy.AllowLockChanges {
			return false, nil
		}
		if len(s.breakers) >= s.maxBroken {
			return false, slices.Clone(s.breakers)
		}
	}
	for k, d := range c.Requires {
		id := info.requires[k]
		if id < 0 || s.pkgs[id].provided {
			continue
		}
		q := &s.pkgs[id]
		if q.chosen != nil {
			if !d.Allows(q.chosen.Version) {
				return false, []int{q.pos}
			}
			continue
		}
		if q.removed {
			return false, []int{q.pos}
		}
		if ok, why := s.someReleaseAllows(d, q); !ok {
			return false, why
		}
	}
	if !p.provided {
		for _, o := range p.ranges {
			if !o.dep.Allows(c.Version) {
				return false, []int{s.posOf(o.owner)}
			}
		}
	}
	for _, d := range c.Conflicts {
		for _, x := range chosenCandidates(s.u, s.chosen, d) {
			if x != c {
				return false, []int{s.posOf(x)}
			}
		}
	}
	if len(s.conflictsOn) > 0 {
		for _, n := range c.names() {
			for _, o := range s.conflictsOn[n] {
				if matches(o.dep, c) {
					return false, []int{s.posOf(o.owner)}
				}
			}
		}
	}
	return true, nil
}

// posOf is the trail position of the decision that chose r.
func (s *search) posOf(r *Release) int { return s.pkgs[s.infoOf(r).pkg].pos }

// names are the names c answers to: its package and its capabilities.
func (c *Release) names() []string {
	names := []string{c.Name}
	for _, p := range c.Provides {
		names = append(names, p.Name)
	}
	return names
}

// someReleaseAllows reports whether a release of d's package (not chosen
// yet) satisfies d and every range the chosen releases put on it, and is
// neither excluded nor against a lock: without one, a release requiring d
// admits no plan. why lists, for each release that fails, the earliest
// decision whose range excludes it.
func (s *search) someReleaseAllows(d Dependency, q *pkgState) (bool, []int) {
	l := q.locked
	var why []int
	for _, r := range q.releases {
		if !d.Allows(r.Version) || (len(s.excluded) > 0 && s.excluded[r]) {
			continue
		}
		if l != nil && r != l {
			if !s.req.Policy.AllowLockChanges {
				continue
			}
			if len(s.breakers) >= s.maxBroken {
				why = append(why, s.breakers...)
				continue
			}
		}
		blocked := -1
		for _, o := range q.ranges {
			if !o.dep.Allows(r.Version) {
				if p := s.posOf(o.owner); blocked < 0 || p < blocked {
					blocked = p
				}
			}
		}
		if blocked < 0 {
			return true, nil
		}
		why = append(why, blocked)
	}
	return false, why
}

// apply records a decision and queues the chosen release's dependencies.
func (s *search) apply(it item, c *Release, index int, why []int) {
	pos := len(s.trail)
	s.trail = append(s.trail, decision{item: it, choice: c, index: index, why: why, popped: s.mark, pushed: s.seq})
	s.mark = len(s.log)
	if c == nil {
		if it.kind == itemLock {
			p := &s.pkgs[it.pkg]
			p.removed, p.pos = true, pos
			s.breakers = append(s.breakers, pos)
		}
		return
	}
	info := s.infoOf(c)
	p := &s.pkgs[info.pkg]
	p.chosen, p.pos = c, pos
	s.chosen[c.Name] = c
	if p.locked != nil && p.locked != c {
		s.breakers = append(s.breakers, pos)
	}
	for k, d := range c.Requires {
		if id := info.requires[k]; id >= 0 {
			s.pkgs[id].ranges = append(s.pkgs[id].ranges, owned{dep: d, owner: c})
		}
	}
	for _, d := range c.Conflicts {
		s.conflictsOn[d.Name] = append(s.conflictsOn[d.Name], owned{dep: d, owner: c})
	}
	for k, d := range c.Requires {
		s.push(item{kind: itemRequired, dep: d, parent: c, pkg: info.requires[k]})
	}
	for k, d := range c.Optional {
		s.push(item{kind: itemOptional, dep: d, parent: c, pkg: info.optional[k]})
	}
}

// decideFrom decides it with its first fitting choice at or after index
// from, or as nothing when the item allows it. why carries the reasons
// that ruled out the earlier choices; at a dead end (false) the returned
// reasons cover every choice.
func (s *search) decideFrom(it item, from int, why []int) (bool, []int) {
	cs := s.choices(it)
	for i := from; i < len(cs); i++ {
		s.work++
		ok, because := s.fits(cs[i])
		if ok {
			s.apply(it, cs[i], i, why)
			return true, nil
		}
		why = union(why, because)
	}
	// Nothing comes after every choice; an item resumed past it (its
	// "nothing" was wrong) has no choice left.
	if from <= len(cs) && s.mayBeNothing(it) {
		s.apply(it, nil, len(cs), why)
		return true, nil
	}
	if it.kind == itemLock && s.req.Policy.AllowLockChanges {
		why = union(why, s.breakers) // the lock budget forbade letting it go
	}
	return false, why
}

// extend runs the cheap pass from the current state, without backjumping.
// It returns true when every item is decided, false at a dead end.
func (s *search) extend() bool {
	for {
		it, ok := s.next()
		if !ok {
			return true
		}
		if ok, _ := s.decideFrom(it, 0, nil); !ok {
			return false
		}
	}
}

// undo returns to the state after the first m decisions of the trail, with
// the items that led to decision m back on the queue, and returns
// decision m.
func (s *search) undo(m int) decision {
	s.unpop(s.mark)
	var d decision
	for len(s.trail) > m {
		s.work++
		d = s.trail[len(s.trail)-1]
		s.trail = s.trail[:len(s.trail)-1]
		for seq := d.pushed; seq < s.seq; seq++ {
			s.queue.remove(s.queue.index[seq])
		}
		s.seq = d.pushed
		s.unpop(d.popped)
		pos := len(s.trail)
		if n := len(s.breakers); n > 0 && s.breakers[n-1] == pos {
			s.breakers = s.breakers[:n-1]
		}
		c := d.choice
		if c == nil {
			if d.item.kind == itemLock {
				s.pkgs[d.item.pkg].removed = false
			}
			continue
		}
		info := s.infoOf(c)
		s.pkgs[info.pkg].chosen = nil
		delete(s.chosen, c.Name)
		for k := range c.Requires {
			if id := info.requires[k]; id >= 0 {
				s.pkgs[id].ranges = s.pkgs[id].ranges[:len(s.pkgs[id].ranges)-1]
			}
		}
		for _, dep := range c.Conflicts {
			s.conflictsOn[dep.Name] = s.conflictsOn[dep.Name][:len(s.conflictsOn[dep.Name])-1]
		}
	}
	return d
}

// unpop puts the items logged from position from back on the queue.
func (s *search) unpop(from int) {
	for _, it := range s.log[from:] {
		s.queue.push(it)
	}
	s.log, s.mark = s.log[:from], from
}

// back undoes the trail to decision m and returns its item, taken off the
// queue again, and the decision.
func (s *search) back(m int) (item, decision, error) {
	d := s.undo(m)
	it, ok := s.next()
	if !ok || it.seq != d.item.seq {
		return item{}, decision{}, fmt.Errorf("deps: internal error, undoing to decision %d found another item", m)
	}
	return it, d, nil
}

// errBudget ends backjumping that has spent its budget.
var errBudget = errors.New("backjumping budget spent")

// backjump decides every item with conflict-directed backjumping. It
// returns errUnsat when a dead end is owed to no decision (no plan
// exists), errBudget when more than budget work is spent or ctx ends.
func (s *search) backjump(ctx context.Context, budget int) error {
	var (
		it      item
		from    int
		why     []int
		resumed bool
	)
	for {
		if !resumed {
			var ok bool
			if it, ok = s.next(); !ok {
				return nil
			}
			from, why = 0, nil
		}
		resumed = false
		ok, nogood := s.decideFrom(it, from, why)
		if ok {
			continue
		}
		if it.parent != nil {
			nogood = union(nogood, []int{s.posOf(it.parent)})
		}
		if len(nogood) == 0 {
			return errUnsat
		}
		if s.work > budget || ctx.Err() != nil {
			return errBudget
		}
		// The latest decision of the nogood is wrong given the others.
		j := nogood[len(nogood)-1]
		back, wrong, err := s.back(j)
		if err != nil {
			return err
		}
		it, from, why, resumed = back, wrong.index+1, union(wrong.why, nogood[:len(nogood)-1]), true
	}
}

// union merges two sorted position lists.
func union(a, b []int) []int {
	if len(b) == 0 {
		return a
	}
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// oracle answers whether decisions admit a plan.
type oracle interface {
	// feasible reports whether some plan holds every decision; the plan
	// found, if any, is returned as chosen releases by package.
	feasible(ds []decision) (bool, map[string]*Release, error)
}

// run decides every item: by backjumping while it stays within budget
// work, then with the oracle newOracle builds. It returns the chosen
// releases and whether they are proven optimal; errUnsat when no plan
// exists.
func (s *search) run(ctx context.Context, budget int, newOracle func() (oracle, error)) (map[string]*Release, bool, error) {
	switch err := s.backjump(ctx, budget); {
	case err == nil:
		return s.chosen, ctx.Err() == nil, nil
	case !errors.Is(err, errBudget):
		return nil, false, err
	}
	s.reset()
	orc, err := newOracle()
	if err != nil {
		return nil, false, err
	}
	return s.runOracle(ctx, orc)
}

// runOracle decides every item with the cheap pass, asking orc at each
// dead end for the longest prefix of the decisions that admits a plan.
func (s *search) runOracle(ctx context.Context, orc oracle) (map[string]*Release, bool, error) {
	ok, witness, err := orc.feasible(nil)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, errUnsat
	}
	verified := 0 // the longest trail prefix known to admit a plan
	for {
		if s.extend() {
			return s.chosen, ctx.Err() == nil, nil
		}
		if ctx.Err() != nil {
			// The budget ended: the latest plan found, not proven best.
			return witness, false, nil
		}
		// The trail does not admit a plan (the dead end proves it), its
		// first `verified` decisions do: find the longest prefix that does.
		lo, hi := verified, len(s.trail)
		if lo >= hi {
			return nil, false, fmt.Errorf("deps: internal error, dead end right after a feasible prefix")
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			ok, w, err := orc.feasible(s.trail[:mid])
			if err != nil {
				return nil, false, err
			}
			if ok {
				lo, witness = mid, w
			} else {
				hi = mid
			}
		}
		// Decision lo admits no plan after the first lo decisions: move it
		// to the next choice that does.
		it, wrong, err := s.back(lo)
		if err != nil {
			return nil, false, err
		}
		cs := s.choices(it)
		decided := false
		for i := wrong.index + 1; i < len(cs) && !decided; i++ {
			if ok, _ := s.fits(cs[i]); !ok {
				continue
			}
			ok, w, err := orc.feasible(append(slices.Clone(s.trail), decision{item: it, choice: cs[i], index: i}))
			if err != nil {
				return nil, false, err
			}
			if ok {
				s.apply(it, cs[i], i, nil)
				witness, decided = w, true
			}
		}
		if !decided {
			nothing := decision{item: it, index: len(cs)}
			ok := s.mayBeNothing(it)
			if ok && it.kind == itemLock {
				// A removed lock is a constraint of its own.
				var err error
				if ok, witness, err = orc.feasible(append(slices.Clone(s.trail), nothing)); err != nil {
					return nil, false, err
				}
			}
			if !ok {
				return nil, false, fmt.Errorf("deps: internal error, no choice of %q admits a plan after a feasible prefix", it.dep)
			}
			s.apply(it, nil, len(cs), nil)
		}
		verified = len(s.trail)
	}
}
