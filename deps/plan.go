package deps

import (
	"fmt"
	"slices"
)

// Plan is a resolution's answer.
type Plan struct {
	// Releases is the chosen release of each package.
	Releases map[string]*Release
	// Why gives, for each package, the chain from the request that brought it
	// in, e.g. ["you asked for amf 2.x", "amf@2.1.0 requires nrf >=1.2"].
	Why map[string][]string
	// Order is the install order, dependencies first; packages of one
	// group have no order between them (a group of several packages that
	// depend on each other is a cycle).
	Order [][]string
	// Cycles lists the groups of Order that are dependency cycles.
	Cycles [][]string
	// Needs carries each chosen release's cluster requirements.
	Needs map[string][]string
	// Optimal says whether the plan is proven best for the preference (its
	// lexicographic optimum); false means the context's deadline ended the
	// search with this, the best plan found so far.
	Optimal bool
}

// plan builds the Plan of a model: the releases reachable from the request
// over chosen releases, why each is there, and the install order.
func (e *encoding) plan(model []bool, optimal bool) (*Plan, error) {
	chosen := map[*Release]bool{}
	for _, r := range e.rels {
		if litTrue(model, e.varOf[r]) {
			chosen[r] = true
		}
	}
	p := &Plan{Releases: map[string]*Release{}, Why: map[string][]string{}, Needs: map[string][]string{}, Optimal: optimal}
	var queue []*Release
	reach := func(r *Release, why []string) {
		if _, ok := p.Releases[r.Name]; ok || !chosen[r] {
			return
		}
		p.Releases[r.Name] = r
		p.Why[r.Name] = why
		if len(r.Needs) > 0 {
			p.Needs[r.Name] = slices.Clone(r.Needs)
		}
		queue = append(queue, r)
	}
	for _, d := range e.req.Roots {
		for _, c := range e.candidates(d) {
			reach(c, []string{"you asked for " + d.String()})
		}
	}
	for _, r := range e.locked {
		reach(r, []string{r.ID() + " is locked (deployed)"})
	}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		for _, d := range r.Requires {
			for _, c := range e.candidates(d) {
				reach(c, append(slices.Clone(p.Why[r.Name]), r.ID()+" requires "+d.String()))
			}
		}
		for _, d := range r.Optional {
			for _, c := range e.candidates(d) {
				reach(c, append(slices.Clone(p.Why[r.Name]), r.ID()+" optionally uses "+d.String()))
			}
		}
	}
	p.Order, p.Cycles = installOrder(e.u, p.Releases)
	if len(p.Cycles) > 0 && !e.req.Policy.AllowCycles {
		return nil, &CycleError{Cycles: p.Cycles}
	}
	return p, nil
}

// installOrder groups the chosen releases into strongly connected
// components (Tarjan) of the "depends on" graph and orders them
// dependencies first. Tarjan's algorithm emits components in reverse
// topological order of the edges, which for "a depends on b" edges is
// exactly dependencies first.
func installOrder(u *Universe, releases map[string]*Release) (order, cycles [][]string) {
	names := make([]string, 0, len(releases))
	for n := range releases {
		names = append(names, n)
	}
	slices.Sort(names)
	edges := map[string][]string{}
	for _, n := range names {
		r := releases[n]
		for _, d := range slices.Concat(r.Requires, r.Optional) {
			for _, c := range u.Candidates(d) {
				if releases[c.Name] == c && !slices.Contains(edges[n], c.Name) {
					edges[n] = append(edges[n], c.Name)
				}
			}
		}
		slices.Sort(edges[n])
	}
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	next := 0
	var strongConnect func(v string)
	strongConnect = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range edges[v] {
			if _, seen := index[w]; !seen {
				strongConnect(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			slices.Sort(comp)
			order = append(order, comp)
			if len(comp) > 1 {
				cycles = append(cycles, comp)
			}
		}
	}
	for _, n := range names {
		if _, seen := index[n]; !seen {
			strongConnect(n)
		}
	}
	return order, cycles
}

// String lists the plan's releases in install order.
func (p *Plan) String() string {
	var out []string
	for _, group := range p.Order {
		var g []string
		for _, n := range group {
			g = append(g, p.Releases[n].ID())
		}
		out = append(out, fmt.Sprint(g))
	}
	return fmt.Sprint(out)
}
