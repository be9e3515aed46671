package deps

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/crillab/gophersat/solver"
)

// The legacy search is the resolver's search before it learned from its
// dead ends, kept so that benchmarks and the property tests can run it
// side by side with the learning search (SATResolver.legacy selects it):
// the same walk over items, with conflict-directed backjumping (Prosser
// 1993) and, past a work budget, the gophersat solver as its oracle over
// the whole universe. It checks the context only between solver calls and
// treats a cycle only after the fact (buildPlan's *CycleError); both are
// what the learning search fixes.

// item is one thing the legacy search decides.
type item struct {
	kind   itemKind
	dep    Dependency // for itemLock, the locked package's name
	parent *Release   // the chosen release the dependency belongs to
	pkg    int        // the search's id of package dep.Name, -1 for none
	rank   int        // the preference's order of the item's package
	seq    int        // arrival order, to break ties
}

func (it item) order() (int, int) { return it.rank, it.seq }

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

// legacySearch is one resolution's decision state.
type legacySearch struct {
	u    *Universe
	req  Request
	pref Preference
	in   PreferenceInput
	// pkgs holds every package within reach, by id; pkgID maps names to
	// ids. The hot paths index them instead of hashing names.
	pkgs  []legacyPkg
	pkgID map[string]int
	info  map[*Release]*legacyInfo
	// capRank memoises the rank of capability names.
	capRank  map[string]int
	excluded map[*Release]bool
	// maxBroken is the number of locked releases the plan may change (0
	// with hard locks).
	maxBroken int

	// chosen is the chosen release of each package, by name.
	chosen map[string]*Release
	trail  []decision
	queue  seqQueue[item]
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

// legacyPkg is what the search knows of one package within reach.
type legacyPkg struct {
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

// legacyInfo is what the search looks up about a release: the ids of its
// package and of the packages of its hard and optional dependencies (-1
// for a name that is no package within reach).
type legacyInfo struct {
	pkg      int
	requires []int
	optional []int
}

// infoOf returns r's legacyInfo, building it on first use.
func (s *legacySearch) infoOf(r *Release) *legacyInfo {
	if i, ok := s.info[r]; ok {
		return i
	}
	i := &legacyInfo{pkg: s.idOf(r.Name), requires: make([]int, len(r.Requires)), optional: make([]int, len(r.Optional))}
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
func (s *legacySearch) idOf(name string) int {
	if id, ok := s.pkgID[name]; ok {
		return id
	}
	return -1
}

// newLegacySearch prepares a search; maxBroken bounds lock changes when the
// policy allows them.
func newLegacySearch(u *Universe, req Request, pref Preference, in PreferenceInput, maxBroken int) *legacySearch {
	s := &legacySearch{u: u, req: req, pref: pref, in: in, pkgID: make(map[string]int, len(in.Reached)),
		info: map[*Release]*legacyInfo{}, capRank: map[string]int{}, excluded: map[*Release]bool{}, maxBroken: maxBroken}
	for _, name := range in.Reached {
		s.pkgID[name] = len(s.pkgs)
		s.pkgs = append(s.pkgs, legacyPkg{releases: u.releases[name], provided: len(u.providers[name]) > 0, rank: math.MaxInt})
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
func (s *legacySearch) reset() {
	s.chosen = map[string]*Release{}
	for i := range s.pkgs {
		p := &s.pkgs[i]
		p.chosen, p.removed, p.pos, p.ranges = nil, false, 0, p.ranges[:0]
	}
	s.trail = s.trail[:0]
	s.queue = seqQueue[item]{items: s.queue.items[:0], keys: s.queue.keys[:0], index: s.queue.index[:0]}
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

func (s *legacySearch) push(it item) {
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
func (s *legacySearch) rankOf(name string) int {
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
func (s *legacySearch) next() (item, bool) {
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
func (s *legacySearch) satisfied(it item) bool {
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
func (s *legacySearch) choices(it item) []*Release {
	if it.kind == itemLock {
		return slices.DeleteFunc(slices.Clone(s.pref.Choices(s.in, it.dep.Name)), func(r *Release) bool { return r == nil })
	}
	pkgs := needPackages(s.u, s.pref, s.in, it.dep.Name)
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
func (s *legacySearch) mayBeNothing(it item) bool {
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
func (s *legacySearch) fits(c *Release) (ok bool, why []int) {
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
func (s *legacySearch) posOf(r *Release) int { return s.pkgs[s.infoOf(r).pkg].pos }

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
func (s *legacySearch) someReleaseAllows(d Dependency, q *legacyPkg) (bool, []int) {
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
func (s *legacySearch) apply(it item, c *Release, index int, why []int) {
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
func (s *legacySearch) decideFrom(it item, from int, why []int) (bool, []int) {
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
func (s *legacySearch) extend() bool {
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
func (s *legacySearch) undo(m int) decision {
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
func (s *legacySearch) unpop(from int) {
	for _, it := range s.log[from:] {
		s.queue.push(it)
	}
	s.log, s.mark = s.log[:from], from
}

// back undoes the trail to decision m and returns its item, taken off the
// queue again, and the decision.
func (s *legacySearch) back(m int) (item, decision, error) {
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
func (s *legacySearch) backjump(ctx context.Context, budget int) error {
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
func (s *legacySearch) run(ctx context.Context, budget int, newOracle func() (oracle, error)) (map[string]*Release, bool, error) {
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
func (s *legacySearch) runOracle(ctx context.Context, orc oracle) (map[string]*Release, bool, error) {
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

// resolveLegacy is resolve with the legacy search: the fewest lock changes
// found by gophersat over the whole universe, backjumping, then gophersat
// as the search's oracle past the budget.
func (s *SATResolver) resolveLegacy(ctx context.Context, u *Universe, req Request, in PreferenceInput) (*Plan, *encoding, error) {
	var err error
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
	budget := s.legacyBudget
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
	chosen, optimal, err := newLegacySearch(u, req, s.preference, in, maxBroken).run(ctx, budget, func() (oracle, error) {
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
		proof, perr := s.proveUnsatLegacy(u, req, shared)
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
func (s *SATResolver) proveUnsatLegacy(u *Universe, req Request, shared *encodingShared) (*encoding, error) {
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

// atMost is the cardinality constraint "at most k of lits are true".
func atMost(lits []int, k int) solver.CardConstr {
	negated := make([]int, len(lits))
	for i, l := range lits {
		negated[i] = -l
	}
	return solver.CardConstr{Lits: negated, AtLeast: len(lits) - k}
}
