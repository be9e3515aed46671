package deps

import "slices"

// matches reports whether release c satisfies d: as a release of package
// d.Name in range, or by providing capability d.Name in range (a
// capability without a version satisfies only unconstrained dependencies).
func matches(d Dependency, c *Release) bool {
	if c.Name == d.Name && d.Allows(c.Version) {
		return true
	}
	for _, p := range c.Provides {
		if p.Name == d.Name && ((p.Version == nil && d.Constraint == nil) || (p.Version != nil && d.Allows(p.Version))) {
			return true
		}
	}
	return false
}

// chosenCandidates returns the releases among chosen (by package) that
// satisfy d.
func chosenCandidates(u *Universe, chosen map[string]*Release, d Dependency) []*Release {
	var out []*Release
	if r := chosen[d.Name]; r != nil && r.Name == d.Name && d.Allows(r.Version) {
		out = append(out, r)
	}
	if len(u.providers) == 0 {
		return out
	}
	for _, p := range u.providers[d.Name] {
		if chosen[p.release.Name] == p.release && !slices.Contains(out, p.release) && matches(d, p.release) {
			out = append(out, p.release)
		}
	}
	return out
}

// anyChosen reports whether a release among chosen satisfies d, like
// len(chosenCandidates(...)) > 0 without building the list.
func anyChosen(u *Universe, chosen map[string]*Release, d Dependency) bool {
	if r := chosen[d.Name]; r != nil && r.Name == d.Name && d.Allows(r.Version) {
		return true
	}
	if len(u.providers) == 0 {
		return false
	}
	for _, p := range u.providers[d.Name] {
		if chosen[p.release.Name] == p.release && matches(d, p.release) {
			return true
		}
	}
	return false
}

// planIndex holds a plan's releases (chosen, by package) by the number
// the universe gives their package's name, with their version keys and
// the numbered names of their dependencies, so that a need on a name no
// capability shares is looked up without hashing the name or reading the
// release; Check and buildPlan look up every dependency of every release
// of a plan.
type planIndex struct {
	u      *Universe
	chosen map[string]*Release
	// byID holds the chosen releases under their own package's name
	// (nil: none), key their versionKeys and deps, for those of the
	// universe (nil: not one), the numbers of the names of their
	// requirements and then of their optional dependencies.
	byID []*Release
	key  []uint64
	deps [][]int32
}

func newPlanIndex(u *Universe, chosen map[string]*Release) planIndex {
	x := planIndex{u: u, chosen: chosen}
	if u == nil {
		return x
	}
	x.byID = make([]*Release, len(u.names))
	x.key = make([]uint64, len(u.names))
	x.deps = make([][]int32, len(u.names))
	for name, r := range chosen {
		id, ok := u.ids[name]
		if !ok || r == nil || r.Name != name {
			continue
		}
		x.byID[id] = r
		if pd := u.byID[id]; pd != nil {
			if j := slices.Index(pd.rels, r); j >= 0 {
				x.key[id], x.deps[id] = pd.keys[j], pd.deps[j]
				continue
			}
		}
		x.key[id] = keyOf(r.Version) // a release the universe lacks
	}
	return x
}

// depIDs returns the numbers of the names of r's requirements and then
// of its optional dependencies; false when r is no release of the
// universe that the plan holds under its name.
func (x planIndex) depIDs(r *Release) ([]int32, bool) {
	if x.u == nil || r == nil {
		return nil, false
	}
	if id, ok := x.u.ids[r.Name]; ok && x.byID[id] == r && x.deps[id] != nil {
		return x.deps[id], true
	}
	return nil, false
}

// plain returns, for d whose name the universe numbers id, the chosen
// release of d's package when it is in range, and whether that settles
// d's candidates (no capability has d's name).
func (x planIndex) plain(d Dependency, id int32) (*Release, bool) {
	if id < 0 || x.u.provided[id] {
		return nil, false
	}
	if r := x.byID[id]; r != nil && d.allowsKey(r.Version, x.key[id]) {
		return r, true
	}
	return nil, true
}

// each calls fn with each of chosenCandidates(d), d's name numbered id
// (-1: unknown), without making the list when it has at most one.
func (x planIndex) each(d Dependency, id int32, fn func(*Release)) {
	if r, ok := x.plain(d, id); ok {
		if r != nil {
			fn(r)
		}
		return
	}
	for _, r := range chosenCandidates(x.u, x.chosen, d) {
		fn(r)
	}
}

// any is anyChosen, d's name numbered id (-1: unknown).
func (x planIndex) any(d Dependency, id int32) bool {
	if r, ok := x.plain(d, id); ok {
		return r != nil
	}
	return anyChosen(x.u, x.chosen, d)
}
