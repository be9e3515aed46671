package deps

// greedyModel tries to build a plan without the solver: roots first, then
// the dependencies of chosen releases breadth-first, each package at its
// newest candidate that agrees with everything chosen so far (ranges both
// ways, conflicts, locks, exclusions). It never backtracks: on a dead end it
// returns nil and the solver finds the first model instead. A plan it does
// build only serves as the starting model of the preference search, so it
// need not be the preferred one.
func (e *encoding) greedyModel() []bool {
	chosen := map[string]*Release{}
	var queue []*Release
	agrees := func(c *Release) bool {
		if e.excluded[c] {
			return false
		}
		if x, ok := chosen[c.Name]; ok {
			return x == c
		}
		for _, d := range c.Requires {
			if x, ok := chosen[d.Name]; ok && len(e.u.providers[d.Name]) == 0 && !d.Allows(x.Version) {
				return false
			}
		}
		for _, in := range e.requiredBy[c.Name] {
			if chosen[in.release.Name] == in.release && !in.dep.Allows(c.Version) {
				return false
			}
		}
		for _, other := range e.conflictsWith[c] {
			if chosen[other.Name] == other {
				return false
			}
		}
		return true
	}
	need := func(d Dependency) bool {
		for _, c := range e.candidates(d) {
			if chosen[c.Name] == c {
				return true
			}
		}
		for _, c := range e.candidates(d) {
			if agrees(c) {
				chosen[c.Name] = c
				queue = append(queue, c)
				return true
			}
		}
		return false
	}
	if !e.req.Policy.AllowLockChanges {
		for _, r := range e.locked {
			if !agrees(r) {
				return nil
			}
			chosen[r.Name] = r
			queue = append(queue, r)
		}
	}
	for _, d := range e.req.Roots {
		if !need(d) {
			return nil
		}
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, d := range r.Requires {
			if !need(d) {
				return nil
			}
		}
	}
	p := &Plan{Releases: chosen}
	if Check(e.u, e.req, p) != nil {
		return nil
	}
	model := make([]bool, e.nVars)
	for _, r := range chosen {
		model[e.varOf[r]-1] = true
	}
	for o, v := range e.missVar {
		if chosen[o.Release.Name] == o.Release && !satisfiedBy(e.u, o.Dependency, p) {
			model[v-1] = true
		}
	}
	return model
}
